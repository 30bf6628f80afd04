// Momentum: ∇̄θ(t) = g(t) + β∇̄θ(t-1); classical θ ← θ - α∇̄θ(t), Nesterov θ ← θ - α(g(t) + β∇̄θ(t)),
// checked by hand on a one-layer network, against the formula over several steps, and
// (Nesterov) against the look-ahead form it reformulates.
#include <cmath>
#include <descent/activations/identity.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/momentum.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/regularizers/l2.hpp>
#include <descent/optimizers/objective.hpp>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using descent::Dense;
using descent::Identity;
using descent::Mlp;
using descent::Momentum;
using descent::MomentumKind;

namespace {

// A one-layer network (softmax regression) at θ = 0, on x = (1, 2), y = 0:
//   a = W x + b = 0, f = softmax(a) = (1/2, 1/2), l = log 2,
//   ∇a = f - e(0) = (-1/2, 1/2), ∇W = ∇a xᵀ = [-1/2 -1; 1/2 1], ∇b = (-1/2, 1/2).
// In the buffer's layout (W column-major, then b):
//   θ = (W00, W10, W01, W11, b0, b1),  g = (-0.5, 0.5, -1, 1, -0.5, 0.5).
template <class T>
struct TinyProblem {
    Mlp<Dense<Identity, T>> net{{2, 2}};
    descent::test::Matrix<T> x{2, 1};
    std::vector<int> y{0};
    TinyProblem() {
        net.parameters().setZero();
        x << 1, 2;
    }
};

template <class T, class Expected>
void check_parameters(const Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>& theta,
                      const Expected& expected) {
    REQUIRE(theta.size() == static_cast<Eigen::Index>(expected.size()));
    for (Eigen::Index i = 0; i < theta.size(); ++i) {
        CAPTURE(i);
        CHECK_THAT(static_cast<double>(theta(i)),
                   WithinAbs(expected[static_cast<std::size_t>(i)], 10 * descent::test::tolerance<T>()));
    }
}

}  // namespace

TEMPLATE_TEST_CASE("A classical momentum step, by hand", "[momentum]", float, double) {
    TinyProblem<TestType> p;
    Momentum momentum(0.1, 0.0, descent::NoRegularization{}, 0.9);
    // A velocity restored as from a checkpoint: ∇̄θ(0) = (1, 1, 1, 1, 1, 1).
    momentum.state() = Eigen::VectorXd::Ones(6);
    const double objective = momentum.step(p.net, p.x, p.y);
    CHECK_THAT(objective, WithinAbs(std::log(2.0), descent::test::tolerance<TestType>()));
    // ∇̄θ(1) = g + 0.9·1 = (0.4, 1.4, -0.1, 1.9, 0.4, 1.4)
    // θ = 0 - 0.1 ∇̄θ(1)  = (-0.04, -0.14, 0.01, -0.19, -0.04, -0.14)
    const std::vector<double> velocity{0.4, 1.4, -0.1, 1.9, 0.4, 1.4};
    for (std::size_t i = 0; i < velocity.size(); ++i)
        CHECK_THAT(momentum.velocity()(static_cast<Eigen::Index>(i)),
                   WithinAbs(velocity[i], 10 * descent::test::tolerance<TestType>()));
    check_parameters<TestType>(p.net.parameters(),
                               std::vector<double>{-0.04, -0.14, 0.01, -0.19, -0.04, -0.14});
}

TEMPLATE_TEST_CASE("A Nesterov momentum step, by hand", "[momentum]", float, double) {
    TinyProblem<TestType> p;
    Momentum nesterov(0.1, 0.0, descent::NoRegularization{}, 0.9, MomentumKind::nesterov);
    nesterov.state() = Eigen::VectorXd::Ones(6);
    nesterov.step(p.net, p.x, p.y);
    // ∇̄θ(1) = (0.4, 1.4, -0.1, 1.9, 0.4, 1.4) as above;
    // g + 0.9 ∇̄θ(1) = (-0.5+0.36, 0.5+1.26, -1-0.09, 1+1.71, -0.5+0.36, 0.5+1.26)
    //               = (-0.14, 1.76, -1.09, 2.71, -0.14, 1.76)
    // θ = 0 - 0.1 (g + 0.9 ∇̄θ(1)) = (0.014, -0.176, 0.109, -0.271, 0.014, -0.176)
    check_parameters<TestType>(p.net.parameters(),
                               std::vector<double>{0.014, -0.176, 0.109, -0.271, 0.014, -0.176});
}

