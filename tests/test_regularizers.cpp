// Ω and λ∇Ω by hand, ∇Ω against finite differences, and the penalty of a network
// taken over its weights W(k) only, never its biases b(k).
#include <cmath>
#include <descent/activations/identity.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/regularizers/l1.hpp>
#include <descent/regularizers/l2.hpp>
#include <descent/regularizers/no_regularization.hpp>
#include <descent/regularizers/regularizer.hpp>
#include <descent/optimizers/objective.hpp>
#include <string>
#include <vector>

#include "support.hpp"

static_assert(descent::Regularizer<descent::NoRegularization>);
static_assert(descent::Regularizer<descent::L2>);
static_assert(descent::Regularizer<descent::L1>);

namespace {
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
}

TEST_CASE("regularizer names", "[regularizers]") {
    CHECK(std::string(descent::NoRegularization::name) == "none");
    CHECK(std::string(descent::L2::name) == "l2");
    CHECK(std::string(descent::L1::name) == "l1");
}

TEMPLATE_TEST_CASE("Ω and λ∇Ω against values by hand", "[regularizers]", float, double) {
    using T = TestType;
    descent::test::Matrix<T> w(2, 2);
    // clang-format off
    w << 1, -2,
         0, 0.5;
    // clang-format on
    const double lambda = 0.25;
    descent::test::Matrix<T> g = descent::test::Matrix<T>::Constant(2, 2, T(1));

    SECTION("none") {
        CHECK(descent::NoRegularization{}.value(w) == 0.0);
        descent::NoRegularization{}.add_gradient(w, lambda, g);
        CHECK((g.array() == T(1)).all());
    }
    SECTION("L2") {
        // Ω = 1 + 4 + 0 + 1/4 = 21/4
        CHECK(descent::L2{}.value(w) == 5.25);
        // g + λ 2W = 1 + 0.5 W = [1.5 0; 1 1.25]
        descent::L2{}.add_gradient(w, lambda, g);
        CHECK(g(0, 0) == T(1.5));
        CHECK(g(0, 1) == T(0));
        CHECK(g(1, 0) == T(1));
        CHECK(g(1, 1) == T(1.25));
    }
    SECTION("L1") {
        // Ω = 1 + 2 + 0 + 1/2 = 7/2
        CHECK(descent::L1{}.value(w) == 3.5);
        // g + λ sign(W) = [1.25 0.75; 1 1.25]: the subgradient 0 at W = 0
        descent::L1{}.add_gradient(w, lambda, g);
        CHECK(g(0, 0) == T(1.25));
        CHECK(g(0, 1) == T(0.75));
        CHECK(g(1, 0) == T(1));
        CHECK(g(1, 1) == T(1.25));
    }
}

namespace {

// ∇Ω against (Ω(w + ε e_i) - Ω(w - ε e_i)) / 2ε, for w away from L1's kink at 0.
template <class Omega>
double worst_gradient_error(const Omega& omega) {
    Eigen::VectorXd w = descent::test::pseudo_random<double>(12, 1, 4);
    for (Eigen::Index i = 0; i < w.size(); ++i)
        if (std::abs(w(i)) < 0.01) w(i) = 0.5;
    Eigen::VectorXd g = Eigen::VectorXd::Zero(w.size());
    omega.add_gradient(w, 1.0, g);
    const double eps = 1e-6;
    double worst = 0;
    for (Eigen::Index i = 0; i < w.size(); ++i) {
        Eigen::VectorXd plus = w, minus = w;
        plus(i) += eps;
        minus(i) -= eps;
        const double numeric = (omega.value(plus) - omega.value(minus)) / (2 * eps);
        worst = std::max(worst, std::abs(numeric - g(i)) / std::max(std::abs(g(i)), 1e-8));
    }
    return worst;
}

}  // namespace

TEST_CASE("∇Ω matches finite differences of Ω", "[regularizers]") {
    CHECK(worst_gradient_error(descent::L2{}) < 1e-7);
    CHECK(worst_gradient_error(descent::L1{}) < 1e-7);
}

namespace {

using Net = descent::test::SmallNet<double>;

// A 2-2-2 network with W(1) = 1, b(1) = 100, W(2) = -1/2, b(2) = -100 everywhere:
// biases far larger than the weights, so that a penalty that counted them would show.
Net network_with_large_biases() {
    Net net({2, 2, 2}, 1);
    net.layer<0>().W().setConstant(1.0);
    net.layer<0>().b().setConstant(100.0);
    net.layer<1>().W().setConstant(-0.5);
    net.layer<1>().b().setConstant(-100.0);
    return net;
}

}  // namespace

