// The strong guarantee at every public entry point that can throw on bad input: the call
// throws its typed error and leaves the network (θ and ∇θ) and the optimizer (α, t and its
// state, after some good steps too) exactly as they were, bit for bit. One TEST_CASE per
// entry point, named "strong guarantee: <entry point>", so that
//   test_strong_guarantee --list-tests
// counts them.
#include <cmath>
#include <descent/checking/gradient_check.hpp>
#include <descent/data/dataset.hpp>
#include <descent/data/standardizer.hpp>
#include <descent/error.hpp>
#include <descent/io/checkpoint.hpp>
#include <descent/io/model_file.hpp>
#include <descent/optimizers/adam.hpp>
#include <descent/optimizers/momentum.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/regularizers/l2.hpp>
#include <descent/threads.hpp>
#include <descent/optimizers/step_guard.hpp>
#include <descent/training/early_stopping.hpp>
#include <descent/training/fit.hpp>
#include <descent/training/schedule.hpp>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "file_support.hpp"
#include "training_support.hpp"

using descent::test::blobs;
using descent::test::contents;
using descent::test::same_bits;
using descent::test::same_snapshot;
using descent::test::SmallNet;
using descent::test::TempDir;

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
using FloatNet = SmallNet<float>;
using Matrix = descent::test::Matrix<float>;

// What a throw must leave alone: θ and ∇θ of a network, bit for bit.
template <class N>
struct NetState {
    explicit NetState(const N& net) : theta(net.parameters()), gradient(net.gradient()) {}
    void check(const N& net) const {
        CHECK(same_bits(net.parameters(), theta));
        CHECK(same_bits(net.gradient(), gradient));
    }
    typename N::Vector theta, gradient;
};

// Runs f, which must throw E, and checks that net and optimizer are as they were.
template <class E, class N, class F>
void refuses(N& net, F&& f) {
    const NetState<N> before(net);
    CHECK_THROWS_AS(f(), E);
    before.check(net);
}
template <class E, class N, class Opt, class F>
void refuses(N& net, Opt& optimizer, F&& f) {
    const auto snapshot = optimizer.snapshot();
    refuses<E>(net, f);
    CHECK(same_snapshot(optimizer.snapshot(), snapshot));
}

// A trained-for-a-bit network and data, with ∇θ holding something.
struct Setup {
    descent::test::Samples<float> d = blobs<float>(4, 3);  // 12 samples, 2 features, 3 classes
    FloatNet net{{2, 5, 3}, 1};
    Setup() { net.compute_gradient(d.x, d.y); }
};

// The bad batches every entry point taking (x, labels) must refuse.
struct BadInput {
    Matrix wide = descent::test::pseudo_random<float>(3, 12, 1);  // 3 features for a 2-input network
    Matrix empty = Matrix(2, 0);
    Matrix holed;
    std::vector<int> out_of_range, short_labels;
    explicit BadInput(const Setup& s) : holed(s.d.x), out_of_range(s.d.y), short_labels(s.d.y) {
        holed(1, 7) = static_cast<float>(not_a_number);
        out_of_range[5] = 3;
        short_labels.pop_back();
    }
};

// Every way (x, labels) can be wrong, refused by call(x, labels) with the right type; the
// labels' only when the entry point takes labels.
template <class N, class Call>
void refuses_bad_batches(const Setup& s, N& net, Call&& call, bool takes_labels = true) {
    const BadInput bad(s);
    refuses<descent::shape_error>(net, [&] { call(bad.wide, s.d.y); });
    refuses<descent::argument_error>(net, [&] { call(bad.empty, std::span<const int>()); });
    refuses<descent::non_finite_error>(net, [&] { call(bad.holed, s.d.y); });
    if (!takes_labels) return;
    refuses<descent::label_error>(net, [&] { call(s.d.x, bad.out_of_range); });
    refuses<descent::shape_error>(net, [&] { call(s.d.x, bad.short_labels); });
}

