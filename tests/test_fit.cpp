// fit: the training loop. Per-example SGD learns XOR, minibatch SGD separates
// three blobs, one report per epoch, the same seeds give the same weights bit for
// bit, and bad options or data throw before any step.
#include <cmath>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/detail/random.hpp>
#include <descent/error.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/objective.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/regularizers/l2.hpp>
#include <descent/threads.hpp>
#include <descent/training/fit.hpp>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using descent::Dense;
using descent::FitOptions;
using descent::Identity;
using descent::Mlp;
using descent::Sgd;
using descent::test::Samples;
using descent::test::separated_blobs;

namespace {

template <class T>
Samples<T> xor_data() {
    Samples<T> d{descent::test::Matrix<T>(2, 4), {0, 1, 1, 0}};
    // clang-format off
    d.x << 0, 0, 1, 1,
           0, 1, 0, 1;
    // clang-format on
    return d;
}

FitOptions options(int epochs, Eigen::Index batch_size, std::uint64_t seed) {
    FitOptions o;
    o.epochs = epochs;
    o.batch_size = batch_size;
    o.seed = seed;
    return o;
}

template <class T>
using BlobNet = Mlp<Dense<descent::Relu, T>, Dense<Identity, T>>;

}  // namespace

TEMPLATE_TEST_CASE("per-example SGD (batch_size 1) learns XOR to 100%", "[fit]", float, double) {
    using T = TestType;
    const auto d = xor_data<T>();
    Mlp<Dense<descent::Tanh, T>, Dense<Identity, T>> net({2, 4, 2}, 1);
    Sgd sgd(0.1);
    const auto reports = descent::fit(net, sgd, d.x, d.y, options(1000, 1, 1));
    CHECK(net.accuracy(d.x, d.y) == 1.0);
    CHECK(net.predict(d.x) == d.y);
    CHECK(reports.back().loss < 0.05);
    CHECK(reports.back().loss < reports.front().loss);
}

TEMPLATE_TEST_CASE("minibatch SGD separates three blobs", "[fit]", float, double) {
    using T = TestType;
    const auto train = separated_blobs<T>(50, 1);
    const auto held_out = separated_blobs<T>(100, 2);
    BlobNet<T> net({2, 8, 3}, 4);
    const double chance = net.accuracy(train.x, train.y);
    Sgd sgd(0.3);
    descent::fit(net, sgd, train.x, train.y, options(30, 10, 4));
    CHECK(chance < 0.8);  // the problem is not solved before training
    CHECK(net.accuracy(train.x, train.y) >= 0.95);
    CHECK(net.accuracy(held_out.x, held_out.y) >= 0.95);
}

TEST_CASE("one report per epoch, handed to on_epoch too, with a decreasing loss", "[fit]") {
    const auto d = separated_blobs<double>(20, 3);
    BlobNet<double> net({2, 6, 3}, 2);
    // Full-batch gradient descent with a small α: the objective falls at every epoch.
    Sgd<descent::L2> sgd(0.1, 1e-3);
    const double start = descent::objective(net, d.x, d.y, descent::L2{}, 1e-3);
    std::vector<descent::EpochReport> seen;
    auto o = options(15, 1000, 9);
    o.on_epoch = [&](const descent::EpochReport& r) { seen.push_back(r); };
    const auto reports = descent::fit(net, sgd, d.x, d.y, o);

    REQUIRE(reports.size() == 15);
    REQUIRE(seen.size() == 15);
    for (std::size_t e = 0; e < reports.size(); ++e) {
        CHECK(reports[e].epoch == static_cast<int>(e) + 1);
        CHECK(seen[e].epoch == reports[e].epoch);
        CHECK(seen[e].loss == reports[e].loss);
        CHECK(reports[e].seconds >= 0);
        CHECK(std::isfinite(reports[e].loss));
        if (e > 0) CHECK(reports[e].loss < reports[e - 1].loss);
    }
    // One batch per epoch: the first report is l + λΩ at the initial θ (summed in another order).
    CHECK_THAT(reports.front().loss, Catch::Matchers::WithinRel(start, 1e-12));
    CHECK(reports.back().loss < 0.8 * reports.front().loss);
}

