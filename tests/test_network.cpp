// Network: the run-time network. Built from a spec, from code and from an Architecture; Mlp's
// interface and Mlp's numbers, bit for bit (every activation, float and double, batch 1 and a
// minibatch, compute_gradient and descend, every head, dropout); the three heads at run time;
// bad input (typed errors, nothing changed); copies, moves and casts.
#include <cmath>
#include <type_traits>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/sigmoid.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/error.hpp>
#include <descent/layers/dense.hpp>
#include <descent/losses/sigmoid_cross_entropy.hpp>
#include <descent/losses/squared_error.hpp>
#include <descent/mlp.hpp>
#include <descent/network.hpp>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using descent::Architecture;
using descent::Dense;
using descent::Identity;
using descent::Mlp;
using descent::Network;

namespace {

template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

}  // namespace

TEST_CASE("a spec, code and an Architecture build the same network", "[network]") {
    const Network<float> from_spec("6-5:tanh:dropout=0.25-4:relu-3", 7);
    const Network<float> from_code(6, {{5, "tanh", 0.25}, {4}}, 3, "softmax_cross_entropy", 7);
    const Network<float> from_architecture(from_spec.architecture(), 7);
    CHECK(from_spec.parameters() == from_code.parameters());
    CHECK(from_spec.parameters() == from_architecture.parameters());
    CHECK(from_spec.architecture() == from_code.architecture());

    const Architecture a = from_spec.architecture();
    REQUIRE(a.layers.size() == 3);
    CHECK(a.layers[0] == descent::LayerSpec{"dense", "tanh", 6, 5, 0.25});
    CHECK(a.layers[1] == descent::LayerSpec{"dense", "relu", 5, 4, 0.0});
    CHECK(a.layers[2] == descent::LayerSpec{"dense", "identity", 4, 3, 0.0});
    CHECK(a.head == "softmax_cross_entropy");
    CHECK(a.scalar == "float");
    CHECK(from_spec.spec() == "6-5:tanh:dropout=0.25-4:relu-3");
    CHECK(from_spec.depth() == 3);
    CHECK(from_spec.sizes() == std::vector<Eigen::Index>{6, 5, 4, 3});
    CHECK(from_spec.inputs() == 6);
    CHECK(from_spec.outputs() == 3);
    CHECK(from_spec.classes() == 3);
    CHECK(std::string(from_spec.head_name()) == "softmax_cross_entropy");
    CHECK(from_spec.dropout(1) == 0.25);
    CHECK(from_spec.dropout(2) == 0.0);
}

TEST_CASE("a Network's blocks and layers view its one buffer, as Mlp's do", "[network]") {
    Network<double> net("5-4:tanh-3:relu-2", 1);
    const Mlp<Dense<descent::Tanh, double>, Dense<descent::Relu, double>, Dense<Identity, double>> mlp(
        {5, 4, 3, 2}, 1);
    REQUIRE(net.parameter_blocks().size() == mlp.parameter_blocks().size());
    for (std::size_t k = 0; k < net.parameter_blocks().size(); ++k) {
        const auto& a = net.parameter_blocks()[k];
        const auto& b = mlp.parameter_blocks()[k];
        CHECK((a.name == b.name && a.offset == b.offset && a.rows == b.rows && a.cols == b.cols &&
               a.is_weight == b.is_weight));
    }
    auto& second = std::get<Dense<descent::Relu, double>>(net.layer(1));
    CHECK(second.W().data() == net.parameters().data() + 24);
    second.b()(2) = -7.0;
    CHECK(net.parameters()(38) == -7.0);
    CHECK(std::holds_alternative<Dense<Identity, double>>(net.layer(2)));
    CHECK_THROWS_AS(net.layer(3), descent::argument_error);
    CHECK_THROWS_WITH(net.layer(3), Contains("Network::layer: index 3 is outside [0, 3)"));
}

// ---------------------------------------------------------------------------------------------
// The same numbers as Mlp, bit for bit.

