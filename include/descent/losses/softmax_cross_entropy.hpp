#pragma once
// The softmax head: f(x) = softmax(a(L+1)(x)), l(f(x), y) = -log f(x)_y for one label y of C
// classes, averaged over a batch. The default head of Mlp.
//
// log f(x)_y = a_y - log Σ_c exp(a_c) is computed as a_y - m - log Σ_c exp(a_c - m),
// m = max_c a_c: every exp is then at most 1 and the largest is exactly 1, so
// logits of ±1e4 give a finite loss and the exact gradient, with no clamp.
//
// The fused gradient, per sample (the course's derivation):
//   ∂l/∂a_c = -∂a_y/∂a_c + ∂/∂a_c log Σ_k exp(a_k) = -1_{c=y} + exp(a_c) / Σ_k exp(a_k)
//           = -(1_{c=y} - f(x)_c),  so  ∇a(L+1) l = -(e(y) - f(x)).
// It equals the chain J_softmax(f)ᵀ ∇f l with ∇f l = -e(y) / f(x)_y and J = diag(f) - f fᵀ
// (gradient_wrt_output and softmax_jacobian below, for the tests).
#include <Eigen/Core>
#include <cmath>
#include <concepts>
#include <span>
#include <string>

#include "../detail/message.hpp"
#include "../detail/validate.hpp"
#include "../detail/workspace.hpp"
#include "targets.hpp"

namespace descent {

template <std::floating_point Scalar = float>
class SoftmaxCrossEntropy {
public:
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
    using Input = Eigen::Ref<const Matrix>;
    using Output = Eigen::Ref<Matrix>;
    template <std::floating_point T>
    using rebind = SoftmaxCrossEntropy<T>;

    static constexpr const char* name = "softmax_cross_entropy";
    static constexpr const char* output_function = "softmax";
    static constexpr bool has_probabilities = true;

    // ---- The head policy (losses/head.hpp): static, on batches. ----

    // C outputs are C classes.
    static Eigen::Index classes(Eigen::Index outputs) { return outputs; }

    // One label per sample, in [0, C). A target matrix is refused: this head takes class labels.
    // throws: shape_error (count), label_error (a label out of range, or a matrix).
    static void check_targets(const Targets<Scalar>& y, Eigen::Index outputs, Eigen::Index samples,
                              const detail::Where& where) {
        if (!y.are_labels())
            throw label_error(
                detail::join({where.text(), ": the ", name,
                              " head takes one class label per sample (std::span<const int>), not a "
                              "target matrix; for 0/1 targets per output use sigmoid_cross_entropy, "
                              "for real values squared_error"}));
        detail::check_labels(y.labels(), samples, classes(outputs), where);
    }

    // f = softmax(a) for one sample; returns log Σ_c exp(a_c), as m + log Σ_c exp(a_c - m).
    template <class A, class F>
    static Scalar softmax_column(const A& a, F&& f) {
        const Scalar m = a.maxCoeff();
        f = (a.array() - m).exp().matrix();
        const Scalar sum = f.sum();  // in [1, C]: its log is safe
        f /= sum;
        return m + std::log(sum);
    }

    // f(x) = softmax(a) for every column of a (C x B).
    template <class A, class F>
    static void softmax(const A& a, F& f) {
        for (Eigen::Index j = 0; j < a.cols(); ++j) softmax_column(a.col(j), f.col(j));
    }

    static void output(const Input& a, Output f) { softmax(a, f); }

    // requires: check_targets passed. ensures: returns (1/B) Σ_t -log f(x_t)_{y_t}; f = softmax(a).
    static Scalar loss(const Input& a, const Targets<Scalar>& y, Output f) {
        const auto labels = y.labels();
        double total = 0;
        for (Eigen::Index j = 0; j < a.cols(); ++j)
            total += static_cast<double>(softmax_column(a.col(j), f.col(j)) - a(labels[j], j));
        return static_cast<Scalar>(total / static_cast<double>(a.cols()));
    }

    // ∇a(L+1) of the batch mean: -(e(y) - f(x)) / B per column, from f of loss().
    static void gradient(const Input& /*a*/, const Input& f, const Targets<Scalar>& y, Output grad) {
        const auto labels = y.labels();
        const Scalar inv_batch = Scalar(1) / static_cast<Scalar>(f.cols());
        grad = f * inv_batch;
        for (Eigen::Index j = 0; j < f.cols(); ++j) grad(labels[j], j) -= inv_batch;
    }

    // argmax_c a_c = argmax_c f(x)_c: one class per sample.
    static bool predicts_classes(Eigen::Index /*outputs*/) { return true; }
    static int predict_class(const Input& a, Eigen::Index j) {
        Eigen::Index best = 0;
        a.col(j).maxCoeff(&best);
        return static_cast<int>(best);
    }
    // The prediction in the form of a target: e(argmax), one-hot.
    static void decide(const Input& a, Output out) {
        out.setZero();
        for (Eigen::Index j = 0; j < a.cols(); ++j) out(predict_class(a, j), j) = Scalar(1);
    }
    // How many columns of a have their largest entry at the sample's label.
    static Eigen::Index count_correct(const Input& a, const Targets<Scalar>& y) {
        const auto labels = y.labels();
        Eigen::Index correct = 0;
        for (Eigen::Index j = 0; j < a.cols(); ++j) correct += predict_class(a, j) == labels[j] ? 1 : 0;
        return correct;
    }

    // ---- The unfused pieces, for one sample, so that tests can show fused == chained. ----

    // ∇f(x) -log f(x)_y = -e(y) / f(x)_y
    static Vector gradient_wrt_output(const Vector& f, int y) {
        Vector g = Vector::Zero(f.size());
        g(y) = Scalar(-1) / f(y);
        return g;
    }
    // ∂f(x)_c / ∂a_k = f_c (1_{c=k} - f_k): the softmax Jacobian diag(f) - f fᵀ (symmetric).
    static Matrix softmax_jacobian(const Vector& f) {
        Matrix j = -f * f.transpose();
        j.diagonal() += f;
        return j;
    }

    // ---- The loss on its own, as an object that keeps f between forward and backward ----
    // (the output_gradient example and the benchmarks use it; networks use the policy above).

    // requires: labels.size() == a.cols(), every label in [0, a.rows()).
    // ensures: returns (1/B) Σ_t -log f(x_t)_{y_t}; keeps f for backward().
    Scalar forward(const Input& a, std::span<const int> labels) {
        return loss(a, labels, f_.shape(a.rows(), a.cols()));
    }
    // -(e(y) - f(x)) / B, from f of the last forward().
    Eigen::Map<const Matrix> backward(std::span<const int> labels) {
        const auto f = f_.view();
        gradient(f, f, labels, grad_.shape(f.rows(), f.cols()));
        return grad_.cview();
    }
    // f(x) of the last forward(), C x B.
    Eigen::Map<const Matrix> probabilities() const { return f_.view(); }

private:
    detail::Workspace<Scalar> f_, grad_;
};

}  // namespace descent
