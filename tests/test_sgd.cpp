// Sgd: θ ← θ - α(∇θ l + λ∇θ Ω) by hand with and without L2 and L1, the course's
// per-example algorithm learning XOR, and bad hyperparameters and bad input.
#include <cmath>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/error.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/adam.hpp>
#include <descent/optimizers/objective.hpp>
#include <descent/optimizers/optimizer.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/regularizers/l1.hpp>
#include <descent/regularizers/l2.hpp>
#include <limits>
#include <span>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using descent::Dense;
using descent::Identity;
using descent::Mlp;
using descent::Relu;
using descent::Sgd;
using descent::test::hand_net;
using descent::test::hand_x;
using descent::test::hand_y;
using descent::test::HandNet;
using descent::test::sigma;

namespace {

static_assert(descent::Optimizer<Sgd<>, HandNet<float>>);
static_assert(descent::Optimizer<Sgd<descent::L2>, HandNet<double>>);

// θ of hand_net() (support.hpp), ∇θ l on hand_x() worked out in test_mlp.cpp (s1 = σ(1),
// s2 = σ(-2)), and sign(θ), in the buffer's order:
// W(1) column-major, b(1), W(2) column-major, b(2).
struct HandValues {
    std::vector<double> theta, grad, sign;
    std::vector<bool> is_weight;
};
HandValues hand_values() {
    const double s1 = sigma(1), s2 = sigma(-2);
    HandValues v;
    v.theta = {0.5, 1, -1, 0.25, 0.5, -0.5, 1, 2, -1, 0.5, 0.25, -0.25};
    // clang-format off
    v.grad = {0, 0.75 * s1, s2, 1.5 * s1,               // ∇W(1) = [0 s2; 0.75 s1 1.5 s1]
              -s2 / 2, 0.75 * s1,                        // ∇b(1)
              1.25 * s2, -1.25 * s2, -s1 / 2, s1 / 2,    // ∇W(2) = [1.25 s2 -s1/2; -1.25 s2 s1/2]
              (s2 - s1) / 2, (s1 - s2) / 2};             // ∇b(2)
    // clang-format on
    v.sign = {1, 1, -1, 1, 0, 0, 1, 1, -1, 1, 0, 0};  // biases: 0, they are not regularised
    v.is_weight = {true, true, true, true, false, false, true, true, true, true, false, false};
    return v;
}

// l = (log(1 + e) + log(1 + e^-2)) / 2, see test_mlp.cpp.
const double small_loss = (std::log(1 + std::exp(1.0)) + std::log(1 + std::exp(-2.0))) / 2;

template <class T>
void check_theta(const HandNet<T>& net, const std::vector<double>& expected) {
    REQUIRE(net.parameters().size() == static_cast<Eigen::Index>(expected.size()));
    for (std::size_t i = 0; i < expected.size(); ++i)
        CHECK_THAT(static_cast<double>(net.parameters()(static_cast<Eigen::Index>(i))),
                   Catch::Matchers::WithinAbs(expected[i],
                                              descent::test::tolerance<T>() * (1 + std::abs(expected[i]))));
}

}  // namespace

