#pragma once
// l(f(x), y) = -log f(x)_y with f(x) = softmax(a(L+1)(x)), averaged over a batch.
//
// log f(x)_y = a_y - log Σ_c exp(a_c) is computed as a_y - m - log Σ_c exp(a_c - m),
// m = max_c a_c: every exp is then at most 1 and the largest is exactly 1, so
// logits of ±1e4 give a finite loss and the exact gradient, with no clamp.
#include <Eigen/Core>
#include <cmath>
#include <span>

#include "../detail/workspace.hpp"

namespace descent {

template <std::floating_point Scalar>
class SoftmaxCrossEntropy {
public:
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

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

    // requires: labels.size() == a.cols(), every label in [0, a.rows()) (Mlp checks).
    // ensures: returns (1/B) Σ_t -log f(x_t)_{y_t}; keeps f for backward().
    Scalar forward(const Eigen::Ref<const Matrix>& a, std::span<const int> labels) {
        auto f = f_.shape(a.rows(), a.cols());
        double total = 0;
        for (Eigen::Index j = 0; j < a.cols(); ++j)
            total += static_cast<double>(softmax_column(a.col(j), f.col(j)) - a(labels[j], j));
        return static_cast<Scalar>(total / static_cast<double>(a.cols()));
    }

    // The fused gradient at the output pre-activation, per sample
    //   ∇a(L+1) -log f(x)_y = -(e(y) - f(x)),
    // divided by B because the loss is the batch mean. Uses f of the last forward().
    Eigen::Map<const Matrix> backward(std::span<const int> labels) {
        const auto f = f_.view();
        auto grad = grad_.shape(f.rows(), f.cols());
        const Scalar inv_batch = Scalar(1) / static_cast<Scalar>(f.cols());
        grad = f * inv_batch;
        for (Eigen::Index j = 0; j < f.cols(); ++j) grad(labels[j], j) -= inv_batch;
        return grad_.cview();
    }

    // f(x) of the last forward(), C x B.
    Eigen::Map<const Matrix> probabilities() const { return f_.view(); }

    // The unfused pieces, for one sample, so that tests can show fused == chained:
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

private:
    detail::Workspace<Scalar> f_, grad_;
};

}  // namespace descent
