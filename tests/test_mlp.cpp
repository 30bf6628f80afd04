// Mlp: a forward and backward pass of a small network by hand, the parameter
// layout, bad input (typed errors naming the value and where, nothing changed),
// and copies and moves that keep their views on their own buffers.
#include <cmath>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/sigmoid.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/error.hpp>
#include <descent/layers/dense.hpp>
#include <descent/losses/sigmoid_cross_entropy.hpp>
#include <descent/losses/squared_error.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/sgd.hpp>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using descent::Dense;
using descent::Identity;
using descent::Mlp;
using descent::Relu;
using descent::test::check_close;
using descent::test::hand_net;
using descent::test::hand_x;
using descent::test::hand_y;
using descent::test::HandNet;
using descent::test::sigma;

namespace {

template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

}  // namespace

// The forward pass of hand_net() (support.hpp) on hand_x(), by hand:
//   x_1 = (1, 2):  a(1) = (0.5 - 2 + 0.5, 1 + 0.5 - 0.5) = (-1, 1),  h(1) = (0, 1)
//                  a(2) = (0 - 1 + 0.25, 0 + 0.5 - 0.25) = (-0.75, 0.25)
//                  a(2)_2 - a(2)_1 = 1, so f = (σ(-1), σ(1)) ≈ (0.2689, 0.7311); y = 0: l_1 = log(1 + e)
//   x_2 = (0, -2): a(1) = (0 + 2 + 0.5, 0 - 0.5 - 0.5) = (2.5, -1),  h(1) = (2.5, 0)
//                  a(2) = (2.5 + 0.25, 5 - 0.25) = (2.75, 4.75)
//                  difference 2, so f = (σ(-2), σ(2)) ≈ (0.1192, 0.8808); y = 1: l_2 = log(1 + e^-2)
//   l = (l_1 + l_2) / 2
TEMPLATE_TEST_CASE("a forward pass of a small Mlp matches the hand computation", "[mlp]", float, double) {
    using T = TestType;
    auto net = hand_net<T>();
    const auto x = hand_x<T>();

    const auto a = net.forward(x);
    REQUIRE(a.rows() == 2);
    REQUIRE(a.cols() == 2);
    check_close(a(0, 0), -0.75);
    check_close(a(1, 0), 0.25);
    check_close(a(0, 1), 2.75);
    check_close(a(1, 1), 4.75);

    const auto f = net.predict_proba(x);
    check_close(f(0, 0), sigma(-1));
    check_close(f(1, 0), sigma(1));
    check_close(f(0, 1), sigma(-2));
    check_close(f(1, 1), sigma(2));

    CHECK(net.predict(x) == std::vector<int>{1, 1});
    CHECK(net.accuracy(x, hand_y) == 0.5);  // the first sample is class 0, predicted 1
    check_close(net.loss(x, hand_y), (std::log(1 + std::exp(1.0)) + std::log(1 + std::exp(-2.0))) / 2);
}