// The optimizers, each fresh and after three good steps (so that a refusal must keep a state).
template <class Check>
void for_each_optimizer(const Setup& s, Check&& check) {
    auto run = [&](auto optimizer) {
        FloatNet warm = s.net;
        check(optimizer, s.net);  // fresh: the state must stay empty
        for (int t = 0; t < 3; ++t) optimizer.step(warm, s.d.x, s.d.y, {});
        check(optimizer, warm);
    };
    run(descent::Sgd<>(0.1));
    run(descent::Sgd<descent::L2>(0.1, 1e-3));
    run(descent::Momentum<descent::L2>(0.1, 1e-3));
    run(descent::Momentum<>(0.1, 0, {}, 0.9, descent::MomentumKind::nesterov));
    run(descent::Adam<descent::L2>(0.01, 1e-4));
}

// An optimizer with a step and nothing else: no α to schedule, no guard, no snapshot.
struct Frozen {
    template <class N>
    double step(N& net, const Eigen::Ref<const typename N::Matrix>& x, std::span<const int> y) {
        return static_cast<double>(net.loss(x, y));
    }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Mlp

TEST_CASE("strong guarantee: Mlp::forward", "[strong_guarantee]") {
    Setup s;
    refuses_bad_batches(
        s, s.net, [&](const Matrix& x, std::span<const int>) { s.net.forward(x); }, false);
}

TEST_CASE("strong guarantee: Mlp::predict", "[strong_guarantee]") {
    Setup s;
    refuses_bad_batches(
        s, s.net, [&](const Matrix& x, std::span<const int>) { s.net.predict(x); }, false);
}

TEST_CASE("strong guarantee: Mlp::predict_proba", "[strong_guarantee]") {
    Setup s;
    refuses_bad_batches(
        s, s.net, [&](const Matrix& x, std::span<const int>) { s.net.predict_proba(x); }, false);
}

TEST_CASE("strong guarantee: Mlp::loss", "[strong_guarantee]") {
    Setup s;
    refuses_bad_batches(s, s.net, [&](const Matrix& x, std::span<const int> y) { s.net.loss(x, y); });
}

TEST_CASE("strong guarantee: Mlp::accuracy", "[strong_guarantee]") {
    Setup s;
    refuses_bad_batches(s, s.net, [&](const Matrix& x, std::span<const int> y) { s.net.accuracy(x, y); });
}

TEST_CASE("strong guarantee: Mlp::compute_gradient", "[strong_guarantee]") {
    Setup s;
    refuses_bad_batches(s, s.net,
                        [&](const Matrix& x, std::span<const int> y) { s.net.compute_gradient(x, y); });
}

TEST_CASE("strong guarantee: Mlp::descend", "[strong_guarantee]") {
    Setup s;
    refuses_bad_batches(s, s.net,
                        [&](const Matrix& x, std::span<const int> y) { s.net.descend(x, y, 0.1f); });
}

// ---------------------------------------------------------------------------------------------
// Optimizers

TEST_CASE("strong guarantee: Sgd, Momentum and Adam step (unguarded)", "[strong_guarantee]") {
    Setup s;
    for_each_optimizer(s, [&](auto& optimizer, const FloatNet& start) {
        FloatNet net = start;
        const BadInput bad(s);
        refuses<descent::shape_error>(net, optimizer, [&] { optimizer.step(net, bad.wide, s.d.y); });
        refuses<descent::non_finite_error>(net, optimizer, [&] { optimizer.step(net, bad.holed, s.d.y); });
        refuses<descent::label_error>(net, optimizer, [&] { optimizer.step(net, s.d.x, bad.out_of_range); });
        refuses<descent::shape_error>(net, optimizer, [&] { optimizer.step(net, s.d.x, bad.short_labels); });
        refuses<descent::argument_error>(net, optimizer,
                                         [&] { optimizer.step(net, bad.empty, std::span<const int>()); });
        if (optimizer.state().size() > 0) {  // a state made for another network's size
            SmallNet<float> other({2, 6, 3}, 1);
            refuses<descent::shape_error>(other, optimizer, [&] { optimizer.step(other, s.d.x, s.d.y); });
        }
    });
}

TEST_CASE("strong guarantee: Sgd, Momentum and Adam step (guarded)", "[strong_guarantee]") {
    Setup s;
    for_each_optimizer(s, [&](auto& optimizer, const FloatNet& start) {
        FloatNet net = start;
        const BadInput bad(s);
        refuses<descent::shape_error>(net, optimizer, [&] { optimizer.step(net, bad.wide, s.d.y, {}); });
        refuses<descent::non_finite_error>(net, optimizer,
                                           [&] { optimizer.step(net, bad.holed, s.d.y, {}); });
        refuses<descent::label_error>(net, optimizer,
                                      [&] { optimizer.step(net, s.d.x, bad.out_of_range, {}); });
        refuses<descent::argument_error>(net, optimizer,
                                         [&] { optimizer.step(net, s.d.x, s.d.y, descent::StepGuard{-1}); });
        refuses<descent::argument_error>(
            net, optimizer, [&] { optimizer.step(net, s.d.x, s.d.y, descent::StepGuard{not_a_number}); });
        // Divergence: a network whose objective overflows.
        FloatNet blown = start;
        blown.parameters().setConstant(1e38f);
        blown.compute_gradient(s.d.x, s.d.y);
        refuses<descent::divergence_error>(blown, optimizer,
                                           [&] { optimizer.step(blown, s.d.x, s.d.y, {}); });
    });
}

TEST_CASE("strong guarantee: apply_gradient", "[strong_guarantee]") {
    Setup s;
    for_each_optimizer(s, [&](auto& optimizer, const FloatNet& start) {
        FloatNet net = start;
        net.compute_gradient(s.d.x, s.d.y);
        refuses<descent::argument_error>(net, optimizer, [&] { optimizer.apply_gradient(net, {-2}); });
        net.gradient()(3) = static_cast<float>(not_a_number);
        refuses<descent::divergence_error>(net, optimizer, [&] { optimizer.apply_gradient(net); });
        if (optimizer.state().size() > 0) {
            SmallNet<float> other({2, 6, 3}, 1);
            refuses<descent::shape_error>(other, optimizer, [&] { optimizer.apply_gradient(other); });
        }
    });
}

TEST_CASE("strong guarantee: set_learning_rate", "[strong_guarantee]") {
    Setup s;
    for_each_optimizer(s, [&](auto& optimizer, const FloatNet& start) {
        FloatNet net = start;
        for (const double alpha : {0.0, -0.1, not_a_number, std::numeric_limits<double>::infinity()})
            refuses<descent::argument_error>(net, optimizer, [&] { optimizer.set_learning_rate(alpha); });
    });
}

TEST_CASE("strong guarantee: set_steps", "[strong_guarantee]") {
    Setup s;
    for_each_optimizer(s, [&](auto& optimizer, const FloatNet& start) {
        FloatNet net = start;
        refuses<descent::argument_error>(net, optimizer, [&] { optimizer.set_steps(-1); });
    });
}

TEST_CASE("strong guarantee: restore (an optimizer snapshot)", "[strong_guarantee]") {
    Setup s;
    for_each_optimizer(s, [&](auto& optimizer, const FloatNet& start) {
        FloatNet net = start;
        auto other_kind = descent::Adam<descent::NoRegularization>(0.5).snapshot();
        if (other_kind.optimizer == optimizer.name()) other_kind.optimizer = "Sgd";
        refuses<descent::argument_error>(net, optimizer, [&] { optimizer.restore(other_kind, 47); });
        auto wrong_size = optimizer.snapshot();
        wrong_size.state = Eigen::VectorXd::Zero(5);
        refuses<descent::argument_error>(net, optimizer, [&] { optimizer.restore(wrong_size, 47); });
        auto bad_alpha = optimizer.snapshot();
        bad_alpha.learning_rate = 0;
        refuses<descent::argument_error>(net, optimizer, [&] { optimizer.restore(bad_alpha, 47); });
    });
}

// ---------------------------------------------------------------------------------------------
// fit: every bad option, before any step.

TEST_CASE("strong guarantee: fit", "[strong_guarantee]") {
    Setup s;
    TempDir dir;
    const auto held = blobs<float>(2, 9);
    const auto held_double = blobs<double>(2, 9);
    // A checkpoint of a run with seed 5, to resume from the wrong way.
    {
        FloatNet net = s.net;
        descent::Adam<descent::L2> adam(0.01, 1e-4);
        descent::FitOptions o;
        o.epochs = 2;
        o.seed = 5;
        o.checkpoint = descent::Checkpointing{descent::checkpoint_file(dir / "run"), 1, false};
        descent::fit(net, adam, s.d.x, s.d.y, o);
    }
    dir.write("corrupt", contents(dir / "run").substr(0, 100));
    dir.write("model", "");
    descent::save(s.net, dir / "model");

    FloatNet net = s.net;
    descent::Adam<descent::L2> adam(0.01, 1e-4);
    for (int t = 0; t < 3; ++t) adam.step(net, s.d.x, s.d.y, {});
    net.compute_gradient(s.d.x, s.d.y);
    auto fit = [&](const descent::FitOptions& o) { descent::fit(net, adam, s.d.x, s.d.y, o); };
    auto base = [] {
        descent::FitOptions o;
        o.epochs = 2;
        o.batch_size = 4;
        return o;
    };
    const BadInput bad(s);
    int cases = 0;
    auto expect = [&]<class E>(E*, const descent::FitOptions& o) {
        refuses<E>(net, adam, [&] { fit(o); });
        ++cases;
    };
    auto expect_data = [&]<class E>(E*, const Matrix& x, std::span<const int> y) {
        refuses<E>(net, adam, [&] { descent::fit(net, adam, x, y, base()); });
        ++cases;
    };
    using argument = descent::argument_error;
    auto o = base();
    o.epochs = 0;
    expect((argument*)nullptr, o);
    o = base();
    o.batch_size = 0;
    expect((argument*)nullptr, o);
    expect_data((descent::shape_error*)nullptr, bad.wide, s.d.y);
    expect_data((descent::argument_error*)nullptr, bad.empty, std::span<const int>());
    expect_data((descent::non_finite_error*)nullptr, bad.holed, s.d.y);
    expect_data((descent::label_error*)nullptr, s.d.x, bad.out_of_range);
    expect_data((descent::shape_error*)nullptr, s.d.x, bad.short_labels);
    o = base();
    o.validate_on(bad.wide, s.d.y);
    expect((descent::shape_error*)nullptr, o);
    o = base();
    o.validate_on(held.x, bad.out_of_range);
    expect((descent::shape_error*)nullptr, o);  // 12 labels for 6 samples
    auto wrong_labels = held.y;
    wrong_labels[1] = -1;
    o = base();
    o.validate_on(held.x, wrong_labels);
    expect((descent::label_error*)nullptr, o);
    o = base();
    o.validate_on(held_double.x, held_double.y);
    expect((argument*)nullptr, o);  // a double validation set for a float network
    o = base();
    o.early_stopping = descent::EarlyStopping{3, 0};
    expect((argument*)nullptr, o);  // early stopping without a validation set
    o.validate_on(held.x, held.y);
    o.early_stopping = descent::EarlyStopping{0, 0};
    expect((argument*)nullptr, o);  // patience 0
    o.early_stopping = descent::EarlyStopping{2, -1};
    expect((argument*)nullptr, o);
    o.early_stopping = descent::EarlyStopping{2, not_a_number};
    expect((argument*)nullptr, o);
    o = base();
    o.schedule = [](int, std::int64_t) { return -0.5; };  // refused at the first step, before it
    expect((argument*)nullptr, o);
    o.schedule = [](int, std::int64_t) { return not_a_number; };
    expect((argument*)nullptr, o);
    o = base();
    o.max_gradient_norm = -1;
    expect((argument*)nullptr, o);
    o.max_gradient_norm = not_a_number;
    expect((argument*)nullptr, o);
    o = base();
    o.checkpoint = descent::Checkpointing{nullptr, 1, false};  // no store
    expect((argument*)nullptr, o);
    o.checkpoint = descent::Checkpointing{descent::checkpoint_file(dir / "new"), 0, false};
    expect((argument*)nullptr, o);
    o.checkpoint = descent::Checkpointing{descent::checkpoint_file(dir / "corrupt"), 1, true};
    expect((descent::corrupt_checkpoint_error*)nullptr, o);
    o.checkpoint = descent::Checkpointing{descent::checkpoint_file(dir / "model"), 1, true};
    expect((descent::not_a_checkpoint_error*)nullptr, o);
    o.checkpoint = descent::Checkpointing{descent::checkpoint_file(dir / "run"), 1, true};
    expect((descent::checkpoint_mismatch_error*)nullptr, o);  // seed 0, not 5
    o.seed = 5;
    o.batch_size = 32;
    SmallNet<float> wide({2, 7, 3}, 1);
    descent::Adam<descent::L2> fresh(0.01, 1e-4);
    refuses<descent::checkpoint_mismatch_error>(wide, fresh,
                                                [&] { descent::fit(wide, fresh, s.d.x, s.d.y, o); });
    descent::Adam<> unregularized(0.01);
    refuses<descent::checkpoint_mismatch_error>(net, unregularized,
                                                [&] { descent::fit(net, unregularized, s.d.x, s.d.y, o); });
    CHECK(cases == 24);
    CHECK(!std::filesystem::exists(dir / "new"));

    // An optimizer with nothing but a step: what it cannot do is refused.
    Frozen frozen;
    o = base();
    o.schedule = descent::ConstantRate(0.1);
    refuses<argument>(net, [&] { descent::fit(net, frozen, s.d.x, s.d.y, o); });
    o = base();
    o.max_gradient_norm = 1;
    refuses<argument>(net, [&] { descent::fit(net, frozen, s.d.x, s.d.y, o); });
    o = base();
    o.checkpoint = descent::Checkpointing{descent::checkpoint_file(dir / "frozen"), 1, false};
    refuses<argument>(net, [&] { descent::fit(net, frozen, s.d.x, s.d.y, o); });
}

TEST_CASE("strong guarantee: FitOptions::validate_on", "[strong_guarantee]") {
    const auto held = blobs<float>(2, 9);
    descent::FitOptions o;
    o.validate_on(held.x, held.y);
    const Matrix wide = descent::test::pseudo_random<float>(4, 6, 2);
    // Rows 0 and 2 of each column: the columns are not contiguous, so a view would misread them.
    using Stride = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
    const Eigen::Map<const Matrix, 0, Stride> every_other(wide.data(), 2, 6, Stride(4, 2));
    CHECK_THROWS_AS(o.validate_on(every_other, held.y), descent::argument_error);
    const auto* set = std::get_if<descent::ValidationSet<float>>(&o.validation);
    REQUIRE(set != nullptr);
    CHECK(set->data == held.x.data());
}

// ---------------------------------------------------------------------------------------------
// Files

TEST_CASE("strong guarantee: load (a model file)", "[strong_guarantee]") {
    Setup s;
    TempDir dir;
    descent::save(s.net, dir / "good");
    const std::string good = contents(dir / "good");
    dir.write("truncated", good.substr(0, good.size() - 9));
    dir.write("text", "not a model at all");
    std::string newer = good;
    newer[13] = 9;
    dir.write("newer", newer);  // its CRC no longer matches: corrupt, which is also refused
    SmallNet<double> precise({2, 5, 3}, 1);
    descent::save(precise, dir / "double");
    SmallNet<float> wide({2, 7, 3}, 1);
    descent::save(wide, dir / "wide");

    FloatNet net({2, 5, 3}, 4);
    net.compute_gradient(s.d.x, s.d.y);
    refuses<descent::io_error>(net, [&] { descent::load(net, dir / "missing"); });
    refuses<descent::corrupt_model_file_error>(net, [&] { descent::load(net, dir / "truncated"); });
    refuses<descent::not_a_model_file_error>(net, [&] { descent::load(net, dir / "text"); });
    refuses<descent::corrupt_model_file_error>(net, [&] { descent::load(net, dir / "newer"); });
    refuses<descent::scalar_type_mismatch_error>(net, [&] { descent::load(net, dir / "double"); });
    refuses<descent::architecture_mismatch_error>(net, [&] { descent::load(net, dir / "wide"); });
}

TEST_CASE("strong guarantee: load_checkpoint and restore_checkpoint", "[strong_guarantee]") {
    Setup s;
    TempDir dir;
    descent::Momentum<descent::L2> momentum(0.1, 1e-3);
    for (int t = 0; t < 2; ++t) momentum.step(s.net, s.d.x, s.d.y, {});
    descent::save_checkpoint(dir / "good", s.net, momentum, {});
    const std::string good = contents(dir / "good");
    dir.write("truncated", good.substr(0, good.size() / 2));
    descent::save(s.net, dir / "model");

    FloatNet net({2, 5, 3}, 4);
    descent::Momentum<descent::L2> other(0.3, 1e-3);
    for (int t = 0; t < 3; ++t) other.step(net, s.d.x, s.d.y, {});
    net.compute_gradient(s.d.x, s.d.y);
    refuses<descent::io_error>(net, other, [&] { descent::load_checkpoint(dir / "missing", net, other); });
    refuses<descent::corrupt_checkpoint_error>(
        net, other, [&] { descent::load_checkpoint(dir / "truncated", net, other); });
    refuses<descent::not_a_checkpoint_error>(net, other,
                                             [&] { descent::load_checkpoint(dir / "model", net, other); });
    descent::Momentum<descent::L2> other_beta(0.3, 1e-3, {}, 0.5);
    refuses<descent::checkpoint_mismatch_error>(
        net, other_beta, [&] { descent::load_checkpoint(dir / "good", net, other_beta); });
    SmallNet<float> wide({2, 7, 3}, 1);
    refuses<descent::checkpoint_mismatch_error>(wide, other,
                                                [&] { descent::load_checkpoint(dir / "good", wide, other); });

    auto c = descent::read_checkpoint(dir / "good");
    c.progress.best_parameters = Eigen::VectorXd::Zero(3);  // of no model's size
    refuses<descent::corrupt_checkpoint_error>(net, other,
                                               [&] { descent::restore_checkpoint(c, net, other); });
}

TEST_CASE("strong guarantee: save_checkpoint and save (the file before stays whole)", "[strong_guarantee]") {
    Setup s;
    TempDir dir;
    descent::Adam<> adam(0.01);
    adam.step(s.net, s.d.x, s.d.y, {});
    descent::save_checkpoint(dir / "run", s.net, adam, {});
    descent::save(s.net, dir / "model");
    const std::string checkpoint = contents(dir / "run");
    const std::string model = contents(dir / "model");
    // A directory where the temporary file should go: the write fails after the encoding.
    std::filesystem::create_directories(dir / "blocked");
    refuses<descent::io_error>(s.net, adam,
                               [&] { descent::save_checkpoint(dir / "missing" / "run", s.net, adam, {}); });
    refuses<descent::io_error>(s.net, adam,
                               [&] { descent::save_checkpoint(dir / "blocked", s.net, adam, {}); });
    refuses<descent::io_error>(s.net, [&] { descent::save(s.net, dir / "blocked"); });
    CHECK(contents(dir / "run") == checkpoint);
    CHECK(contents(dir / "model") == model);
    descent::TrainingProgress odd;
    odd.best_parameters = Eigen::VectorXd::Zero(2);
    refuses<descent::argument_error>(s.net, adam,
                                     [&] { descent::save_checkpoint(dir / "run", s.net, adam, odd); });
    CHECK(contents(dir / "run") == checkpoint);
}

// ---------------------------------------------------------------------------------------------
// Data

TEST_CASE("strong guarantee: Standardizer::apply", "[strong_guarantee]") {
    descent::Standardizer<float> standardize;
    Matrix x = descent::test::pseudo_random<float>(3, 10, 1);
    const Matrix original = x;
    CHECK_THROWS_AS(standardize.apply(x), descent::argument_error);  // not fitted
    CHECK(same_bits(x.reshaped(), original.reshaped()));
    standardize.fit(descent::test::pseudo_random<float>(4, 10, 2));
    const Eigen::VectorXf mean = standardize.mean(), scale = standardize.scale();
    CHECK_THROWS_AS(standardize.apply(x), descent::shape_error);  // 3 features for 4
    CHECK(same_bits(x.reshaped(), original.reshaped()));
    CHECK(same_bits(standardize.mean(), mean));
    CHECK(same_bits(standardize.scale(), scale));
}

TEST_CASE("strong guarantee: Standardizer::fit", "[strong_guarantee]") {
    descent::Standardizer<float> standardize;
    standardize.fit(descent::test::pseudo_random<float>(3, 10, 2));
    const Eigen::VectorXf mean = standardize.mean(), scale = standardize.scale();
    Matrix holed = descent::test::pseudo_random<float>(3, 10, 3);
    holed(2, 9) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(standardize.fit(holed), descent::non_finite_error);
    CHECK_THROWS_AS(standardize.fit(Matrix(3, 0)), descent::argument_error);
    CHECK(same_bits(standardize.mean(), mean));
    CHECK(same_bits(standardize.scale(), scale));
}

TEST_CASE("strong guarantee: Standardizer::fold_into", "[strong_guarantee]") {
    Setup s;
    descent::Standardizer<float> standardize;
    refuses<descent::argument_error>(s.net, [&] { standardize.fold_into(s.net); });  // not fitted
    standardize.fit(descent::test::pseudo_random<float>(3, 10, 2));
    refuses<descent::shape_error>(s.net, [&] { standardize.fold_into(s.net); });  // 3 features, 2 inputs
}

TEST_CASE("strong guarantee: Dataset::subset and split", "[strong_guarantee]") {
    descent::Dataset<float> data{descent::test::pseudo_random<float>(2, 6, 1), {0, 1, 2, 0, 1, 2}};
    const descent::Dataset<float> original = data;
    const std::vector<Eigen::Index> outside{1, 6};
    CHECK_THROWS_AS(data.subset(outside), descent::argument_error);
    CHECK_THROWS_AS(descent::split(data, 0, 1), descent::argument_error);
    CHECK_THROWS_AS(descent::split(data, 6, 1), descent::argument_error);
    data.y.pop_back();
    CHECK_THROWS_AS(data.subset(std::vector<Eigen::Index>{0}), descent::shape_error);
    CHECK_THROWS_AS(descent::split(data, 2, 1), descent::shape_error);
    data.y.push_back(2);
    CHECK(same_bits(data.x.reshaped(), original.x.reshaped()));
    CHECK(data.y == original.y);
}

// ---------------------------------------------------------------------------------------------
// The rest

TEST_CASE("strong guarantee: check_gradients", "[strong_guarantee]") {
    Setup s;
    refuses_bad_batches(
        s, s.net, [&](const Matrix& x, std::span<const int> y) { descent::check_gradients(s.net, x, y); });
}

TEST_CASE("strong guarantee: BestEpoch::restore", "[strong_guarantee]") {
    Setup s;
    descent::BestEpoch<FloatNet::Vector> best(descent::EarlyStopping{2, 0});
    best.record(1, 0.5, Eigen::VectorXf::Zero(4));  // θ of another network
    refuses<descent::shape_error>(s.net, [&] { best.restore(s.net.parameters()); });
}

TEST_CASE("strong guarantee: clip_gradient", "[strong_guarantee]") {
    Eigen::VectorXf g = Eigen::VectorXf::LinSpaced(5, -2, 2);
    const Eigen::VectorXf original = g;
    for (const double c : {0.0, -1.0, not_a_number})
        CHECK_THROWS_AS(descent::clip_gradient(g, c), descent::argument_error);
    CHECK(same_bits(g, original));
}

TEST_CASE("strong guarantee: set_threads", "[strong_guarantee]") {
    const int before = descent::threads();
    CHECK_THROWS_AS(descent::set_threads(0), descent::argument_error);
    CHECK_THROWS_AS(descent::set_threads(-3), descent::argument_error);
    CHECK(descent::threads() == before);
}