TEST_CASE("an on_epoch that returns true stops training after that epoch", "[fit]") {
    const auto d = separated_blobs<double>(20, 3);
    BlobNet<double> net({2, 6, 3}, 2);
    BlobNet<double> same({2, 6, 3}, 2);
    Sgd<> sgd(0.1);
    Sgd<> same_sgd(0.1);
    auto o = options(15, 8, 9);
    int calls = 0;
    o.on_epoch = [&](const descent::EpochReport& r) { return ++calls, r.epoch == 4; };
    const auto reports = descent::fit(net, sgd, d.x, d.y, o);
    CHECK(reports.size() == 4);
    CHECK(calls == 4);
    // The same run asked for 4 epochs ends with the same θ, bit for bit.
    auto four = options(4, 8, 9);
    descent::fit(same, same_sgd, d.x, d.y, four);
    CHECK(net.parameters() == same.parameters());
}

TEST_CASE("fit warns once, through on_warning, when a feature looks unstandardised", "[fit]") {
    auto d = separated_blobs<double>(20, 3);
    std::vector<std::string> warnings;
    auto o = options(2, 8, 9);
    o.on_warning = [&](const std::string& w) { warnings.push_back(w); };
    BlobNet<double> net({2, 6, 3}, 2);
    Sgd<> sgd(0.01);
    descent::fit(net, sgd, d.x, d.y, o);
    CHECK(warnings.empty());  // blobs of unit scale: nothing to say

    d.x.row(1) *= 1000.0;  // feature 1 in the thousands: a variance of about 1e6
    const double variance = (d.x.row(1).array() - d.x.row(1).mean()).square().sum() / double(d.x.cols() - 1);
    REQUIRE(variance > descent::unstandardised_variance);
    descent::fit(net, sgd, d.x, d.y, o);
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Contains("fit: warning: feature 1 of the inputs has variance"));
    CHECK_THAT(warnings[0], Contains("Standardizer"));
    CHECK_THAT(warnings[0], !Contains(" more features"));  // feature 0 is still of unit scale
    d.x.row(0) *= 1000.0;
    descent::fit(net, sgd, d.x, d.y, o);
    REQUIRE(warnings.size() == 2);
    CHECK_THAT(warnings[1], Contains("and 1 more features have a variance above 10000"));
}

// fit takes guarded steps (step with a StepGuard), which Sgd never fuses into backpropagation:
// the guard must see ∇θ before θ changes.
TEST_CASE("an epoch of batch_size 1 is Sgd's guarded step on each sample in the shuffled order", "[fit]") {
    const auto d = separated_blobs<double>(4, 5);
    BlobNet<double> by_fit({2, 3, 3}, 8);
    BlobNet<double> by_hand(by_fit);
    Sgd sgd(0.2);
    descent::fit(by_fit, sgd, d.x, d.y, options(1, 1, 77));

    // fit's order: Fisher-Yates over 0..n-1 from Engine(seed).
    std::vector<Eigen::Index> order(static_cast<std::size_t>(d.x.cols()));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    descent::Engine engine(77);
    descent::detail::shuffle(std::span(order), engine);
    for (const Eigen::Index t : order)
        sgd.step(by_hand, d.x.col(t), std::span<const int>(&d.y[static_cast<std::size_t>(t)], 1),
                 descent::StepGuard{});
    CHECK(by_fit.parameters() == by_hand.parameters());
}

TEST_CASE("a batch_size above the sample count is one full batch", "[fit]") {
    const auto d = separated_blobs<double>(5, 6);
    BlobNet<double> by_fit({2, 3, 3}, 8);
    BlobNet<double> by_hand(by_fit);
    Sgd sgd(0.2);
    const auto reports = descent::fit(by_fit, sgd, d.x, d.y, options(1, 1000, 3));
    const double l = sgd.step(by_hand, d.x, d.y);
    CHECK_THAT(reports[0].loss, Catch::Matchers::WithinRel(l, 1e-12));
    // Equal up to the order in which the batch's columns were summed.
    CHECK((by_fit.parameters() - by_hand.parameters()).cwiseAbs().maxCoeff() < 1e-14);
}

TEMPLATE_TEST_CASE("the same seeds give the same weights bit for bit, other seeds do not", "[fit]", float,
                   double) {
    using T = TestType;
    const auto d = separated_blobs<T>(20, 7);
    auto train = [&](std::uint64_t init_seed, std::uint64_t shuffle_seed) {
        BlobNet<T> net({2, 8, 3}, init_seed);
        Sgd<descent::L2> sgd(0.1, 1e-3);
        descent::fit(net, sgd, d.x, d.y, options(5, 7, shuffle_seed));
        return Eigen::Matrix<T, Eigen::Dynamic, 1>(net.parameters());
    };
    const auto first = train(1, 2);
    const auto second = train(1, 2);
    CHECK(first == second);
    CHECK(first != train(3, 2));  // another initialisation
    CHECK(first != train(1, 4));  // another order of the samples
}

