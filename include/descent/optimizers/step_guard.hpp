#pragma once
// The divergence guard: what a guarded optimizer step checks between computing
// g = ∇θ(l + λΩ) and changing θ.
//
// Training diverges when α is too large for the curvature of the objective: the steps
// overshoot, grow, and within a few updates the objective, the gradient or θ itself
// is NaN or infinite; from then on every parameter the NaN reaches is lost. A guarded
// step (FirstOrder::step with a StepGuard; fit always takes one) looks at l + λΩ, at g
// and at what the update would make of θ and of the optimizer's state, and refuses the
// step with a divergence_error before anything changes. So the network keeps its last
// finite parameters, and the error says where the first non-finite value appeared.
//
// Optionally the step clips the gradient by its norm, g ← g min(1, c / ‖g‖): the
// direction is kept and a step's length is bounded by α c whatever the curvature, a
// common remedy for the occasional exploding gradient.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "../detail/check_range.hpp"
#include "../detail/message.hpp"
#include "../detail/validate.hpp"
#include "../error.hpp"

namespace descent {

// What a guarded step does besides its checks.
struct StepGuard {
    // c: the largest Euclidean norm ‖g‖ an update uses; a longer g is scaled down to
    // norm c. 0: no clipping.
    double max_gradient_norm = 0;
};

// ‖g‖, accumulated in double (so that a float gradient's squares neither overflow nor
// lose the small entries), with Eigen's scaled norm when even double overflows.
// Infinite or NaN when g holds a non-finite value.
template <class Derived>
double gradient_norm(const Eigen::MatrixBase<Derived>& g) {
    const auto gd = g.template cast<double>();
    const double squares = gd.squaredNorm();
    if (std::isfinite(squares)) return std::sqrt(squares);
    if (!detail::all_finite(g)) return std::numeric_limits<double>::quiet_NaN();
    return gd.stableNorm();
}

// g ← g c / ‖g‖ when ‖g‖ > c; returns the factor applied (1 when g was short enough).
// requires: max_norm > 0 and finite, g finite; throws argument_error for a bad max_norm.
template <class Derived>
double clip_gradient(Eigen::MatrixBase<Derived>& g, double max_norm) {
    using S = typename Derived::Scalar;
    detail::require_positive(max_norm, "clip_gradient", "max_gradient_norm");
    const double norm = gradient_norm(g);
    if (!(norm > max_norm)) return 1.0;
    const double factor = max_norm / norm;
    g *= static_cast<S>(factor);
    return factor;
}
template <class Derived>
double clip_gradient(Eigen::MatrixBase<Derived>&& g, double max_norm) {
    return clip_gradient(g, max_norm);
}

namespace detail {

// A StepGuard's settings in range. throws: argument_error naming `where`.
inline void check_guard(const StepGuard& guard, const char* where) {
    require_non_negative(guard.max_gradient_norm, where, "max_gradient_norm");
}

// How large an updated value may be: half the type's range. Half, not all of it, so
// that the check, which evaluates the update's formula without storing it, cannot be
// contradicted by the update itself rounding differently (fused multiply-adds) at the
// very edge of the range. A parameter beyond 1e38 in float, 1e307 in double, is divergence.
template <class Scalar>
constexpr double update_limit() {
    return static_cast<double>(std::numeric_limits<Scalar>::max()) / 2;
}

// The largest |value| of an expression, NaN when it holds a NaN. Evaluated a block at
// a time into a buffer on the stack, whose maxCoeff Eigen vectorises: on the whole
// expression (casts between float and double in it) it went a coefficient at a time,
// and a guarded Momentum step spent a quarter of its time here (0.34 ms against 1.5
// for θ and ∇̄θ of 784-512-256-10).
template <class Derived>
double largest_magnitude(const Eigen::ArrayBase<Derived>& values) {
    using Scalar = typename Derived::Scalar;
    constexpr Eigen::Index block = 512;
    Eigen::Array<Scalar, block, 1> buffer;
    Scalar largest = 0;
    for (Eigen::Index i = 0; i < values.size(); i += block) {
        const Eigen::Index size = std::min(block, values.size() - i);
        auto part = buffer.head(size);
        part = values.derived().segment(i, size);
        const Scalar found = part.abs().template maxCoeff<Eigen::PropagateNaN>();
        if (std::isnan(found)) return static_cast<double>(found);
        largest = std::max(largest, found);
    }
    return static_cast<double>(largest);
}

// The first index where |value| exceeds limit or is NaN (the slow path, after
// largest_magnitude found one); -1 when none does.
template <class Derived>
Eigen::Index first_beyond(const Eigen::ArrayBase<Derived>& values, double limit) {
    const Eigen::ArrayXd evaluated = values.template cast<double>();
    for (Eigen::Index i = 0; i < evaluated.size(); ++i)
        if (!(std::abs(evaluated(i)) <= limit)) return i;
    return -1;
}

// A value in a message; NaN as "nan" whatever its sign bit (printf's "-nan" only confuses).
inline std::string value_text(double value) {
    return number(std::isnan(value) ? std::numeric_limits<double>::quiet_NaN() : value);
}

inline const char* unchanged_note() {
    return "; θ and the optimizer's state are unchanged";
}

// throws: divergence_error when l + λΩ is NaN or infinite.
inline void check_objective(double objective, const std::string& where) {
    if (!std::isfinite(objective))
        throw divergence_error(join(
            {where, ": the objective l + λΩ on this batch is ", value_text(objective), unchanged_note()}));
}

// throws: divergence_error naming the first parameter whose gradient is NaN or infinite.
// `objective` (l + λΩ, already found finite) goes into the message; NaN when unknown.
template <class Net>
void check_gradient(const Net& net, double objective, const std::string& where) {
    const Eigen::Index i = first_non_finite(net.gradient());
    if (i < 0) return;
    throw divergence_error(
        join({where, ": ∇θ(l + λΩ) holds ", value_text(static_cast<double>(net.gradient()(i))), " at ",
              parameter_name(net, i),
              std::isnan(objective) ? std::string() : join({" (the objective is ", number(objective), ")"}),
              unchanged_note()}));
}

}  // namespace detail
}  // namespace descent