TEMPLATE_TEST_CASE("one Sgd step matches the hand computation", "[sgd]", float, double) {
    using T = TestType;
    auto net = hand_net<T>();
    const auto v = hand_values();
    const double alpha = 0.5, lambda = 0.1;
    std::vector<double> expected(v.theta.size());

    SECTION("without regularisation: θ' = θ - α ∇l") {
        Sgd sgd(alpha);
        CHECK_THAT(sgd.step(net, hand_x<T>(), hand_y), Catch::Matchers::WithinRel(small_loss, 1e-6));
        for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = v.theta[i] - alpha * v.grad[i];
        // e.g. W(2)(0, 0): 1 - 0.5 * 1.25 σ(-2) = 1 - 0.0745 = 0.9255
        CHECK_THAT(expected[6], Catch::Matchers::WithinAbs(0.92549817, 1e-8));
        check_theta(net, expected);
    }
    SECTION("L2: θ' = θ - α (∇l + 2λW) on weights, θ - α ∇l on biases") {
        Sgd sgd(alpha, lambda, descent::L2{});
        // l + λΩ, Ω = Σ W² = (0.25 + 1 + 1 + 0.0625) + (1 + 4 + 1 + 0.25) = 8.5625
        CHECK_THAT(sgd.step(net, hand_x<T>(), hand_y),
                   Catch::Matchers::WithinRel(small_loss + 0.85625, 1e-6));
        for (std::size_t i = 0; i < expected.size(); ++i)
            expected[i] = v.theta[i] - alpha * (v.grad[i] + (v.is_weight[i] ? 2 * lambda * v.theta[i] : 0.0));
        // e.g. W(1)(0, 0): 0.5 - 0.5 (0 + 0.2 * 0.5) = 0.45 (∇l is 0 there: the unit is off for x_1,
        // and x_2's first feature is 0), and b(1)(0) = 0.5 - 0.5 (-σ(-2)/2) = 0.5 + σ(-2)/4, no decay
        CHECK(expected[0] == 0.45);
        check_theta(net, expected);
        CHECK_THAT(static_cast<double>(net.parameters()(4)),
                   Catch::Matchers::WithinAbs(0.5 + sigma(-2) / 4, descent::test::tolerance<T>()));
    }
    SECTION("L1: θ' = θ - α (∇l + λ sign W) on weights, θ - α ∇l on biases") {
        Sgd sgd(alpha, lambda, descent::L1{});
        // l + λΩ, Ω = Σ |W| = (0.5 + 1 + 1 + 0.25) + (1 + 2 + 1 + 0.5) = 7.25
        CHECK_THAT(sgd.step(net, hand_x<T>(), hand_y), Catch::Matchers::WithinRel(small_loss + 0.725, 1e-6));
        for (std::size_t i = 0; i < expected.size(); ++i)
            expected[i] = v.theta[i] - alpha * (v.grad[i] + lambda * v.sign[i]);
        // e.g. W(1)(0, 0): 0.5 - 0.5 (0 + 0.1) = 0.45; W(1)(0, 1): -1 - 0.5 (σ(-2) - 0.1) = -0.95 - σ(-2)/2
        CHECK_THAT(expected[2], Catch::Matchers::WithinAbs(-0.95 - sigma(-2) / 2, 1e-15));
        check_theta(net, expected);
    }
}

TEST_CASE("Sgd keeps its hyperparameters", "[sgd]") {
    const Sgd<descent::L2> sgd(0.25, 1e-4);
    CHECK(sgd.learning_rate() == 0.25);
    CHECK(sgd.lambda() == 1e-4);
    const Sgd plain(0.5);
    CHECK(plain.lambda() == 0.0);
}

TEST_CASE("a bad learning rate or lambda is an argument_error naming the value", "[sgd][errors]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(Sgd(0.0), descent::argument_error);
    CHECK_THROWS_WITH(Sgd(0.0), Contains("Sgd") && Contains("learning rate") && Contains("got 0"));
    CHECK_THROWS_AS(Sgd(-0.1), descent::argument_error);
    CHECK_THROWS_WITH(Sgd(-0.1), Contains("learning rate") && Contains("-0.1"));
    CHECK_THROWS_AS(Sgd(nan), descent::argument_error);
    CHECK_THROWS_WITH(Sgd(nan), Contains("learning rate") && Contains("nan"));
    CHECK_THROWS_AS(Sgd(inf), descent::argument_error);
    CHECK_THROWS_WITH(Sgd(inf), Contains("learning rate") && Contains("inf"));
    CHECK_THROWS_AS(Sgd<descent::L2>(0.1, -0.5), descent::argument_error);
    CHECK_THROWS_WITH(Sgd<descent::L2>(0.1, -0.5), Contains("Sgd") && Contains("lambda") && Contains("-0.5"));
    CHECK_THROWS_AS(Sgd<descent::L1>(0.1, nan), descent::argument_error);
    CHECK_THROWS_WITH(Sgd<descent::L1>(0.1, nan), Contains("lambda") && Contains("nan"));
    CHECK_NOTHROW(Sgd<descent::L2>(0.1, 0.0));
}

