// Learning-rate schedules, by hand, and as fit applies them before every step.
#include <cstdint>
#include <descent/activations/identity.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/adam.hpp>
#include <descent/optimizers/momentum.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/training/fit.hpp>
#include <descent/training/schedule.hpp>
#include <utility>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinRel;
using descent::ConstantRate;
using descent::InverseTimeDecay;
using descent::StepDecay;

static_assert(descent::LearningRateSchedule<ConstantRate>);
static_assert(descent::LearningRateSchedule<StepDecay>);
static_assert(descent::LearningRateSchedule<InverseTimeDecay>);

TEST_CASE("ConstantRate gives α whatever the epoch and t", "[schedule]") {
    const ConstantRate constant(0.03);
    CHECK(constant(0, 0) == 0.03);
    CHECK(constant(7, 12345) == 0.03);
}

TEST_CASE("StepDecay gives α γ^floor(epoch / every)", "[schedule]") {
    const StepDecay decay(0.1, 0.5, 3);
    // epochs 0, 1, 2: 0.1; 3, 4, 5: 0.05; 6: 0.025; 9: 0.0125; t plays no part.
    CHECK_THAT(decay(0, 0), WithinRel(0.1, 1e-15));
    CHECK_THAT(decay(2, 999), WithinRel(0.1, 1e-15));
    CHECK_THAT(decay(3, 0), WithinRel(0.05, 1e-15));
    CHECK_THAT(decay(5, 0), WithinRel(0.05, 1e-15));
    CHECK_THAT(decay(6, 0), WithinRel(0.025, 1e-15));
    CHECK_THAT(decay(9, 0), WithinRel(0.0125, 1e-15));
    // γ = 1 never decays.
    CHECK(StepDecay(0.2, 1.0, 1)(50, 0) == 0.2);
}

TEST_CASE("InverseTimeDecay gives α / (1 + β t)", "[schedule]") {
    const InverseTimeDecay decay(0.1, 0.5);
    // t = 0: 0.1; t = 1: 0.1 / 1.5 = 1/15; t = 2: 0.1 / 2 = 0.05; t = 10: 0.1 / 6 = 1/60.
    CHECK_THAT(decay(0, 0), WithinRel(0.1, 1e-15));
    CHECK_THAT(decay(0, 1), WithinRel(1.0 / 15, 1e-15));
    CHECK_THAT(decay(3, 2), WithinRel(0.05, 1e-15));
    CHECK_THAT(decay(0, 10), WithinRel(1.0 / 60, 1e-15));
    // β = 0 is constant.
    CHECK(InverseTimeDecay(0.1, 0.0)(4, 1000000) == 0.1);
}

TEST_CASE("Schedules refuse bad parameters, naming them", "[schedule]") {
    CHECK_THROWS_AS(ConstantRate(0), descent::argument_error);
    CHECK_THROWS_WITH(ConstantRate(-0.1),
                      Contains("ConstantRate: alpha must be positive and finite, got -0.1"));
    CHECK_THROWS_WITH(StepDecay(0.1, 0.0, 2), Contains("StepDecay: gamma must be in (0, 1], got 0"));
    CHECK_THROWS_WITH(StepDecay(0.1, 1.5, 2), Contains("StepDecay: gamma must be in (0, 1], got 1.5"));
    CHECK_THROWS_WITH(StepDecay(0.1, 0.5, 0), Contains("StepDecay: every must be at least 1, got 0"));
    CHECK_THROWS_WITH(StepDecay(std::nan(""), 0.5, 1),
                      Contains("StepDecay: alpha must be positive and finite, got nan"));
    CHECK_THROWS_WITH(InverseTimeDecay(0.1, -1),
                      Contains("InverseTimeDecay: beta must be non-negative and finite, got -1"));
    CHECK_THROWS_AS(InverseTimeDecay(0.0, 1), descent::argument_error);
}

namespace {

using Net = descent::test::SmallNet<double>;

// 10 samples by batches of 4: 3 steps per epoch (4, 4, 2).
struct Data {
    Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 10, 5);
    std::vector<int> y = descent::test::labels_cycling(10, 2);
};

}  // namespace

