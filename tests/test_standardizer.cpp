// Standardizer: x_i ← (x_i − μ_i) / σ_i with μ, σ from the training data only;
// a constant feature maps to 0, never NaN.
#include <descent/data/standardizer.hpp>
#include <descent/activations/identity.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>

#include <cmath>

#include "file_support.hpp"
#include "support.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using descent::test::message_of;

TEMPLATE_TEST_CASE("Standardizer fits μ and σ per feature and applies them", "[standardizer]", float,
                   double) {
    descent::test::Matrix<TestType> train(3, 3);
    // clang-format off
    train << 1,  2,  3,   // μ = 2, σ = sqrt(2/3)
             10, 10, 10,  // constant: μ = 10, σ taken as 1
             0,  4,  8;   // μ = 4, σ = sqrt(32/3)
    // clang-format on
    descent::Standardizer<TestType> standardize;
    CHECK_FALSE(standardize.fitted());
    standardize.fit(train);
    REQUIRE(standardize.fitted());
    const double tol = descent::test::tolerance<TestType>();
    CHECK(standardize.mean()(0) == TestType(2));
    CHECK(standardize.mean()(1) == TestType(10));
    CHECK(standardize.mean()(2) == TestType(4));
    CHECK_THAT(standardize.scale()(0), WithinRel(TestType(std::sqrt(2.0 / 3)), TestType(tol)));
    CHECK(standardize.scale()(1) == TestType(1));
    CHECK_THAT(standardize.scale()(2), WithinRel(TestType(std::sqrt(32.0 / 3)), TestType(tol)));

    auto x = train;
    standardize.apply(x);
    CHECK_THAT(double(x(0, 0)), WithinRel(-1 / std::sqrt(2.0 / 3), tol));
    CHECK(x(0, 1) == TestType(0));
    CHECK_THAT(double(x(2, 2)), WithinRel(4 / std::sqrt(32.0 / 3), tol));
    for (Eigen::Index t = 0; t < 3; ++t) CHECK(x(1, t) == TestType(0));
    for (Eigen::Index i : {0, 2}) {
        CHECK_THAT(double(x.row(i).mean()), WithinAbs(0, tol));
        CHECK_THAT(double(x.row(i).squaredNorm() / 3), WithinRel(1.0, 10 * tol));
    }

    // Other data gets the training μ and σ, not its own.
    descent::Dataset<TestType> test{descent::test::Matrix<TestType>(3, 2), {0, 1}};
    // clang-format off
    test.x << 2,  5,
              10, 11,
              4,  4;
    // clang-format on
    standardize.apply(test);
    CHECK(test.x(0, 0) == TestType(0));
    CHECK_THAT(double(test.x(0, 1)), WithinRel(3 / std::sqrt(2.0 / 3), tol));
    CHECK(test.x(1, 0) == TestType(0));
    CHECK(test.x(1, 1) == TestType(1));  // (11 − 10) / 1
    CHECK(test.x(2, 1) == TestType(0));
}

TEMPLATE_TEST_CASE("a constant feature whose mean does not round exactly still maps to 0", "[standardizer]",
                   float, double) {
    // Σ of 1000 copies of 0.1 is not 1000 · 0.1 in floating point, so μ would
    // miss 0.1 by a rounding error and σ would be that error: (x − μ) / σ ≈ ±1.
    descent::test::Matrix<TestType> x = descent::test::Matrix<TestType>::Constant(2, 1000, TestType(0.1));
    x.row(1) = descent::test::pseudo_random<TestType>(1, 1000, 3);
    descent::Standardizer<TestType> standardize;
    standardize.fit(x).apply(x);
    CHECK(x.allFinite());
    CHECK(x.row(0).cwiseAbs().maxCoeff() == TestType(0));
    CHECK_THAT(double(x.row(1).squaredNorm() / 1000), WithinRel(1.0, 1e-4));
}

TEST_CASE("Standardizer misuse is reported and changes nothing", "[standardizer]") {
    descent::Standardizer<double> standardize;
    Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 3);
    CHECK(message_of<descent::argument_error>([&] { standardize.apply(x); }) ==
          "Standardizer::apply: call fit() on the training data first");
    CHECK_THROWS_AS(standardize.fit(Eigen::MatrixXd(2, 0)), descent::argument_error);
    standardize.fit(x);
    Eigen::MatrixXd wide = Eigen::MatrixXd::Ones(3, 1);
    CHECK(message_of<descent::shape_error>([&] { standardize.apply(wide); }) ==
          "Standardizer::apply: x has 3 features (rows) but the standardizer was fitted on 2");
    CHECK(wide == Eigen::MatrixXd::Ones(3, 1));
    Eigen::MatrixXd bad = Eigen::MatrixXd::Zero(2, 2);
    bad(1, 1) = std::nan("");
    CHECK_THROWS_AS(standardize.fit(bad), descent::non_finite_error);
    CHECK(standardize.mean() == Eigen::VectorXd::Ones(2));  // the earlier fit stands
}

TEMPLATE_TEST_CASE("fold_into makes a network on raw inputs compute what it computed on standardised ones",
                   "[standardizer]", float, double) {
    using M = descent::test::Matrix<TestType>;
    const M raw = (descent::test::pseudo_random<TestType>(4, 30, 5).array() * 3 + 2).matrix();
    M x = raw;
    descent::Standardizer<TestType> standardize;
    standardize.fit(x).apply(x);
    descent::Mlp<descent::Dense<descent::Tanh, TestType>, descent::Dense<descent::Identity, TestType>> net({4, 5, 3},
                                                                                                       9);
    const M before = net.forward(x);
    standardize.fold_into(net);
    const M after = net.forward(raw);
    CHECK(((after - before).cwiseAbs().maxCoeff()) <= 50 * descent::test::tolerance<TestType>());

    descent::Mlp<descent::Dense<descent::Tanh, TestType>, descent::Dense<descent::Identity, TestType>> wide({6, 5, 3},
                                                                                                        9);
    const auto theta = wide.parameters().eval();
    CHECK_THROWS_AS(standardize.fold_into(wide), descent::shape_error);
    CHECK((wide.parameters().array() == theta.array()).all());
}
