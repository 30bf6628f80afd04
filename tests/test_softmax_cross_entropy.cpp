// l(f(x), y) = -log f(x)_y with f(x) = softmax(a): the loss by hand, the fused
// gradient -(e(y) - f(x)) against the unfused chain and finite differences, and
// logits of ±1e4.
#include <cmath>
#include <descent/losses/softmax_cross_entropy.hpp>
#include <utility>
#include <vector>

#include "support.hpp"

using descent::SoftmaxCrossEntropy;
using descent::test::check_close;

namespace {

template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

template <class T>
Vector<T> unit(Eigen::Index size, int y) {
    Vector<T> e = Vector<T>::Zero(size);
    e(y) = T(1);
    return e;
}

}  // namespace

TEMPLATE_TEST_CASE("softmax cross-entropy against values by hand", "[softmax_cross_entropy]", float, double) {
    using T = TestType;
    descent::test::Matrix<T> a(3, 2);
    // Column 1: exp(a) = (1, 3, 4), Σ = 8, f = (1/8, 3/8, 1/2).
    // Column 2: equal logits, f = (1/3, 1/3, 1/3).
    // clang-format off
    a << 0, 7,
         std::log(3.0), 7,
         std::log(4.0), 7;
    // clang-format on
    const std::vector<int> y{1, 0};
    SoftmaxCrossEntropy<T> loss;
    // l = (-log(3/8) - log(1/3)) / 2 = (log 8 - log 3 + log 3) / 2 = (3/2) log 2
    check_close(loss.forward(a, y), 1.5 * std::log(2.0));
    const auto f = loss.probabilities();
    check_close(f(0, 0), 1.0 / 8);
    check_close(f(1, 0), 3.0 / 8);
    check_close(f(2, 0), 0.5);
    for (int c = 0; c < 3; ++c) check_close(f(c, 1), 1.0 / 3);
    // ∇a = (f - e(y)) / B: column 1 (1/8, 3/8 - 1, 1/2) / 2, column 2 (1/3 - 1, 1/3, 1/3) / 2
    const auto g = loss.backward(y);
    check_close(g(0, 0), 1.0 / 16);
    check_close(g(1, 0), -5.0 / 16);
    check_close(g(2, 0), 0.25);
    check_close(g(0, 1), -1.0 / 3);
    check_close(g(1, 1), 1.0 / 6);
    check_close(g(2, 1), 1.0 / 6);
}

TEMPLATE_TEST_CASE("the loss does not change when every logit of a sample shifts", "[softmax_cross_entropy]",
                   float, double) {
    using T = TestType;
    const descent::test::Matrix<T> a = descent::test::pseudo_random<T>(4, 3, 5);
    const descent::test::Matrix<T> shifted = (a.array() + T(1000)).matrix();
    const auto y = descent::test::labels_cycling(3, 4);
    SoftmaxCrossEntropy<T> loss;
    // In float, a + 1000 itself is rounded to a multiple of 2^-14 (about 6e-5): hence 2e-4.
    const double l = static_cast<double>(loss.forward(a, y));
    CHECK_THAT(static_cast<double>(loss.forward(shifted, y)),
               Catch::Matchers::WithinAbs(l, std::is_same_v<T, float> ? 2e-4 : 1e-12));
}

TEMPLATE_TEST_CASE("the fused gradient equals the unfused chain J_softmax(f)ᵀ ∇f l",
                   "[softmax_cross_entropy]", float, double) {
    using T = TestType;
    using Loss = SoftmaxCrossEntropy<T>;
    const Eigen::Index C = 5;
    const descent::test::Matrix<T> a = (T(3) * descent::test::pseudo_random<T>(C, 6, 9)).eval();
    descent::test::Matrix<T> f(C, a.cols());
    Loss::softmax(a, f);
    for (Eigen::Index j = 0; j < a.cols(); ++j) {
        for (int y = 0; y < C; ++y) {
            const Vector<T> fj = f.col(j);
            // ∇a l = (∂f/∂a)ᵀ ∇f l, with ∇f l = -e(y)/f_y; fused: -(e(y) - f)
            const Vector<T> chained =
                Loss::softmax_jacobian(fj).transpose() * Loss::gradient_wrt_output(fj, y);
            const Vector<T> fused = -(unit<T>(C, y) - fj);
            for (Eigen::Index c = 0; c < C; ++c) check_close(chained(c), static_cast<double>(fused(c)));
        }
    }
}

TEMPLATE_TEST_CASE("backward on a batch is (f - e(y)) / B", "[softmax_cross_entropy]", float, double) {
    using T = TestType;
    const Eigen::Index C = 4, B = 7;
    const descent::test::Matrix<T> a = (T(2) * descent::test::pseudo_random<T>(C, B, 21)).eval();
    const std::vector<int> y{3, 0, 1, 1, 2, 0, 3};
    SoftmaxCrossEntropy<T> loss;
    loss.forward(a, y);
    const descent::test::Matrix<T> f = loss.probabilities();
    const descent::test::Matrix<T> g = loss.backward(y);
    REQUIRE(g.rows() == C);
    REQUIRE(g.cols() == B);
    for (Eigen::Index j = 0; j < B; ++j) {
        check_close(f.col(j).sum(), 1.0);
        const Vector<T> expected = (f.col(j) - unit<T>(C, y[static_cast<std::size_t>(j)])) / T(B);
        for (Eigen::Index c = 0; c < C; ++c) check_close(g(c, j), static_cast<double>(expected(c)));
    }
}

