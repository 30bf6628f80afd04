// Standardizer: x_i ← (x_i − μ_i) / σ_i with μ, σ from the training data only;
// a constant feature maps to 0, never NaN.
#include <cmath>
#include <descent/activations/identity.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/data/standardizer.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>

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
    descent::Mlp<descent::Dense<descent::Tanh, TestType>, descent::Dense<descent::Identity, TestType>> net(
        {4, 5, 3}, 9);
    const M before = net.forward(x);
    standardize.fold_into(net);
    const M after = net.forward(raw);
    CHECK(((after - before).cwiseAbs().maxCoeff()) <= 50 * descent::test::tolerance<TestType>());

    descent::Mlp<descent::Dense<descent::Tanh, TestType>, descent::Dense<descent::Identity, TestType>> wide(
        {6, 5, 3}, 9);
    const auto theta = wide.parameters().eval();
    CHECK_THROWS_AS(standardize.fold_into(wide), descent::shape_error);
    CHECK((wide.parameters().array() == theta.array()).all());
}

TEMPLATE_TEST_CASE("invert undoes apply: y = μ + σ ỹ", "[standardizer]", float, double) {
    using M = descent::test::Matrix<TestType>;
    M y(2, 3);
    // clang-format off
    y << 100, 200, 300,   // μ = 200, σ = sqrt(20000/3)
         -1,  -1,  -1;    // constant: σ = 1
    // clang-format on
    descent::Standardizer<TestType> standardize;
    M z = y;
    standardize.fit(z).apply(z);
    CHECK_THAT(double(z(0, 2)),
               WithinRel(100 / std::sqrt(20000.0 / 3), descent::test::tolerance<TestType>()));
    standardize.invert(z);
    CHECK(((z - y).cwiseAbs().maxCoeff()) <= 300 * descent::test::tolerance<TestType>());
    M by_hand = M::Zero(2, 1);  // ỹ = 0 is the mean
    standardize.invert(by_hand);
    CHECK(by_hand(0, 0) == TestType(200));
    CHECK(by_hand(1, 0) == TestType(-1));

    M wide = M::Zero(3, 1);
    CHECK(message_of<descent::shape_error>([&] { standardize.invert(wide); }) ==
          "Standardizer::invert: y has 3 rows but the standardizer was fitted on 2");
    CHECK(wide == M::Zero(3, 1));
    CHECK(message_of<descent::argument_error>([&] { descent::Standardizer<TestType>().invert(wide); }) ==
          "Standardizer::invert: call fit() on the training data first");
}

TEMPLATE_TEST_CASE("fold_into_output makes a network trained on standardised targets predict raw ones",
                   "[standardizer]", float, double) {
    using M = descent::test::Matrix<TestType>;
    using Net =
        descent::Mlp<descent::Dense<descent::Tanh, TestType>, descent::Dense<descent::Identity, TestType>>;
    // Targets far from mean 0 and variance 1 in both outputs: μ = (150, -3), σ of order 40 and 0.5.
    M y = descent::test::pseudo_random<TestType>(2, 40, 8);
    y.row(0) = (y.row(0).array() * 70 + 150).matrix();
    y.row(1) = (y.row(1).array() * 0.9 - 3).matrix();
    descent::Standardizer<TestType> standardize_y;
    standardize_y.fit(y);

    const M x = descent::test::pseudo_random<TestType>(3, 40, 6);
    Net net({3, 4, 2}, 13);
    M expected = net.forward(x);  // ỹ, the prediction in standardised units
    standardize_y.invert(expected);
    standardize_y.fold_into_output(net);
    const M after = net.forward(x);
    CHECK(((after - expected).cwiseAbs().maxCoeff()) <= 200 * descent::test::tolerance<TestType>());
    // only the last layer changed
    Net fresh({3, 4, 2}, 13);
    const auto& blocks = net.parameter_blocks();
    const auto last = blocks[2].offset;
    CHECK((net.parameters().head(last).array() == fresh.parameters().head(last).array()).all());

    Net three({3, 4, 3}, 13);
    const auto theta = three.parameters().eval();
    CHECK(message_of<descent::shape_error>([&] { standardize_y.fold_into_output(three); }) ==
          "Standardizer::fold_into_output: the network has 3 outputs but the standardizer was fitted on 2 "
          "targets");
    CHECK((three.parameters().array() == theta.array()).all());
    CHECK_THROWS_AS(descent::Standardizer<TestType>().fold_into_output(three), descent::argument_error);
    CHECK((three.parameters().array() == theta.array()).all());
}

namespace {

// A network of the least interface the folds need: parameter blocks over one θ.
struct Block {
    std::string name;
    Eigen::Index offset, rows, cols;
    bool is_weight;
};
struct BareNetwork {
    std::vector<Block> blocks;
    Eigen::VectorXd theta;
    const std::vector<Block>& parameter_blocks() const { return blocks; }
    Eigen::Map<Eigen::VectorXd> parameters() { return {theta.data(), theta.size()}; }
};

}  // namespace

TEST_CASE("the folds work on any network with parameter blocks, and refuse blocks they cannot read",
          "[standardizer]") {
    // W(1) 1 x 2 = [1 2], b(1) = [3]; W(2) 1 x 1 = [4], b(2) = [5]
    BareNetwork net{{{"W(1)", 0, 1, 2, true},
                     {"b(1)", 2, 1, 1, false},
                     {"W(2)", 3, 1, 1, true},
                     {"b(2)", 4, 1, 1, false}},
                    Eigen::VectorXd{{1, 2, 3, 4, 5}}};
    descent::Standardizer<double> inputs, targets;
    inputs.fit(Eigen::MatrixXd{{0, 2}, {1, 5}});  // μ = (1, 3), σ = (1, 2)
    targets.fit(Eigen::MatrixXd{{10, 16}});       // μ = 13, σ = 3
    inputs.fold_into(net);
    // W' = [1/1, 2/2] = [1 1], b' = 3 − (1·1 + 1·3) = −1
    CHECK(net.theta.head(3) == Eigen::Vector3d(1, 1, -1));
    targets.fold_into_output(net);
    // W' = 3·4 = 12, b' = 3·5 + 13 = 28
    CHECK(net.theta.tail(2) == Eigen::Vector2d(12, 28));

    BareNetwork unpaired{{{"W(1)", 0, 1, 2, true}, {"W(2)", 2, 1, 1, true}}, Eigen::VectorXd::Zero(3)};
    CHECK(message_of<descent::argument_error>([&] { targets.fold_into_output(unpaired); }) ==
          "Standardizer::fold_into_output: the network's parameter blocks do not hold a weight matrix W(k) "
          "followed by its bias b(k)");
    CHECK(unpaired.theta == Eigen::VectorXd::Zero(3));
}
