#pragma once
// The Regularizer concept: Ω(W) and λ∇Ω(W), applied by the network to each
// weight matrix W(k) and never to a bias b(k).
#include <Eigen/Core>
#include <concepts>

namespace descent {

template <class R>
concept Regularizer = requires(const R& r, Eigen::Map<const Eigen::VectorXd> w,
                               Eigen::Map<Eigen::VectorXd> g, double lambda) {
    { R::name } -> std::convertible_to<const char*>;
    { r.value(w) } -> std::convertible_to<double>;
    r.add_gradient(w, lambda, g);
};

}  // namespace descent
