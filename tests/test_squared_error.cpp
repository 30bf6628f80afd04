// The regression head, l = ½ Σ_k (f_k - y_k)², f = a: the loss by hand, the fused gradient f - y
// against the chain and finite differences, logits of ±1e4, and the targets it refuses.
#include <cmath>
#include <descent/error.hpp>
#include <descent/losses/head.hpp>
#include <descent/losses/squared_error.hpp>
#include <limits>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using descent::SquaredError;

static_assert(descent::Head<SquaredError<double>>);

TEMPLATE_TEST_CASE("squared error against values by hand", "[squared_error]", float, double) {
    using T = TestType;
    using H = SquaredError<T>;
    descent::test::Matrix<T> a(2, 2), y(2, 2), f(2, 2), g(2, 2);
    // clang-format off
    a << 1, 2,
         3, 4;
    y << 0, 2,
         3, 0;
    // clang-format on
    // f - y: column 1 (1, 0), l = 1/2; column 2 (0, 4), l = 8; mean 4.25
    CHECK(H::loss(a, y, f) == T(4.25));
    CHECK(f == a);
    // ∇a = (f - y) / B
    H::gradient(a, f, y, g);
    CHECK(g(0, 0) == T(0.5));
    CHECK(g(1, 0) == T(0));
    CHECK(g(0, 1) == T(0));
    CHECK(g(1, 1) == T(2));
    // The chain for one sample: ∇f l = f - y, the identity's Jacobian is I.
    const Eigen::Matrix<T, Eigen::Dynamic, 1> chained = H::gradient_wrt_output(f.col(1), y.col(1));
    CHECK(chained / T(2) == g.col(1));
}

TEST_CASE("the squared error's gradient matches finite differences of the batch loss", "[squared_error]") {
    using H = SquaredError<double>;
    const Eigen::Index K = 3, B = 5;
    Eigen::MatrixXd a = 3 * descent::test::pseudo_random<double>(K, B, 8);
    const Eigen::MatrixXd y = 2 * descent::test::pseudo_random<double>(K, B, 9);
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

TEMPLATE_TEST_CASE("outputs of ±1e4 give a finite loss and the exact gradient", "[squared_error]", float,
                   double) {
    using T = TestType;
    using H = SquaredError<T>;
    descent::test::Matrix<T> a(1, 2), y(1, 2), f(1, 2), g(1, 2);
    a << T(1e4), T(-1e4);
    y << T(-1e4), T(-1e4);
    CHECK(H::loss(a, y, f) == T(1e8));  // (½ (2e4)² + 0) / 2
    H::gradient(a, f, y, g);
    CHECK(g(0, 0) == T(1e4));
    CHECK(g(0, 1) == T(0));
}

TEST_CASE("the squared error has no classes and refuses labels", "[squared_error][errors]") {
    using H = SquaredError<double>;
    const descent::detail::Where where{"Network", "compute_gradient"};
    Eigen::MatrixXd a(2, 2);
    a << 1, 2, 3, 4;
    CHECK(H::classes(2) == 0);
    CHECK_FALSE(H::predicts_classes(1));
    CHECK(H::count_correct(a, a) == -1);
    Eigen::MatrixXd decided(2, 2);
    H::decide(a, decided);
    CHECK(decided == a);
    CHECK_THROWS_AS(H::check_targets(std::vector<int>{0, 1}, 2, 2, where), descent::label_error);
    CHECK_THROWS_WITH(H::check_targets(std::vector<int>{0, 1}, 2, 2, where),
                      Contains("Network::compute_gradient") && Contains("real-valued target matrix") &&
                          Contains("not class labels"));
    Eigen::MatrixXd y = Eigen::MatrixXd::Zero(2, 2);
    y(1, 0) = -std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(H::check_targets(y, 2, 2, where), descent::non_finite_error);
    CHECK_THROWS_WITH(H::check_targets(y, 2, 2, where),
                      Contains("target holds -inf at row 1, column 0 (output 1 of sample 0)"));
    const Eigen::MatrixXd wrong = Eigen::MatrixXd::Zero(1, 2);
    CHECK_THROWS_AS(H::check_targets(wrong, 2, 2, where), descent::shape_error);
}