namespace {

// Trains an Mlp and the Network of its architecture side by side, by compute_gradient and
// θ -= α∇θ, then by descend, and requires θ to stay equal bit for bit.
template <class MlpType>
void check_bit_for_bit(MlpType mlp, const descent::test::Matrix<typename MlpType::Scalar>& x,
                       const auto& targets) {
    using T = typename MlpType::Scalar;
    Network<T> net(mlp.architecture(), 3);
    mlp.initialize(3);
    REQUIRE(net.parameters() == mlp.parameters());
    const T alpha = T(0.05);
    for (int step = 0; step < 4; ++step) {
        const T l_mlp = mlp.compute_gradient(x, targets);
        const T l_net = net.compute_gradient(x, targets);
        CHECK(l_mlp == l_net);
        REQUIRE(mlp.gradient() == net.gradient());
        mlp.parameters() -= alpha * mlp.gradient();
        net.parameters() -= alpha * net.gradient();
    }
    for (int step = 0; step < 4; ++step)
        CHECK(mlp.descend(x, targets, alpha) == net.descend(x, targets, alpha));
    CHECK(mlp.parameters() == net.parameters());
    CHECK(mlp.forward(x) == net.forward(x));
    CHECK(mlp.parameters() != MlpType(mlp.sizes(), 3).parameters());  // θ did move
}

template <class T, class Act>
void check_activation(Eigen::Index batch) {
    CAPTURE(Act::name, batch);
    using Net = Mlp<Dense<Act, T>, Dense<Act, T>, Dense<Identity, T>>;
    const auto x = (T(1.5) * descent::test::pseudo_random<T>(6, batch, 11)).eval();
    check_bit_for_bit(Net({6, 12, 8, 3}), x, descent::test::labels_cycling(batch, 3));
}

}  // namespace

TEMPLATE_TEST_CASE("a Network trains to the θ of the Mlp of its architecture, bit for bit", "[network]",
                   float, double) {
    using T = TestType;
    for (const Eigen::Index batch : {1, 7}) {
        check_activation<T, Identity>(batch);
        check_activation<T, descent::Sigmoid>(batch);
        check_activation<T, descent::Tanh>(batch);
        check_activation<T, descent::Relu>(batch);
    }
}

