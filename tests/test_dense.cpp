// Dense: a(k) = W(k) h(k-1) + b(k), h(k) = g(a(k)), checked by hand and by finite differences.
#include <algorithm>
#include <cmath>
#include <descent/activations/relu.hpp>
#include <descent/activations/sigmoid.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/error.hpp>
#include <descent/layers/dense.hpp>

#include "support.hpp"

using descent::Dense;

TEMPLATE_TEST_CASE("Dense forward matches a hand computation", "[dense]", float, double) {
    Dense<descent::Relu, TestType> layer(2, 2);
    Eigen::Matrix<TestType, Eigen::Dynamic, 1> theta(6), grad(6);
    layer.bind(theta.data(), grad.data());
    layer.W() << 1, -2, 0.5, 3;  // W = [1 -2; 0.5 3]
    layer.b() << 0.25, -1;
    descent::test::Matrix<TestType> h0(2, 2);
    // clang-format off
    h0 << 1, 2,
          1, -1;
    // clang-format on
    // a = W h0 + b: column 1 = (1-2+0.25, 0.5+3-1) = (-0.75, 2.5); column 2 = (2+2+0.25, 1-3-1) = (4.25, -3)
    const auto h1 = layer.forward(h0);
    CHECK(h1(0, 0) == TestType(0));
    CHECK(h1(1, 0) == TestType(2.5));
    CHECK(h1(0, 1) == TestType(4.25));
    CHECK(h1(1, 1) == TestType(0));
}

TEMPLATE_TEST_CASE("Dense backward matches a hand computation", "[dense]", float, double) {
    using T = TestType;
    Dense<descent::Relu, T> layer(2, 2);
    Eigen::Matrix<T, Eigen::Dynamic, 1> theta(6), grad(6);
    layer.bind(theta.data(), grad.data());
    layer.W() << 1, -2, 0.5, 3;
    layer.b() << 0.25, -1;
    descent::test::Matrix<T> h0(2, 2);
    // clang-format off
    h0 << 1, 2,
          1, -1;
    // clang-format on
    layer.forward(h0);  // a = [-0.75 4.25; 2.5 -3] as above, so g'(a) = [0 1; 1 0]
    descent::test::Matrix<T> grad_h(2, 2);
    // clang-format off
    grad_h << 1, 2,
              3, 4;
    // clang-format on
    // ∇a = ∇h ⊙ g'(a) = [0 2; 3 0]
    // ∇W = ∇a h0ᵀ = [0*1 + 2*2, 0*1 + 2*(-1); 3*1 + 0*2, 3*1 + 0*(-1)] = [4 -2; 3 3]
    // ∇b = Σ_batch ∇a = (2, 3)
    // ∇h0 = Wᵀ ∇a = [1 0.5; -2 3] [0 2; 3 0] = [1.5 2; 9 -4]
    const auto grad_h0 = layer.backward(h0, grad_h, true);
    CHECK(layer.grad_W()(0, 0) == T(4));
    CHECK(layer.grad_W()(0, 1) == T(-2));
    CHECK(layer.grad_W()(1, 0) == T(3));
    CHECK(layer.grad_W()(1, 1) == T(3));
    CHECK(layer.grad_b()(0) == T(2));
    CHECK(layer.grad_b()(1) == T(3));
    REQUIRE(grad_h0.rows() == 2);
    REQUIRE(grad_h0.cols() == 2);
    CHECK(grad_h0(0, 0) == T(1.5));
    CHECK(grad_h0(0, 1) == T(2));
    CHECK(grad_h0(1, 0) == T(9));
    CHECK(grad_h0(1, 1) == T(-4));
    // The gradient buffer holds ∇W(k) column-major, then ∇b(k): the network's layout.
    CHECK(grad(0) == T(4));
    CHECK(grad(1) == T(3));
    CHECK(grad(2) == T(-2));
    CHECK(grad(3) == T(3));
    CHECK(grad(4) == T(2));
    CHECK(grad(5) == T(3));
}

TEST_CASE("Dense views its slice of the buffer: W(k) column-major, then b(k)", "[dense]") {
    Dense<descent::Sigmoid, double> layer(3, 2);
    CHECK(layer.inputs() == 3);
    CHECK(layer.outputs() == 2);
    CHECK(layer.parameter_count() == 3 * 2 + 2);
    Eigen::VectorXd theta(8), grad(8);
    for (Eigen::Index i = 0; i < 8; ++i) theta(i) = static_cast<double>(i);
    layer.bind(theta.data(), grad.data());
    CHECK(layer.W().rows() == 2);
    CHECK(layer.W().cols() == 3);
    CHECK(layer.W()(0, 0) == 0);
    CHECK(layer.W()(1, 0) == 1);
    CHECK(layer.W()(0, 1) == 2);
    CHECK(layer.W()(1, 2) == 5);
    CHECK(layer.b()(0) == 6);
    CHECK(layer.b()(1) == 7);
    layer.W()(1, 1) = -9;
    CHECK(theta(3) == -9);
}

TEST_CASE("Dense rejects non-positive sizes, naming them", "[dense]") {
    using Layer = Dense<descent::Tanh, double>;
    CHECK_THROWS_AS(Layer(0, 3), descent::argument_error);
    CHECK_THROWS_WITH(Layer(0, 3),
                      Catch::Matchers::Contains("0 inputs") && Catch::Matchers::Contains("3 outputs"));
    CHECK_THROWS_AS(Layer(4, -1), descent::argument_error);
    CHECK_THROWS_WITH(Layer(4, -1),
                      Catch::Matchers::Contains("-1 outputs") && Catch::Matchers::Contains("Dense"));
}