// The backward pass, by hand, with s1 = σ(1), s2 = σ(-2) and B = 2:
//   ∇a(2) = (f - e(y)) / B: column 1 (-s1, s1)/2, column 2 (s2, -s2)/2
//   ∇W(2) = ∇a(2) h(1)ᵀ, h(1) = [0 2.5; 1 0]:  [1.25 s2, -s1/2; -1.25 s2, s1/2]
//   ∇b(2) = ((s2 - s1)/2, (s1 - s2)/2)
//   ∇h(1) = W(2)ᵀ ∇a(2), W(2)ᵀ = [1 2; -1 0.5]: column 1 (s1, 1.5 s1)/2, column 2 (-s2, -1.5 s2)/2
//   ∇a(1) = ∇h(1) ⊙ [a(1) > 0], a(1) = [-1 2.5; 1 -1]: column 1 (0, 0.75 s1), column 2 (-s2/2, 0)
//   ∇W(1) = ∇a(1) xᵀ, x = [1 0; 2 -2]:
//           [0*1 + (-s2/2)*0, 0*2 + (-s2/2)(-2); 0.75 s1, 1.5 s1] = [0 s2; 0.75 s1 1.5 s1]
//   ∇b(1) = (-s2/2, 0.75 s1)
TEMPLATE_TEST_CASE("compute_gradient of a small Mlp matches the hand computation", "[mlp]", float, double) {
    using T = TestType;
    auto net = hand_net<T>();
    const Vector<T> theta = net.parameters();
    const double s1 = sigma(1), s2 = sigma(-2);

    const T l = net.compute_gradient(hand_x<T>(), hand_y);
    check_close(l, (std::log(1 + std::exp(1.0)) + std::log(1 + std::exp(-2.0))) / 2);
    const auto& g1 = net.template layer<0>();
    const auto& g2 = net.template layer<1>();
    check_close(g2.grad_W()(0, 0), 1.25 * s2);
    check_close(g2.grad_W()(0, 1), -s1 / 2);
    check_close(g2.grad_W()(1, 0), -1.25 * s2);
    check_close(g2.grad_W()(1, 1), s1 / 2);
    check_close(g2.grad_b()(0), (s2 - s1) / 2);
    check_close(g2.grad_b()(1), (s1 - s2) / 2);
    check_close(g1.grad_W()(0, 0), 0.0);
    check_close(g1.grad_W()(0, 1), s2);
    check_close(g1.grad_W()(1, 0), 0.75 * s1);
    check_close(g1.grad_W()(1, 1), 1.5 * s1);
    check_close(g1.grad_b()(0), -s2 / 2);
    check_close(g1.grad_b()(1), 0.75 * s1);
    // gradient() is the same numbers in the layout of parameter_blocks(): W(1), b(1), W(2), b(2).
    check_close(net.gradient()(2), s2);       // W(1)(0, 1), column-major
    check_close(net.gradient()(8), -s1 / 2);  // W(2)(0, 1): offset 6 + 0 + 2 * 1
    CHECK(net.parameters() == theta);         // θ is never changed by compute_gradient
}

TEST_CASE("sizes, blocks and the one contiguous buffer", "[mlp]") {
    using Net = Mlp<Dense<descent::Tanh, double>, Dense<Relu, double>, Dense<Identity, double>>;
    Net net({5, 4, 3, 2}, 1);
    STATIC_REQUIRE(Net::depth == 3);
    STATIC_REQUIRE(std::is_same_v<Net::Scalar, double>);
    STATIC_REQUIRE(
        std::is_same_v<Net::rebind<float>,
                       Mlp<Dense<descent::Tanh, float>, Dense<Relu, float>, Dense<Identity, float>>>);
    CHECK(net.sizes() == std::vector<Eigen::Index>{5, 4, 3, 2});
    CHECK(net.inputs() == 5);
    CHECK(net.classes() == 2);
    CHECK(net.parameters().size() == 4 * 5 + 4 + 3 * 4 + 3 + 2 * 3 + 2);
    CHECK(net.gradient().size() == net.parameters().size());

    const auto& blocks = net.parameter_blocks();
    REQUIRE(blocks.size() == 6);
    const std::vector<std::string> names{"W(1)", "b(1)", "W(2)", "b(2)", "W(3)", "b(3)"};
    const std::vector<Eigen::Index> offsets{0, 20, 24, 36, 39, 45};
    const std::vector<Eigen::Index> rows{4, 4, 3, 3, 2, 2};
    const std::vector<Eigen::Index> cols{5, 1, 4, 1, 3, 1};
    for (std::size_t k = 0; k < blocks.size(); ++k) {
        CHECK(blocks[k].name == names[k]);
        CHECK(blocks[k].offset == offsets[k]);
        CHECK(blocks[k].rows == rows[k]);
        CHECK(blocks[k].cols == cols[k]);
        CHECK(blocks[k].is_weight == (k % 2 == 0));
    }
    // Each layer's W(k) and b(k) are views into parameters(), at the block's offset.
    CHECK(net.layer<0>().W().data() == net.parameters().data());
    CHECK(net.layer<1>().W().data() == net.parameters().data() + 24);
    CHECK(net.layer<2>().b().data() == net.parameters().data() + 45);
    net.parameters()(39 + 2 * 1 + 1) = 123.0;  // W(3)(1, 1)
    CHECK(net.layer<2>().W()(1, 1) == 123.0);
    net.layer<1>().b()(2) = -7.0;
    CHECK(net.parameters()(38) == -7.0);
}

