// check_gradients: backpropagation against central finite differences for every
// hidden activation x every regulariser x depth 1 to 3, in double and from float
// networks; and proof that the checker fails when a derivative is wrong.
#include <algorithm>
#include <cstdio>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/sigmoid.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/checking/gradient_check.hpp>
#include <descent/error.hpp>
#include <descent/layers/dense.hpp>
#include <descent/losses/sigmoid_cross_entropy.hpp>
#include <descent/losses/squared_error.hpp>
#include <descent/mlp.hpp>
#include <descent/network.hpp>
#include <descent/regularizers/l1.hpp>
#include <descent/regularizers/l2.hpp>
#include <descent/regularizers/no_regularization.hpp>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "support.hpp"

using descent::Dense;
using descent::Identity;
using descent::Mlp;

namespace {

constexpr Eigen::Index inputs = 4, classes = 3, batch = 6;

// The sizes {H_0, ..., H_(L+1)} of a network of `depth` Dense layers.
std::vector<Eigen::Index> sizes_for(std::size_t depth) {
    if (depth == 1) return {inputs, classes};
    if (depth == 2) return {inputs, 5, classes};
    return {inputs, 5, 4, classes};
}

// A network away from its initial state: biases nonzero too, so that their gradients are tested
// at a generic point (at b = 0, tanh and the identity are odd and some terms would cancel).
template <class Net>
Net generic_network(unsigned seed) {
    Net net(sizes_for(Net::depth), seed);
    net.parameters() += typename Net::Scalar(0.3) * descent::test::pseudo_random<typename Net::Scalar>(
                                                        net.parameters().size(), 1, seed + 1);
    return net;
}

template <class T>
descent::test::Matrix<T> batch_x() {
    return (T(1.5) * descent::test::pseudo_random<T>(inputs, batch, 17)).eval();
}

double worst_of(const std::vector<descent::BlockCheck>& checks) {
    double worst = 0;
    for (const auto& c : checks) worst = std::max(worst, c.max_relative_error);
    return worst;
}

struct Cell {
    std::string activation, regularizer;
    std::size_t depth;
    double error;
};

// Checks one network type with one regulariser and records the worst error.
template <class Net, class Omega>
void check_cell(const char* activation, const Omega& omega, double lambda, std::vector<Cell>& cells) {
    const Net net = generic_network<Net>(static_cast<unsigned>(Net::depth) * 10 + 3);
    const auto x = batch_x<typename Net::Scalar>();
    const auto y = descent::test::labels_cycling(batch, classes);
    const auto checks = descent::check_gradients(net, x, y, omega, lambda);
    REQUIRE(checks.size() == 2 * Net::depth);
    CHECK(checks.front().name == "W(1)");
    CHECK(checks.back().name == "b(" + std::to_string(Net::depth) + ")");
    const double worst = worst_of(checks);
    INFO(activation << " / " << Omega::name << " / depth " << Net::depth);
    CHECK(worst < 1e-6);
    cells.push_back({activation, Omega::name, Net::depth, worst});
}

// Depth 2 and 3 with hidden activation Act (depth 1 has no hidden layer).
template <class T, class Act, class Omega>
void check_activation(const Omega& omega, double lambda, std::vector<Cell>& cells) {
    check_cell<Mlp<Dense<Act, T>, Dense<Identity, T>>>(Act::name, omega, lambda, cells);
    check_cell<Mlp<Dense<Act, T>, Dense<Act, T>, Dense<Identity, T>>>(Act::name, omega, lambda, cells);
}

template <class T, class Omega>
void check_regularizer(const Omega& omega, double lambda, std::vector<Cell>& cells) {
    check_cell<Mlp<Dense<Identity, T>>>("(output only)", omega, lambda, cells);
    check_activation<T, descent::Sigmoid>(omega, lambda, cells);
    check_activation<T, descent::Tanh>(omega, lambda, cells);
    check_activation<T, descent::Relu>(omega, lambda, cells);
    check_activation<T, Identity>(omega, lambda, cells);
}

std::string summary(const std::vector<Cell>& cells) {
    std::map<std::string, double> by_activation, by_regularizer, by_depth;
    for (const auto& c : cells) {
        by_activation[c.activation] = std::max(by_activation[c.activation], c.error);
        by_regularizer[c.regularizer] = std::max(by_regularizer[c.regularizer], c.error);
        const std::string depth = "depth " + std::to_string(c.depth);
        by_depth[depth] = std::max(by_depth[depth], c.error);
    }
    std::string out;
    char line[160];
    auto section = [&](const char* title, const std::map<std::string, double>& m) {
        out += title;
        for (const auto& [name, error] : m) {
            std::snprintf(line, sizeof line, "  %s %.2e;", name.c_str(), error);
            out += line;
        }
        out += "\n";
    };
    section("worst relative error by activation:", by_activation);
    section("by regularizer:", by_regularizer);
    section("by depth:", by_depth);
    for (const auto& c : cells) {
        std::snprintf(line, sizeof line, "  %-14s %-5s depth %zu: %.2e\n", c.activation.c_str(),
                      c.regularizer.c_str(), c.depth, c.error);
        out += line;
    }
    return out;
}

}  // namespace