TEST_CASE("the fused gradient matches finite differences of the batch loss", "[softmax_cross_entropy]") {
    const Eigen::Index C = 3, B = 4;
    Eigen::MatrixXd a = 2 * descent::test::pseudo_random<double>(C, B, 33);
    const std::vector<int> y{2, 0, 1, 2};
    SoftmaxCrossEntropy<double> loss;
    loss.forward(a, y);
    const Eigen::MatrixXd g = loss.backward(y);
    const double eps = 1e-6;
    double worst = 0;
    for (Eigen::Index i = 0; i < a.size(); ++i) {
        const double saved = a(i);
        a(i) = saved + eps;
        const double plus = loss.forward(a, y);
        a(i) = saved - eps;
        const double minus = loss.forward(a, y);
        a(i) = saved;
        const double numeric = (plus - minus) / (2 * eps);
        worst = std::max(worst, std::abs(numeric - g(i)) / std::max(std::abs(g(i)), 1e-8));
    }
    CHECK(worst < 1e-6);
}

TEST_CASE("the softmax Jacobian matches finite differences of the softmax", "[softmax_cross_entropy]") {
    using Loss = SoftmaxCrossEntropy<double>;
    Eigen::VectorXd a(4);
    a << 0.5, -1, 2, 0.25;
    Eigen::VectorXd f(4), fp(4), fm(4);
    Loss::softmax_column(a, f);
    const Eigen::MatrixXd J = Loss::softmax_jacobian(f);
    const double eps = 1e-6;
    for (Eigen::Index k = 0; k < 4; ++k) {
        Eigen::VectorXd ap = a, am = a;
        ap(k) += eps;
        am(k) -= eps;
        Loss::softmax_column(ap, fp);
        Loss::softmax_column(am, fm);
        const Eigen::VectorXd column = (fp - fm) / (2 * eps);  // ∂f/∂a_k
        for (Eigen::Index c = 0; c < 4; ++c) CHECK_THAT(J(c, k), Catch::Matchers::WithinAbs(column(c), 1e-9));
    }
    // diag(f) - f fᵀ is symmetric and each of its rows sums to 0 (Σ_c f_c = 1).
    CHECK((J - J.transpose()).cwiseAbs().maxCoeff() == 0);
    CHECK(J.rowwise().sum().cwiseAbs().maxCoeff() < 1e-15);
}

TEMPLATE_TEST_CASE("logits of ±1e4 give a finite cross-entropy and the exact gradient", "[softmax_cross_entropy]",
                   float, double) {
    using T = TestType;
    descent::test::Matrix<T> a(3, 1);
    a << T(1e4), T(-1e4), T(0);
    SoftmaxCrossEntropy<T> loss;
    // log Σ exp(a) = 1e4 + log(1 + exp(-2e4) + exp(-1e4)) = 1e4 exactly in floating point,
    // so l = 1e4 - a_y and f = (1, 0, 0).
    const std::vector<std::pair<int, double>> cases{{0, 0.0}, {1, 2e4}, {2, 1e4}};
    for (const auto& [label, expected] : cases) {
        const std::vector<int> y{label};
        const T l = loss.forward(a, y);
        CHECK(std::isfinite(static_cast<double>(l)));
        CHECK(static_cast<double>(l) == expected);
        const auto f = loss.probabilities();
        CHECK(f(0, 0) == T(1));
        CHECK(f(1, 0) == T(0));
        CHECK(f(2, 0) == T(0));
        const auto g = loss.backward(y);
        const Vector<T> expected_gradient = Vector<T>::Unit(3, 0) - unit<T>(3, label);  // f - e(y), B = 1
        for (Eigen::Index c = 0; c < 3; ++c) CHECK(g(c, 0) == expected_gradient(c));
    }
    // The same in a batch of two: each column divided by B = 2, still exact.
    descent::test::Matrix<T> batch(3, 2);
    // clang-format off
    batch << T(1e4), T(-1e4),
             T(-1e4), T(1e4),
             T(0), T(0);
    // clang-format on
    const std::vector<int> y{1, 1};
    CHECK(static_cast<double>(loss.forward(batch, y)) == 1e4);  // (2e4 + 0) / 2
    const auto g = loss.backward(y);
    CHECK(g(0, 0) == T(0.5));
    CHECK(g(1, 0) == T(-0.5));
    CHECK(g(2, 0) == T(0));
    CHECK(g(0, 1) == T(0));
    CHECK(g(1, 1) == T(0));
    CHECK(g(2, 1) == T(0));
}
