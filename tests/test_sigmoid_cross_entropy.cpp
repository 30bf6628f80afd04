// The sigmoid head, l = -Σ_k y_k log f_k + (1 - y_k) log(1 - f_k), f = sigmoid(a): the loss by
// hand, the fused gradient f - y against the unfused chain and finite differences, logits of
// ±1e4, labels against a 1 x B matrix, predictions and counts, and the targets it refuses.
#include <cmath>
#include <descent/error.hpp>
#include <descent/losses/head.hpp>
#include <descent/losses/sigmoid_cross_entropy.hpp>
#include <limits>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using descent::SigmoidCrossEntropy;
using descent::test::check_close;

namespace {

template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

}  // namespace

static_assert(descent::Head<SigmoidCrossEntropy<float>>);

TEMPLATE_TEST_CASE("sigmoid cross-entropy against values by hand", "[sigmoid_cross_entropy]", float, double) {
    using T = TestType;
    using H = SigmoidCrossEntropy<T>;
    // Column 1: a = (0, ln 3), f = (1/2, 3/4), y = (1, 0): l = -log(1/2) - log(1/4) = 3 log 2.
    // Column 2: a = (-ln 3, ln 3), f = (1/4, 3/4), y = (0, 1): l = 2 log(4/3).
    descent::test::Matrix<T> a(2, 2), y(2, 2), f(2, 2), g(2, 2);
    // clang-format off
    a << 0, -std::log(3.0),
         std::log(3.0), std::log(3.0);
    y << 1, 0,
         0, 1;
    // clang-format on
    check_close(H::loss(a, y, f), (3 * std::log(2.0) + 2 * std::log(4.0 / 3)) / 2);
    check_close(f(0, 0), 0.5);
    check_close(f(1, 0), 0.75);
    check_close(f(0, 1), 0.25);
    check_close(f(1, 1), 0.75);
    // ∇a = (f - y) / B: column 1 (-1/2, 3/4) / 2, column 2 (1/4, -1/4) / 2
    H::gradient(a, f, y, g);
    check_close(g(0, 0), -0.25);
    check_close(g(1, 0), 0.375);
    check_close(g(0, 1), 0.125);
    check_close(g(1, 1), -0.125);
}

TEMPLATE_TEST_CASE("the fused gradient f - y equals the unfused chain J_sigmoid(f)ᵀ ∇f l",
                   "[sigmoid_cross_entropy]", float, double) {
    using T = TestType;
    using H = SigmoidCrossEntropy<T>;
    const Eigen::Index K = 4;
    const descent::test::Matrix<T> a = (T(3) * descent::test::pseudo_random<T>(K, 5, 3)).eval();
    const descent::test::Matrix<T> y =
        (descent::test::pseudo_random<T>(K, 5, 4).array() > T(0)).template cast<T>().matrix();
    descent::test::Matrix<T> f(K, 5);
    H::output(a, f);
    for (Eigen::Index j = 0; j < a.cols(); ++j) {
        const Vector<T> fj = f.col(j), yj = y.col(j);
        const Vector<T> chained = H::sigmoid_jacobian(fj).transpose() * H::gradient_wrt_output(fj, yj);
        const Vector<T> fused = fj - yj;
        for (Eigen::Index k = 0; k < K; ++k) check_close(chained(k), static_cast<double>(fused(k)));
    }
}

TEST_CASE("the sigmoid head's gradient matches finite differences of the batch loss",
          "[sigmoid_cross_entropy]") {
    using H = SigmoidCrossEntropy<double>;
    const Eigen::Index K = 3, B = 4;
    Eigen::MatrixXd a = 2 * descent::test::pseudo_random<double>(K, B, 7);
    Eigen::MatrixXd y(K, B);
    // clang-format off
    y << 1, 0, 1, 0.25,
         0, 0, 1, 1,
         1, 1, 0, 0.5;  // soft targets in [0, 1] are taken too
    // clang-format on
    Eigen::MatrixXd f(K, B), g(K, B);
    H::loss(a, y, f);
    H::gradient(a, f, y, g);
    const double h = 1e-6;
    for (Eigen::Index j = 0; j < B; ++j)
        for (Eigen::Index k = 0; k < K; ++k) {
            const double saved = a(k, j);
            a(k, j) = saved + h;
            const double plus = H::loss(a, y, f);
            a(k, j) = saved - h;
            const double minus = H::loss(a, y, f);
            a(k, j) = saved;
            CHECK_THAT(g(k, j), Catch::Matchers::WithinAbs((plus - minus) / (2 * h), 1e-8));
        }
}

TEMPLATE_TEST_CASE("logits of ±1e4 give a finite binary cross-entropy and the exact gradient", "[sigmoid_cross_entropy]",
                   float, double) {
    using T = TestType;
    using H = SigmoidCrossEntropy<T>;
    descent::test::Matrix<T> a(1, 4), f(1, 4), g(1, 4);
    a << T(1e4), T(-1e4), T(1e4), T(-1e4);
    const std::vector<int> y{1, 0, 0, 1};  // right, right, wrong by 1e4, wrong by 1e4
    const T l = H::loss(a, y, f);
    REQUIRE(std::isfinite(static_cast<double>(l)));
    CHECK(l == T(5e3));  // (0 + 0 + 1e4 + 1e4) / 4, exactly: softplus(-1e4) is log1p(0) = 0
    H::gradient(a, f, y, g);
    CHECK(g(0, 0) == T(0));
    CHECK(g(0, 1) == T(0));
    CHECK(g(0, 2) == T(0.25));
    CHECK(g(0, 3) == T(-0.25));
}