TEMPLATE_TEST_CASE("backpropagation matches finite differences: every activation x regulariser x depth 1-3",
                   "[gradient_check]", float, double) {
    using T = TestType;
    std::vector<Cell> cells;
    check_regularizer<T>(descent::NoRegularization{}, 0.0, cells);
    check_regularizer<T>(descent::L2{}, 0.1, cells);
    check_regularizer<T>(descent::L1{}, 0.1, cells);
    REQUIRE(cells.size() == 3 * (1 + 4 * 2));
    WARN((std::is_same_v<T, float> ? "float networks (checked in double)\n" : "double networks\n")
         << summary(cells));
}

TEST_CASE("a float network is checked as its exact double copy", "[gradient_check]") {
    using FloatNet = Mlp<Dense<descent::Tanh, float>, Dense<Identity, float>>;
    using DoubleNet = FloatNet::rebind<double>;
    const FloatNet f = generic_network<FloatNet>(5);
    DoubleNet d(f.sizes());
    d.parameters() = f.parameters().cast<double>();
    const auto xf = batch_x<float>();
    const Eigen::MatrixXd xd = xf.cast<double>();
    const auto y = descent::test::labels_cycling(batch, classes);
    const auto from_float = descent::check_gradients(f, xf, y, descent::L2{}, 0.1);
    const auto from_double = descent::check_gradients(d, xd, y, descent::L2{}, 0.1);
    REQUIRE(from_float.size() == from_double.size());
    for (std::size_t k = 0; k < from_float.size(); ++k) {
        CHECK(from_float[k].name == from_double[k].name);
        CHECK(from_float[k].max_relative_error == from_double[k].max_relative_error);
        CHECK(from_float[k].worst_index == from_double[k].worst_index);
    }
}

// ---------------------------------------------------------------------------------------------
// The checker can fail.

namespace {

// A sigmoid whose g' is 10% too large: a bug of the kind the checker exists to find.
struct SigmoidWithWrongDerivative {
    static constexpr const char* name = "wrong_sigmoid";
    template <class D>
    static auto value(const Eigen::ArrayBase<D>& a) {
        return a.logistic();
    }
    template <class DA, class DH>
    static auto derivative(const Eigen::ArrayBase<DA>&, const Eigen::ArrayBase<DH>& h) {
        using S = typename DH::Scalar;
        return S(1.1) * h * (S(1) - h);
    }
};

// L2 with the 2 of ∇Ω = 2W forgotten.
struct L2WithWrongGradient {
    static constexpr const char* name = "wrong_l2";
    template <class W>
    double value(const W& w) const {
        return static_cast<double>(w.squaredNorm());
    }
    template <class W, class G, class S>
    void add_gradient(const W& w, S lambda, G&& g) const {
        using T = typename std::decay_t<G>::Scalar;
        g += static_cast<T>(lambda) * w;
    }
};

}  // namespace

