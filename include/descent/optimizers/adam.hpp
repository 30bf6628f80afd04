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
#include <cmath>
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

    // m(t) = β1 m(t-1) + (1 - β1) g,  v(t) = β2 v(t-1) + (1 - β2) g²,
    // θ ← θ - α m̂ / (√v̂ + ε) with m̂ = m(t) / (1 - β1^t), v̂ = v(t) / (1 - β2^t).
    template <class Out, class Theta, class Gradient>
    void rule(Out&& out, Theta theta, const Gradient& g) {
        using S = typename Theta::Scalar;
        const Eigen::Index p = theta.size();
        auto m = this->state().head(p);
        auto v = this->state().tail(p);
        const auto gd = g.template cast<double>();
        const auto m_next = beta1_ * m + (1 - beta1_) * gd;
        const auto v_next = beta2_ * v + (1 - beta2_) * gd.cwiseAbs2();
        const double unbias1 = unbias(beta1_);
        const double unbias2 = unbias(beta2_);
        out(theta,
            (theta.array() - ((this->learning_rate() / unbias1) * m_next.array() /
                              ((v_next.array() / unbias2).sqrt() + epsilon_))
                                 .template cast<S>())
                .matrix(),
            "θ", detail::update_limit<S>());
        out(m, m_next, "the first moment m", detail::update_limit<double>());
        out(v, v_next, "the second moment v", detail::update_limit<double>());
    }

    double beta1_;
    double beta2_;
    double epsilon_;
};

}  // namespace descent
