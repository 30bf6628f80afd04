#pragma once
// Stochastic gradient descent, as in the course: for a batch (x, y),
//   Δ = -∇θ l(f(x; θ), y) - λ∇θ Ω(θ)
//   θ ← θ + α Δ
// With a batch of one sample this is the per-example algorithm exactly as written.
#include <Eigen/Core>
#include <span>
#include <string>

#include "../regularizers/no_regularization.hpp"
#include "../regularizers/regularizer.hpp"
#include "first_order.hpp"

namespace descent {

template <Regularizer Omega = NoRegularization>
class Sgd : public FirstOrder<Sgd<Omega>, Omega> {
public:
    // requires: learning_rate > 0 and finite, lambda >= 0 and finite; throws argument_error otherwise.
    explicit Sgd(double learning_rate, double lambda = 0.0, Omega omega = {})
        : FirstOrder<Sgd<Omega>, Omega>("Sgd", learning_rate, lambda, omega) {}

    // The guarded step (FirstOrder::step with a StepGuard) is never fused: it must look at
    // ∇θ before θ changes, and a fused step changes θ while ∇θ is being computed.
    using FirstOrder<Sgd<Omega>, Omega>::step;

    // One step on the batch, unchecked; returns l + λΩ at θ before the step (FirstOrder::step).
    // With λ = 0, on a network that can (Mlp::descend), the update is fused into
    // backpropagation: the same step, with ∇θ never stored, so net.gradient() is left as it was.
    template <class Net>
    double step(Net& net, const Eigen::Ref<const typename Net::Matrix>& x, std::span<const int> labels) {
        using S = typename Net::Scalar;
        if constexpr (requires { net.descend(x, labels, S{}); }) {
            if (this->lambda() == 0) {
                const auto l = net.descend(x, labels, static_cast<S>(this->learning_rate()));
                this->set_steps(this->steps() + 1);
                return static_cast<double>(l);
            }
        }
        return FirstOrder<Sgd<Omega>, Omega>::step(net, x, labels);
    }

private:
    friend class FirstOrder<Sgd<Omega>, Omega>;

    // g = ∇θ(l + λΩ): θ ← θ + αΔ with Δ = -g.
    template <class Theta, class Gradient>
    void update(Theta theta, const Gradient& g) {
        using S = typename Theta::Scalar;
        theta -= static_cast<S>(this->learning_rate()) * g;
    }

    // The guard's look at θ - αg, evaluated as update() evaluates it, without storing it.
    template <class Net, class Gradient>
    void check_update(const Net& net, const Gradient& g, const std::string& where) const {
        using S = typename Net::Scalar;
        this->check_within(net, net.parameters().array() - static_cast<S>(this->learning_rate()) * g.array(),
                           detail::update_limit<S>(), "θ", where);
    }
};

}  // namespace descent
