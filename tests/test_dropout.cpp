// Inverted dropout: masks of 0 and 1/(1-p) kept with probability 1-p, the expected activation
// preserved, backpropagation through the same mask, seeded repeatability; and in a network: on
// while training only (predict and loss are deterministic and dropout-free), fixed masks, the
// settings and their errors.
#include <cmath>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/error.hpp>
#include <descent/layers/dense.hpp>
#include <descent/layers/dropout.hpp>
#include <descent/mlp.hpp>
#include <limits>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using descent::Dense;
using descent::Dropout;
using descent::Identity;

TEMPLATE_TEST_CASE("a mask keeps a unit with probability 1 - p and scales it by 1/(1 - p)", "[dropout]",
                   float, double) {
    using T = TestType;
    Dropout<T> dropout(0.3);
    descent::Engine engine(4);
    const descent::test::Matrix<T> h =
        descent::test::Matrix<T>::Constant(300, 201, T(2));  // odd size: a half draw
    const auto out = dropout.apply(h, engine);
    const auto mask = dropout.mask();
    const T scale = static_cast<T>(1 / 0.7);
    CHECK((mask.array() == T(0) || mask.array() == scale).all());
    CHECK((out.array() == h.array() * mask.array()).all());
    const Eigen::Index kept = (mask.array() != T(0)).count();
    // 60300 Bernoulli(0.7): standard deviation 0.0019 of the fraction
    CHECK_THAT(static_cast<double>(kept) / static_cast<double>(mask.size()),
               Catch::Matchers::WithinAbs(0.7, 0.01));
    // E[h̃] = h: the mean of h̃ over the units is 2 within a few standard deviations (0.0035)
    CHECK_THAT(static_cast<double>(out.mean()), Catch::Matchers::WithinAbs(2.0, 0.015));
}

TEST_CASE("backward goes through the mask of the last apply", "[dropout]") {
    Dropout<double> dropout(0.5);
    descent::Engine engine(1);
    const Eigen::MatrixXd h = descent::test::pseudo_random<double>(5, 4, 2);
    dropout.apply(h, engine);
    const Eigen::MatrixXd grad = descent::test::pseudo_random<double>(5, 4, 3);
    const Eigen::MatrixXd back = dropout.backward(grad);
    CHECK(back == (grad.array() * dropout.mask().array()).matrix());
}

TEST_CASE("the same seed gives the same mask, and rate 0 is the identity", "[dropout]") {
    Dropout<float> a(0.5), b(0.5), none(0.0);
    descent::Engine e1(9), e2(9), e3(9);
    const Eigen::MatrixXf h = descent::test::pseudo_random<float>(7, 3, 1);
    const Eigen::MatrixXf first = a.apply(h, e1);
    CHECK(b.apply(h, e2) == first);
    CHECK(a.apply(h, e1) != first);  // the engine moved on: a new mask
    CHECK(none.apply(h, e3) == h);
}

TEST_CASE("a rate outside 0 to 1 (excluded) is an argument_error", "[dropout][errors]") {
    CHECK_THROWS_AS(Dropout<float>(1.0), descent::argument_error);
    CHECK_THROWS_WITH(Dropout<float>(1.0), Contains("rate must be in [0, 1), got 1"));
    CHECK_THROWS_AS(Dropout<float>(-0.1), descent::argument_error);
    CHECK_THROWS_AS(Dropout<float>(std::numeric_limits<double>::quiet_NaN()), descent::argument_error);
    Dropout<double> d(0.25);
    CHECK_THROWS_AS(d.set_rate(2), descent::argument_error);
    CHECK(d.rate() == 0.25);
}

// ---------------------------------------------------------------------------------------------
// In a network.

namespace {

using DropoutNet = descent::Mlp<Dense<descent::Relu, double>, Dense<descent::Relu, double>, Dense<Identity, double>>;

DropoutNet with_dropout() {
    DropoutNet net({4, 16, 8, 3}, 2);
    net.set_dropout(1, 0.5);
    net.set_dropout(2, 0.25);
    return net;
}

}  // namespace

