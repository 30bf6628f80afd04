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

#include "../detail/check_range.hpp"
#include "../detail/message.hpp"
#include "../detail/validate.hpp"

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

namespace detail {

// Why `saved` cannot be restored into the optimizer `name` with regularizer `regularizer`,
// hyperparameters `settings` (λ first) and `per_parameter` state values per parameter, for a
// network of `parameters` parameters; empty when it can (FirstOrder::mismatch). Plain data, so
// that it is compiled once, not once per optimizer type.
inline std::string snapshot_mismatch(const OptimizerSnapshot& saved, const char* name,
                                     const char* regularizer,
                                     const std::vector<std::pair<std::string, double>>& settings,
                                     Eigen::Index per_parameter, Eigen::Index parameters) {
    if (saved.optimizer != name)
        return join({"it holds the state of ", saved.optimizer, ", this optimizer is ", name});
    if (saved.regularizer != regularizer)
        return join({"its regularizer is ", saved.regularizer, ", this optimizer's is ", regularizer});
    if (saved.settings.size() != settings.size())
        return join({"it has ", saved.settings.size(), " hyperparameters, ", name, " has ", settings.size()});
    for (std::size_t k = 0; k < settings.size(); ++k) {
        const auto& [setting, value] = saved.settings[k];
        if (setting != settings[k].first)
            return join({"its hyperparameter ", k + 1, " is ", setting, ", expected ", settings[k].first});
        // Compared exactly: the run goes on bit for bit only with the same values.
        if (!(value == settings[k].second))
            return join({"its ", setting, " is ", number(value), ", this optimizer's is ",
                         number(settings[k].second)});
    }
    if (!(std::isfinite(saved.learning_rate) && saved.learning_rate > 0))
        return join({"its learning rate is ", number(saved.learning_rate), ", expected positive and finite"});
    if (saved.steps < 0) return join({"its step count is ", saved.steps, ", expected >= 0"});
    const Eigen::Index expected = per_parameter * parameters;
    if (saved.state.size() != 0 && saved.state.size() != expected)
        return join({"its state holds ", saved.state.size(), " values, expected ", expected, " (",
                     per_parameter, " per parameter of ", parameters, ") or none"});
    if (const Eigen::Index i = first_non_finite(saved.state); i >= 0)
        return join({"its state holds ", number(saved.state(i)), " at index ", i});
    return {};
}

}  // namespace detail
}  // namespace descent
