// Optimizer snapshots: restored into a fresh optimizer of the same kind and
// hyperparameters, a snapshot continues the run bit for bit; anything else is refused
// with the reason, and the refusal changes nothing.
#include <descent/error.hpp>
#include <descent/optimizers/adam.hpp>
#include <descent/optimizers/momentum.hpp>
#include <descent/optimizers/optimizer_snapshot.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/regularizers/l2.hpp>
#include <limits>

#include "training_support.hpp"

using Catch::Matchers::Contains;
using descent::test::blobs;
using descent::test::same_bits;
using descent::test::same_snapshot;
using descent::test::SmallNet;

namespace {

template <class T, class Make>
void check_continues(Make make) {
    const auto d = blobs<T>(5, 7);
    SmallNet<T> a({2, 5, 3}, 1);
    auto first = make();
    for (int t = 0; t < 3; ++t) first.step(a, d.x, d.y, {});
    first.set_learning_rate(0.03);  // as a schedule would have
    const auto saved = first.snapshot();
    CHECK(saved.steps == 3);

    SmallNet<T> b = a;
    auto second = make();
    second.restore(saved, b.parameters().size());
    CHECK(second.learning_rate() == 0.03);
    for (int t = 0; t < 3; ++t) CHECK(first.step(a, d.x, d.y, {}) == second.step(b, d.x, d.y, {}));
    CHECK(same_bits(a.parameters(), b.parameters()));
    CHECK(same_snapshot(first.snapshot(), second.snapshot()));
}

}  // namespace

TEMPLATE_TEST_CASE("A restored snapshot continues the run bit for bit", "[optimizer_snapshot]", float,
                   double) {
    check_continues<TestType>([] { return descent::Sgd<descent::L2>(0.1, 1e-3); });
    check_continues<TestType>([] { return descent::Momentum<descent::L2>(0.1, 1e-3, {}, 0.8); });
    check_continues<TestType>(
        [] { return descent::Momentum<>(0.1, 0, {}, 0.9, descent::MomentumKind::nesterov); });
    check_continues<TestType>([] { return descent::Adam<descent::L2>(0.01, 1e-4, {}, 0.8, 0.99, 1e-7); });
}

TEST_CASE("A snapshot names the optimizer, its regularizer and hyperparameters", "[optimizer_snapshot]") {
    const auto s = descent::Adam<descent::L2>(0.01, 1e-4, {}, 0.8, 0.99, 1e-7).snapshot();
    CHECK(s.optimizer == "Adam");
    CHECK(s.regularizer == "l2");
    CHECK(s.learning_rate == 0.01);
    const std::vector<std::pair<std::string, double>> settings{
        {"lambda", 1e-4}, {"beta1", 0.8}, {"beta2", 0.99}, {"epsilon", 1e-7}};
    CHECK(s.settings == settings);
    CHECK(s.steps == 0);
    CHECK(s.state.size() == 0);
    CHECK(descent::Sgd<>(0.1).snapshot().settings ==
          std::vector<std::pair<std::string, double>>{{"lambda", 0.0}});
}

TEST_CASE("A snapshot that does not fit is refused with the reason, changing nothing",
          "[optimizer_snapshot]") {
    const auto d = blobs<double>(5, 7);
    SmallNet<double> net({2, 5, 3}, 1);
    descent::Momentum<> source(0.1);
    source.step(net, d.x, d.y);
    auto saved = source.snapshot();
    const auto p = net.parameters().size();

    descent::Momentum<> target(0.2);
    target.step(net, d.x, d.y);
    target.step(net, d.x, d.y);
    const auto before = target.snapshot();
    std::string expected;
    Eigen::Index parameters = p;
    SECTION("another optimizer") {
        saved.optimizer = "Adam";
        expected = "it holds the state of Adam, this optimizer is Momentum";
    }
    SECTION("another regularizer") {
        saved.regularizer = "l1";
        expected = "its regularizer is l1, this optimizer's is none";
    }
    SECTION("another β") {
        saved.settings[1].second = 0.5;
        expected = "its beta is 0.5, this optimizer's is 0.9";
    }
    SECTION("a missing hyperparameter") {
        saved.settings.pop_back();
        expected = "it has 2 hyperparameters, Momentum has 3";
    }
    SECTION("a state of another size") {
        parameters = p + 1;
        expected = "its state holds " + std::to_string(p) + " values, expected " + std::to_string(p + 1);
    }
    SECTION("a non-finite state") {
        saved.state(4) = std::numeric_limits<double>::infinity();
        expected = "its state holds inf at index 4";
    }
    SECTION("a bad α or t") {
        saved.learning_rate = -1;
        expected = "its learning rate is -1, expected positive and finite";
    }
    SECTION("a negative t") {
        saved.steps = -2;
        expected = "its step count is -2";
    }
    CHECK_THAT(target.mismatch(saved, parameters), Contains(expected));
    CHECK_THROWS_AS(target.restore(saved, parameters), descent::argument_error);
    CHECK_THROWS_WITH(target.restore(saved, parameters), Contains("Momentum::restore: " + expected));
    CHECK(same_snapshot(target.snapshot(), before));
}

TEST_CASE("set_steps refuses a negative count, and reset forgets state and t", "[optimizer_snapshot]") {
    descent::Adam<> adam;
    adam.set_steps(4);
    CHECK_THROWS_WITH(adam.set_steps(-1), Contains("Adam: the step count must be at least 0, got -1"));
    CHECK(adam.steps() == 4);
    adam.state() = Eigen::VectorXd::Ones(6);
    adam.reset();
    CHECK(adam.steps() == 0);
    CHECK(adam.state().size() == 0);
}
