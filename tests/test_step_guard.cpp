// The divergence guard: a guarded step refuses a non-finite objective, gradient or
// update before anything changes, naming where; fit stops a diverging run naming the
// epoch and the batch, with the network at its last finite parameters; clipping by norm.
#include <cmath>
#include <descent/error.hpp>
#include <descent/optimizers/adam.hpp>
#include <descent/optimizers/first_order.hpp>
#include <descent/optimizers/momentum.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/optimizers/step_guard.hpp>
#include <descent/regularizers/l2.hpp>
#include <descent/training/fit.hpp>
#include <limits>
#include <string>
#include <vector>

#include "file_support.hpp"
#include "training_support.hpp"

using Catch::Matchers::Contains;
using descent::test::blobs;
using descent::test::message_of;
using descent::test::same_bits;
using descent::test::same_snapshot;
using descent::test::SmallNet;

namespace {

using ReluNet =
    descent::Mlp<descent::Dense<descent::Relu, double>, descent::Dense<descent::Identity, double>>;

// A network whose objective is finite but whose gradient is not: every hidden unit is off
// (b(1) = -1e10, so h(1) = 0 and a(2) = b(2)), and W(2) is so large that
// ∇h(1) = W(2)ᵀ ∇a(2) overflows; ReLU's derivative 0 then turns the infinity into NaN in
// ∇a(1), hence in ∇W(1) and ∇b(1).
ReluNet overflowing_gradient() {  // for one sample of label 0
    ReluNet net({2, 2, 3}, 1);
    auto& hidden = net.layer<0>();
    hidden.b().setConstant(-1e10);
    auto& out = net.layer<1>();
    out.W().col(0) << -1.5e308, 1.5e308, 1.5e308;
    out.W().col(1) << -1.5e308, 1.5e308, 1.5e308;
    out.b().setZero();
    return net;
}

// The guard of every optimizer, on any refusal: θ, the state and t exactly as they were.
template <class Net, class Opt, class Step>
std::string refused(Net& net, Opt& optimizer, Step&& step) {
    const typename Net::Vector theta = net.parameters();
    const auto before = optimizer.snapshot();
    const auto message = message_of<descent::divergence_error>(step);
    CHECK(same_bits(net.parameters(), theta));
    CHECK(same_snapshot(optimizer.snapshot(), before));
    return message;
}

// θ ← θ - α sign(g), keeping no state and no check_update of its own: the guard falls back
// on keeping a copy of θ and putting it back.
class Overshoot : public descent::FirstOrder<Overshoot, descent::NoRegularization> {
public:
    explicit Overshoot(double learning_rate) : FirstOrder("Overshoot", learning_rate, 0.0, {}) {}

private:
    friend class descent::FirstOrder<Overshoot, descent::NoRegularization>;
    template <class Out, class Theta, class Gradient>
    void rule(Out&& out, Theta theta, const Gradient& g) {
        using S = typename Theta::Scalar;
        out(theta, theta - static_cast<S>(learning_rate()) * g.cwiseSign(), "θ",
            descent::detail::update_limit<S>());
    }
};

}  // namespace

TEST_CASE("gradient_norm is accumulated in double and survives what would overflow", "[divergence]") {
    Eigen::VectorXf g(3);
    g << 3, 4, 0;
    CHECK(descent::gradient_norm(g) == 5.0);
    g << 3e30f, 4e30f, 0;  // the squares overflow float, not double
    CHECK_THAT(descent::gradient_norm(g), Catch::Matchers::WithinRel(5e30, 1e-6));
    Eigen::VectorXd big(2);
    big << 3e200, 4e200;  // the squares overflow double: the scaled norm takes over
    CHECK_THAT(descent::gradient_norm(big), Catch::Matchers::WithinRel(5e200, 1e-12));
    big(1) = std::numeric_limits<double>::quiet_NaN();
    CHECK(std::isnan(descent::gradient_norm(big)));
}

TEMPLATE_TEST_CASE("clip_gradient scales a long gradient to the norm and leaves a short one", "[divergence]",
                   float, double) {
    using V = Eigen::Matrix<TestType, Eigen::Dynamic, 1>;
    V g(4);
    g << 3, -4, 0, 12;  // ‖g‖ = 13
    const V original = g;
    CHECK(descent::clip_gradient(g, 13.0) == 1.0);
    CHECK(same_bits(g, original));
    CHECK(descent::clip_gradient(g, 6.5) == 0.5);
    CHECK(same_bits(g, V(original * TestType(0.5))));
    CHECK_THAT(descent::gradient_norm(g),
               Catch::Matchers::WithinRel(6.5, descent::test::tolerance<TestType>()));
    const V clipped = g;
    CHECK_THROWS_WITH(descent::clip_gradient(g, -1.0),
                      Contains("clip_gradient: max_gradient_norm must be positive and finite, got -1"));
    CHECK_THROWS_AS(descent::clip_gradient(g, 0.0), descent::argument_error);
    CHECK(same_bits(g, clipped));
}