TEST_CASE("Dense::initialize zeroes b(k) and draws W(k) within the initializer's bound", "[dense]") {
    Dense<descent::Tanh, double> layer(30, 20);
    Eigen::VectorXd theta = Eigen::VectorXd::Constant(layer.parameter_count(), 5.0),
                    grad(layer.parameter_count());
    layer.bind(theta.data(), grad.data());
    descent::Engine engine(42);
    layer.initialize(engine);
    CHECK((layer.b().array() == 0).all());
    const double bound = std::sqrt(6.0) / std::sqrt(50.0);  // Glorot for tanh: sqrt(6)/sqrt(H_k + H_(k-1))
    CHECK(layer.W().cwiseAbs().maxCoeff() <= bound);
    CHECK(layer.W().cwiseAbs().maxCoeff() > 0.9 * bound);  // 600 draws reach close to the bound
}

TEST_CASE("Dense forward follows the batch size from call to call", "[dense]") {
    Dense<descent::Identity, double> layer(2, 1);
    Eigen::VectorXd theta(3), grad(3);
    layer.bind(theta.data(), grad.data());
    theta << 2, -1, 0.5;  // W = [2 -1], b = 0.5
    Eigen::MatrixXd big(2, 3);
    // clang-format off
    big << 1, 0, 3,
           1, 2, 1;
    // clang-format on
    const auto a3 = layer.forward(big);  // (2-1+0.5, 0-2+0.5, 6-1+0.5)
    REQUIRE(a3.cols() == 3);
    CHECK(a3(0, 0) == 1.5);
    CHECK(a3(0, 1) == -1.5);
    CHECK(a3(0, 2) == 5.5);
    Eigen::MatrixXd one(2, 1);
    one << -1, -1;  // -2 + 1 + 0.5
    const auto a1 = layer.forward(one);
    REQUIRE(a1.cols() == 1);
    CHECK(a1(0, 0) == -0.5);
    CHECK(layer.output()(0, 0) == -0.5);
}

namespace {

// J(θ, h0) = Σ C ⊙ h(k), so that ∇h(k) J = C: backward's ∇W(k), ∇b(k) and ∇h(k-1)
// against central differences of J, in double. Returns the worst relative error.
// ε = 1e-5 rather than 1e-6: some entries of ∇h(k-1) are near 2e-4, where the
// round-off of J (about 1e-15 / 2ε) would otherwise dominate the comparison.
template <class Act>
double dense_gradient_error() {
    using Matrix = Eigen::MatrixXd;
    Dense<Act, double> layer(4, 3);
    Eigen::VectorXd theta = descent::test::pseudo_random<double>(layer.parameter_count(), 1, 1);
    Eigen::VectorXd grad(layer.parameter_count());
    layer.bind(theta.data(), grad.data());
    Matrix h0 = 2 * descent::test::pseudo_random<double>(4, 5, 2);
    const Matrix C = descent::test::pseudo_random<double>(3, 5, 3);
    auto J = [&] { return (C.array() * layer.forward(h0).array()).sum(); };

    layer.forward(h0);
    const Matrix grad_h0 = layer.backward(h0, C, true);
    const Eigen::VectorXd analytic = grad;

    const double eps = 1e-5;
    double worst = 0;
    auto compare = [&](double numeric, double g) {
        worst = std::max(worst, std::abs(numeric - g) / std::max({std::abs(numeric), std::abs(g), 1e-8}));
    };
    for (Eigen::Index i = 0; i < theta.size(); ++i) {
        const double saved = theta(i);
        theta(i) = saved + eps;
        const double plus = J();
        theta(i) = saved - eps;
        const double minus = J();
        theta(i) = saved;
        compare((plus - minus) / (2 * eps), analytic(i));
    }
    for (Eigen::Index i = 0; i < h0.size(); ++i) {
        const double saved = h0(i);
        h0(i) = saved + eps;
        const double plus = J();
        h0(i) = saved - eps;
        const double minus = J();
        h0(i) = saved;
        compare((plus - minus) / (2 * eps), grad_h0(i));
    }
    return worst;
}

}  // namespace

TEST_CASE("Dense backward matches finite differences for every activation", "[dense]") {
    CHECK(dense_gradient_error<descent::Identity>() < 1e-6);
    CHECK(dense_gradient_error<descent::Sigmoid>() < 1e-6);
    CHECK(dense_gradient_error<descent::Tanh>() < 1e-6);
    CHECK(dense_gradient_error<descent::Relu>() < 1e-6);
}

TEST_CASE("Dense backward without propagation still fills its own gradient", "[dense]") {
    Dense<descent::Sigmoid, double> layer(2, 2);
    Eigen::VectorXd theta(6), grad = Eigen::VectorXd::Zero(6);
    layer.bind(theta.data(), grad.data());
    theta << 0, 0, 0, 0, 0, 0;  // a = 0, h = 1/2, g' = 1/4 everywhere
    Eigen::MatrixXd h0(2, 1), grad_h(2, 1);
    h0 << 2, -4;
    grad_h << 4, 8;
    layer.forward(h0);
    layer.backward(h0, grad_h, false);
    // ∇a = (4, 8)/4 = (1, 2); ∇W = ∇a h0ᵀ = [2 -4; 4 -8]; ∇b = (1, 2)
    CHECK(layer.grad_W()(0, 0) == 2);
    CHECK(layer.grad_W()(0, 1) == -4);
    CHECK(layer.grad_W()(1, 0) == 4);
    CHECK(layer.grad_W()(1, 1) == -8);
    CHECK(layer.grad_b()(0) == 1);
    CHECK(layer.grad_b()(1) == 2);
}