TEST_CASE("the network's penalty sums Ω over the weights only", "[regularizers]") {
    const Net net = network_with_large_biases();
    const auto& blocks = net.parameter_blocks();
    REQUIRE(blocks.size() == 4);
    CHECK(blocks[0].is_weight);
    CHECK_FALSE(blocks[1].is_weight);
    CHECK(blocks[2].is_weight);
    CHECK_FALSE(blocks[3].is_weight);
    // λ Σ_k Ω(W(k)), λ = 0.1: L2 = 0.1 (4 * 1 + 4 * 1/4) = 0.5, L1 = 0.1 (4 * 1 + 4 * 1/2) = 0.6
    CHECK_THAT(descent::penalty(net, descent::L2{}, 0.1), Catch::Matchers::WithinRel(0.5, 1e-15));
    CHECK_THAT(descent::penalty(net, descent::L1{}, 0.1), Catch::Matchers::WithinRel(0.6, 1e-15));
    CHECK(descent::penalty(net, descent::NoRegularization{}, 0.1) == 0.0);
    CHECK(descent::penalty(net, descent::L2{}, 0.0) == 0.0);
}

TEST_CASE("the penalty's gradient reaches the weights and leaves the bias gradients unchanged",
          "[regularizers]") {
    Net net = network_with_large_biases();
    const auto& blocks = net.parameter_blocks();
    auto reset = [&] { net.gradient().setConstant(7.0); };

    SECTION("L2") {
        reset();
        descent::add_penalty_gradient(net, descent::L2{}, 0.1);
        // 7 + 2 λ W: 7.2 in W(1), 6.9 in W(2); biases still 7
        for (Eigen::Index i = 0; i < 4; ++i) CHECK(net.gradient()(blocks[0].offset + i) == 7 + 0.2 * 1.0);
        for (Eigen::Index i = 0; i < 4; ++i) CHECK(net.gradient()(blocks[2].offset + i) == 7 + 0.2 * -0.5);
        for (Eigen::Index i = 0; i < 2; ++i) CHECK(net.gradient()(blocks[1].offset + i) == 7.0);
        for (Eigen::Index i = 0; i < 2; ++i) CHECK(net.gradient()(blocks[3].offset + i) == 7.0);
    }
    SECTION("L1") {
        reset();
        descent::add_penalty_gradient(net, descent::L1{}, 0.1);
        // 7 + λ sign(W): 7.1 in W(1), 6.9 in W(2); biases still 7
        for (Eigen::Index i = 0; i < 4; ++i) CHECK(net.gradient()(blocks[0].offset + i) == 7 + 0.1);
        for (Eigen::Index i = 0; i < 4; ++i) CHECK(net.gradient()(blocks[2].offset + i) == 7 - 0.1);
        for (Eigen::Index i = 0; i < 2; ++i) CHECK(net.gradient()(blocks[1].offset + i) == 7.0);
        for (Eigen::Index i = 0; i < 2; ++i) CHECK(net.gradient()(blocks[3].offset + i) == 7.0);
    }
    SECTION("λ = 0 adds nothing") {
        reset();
        descent::add_penalty_gradient(net, descent::L1{}, 0.0);
        CHECK((net.gradient().array() == 7.0).all());
    }
    SECTION("θ is never changed") {
        const Eigen::VectorXd before = net.parameters();
        descent::add_penalty_gradient(net, descent::L2{}, 0.1);
        CHECK(net.parameters() == before);
    }
}

TEMPLATE_TEST_CASE("objective and objective_gradient are l + λΩ and ∇l + λ∇Ω", "[regularizers]", float,
                   double) {
    using T = TestType;
    using TNet = descent::Mlp<descent::Dense<descent::Tanh, T>, descent::Dense<descent::Identity, T>>;
    TNet net({3, 4, 2}, 5);
    const descent::test::Matrix<T> x = descent::test::pseudo_random<T>(3, 6, 6);
    const auto y = descent::test::labels_cycling(6, 2);
    const double lambda = 0.05;

    const double l = static_cast<double>(net.compute_gradient(x, y));
    const Vector<T> grad_l = net.gradient();
    const double omega = descent::penalty(net, descent::L2{}, lambda);
    CHECK(omega > 0);

    const double j = descent::objective_gradient(net, x, y, descent::L2{}, lambda);
    CHECK_THAT(j, Catch::Matchers::WithinRel(l + omega, 1e-12));
    CHECK_THAT(descent::objective(net, x, y, descent::L2{}, lambda),
               Catch::Matchers::WithinRel(l + omega, 1e-12));
    for (const auto& block : net.parameter_blocks())
        for (Eigen::Index i = 0; i < block.size(); ++i) {
            const Eigen::Index k = block.offset + i;
            if (block.is_weight)
                CHECK_THAT(static_cast<double>(net.gradient()(k)),
                           Catch::Matchers::WithinAbs(grad_l(k) + 2 * lambda * net.parameters()(k),
                                                      descent::test::tolerance<T>()));
            else
                CHECK(net.gradient()(k) == grad_l(k));
        }
}