TEST_CASE("dropout is off in predict, loss and forward, on in compute_gradient", "[dropout]") {
    DropoutNet net = with_dropout();
    DropoutNet plain({4, 16, 8, 3}, 2);
    REQUIRE(net.parameters() == plain.parameters());
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(4, 6, 5);
    const auto y = descent::test::labels_cycling(6, 3);
    CHECK(net.has_dropout());
    CHECK_FALSE(plain.has_dropout());
    CHECK(net.loss(x, y) == plain.loss(x, y));
    CHECK(net.predict_proba(x) == plain.predict_proba(x));
    CHECK(net.predict(x) == plain.predict(x));
    CHECK(Eigen::MatrixXd(net.forward(x)) == Eigen::MatrixXd(plain.forward(x)));
    // Training passes draw a new mask each: two gradients differ, and differ from no dropout.
    const double l1 = net.compute_gradient(x, y);
    const Eigen::VectorXd g1 = net.gradient();
    const double l2 = net.compute_gradient(x, y);
    CHECK(g1 != net.gradient());
    CHECK(l1 != l2);
    plain.compute_gradient(x, y);
    CHECK(g1 != plain.gradient());
    // ... and predict stays what it was.
    CHECK(net.predict_proba(x) == plain.predict_proba(x));
}

TEST_CASE("fixed masks make every training pass the same", "[dropout]") {
    DropoutNet net = with_dropout();
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(4, 6, 6);
    const auto y = descent::test::labels_cycling(6, 3);
    net.fix_dropout_masks(11);
    CHECK(net.dropout_masks_fixed());
    CHECK(net.dropout_mask_seed() == 11);
    const double l1 = net.compute_gradient(x, y);
    const Eigen::VectorXd g1 = net.gradient();
    CHECK(net.compute_gradient(x, y) == l1);
    CHECK(net.gradient() == g1);
    net.unfix_dropout_masks();
    net.compute_gradient(x, y);
    CHECK(net.gradient() != g1);
}

TEST_CASE("the same seed trains the same, and initialize reseeds the masks", "[dropout]") {
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(4, 6, 7);
    const auto y = descent::test::labels_cycling(6, 3);
    DropoutNet a = with_dropout(), b = with_dropout();
    for (int step = 0; step < 3; ++step) {
        a.descend(x, y, 0.1);
        b.descend(x, y, 0.1);
    }
    CHECK(a.parameters() == b.parameters());
    a.initialize(2);
    DropoutNet c = with_dropout();
    a.compute_gradient(x, y);
    c.compute_gradient(x, y);
    CHECK(a.gradient() == c.gradient());
}

TEST_CASE("a network's expected output under dropout is its output without", "[dropout]") {
    // Linear layers: a(2) = W(2) (h(1) ⊙ m / (1 - p)) + b(2) has expectation W(2) h(1) + b(2) exactly.
    descent::Mlp<Dense<Identity, double>, Dense<Identity, double>> net({3, 40, 2}, 1);
    net.set_dropout(1, 0.4);
    Eigen::MatrixXd x(3, 1);
    x << 0.5, -1, 2;
    const std::vector<int> y{0};
    const Eigen::MatrixXd expected = net.forward(x);
    Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(2, 1);
    const int passes = 50000;
    for (int t = 0; t < passes; ++t) {
        net.compute_gradient(x, y);
        sum += net.layer<1>().output();
    }
    const Eigen::MatrixXd mean = sum / passes;
    for (Eigen::Index i = 0; i < 2; ++i)
        CHECK_THAT(mean(i), Catch::Matchers::WithinAbs(expected(i), 0.02 * (1 + std::abs(expected(i)))));
}

TEST_CASE("dropout settings: hidden layers only, rates below 1, nothing changed on a throw",
          "[dropout][errors]") {
    DropoutNet net = with_dropout();
    CHECK(net.dropout(1) == 0.5);
    CHECK(net.dropout(2) == 0.25);
    CHECK_THROWS_AS(net.set_dropout(3, 0.5), descent::argument_error);
    CHECK_THROWS_WITH(net.set_dropout(3, 0.5),
                      Contains("Mlp::set_dropout: hidden layer 3 does not exist: the "
                               "hidden layers are 1 to 2") &&
                          Contains("never to the output a(L+1)"));
    CHECK_THROWS_AS(net.set_dropout(0, 0.5), descent::argument_error);
    CHECK_THROWS_AS(net.dropout(0), descent::argument_error);
    CHECK_THROWS_AS(net.set_dropout(1, 1.0), descent::argument_error);
    CHECK_THROWS_WITH(net.set_dropout(1, 1.0), Contains("rate of hidden layer 1 must be in [0, 1), got 1"));
    CHECK(net.dropout(1) == 0.5);
    net.set_dropout(1, 0);
    net.set_dropout(2, 0);
    CHECK_FALSE(net.has_dropout());
    descent::Mlp<Dense<Identity, double>> single({3, 2});
    CHECK_THROWS_WITH(single.set_dropout(1, 0.5), Contains("this network has no hidden layer"));
    CHECK(net.architecture().layers[0].dropout == 0);
}