TEST_CASE("A guarded step refuses a non-finite objective, leaving θ and the state", "[divergence]") {
    const auto d = blobs<float>(3, 1);
    SmallNet<float> net({2, 4, 3}, 1);
    // Every parameter 1e38: h(1) = tanh(a(1)) = 1, a(2) = 1e38 · 4 + 1e38 overflows float,
    // and the softmax of infinite logits is NaN: l + λΩ is not finite.
    net.parameters().setConstant(1e38f);
    SECTION("Sgd") {
        descent::Sgd<> sgd(0.1);
        CHECK_THAT(refused(net, sgd, [&] { sgd.step(net, d.x, d.y, {}); }),
                   Contains("Sgd::step: the objective l + λΩ on this batch is") &&
                       Contains("θ and the optimizer's state are unchanged"));
    }
    SECTION("Momentum, on its first step: the state stays empty") {
        descent::Momentum<> momentum(0.1);
        CHECK_THAT(refused(net, momentum, [&] { momentum.step(net, d.x, d.y, {}); }),
                   Contains("Momentum::step"));
        CHECK(momentum.state().size() == 0);
    }
    SECTION("Adam, after good steps") {
        SmallNet<float> good({2, 4, 3}, 1);
        descent::Adam<descent::L2> adam(0.01, 1e-4);
        for (int t = 0; t < 3; ++t) adam.step(good, d.x, d.y, {});
        CHECK(adam.steps() == 3);
        CHECK_THAT(refused(net, adam, [&] { adam.step(net, d.x, d.y, {}); }), Contains("Adam::step"));
        CHECK(adam.steps() == 3);
    }
}

TEST_CASE("A guarded step refuses a non-finite gradient under a finite objective, naming the parameter",
          "[divergence]") {
    // One sample: ∇a(2) = f - e(0) = (-2/3, 1/3, 1/3), so ∇h(1) = 1.5e308 · 4/3 overflows.
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(2, 1, 4);
    const std::vector<int> y{0};
    auto net = overflowing_gradient();
    CHECK(std::isfinite(net.loss(x, y)));
    descent::Momentum<> momentum(0.1);
    const auto message = refused(net, momentum, [&] { momentum.step(net, x, y, {}); });
    CHECK_THAT(message, Contains("Momentum::step: ∇θ(l + λΩ) holds nan at W(1) row 0, column 0"));
    // The gradient is left for examination.
    CHECK(std::isnan(net.gradient()(0)));
}

TEST_CASE("A guarded step refuses an update that would overflow θ or the state", "[divergence]") {
    auto d = blobs<double>(3, 2);
    d.x *= 100;  // inputs of order 100 make ∇W(1) = ∇a(1) xᵀ of order 1 and more
    SmallNet<double> net({2, 4, 3}, 1);
    SECTION("Sgd with α = 1e308: θ - αg overflows where g is of order 1") {
        descent::Sgd<> sgd(1e308);
        CHECK_THAT(refused(net, sgd, [&] { sgd.step(net, d.x, d.y, {}); }),
                   Contains("Sgd::step: the update would make θ") && Contains(" at W(1) row ") &&
                       Contains("α = 1e+308"));
    }
    SECTION("Momentum") {
        descent::Momentum<> momentum(1e308);
        CHECK_THAT(refused(net, momentum, [&] { momentum.step(net, d.x, d.y, {}); }),
                   Contains("Momentum::step: the update would make θ"));
    }
    SECTION("Adam, whose step is about α whatever g") {
        descent::Adam<> adam(1e308);
        CHECK_THAT(refused(net, adam, [&] { adam.step(net, d.x, d.y, {}); }),
                   Contains("Adam::step: the update would make θ"));
    }
    SECTION("an optimizer without a check of its own: θ is put back") {
        Overshoot overshoot(1e308);
        CHECK_THAT(refused(net, overshoot, [&] { overshoot.step(net, d.x, d.y, {}); }),
                   Contains("Overshoot::step: the update would make θ"));
        CHECK(overshoot.steps() == 0);
        Overshoot fine(0.1);
        fine.step(net, d.x, d.y, {});
        CHECK(fine.steps() == 1);
    }
    SECTION("apply_gradient, on a gradient computed elsewhere") {
        descent::Sgd<> sgd(1e308);
        net.compute_gradient(d.x, d.y);
        CHECK_THAT(refused(net, sgd, [&] { sgd.apply_gradient(net); }),
                   Contains("Sgd::apply_gradient: the update would make θ"));
    }
}

