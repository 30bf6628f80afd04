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
//
// A rule that acts on each parameter alone (Momentum, Adam) may instead be stated once per
// block of parameters, in place, which the base applies in one pass (detail/blockwise_update.hpp):
//   auto update_rule() const;   // for the next update: f(θ, g, s_1, ..., s_k), on blocks
//   double step_bound(double G, std::span<detail::Range, k> state) const;
//   static constexpr std::array<const char*, k> state_names;   // "the velocity", for messages
// f updates θ (through detail::descend) and the k blocks of state in place from g, in double.
// step_bound gives, from |g| <= G and the state's ranges, a bound on how far the update moves
// any parameter, and narrows the ranges to those after it (NaN when it cannot bound them). When
// these bounds keep θ and the state within half their limits, the update is safe without a look
// at each value and takes one pass that stores; otherwise the guard applies f to a copy of each
// block first, as above, and stores only when every value passed.
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/blockwise_update.hpp"
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
    // step. Writable, with set_steps(), to restore a state by hand (restore() checks it):
    // the bounds the guard keeps on the state are then forgotten, and measured at the next step.
    Eigen::VectorXd& state() {
        ranges_.clear();
        return state_;
    }
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
        ranges_.clear();
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
        ranges_.clear();
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
        refuse(net, what, i >= 0 ? static_cast<double>(values(i)) : 0.0, p > 0 ? i % p : i, limit, where);
    }

    // throws: divergence_error: the update would make `what` `value` at parameter i.
    template <class Net>
    [[noreturn]] void refuse(const Net& net, const char* what, double value, Eigen::Index i, double limit,
                             const std::string& where) const {
        throw divergence_error(
            detail::join({where, ": the update would make ", what, " ", detail::value_text(value), " at ",
                          detail::parameter_name(net, i), " (α = ", detail::number(alpha_), ", a bound of ±",
                          detail::number(limit), ")", detail::unchanged_note()}));
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
        if constexpr (per_parameter() > 0) {
            if (state_.size() == 0) ranges_.assign(static_cast<std::size_t>(per_parameter()), {});  // all 0
            prepare_state(state_, parameters, per_parameter());
        }
        if constexpr (requires { derived().prepare(Eigen::Index{}); }) derived().prepare(parameters);
    }

    template <class Net>
    void guarded_update(Net& net, double objective, const StepGuard& guard, const std::string& where) {
        if constexpr (requires(const Derived& d) { d.update_rule(); })
            blockwise_update(net, objective, guard, where);
        else
            whole_update(net, objective, guard, where);
    }

    // The rule stated over whole vectors: evaluated once by the guard, once to store.
    template <class Net>
    void whole_update(Net& net, double objective, const StepGuard& guard, const std::string& where) {
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

    // The rule stated per block of parameters (update_rule): G = max |g| checks g (NaN when g
    // holds one) and, with max |θ| and the state's ranges, bounds the update; when the bounds
    // prove it safe, one pass applies it, else the guard checks it block by block first.
    template <class Net>
    void blockwise_update(Net& net, double objective, const StepGuard& guard, const std::string& where) {
        const auto g = std::as_const(net).gradient();
        double gradient_bound = detail::largest_abs(g);
        if (!std::isfinite(gradient_bound)) detail::check_gradient(net, objective, where);  // throws
        if (guard.max_gradient_norm > 0) {
            auto clipped = net.gradient();
            if (clip_gradient(clipped, guard.max_gradient_norm) != 1.0)
                gradient_bound = detail::largest_abs(g);
        }
        const bool fresh = state_.size() == 0;
        size_state(net.parameters().size());
        const auto rule = derived().update_rule();
        auto theta = net.parameters();
        std::array<detail::Range, per_parameter()> after;
        if (proves_safe(gradient_bound, detail::largest_abs(theta), theta.size(), after,
                        detail::update_limit<typename Net::Scalar>())) {
            apply_blockwise(rule, theta, g);
            std::copy(after.begin(), after.end(), ranges_.begin());
            ++steps_;
            return;
        }
        try {
            check_blockwise(net, rule, g, where);
        } catch (...) {
            if (fresh) state_.resize(0);  // a state sized for this step only is forgotten again
            throw;
        }
        apply_blockwise(rule, theta, g);
        ranges_.clear();  // measured afresh at the next step
        ++steps_;
    }

    // True when |g| <= G, |θ| <= T and the state's ranges bound θ and the state after the update
    // within half their limits; `after` then holds the state's ranges after it. Ranges tracked from
    // step to step (widened by a relative 2^-40 a step for rounding) may have grown loose: when
    // they fail, they are measured afresh and tried once more.
    template <std::size_t K>
    bool proves_safe(double G, double T, Eigen::Index parameters, std::array<detail::Range, K>& after,
                     double theta_limit) {
        for (bool measured = ranges_.size() != K;; measured = true) {
            if (measured) measure_ranges(parameters);
            std::copy(ranges_.begin(), ranges_.end(), after.begin());
            const double step = derived().step_bound(G, std::span<detail::Range, K>(after));
            bool safe = T + step <= theta_limit / 2;
            for (auto& range : after) {
                range.low -= std::abs(range.low) * 0x1p-40;
                range.high += std::abs(range.high) * 0x1p-40;
                safe = safe && range.magnitude() <= detail::update_limit<double>() / 2;
            }
            if (safe || measured) return safe;
        }
    }
    // "θ" for q = 0, then the state's names (state_names).
    static const char* quantity(std::size_t q) {
        if constexpr (per_parameter() > 0)
            if (q > 0) return Derived::state_names[q - 1];
        return "θ";
    }
    void measure_ranges(Eigen::Index parameters) {
        ranges_.resize(static_cast<std::size_t>(per_parameter()));
        for (Eigen::Index j = 0; j < per_parameter(); ++j)
            ranges_[static_cast<std::size_t>(j)] =
                detail::range_of(state_.segment(j * parameters, parameters));
    }

    // f(θ, g, s_1, ..., s_k) on each block of θ and of the state, in place.
    template <class Rule, class Theta, class Gradient>
    void apply_blockwise(const Rule& rule, Theta& theta, const Gradient& g) {
        const Eigen::Index p = theta.size();
        detail::for_each_block(g.data(), p, [&](Eigen::Index i, const auto& gradient) {
            const Eigen::Index n = gradient.size();
            [&]<std::size_t... J>(std::index_sequence<J...>) {
                rule(theta.segment(i, n).array(), gradient,
                     state_.segment(static_cast<Eigen::Index>(J) * p + i, n).array()...);
            }(std::make_index_sequence<per_parameter()>{});
        });
    }

    // The guard's check of the update, a block at a time on copies: θ and every state value
    // after it finite and within its limit (θ's is update_limit<S>, the state's
    // update_limit<double>). throws: divergence_error naming the first value beyond, θ's first.
    template <class Net, class Rule, class Gradient>
    void check_blockwise(const Net& net, const Rule& rule, const Gradient& g,
                         const std::string& where) const {
        using S = typename Net::Scalar;
        const auto theta = net.parameters();
        const Eigen::Index p = theta.size();
        const double limits[] = {detail::update_limit<S>(), detail::update_limit<double>()};
        // The values after the update of block i, into th and s.
        detail::UpdateBlock<S> th;
        std::array<detail::UpdateBlock<double>, per_parameter()> s;
        auto update = [&](Eigen::Index i, const auto& gradient) {
            const Eigen::Index n = gradient.size();
            th = theta.segment(i, n).array();
            [&]<std::size_t... J>(std::index_sequence<J...>) {
                ((s[J] = state_.segment(static_cast<Eigen::Index>(J) * p + i, n).array()), ...);
                rule(th, gradient, s[J]...);
            }(std::make_index_sequence<per_parameter()>{});
        };
        bool within = true;
        detail::for_each_block(g.data(), p, [&](Eigen::Index i, const auto& gradient) {
            if (!within) return;
            update(i, gradient);
            within = detail::largest_abs(th) <= limits[0];
            for (const auto& values : s) within = within && detail::largest_abs(values) <= limits[1];
        });
        if (within) return;
        // Which value, in the order of the old whole-vector check: θ over all parameters, then
        // each state vector in turn.
        for (std::size_t q = 0; q <= s.size(); ++q)
            detail::for_each_block(g.data(), p, [&](Eigen::Index i, const auto& gradient) {
                update(i, gradient);
                for (Eigen::Index j = 0; j < gradient.size(); ++j) {
                    const double value = q == 0 ? static_cast<double>(th(j)) : s[q - 1](j);
                    if (!(std::abs(value) <= limits[q == 0 ? 0 : 1]))
                        refuse(net, quantity(q), value, i + j, limits[q == 0 ? 0 : 1], where);
                }
            });
    }

    const char* name_;
    double alpha_;
    double lambda_;
    Omega omega_;
    Eigen::VectorXd state_;
    // Bounds on each of the state's k vectors, for blockwise_update; empty: unknown.
    std::vector<detail::Range> ranges_;
    std::int64_t steps_ = 0;
};

}  // namespace descent