TEST_CASE("a network of one layer is multinomial logistic regression", "[mlp]") {
    Mlp<Dense<Identity, double>> net({3, 2}, 4);
    // clang-format off
    net.layer<0>().W() << 1, 0, -1,
                          0, 2, 0;
    // clang-format on
    net.layer<0>().b() << 0, -1;
    Eigen::MatrixXd x(3, 1);
    x << 1, 1, 1;  // a = (1 + 0 - 1, 0 + 2 + 0 - 1) = (0, 1)
    const std::vector<int> y{1};
    CHECK_THAT(net.loss(x, y), Catch::Matchers::WithinRel(std::log(1 + std::exp(-1.0)), 1e-14));
    net.compute_gradient(x, y);
    // ∇a = f - e(1) = (σ(-1), σ(1) - 1) = σ(-1) (1, -1); ∇W = ∇a xᵀ, ∇b = ∇a
    const double s = sigma(-1);
    for (Eigen::Index j = 0; j < 3; ++j) {
        CHECK_THAT(net.layer<0>().grad_W()(0, j), Catch::Matchers::WithinRel(s, 1e-14));
        CHECK_THAT(net.layer<0>().grad_W()(1, j), Catch::Matchers::WithinRel(-s, 1e-14));
    }
    CHECK_THAT(net.layer<0>().grad_b()(0), Catch::Matchers::WithinRel(s, 1e-14));
}

TEST_CASE("loss, forward and predict leave θ and ∇θ alone", "[mlp]") {
    auto net = hand_net<double>();
    const auto x = hand_x<double>();
    net.compute_gradient(x, hand_y);
    const Eigen::VectorXd theta = net.parameters(), grad = net.gradient();
    net.loss(x, hand_y);
    net.forward(x);
    net.predict(x);
    net.predict_proba(x);
    net.accuracy(x, hand_y);
    CHECK(net.parameters() == theta);
    CHECK(net.gradient() == grad);
}

// ---------------------------------------------------------------------------------------------
// Bad input: a typed error whose message names the value and where, and nothing changed.

namespace {

using Net = descent::test::SmallNet<double>;

using descent::test::Snapshot;

Net trained_a_little() {
    Net net({3, 4, 3}, 8);
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 5, 1);
    net.compute_gradient(x, descent::test::labels_cycling(5, 3));  // ∇θ nonzero too
    return net;
}

}  // namespace

TEST_CASE("a label outside 0 to C-1 is a label_error naming the label and the sample", "[mlp][errors]") {
    Net net = trained_a_little();
    const Snapshot before(net);
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 4, 2);
    const std::vector<int> too_big{0, 1, 3, 2};
    const std::vector<int> negative{0, -1, 1, 2};
    CHECK_THROWS_AS(net.compute_gradient(x, too_big), descent::label_error);
    CHECK_THROWS_WITH(net.compute_gradient(x, too_big),
                      Contains("label 3 of sample 2 is outside [0, 3)") && Contains("Mlp::compute_gradient"));
    CHECK_THROWS_AS(net.loss(x, negative), descent::label_error);
    CHECK_THROWS_WITH(net.loss(x, negative), Contains("label -1 of sample 1") && Contains("Mlp::loss"));
    CHECK_THROWS_AS(net.accuracy(x, too_big), descent::label_error);
    CHECK_THROWS_WITH(net.accuracy(x, too_big), Contains("label 3") && Contains("Mlp::accuracy"));
    CHECK(before.same_as(net));
}

TEST_CASE("a wrong input width is a shape_error naming both widths", "[mlp][errors]") {
    Net net = trained_a_little();
    const Snapshot before(net);
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(4, 2, 3);
    const std::vector<int> y{0, 1};
    CHECK_THROWS_AS(net.forward(x), descent::shape_error);
    CHECK_THROWS_WITH(net.forward(x), Contains("Mlp::forward") && Contains("input has 4 rows") &&
                                          Contains("first layer takes 3"));
    CHECK_THROWS_AS(net.compute_gradient(x, y), descent::shape_error);
    CHECK_THROWS_WITH(net.compute_gradient(x, y), Contains("Mlp::compute_gradient") && Contains("4 rows"));
    CHECK_THROWS_AS(net.predict(x), descent::shape_error);
    CHECK_THROWS_AS(net.predict_proba(x), descent::shape_error);
    CHECK(before.same_as(net));
}

