#pragma once
// What every first-order optimizer shares. On a batch (x, y), each step
//   1. computes g = ∇θ (l(f(x; θ), y) + λΩ(θ))   (optimizers/objective.hpp),
//   2. checks l + λΩ, g and what the update would make of θ and of the optimizer's state,
//      and clips g by its norm when asked (optimizers/step_guard.hpp),
//   3. applies the optimizer's own update rule θ ← θ + αΔ(g, state).
// Sgd, Momentum and Adam differ only in Δ and in the state Δ needs. Every step is guarded:
// there is one step, and it is the one fit takes.
//
// Another optimizer is a class deriving from FirstOrder<It, Omega> that states its rule once:
//   template <class Out, class Theta, class Gradient> void rule(Out&& out, Theta theta, const Gradient& g);
// calling out(target, value, what, limit) for every quantity the update changes, θ first:
// out(theta, θ - α g, "θ", detail::update_limit<S>()), then its state, e.g.
// out(state(), ..., "the velocity", detail::update_limit<double>()). Each value is an Eigen
// expression of g, θ and the state before the update. The guard evaluates the values without
// storing them and refuses the step when one is non-finite or beyond its limit; the update
// then stores them in that order (θ first, since its value reads the old state). So the rule
// checked is the rule applied. It reads and writes its state through state() and the update
// count t through steps() (counted by the base, after the update). Optionally it declares
//   static constexpr Eigen::Index state_per_parameter = k;   // state() holds k P values
//   std::vector<std::pair<std::string, double>> settings() const;   // for snapshots
#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/check_range.hpp"
#include "../detail/message.hpp"
#include "../detail/validate.hpp"
#include "../error.hpp"
#include "../regularizers/regularizer.hpp"
#include "objective.hpp"
#include "optimizer_snapshot.hpp"
#include "step_guard.hpp"

namespace descent {

template <class Derived, Regularizer Omega>
class FirstOrder {
public:
    // α, as the next step will use it.
    double learning_rate() const { return alpha_; }
    // Sets α for the next steps (schedules call this between steps).
    // requires: alpha > 0 and finite; throws argument_error otherwise, leaving α as it was.
    void set_learning_rate(double alpha) {
        detail::require_positive(alpha, name_, "learning rate");
        alpha_ = alpha;
    }
    double lambda() const { return lambda_; }
    const Omega& regularizer() const { return omega_; }
    // "Sgd", "Momentum", "Adam": in messages and checkpoints.
    const char* name() const { return name_; }

    // The optimizer's state (Momentum's ∇̄θ, Adam's [m; v]), state_per_parameter values per
    // parameter of θ, in double whatever the network's scalar type; empty before the first
    // step. Writable, with set_steps(), to restore a state by hand (restore() checks it).
    Eigen::VectorXd& state() { return state_; }
    const Eigen::VectorXd& state() const { return state_; }
    // t: the number of updates made so far.
    std::int64_t steps() const { return steps_; }
    // requires: t >= 0; throws argument_error otherwise, leaving t as it was.
    void set_steps(std::int64_t t) {
        detail::require_at_least(t, 0, name_, "the step count");
        steps_ = t;
    }
    // Forgets the state and t: the next step starts afresh, on a network of any size.
    void reset() {
        state_.resize(0);
        steps_ = 0;
    }

    // One guarded step on the batch: g = ∇θ(l + λΩ), checked, clipped to guard.max_gradient_norm
    // when that is set, then the update. Returns l + λΩ at θ before the step.
    // ensures: on a throw, θ and the state (and t) are as they were; net.gradient() holds
    //          g (clipped when clipping), so that a divergence can be examined.
    // throws: the errors of the network for bad input; argument_error for a bad guard;
    //         shape_error when the optimizer's state was made for a network of another size;
    //         divergence_error when l + λΩ or g holds NaN or infinity, or when the update would
    //         take θ or the state there (or beyond half the scalar type's range), naming the parameter.
    template <class Net, class Targets>
    double step(Net& net, const Eigen::Ref<const typename Net::Matrix>& x, const Targets& targets,
                const StepGuard& guard = {}) {
        detail::check_guard(guard, name_);
        check_state(net.parameters().size());
        const double objective = objective_gradient(net, x, targets, omega_, lambda_);
        const std::string where = detail::join({name_, "::step"});
        detail::check_objective(objective, where);
        guarded_update(net, objective, guard, where);
        return objective;
    }

    // The update alone, from the g already in net.gradient() (computed by hand, or averaged
    // over processes), guarded as a guarded step is.
    // throws: argument_error (guard), shape_error (state size), divergence_error; on a
    //         throw, θ, the state and t are as they were.
    template <class Net>
    void apply_gradient(Net& net, const StepGuard& guard = {}) {
        detail::check_guard(guard, name_);
        check_state(net.parameters().size());
        const std::string where = detail::join({name_, "::apply_gradient"});
        guarded_update(net, std::numeric_limits<double>::quiet_NaN(), guard, where);
    }

    // The state as plain data (optimizers/optimizer_snapshot.hpp).
    OptimizerSnapshot snapshot() const {
        return {name_, Omega::name, alpha_, all_settings(), steps_, state_};
    }

    // Why `saved` cannot be restored into this optimizer for a network of `parameters`
    // parameters: another kind, regulariser or hyperparameter (named with both values), a
    // state of another size, a non-finite value. Empty when it can.
    std::string mismatch(const OptimizerSnapshot& saved, Eigen::Index parameters) const {
        return detail::snapshot_mismatch(saved, name_, Omega::name, all_settings(), per_parameter(),
                                         parameters);
    }