TEMPLATE_TEST_CASE("bit for bit with every head and with dropout", "[network]", float, double) {
    using T = TestType;
    for (const Eigen::Index batch : {1, 5}) {
        CAPTURE(batch);
        const auto x = descent::test::pseudo_random<T>(4, batch, 12);
        SECTION("sigmoid, binary") {
            using Net = Mlp<Dense<descent::Tanh, T>, Dense<Identity, T>, descent::SigmoidCrossEntropy<>>;
            check_bit_for_bit(Net({4, 6, 1}), x, descent::test::labels_cycling(batch, 2));
        }
        SECTION("sigmoid, multi-label") {
            using Net = Mlp<Dense<descent::Relu, T>, Dense<Identity, T>, descent::SigmoidCrossEntropy<T>>;
            const descent::test::Matrix<T> y =
                (descent::test::pseudo_random<T>(3, batch, 13).array() > T(0)).template cast<T>().matrix();
            check_bit_for_bit(Net({4, 6, 3}), x, y);
        }
        SECTION("squared error") {
            using Net = Mlp<Dense<descent::Sigmoid, T>, Dense<Identity, T>, descent::SquaredError<>>;
            const descent::test::Matrix<T> y = descent::test::pseudo_random<T>(2, batch, 14);
            check_bit_for_bit(Net({4, 6, 2}), x, y);
        }
        SECTION("dropout on both hidden layers") {
            using Net = Mlp<Dense<descent::Relu, T>, Dense<descent::Tanh, T>, Dense<Identity, T>>;
            Net mlp({4, 9, 7, 3});
            mlp.set_dropout(1, 0.5);
            mlp.set_dropout(2, 0.2);
            check_bit_for_bit(mlp, x, descent::test::labels_cycling(batch, 3));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The heads at run time.

TEST_CASE("a binary Network: one sigmoid output, labels 0 and 1", "[network]") {
    Network<double> net("3-5:tanh-1:sigmoid", 2);
    CHECK(net.classes() == 2);
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 6, 1);
    const std::vector<int> y{0, 1, 1, 0, 1, 0};
    const Eigen::MatrixXd a = net.forward(x);
    const Eigen::MatrixXd f = net.predict_proba(x);
    const auto predicted = net.predict(x);
    int correct = 0;
    for (Eigen::Index j = 0; j < 6; ++j) {
        CHECK_THAT(f(0, j), Catch::Matchers::WithinRel(1 / (1 + std::exp(-a(0, j))), 1e-14));
        CHECK(predicted[static_cast<std::size_t>(j)] == (a(0, j) > 0 ? 1 : 0));
        correct += predicted[static_cast<std::size_t>(j)] == y[static_cast<std::size_t>(j)];
    }
    CHECK(net.count_correct(y) == correct);
    CHECK(net.accuracy(x, y) == correct / 6.0);
    CHECK(net.predict_values(x) == (a.array() > 0).cast<double>().matrix());
    const double l = net.loss(x, y);
    double expected = 0;
    for (Eigen::Index j = 0; j < 6; ++j)
        expected -= y[static_cast<std::size_t>(j)] ? std::log(f(0, j)) : std::log(1 - f(0, j));
    CHECK_THAT(l, Catch::Matchers::WithinRel(expected / 6, 1e-12));
}

TEST_CASE("a multi-label Network: K sigmoid outputs, a 0/1 target matrix", "[network]") {
    Network<float> net(4, {{8, "relu"}}, 3, "sigmoid_cross_entropy", 5);
    const Eigen::MatrixXf x = descent::test::pseudo_random<float>(4, 5, 2);
    const Eigen::MatrixXf y =
        (descent::test::pseudo_random<float>(3, 5, 3).array() > 0).cast<float>().matrix();
    CHECK_THROWS_AS(net.predict(x), descent::argument_error);
    CHECK_THROWS_WITH(net.predict(x),
                      Contains("Network::predict: the sigmoid_cross_entropy head with 3 outputs") &&
                          Contains("use predict_values (a 0/1 decision per output)"));
    const Eigen::MatrixXf decided = net.predict_values(x);
    const Eigen::MatrixXf a = net.forward(x);
    CHECK(decided == (a.array() > 0).cast<float>().matrix());
    Eigen::Index correct = 0;
    for (Eigen::Index j = 0; j < 5; ++j) correct += decided.col(j) == y.col(j);
    CHECK(net.count_correct(y) == correct);
    CHECK(net.accuracy(x, y) == static_cast<double>(correct) / 5);
    CHECK(std::isfinite(net.compute_gradient(x, y)));
    CHECK_THROWS_AS(net.compute_gradient(x, std::vector<int>{0, 1, 0, 1, 0}), descent::label_error);
}

TEST_CASE("a regression Network: squared error on real targets", "[network]") {
    Network<double> net("3-6:tanh-2:identity", 4);
    CHECK(std::string(net.head_name()) == "squared_error");
    CHECK(net.classes() == 0);
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 4, 4);
    const Eigen::MatrixXd y = descent::test::pseudo_random<double>(2, 4, 5);
    const Eigen::MatrixXd a = net.forward(x);
    CHECK(net.predict_values(x) == a);
    CHECK_THAT(net.loss(x, y), Catch::Matchers::WithinRel(0.5 * (a - y).squaredNorm() / 4, 1e-14));
    CHECK(net.count_correct(y) == -1);
    CHECK_THROWS_AS(net.accuracy(x, y), descent::argument_error);
    CHECK_THROWS_WITH(net.accuracy(x, y),
                      Contains("squared_error head predicts real values, it has no accuracy"));
    CHECK_THROWS_WITH(net.predict_proba(x),
                      Contains("gives real values, not probabilities: use predict_values"));
    CHECK_THROWS_WITH(net.predict(x), Contains("use predict_values (the values f(x))"));
    // A step of plain gradient descent lowers the loss on the batch.
    const double before = net.loss(x, y);
    for (int t = 0; t < 20; ++t) net.descend(x, y, 0.1);
    CHECK(net.loss(x, y) < before);
}

TEMPLATE_TEST_CASE("one sample as a span or a vector is the batch of one", "[network]", float, double) {
    using T = TestType;
    Network<T> net("4-6:sigmoid-3", 8);
    const auto x = descent::test::pseudo_random<T>(4, 3, 6);
    const auto batch = net.predict(x);
    const auto probabilities = net.predict_proba(x);
    for (Eigen::Index j = 0; j < 3; ++j) {
        const std::vector<T> sample(x.col(j).data(), x.col(j).data() + 4);
        CHECK(net.predict(sample) == batch[static_cast<std::size_t>(j)]);
        CHECK(net.predict(std::span<const T>(sample)) == batch[static_cast<std::size_t>(j)]);
        // One column goes through a matrix-vector product, the batch through a matrix product:
        // the sums may be ordered differently, so the last bits may differ.
        const T tolerance = std::is_same_v<T, float> ? T(1e-6) : T(1e-14);
        CHECK((net.predict_proba(sample) - probabilities.col(j)).cwiseAbs().maxCoeff() <= tolerance);
        CHECK(net.predict_values(sample) == net.predict_values(x.col(j)));
    }
    CHECK_THROWS_AS(net.predict(std::vector<T>{1, 2, 3}), descent::shape_error);
    CHECK_THROWS_WITH(net.predict(std::vector<T>{1, 2, 3}),
                      Contains("Network::predict: a sample of 3 features, the first layer takes 4"));
    CHECK_THROWS_AS(net.predict_proba(std::vector<T>{1, 2, 3, std::numeric_limits<T>::quiet_NaN()}),
                    descent::non_finite_error);
}

TEST_CASE("count_correct counts the last forward pass, whichever made it", "[network]") {
    Network<double> net("3-4:relu-3", 1);
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 5, 7);
    const auto y = descent::test::labels_cycling(5, 3);
    net.compute_gradient(x, y);
    const auto predicted = net.predict(x);  // the same θ: the same classes
    Eigen::Index correct = 0;
    for (std::size_t j = 0; j < 5; ++j) correct += predicted[j] == y[j];
    CHECK(net.count_correct(y) == correct);
    net.forward(x.leftCols(2));
    CHECK_THROWS_AS(net.count_correct(y), descent::shape_error);
    CHECK_THROWS_WITH(
        net.count_correct(y),
        Contains("Network::count_correct: targets for 5 samples, but the last forward pass had 2"));
    const std::vector<int> bad{0, 3};
    CHECK_THROWS_AS(net.count_correct(bad), descent::label_error);
}