TEST_CASE("Sgd::step on bad input throws the typed error and leaves θ unchanged", "[sgd][errors]") {
    using Net = Mlp<Dense<descent::Tanh, double>, Dense<Identity, double>>;
    Net net({3, 4, 3}, 2);
    Sgd<descent::L2> sgd(0.1, 0.01);
    const Eigen::VectorXd theta = net.parameters();
    Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 4, 1);
    const std::vector<int> y{0, 1, 2, 0};

    SECTION("a label outside [0, C)") {
        const std::vector<int> bad{0, 1, 7, 0};
        CHECK_THROWS_AS(sgd.step(net, x, bad), descent::label_error);
        CHECK_THROWS_WITH(sgd.step(net, x, bad), Contains("label 7 of sample 2 is outside [0, 3)"));
    }
    SECTION("a wrong input width") {
        const Eigen::MatrixXd wide = descent::test::pseudo_random<double>(5, 4, 1);
        CHECK_THROWS_AS(sgd.step(net, wide, y), descent::shape_error);
        CHECK_THROWS_WITH(sgd.step(net, wide, y), Contains("5 rows") && Contains("takes 3"));
    }
    SECTION("an empty batch") {
        const Eigen::MatrixXd empty(3, 0);
        CHECK_THROWS_AS(sgd.step(net, empty, std::span<const int>()), descent::argument_error);
        CHECK_THROWS_WITH(sgd.step(net, empty, std::span<const int>()), Contains("empty batch"));
    }
    SECTION("a NaN in the input") {
        x(2, 1) = std::numeric_limits<double>::quiet_NaN();
        CHECK_THROWS_AS(sgd.step(net, x, y), descent::non_finite_error);
        CHECK_THROWS_WITH(sgd.step(net, x, y), Contains("nan") && Contains("row 2, column 1"));
    }
    SECTION("a label count mismatch") {
        const std::vector<int> short_y{0, 1};
        CHECK_THROWS_AS(sgd.step(net, x, short_y), descent::shape_error);
        CHECK_THROWS_WITH(sgd.step(net, x, short_y), Contains("2 labels for 4 samples"));
    }
    CHECK(net.parameters() == theta);
    // And the optimizer still works afterwards.
    const Eigen::MatrixXd clean = descent::test::pseudo_random<double>(3, 4, 1);
    CHECK_NOTHROW(sgd.step(net, clean, y));
    CHECK(net.parameters() != theta);
}

// The course's algorithm as written: for each (x, y), Δ = -∇θ l - λ∇θ Ω, θ ← θ + αΔ.
TEMPLATE_TEST_CASE("per-example Sgd learns XOR with a 2-4-2 network", "[sgd]", float, double) {
    using T = TestType;
    descent::test::Matrix<T> x(2, 4);
    // clang-format off
    x << 0, 0, 1, 1,
         0, 1, 0, 1;
    // clang-format on
    const std::vector<int> y{0, 1, 1, 0};
    Mlp<Dense<descent::Tanh, T>, Dense<Identity, T>> net({2, 4, 2}, 7);
    const double before = static_cast<double>(net.loss(x, y));
    Sgd sgd(0.1);
    for (int epoch = 0; epoch < 1000; ++epoch)
        for (Eigen::Index t = 0; t < 4; ++t)
            sgd.step(net, x.col(t), std::span<const int>(&y[static_cast<std::size_t>(t)], 1));
    CHECK(net.accuracy(x, y) == 1.0);
    CHECK(net.predict(x) == y);
    const double after = static_cast<double>(net.loss(x, y));
    CHECK(after < 0.05);
    CHECK(after < before);
}

