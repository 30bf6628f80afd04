#pragma once
// The sigmoid head: f(x)_k = sigmoid(a_k) = 1 / (1 + exp(-a_k)), one independent probability per
// output, with the binary cross-entropy of each, summed over the K outputs and averaged over a batch:
//   l(f(x), y) = -Σ_k [y_k log f_k + (1 - y_k) log(1 - f_k)],   y_k in {0, 1} (or in [0, 1]).
// Binary classification is K = 1 with labels 0/1; multi-label classification is K outputs with a
// K x B matrix of 0/1 targets.
//
// Stable for any logit: log f_k = -softplus(-a_k) and log(1 - f_k) = -softplus(a_k), so
//   l_k = y_k softplus(-a_k) + (1 - y_k) softplus(a_k) = softplus(a_k) - y_k a_k,
//   softplus(a) = log(1 + exp(a)) = max(a, 0) + log1p(exp(-|a|)),
// whose exp is at most 1: a = ±1e4 gives l_k = 0 or 1e4, never log 0.
//
// The fused gradient, per sample and output:
//   ∂l_k/∂a_k = sigmoid(a_k) - y_k,  so  ∇a(L+1) l = f(x) - y.
// It equals the chain: ∇f l = -y/f + (1 - y)/(1 - f), times the Jacobian of the elementwise
// sigmoid, diag(f (1 - f)): (-y (1 - f) + (1 - y) f) = f - y.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <concepts>
#include <string>

#include "../detail/validate.hpp"
#include "targets.hpp"

namespace descent {

template <std::floating_point Scalar = float>
class SigmoidCrossEntropy {
public:
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
    using Input = Eigen::Ref<const Matrix>;
    using Output = Eigen::Ref<Matrix>;
    template <std::floating_point T>
    using rebind = SigmoidCrossEntropy<T>;

    static constexpr const char* name = "sigmoid_cross_entropy";
    static constexpr const char* output_function = "sigmoid";
    static constexpr bool has_probabilities = true;

    // One output: the two classes 0 and 1. K outputs: K labels, each 0 or 1.
    static Eigen::Index classes(Eigen::Index outputs) { return outputs == 1 ? 2 : outputs; }

    // Labels (one output only): each 0 or 1. A matrix: outputs x samples, every entry in [0, 1].
    // throws: shape_error (counts), label_error (a value outside {0, 1} or [0, 1], labels for
    //         several outputs), non_finite_error (a NaN target).
    static void check_targets(const Targets<Scalar>& y, Eigen::Index outputs, Eigen::Index samples,
                              const detail::Where& where) {
        if (y.are_labels()) {
            const auto labels = y.labels();
            if (outputs != 1)
                throw label_error(where.text() + ": class labels with the " + std::string(name) +
                                  " head need one "
                                  "output, this network has " +
                                  std::to_string(outputs) + "; for several labels per sample give a " +
                                  std::to_string(outputs) + " x B matrix of 0/1 targets, for one class of " +
                                  std::to_string(outputs) + " use softmax_cross_entropy");
            if (static_cast<Eigen::Index>(labels.size()) != samples)
                throw shape_error(where.text() + ": " + std::to_string(labels.size()) + " labels for " +
                                  std::to_string(samples) + " samples (columns)");
            for (std::size_t t = 0; t < labels.size(); ++t)
                if (labels[t] != 0 && labels[t] != 1) {
                    const bool one_based =
                        std::all_of(labels.begin(), labels.end(), [](int l) { return l == 1 || l == 2; });
                    throw label_error(
                        where.text() + ": label " + std::to_string(labels[t]) + " of sample " +
                        std::to_string(t) + " is not 0 or 1 (a single sigmoid output)" +
                        (one_based ? "; the labels look numbered from 1 (1 and 2): use 0 and 1" : ""));
                }
            return;
        }
        const auto& v = y.values();
        detail::check_target_matrix(v, outputs, samples, where);
        for (Eigen::Index j = 0; j < v.cols(); ++j)
            for (Eigen::Index i = 0; i < v.rows(); ++i)
                if (!(v(i, j) >= 0 && v(i, j) <= 1))
                    throw label_error(where.text() + ": target " +
                                      detail::number(static_cast<double>(v(i, j))) + " at row " +
                                      std::to_string(i) + ", column " + std::to_string(j) +
                                      " is outside [0, 1] (the " + std::string(name) +
                                      " head takes 0/1 labels, one row per output)");
    }