// ---------------------------------------------------------------------------------------------
// Bad input.

namespace {

using descent::test::Snapshot;

std::string message_of(const Architecture& a) {
    try {
        Network<float> net(a);
    } catch (const descent::error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("an architecture a Network cannot be is refused, naming what and where", "[network][errors]") {
    const Architecture good = descent::make_architecture(4, {{5, "relu"}, {3, "tanh"}}, 2);
    REQUIRE(message_of(good) == "no error");
    auto with = [&](auto change) {
        Architecture a = good;
        change(a);
        return message_of(a);
    };
    CHECK_THAT(with([](Architecture& a) { a.layers.clear(); }),
               Contains("Network: the architecture has no layer"));
    CHECK_THAT(with([](Architecture& a) { a.layers[1].kind = "conv"; }),
               Contains("Network: layer 2 of 3 is of kind \"conv\"; expected dense"));
    CHECK_THAT(
        with([](Architecture& a) { a.layers[0].activation = "softplus"; }),
        Contains("layer 1 of 3 has activation \"softplus\"; expected identity, sigmoid, tanh or relu"));
    CHECK_THAT(with([](Architecture& a) { a.layers[2].activation = "sigmoid"; }),
               Contains("layer 3 of 3 (the output layer) has activation sigmoid; expected identity"));
    CHECK_THAT(with([](Architecture& a) { a.layers[1].outputs = 0; }),
               Contains("layer 2 of 3 has 5 inputs and 0 outputs"));
    CHECK_THAT(with([](Architecture& a) { a.layers[1].inputs = 6; }),
               Contains("layer 2 of 3 takes 6 inputs but layer 1 gives 5 outputs"));
    CHECK_THAT(with([](Architecture& a) { a.layers[0].dropout = 1; }),
               Contains("layer 1 of 3 has dropout 1; expected a rate in [0, 1)"));
    CHECK_THAT(with([](Architecture& a) { a.layers[2].dropout = 0.5; }),
               Contains("expected 0 on the output layer"));
    CHECK_THAT(
        with([](Architecture& a) { a.head = "hinge"; }),
        Contains("Network: unknown head \"hinge\"; expected softmax_cross_entropy, sigmoid_cross_entropy or "
                 "squared_error"));
    CHECK_THAT(with([](Architecture& a) { a.scalar = "double"; }),
               Contains("Network<float>: the architecture is of double (build a Network<double>)"));
    CHECK_THAT(
        with([](Architecture& a) { a.layers[0].outputs = a.layers[1].inputs = Eigen::Index(1) << 62; }),
        Contains("beyond what an Eigen::Index counts"));
    CHECK_THROWS_AS(Network<float>("4-5:relu-"), descent::argument_error);
    Architecture chain = good;
    chain.layers[1].inputs = 6;
    CHECK_THROWS_AS(Network<float>(chain), descent::shape_error);
}

TEST_CASE("bad input to a Network is a typed error, and nothing changes", "[network][errors]") {
    Network<double> net("3-4:tanh-3", 8);
    const Eigen::MatrixXd x0 = descent::test::pseudo_random<double>(3, 5, 1);
    net.compute_gradient(x0, descent::test::labels_cycling(5, 3));
    net.set_dropout(1, 0.5);
    const Snapshot before(net);
    const descent::Engine engine = net.dropout_engine();
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 4, 2);
    const std::vector<int> y{0, 1, 3, 2};
    CHECK_THROWS_AS(net.compute_gradient(x, y), descent::label_error);
    CHECK_THROWS_WITH(net.compute_gradient(x, y),
                      Contains("Network::compute_gradient: label 3 of sample 2 is outside [0, 3)"));
    CHECK_THROWS_AS(net.descend(x, y, 0.1), descent::label_error);
    CHECK_THROWS_WITH(net.descend(x, y, 0.1), Contains("Network::descend"));
    CHECK_THROWS_AS(net.loss(x, std::vector<int>{0, 1}), descent::shape_error);
    const Eigen::MatrixXd real = Eigen::MatrixXd::Zero(3, 4);
    CHECK_THROWS_AS(net.compute_gradient(x, real), descent::label_error);
    CHECK_THROWS_WITH(net.compute_gradient(x, real), Contains("takes one class label per sample"));
    const Eigen::MatrixXd wide = descent::test::pseudo_random<double>(4, 4, 3);
    CHECK_THROWS_AS(net.descend(wide, std::vector<int>{0, 1, 2, 0}, 0.1), descent::shape_error);
    CHECK_THROWS_WITH(net.forward(wide), Contains("Network::forward: input has 4 rows"));
    Eigen::MatrixXd nan = x;
    nan(2, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(net.compute_gradient(nan, std::vector<int>{0, 1, 2, 0}), descent::non_finite_error);
    CHECK_THROWS_AS(net.predict(Eigen::MatrixXd(3, 0)), descent::argument_error);
    CHECK_THROWS_AS(net.set_dropout(1, 1.5), descent::argument_error);
    CHECK_THROWS_AS(net.set_dropout(2, 0.5), descent::argument_error);
    CHECK(before.same_as(net));
    CHECK(net.dropout(1) == 0.5);
    CHECK(net.dropout_engine() == engine);  // no mask was drawn for a call that threw
}

// ---------------------------------------------------------------------------------------------
// Copies, moves, casts.

namespace {

template <class Net>
bool network_views_own_buffers(Net& net) {
    return std::visit([&](auto& layer) { return layer.W().data() == net.parameters().data(); },
                      net.layer(0)) &&
           std::visit([&](auto& layer) { return layer.grad_W().data() == net.gradient().data() + 16; },
                      net.layer(1));
}

}  // namespace

TEST_CASE("a copied or moved Network trains on its own buffers", "[network]") {
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 6, 10);
    const auto y = descent::test::labels_cycling(6, 3);
    Network<double> original("3-4:relu-3", 3);
    const Eigen::VectorXd theta = original.parameters();
    Network<double> copy(original);
    CHECK(network_views_own_buffers(copy));
    for (int t = 0; t < 5; ++t) copy.descend(x, y, 0.5);
    CHECK(copy.parameters() != theta);
    CHECK(original.parameters() == theta);
    Network<double> assigned("2-2", 0);
    assigned = copy;
    CHECK(network_views_own_buffers(assigned));
    CHECK(assigned.parameters() == copy.parameters());
    std::vector<Network<double>> nets;
    nets.push_back(std::move(original));
    for (int k = 0; k < 8; ++k) nets.emplace_back("3-4:relu-3", k);
    CHECK(nets[0].parameters() == theta);
    for (auto& net : nets) CHECK(network_views_own_buffers(net));
    const double first = nets[0].loss(x, y);
    for (int t = 0; t < 5; ++t) nets[0].descend(x, y, 0.5);
    CHECK(nets[0].loss(x, y) < first);
}

TEST_CASE("cast<double> is the same network in double", "[network]") {
    Network<float> net("3-4:sigmoid:dropout=0.25-2:sigmoid", 4);
    net.fix_dropout_masks(6);
    const Network<double> d = net.cast<double>();
    STATIC_REQUIRE(std::is_same_v<Network<float>::rebind<double>, Network<double>>);
    CHECK(d.parameters() == net.parameters().cast<double>());
    CHECK(d.architecture().scalar == "double");
    CHECK(d.dropout(1) == 0.25);
    CHECK(d.dropout_masks_fixed());
    CHECK(d.dropout_mask_seed() == 6);
    CHECK(std::string(d.head_name()) == "sigmoid_cross_entropy");
}
