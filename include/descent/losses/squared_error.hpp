#pragma once
// The regression head: f(x) = a(L+1)(x) (the identity), with the squared error
//   l(f(x), y) = ½ Σ_k (f(x)_k - y_k)²
// summed over the K real outputs and averaged over a batch; y is a K x B matrix of reals.
// (The mean squared error per output is 2l / K.)
//
// The fused gradient, per sample: ∂l/∂a_k = f_k - y_k, so ∇a(L+1) l = f(x) - y, the same form as
// the two classification heads. The chain is ∇f l = f - y times the identity's Jacobian I.
// Logits of ±1e4 give squares of 1e8, well inside float.
#include <Eigen/Core>
#include <concepts>
#include <string>

#include "../detail/validate.hpp"
#include "targets.hpp"

namespace descent {

template <std::floating_point Scalar = float>
class SquaredError {
public:
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
    using Input = Eigen::Ref<const Matrix>;
    using Output = Eigen::Ref<Matrix>;
    template <std::floating_point T>
    using rebind = SquaredError<T>;

    static constexpr const char* name = "squared_error";
    static constexpr const char* output_function = "identity";
    static constexpr bool has_probabilities = false;

    // No classes: real values.
    static Eigen::Index classes(Eigen::Index /*outputs*/) { return 0; }

    // A matrix of outputs x samples, every entry finite; class labels are refused.
    // throws: label_error (labels), shape_error (sizes), non_finite_error.
    static void check_targets(const Targets<Scalar>& y, Eigen::Index outputs, Eigen::Index samples,
                              const detail::Where& where) {
        if (y.are_labels())
            throw label_error(where.text() + ": the " + std::string(name) +
                              " head takes a real-valued target matrix (one row per output, one column per "
                              "sample), not class labels");
        detail::check_target_matrix(y.values(), outputs, samples, where);
    }

    static void output(const Input& a, Output f) { f = a; }

    // requires: check_targets passed. ensures: returns (1/B) Σ_t ½ ‖a_t - y_t‖²; f = a.
    static Scalar loss(const Input& a, const Targets<Scalar>& y, Output f) {
        output(a, f);
        double total = 0;
        for (Eigen::Index j = 0; j < a.cols(); ++j)
            total += static_cast<double>((a.col(j) - y.values().col(j)).squaredNorm());
        return static_cast<Scalar>(0.5 * total / static_cast<double>(a.cols()));
    }

    // ∇a(L+1) of the batch mean: (f(x) - y) / B.
    static void gradient(const Input& /*a*/, const Input& f, const Targets<Scalar>& y, Output grad) {
        grad = (f - y.values()) * (Scalar(1) / static_cast<Scalar>(f.cols()));
    }

    // Real values, no classes: predict_values gives f(x).
    static bool predicts_classes(Eigen::Index /*outputs*/) { return false; }
    static int predict_class(const Input& /*a*/, Eigen::Index /*j*/) { return -1; }
    static void decide(const Input& a, Output out) { out = a; }
    // Nothing to count: -1.
    static Eigen::Index count_correct(const Input& /*a*/, const Targets<Scalar>& /*y*/) { return -1; }

    // ---- The unfused piece, for one sample: ∇f l = f - y (the identity's Jacobian is I). ----
    static Vector gradient_wrt_output(const Vector& f, const Vector& y) { return f - y; }
};

}  // namespace descent
