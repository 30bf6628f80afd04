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
#include <cstdint>

#include "../regularizers/no_regularization.hpp"
#include "../regularizers/regularizer.hpp"
#include "first_order.hpp"

namespace descent {

template <Regularizer Omega = NoRegularization>
class Adam : public FirstOrder<Adam<Omega>, Omega> {
public:
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

    // [m; v]: 2P values for a network of P parameters (m first), empty before the first
    // step; in double whatever the network's scalar type. Writable, with steps(), to
    // restore a checkpoint.
    Eigen::VectorXd& state() { return moments_; }
    const Eigen::VectorXd& state() const { return moments_; }
    auto first_moment() const { return moments_.head(moments_.size() / 2); }
    auto second_moment() const { return moments_.tail(moments_.size() / 2); }
    // t: the number of updates made so far.
    std::int64_t steps() const { return steps_; }
    void set_steps(std::int64_t t) { steps_ = t; }

    // Forgets m, v and t, on a network of any size.
    void reset() {
        moments_.resize(0);
        steps_ = 0;
    }

private:
    friend class FirstOrder<Adam<Omega>, Omega>;

    void prepare(Eigen::Index parameters) { this->prepare_state(moments_, parameters, 2); }

    template <class Theta, class Gradient>
    void update(Theta theta, const Gradient& g) {
        using S = typename Theta::Scalar;
        const Eigen::Index p = theta.size();
        auto m = moments_.head(p);
        auto v = moments_.tail(p);
        const auto gd = g.template cast<double>();
        ++steps_;
        m = beta1_ * m + (1 - beta1_) * gd;
        v = beta2_ * v + (1 - beta2_) * gd.cwiseAbs2();
        const double unbias1 = 1 - std::pow(beta1_, static_cast<double>(steps_));
        const double unbias2 = 1 - std::pow(beta2_, static_cast<double>(steps_));
        // θ ← θ - α m̂ / (√v̂ + ε), in one pass with no temporary vector.
        theta.array() -=
            ((this->learning_rate() / unbias1) * m.array() / ((v.array() / unbias2).sqrt() + epsilon_))
                .template cast<S>();
    }

    double beta1_;
    double beta2_;
    double epsilon_;
    Eigen::VectorXd moments_;
    std::int64_t steps_ = 0;
};

}  // namespace descent
