#pragma once
// The regularised training objective of one batch: l + λΩ(θ), with Ω summed
// over the weight matrices W(k) only, never over the biases b(k).
#include <Eigen/Core>
#include <span>
#include <utility>

#include "../regularizers/penalty.hpp"
#include "../error.hpp"
#include "../regularizers/regularizer.hpp"

namespace descent {

// λ Σ_k Ω(W(k)) (regularizers/penalty.hpp, which the gradient checker shares).
template <class Net, Regularizer Omega>
double penalty(const Net& net, const Omega& omega, double lambda) {
    return detail::weight_penalty(net, omega, lambda);
}

// Adds λ∇Ω(W(k)) to the gradient of every weight block: net.gradient() becomes ∇θ (l + λΩ).
template <class Net, Regularizer Omega>
void add_penalty_gradient(Net& net, const Omega& omega, double lambda) {
    detail::add_weight_penalty_gradient(net, omega, lambda);
}

// net.gradient() = ∇θ (l + λΩ) over the batch; returns l + λΩ. θ is unchanged.
// Targets: class labels (std::span<const int>) or real values (one column per sample).
template <class Net, Regularizer Omega, class Targets>
double objective_gradient(Net& net, const Eigen::Ref<const typename Net::Matrix>& x, const Targets& targets,
                          const Omega& omega, double lambda) {
    const double l = static_cast<double>(net.compute_gradient(x, targets));
    add_penalty_gradient(net, omega, lambda);
    return l + penalty(net, omega, lambda);
}

// l + λΩ over the batch, without touching the gradient.
template <class Net, Regularizer Omega, class Targets>
double objective(Net& net, const Eigen::Ref<const typename Net::Matrix>& x, const Targets& targets,
                 const Omega& omega, double lambda) {
    return static_cast<double>(net.loss(x, targets)) + penalty(net, omega, lambda);
}

}  // namespace descent