    // f = sigmoid(a), elementwise.
    static void output(const Input& a, Output f) { f.array() = a.array().logistic(); }

    // requires: check_targets passed. ensures: returns (1/B) Σ_t Σ_k softplus(a_kt) - y_kt a_kt;
    // f = sigmoid(a).
    static Scalar loss(const Input& a, const Targets<Scalar>& y, Output f) {
        output(a, f);
        double total = 0;
        for (Eigen::Index j = 0; j < a.cols(); ++j) {
            const auto aj = a.col(j).array();
            const auto softplus = aj.max(Scalar(0)) + (-aj.abs()).exp().log1p();
            if (y.are_labels())
                total += static_cast<double>((softplus - static_cast<Scalar>(y.labels()[j]) * aj).sum());
            else
                total += static_cast<double>((softplus - y.values().col(j).array() * aj).sum());
        }
        return static_cast<Scalar>(total / static_cast<double>(a.cols()));
    }

    // ∇a(L+1) of the batch mean: (f(x) - y) / B, from f of loss().
    static void gradient(const Input& /*a*/, const Input& f, const Targets<Scalar>& y, Output grad) {
        const Scalar inv_batch = Scalar(1) / static_cast<Scalar>(f.cols());
        if (y.are_labels()) {
            const auto labels = y.labels();
            for (Eigen::Index j = 0; j < f.cols(); ++j)
                grad(0, j) = (f(0, j) - static_cast<Scalar>(labels[j])) * inv_batch;
        } else {
            grad = (f - y.values()) * inv_batch;
        }
    }

    // One output: class 1 when f > 1/2, that is a > 0. Several outputs give one decision per
    // output (decide), not one class.
    static bool predicts_classes(Eigen::Index outputs) { return outputs == 1; }
    static int predict_class(const Input& a, Eigen::Index j) { return a(0, j) > 0 ? 1 : 0; }
    // 1 where a_k > 0 (f_k > 1/2), else 0.
    static void decide(const Input& a, Output out) {
        out = (a.array() > Scalar(0)).template cast<Scalar>().matrix();
    }
    // Samples whose every output is on the side of 0 its target is on (y > 1/2 counts as 1).
    static Eigen::Index count_correct(const Input& a, const Targets<Scalar>& y) {
        Eigen::Index correct = 0;
        for (Eigen::Index j = 0; j < a.cols(); ++j) {
            if (y.are_labels()) {
                correct += predict_class(a, j) == y.labels()[j] ? 1 : 0;
            } else {
                correct += ((a.col(j).array() > Scalar(0)) == (y.values().col(j).array() > Scalar(0.5))).all()
                               ? 1
                               : 0;
            }
        }
        return correct;
    }

    // ---- The unfused pieces, for one sample, so that tests can show fused == chained. ----

    // ∇f l = -y / f + (1 - y) / (1 - f)
    static Vector gradient_wrt_output(const Vector& f, const Vector& y) {
        return (-y.array() / f.array() + (Scalar(1) - y.array()) / (Scalar(1) - f.array())).matrix();
    }
    // ∂f_c / ∂a_k = 1_{c=k} f_k (1 - f_k): the elementwise sigmoid's Jacobian, diagonal.
    static Matrix sigmoid_jacobian(const Vector& f) {
        return (f.array() * (Scalar(1) - f.array())).matrix().asDiagonal();
    }
};

}  // namespace descent