TEST_CASE("an empty batch is an argument_error", "[mlp][errors]") {
    Net net = trained_a_little();
    const Snapshot before(net);
    const Eigen::MatrixXd x(3, 0);
    const std::vector<int> y;
    CHECK_THROWS_AS(net.forward(x), descent::argument_error);
    CHECK_THROWS_WITH(net.forward(x),
                      Contains("Mlp::forward") && Contains("empty batch") && Contains("0 columns"));
    CHECK_THROWS_AS(net.compute_gradient(x, y), descent::argument_error);
    CHECK_THROWS_WITH(net.loss(x, y), Contains("Mlp::loss") && Contains("empty batch"));
    CHECK(before.same_as(net));
}

TEST_CASE("a NaN or an infinity in the input is a non_finite_error naming where", "[mlp][errors]") {
    Net net = trained_a_little();
    const Snapshot before(net);
    Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 4, 4);
    const std::vector<int> y{0, 1, 2, 0};
    x(1, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(net.compute_gradient(x, y), descent::non_finite_error);
    CHECK_THROWS_WITH(net.compute_gradient(x, y),
                      Contains("nan") && Contains("row 1, column 2") && Contains("Mlp::compute_gradient"));
    CHECK_THROWS_AS(net.forward(x), descent::non_finite_error);
    x(1, 2) = 0;
    x(0, 3) = -std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(net.loss(x, y), descent::non_finite_error);
    CHECK_THROWS_WITH(net.loss(x, y), Contains("-inf") && Contains("row 0, column 3"));
    CHECK(before.same_as(net));
}

TEST_CASE("a label count that differs from the sample count is a shape_error naming both", "[mlp][errors]") {
    Net net = trained_a_little();
    const Snapshot before(net);
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 4, 5);
    const std::vector<int> y{0, 1, 2};
    CHECK_THROWS_AS(net.compute_gradient(x, y), descent::shape_error);
    CHECK_THROWS_WITH(net.compute_gradient(x, y), Contains("3 labels for 4 samples"));
    CHECK_THROWS_AS(net.accuracy(x, y), descent::shape_error);
    CHECK(before.same_as(net));
}

TEST_CASE("bad sizes at construction are rejected, naming them", "[mlp][errors]") {
    using Deep =
        Mlp<Dense<descent::Sigmoid, double>, Dense<descent::Sigmoid, double>, Dense<Identity, double>>;
    SECTION("one size per layer boundary: H_0 .. H_(L+1)") {
        CHECK_THROWS_AS(Deep({4, 3, 2}), descent::shape_error);
        CHECK_THROWS_WITH(Deep({4, 3, 2}), Contains("3 layers need 4 sizes") && Contains("got 3"));
        CHECK_THROWS_WITH(Deep({4, 3, 3, 2, 2}), Contains("got 5"));
    }
    SECTION("a size below 1") {
        CHECK_THROWS_AS(Deep({4, 0, 3, 2}), descent::argument_error);
        CHECK_THROWS_WITH(Deep({4, 0, 3, 2}), Contains("Mlp: size H_1 is 0, expected at least 1"));
        CHECK_THROWS_AS(Deep({4, 3, 3, -2}), descent::argument_error);
        CHECK_THROWS_WITH(Deep({4, 3, 3, -2}), Contains("H_3 is -2"));
    }
    SECTION("layers built by hand that do not chain") {
        using S = Dense<descent::Sigmoid, double>;
        CHECK_THROWS_AS(Deep(S(4, 3), S(5, 2), Dense<Identity, double>(2, 2)), descent::shape_error);
        CHECK_THROWS_WITH(Deep(S(4, 3), S(5, 2), Dense<Identity, double>(2, 2)),
                          Contains("layer 2 takes 5 inputs but layer 1 gives 3 outputs"));
        CHECK_THROWS_WITH(Deep(S(4, 3), S(3, 2), Dense<Identity, double>(6, 2)),
                          Contains("layer 3 takes 6 inputs but layer 2 gives 2 outputs"));
        const Deep ok(S(4, 3), S(3, 2), Dense<Identity, double>(2, 2));
        CHECK(ok.sizes() == std::vector<Eigen::Index>{4, 3, 2, 2});
    }
}

