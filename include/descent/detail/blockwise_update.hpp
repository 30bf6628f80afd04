#pragma once
// An optimizer's rule that acts on each parameter alone (θ_i, g_i and the parameter's state,
// Momentum's ∇̄θ_i, Adam's m_i and v_i), applied a block of parameters at a time. Each block's
// g is converted to double once, into a buffer: Eigen evaluates a cast between float and double a
// coefficient at a time, and with it the whole expression around it (Adam's √ and division
// included), where on double blocks the rule's arithmetic is vectorised. A block is small enough
// for the rule's statements to pass over it in L1.
#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

namespace descent::detail {

inline constexpr Eigen::Index update_block = 512;

// A block of values on the stack: at most update_block of them.
template <class Scalar>
using UpdateBlock = Eigen::Array<Scalar, Eigen::Dynamic, 1, 0, update_block, 1>;

// low <= x <= high for every value x of a vector; NaN bounds when it holds a NaN.
struct Range {
    double low = 0;
    double high = 0;
    double magnitude() const { return std::max(-low, high); }
};

template <class Derived>
Range range_of(const Eigen::DenseBase<Derived>& values) {
    if (values.size() == 0) return {};
    return {static_cast<double>(values.template minCoeff<Eigen::PropagateNaN>()),
            static_cast<double>(values.template maxCoeff<Eigen::PropagateNaN>())};
}

// max |x| over a vector, NaN when it holds a NaN (infinite when an infinity). For float and
// double, on the bits of |x| as unsigned integers, which order the non-negative numbers as their
// values do and put infinity, then NaN, above every finite one: a vectorised integer max, where
// a floating max that must keep NaN is a chain of compares and blends (three times slower).
template <class Derived>
double largest_abs(const Eigen::DenseBase<Derived>& values) {
    using Scalar = typename Derived::Scalar;
    using Bits = std::conditional_t<sizeof(Scalar) == 4, std::uint32_t, std::uint64_t>;
    if (values.size() == 0) return 0;
    if constexpr ((std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>) &&
                  (Derived::Flags & Eigen::DirectAccessBit) && Derived::InnerStrideAtCompileTime == 1) {
        constexpr Bits magnitude = std::numeric_limits<Bits>::max() >> 1;  // all but the sign bit
        const Scalar* x = values.derived().data();
        Bits largest = 0;
        for (Eigen::Index i = 0; i < values.size(); ++i)
            largest = std::max(largest, std::bit_cast<Bits>(x[i]) & magnitude);
        const Scalar found = std::bit_cast<Scalar>(largest);
        return std::isnan(found) ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(found);
    } else {
        return static_cast<double>(values.derived().cwiseAbs().template maxCoeff<Eigen::PropagateNaN>());
    }
}

// θ ← θ - S(Δ) on a block, Δ an expression in double. For a double θ, one expression, so that the
// compiler may fuse θ - αv into one multiply-add as it did when the rule was one expression over
// the whole vector (the same bits). For a float θ, Δ goes through a buffer, evaluated vectorised,
// and is then rounded to float and subtracted, as S(Δ) always was.
template <class Theta, class Delta>
void descend(Theta&& theta, const Delta& delta) {
    using S = typename std::remove_cvref_t<Theta>::Scalar;
    if constexpr (std::is_same_v<S, double>) {
        theta = theta - delta;
    } else {
        const UpdateBlock<double> step = delta;
        for (Eigen::Index i = 0; i < step.size(); ++i)
            theta.coeffRef(i) = theta.coeff(i) - static_cast<S>(step.coeff(i));
    }
}

// f(i, g_block) for each block [i, i + n) of g, with g_block the n values of g in double.
template <class Scalar, class F>
void for_each_block(const Scalar* g, Eigen::Index size, F&& f) {
    UpdateBlock<double> converted;
    for (Eigen::Index i = 0; i < size; i += update_block) {
        const Eigen::Index n = std::min(update_block, size - i);
        if constexpr (std::is_same_v<Scalar, double>) {
            f(i, Eigen::Map<const Eigen::ArrayXd>(g + i, n));
        } else {
            converted.resize(n);
            for (Eigen::Index j = 0; j < n; ++j) converted.coeffRef(j) = static_cast<double>(g[i + j]);
            f(i, std::as_const(converted));
        }
    }
}

}  // namespace descent::detail