TEST_CASE("fit asks the schedule before every step, with t counting updates across epochs", "[schedule]") {
    Data d;
    Net net({3, 4, 2}, 1);
    descent::Sgd sgd(1.0);
    std::vector<std::pair<int, std::int64_t>> calls;
    descent::FitOptions options;
    options.epochs = 2;
    options.batch_size = 4;
    options.schedule = [&](int epoch, std::int64_t t) {
        calls.emplace_back(epoch, t);
        return InverseTimeDecay(0.1, 0.5)(epoch, t);
    };
    const auto reports = descent::fit(net, sgd, d.x, d.y, options);
    const std::vector<std::pair<int, std::int64_t>> expected{{0, 0}, {0, 1}, {0, 2}, {1, 3}, {1, 4}, {1, 5}};
    CHECK(calls == expected);
    // The last step used α = 0.1 / (1 + 0.5·5) = 0.1 / 3.5; the reports carry each epoch's last α.
    CHECK_THAT(sgd.learning_rate(), WithinRel(0.1 / 3.5, 1e-15));
    CHECK_THAT(reports[0].learning_rate, WithinRel(0.1 / 2.0, 1e-15));
    CHECK_THAT(reports[1].learning_rate, WithinRel(0.1 / 3.5, 1e-15));
}

TEST_CASE("A scheduled fit takes the same steps as Sgd with α set by hand", "[schedule]") {
    Data d;
    Net scheduled({3, 4, 2}, 2);
    Net by_hand = scheduled;
    descent::Sgd a(1.0);
    descent::FitOptions options;
    options.epochs = 2;
    options.batch_size = 10;  // one step per epoch, in a known order: all samples, shuffled
    options.schedule = StepDecay(0.2, 0.5, 1);
    descent::fit(scheduled, a, d.x, d.y, options);
    // Full batches: the shuffle does not change the mean gradient (up to rounding).
    descent::Sgd b(0.2);
    b.step(by_hand, d.x, d.y);
    b.set_learning_rate(0.1);
    b.step(by_hand, d.x, d.y);
    CHECK(scheduled.parameters().isApprox(by_hand.parameters(), 1e-12));
}

TEST_CASE("Schedules compose with Momentum and Adam", "[schedule]") {
    Data d;
    Net net({3, 4, 2}, 3);
    descent::FitOptions options;
    options.epochs = 3;
    options.batch_size = 5;
    options.schedule = StepDecay(0.05, 0.1, 1);
    descent::Momentum momentum(1.0);
    descent::fit(net, momentum, d.x, d.y, options);
    CHECK_THAT(momentum.learning_rate(), WithinRel(0.0005, 1e-12));
    descent::Adam adam(1.0);
    descent::fit(net, adam, d.x, d.y, options);
    CHECK_THAT(adam.learning_rate(), WithinRel(0.0005, 1e-12));
    CHECK(adam.steps() == 6);
}

namespace {
// An optimizer whose α cannot be changed: only the Optimizer concept.
struct FixedStep {
    template <class N>
    double step(N& net, const Eigen::Ref<const typename N::Matrix>& x, std::span<const int> y) {
        return descent::Sgd(0.1).step(net, x, y);
    }
};
}  // namespace

TEST_CASE("fit refuses a schedule it cannot apply, and a schedule's bad α", "[schedule]") {
    Data d;
    Net net({3, 4, 2}, 1);
    const Eigen::VectorXd theta = net.parameters();
    descent::FitOptions options;
    options.schedule = ConstantRate(0.1);
    FixedStep fixed;
    CHECK_THROWS_WITH(descent::fit(net, fixed, d.x, d.y, options),
                      Contains("the optimizer has no set_learning_rate"));
    CHECK(net.parameters() == theta);
    options.schedule = [](int, std::int64_t) { return 0.0; };
    descent::Sgd sgd(0.1);
    CHECK_THROWS_WITH(descent::fit(net, sgd, d.x, d.y, options),
                      Contains("Sgd: learning rate must be positive and finite, got 0"));
    // Without a schedule, fit does not touch α.
    options.schedule = nullptr;
    descent::fit(net, sgd, d.x, d.y, options);
    CHECK(sgd.learning_rate() == 0.1);
}