// ---------------------------------------------------------------------------------------------
// Copies and moves: each network's layers view its own buffers.

namespace {

template <class N>
bool mlp_views_own_buffers(N& net) {
    const double* theta = net.parameters().data();
    const auto& blocks = net.parameter_blocks();
    return net.template layer<0>().W().data() == theta + blocks[0].offset &&
           net.template layer<0>().b().data() == theta + blocks[1].offset &&
           net.template layer<1>().W().data() == theta + blocks[2].offset &&
           net.template layer<1>().b().data() == theta + blocks[3].offset &&
           net.template layer<1>().grad_W().data() == net.gradient().data() + blocks[2].offset;
}

// A few steps of plain gradient descent; returns the loss before and after.
std::pair<double, double> train(Net& net, const Eigen::MatrixXd& x, const std::vector<int>& y) {
    descent::Sgd sgd(0.5);
    const double first = sgd.step(net, x, y);
    for (int i = 0; i < 20; ++i) sgd.step(net, x, y);
    return {first, net.loss(x, y)};
}

}  // namespace

TEST_CASE("a copy trains on its own and the original is unchanged", "[mlp]") {
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 6, 10);
    const auto y = descent::test::labels_cycling(6, 3);
    Net original({3, 4, 3}, 3);
    original.compute_gradient(x, y);
    const Snapshot before(original);
    const double original_loss = original.loss(x, y);

    SECTION("copy construction") {
        Net copy(original);
        CHECK(copy.parameters() == original.parameters());
        CHECK(mlp_views_own_buffers(copy));
        const auto [first, last] = train(copy, x, y);
        CHECK(last < first);
        CHECK(copy.parameters() != before.theta);
    }
    SECTION("copy assignment") {
        Net copy({3, 4, 3}, 99);
        copy = original;
        CHECK(copy.parameters() == original.parameters());
        CHECK(mlp_views_own_buffers(copy));
        const auto [first, last] = train(copy, x, y);
        CHECK(last < first);
    }
    CHECK(before.same_as(original));
    CHECK(mlp_views_own_buffers(original));
    CHECK(original.loss(x, y) == original_loss);
}

TEST_CASE("a moved-to network still trains", "[mlp]") {
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 6, 11);
    const auto y = descent::test::labels_cycling(6, 3);
    Net source({3, 4, 3}, 5);
    const Eigen::VectorXd theta = source.parameters();

    SECTION("move construction") {
        Net moved(std::move(source));
        CHECK(moved.parameters() == theta);
        CHECK(mlp_views_own_buffers(moved));
        const auto [first, last] = train(moved, x, y);
        CHECK(last < first);
    }
    SECTION("move assignment") {
        Net moved({3, 4, 3}, 6);
        moved = std::move(source);
        CHECK(moved.parameters() == theta);
        CHECK(mlp_views_own_buffers(moved));
        const auto [first, last] = train(moved, x, y);
        CHECK(last < first);
    }
    SECTION("into a vector that reallocates") {
        std::vector<Net> nets;
        nets.push_back(std::move(source));
        for (int k = 0; k < 8; ++k) nets.emplace_back(std::initializer_list<Eigen::Index>{3, 4, 3}, k);
        CHECK(nets[0].parameters() == theta);
        for (auto& net : nets) CHECK(mlp_views_own_buffers(net));
        const auto [first, last] = train(nets[0], x, y);
        CHECK(last < first);
    }
}

