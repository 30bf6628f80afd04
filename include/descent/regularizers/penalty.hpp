#pragma once
// λΩ(θ) and its gradient, Ω summed over the weight matrices W(k) only, never over the biases
// b(k): for any network with parameter_blocks(). Beside the regularizers, at the core level, so
// that the gradient checker (checking/) and the optimizers share it.
#include <Eigen/Core>
#include <utility>

#include "regularizer.hpp"

namespace descent::detail {

// λ Σ_k Ω(W(k)).
template <class Net, Regularizer Omega>
double weight_penalty(const Net& net, const Omega& omega, double lambda) {
    if (lambda == 0) return 0.0;
    double sum = 0;
    const auto theta = net.parameters();
    for (const auto& block : net.parameter_blocks())
        if (block.is_weight) sum += omega.value(theta.segment(block.offset, block.size()));
    return lambda * sum;
}

// Adds λ∇Ω(W(k)) to the gradient of every weight block: net.gradient() becomes ∇θ (l + λΩ).
template <class Net, Regularizer Omega>
void add_weight_penalty_gradient(Net& net, const Omega& omega, double lambda) {
    if (lambda == 0) return;
    const auto theta = std::as_const(net).parameters();
    auto grad = net.gradient();
    for (const auto& block : net.parameter_blocks())
        if (block.is_weight)
            omega.add_gradient(theta.segment(block.offset, block.size()), lambda,
                               grad.segment(block.offset, block.size()));
}

}  // namespace descent::detail