TEMPLATE_TEST_CASE("The first momentum step from rest is an Sgd step", "[momentum]", float, double) {
    // ∇̄θ(0) = 0, so ∇̄θ(1) = g: θ = -0.1 g = (0.05, -0.05, 0.1, -0.1, 0.05, -0.05).
    TinyProblem<TestType> p;
    Momentum momentum(0.1);
    CHECK(momentum.state().size() == 0);
    momentum.step(p.net, p.x, p.y);
    CHECK(momentum.state().size() == 6);
    check_parameters<TestType>(p.net.parameters(), std::vector<double>{0.05, -0.05, 0.1, -0.1, 0.05, -0.05});
}

TEMPLATE_TEST_CASE("Momentum with L2 follows its formula over several steps", "[momentum]", float, double) {
    using Net = Mlp<Dense<descent::Tanh, TestType>, Dense<Identity, TestType>>;
    const auto x = descent::test::pseudo_random<TestType>(3, 5, 1);
    const auto y = descent::test::labels_cycling(5, 2);
    const double alpha = 0.05, lambda = 0.01, beta = 0.8;
    auto kind = MomentumKind::classical;
    SECTION("classical") {
        kind = MomentumKind::classical;
    }
    SECTION("Nesterov") {
        kind = MomentumKind::nesterov;
    }
    Net net({3, 4, 2}, 7);
    Net reference = net;
    Momentum<descent::L2> momentum(alpha, lambda, descent::L2{}, beta, kind);
    Eigen::VectorXd velocity = Eigen::VectorXd::Zero(net.parameters().size());
    for (int t = 1; t <= 4; ++t) {
        momentum.step(net, x, y);
        // The formula, with the gradient of l + λΩ from the network itself.
        descent::objective_gradient(reference, x, y, descent::L2{}, lambda);
        const Eigen::VectorXd g = reference.gradient().template cast<double>();
        velocity = g + beta * velocity;
        const Eigen::VectorXd delta = kind == MomentumKind::classical ? Eigen::VectorXd(velocity)
                                                                      : Eigen::VectorXd(g + beta * velocity);
        reference.parameters() -= (alpha * delta).template cast<TestType>();
    }
    CHECK(momentum.velocity().isApprox(velocity, descent::test::tolerance<TestType>()));
    CHECK(net.parameters().isApprox(reference.parameters(),
                                    static_cast<TestType>(descent::test::tolerance<TestType>())));
}

TEST_CASE("Nesterov's reformulation tracks the look-ahead form", "[momentum]") {
    // The look-ahead form takes the gradient at θ - αβ∇̄θ:
    //   ∇̄θ(t) = ∇θ(l)(θ(t-1) - αβ∇̄θ(t-1)) + β∇̄θ(t-1),  θ(t) = θ(t-1) - α∇̄θ(t);
    // the optimizer stores Θ(t) = θ(t) - αβ∇̄θ(t) instead. From ∇̄θ(0) = 0, Θ(0) = θ(0).
    using Net = Mlp<Dense<descent::Tanh, double>, Dense<Identity, double>>;
    const auto x = descent::test::pseudo_random<double>(3, 6, 2);
    const auto y = descent::test::labels_cycling(6, 3);
    const double alpha = 0.2, beta = 0.9;
    Net stored({3, 5, 3}, 3);
    Net probe = stored;
    Momentum nesterov(alpha, 0.0, descent::NoRegularization{}, beta, MomentumKind::nesterov);
    Eigen::VectorXd theta = stored.parameters();
    Eigen::VectorXd velocity = Eigen::VectorXd::Zero(theta.size());
    for (int t = 1; t <= 5; ++t) {
        nesterov.step(stored, x, y);
        probe.parameters() = theta - alpha * beta * velocity;
        probe.compute_gradient(x, y);
        velocity = probe.gradient() + beta * velocity;
        theta -= alpha * velocity;
        const Eigen::VectorXd lookahead = theta - alpha * beta * velocity;
        CAPTURE(t);
        CHECK(stored.parameters().isApprox(lookahead, 1e-12));
    }
}