TEST_CASE("A guarded step that passes is the plain step, and clipping rescales g first", "[divergence]") {
    const auto d = blobs<double>(4, 3);
    SmallNet<double> a({2, 4, 3}, 1);
    SmallNet<double> b = a;
    descent::Momentum<descent::L2> guarded(0.1, 1e-3);
    descent::Momentum<descent::L2> plain(0.1, 1e-3);
    for (int t = 0; t < 3; ++t) CHECK(guarded.step(a, d.x, d.y, {}) == plain.step(b, d.x, d.y));
    CHECK(same_bits(a.parameters(), b.parameters()));
    CHECK(same_snapshot(guarded.snapshot(), plain.snapshot()));

    // Clipping: g ← g c / ‖g‖, then the update, as by hand.
    SmallNet<double> c = a;
    descent::Sgd<descent::L2> sgd(0.5, 1e-3);
    descent::objective_gradient(c, d.x, d.y, descent::L2{}, 1e-3);
    const double norm = descent::gradient_norm(c.gradient());
    REQUIRE(norm > 0.01);
    const Eigen::VectorXd expected = c.parameters() - 0.5 * (c.gradient() * (0.01 / norm));
    sgd.step(c, d.x, d.y, descent::StepGuard{0.01});
    CHECK((c.parameters() - expected).cwiseAbs().maxCoeff() < 1e-15);
    CHECK_THAT(descent::gradient_norm(c.gradient()), Catch::Matchers::WithinRel(0.01, 1e-12));
    CHECK_THROWS_WITH(sgd.step(c, d.x, d.y, descent::StepGuard{-1}),
                      Contains("Sgd: max_gradient_norm must be non-negative and finite, got -1"));
}

TEST_CASE("Every step is guarded: the step without a StepGuard refuses the NaN too", "[divergence]") {
    const auto d = blobs<float>(3, 1);
    SmallNet<float> net({2, 4, 3}, 1);
    net.parameters().setConstant(1e38f);
    const Eigen::VectorXf before = net.parameters();
    descent::Sgd<> sgd(0.1);
    CHECK_THROWS_AS(sgd.step(net, d.x, d.y), descent::divergence_error);
    CHECK(net.parameters() == before);
    CHECK(sgd.steps() == 0);
}

TEST_CASE("fit stops a diverging run naming the epoch and batch, at the last finite θ", "[divergence]") {
    const auto d = blobs<float>(6, 5);  // 18 samples, batches of 4: 5 batches an epoch
    descent::FitOptions o;
    o.epochs = 3;
    o.batch_size = 4;
    o.seed = 2;
    // ReLU, unbounded: once θ is about 1e30, a(2) = W(2) h(1) is about 1e60, infinite in float.
    descent::Mlp<descent::Dense<descent::Relu, float>, descent::Dense<descent::Identity, float>> net(
        {2, 6, 3}, 1);
    std::vector<Eigen::VectorXf> after;  // θ after each step
    o.on_batch = [&](const descent::BatchReport&) { after.emplace_back(net.parameters()); };
    std::string message;
    SECTION("Sgd with α = 1e30: the first step takes θ to about 1e30, the second overflows") {
        descent::Sgd<> sgd(1e30);
        message = message_of<descent::divergence_error>([&] { descent::fit(net, sgd, d.x, d.y, o); });
        CHECK_THAT(message, Contains("fit: epoch 1, batch 2 of 5 (update 2): training diverged: Sgd::step") &&
                                Contains("keeps the parameters of the last finite step"));
        CHECK(sgd.steps() == 1);
    }
    SECTION("Adam, with a schedule that raises α after the first epoch") {
        descent::Adam<> adam(0.01);
        o.schedule = [](int epoch, std::int64_t) { return epoch == 0 ? 0.01 : 1e38; };
        message = message_of<descent::divergence_error>([&] { descent::fit(net, adam, d.x, d.y, o); });
        CHECK_THAT(message, Contains("fit: epoch 2, batch ") && Contains("training diverged: Adam::step"));
        CHECK(adam.steps() >= 5);
    }
    REQUIRE(!after.empty());
    CHECK(same_bits(net.parameters(), after.back()));
    CHECK(net.parameters().allFinite());
}