    // Takes over a saved state: α, t and the state become saved's.
    // ensures: on a throw, nothing is changed.
    // throws: argument_error with mismatch()'s reason.
    void restore(const OptimizerSnapshot& saved, Eigen::Index parameters) {
        if (const std::string reason = mismatch(saved, parameters); !reason.empty())
            throw argument_error(detail::join({name_, "::restore: ", reason}));
        Eigen::VectorXd state = saved.state;  // the one step that may throw (bad_alloc), first
        alpha_ = saved.learning_rate;
        steps_ = saved.steps;
        state_.swap(state);
    }

protected:
    // requires: learning_rate > 0 and finite, lambda >= 0 and finite; throws argument_error
    // naming `name` otherwise.
    FirstOrder(const char* name, double learning_rate, double lambda, Omega omega)
        : name_(name), alpha_(learning_rate), lambda_(lambda), omega_(std::move(omega)) {
        detail::require_positive(learning_rate, name, "learning rate");
        detail::require_non_negative(lambda, name, "lambda");
        // A PyTorch user's Sgd(α, λ) means weight decay: without a regulariser λ would do nothing.
        if (lambda > 0 && std::string_view(Omega::name) == "none")
            throw argument_error(detail::join(
                {name, ": λ = ", detail::number(lambda),
                 " was given without a regularizer, so it would change nothing; choose Ω: ", name,
                 "<L2>(α, λ) for weight decay (Ω = Σ W²), ", name, "<L1>(α, λ) for Ω = Σ |W|, or λ = 0"}));
    }

    static constexpr Eigen::Index per_parameter() {
        if constexpr (requires { Derived::state_per_parameter; })
            return Derived::state_per_parameter;
        else
            return 0;
    }

    // A state vector holds `per_parameter` values per parameter of θ; it is sized on the first
    // step and reused after, so that a step allocates nothing once the first is done.
    // throws: shape_error when a later step sees a network of another size.
    void prepare_state(Eigen::VectorXd& state, Eigen::Index parameters, Eigen::Index per = 1) const {
        check_state_size(state, parameters, per);
        if (state.size() == 0) state = Eigen::VectorXd::Zero(parameters * per);
    }

    // The guard's check of each quantity the update produces:
    // `values` (an Eigen array expression, evaluated without being stored) within ±limit.
    // throws: divergence_error naming `what`, the first offending value and its parameter.
    template <class Net, class Values>
    void check_within(const Net& net, const Values& values, double limit, const char* what,
                      const std::string& where) const {
        if (detail::largest_magnitude(values) <= limit) return;
        const Eigen::Index i = detail::first_beyond(values, limit);
        const Eigen::Index p = net.parameters().size();
        const double value = i >= 0 ? static_cast<double>(values(i)) : 0.0;
        throw divergence_error(
            detail::join({where, ": the update would make ", what, " ", detail::value_text(value), " at ",
                          detail::parameter_name(net, p > 0 ? i % p : i), " (α = ", detail::number(alpha_),
                          ", a bound of ±", detail::number(limit), ")", detail::unchanged_note()}));
    }

private:
    Derived& derived() { return static_cast<Derived&>(*this); }
    const Derived& derived() const { return static_cast<const Derived&>(*this); }

    // λ, then the derived optimizer's own hyperparameters.
    std::vector<std::pair<std::string, double>> all_settings() const {
        std::vector<std::pair<std::string, double>> all{{"lambda", lambda_}};
        if constexpr (requires(const Derived& d) { d.settings(); })
            for (auto& setting : derived().settings()) all.push_back(std::move(setting));
        return all;
    }

    void check_state_size(const Eigen::VectorXd& state, Eigen::Index parameters, Eigen::Index per) const {
        if (state.size() != 0 && state.size() != parameters * per)
            throw shape_error(detail::join({name_, ": the optimizer's state was made for a network of ",
                                            state.size() / per, " parameters but this one has ", parameters,
                                            " (one optimizer per network; reset() clears the state)"}));
    }
    void check_state(Eigen::Index parameters) const {
        if constexpr (per_parameter() > 0) check_state_size(state_, parameters, per_parameter());
    }
    // Sizes the state on the first step; a derived prepare() of its own is called too.
    void size_state(Eigen::Index parameters) {
        if constexpr (per_parameter() > 0) prepare_state(state_, parameters, per_parameter());
        if constexpr (requires { derived().prepare(Eigen::Index{}); }) derived().prepare(parameters);
    }

    template <class Net>
    void guarded_update(Net& net, double objective, const StepGuard& guard, const std::string& where) {
        detail::check_gradient(net, objective, where);
        if (guard.max_gradient_norm > 0) {
            auto g = net.gradient();
            clip_gradient(g, guard.max_gradient_norm);
        }
        const bool fresh = state_.size() == 0;
        size_state(net.parameters().size());
        const auto g = std::as_const(net).gradient();
        try {
            derived().rule([&](auto&, const auto& value, const char* what,
                               double limit) { check_within(net, value.array(), limit, what, where); },
                           net.parameters(), g);
        } catch (...) {
            if (fresh) state_.resize(0);  // a state sized for this step only is forgotten again
            throw;
        }
        derived().rule([](auto& target, const auto& value, const char*, double) { target = value; },
                       net.parameters(), g);
        ++steps_;
    }

    const char* name_;
    double alpha_;
    double lambda_;
    Omega omega_;
    Eigen::VectorXd state_;
    std::int64_t steps_ = 0;
};

}  // namespace descent
