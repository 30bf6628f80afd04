#pragma once
// Adam (Kingma & Ba, 2015): a step per parameter scaled by running estimates of
// the gradient's first and second moments. With g(t) = ∇θ(l + λΩ) on the batch of
// update t = 1, 2, ...:
//   m(t) = β1 m(t-1) + (1 - β1) g(t)            m(0) = 0
//   v(t) = β2 v(t-1) + (1 - β2) g(t)²           v(0) = 0 (g² elementwise)
//   m̂ = m(t) / (1 - β1^t),  v̂ = v(t) / (1 - β2^t)   (the moments start at 0: unbias them)
//   Δ = -m̂ / (√v̂ + ε),  θ ← θ + αΔ
// λ∇Ω is part of g, as for Sgd (not AdamW's decoupled decay).
#include <Eigen/Core>
#include <array>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../regularizers/no_regularization.hpp"
#include "../regularizers/regularizer.hpp"
#include "first_order.hpp"

namespace descent {

template <Regularizer Omega = NoRegularization>
class Adam : public FirstOrder<Adam<Omega>, Omega> {
public:
    // state() holds [m; v]: 2P values for a network of P parameters, m first.
    static constexpr Eigen::Index state_per_parameter = 2;

    // requires: learning_rate > 0 and finite, lambda >= 0 and finite, beta1 and beta2 in [0, 1),
    // epsilon > 0 and finite; throws argument_error otherwise.
    explicit Adam(double learning_rate = 0.001, double lambda = 0.0, Omega omega = {}, double beta1 = 0.9,
                  double beta2 = 0.999, double epsilon = 1e-8)
        : FirstOrder<Adam<Omega>, Omega>("Adam", learning_rate, lambda, omega),
          beta1_(beta1),
          beta2_(beta2),
          epsilon_(epsilon) {
        detail::require_unit_interval(beta1, "Adam", "beta1");
        detail::require_unit_interval(beta2, "Adam", "beta2");
        detail::require_positive(epsilon, "Adam", "epsilon");
    }

    double beta1() const { return beta1_; }
    double beta2() const { return beta2_; }
    double epsilon() const { return epsilon_; }

    // m and v, the two halves of state() (in double whatever the network's scalar type);
    // steps() is t.
    auto first_moment() const { return this->state().head(this->state().size() / 2); }
    auto second_moment() const { return this->state().tail(this->state().size() / 2); }

    // For snapshots: what the update depends on besides α and λ.
    std::vector<std::pair<std::string, double>> settings() const {
        return {{"beta1", beta1_}, {"beta2", beta2_}, {"epsilon", epsilon_}};
    }

private:
    friend class FirstOrder<Adam<Omega>, Omega>;

    // 1 - β^t for the update about to be made (t = steps() + 1).
    double unbias(double beta) const { return 1 - std::pow(beta, static_cast<double>(this->steps() + 1)); }

    static constexpr std::array<const char*, 2> state_names{"the first moment m", "the second moment v"};

    // The rule for the next update, on a block of θ, g, m and v, in place (FirstOrder applies
    // it, or checks it on a copy first), with the bias corrections of t = steps() + 1:
    //   m(t) = β1 m(t-1) + (1 - β1) g,  v(t) = β2 v(t-1) + (1 - β2) g²,
    //   θ ← θ - α m̂ / (√v̂ + ε) with m̂ = m(t) / (1 - β1^t), v̂ = v(t) / (1 - β2^t).
    // √ is Eigen's vectorised one, on a float network too (whose whole-vector expression ran a
    // coefficient at a time, with std::sqrt): with AVX-512 and EIGEN_FAST_MATH, an estimate and two
    // Newton steps, which may differ from std::sqrt in the last bit of αm̂/(√v̂ + ε) in double, a
    // difference that rounding the step to float erased in every one of 16.7 million trials.
    auto update_rule() const {
        return [beta1 = beta1_, beta2 = beta2_, epsilon = epsilon_,
                rate = this->learning_rate() / unbias(beta1_), unbias2 = unbias(beta2_)](
                   auto&& theta, const auto& g, auto&& m, auto&& v) {
            m = beta1 * m + (1 - beta1) * g;
            v = beta2 * v + (1 - beta2) * g.square();
            detail::descend(theta, rate * m / ((v / unbias2).sqrt() + epsilon));
        };
    }

    // With |g| <= G, |m(t-1)| <= M and 0 <= v(t-1) <= V: |m(t)| <= β1 M + (1 - β1) G,
    // 0 <= v(t) <= β2 V + (1 - β2) G², and since √v̂ >= 0, the update moves a parameter by at
    // most α |m̂| / ε. NaN when v(t-1) may be negative (then √v̂ may be NaN), or v̂ infinite
    // (Eigen's vectorised √ of infinity may be NaN).
    double step_bound(double G, std::span<detail::Range, 2> state) const {
        const double m = beta1_ * state[0].magnitude() + (1 - beta1_) * G;
        const double v = beta2_ * state[1].high + (1 - beta2_) * G * G;
        if (!(state[1].low >= 0 && v / unbias(beta2_) <= std::numeric_limits<double>::max() / 2))
            return std::numeric_limits<double>::quiet_NaN();
        state[0] = {-m, m};
        state[1] = {0, v};
        return this->learning_rate() / unbias(beta1_) * m / epsilon_;
    }

    double beta1_;
    double beta2_;
    double epsilon_;
};

}  // namespace descent