TEST_CASE("fit refuses a bad max_gradient_norm and clips like the guarded step", "[divergence]") {
    const auto d = blobs<double>(4, 6);
    descent::FitOptions o;
    o.epochs = 1;
    o.batch_size = 100;  // one full batch
    o.max_gradient_norm = -0.5;
    SmallNet<double> net({2, 4, 3}, 1);
    descent::Sgd<> sgd(0.3);
    CHECK_THROWS_WITH(descent::fit(net, sgd, d.x, d.y, o),
                      Contains("fit: max_gradient_norm must be non-negative and finite, got -0.5"));
    o.max_gradient_norm = 0.02;
    SmallNet<double> by_hand = net;
    descent::Sgd<> other(0.3);
    descent::fit(net, sgd, d.x, d.y, o);
    // One batch of all samples, in fit's shuffled order: the sum's order differs, so to rounding.
    other.step(by_hand, d.x, d.y, descent::StepGuard{0.02});
    CHECK((net.parameters() - by_hand.parameters()).cwiseAbs().maxCoeff() < 1e-15);
    // θ moved by α c = 0.006, the clipped step's length, and not by the unclipped one.
    CHECK_THAT((net.parameters() - SmallNet<double>({2, 4, 3}, 1).parameters()).norm(),
               Catch::Matchers::WithinRel(0.006, 1e-9));
}

// Momentum and Adam state their rule per parameter: the guard proves the update safe from
// bounds (max |g|, max |θ|, the state's ranges) and stores in one pass, or, when the bounds
// cannot, checks every value first. Both must be the same update, bit for bit, and the check
// must name the value and the parameter, in blocks of 512 parameters and across them.
TEMPLATE_TEST_CASE("Momentum and Adam: proved safe or checked value by value, the same step",
                   "[divergence]", float, double) {
    using Net = SmallNet<TestType>;
    constexpr Eigen::Index far = 1000;  // in the second block of 512 parameters
    Net proved({30, 40, 3}, 1);         // 1363 parameters
    REQUIRE(proved.parameters().size() > far);
    for (Eigen::Index i = 0; i < proved.gradient().size(); ++i)
        proved.gradient()(i) = static_cast<TestType>(std::sin(0.7 * static_cast<double>(i)));
    // A parameter beyond half θ's limit: no bound proves the update safe, yet every value of
    // it is within the limit, so the checked update is taken.
    Net checked = proved;
    const TestType huge = static_cast<TestType>(0.6 * descent::detail::update_limit<TestType>());
    checked.parameters()(far) = huge;
    auto same_but_far = [&](const auto& a, const auto& b) {
        Eigen::Matrix<TestType, Eigen::Dynamic, 1> x = a, y = b;
        x(far) = y(far) = 0;
        return same_bits(x, y);
    };
    SECTION("Momentum, over three updates") {
        descent::Momentum<> a(0.1), b(0.1);
        for (int t = 0; t < 3; ++t) {
            a.apply_gradient(proved);
            b.apply_gradient(checked);
        }
        CHECK(same_but_far(proved.parameters(), checked.parameters()));
        CHECK(same_bits(a.velocity(), b.velocity()));
        CHECK(b.steps() == 3);
    }
    SECTION("Adam, over three updates") {
        descent::Adam<> a(0.01), b(0.01);
        for (int t = 0; t < 3; ++t) {
            a.apply_gradient(proved);
            b.apply_gradient(checked);
        }
        CHECK(same_but_far(proved.parameters(), checked.parameters()));
        CHECK(same_bits(a.state(), b.state()));
        CHECK(b.steps() == 3);
    }
    SECTION("a velocity restored by hand that the update would take beyond its limit") {
        descent::Momentum<> momentum(1e-300, 0.0, {}, 0.9);
        momentum.apply_gradient(proved);
        momentum.state()(far) = 1e308;  // β∇̄θ + g: 9e307, beyond half of double's range
        const auto message = refused(proved, momentum, [&] { momentum.apply_gradient(proved); });
        CHECK_THAT(message, Contains("Momentum::apply_gradient: the update would make the velocity 9e+307 "
                                     "at W(1) row 0, column 25"));
        CHECK(momentum.steps() == 1);
    }
    SECTION("a second moment v set negative by hand: √v̂ is NaN, and θ with it") {
        descent::Adam<> adam(0.01);
        adam.apply_gradient(proved);
        adam.state()(proved.parameters().size() + far) = -1;
        const auto message = refused(proved, adam, [&] { adam.apply_gradient(proved); });
        CHECK_THAT(message,
                   Contains("Adam::apply_gradient: the update would make θ nan at W(1) row 0, column 25"));
    }
}