TEST_CASE("Momentum with beta = 0 is Sgd", "[momentum]") {
    using Net = Mlp<Dense<descent::Tanh, double>, Dense<Identity, double>>;
    const auto x = descent::test::pseudo_random<double>(3, 4, 4);
    const auto y = descent::test::labels_cycling(4, 2);
    Net a({3, 4, 2}, 1), b({3, 4, 2}, 1);
    Momentum<descent::L2> momentum(0.1, 0.01, descent::L2{}, 0.0);
    descent::Sgd<descent::L2> sgd(0.1, 0.01);
    for (int t = 0; t < 3; ++t) {
        CHECK(momentum.step(a, x, y) == sgd.step(b, x, y));
    }
    CHECK(a.parameters().isApprox(b.parameters(), 1e-14));
}

TEST_CASE("Momentum keeps its state in one buffer sized on the first step", "[momentum]") {
    using Net = Mlp<Dense<descent::Tanh, float>, Dense<Identity, float>>;
    const auto x = descent::test::pseudo_random<float>(3, 4, 5);
    const auto y = descent::test::labels_cycling(4, 2);
    Net net({3, 4, 2}, 1);
    Momentum momentum(0.1);
    momentum.step(net, x, y);
    REQUIRE(momentum.state().size() == net.parameters().size());
    const double* buffer = momentum.state().data();
    momentum.step(net, x, y);
    CHECK(momentum.state().data() == buffer);  // reused, not reallocated

    SECTION("a network of another size is refused, leaving θ and the state alone") {
        Net other({3, 5, 2}, 1);
        const Eigen::VectorXf theta = other.parameters();
        const Eigen::VectorXd state = momentum.state();
        CHECK_THROWS_AS(momentum.step(other, x, y), descent::shape_error);
        CHECK_THROWS_WITH(momentum.step(other, x, y), Contains("26 parameters but this one has 32"));
        CHECK(other.parameters() == theta);
        CHECK(momentum.state() == state);
    }
    SECTION("reset() forgets the velocity") {
        momentum.reset();
        CHECK(momentum.state().size() == 0);
        Net other({3, 5, 2}, 1);
        momentum.step(other, x, y);
        CHECK(momentum.state().size() == 32);
    }
}

TEST_CASE("Momentum refuses bad hyperparameters, naming them", "[momentum]") {
    CHECK_THROWS_AS(Momentum(0.1, 0.0, descent::NoRegularization{}, 1.0), descent::argument_error);
    CHECK_THROWS_WITH(Momentum(0.1, 0.0, descent::NoRegularization{}, 1.0),
                      Contains("Momentum: beta must be in [0, 1), got 1"));
    CHECK_THROWS_WITH(Momentum(0.1, 0.0, descent::NoRegularization{}, -0.5), Contains("got -0.5"));
    CHECK_THROWS_WITH(Momentum(0.1, 0.0, descent::NoRegularization{}, std::nan("")), Contains("beta"));
    CHECK_THROWS_WITH(Momentum(0.0), Contains("Momentum: learning rate must be positive and finite, got 0"));
    CHECK_THROWS_WITH(Momentum(0.1, -1e-9),
                      Contains("Momentum: lambda must be non-negative and finite, got -1e-09"));
    Momentum momentum(0.1);
    CHECK_THROWS_AS(momentum.set_learning_rate(-1), descent::argument_error);
    CHECK(momentum.learning_rate() == 0.1);
    momentum.set_learning_rate(0.05);
    CHECK(momentum.learning_rate() == 0.05);
}
