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
