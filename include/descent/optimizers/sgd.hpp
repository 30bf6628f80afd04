#pragma once
// Stochastic gradient descent, as in the course: for a batch (x, y),
//   Δ = -∇θ l(f(x; θ), y) - λ∇θ Ω(θ)
//   θ ← θ + α Δ
// With a batch of one sample this is the per-example algorithm exactly as written.
#include <cmath>
#include <span>
#include <string>

#include "../error.hpp"
#include "../regularizers/no_regularization.hpp"
#include "../regularizers/regularizer.hpp"
#include "../training/objective.hpp"

namespace descent {

template <Regularizer Omega = NoRegularization>
class Sgd {
public:
    // requires: learning_rate > 0 and finite, lambda >= 0 and finite; throws argument_error otherwise.
    explicit Sgd(double learning_rate, double lambda = 0.0, Omega omega = {})
        : alpha_(learning_rate), lambda_(lambda), omega_(omega) {
        if (!(std::isfinite(learning_rate) && learning_rate > 0))
            throw argument_error("Sgd: learning rate must be positive and finite, got " +
                                 std::to_string(learning_rate));
        if (!(std::isfinite(lambda) && lambda >= 0))
            throw argument_error("Sgd: lambda must be non-negative and finite, got " + std::to_string(lambda));
    }

    double learning_rate() const { return alpha_; }
    double lambda() const { return lambda_; }
    const Omega& regularizer() const { return omega_; }

    // One step on the batch; returns l + λΩ at θ before the step.
    // On a throw (bad input), θ is unchanged.
    template <class Net>
    double step(Net& net, const Eigen::Ref<const typename Net::Matrix>& x, std::span<const int> labels) {
        const double objective = objective_gradient(net, x, labels, omega_, lambda_);
        using S = typename Net::Scalar;
        net.parameters() -= static_cast<S>(alpha_) * net.gradient();  // θ ← θ + αΔ, Δ = -∇θ(l + λΩ)
        return objective;
    }

private:
    double alpha_;
    double lambda_;
    Omega omega_;
};

}  // namespace descent