TEMPLATE_TEST_CASE("one output with labels is the same as a 1 x B matrix of 0/1", "[sigmoid_cross_entropy]",
                   float, double) {
    using T = TestType;
    using H = SigmoidCrossEntropy<T>;
    const descent::test::Matrix<T> a = (T(4) * descent::test::pseudo_random<T>(1, 6, 5)).eval();
    const std::vector<int> labels{0, 1, 1, 0, 1, 0};
    descent::test::Matrix<T> y(1, 6);
    for (Eigen::Index j = 0; j < 6; ++j) y(0, j) = static_cast<T>(labels[static_cast<std::size_t>(j)]);
    descent::test::Matrix<T> f1(1, 6), f2(1, 6), g1(1, 6), g2(1, 6);
    CHECK(H::loss(a, labels, f1) == H::loss(a, y, f2));
    H::gradient(a, f1, labels, g1);
    H::gradient(a, f2, y, g2);
    CHECK(g1 == g2);
    CHECK(H::count_correct(a, labels) == H::count_correct(a, y));
}

TEST_CASE("the sigmoid head's decisions and counts", "[sigmoid_cross_entropy]") {
    using H = SigmoidCrossEntropy<double>;
    Eigen::MatrixXd a(1, 4);
    a << 2, -1, 0.5, -3;
    CHECK(H::predicts_classes(1));
    CHECK(H::classes(1) == 2);
    CHECK(H::predict_class(a, 0) == 1);
    CHECK(H::predict_class(a, 1) == 0);
    CHECK(H::count_correct(a, std::vector<int>{1, 0, 0, 0}) == 3);
    // Multi-label: a sample counts when every output is right.
    Eigen::MatrixXd b(2, 3), y(2, 3), decided(2, 3);
    // clang-format off
    b << 1, 1, -1,
         1, -1, -1;
    y << 1, 1, 0,
         1, 1, 0;
    // clang-format on
    CHECK_FALSE(H::predicts_classes(2));
    CHECK(H::classes(2) == 2);
    CHECK(H::count_correct(b, y) == 2);
    H::decide(b, decided);
    CHECK(decided == (b.array() > 0).cast<double>().matrix());
}

TEST_CASE("the sigmoid head refuses targets it cannot take, saying why", "[sigmoid_cross_entropy][errors]") {
    using H = SigmoidCrossEntropy<double>;
    const descent::detail::Where where{"Mlp", "loss"};
    SECTION("labels with several outputs") {
        CHECK_THROWS_AS(H::check_targets(std::vector<int>{0, 1}, 3, 2, where), descent::label_error);
        CHECK_THROWS_WITH(H::check_targets(std::vector<int>{0, 1}, 3, 2, where),
                          Contains("Mlp::loss") && Contains("need one output, this network has 3") &&
                              Contains("3 x B matrix of 0/1 targets") && Contains("softmax_cross_entropy"));
    }
    SECTION("a label other than 0 and 1, and labels numbered from 1") {
        CHECK_THROWS_WITH(H::check_targets(std::vector<int>{0, 2, 1}, 1, 3, where),
                          Contains("label 2 of sample 1 is not 0 or 1") && !Contains("numbered from 1"));
        CHECK_THROWS_WITH(H::check_targets(std::vector<int>{1, 2, 1}, 1, 3, where),
                          Contains("label 2 of sample 1 is not 0 or 1") &&
                              Contains("the labels look numbered from 1 (1 and 2): use 0 and 1"));
    }
    SECTION("a count of labels other than the samples") {
        CHECK_THROWS_AS(H::check_targets(std::vector<int>{0, 1}, 1, 3, where), descent::shape_error);
    }
    SECTION("a matrix entry outside [0, 1], or of the wrong shape") {
        Eigen::MatrixXd y = Eigen::MatrixXd::Zero(2, 3);
        y(0, 1) = 1.5;
        CHECK_THROWS_AS(H::check_targets(y, 2, 3, where), descent::label_error);
        CHECK_THROWS_WITH(H::check_targets(y, 2, 3, where),
                          Contains("target 1.5 at row 0, column 1 is outside [0, 1]"));
        const Eigen::MatrixXd tall = Eigen::MatrixXd::Zero(3, 3), wide = Eigen::MatrixXd::Zero(2, 4);
        CHECK_THROWS_AS(H::check_targets(tall, 2, 3, where), descent::shape_error);
        CHECK_THROWS_WITH(H::check_targets(tall, 2, 3, where),
                          Contains("targets have 3 rows but the network has 2 outputs"));
        CHECK_THROWS_WITH(H::check_targets(wide, 2, 3, where), Contains("4 target columns for 3 samples"));
        y(0, 1) = std::numeric_limits<double>::quiet_NaN();
        CHECK_THROWS_AS(H::check_targets(y, 2, 3, where), descent::non_finite_error);
    }
}