TEST_CASE("a wrong activation derivative gives a large error, in the layers below it only",
          "[gradient_check]") {
    using Net = Mlp<Dense<SigmoidWithWrongDerivative, double>, Dense<Identity, double>>;
    const Net net = generic_network<Net>(3);
    const auto checks =
        descent::check_gradients(net, batch_x<double>(), descent::test::labels_cycling(batch, classes));
    REQUIRE(checks.size() == 4);
    // ∇a(1) = ∇h(1) ⊙ g'(a(1)) is 10% off: so are ∇W(1) and ∇b(1) ...
    CHECK(checks[0].max_relative_error > 0.05);
    CHECK(checks[1].max_relative_error > 0.05);
    // ... but W(2) and b(2) take their gradient from the loss, above the activation.
    CHECK(checks[2].max_relative_error < 1e-6);
    CHECK(checks[3].max_relative_error < 1e-6);
}

TEST_CASE("a wrong regulariser gradient gives a large error in the weights, not the biases",
          "[gradient_check]") {
    using Net = Mlp<Dense<descent::Tanh, double>, Dense<Identity, double>>;
    const Net net = generic_network<Net>(4);
    const auto x = batch_x<double>();
    const auto y = descent::test::labels_cycling(batch, classes);
    const auto checks = descent::check_gradients(net, x, y, L2WithWrongGradient{}, 0.5);
    REQUIRE(checks.size() == 4);
    CHECK(checks[0].max_relative_error > 0.05);  // W(1)
    CHECK(checks[1].max_relative_error < 1e-6);  // b(1): never regularised
    CHECK(checks[2].max_relative_error > 0.05);  // W(2)
    CHECK(checks[3].max_relative_error < 1e-6);  // b(2)
    // With λ = 0 the wrong gradient is never used.
    CHECK(worst_of(descent::check_gradients(net, x, y, L2WithWrongGradient{}, 0.0)) < 1e-6);
}