TEMPLATE_TEST_CASE("Mlp::descend takes the step of compute_gradient then θ -= α∇θ, leaving gradient() alone",
                   "[mlp]", float, double) {
    using T = TestType;
    using Net = Mlp<Dense<Relu, T>, Dense<descent::Tanh, T>, Dense<Identity, T>>;
    for (const Eigen::Index batch : {1, 7}) {
        CAPTURE(batch);
        Net fused({6, 40, 20, 3}, 5);
        Net reference = fused;
        const auto x = descent::test::pseudo_random<T>(6, batch, 11);
        const auto y = descent::test::labels_cycling(batch, 3);
        const T alpha = T(0.05);
        fused.gradient().setConstant(T(7));
        for (int step = 0; step < 3; ++step) {
            const T l_fused = fused.descend(x, y, alpha);
            const T l_reference = reference.compute_gradient(x, y);
            reference.parameters() -= alpha * reference.gradient();
            CHECK_THAT(
                static_cast<double>(l_fused),
                Catch::Matchers::WithinRel(static_cast<double>(l_reference), descent::test::tolerance<T>()));
        }
        const double difference =
            static_cast<double>((fused.parameters() - reference.parameters()).cwiseAbs().maxCoeff());
        const double scale = static_cast<double>(reference.parameters().cwiseAbs().maxCoeff());
        CHECK(difference <= descent::test::tolerance<T>() * scale);
        CHECK((fused.gradient().array() == T(7)).all());                   // ∇θ was never stored
        CHECK(fused.parameters() != Net({6, 40, 20, 3}, 5).parameters());  // and θ did move
    }
}

TEST_CASE("Mlp::descend rejects bad input before θ changes", "[mlp][errors]") {
    HandNet<double> net = hand_net<double>();
    const Eigen::VectorXd theta = net.parameters();
    Eigen::MatrixXd x(2, 2);
    x << 1, 2, 3, 4;
    const std::vector<int> bad{0, 2};
    CHECK_THROWS_AS(net.descend(x, bad, 0.1), descent::label_error);
    CHECK_THROWS_WITH(net.descend(x, bad, 0.1), Contains("Mlp::descend") && Contains("label 2 of sample 1"));
    CHECK(net.parameters() == theta);
}

// ---------------------------------------------------------------------------------------------
// Heads, targets, one sample, count_correct, label hints, architectures.

namespace {

// a = W x + b with W = (1, -1), b = 0.5: for x = (1, 2), a = -0.5.
template <class Net>
Net one_unit() {
    Net net({2, 1});
    net.template layer<0>().W() << 1, -1;
    net.template layer<0>().b() << 0.5;
    return net;
}

}  // namespace

TEST_CASE("a sigmoid head in an Mlp: logistic regression by hand", "[mlp][heads]") {
    using Net = Mlp<Dense<Identity, double>, descent::SigmoidCrossEntropy<>>;
    STATIC_REQUIRE(std::is_same_v<Net::head_type, descent::SigmoidCrossEntropy<double>>);
    auto net = one_unit<Net>();
    Eigen::MatrixXd x(2, 1);
    x << 1, 2;
    const std::vector<int> y{1};
    // l = -log σ(-0.5) = log(1 + e^0.5); ∇a = σ(-0.5) - 1; ∇W = ∇a xᵀ, ∇b = ∇a
    CHECK_THAT(net.compute_gradient(x, y), Catch::Matchers::WithinRel(std::log(1 + std::exp(0.5)), 1e-14));
    const double grad_a = sigma(-0.5) - 1;
    CHECK_THAT(net.layer<0>().grad_W()(0, 0), Catch::Matchers::WithinRel(grad_a, 1e-14));
    CHECK_THAT(net.layer<0>().grad_W()(0, 1), Catch::Matchers::WithinRel(2 * grad_a, 1e-14));
    CHECK_THAT(net.layer<0>().grad_b()(0), Catch::Matchers::WithinRel(grad_a, 1e-14));
    CHECK(net.predict(x) == std::vector<int>{0});
    CHECK(net.count_correct(y) == 0);
    CHECK_THAT(net.predict_proba(x)(0, 0), Catch::Matchers::WithinRel(sigma(-0.5), 1e-14));
    CHECK(net.classes() == 2);
}

