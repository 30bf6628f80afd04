#pragma once
// What every first-order optimizer shares. On a batch (x, y), each step
//   1. computes g = ∇θ (l(f(x; θ), y) + λΩ(θ))   (training/objective.hpp),
//   2. applies the optimizer's own update rule θ ← θ + αΔ(g, state).
// Sgd, Momentum and Adam differ only in Δ and in the state Δ needs.
//
// Another optimizer is a class deriving from FirstOrder<It, Omega> that defines
//   template <class Theta, class Gradient> void update(Theta theta, const Gradient& g);
// (θ and g are Eigen vectors of the network's scalar type), and, if it keeps
// state, void prepare(Eigen::Index parameters), called before the gradient.
#include <Eigen/Core>
#include <span>
#include <string>
#include <utility>

#include "../detail/check_range.hpp"
#include "../error.hpp"
#include "../regularizers/regularizer.hpp"
#include "../training/objective.hpp"

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

    // One step on the batch; returns l + λΩ at θ before the step.
    // throws: the errors of Mlp for bad input, and shape_error when the optimizer's state
    //         was made for a network of another size; on a throw, θ and the state are unchanged.
    template <class Net>
    double step(Net& net, const Eigen::Ref<const typename Net::Matrix>& x, std::span<const int> labels) {
        if constexpr (requires { derived().prepare(Eigen::Index{}); })
            derived().prepare(net.parameters().size());
        const double objective = objective_gradient(net, x, labels, omega_, lambda_);
        derived().update(net.parameters(), std::as_const(net).gradient());
        return objective;
    }

protected:
    // requires: learning_rate > 0 and finite, lambda >= 0 and finite; throws argument_error
    // naming `name` otherwise.
    FirstOrder(const char* name, double learning_rate, double lambda, Omega omega)
        : name_(name), alpha_(learning_rate), lambda_(lambda), omega_(std::move(omega)) {
        detail::require_positive(learning_rate, name, "learning rate");
        detail::require_non_negative(lambda, name, "lambda");
    }

    const char* name() const { return name_; }

    // A state vector holds `per_parameter` values per parameter of θ; it is sized on the first
    // step and reused after, so that a step allocates nothing once the first is done.
    // throws: shape_error when a later step sees a network of another size.
    void prepare_state(Eigen::VectorXd& state, Eigen::Index parameters,
                       Eigen::Index per_parameter = 1) const {
        if (state.size() == 0) {
            state = Eigen::VectorXd::Zero(parameters * per_parameter);
        } else if (state.size() != parameters * per_parameter) {
            throw shape_error(std::string(name_) + ": the optimizer's state was made for a network of " +
                              std::to_string(state.size() / per_parameter) + " parameters but this one has " +
                              std::to_string(parameters) +
                              " (one optimizer per network; reset() clears the state)");
        }
    }

private:
    Derived& derived() { return static_cast<Derived&>(*this); }

    const char* name_;
    double alpha_;
    double lambda_;
    Omega omega_;
};

}  // namespace descent
