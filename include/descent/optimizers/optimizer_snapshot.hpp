#pragma once
// An optimizer's state as plain data: what a checkpoint stores and what restores it.
//
//   const auto saved = adam.snapshot();          // after some steps
//   Adam<> fresh(0.001);                          // later, in another process
//   fresh.restore(saved, net.parameters().size());  // continues as if never stopped
//
// Besides the state itself (∇̄θ, Adam's m and v) it records the optimizer's kind and
// the hyperparameters that define its update, so that a state is never restored into
// an optimizer that would carry on differently.
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace descent {

struct OptimizerSnapshot {
    std::string optimizer;     // FirstOrder::name(): "Sgd", "Momentum", "Adam"
    std::string regularizer;   // Omega::name: "none", "l2", "l1"
    double learning_rate = 0;  // α, as the next step would use it
    // The hyperparameters the update depends on besides α, by name: λ, β, β1, β2, ε, ...
    std::vector<std::pair<std::string, double>> settings;
    std::int64_t steps = 0;  // t: the updates made so far
    Eigen::VectorXd state;   // empty before the first step
};

}  // namespace descent