TEST_CASE("a squared-error head in an Mlp: linear regression by hand", "[mlp][heads]") {
    using Net = Mlp<Dense<Identity, double>, descent::SquaredError<>>;
    auto net = one_unit<Net>();
    Eigen::MatrixXd x(2, 1), y(1, 1);
    x << 1, 2;
    y << 2;
    // l = ½ (-0.5 - 2)² = 3.125; ∇a = -2.5; ∇W = (-2.5, -5); ∇b = -2.5
    CHECK(net.compute_gradient(x, y) == 3.125);
    CHECK(net.layer<0>().grad_W()(0, 0) == -2.5);
    CHECK(net.layer<0>().grad_W()(0, 1) == -5);
    CHECK(net.layer<0>().grad_b()(0) == -2.5);
    CHECK(net.predict_values(x)(0, 0) == -0.5);
    CHECK(net.count_correct(y) == -1);
    CHECK(net.classes() == 0);
    // descend takes the same step: θ ← θ - α∇θ
    net.descend(x, y, 0.1);
    CHECK(net.layer<0>().W()(0, 0) == 1.25);
    CHECK(net.layer<0>().W()(0, 1) == -0.5);
    CHECK(net.layer<0>().b()(0) == 0.75);
}

TEST_CASE("the head is the last type of the list, its scalar following the layers'", "[mlp][heads]") {
    using Float = Mlp<Dense<Relu, float>, Dense<Identity, float>, descent::SquaredError<double>>;
    STATIC_REQUIRE(std::is_same_v<Float::head_type, descent::SquaredError<float>>);
    STATIC_REQUIRE(
        std::is_same_v<Float::rebind<double>,
                       Mlp<Dense<Relu, double>, Dense<Identity, double>, descent::SquaredError<double>>>);
    STATIC_REQUIRE(std::is_same_v<HandNet<float>::head_type, descent::SoftmaxCrossEntropy<float>>);
    STATIC_REQUIRE(Float::depth == 2);
    CHECK(std::string(Float({3, 4, 2}).head_name()) == "squared_error");
    CHECK(Float({3, 4, 2}).architecture().head == "squared_error");
}

TEMPLATE_TEST_CASE("predict and predict_proba take one sample as a span or a vector", "[mlp]", float,
                   double) {
    using T = TestType;
    auto net = hand_net<T>();
    const auto x = hand_x<T>();
    const std::vector<T> first{x(0, 0), x(1, 0)};
    CHECK(net.predict(first) == net.predict(x)[0]);
    CHECK(net.predict(std::span<const T>(first)) == net.predict(x)[0]);
    // A column goes through a matrix-vector product, the batch through a matrix product: the
    // sums may be ordered differently, so the last bits may differ.
    const T tolerance = std::is_same_v<T, float> ? T(1e-6) : T(1e-14);
    CHECK((net.predict_proba(first) - net.predict_proba(x).col(0)).cwiseAbs().maxCoeff() <= tolerance);
    CHECK_THROWS_AS(net.predict(std::vector<T>{1}), descent::shape_error);
    CHECK_THROWS_WITH(net.predict_proba(std::vector<T>{1, 2, 3}),
                      Contains("Mlp::predict_proba: a sample of 3 features, the first layer takes 2"));
}

TEST_CASE("count_correct counts the classes of the last forward pass", "[mlp]") {
    auto net = hand_net<double>();
    net.compute_gradient(hand_x<double>(), hand_y);
    CHECK(net.count_correct(hand_y) == 1);  // predictions {1, 1} against {0, 1}, as accuracy found
    CHECK(net.count_correct(std::vector<int>{1, 1}) == 2);
    CHECK_THROWS_AS(net.count_correct(std::vector<int>{1}), descent::shape_error);
}

TEST_CASE("label errors say when labels look numbered from 1, or a binary task has one softmax output",
          "[mlp][errors]") {
    Net net = trained_a_little();
    const Snapshot before(net);
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 4, 2);
    CHECK_THROWS_WITH(
        net.compute_gradient(x, std::vector<int>{1, 2, 3, 1}),
        Contains("label 3 of sample 2 is outside [0, 3); the labels look numbered from 1 (all in [1, 3], "
                 "none 0): descent numbers classes from 0, so subtract 1 from every label"));
    CHECK_THROWS_WITH(net.compute_gradient(x, std::vector<int>{0, 2, 3, 1}), !Contains("numbered from 1"));
    Mlp<Dense<descent::Tanh, double>, Dense<Identity, double>> one_output({3, 4, 1});
    CHECK_THROWS_WITH(
        one_output.loss(x, std::vector<int>{0, 1, 1, 0}),
        Contains("label 1 of sample 1 is outside [0, 1); a network of one output with "
                 "softmax_cross_entropy has one class, 0: for a binary task give it one output with "
                 "the sigmoid_cross_entropy head, or two outputs"));
    CHECK(before.same_as(net));
}