// Without regularization Sgd takes Mlp::descend, the step fused into backpropagation;
// with λ > 0 it stores ∇θ(l + λΩ) first. Both are θ - α∇θ(l + λΩ).
TEST_CASE("Sgd::step is the one guarded step: θ - α∇θ(l + λΩ), with g left in gradient()", "[sgd]") {
    using Net = Mlp<Dense<Relu, double>, Dense<Identity, double>>;
    const auto x = descent::test::pseudo_random<double>(4, 6, 3);
    const auto y = descent::test::labels_cycling(6, 3);
    Net stepped({4, 8, 3}, 2);
    Net stored = stepped;
    Sgd<descent::L2> decay(0.2, 0.01);
    const double l = decay.step(stepped, x, y);
    const double expected_l = descent::objective_gradient(stored, x, y, descent::L2{}, 0.01);
    CHECK_THAT(l, Catch::Matchers::WithinRel(expected_l, 1e-12));
    CHECK(stepped.gradient() == stored.gradient());  // g, for a divergence to be examined
    const Eigen::VectorXd expected = stored.parameters() - 0.2 * stored.gradient();
    CHECK((stepped.parameters() - expected).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE(
    "Sgd without λ takes descend's fused step, guarded by bounds, and the exact step when they fall short",
    "[sgd][divergence]") {
    using Net = Mlp<Dense<Relu, float>, Dense<Identity, float>>;
    const auto x = descent::test::pseudo_random<float>(4, 6, 3);
    const auto y = descent::test::labels_cycling(6, 3);
    SECTION("a step the bounds prove safe is descend's, bit for bit, with gradient() left alone") {
        Net stepped({4, 8, 3}, 2);
        Net fused = stepped;
        stepped.gradient().setConstant(7);
        Sgd sgd(0.2);
        const double l = sgd.step(stepped, x, y);
        const float l_fused = fused.descend(x, y, 0.2f);
        CHECK(l == static_cast<double>(l_fused));
        CHECK(stepped.parameters() == fused.parameters());
        CHECK((stepped.gradient().array() == 7).all());
        CHECK(sgd.steps() == 1);
    }
    SECTION("near the limit the bounds cannot prove it: the exact step, which stores g and checks θ - αg") {
        Net net({4, 8, 3}, 2);
        // A weight of 1.6e38 on an input that is 0 in every sample: a(1) stays finite, and its
        // gradient is 0, but M + u passes FLT_MAX / 2 once α u is 1e37.
        Eigen::MatrixXf zeroed = x;
        zeroed.row(0).setZero();
        net.parameters()(0) = 1.6e38f;
        Net exact = net;
        Sgd sgd(1e37);
        descent::Sgd<descent::L2> reference(1e37, 0.0);  // λ = 0 but not NoRegularization: never fused
        const double l = sgd.step(net, zeroed, y);
        const double l_exact = reference.step(exact, zeroed, y);
        CHECK(l == l_exact);
        CHECK(net.parameters() == exact.parameters());
        CHECK(net.gradient() == exact.gradient());  // the exact step stored g
    }
    SECTION("a θ written by hand is measured again: a NaN put in through parameters() is refused") {
        Net net({4, 8, 3}, 2);
        Sgd sgd(0.1);
        sgd.step(net, x, y);  // the bounds are known now
        net.parameters()(3) = std::numeric_limits<float>::quiet_NaN();
        const Eigen::VectorXf before = net.parameters();
        CHECK_THROWS_AS(sgd.step(net, x, y), descent::divergence_error);
        CHECK(net.parameters().cwiseEqual(before).count() == before.size() - 1);  // NaN != NaN
        CHECK(std::isnan(net.parameters()(3)));
        CHECK(sgd.steps() == 1);
    }
}

TEST_CASE("λ without a regularizer is refused, saying how to choose one", "[sgd][errors]") {
    CHECK_THROWS_WITH(Sgd(0.05, 0.5),
                      "Sgd: λ = 0.5 was given without a regularizer, so it would change nothing; choose Ω: "
                      "Sgd<L2>(α, λ) for weight decay (Ω = Σ W²), Sgd<L1>(α, λ) for Ω = Σ |W|, or λ = 0");
    CHECK_THROWS_AS(descent::Adam<>(0.01, 1e-3), descent::argument_error);
    CHECK_NOTHROW(Sgd<descent::L2>(0.05, 0.5));
    CHECK_NOTHROW(Sgd(0.05, 0.0));
}
