// Adam: m = β1 m + (1-β1) g, v = β2 v + (1-β2) g², θ ← θ - α m̂ / (√v̂ + ε) with
// m̂ = m / (1-β1^t), v̂ = v / (1-β2^t); two steps by hand, then the formula over several
// steps with λ∇Ω in g, and a checkpoint of the state.
#include <cmath>
#include <descent/activations/identity.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/adam.hpp>
#include <descent/regularizers/l2.hpp>
#include <descent/optimizers/objective.hpp>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using descent::Adam;
using descent::Dense;
using descent::Identity;
using descent::Mlp;

TEMPLATE_TEST_CASE("Two Adam steps, by hand", "[adam]", float, double) {
    // Softmax regression at θ = 0 on x = (1, 2), y = 0; θ = (W00, W10, W01, W11, b0, b1).
    Mlp<Dense<Identity, TestType>> net({2, 2});
    net.parameters().setZero();
    descent::test::Matrix<TestType> x(2, 1);
    x << 1, 2;
    const std::vector<int> y{0};
    const double tol = 10 * descent::test::tolerance<TestType>();
    // α = 0.1, β1 = 0.9, β2 = 0.999 and ε = 0.5, large enough to matter in the hand arithmetic.
    Adam adam(0.1, 0.0, descent::NoRegularization{}, 0.9, 0.999, 0.5);
    const std::vector<double> s{-1, 1, -2, 2, -1, 1};

    // Step 1. a = 0, f = (1/2, 1/2), ∇a = f - e(0) = (-1/2, 1/2), g1 = ∇a (xᵀ, 1) = 0.5 s.
    // m = 0.1 g1, v = 0.001 g1²; m̂ = m / 0.1 = g1, v̂ = v / 0.001 = g1², so
    // Δ_i = -g1_i / (|g1_i| + 0.5): -(-0.5)/1 = 0.5 where |s_i| = 1, -(-1)/1.5 = 2/3 where |s_i| = 2.
    // θ1 = 0.1 Δ = (0.05, -0.05, 1/15, -1/15, 0.05, -0.05).
    adam.step(net, x, y);
    const std::vector<double> theta1{0.05, -0.05, 1.0 / 15, -1.0 / 15, 0.05, -0.05};
    for (Eigen::Index i = 0; i < 6; ++i) {
        CAPTURE(i);
        CHECK_THAT(static_cast<double>(net.parameters()(i)),
                   WithinAbs(theta1[static_cast<std::size_t>(i)], tol));
        CHECK_THAT(adam.first_moment()(i), WithinAbs(0.1 * 0.5 * s[static_cast<std::size_t>(i)], tol));
        CHECK_THAT(
            adam.second_moment()(i),
            WithinAbs(0.001 * 0.25 * s[static_cast<std::size_t>(i)] * s[static_cast<std::size_t>(i)], tol));
    }
    CHECK(adam.steps() == 1);

    // Step 2. a = W x + b = (0.05 + 2/15 + 0.05, -(...)) = (7/30, -7/30), so
    // f(x)_0 = σ(7/15) and ∇a = (-r, r) with r = 1 - σ(7/15) = σ(-7/15) ≈ 0.385405: g2 = r s.
    const double r = 1 / (1 + std::exp(7.0 / 15));
    // The network's own gradient at θ1 agrees:
    {
        auto probe = net;
        probe.compute_gradient(x, y);
        for (Eigen::Index i = 0; i < 6; ++i)
            CHECK_THAT(static_cast<double>(probe.gradient()(i)),
                       WithinAbs(r * s[static_cast<std::size_t>(i)], tol));
    }
    // m = 0.9·0.05 s + 0.1 r s = (0.045 + 0.1 r) s,           m̂ = m / (1 - 0.9²) = m / 0.19
    // v = 0.999·0.00025 s² + 0.001 r² s²,                      v̂ = v / (1 - 0.999²) = v / 0.001999
    // so where |s_i| = 1: m̂ ≈ 0.439687, √v̂ ≈ 0.446367, Δ ≈ -0.439687 / 0.946367 s_i = -0.464605 s_i,
    // θ2_0 ≈ 0.05 + 0.0464605 = 0.0964605.
    adam.step(net, x, y);
    const double m_hat = (0.045 + 0.1 * r) / 0.19;
    const double v_hat = (0.999 * 0.00025 + 0.001 * r * r) / (1 - 0.999 * 0.999);
    for (Eigen::Index i = 0; i < 6; ++i) {
        CAPTURE(i);
        const double si = s[static_cast<std::size_t>(i)];
        const double expected =
            theta1[static_cast<std::size_t>(i)] - 0.1 * m_hat * si / (std::sqrt(v_hat) * std::abs(si) + 0.5);
        CHECK_THAT(static_cast<double>(net.parameters()(i)), WithinAbs(expected, tol));
    }
    CHECK_THAT(static_cast<double>(net.parameters()(0)), WithinAbs(0.0964605, 1e-6));
    CHECK(adam.steps() == 2);
}

