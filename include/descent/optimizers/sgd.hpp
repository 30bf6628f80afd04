#pragma once
// Stochastic gradient descent, as in the course: for a batch (x, y),
//   Δ = -∇θ l(f(x; θ), y) - λ∇θ Ω(θ)
//   θ ← θ + α Δ
// With a batch of one sample this is the per-example algorithm exactly as written.
#include <Eigen/Core>
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

    // One guarded step (FirstOrder::step). Without regularization or clipping, on a network that
    // can (descend_guarded), the update is fused into backpropagation and the guard's evidence is
    // the cheap kind (l, each ∇a(k) and h(k-1), bounds on |θ|); when that evidence cannot prove
    // the update safe, the step is the exact one, which checks g and θ - αg in full. Either way
    // the same rule θ ← θ - α∇θ l; fused, ∇θ is never stored (gradient() is left as it was).
    template <class Net, class Targets>
    double step(Net& net, const Eigen::Ref<const typename Net::Matrix>& x, const Targets& targets,
                const StepGuard& guard = {}) {
        using S = typename Net::Scalar;
        if constexpr (requires { net.descend_guarded(x, targets, S{}, 0.0); }) {
            if (this->lambda() == 0 && guard.max_gradient_norm == 0) {
                const auto l = net.descend_guarded(x, targets, static_cast<S>(this->learning_rate()),
                                                   detail::update_limit<S>());
                if (l) {
                    this->set_steps(this->steps() + 1);
                    return static_cast<double>(*l);
                }
            }
        }
        return FirstOrder<Sgd<Omega>, Omega>::step(net, x, targets, guard);
    }

private:
    friend class FirstOrder<Sgd<Omega>, Omega>;

    // g = ∇θ(l + λΩ): θ ← θ + αΔ with Δ = -g.
    template <class Out, class Theta, class Gradient>
    void rule(Out&& out, Theta theta, const Gradient& g) {
        using S = typename Theta::Scalar;
        out(theta, theta - static_cast<S>(this->learning_rate()) * g, "θ", detail::update_limit<S>());
    }
};

}  // namespace descent
