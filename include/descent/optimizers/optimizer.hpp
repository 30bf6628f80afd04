#pragma once
// The Optimizer concept: one step θ ← θ + αΔ on a batch, returning the batch's
// objective l + λΩ before the step.
#include <Eigen/Core>
#include <concepts>
#include <span>

namespace descent {

template <class O, class Net>
concept Optimizer = requires(O& optimizer, Net& net, const typename Net::Matrix& x,
                             std::span<const int> labels) {
    { optimizer.step(net, x, labels) } -> std::convertible_to<double>;
};

// An optimizer whose α can be read and changed between steps, as a learning-rate
// schedule needs (every optimizer deriving from FirstOrder is one).
template <class O>
concept AdjustableLearningRate = requires(O& optimizer, double alpha) {
    { optimizer.learning_rate() } -> std::convertible_to<double>;
    optimizer.set_learning_rate(alpha);
};

}  // namespace descent