TEST_CASE("bad targets of every kind leave an Mlp unchanged", "[mlp][errors]") {
    using Regression = Mlp<Dense<descent::Tanh, double>, Dense<Identity, double>, descent::SquaredError<>>;
    Regression net({3, 4, 2}, 1);
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 4, 2);
    Eigen::MatrixXd y = descent::test::pseudo_random<double>(2, 4, 3);
    net.compute_gradient(x, y);
    const Eigen::VectorXd theta = net.parameters(), grad = net.gradient();
    y(1, 3) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(net.compute_gradient(x, y), descent::non_finite_error);
    CHECK_THROWS_AS(net.descend(x, y, 0.1), descent::non_finite_error);
    CHECK_THROWS_WITH(net.descend(x, y, 0.1), Contains("Mlp::descend: target holds nan at row 1, column 3"));
    const Eigen::MatrixXd short_y = Eigen::MatrixXd::Zero(2, 3);
    CHECK_THROWS_AS(net.loss(x, short_y), descent::shape_error);
    CHECK_THROWS_AS(net.compute_gradient(x, std::vector<int>{0, 1, 0, 1}), descent::label_error);
    CHECK_THROWS_AS(net.predict(x), descent::argument_error);
    CHECK(net.parameters() == theta);
    CHECK(net.gradient() == grad);
}

TEST_CASE("an Mlp from an Architecture: its own round trip, and mismatches named", "[mlp]") {
    using Deep = Mlp<Dense<descent::Tanh, double>, Dense<Relu, double>, Dense<Identity, double>>;
    Deep net({5, 4, 3, 2}, 6);
    net.set_dropout(2, 0.25);
    const descent::Architecture a = net.architecture();
    const Deep again(a, 6);
    CHECK(again.parameters() == net.parameters());
    CHECK(again.architecture() == a);
    CHECK(again.dropout(2) == 0.25);
    auto with = [&](auto change) {
        descent::Architecture b = a;
        change(b);
        try {
            Deep d(b);
        } catch (const descent::error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(with([](auto& b) { b.layers[1].activation = "sigmoid"; }),
               Contains("Mlp: layer 2 of the architecture is dense sigmoid, this Mlp's is dense relu"));
    CHECK_THAT(with([](auto& b) { b.head = "squared_error"; }),
               Contains("the architecture's head is squared_error, this Mlp's is softmax_cross_entropy"));
    CHECK_THAT(with([](auto& b) { b.scalar = "float"; }), Contains("use Mlp::rebind<float>"));
    CHECK_THAT(with([](auto& b) { b.layers.pop_back(); }),
               Contains("the architecture has 2 layers, this Mlp has 3"));
    CHECK_THAT(with([](auto& b) { b.layers[2].inputs = 7; }),
               Contains("layer 3 of the architecture takes 7 inputs"));
    CHECK_THAT(with([](auto& b) { b.layers[0].dropout = 1.5; }),
               Contains("has dropout 1.5, expected a rate in [0, 1)"));
    CHECK_THAT(with([](auto& b) { b.layers[2].dropout = 0.5; }), Contains("expected 0 on the output layer"));
    CHECK_THAT(with([](auto& b) { b.layers[1].outputs = b.layers[2].inputs = 0; }),
               Contains("size H_2 is 0"));
}

TEST_CASE("cast<double> of a float Mlp is the same network in double", "[mlp]") {
    Mlp<Dense<Relu, float>, Dense<Identity, float>> net({3, 4, 2}, 2);
    net.set_dropout(1, 0.5);
    const auto d = net.cast<double>();
    STATIC_REQUIRE(
        std::is_same_v<std::remove_cvref_t<decltype(d)>, Mlp<Dense<Relu, double>, Dense<Identity, double>>>);
    CHECK(d.parameters() == net.parameters().cast<double>());
    CHECK(d.dropout(1) == 0.5);
    CHECK(d.dropout_engine() == net.dropout_engine());
}
