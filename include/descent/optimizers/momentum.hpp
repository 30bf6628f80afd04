#pragma once
// Gradient descent with momentum, in the course's notation: with g(t) = ∇θ(l + λΩ)
// on the batch of update t, the running direction
//   ∇̄θ(t) = g(t) + β ∇̄θ(t-1),    ∇̄θ(0) = 0
// replaces the gradient:
//   classical:  Δ = -∇̄θ(t),                 θ ← θ + αΔ
//   Nesterov:   Δ = -(g(t) + β ∇̄θ(t)),       θ ← θ + αΔ
//
// Nesterov's method takes the gradient at the look-ahead point θ(t-1) - αβ∇̄θ(t-1),
// where momentum alone would carry θ, rather than at θ(t-1):
//   ∇̄θ(t) = ∇θ(l + λΩ) at θ(t-1) - αβ∇̄θ(t-1), plus β∇̄θ(t-1);   θ(t) = θ(t-1) - α∇̄θ(t).
// The common reformulation stores the look-ahead point Θ(t) = θ(t) - αβ∇̄θ(t) as the
// parameters, so that g(t+1) is taken at the stored parameters, as for every other
// optimizer. Substituting,
//   Θ(t+1) = θ(t+1) - αβ∇̄θ(t+1) = θ(t) - α(1 + β)∇̄θ(t+1)
//          = Θ(t) + αβ∇̄θ(t) - α(1 + β)∇̄θ(t+1)
//          = Θ(t) - α(g(t+1) + β∇̄θ(t+1)),    since ∇̄θ(t+1) - β∇̄θ(t) = g(t+1),
// which is the Nesterov rule above (exactly for a constant α). When training ends, the
// parameters are Θ, which differs from θ by αβ∇̄θ: a vanishing amount as the gradient does.
#include <Eigen/Core>
#include <array>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../regularizers/no_regularization.hpp"
#include "../regularizers/regularizer.hpp"
#include "first_order.hpp"

namespace descent {

enum class MomentumKind { classical, nesterov };

template <Regularizer Omega = NoRegularization>
class Momentum : public FirstOrder<Momentum<Omega>, Omega> {
public:
    // state() holds ∇̄θ, one value per parameter.
    static constexpr Eigen::Index state_per_parameter = 1;

    // requires: learning_rate > 0 and finite, lambda >= 0 and finite, beta in [0, 1);
    // throws argument_error otherwise. β = 0 is plain Sgd.
    explicit Momentum(double learning_rate, double lambda = 0.0, Omega omega = {}, double beta = 0.9,
                      MomentumKind kind = MomentumKind::classical)
        : FirstOrder<Momentum<Omega>, Omega>("Momentum", learning_rate, lambda, omega),
          beta_(beta),
          kind_(kind) {
        detail::require_unit_interval(beta, "Momentum", "beta");
    }

    double beta() const { return beta_; }
    MomentumKind kind() const { return kind_; }

    // ∇̄θ, in the layout of the network's parameters(); empty before the first step (it is
    // state(), kept in double whatever the network's scalar type, so that checkpoints of
    // float and double networks store the state alike).
    const Eigen::VectorXd& velocity() const { return this->state(); }

    // For snapshots: what the update depends on besides α and λ.
    std::vector<std::pair<std::string, double>> settings() const {
        return {{"beta", beta_}, {"nesterov", kind_ == MomentumKind::nesterov ? 1.0 : 0.0}};
    }

private:
    friend class FirstOrder<Momentum<Omega>, Omega>;

    static constexpr std::array<const char*, 1> state_names{"the velocity"};

    // The rule for the next update, on a block of θ, g and ∇̄θ, in place (FirstOrder applies it,
    // or checks it on a copy first):
    //   ∇̄θ(t) = g(t) + β∇̄θ(t-1), then θ ← θ - α∇̄θ(t) (classical) or θ ← θ - α(g(t) + β∇̄θ(t)).
    auto update_rule() const {
        return [alpha = this->learning_rate(), beta = beta_, classical = kind_ == MomentumKind::classical](
                   auto&& theta, const auto& g, auto&& velocity) {
            velocity = g + beta * velocity;
            if (classical)
                detail::descend(theta, alpha * velocity);
            else
                detail::descend(theta, alpha * (g + beta * velocity));
        };
    }

    // With |g| <= G and |∇̄θ(t-1)| <= V: |∇̄θ(t)| <= G + βV, and the update moves a parameter
    // by at most α|∇̄θ(t)| (classical) or α(G + β|∇̄θ(t)|).
    double step_bound(double G, std::span<detail::Range, 1> state) const {
        const double velocity = G + beta_ * state[0].magnitude();
        state[0] = {-velocity, velocity};
        return this->learning_rate() * (kind_ == MomentumKind::classical ? velocity : G + beta_ * velocity);
    }

    double beta_;
    MomentumKind kind_;
};

}  // namespace descent
