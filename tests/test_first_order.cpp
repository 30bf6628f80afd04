// FirstOrder: the part Sgd, Momentum and Adam share (∇θ(l + λΩ), then an update rule),
// and the extension point for an optimizer of one's own.
#include <descent/activations/identity.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/adam.hpp>
#include <descent/optimizers/first_order.hpp>
#include <descent/optimizers/momentum.hpp>
#include <descent/optimizers/optimizer.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/regularizers/l2.hpp>
#include <descent/training/fit.hpp>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using descent::Dense;
using descent::Identity;
using descent::Mlp;

namespace {

// θ ← θ - α sign(g): an update rule of one's own, with no state.
template <descent::Regularizer Omega = descent::NoRegularization>
class SignDescent : public descent::FirstOrder<SignDescent<Omega>, Omega> {
public:
    explicit SignDescent(double learning_rate, double lambda = 0.0, Omega omega = {})
        : descent::FirstOrder<SignDescent<Omega>, Omega>("SignDescent", learning_rate, lambda, omega) {}

private:
    friend class descent::FirstOrder<SignDescent<Omega>, Omega>;
    // The rule, stated once: the guard checks it and the update applies it.
    template <class Out, class Theta, class Gradient>
    void rule(Out&& out, Theta theta, const Gradient& g) {
        using S = typename Theta::Scalar;
        out(theta, theta - static_cast<S>(this->learning_rate()) * g.cwiseSign(), "θ",
            descent::detail::update_limit<S>());
    }
};

using Tiny = Mlp<Dense<Identity, double>>;
using Small = Mlp<Dense<descent::Tanh, float>, Dense<Identity, float>>;

static_assert(descent::Optimizer<descent::Sgd<>, Small>);
static_assert(descent::Optimizer<descent::Momentum<descent::L2>, Small>);
static_assert(descent::Optimizer<descent::Adam<>, Small>);
static_assert(descent::Optimizer<SignDescent<>, Small>);
static_assert(descent::AdjustableLearningRate<descent::Sgd<>>);
static_assert(descent::AdjustableLearningRate<descent::Momentum<>>);
static_assert(descent::AdjustableLearningRate<descent::Adam<>>);
static_assert(descent::AdjustableLearningRate<SignDescent<>>);

}  // namespace

TEST_CASE("An optimizer of one's own needs only its update rule, stated once", "[first_order]") {
    // Softmax regression at θ = 0 on x = (1, 2), y = 0: g = (-0.5, 0.5, -1, 1, -0.5, 0.5)
    // (W column-major, then b), so θ = -0.1 sign(g) = (0.1, -0.1, 0.1, -0.1, 0.1, -0.1).
    Tiny net({2, 2});
    net.parameters().setZero();
    Eigen::MatrixXd x(2, 1);
    x << 1, 2;
    const std::vector<int> y{0};
    SignDescent sign(0.1);
    sign.step(net, x, y);
    Eigen::VectorXd expected(6);
    expected << 0.1, -0.1, 0.1, -0.1, 0.1, -0.1;
    CHECK(net.parameters().isApprox(expected, 1e-15));

    SECTION("and it trains under fit like any other") {
        descent::FitOptions options;
        options.epochs = 3;
        const auto reports = descent::fit(net, sign, x, y, options);
        CHECK(reports.size() == 3);
        CHECK(reports.back().learning_rate == 0.1);
    }
    SECTION("with λ∇Ω added to g by the base") {
        // W = 0 and b are not regularised: the same step whatever λ.
        Tiny other({2, 2});
        other.parameters().setZero();
        SignDescent<descent::L2> decayed(0.1, 10.0);
        decayed.step(other, x, y);
        CHECK(other.parameters().isApprox(expected, 1e-15));
        // At θ = 0.1 sign pattern, 2λW = 2·10·W dominates every weight's gradient:
        // W ← W - 0.1 sign(W) = 0 for the weights.
        decayed.step(other, x, y);
        CHECK(other.parameters().head(4).isZero(1e-15));
    }
}

TEST_CASE("A step on bad input changes neither θ nor the optimizer's state", "[first_order]") {
    const auto x = descent::test::pseudo_random<float>(3, 4, 1);
    const auto y = descent::test::labels_cycling(4, 2);
    Small net({3, 4, 2}, 1);
    descent::Momentum momentum(0.1);
    momentum.step(net, x, y);
    const Eigen::VectorXf theta = net.parameters();
    const Eigen::VectorXd velocity = momentum.state();
    const auto wide = descent::test::pseudo_random<float>(5, 4, 1);
    CHECK_THROWS_AS(momentum.step(net, wide, y), descent::shape_error);
    const std::vector<int> bad{0, 1, 2, 0};
    CHECK_THROWS_AS(momentum.step(net, x, bad), descent::label_error);
    CHECK(net.parameters() == theta);
    CHECK(momentum.state() == velocity);
}

TEST_CASE("set_learning_rate validates, and the next step uses the new α", "[first_order]") {
    descent::Sgd sgd(0.1);
    CHECK_THROWS_AS(sgd.set_learning_rate(0), descent::argument_error);
    CHECK_THROWS_WITH(sgd.set_learning_rate(std::nan("")),
                      Contains("Sgd: learning rate must be positive and finite, got nan"));
    CHECK(sgd.learning_rate() == 0.1);
    sgd.set_learning_rate(0.2);
    // g = (-0.5, 0.5, -1, 1, -0.5, 0.5) at θ = 0 (as above): θ = -0.2 g.
    Tiny net({2, 2});
    net.parameters().setZero();
    Eigen::MatrixXd x(2, 1);
    x << 1, 2;
    const std::vector<int> y{0};
    sgd.step(net, x, y);
    Eigen::VectorXd expected(6);
    expected << 0.1, -0.1, 0.2, -0.2, 0.1, -0.1;
    CHECK(net.parameters().isApprox(expected, 1e-15));
}