TEMPLATE_TEST_CASE("Adam with L2 follows its formula over several steps", "[adam]", float, double) {
    using Net = Mlp<Dense<descent::Tanh, TestType>, Dense<Identity, TestType>>;
    const auto x = descent::test::pseudo_random<TestType>(3, 5, 1);
    const auto y = descent::test::labels_cycling(5, 2);
    const double alpha = 0.01, lambda = 0.01, beta1 = 0.8, beta2 = 0.99, epsilon = 1e-6;
    Net net({3, 4, 2}, 7);
    Net reference = net;
    Adam<descent::L2> adam(alpha, lambda, descent::L2{}, beta1, beta2, epsilon);
    const Eigen::Index p = net.parameters().size();
    Eigen::VectorXd m = Eigen::VectorXd::Zero(p), v = Eigen::VectorXd::Zero(p);
    for (int t = 1; t <= 4; ++t) {
        const double objective = adam.step(net, x, y);
        // g = ∇θ(l + λΩ), from the network itself.
        const double expected_objective = descent::objective_gradient(reference, x, y, descent::L2{}, lambda);
        CHECK_THAT(objective, WithinAbs(expected_objective, descent::test::tolerance<TestType>()));
        const Eigen::VectorXd g = reference.gradient().template cast<double>();
        m = beta1 * m + (1 - beta1) * g;
        v = beta2 * v + (1 - beta2) * g.cwiseAbs2();
        const Eigen::ArrayXd m_hat = m.array() / (1 - std::pow(beta1, t));
        const Eigen::ArrayXd v_hat = v.array() / (1 - std::pow(beta2, t));
        reference.parameters().array() -=
            (alpha * m_hat / (v_hat.sqrt() + epsilon)).template cast<TestType>();
    }
    CHECK(adam.first_moment().isApprox(m, descent::test::tolerance<TestType>()));
    CHECK(adam.second_moment().isApprox(v, descent::test::tolerance<TestType>()));
    CHECK(net.parameters().isApprox(reference.parameters(),
                                    static_cast<TestType>(descent::test::tolerance<TestType>())));
}

TEST_CASE("Adam's state restored into a fresh Adam continues as if uninterrupted", "[adam]") {
    using Net = Mlp<Dense<descent::Tanh, float>, Dense<Identity, float>>;
    const auto x = descent::test::pseudo_random<float>(3, 6, 2);
    const auto y = descent::test::labels_cycling(6, 2);
    Net a({3, 4, 2}, 1);
    Adam first(0.01);
    for (int t = 0; t < 3; ++t) first.step(a, x, y);
    REQUIRE(first.state().size() == 2 * a.parameters().size());  // [m; v]
    const double* buffer = first.state().data();

    Net b = a;
    Adam second(0.01);
    second.state() = first.state();
    second.set_steps(first.steps());
    for (int t = 0; t < 2; ++t) {
        first.step(a, x, y);
        second.step(b, x, y);
    }
    CHECK(first.state().data() == buffer);  // sized once, then reused
    CHECK(first.steps() == 5);
    CHECK(second.steps() == 5);
    CHECK(a.parameters() == b.parameters());
    CHECK(first.state() == second.state());

    SECTION("reset() forgets m, v and t") {
        first.reset();
        CHECK(first.state().size() == 0);
        CHECK(first.steps() == 0);
    }
}

TEST_CASE("Adam refuses bad hyperparameters, naming them", "[adam]") {
    using descent::NoRegularization;
    CHECK_THROWS_AS(Adam(0.01, 0.0, NoRegularization{}, 1.0), descent::argument_error);
    CHECK_THROWS_WITH(Adam(0.01, 0.0, NoRegularization{}, 1.0),
                      Contains("Adam: beta1 must be in [0, 1), got 1"));
    CHECK_THROWS_WITH(Adam(0.01, 0.0, NoRegularization{}, 0.9, -0.1),
                      Contains("Adam: beta2 must be in [0, 1), got -0.1"));
    CHECK_THROWS_WITH(Adam(0.01, 0.0, NoRegularization{}, 0.9, 0.999, 0.0),
                      Contains("Adam: epsilon must be positive and finite, got 0"));
    CHECK_THROWS_WITH(Adam(-0.01), Contains("Adam: learning rate must be positive and finite, got -0.01"));
    CHECK_THROWS_WITH(Adam(0.01, std::nan("")),
                      Contains("Adam: lambda must be non-negative and finite, got nan"));
    CHECK_NOTHROW(Adam(0.01, 0.0, NoRegularization{}, 0.0, 0.0, 1e-12));
}
