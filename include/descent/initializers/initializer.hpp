#pragma once
// The Initializer concept: fills W(k) (H_k x H_(k-1)) from a seeded engine.
// Biases are always 0, so no initializer sees them.
#include <Eigen/Core>
#include <concepts>

#include "../detail/random.hpp"

namespace descent {

template <class I>
concept Initializer = requires(Eigen::Map<Eigen::MatrixXd> w, Engine& engine) {
    { I::name } -> std::convertible_to<const char*>;
    I::fill(w, engine);
};

namespace detail {

// W ~ U[-b, b], drawn column by column so the order is fixed.
template <class Derived>
void fill_uniform(Eigen::MatrixBase<Derived>& w, double b, Engine& engine) {
    using S = typename Derived::Scalar;
    for (Eigen::Index j = 0; j < w.cols(); ++j)
        for (Eigen::Index i = 0; i < w.rows(); ++i)
            w(i, j) = static_cast<S>(-b + 2.0 * b * uniform01(engine));
}

}  // namespace detail
}  // namespace descent