// ---------------------------------------------------------------------------------------------
// Bad options and data: the typed error, before any step, θ unchanged.

TEST_CASE("fit with bad options or data throws before any step", "[fit][errors]") {
    BlobNet<double> net({2, 4, 3}, 1);
    Sgd sgd(0.1);
    const Eigen::VectorXd theta = net.parameters();
    auto d = separated_blobs<double>(4, 8);
    int calls = 0;
    auto o = options(3, 4, 0);
    o.on_epoch = [&](const descent::EpochReport&) { ++calls; };

    SECTION("epochs 0") {
        o.epochs = 0;
        CHECK_THROWS_AS(descent::fit(net, sgd, d.x, d.y, o), descent::argument_error);
        CHECK_THROWS_WITH(descent::fit(net, sgd, d.x, d.y, o),
                          Contains("fit") && Contains("epochs") && Contains("got 0"));
    }
    SECTION("batch size 0") {
        o.batch_size = 0;
        CHECK_THROWS_AS(descent::fit(net, sgd, d.x, d.y, o), descent::argument_error);
        CHECK_THROWS_WITH(descent::fit(net, sgd, d.x, d.y, o),
                          Contains("fit") && Contains("batch_size") && Contains("got 0"));
    }
    SECTION("a label outside [0, C), late in the set") {
        d.y.back() = 3;
        CHECK_THROWS_AS(descent::fit(net, sgd, d.x, d.y, o), descent::label_error);
        CHECK_THROWS_WITH(descent::fit(net, sgd, d.x, d.y, o),
                          Contains("fit") && Contains("label 3 of sample 11"));
    }
    SECTION("a wrong input width") {
        const Eigen::MatrixXd wide = descent::test::pseudo_random<double>(3, 12, 1);
        CHECK_THROWS_AS(descent::fit(net, sgd, wide, d.y, o), descent::shape_error);
        CHECK_THROWS_WITH(descent::fit(net, sgd, wide, d.y, o), Contains("3 rows") && Contains("takes 2"));
    }
    SECTION("a NaN in the input, late in the set") {
        d.x(1, 10) = std::numeric_limits<double>::quiet_NaN();
        CHECK_THROWS_AS(descent::fit(net, sgd, d.x, d.y, o), descent::non_finite_error);
        CHECK_THROWS_WITH(descent::fit(net, sgd, d.x, d.y, o),
                          Contains("nan") && Contains("row 1, column 10"));
    }
    SECTION("a label count mismatch") {
        d.y.pop_back();
        CHECK_THROWS_AS(descent::fit(net, sgd, d.x, d.y, o), descent::shape_error);
        CHECK_THROWS_WITH(descent::fit(net, sgd, d.x, d.y, o), Contains("11 labels for 12 samples"));
    }
    SECTION("an empty training set") {
        const Eigen::MatrixXd empty(2, 0);
        CHECK_THROWS_AS(descent::fit(net, sgd, empty, std::span<const int>(), o), descent::argument_error);
    }
    CHECK(net.parameters() == theta);
    CHECK(calls == 0);
}

// On 2 threads the hidden layer's products are cut into slabs that the pool's worker and the
// caller compute at once (detail/gemm.hpp): the run must end where it ends on 1 thread, up to
// the order of the sums inside a product. Sized so that those products are cut (256 x 64 x 64
// multiply-adds, 8 slabs' worth); .ci/stages/25-threads.sh runs it under ThreadSanitizer.
TEST_CASE("fit on 2 threads trains as on 1", "[fit][threads]") {
    using Net = Mlp<Dense<descent::Relu, double>, Dense<Identity, double>>;
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(64, 256, 11);
    const std::vector<int> y = descent::test::labels_cycling(256, 4);
    const int saved = descent::threads();
    auto train = [&](int threads, Net& net) {
        descent::set_threads(threads);
        Sgd sgd(0.05);
        return descent::fit(net, sgd, x, y, options(3, 64, 9));
    };
    Net one({64, 256, 4}, 5), two({64, 256, 4}, 5);
    const auto on_one = train(1, one);
    const auto on_two = train(2, two);
    descent::set_threads(saved);
    REQUIRE(on_two.size() == on_one.size());
    for (std::size_t e = 0; e < on_one.size(); ++e)
        CHECK_THAT(on_two[e].loss, Catch::Matchers::WithinRel(on_one[e].loss, 1e-12));
    CHECK(on_two.back().loss < on_two.front().loss);
    const double scale = one.parameters().cwiseAbs().maxCoeff();
    CHECK((two.parameters() - one.parameters()).cwiseAbs().maxCoeff() <= 1e-12 * scale);
}
