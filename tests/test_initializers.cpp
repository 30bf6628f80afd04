// Glorot and He uniform initialisation: the bounds, the moments of U[-b, b],
// zero biases, bit-identical draws from a seed, and which layers get which.
#include <cmath>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/sigmoid.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/detail/random.hpp>
#include <descent/initializers/default_initializer.hpp>
#include <descent/initializers/glorot_uniform.hpp>
#include <descent/initializers/he_uniform.hpp>
#include <descent/initializers/initializer.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <string>
#include <type_traits>

#include "support.hpp"

static_assert(descent::Initializer<descent::GlorotUniform>);
static_assert(descent::Initializer<descent::HeUniform>);

TEST_CASE("ReLU layers default to He, every other activation to Glorot", "[initializers]") {
    STATIC_REQUIRE(std::is_same_v<descent::default_initializer_t<descent::Relu>, descent::HeUniform>);
    STATIC_REQUIRE(std::is_same_v<descent::default_initializer_t<descent::Sigmoid>, descent::GlorotUniform>);
    STATIC_REQUIRE(std::is_same_v<descent::default_initializer_t<descent::Tanh>, descent::GlorotUniform>);
    STATIC_REQUIRE(std::is_same_v<descent::default_initializer_t<descent::Identity>, descent::GlorotUniform>);
    STATIC_REQUIRE(std::is_same_v<descent::Dense<descent::Relu>::initializer, descent::HeUniform>);
    STATIC_REQUIRE(
        std::is_same_v<descent::Dense<descent::Tanh, double>::initializer, descent::GlorotUniform>);
    // A named initializer wins over the default.
    STATIC_REQUIRE(std::is_same_v<descent::Dense<descent::Relu, double, descent::GlorotUniform>::initializer,
                                  descent::GlorotUniform>);
    CHECK(std::string(descent::GlorotUniform::name) == "glorot_uniform");
    CHECK(std::string(descent::HeUniform::name) == "he_uniform");
}

namespace {

// The largest |W_ij|, to compare with the bound b (converted to T: x <= b implies fl(x) <= fl(b)).
template <class D>
double max_abs(const Eigen::MatrixBase<D>& w) {
    return static_cast<double>(w.cwiseAbs().maxCoeff());
}

}  // namespace

TEMPLATE_TEST_CASE("every layer of an Mlp draws within its bound, with zero biases", "[initializers]", float,
                   double) {
    using T = TestType;
    using Net = descent::Mlp<descent::Dense<descent::Relu, T>, descent::Dense<descent::Tanh, T>,
                             descent::Dense<descent::Identity, T>>;
    const Net net({60, 40, 30, 10}, 2024);
    // W(1), ReLU: He, b = sqrt(6 / H_0) = sqrt(6/60) ≈ 0.316 (Glorot would give sqrt(6/100) ≈ 0.245)
    const double he1 = std::sqrt(6.0 / 60);
    // W(2), tanh: Glorot, b = sqrt(6) / sqrt(H_2 + H_1) = sqrt(6/70) ≈ 0.293
    const double glorot2 = std::sqrt(6.0) / std::sqrt(30.0 + 40.0);
    // W(3), identity: Glorot, b = sqrt(6) / sqrt(10 + 30) ≈ 0.387
    const double glorot3 = std::sqrt(6.0) / std::sqrt(10.0 + 30.0);

    CHECK(max_abs(net.template layer<0>().W()) <= static_cast<double>(static_cast<T>(he1)));
    CHECK(max_abs(net.template layer<1>().W()) <= static_cast<double>(static_cast<T>(glorot2)));
    CHECK(max_abs(net.template layer<2>().W()) <= static_cast<double>(static_cast<T>(glorot3)));
    // With 2400, 1200 and 300 draws the largest comes within 3% of the bound: the bound is
    // the one intended, not a smaller one (W(1)'s would exceed Glorot's 0.245).
    CHECK(max_abs(net.template layer<0>().W()) > 0.97 * he1);
    CHECK(max_abs(net.template layer<1>().W()) > 0.97 * glorot2);
    CHECK(max_abs(net.template layer<2>().W()) > 0.97 * glorot3);
    CHECK(net.template layer<0>().b().isZero(0));
    CHECK(net.template layer<1>().b().isZero(0));
    CHECK(net.template layer<2>().b().isZero(0));
}

namespace {

// Mean and variance of W ~ U[-b, b] over a 400 x 500 matrix: 0 and b²/3.
// The standard errors are b / sqrt(3n) for the mean and sqrt(4/45) b² / sqrt(n) for the
// variance (Var(w²) = b⁴/5 - b⁴/9); the tolerances are five of them.
template <class Init, class T>
void check_moments(double bound) {
    descent::test::Matrix<T> w(400, 500);
    descent::Engine engine(7);
    Init::fill(w, engine);
    const double n = static_cast<double>(w.size());
    const Eigen::MatrixXd wd = w.template cast<double>();
    const double mean = wd.mean();
    const double variance = (wd.array() - mean).square().sum() / (n - 1);
    CHECK(max_abs(w) <= static_cast<double>(static_cast<T>(bound)));
    CHECK(std::abs(mean) < 5 * bound / std::sqrt(3 * n));
    CHECK(std::abs(variance - bound * bound / 3) < 5 * std::sqrt(4.0 / 45) * bound * bound / std::sqrt(n));
}

}  // namespace

TEMPLATE_TEST_CASE("a large matrix has the mean and variance of U[-b, b]", "[initializers]", float, double) {
    SECTION("Glorot: b = sqrt(6) / sqrt(H_k + H_(k-1))") {
        check_moments<descent::GlorotUniform, TestType>(std::sqrt(6.0) / std::sqrt(400.0 + 500.0));
    }
    SECTION("He: b = sqrt(6 / H_(k-1))") {
        check_moments<descent::HeUniform, TestType>(std::sqrt(6.0 / 500.0));
    }
}

TEST_CASE("W is drawn column by column as -b + 2b u, u from the engine", "[initializers]") {
    Eigen::MatrixXd w(3, 2);
    descent::Engine engine(99);
    descent::GlorotUniform::fill(w, engine);
    descent::Engine replay(99);
    const double b = std::sqrt(6.0) / std::sqrt(5.0);
    for (Eigen::Index j = 0; j < 2; ++j)
        for (Eigen::Index i = 0; i < 3; ++i) {
            const double u = static_cast<double>(replay() >> 11) * 0x1.0p-53;
            // Within an ulp or two, not ==: the compiler may fuse -b + (2b)u into an FMA in one place only.
            CHECK_THAT(w(i, j), Catch::Matchers::WithinAbs(-b + 2.0 * b * u, 1e-15));
        }
}

TEMPLATE_TEST_CASE("the same seed gives bit-identical weights, another seed other weights", "[initializers]",
                   float, double) {
    using T = TestType;
    using Net = descent::Mlp<descent::Dense<descent::Relu, T>, descent::Dense<descent::Identity, T>>;
    const Net a({8, 6, 3}, 11);
    const Net b({8, 6, 3}, 11);
    const Net c({8, 6, 3}, 12);
    CHECK(a.parameters() == b.parameters());
    CHECK(a.parameters() != c.parameters());
    // initialize(seed) replays the construction exactly, whatever θ held before.
    Net d({8, 6, 3}, 5);
    d.parameters().setConstant(T(3));
    d.initialize(11);
    CHECK(d.parameters() == a.parameters());
}
