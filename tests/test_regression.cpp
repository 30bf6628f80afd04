// Regression metrics: MSE, MAE and R², per output and averaged, against values
// computed by hand and against scikit-learn's numbers.
#include <cmath>
#include <descent/metrics/regression.hpp>

#include "file_support.hpp"
#include "support.hpp"

using Catch::Matchers::WithinRel;
using descent::test::message_of;

TEMPLATE_TEST_CASE("MSE, MAE and R² of two outputs", "[metrics]", float, double) {
    using M = descent::test::Matrix<TestType>;
    M y(2, 4), predicted(2, 4);  // outputs x samples
    // clang-format off
    y         << 3,   -0.5, 2, 7,
                 1,    2,   3, 4;
    predicted << 2.5,  0,   2, 8,
                 1.5,  2.5, 2, 4.5;
    // clang-format on
    // errors: -0.5, 0.5, 0, 1 and 0.5, 0.5, -1, 0.5
    CHECK(descent::mean_squared_error(predicted, y) == (0.25 + 0.25 + 0 + 1 + 0.25 + 0.25 + 1 + 0.25) / 8);
    CHECK(descent::mean_absolute_error(predicted, y) == (0.5 + 0.5 + 0 + 1 + 0.5 + 0.5 + 1 + 0.5) / 8);
    // R²: output 0 has ȳ = 2.875, SS_tot = 29.1875, SS_res = 1.5; output 1 ȳ = 2.5, SS_tot = 5, SS_res = 1.75
    const Eigen::VectorXd r2 = descent::r2_scores(predicted, y);
    CHECK_THAT(r2(0), WithinRel(1 - 1.5 / 29.1875, 1e-15));
    CHECK_THAT(r2(1), WithinRel(1 - 1.75 / 5, 1e-15));
    // scikit-learn 1.2.1, computed once: mean_squared_error(y.T, predicted.T) = 0.40625,
    // mean_absolute_error = 0.5625, r2_score = 0.7993040685224839 (uniform average)
    CHECK(descent::mean_squared_error(predicted, y) == 0.40625);
    CHECK(descent::mean_absolute_error(predicted, y) == 0.5625);
    CHECK_THAT(descent::r2_score(predicted, y), WithinRel(0.7993040685224839, 1e-15));
}

TEST_CASE("R²: 1 for a perfect fit, 0 for the mean, negative when worse, and constant targets", "[metrics]") {
    Eigen::MatrixXd y(1, 4);
    y << 1, 2, 3, 6;
    CHECK(descent::r2_score(y, y) == 1.0);
    CHECK(descent::r2_score(Eigen::MatrixXd::Constant(1, 4, 3.0), y) == 0.0);  // ȳ = 3
    CHECK(descent::r2_score(-y, y) < 0);
    // a constant target: 1 when predicted exactly, else 0 (scikit-learn's force_finite)
    const Eigen::MatrixXd flat = Eigen::MatrixXd::Constant(1, 3, 2.0);
    CHECK(descent::r2_score(flat, flat) == 1.0);
    CHECK(descent::r2_score(Eigen::MatrixXd::Constant(1, 3, 2.5), flat) == 0.0);
}

TEST_CASE("regression metrics refuse inputs that do not fit", "[metrics]") {
    const Eigen::MatrixXd a = Eigen::MatrixXd::Zero(1, 3), b = Eigen::MatrixXd::Zero(1, 2);
    CHECK(message_of<descent::shape_error>([&] { descent::mean_squared_error(a, b); }) ==
          "mean_squared_error: predictions are 1 x 3 but targets 1 x 2 (outputs x samples)");
    CHECK(message_of<descent::argument_error>([&] {
              descent::mean_absolute_error(Eigen::MatrixXd(1, 0), Eigen::MatrixXd(1, 0));
          }) == "mean_absolute_error: needs at least 1 sample of at least one output, got 1 x 0");
    CHECK(message_of<descent::argument_error>([&] {
              descent::r2_score(Eigen::MatrixXd::Zero(1, 1), Eigen::MatrixXd::Zero(1, 1));
          }) == "r2_score: needs at least 2 samples of at least one output, got 1 x 1");
    Eigen::MatrixXd holed = a;
    holed(0, 2) = INFINITY;
    CHECK(message_of<descent::non_finite_error>([&] { descent::mean_squared_error(a, holed); }) ==
          "mean_squared_error: targets holds inf at output 0 of sample 2");
}