TEST_CASE("the worst index points at the entry that is wrong", "[gradient_check]") {
    // A ReLU layer whose single kink sits exactly on one pre-activation: there the one-sided
    // subgradient 0 and the central difference (which sees half a slope) disagree, and
    // nowhere else.
    using Net = Mlp<Dense<descent::Relu, double>, Dense<Identity, double>>;
    Net net({1, 2, 2});
    net.layer<0>().W() << 1, 1;
    net.layer<0>().b() << 0, 1;  // a(1) = (x, x + 1): unit 1 at its kink for x = 0
    // clang-format off
    net.layer<1>().W() << 1, -1,
                          -2, 0.5;
    // clang-format on
    net.layer<1>().b() << 0.1, -0.1;
    Eigen::MatrixXd x(1, 1);
    x << 0.0;
    const std::vector<int> y{1};
    const auto checks = descent::check_gradients(net, x, y);
    REQUIRE(checks.size() == 4);
    CHECK(checks[0].max_relative_error < 1e-6);  // ∂a/∂W(1) = x = 0: both gradients are 0
    CHECK(checks[1].name == "b(1)");
    CHECK(checks[1].max_relative_error > 0.5);  // analytic 0 against half the one-sided slope
    CHECK(checks[1].worst_index == 0);          // b(1)_1, the unit at its kink
    CHECK(checks[2].max_relative_error < 1e-6);
    CHECK(checks[3].max_relative_error < 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Network, every head, dropout.

namespace {

// The targets each head takes, for `batch` samples of a network with `outputs` outputs.
template <class T>
descent::test::Matrix<T> zero_one(Eigen::Index outputs, unsigned seed) {
    return (descent::test::pseudo_random<T>(outputs, batch, seed).array() > T(0)).template cast<T>().matrix();
}

template <class Net>
double worst_for_head(const Net& net, const std::string& head, double lambda) {
    using T = typename Net::Scalar;
    const auto x = batch_x<T>();
    if (head == "softmax")
        return worst_of(descent::check_gradients(net, x, descent::test::labels_cycling(batch, classes),
                                                 descent::L2{}, lambda));
    if (head == "binary")
        return worst_of(
            descent::check_gradients(net, x, descent::test::labels_cycling(batch, 2), descent::L2{}, lambda));
    if (head == "multi-label")
        return worst_of(descent::check_gradients(net, x, zero_one<T>(3, 21), descent::L2{}, lambda));
    const descent::test::Matrix<T> y = descent::test::pseudo_random<T>(2, batch, 22);
    return worst_of(descent::check_gradients(net, x, y, descent::L2{}, lambda));
}

// The output width and spec suffix of each head.
const std::vector<std::pair<std::string, std::string>> heads{
    {"softmax", "3"}, {"binary", "1:sigmoid"}, {"multi-label", "3:sigmoid"}, {"regression", "2:identity"}};

}  // namespace

TEMPLATE_TEST_CASE("backpropagation matches finite differences in a Network: every head x activation",
                   "[gradient_check]", float, double) {
    using T = TestType;
    for (const char* activation : {"identity", "sigmoid", "tanh", "relu"})
        for (const auto& [head, output] : heads) {
            CAPTURE(activation, head);
            const std::string spec = "4-5:" + std::string(activation) + "-4:" + activation + "-" + output;
            descent::Network<T> net(spec, 7);
            net.parameters() += T(0.3) * descent::test::pseudo_random<T>(net.parameters().size(), 1, 8);
            CHECK(worst_for_head(net, head, 0.1) < 1e-6);
        }
}

TEMPLATE_TEST_CASE("with fixed dropout masks the gradient matches finite differences", "[gradient_check]",
                   float, double) {
    using T = TestType;
    SECTION("Network, every head") {
        for (const auto& [head, output] : heads) {
            CAPTURE(head);
            descent::Network<T> net("4-6:tanh:dropout=0.5-5:sigmoid:dropout=0.3-" + output, 9);
            net.fix_dropout_masks(4);
            CHECK(worst_for_head(net, head, 0.1) < 1e-6);
        }
    }
    SECTION("Mlp") {
        Mlp<Dense<descent::Relu, T>, Dense<descent::Tanh, T>, Dense<Identity, T>> net({inputs, 6, 5, classes},
                                                                                      2);
        net.set_dropout(1, 0.4);
        net.set_dropout(2, 0.4);
        net.fix_dropout_masks(5);
        CHECK(worst_for_head(net, "softmax", 0.0) < 1e-6);
        // The masks matter: a network without them has another gradient.
        auto plain = net;
        plain.set_dropout(1, 0);
        plain.set_dropout(2, 0);
        const auto x = batch_x<T>();
        const auto y = descent::test::labels_cycling(batch, classes);
        net.compute_gradient(x, y);
        plain.compute_gradient(x, y);
        CHECK(net.gradient() != plain.gradient());
    }
}

TEST_CASE("dropout with fresh masks at every pass cannot be checked, and says so", "[gradient_check]") {
    descent::Network<double> net("4-5:tanh:dropout=0.5-3", 1);
    CHECK_THROWS_AS(
        descent::check_gradients(net, batch_x<double>(), descent::test::labels_cycling(batch, classes)),
        descent::argument_error);
    CHECK_THROWS_WITH(
        descent::check_gradients(net, batch_x<double>(), descent::test::labels_cycling(batch, classes)),
        Catch::Matchers::Contains("call fix_dropout_masks(seed)"));
}
