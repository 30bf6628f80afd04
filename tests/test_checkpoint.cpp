// Checkpoints: every field survives the file exactly; a resumed fit ends with the
// uninterrupted run's parameters, optimizer state and reports, bit for bit (Sgd,
// Momentum, Adam, a schedule, early stopping, float and double); each kind of bad file
// has its own error, and no file makes the reader crash or allocate beyond its size.
#include <cstring>
#include <descent/error.hpp>
#include <descent/io/checkpoint.hpp>
#include <descent/io/model_file.hpp>
#include <descent/optimizers/adam.hpp>
#include <descent/optimizers/momentum.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/regularizers/l1.hpp>
#include <descent/regularizers/l2.hpp>
#include <descent/training/fit.hpp>
#include <descent/training/schedule.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "file_support.hpp"
#include "training_support.hpp"

using Catch::Matchers::Contains;
using descent::test::blobs;
using descent::test::contents;
using descent::test::message_of;
using descent::test::same_bits;
using descent::test::same_snapshot;
using descent::test::SmallNet;
using descent::test::TempDir;

namespace {

// A progress with every field away from its default; best θ holds values of T, as fit keeps it.
template <class T = double>
descent::TrainingProgress busy_progress(Eigen::Index parameters, bool early_stopping) {
    descent::TrainingProgress p;
    p.epoch = 3;
    p.updates = 12;
    p.finished = early_stopping;
    p.engine.seed(99);
    p.engine.discard(1234);
    p.order = {4, 0, 3, 1, 2};
    for (int e = 1; e <= 3; ++e) {
        descent::EpochReport r{e, 1.0 / e, 0.25 * e};
        r.train_accuracy = 0.5;
        r.validation_loss = 0.9 / e;
        r.validation_accuracy = 0.6;
        r.best_epoch = e;
        r.learning_rate = 0.01 * e;
        p.reports.push_back(r);
    }
    p.seed = 77;
    p.samples = 5;
    p.batch_size = 2;
    p.data_checksum = 0xDEADBEEF;
    p.max_gradient_norm = 2.5;
    if (early_stopping) {
        p.early_stopping = descent::EarlyStopping{4, 1e-3};
        p.best_parameters = descent::test::pseudo_random<T>(parameters, 1, 5).col(0).template cast<double>();
    }
    p.best_loss = 0.3;
    p.best_epoch = 3;
    return p;
}

// The epochs' seconds are compared only when `timed`: a resumed run's are its own.
void check_same_progress(const descent::TrainingProgress& a, const descent::TrainingProgress& b,
                         bool timed = true) {
    CHECK(a.epoch == b.epoch);
    CHECK(a.updates == b.updates);
    CHECK(a.finished == b.finished);
    CHECK(a.engine == b.engine);
    CHECK(a.order == b.order);
    REQUIRE(a.reports.size() == b.reports.size());
    for (std::size_t k = 0; k < a.reports.size(); ++k) {
        CHECK(a.reports[k].epoch == b.reports[k].epoch);
        CHECK(a.reports[k].loss == b.reports[k].loss);
        if (timed) CHECK(a.reports[k].seconds == b.reports[k].seconds);
        CHECK(a.reports[k].validation_loss == b.reports[k].validation_loss);
        CHECK(a.reports[k].best_epoch == b.reports[k].best_epoch);
        CHECK(a.reports[k].learning_rate == b.reports[k].learning_rate);
    }
    CHECK(a.seed == b.seed);
    CHECK(a.samples == b.samples);
    CHECK(a.batch_size == b.batch_size);
    CHECK(a.data_checksum == b.data_checksum);
    CHECK(a.max_gradient_norm == b.max_gradient_norm);
    CHECK(a.early_stopping.has_value() == b.early_stopping.has_value());
    if (a.early_stopping && b.early_stopping) {
        CHECK(a.early_stopping->patience == b.early_stopping->patience);
        CHECK(a.early_stopping->min_delta == b.early_stopping->min_delta);
    }
    CHECK(a.best_loss == b.best_loss);
    CHECK(a.best_epoch == b.best_epoch);
    CHECK(same_bits(a.best_parameters, b.best_parameters));
}

// Recomputes the trailing CRC-32 after a deliberate edit, so that the edit itself is judged.
std::string reseal(std::string bytes) {
    const auto crc = descent::detail::crc32(std::string_view(bytes).substr(0, bytes.size() - 4));
    std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);  // written on this (little-endian) machine
    return bytes;
}

template <class T>
struct Run {
    descent::test::Samples<T> train = blobs<T>(8, 1);
    descent::test::Samples<T> held_out = blobs<T>(6, 2);
};

// The options of the runs compared below: a validation set, early stopping that may end the
// run, and a schedule, so that every piece of state a resume needs is in play.
descent::FitOptions options_for(int epochs, const std::filesystem::path& path, bool resume) {
    descent::FitOptions o;
    o.epochs = epochs;
    o.batch_size = 5;  // 24 samples: 5 batches, the last of 4
    o.seed = 11;
    o.early_stopping = descent::EarlyStopping{3, 0.0};
    o.schedule = descent::InverseTimeDecay(0.2, 0.01);
    o.checkpoint = descent::Checkpointing{descent::checkpoint_file(path), 1, resume};
    return o;
}

// Trains `epochs` straight, and then again as `first` epochs, a fresh network and optimizer
// (as a new process would build them, with other initial weights), and a resume to `epochs`.
// The two must agree bit for bit.
template <class T, class MakeOptimizer>
void check_resume(MakeOptimizer make, int epochs, int first) {
    Run<T> data;
    TempDir dir;
    CAPTURE(epochs, first);

    SmallNet<T> straight({2, 6, 3}, 3);
    auto straight_optimizer = make();
    auto o = options_for(epochs, dir / "straight", false);
    o.validate_on(data.held_out.x, data.held_out.y);
    const auto expected = descent::fit(straight, straight_optimizer, data.train.x, data.train.y, o);

    {
        SmallNet<T> net({2, 6, 3}, 3);
        auto optimizer = make();
        auto part = options_for(first, dir / "resumed", false);
        part.validate_on(data.held_out.x, data.held_out.y);
        descent::fit(net, optimizer, data.train.x, data.train.y, part);
    }
    SmallNet<T> net({2, 6, 3}, 42);  // other weights: the checkpoint's must replace them
    auto optimizer = make();
    auto rest = options_for(epochs, dir / "resumed", true);
    rest.validate_on(data.held_out.x, data.held_out.y);
    const auto reports = descent::fit(net, optimizer, data.train.x, data.train.y, rest);

    CHECK(same_bits(net.parameters(), straight.parameters()));
    CHECK(same_snapshot(optimizer.snapshot(), straight_optimizer.snapshot()));
    REQUIRE(reports.size() == expected.size());
    for (std::size_t e = 0; e < reports.size(); ++e) {
        CAPTURE(e);
        CHECK(reports[e].epoch == expected[e].epoch);
        CHECK(reports[e].loss == expected[e].loss);
        CHECK(reports[e].validation_loss == expected[e].validation_loss);
        CHECK(reports[e].best_epoch == expected[e].best_epoch);
        CHECK(reports[e].learning_rate == expected[e].learning_rate);
    }
    // The last checkpoints agree too, early stopping's tracker and the engine included.
    const auto a = descent::read_checkpoint(dir / "straight");
    const auto b = descent::read_checkpoint(dir / "resumed");
    CHECK(a.model == b.model);
    check_same_progress(a.progress, b.progress, false);
}

}  // namespace

TEMPLATE_TEST_CASE("A checkpoint keeps the network, the optimizer and the progress exactly", "[checkpoint]",
                   float, double) {
    using T = TestType;
    TempDir dir;
    const auto d = blobs<T>(4, 3);
    SmallNet<T> net({2, 5, 3}, 1);
    descent::Adam<descent::L2> adam(0.01, 1e-3);
    for (int t = 0; t < 3; ++t) adam.step(net, d.x, d.y);
    const bool stopping = GENERATE(false, true);
    const auto progress = busy_progress<T>(net.parameters().size(), stopping);

    descent::save_checkpoint(dir / "run.checkpoint", net, adam, progress);
    SmallNet<T> other({2, 5, 3}, 9);
    descent::Adam<descent::L2> fresh(0.5, 1e-3);
    const auto loaded = descent::load_checkpoint(dir / "run.checkpoint", other, fresh);

    CHECK(same_bits(other.parameters(), net.parameters()));
    CHECK(same_snapshot(fresh.snapshot(), adam.snapshot()));
    CHECK(fresh.learning_rate() == 0.01);  // α is the checkpoint's
    CHECK(fresh.steps() == 3);
    check_same_progress(loaded, progress);

    SECTION("and the bytes decode to the same content without a network") {
        const auto c = descent::decode_checkpoint(contents(dir / "run.checkpoint"));
        CHECK(c.model.architecture == net.architecture());
        CHECK(same_bits(c.model.parameters, Eigen::VectorXd(net.parameters().template cast<double>())));
        CHECK(same_snapshot(c.optimizer, adam.snapshot()));
        check_same_progress(c.progress, progress);
        // The model section is a model file's payload: saved, load() reads it.
        descent::save_model(c.model, dir / "model");
        SmallNet<T> third({2, 5, 3}, 5);
        descent::load(third, dir / "model");
        CHECK(same_bits(third.parameters(), net.parameters()));
        // Encoding the decoded content gives the same bytes.
        CHECK(descent::encode_checkpoint(c) == contents(dir / "run.checkpoint"));
    }
}

TEST_CASE("A checkpoint's model section is the model file's payload, byte for byte", "[checkpoint]") {
    TempDir dir;
    SmallNet<float> net({3, 4, 2}, 1);
    descent::Sgd<> sgd(0.1);
    descent::save_checkpoint(dir / "c", net, sgd, {});
    descent::save(net, dir / "m");
    const std::string checkpoint = contents(dir / "c");
    const std::string model = contents(dir / "m");
    // The model file: a 17-byte header, the payload, a CRC-32. The checkpoint: a 22-byte
    // header, then "MODL", its length, the model format version (4 bytes) and the payload.
    const std::string payload = model.substr(17, model.size() - 17 - 4);
    CHECK(checkpoint.substr(22, 4) == "MODL");
    std::uint64_t length;
    std::memcpy(&length, checkpoint.data() + 26, 8);
    CHECK(length == 4 + payload.size());
    CHECK(checkpoint.substr(34, 4) == model.substr(13, 4));  // the version, 2
    CHECK(checkpoint.substr(38, payload.size()) == payload);

    // Damage to it is damage to the checkpoint, named as such.
    std::string broken = checkpoint;
    broken[38 + 1 + 4 + 3] = 'X';  // inside the head's name
    CHECK_THAT(message_of<descent::corrupt_checkpoint_error>(
                   [&] { descent::decode_checkpoint(reseal(broken), "c"); }),
               Contains("c: corrupt checkpoint: the head \"sofXmax_cross_entropy\" is not a name"));
}

TEST_CASE("A resumed fit ends as the uninterrupted run, bit for bit: Sgd", "[checkpoint][resume]") {
    for (int first : {1, 3, 6}) check_resume<double>([] { return descent::Sgd<>(0.2); }, 8, first);
    for (int first : {2, 5})
        check_resume<float>([] { return descent::Sgd<descent::L2>(0.2, 1e-3); }, 8, first);
}

TEST_CASE("A resumed fit ends as the uninterrupted run, bit for bit: Momentum", "[checkpoint][resume]") {
    for (int first : {1, 4, 7})
        check_resume<double>([] { return descent::Momentum<descent::L2>(0.1, 1e-3, {}, 0.9); }, 8, first);
    for (int first : {2, 5})
        check_resume<float>(
            [] { return descent::Momentum<>(0.1, 0.0, {}, 0.8, descent::MomentumKind::nesterov); }, 8, first);
}

TEST_CASE("A resumed fit ends as the uninterrupted run, bit for bit: Adam", "[checkpoint][resume]") {
    for (int first : {1, 3, 7}) check_resume<double>([] { return descent::Adam<>(0.05); }, 8, first);
    for (int first : {2, 6})
        check_resume<float>([] { return descent::Adam<descent::L2>(0.05, 1e-4); }, 8, first);
}

TEST_CASE("A run ended by early stopping resumes as finished, with the best epoch's θ",
          "[checkpoint][resume]") {
    Run<double> data;
    TempDir dir;
    // min_delta this large: only epoch 1 improves on the start, so the run stops after epoch 3.
    auto o = options_for(20, dir / "run", true);
    o.early_stopping = descent::EarlyStopping{2, 100.0};
    o.validate_on(data.held_out.x, data.held_out.y);
    SmallNet<double> net({2, 6, 3}, 3);
    descent::Momentum<> momentum(0.1);
    const auto reports = descent::fit(net, momentum, data.train.x, data.train.y, o);
    REQUIRE(reports.size() == 3);
    CHECK(reports.back().best_epoch == 1);
    const auto saved = descent::read_checkpoint(dir / "run");
    CHECK(saved.progress.finished);
    CHECK(saved.progress.epoch == 3);
    // The checkpoint holds the last step's θ, not the best epoch's (which fit returned).
    SmallNet<double> last({2, 6, 3}, 0);
    descent::Momentum<> unused(0.1);
    descent::restore_checkpoint(saved, last, unused);
    CHECK(!same_bits(last.parameters(), net.parameters()));

    SmallNet<double> again({2, 6, 3}, 8);
    descent::Momentum<> other(0.1);
    const auto resumed = descent::fit(again, other, data.train.x, data.train.y, o);
    CHECK(resumed.size() == 3);
    CHECK(same_bits(again.parameters(), net.parameters()));
    CHECK(same_snapshot(other.snapshot(), momentum.snapshot()));
}

TEST_CASE("fit writes a checkpoint every N epochs and after the last, before on_epoch", "[checkpoint]") {
    Run<double> data;
    TempDir dir;
    descent::FitOptions o;
    o.epochs = 7;
    o.batch_size = 6;
    o.checkpoint = descent::Checkpointing{descent::checkpoint_file(dir / "run"), 3, false};
    std::vector<int> seen;
    o.on_epoch = [&](const descent::EpochReport&) {
        seen.push_back(
            std::filesystem::exists(dir / "run") ? descent::read_checkpoint(dir / "run").progress.epoch : 0);
    };
    SmallNet<double> net({2, 4, 3}, 1);
    descent::Sgd<> sgd(0.1);
    descent::fit(net, sgd, data.train.x, data.train.y, o);
    CHECK(seen == std::vector<int>{0, 0, 3, 3, 3, 6, 7});
    // Resuming the complete run trains no more: θ stays the checkpoint's.
    o.checkpoint->resume = true;
    const Eigen::VectorXd theta = net.parameters();
    SmallNet<double> fresh({2, 4, 3}, 2);
    descent::Sgd<> other(0.1);
    seen.clear();
    CHECK(descent::fit(fresh, other, data.train.x, data.train.y, o).size() == 7);
    CHECK(seen.empty());
    CHECK(same_bits(fresh.parameters(), theta));

    SECTION("and given more epochs, it goes on from there") {
        o.epochs = 9;
        SmallNet<double> longer({2, 4, 3}, 2);
        descent::Sgd<> third(0.1);
        CHECK(descent::fit(longer, third, data.train.x, data.train.y, o).size() == 9);
        CHECK(seen == std::vector<int>{7, 9});
        SmallNet<double> straight({2, 4, 3}, 1);
        descent::Sgd<> fourth(0.1);
        auto plain = o;
        plain.checkpoint.reset();
        plain.on_epoch = nullptr;
        descent::fit(straight, fourth, data.train.x, data.train.y, plain);
        CHECK(same_bits(longer.parameters(), straight.parameters()));
    }
}

TEST_CASE("Resuming with other data or options is refused, leaving everything as it was",
          "[checkpoint][errors]") {
    Run<double> data;
    TempDir dir;
    auto o = options_for(2, dir / "run", false);
    o.validate_on(data.held_out.x, data.held_out.y);
    SmallNet<double> net({2, 6, 3}, 3);
    descent::Adam<> adam(0.05);
    descent::fit(net, adam, data.train.x, data.train.y, o);

    SmallNet<double> fresh({2, 6, 3}, 4);
    descent::Adam<> other(0.05);
    const Eigen::VectorXd theta = fresh.parameters();
    auto resume = options_for(4, dir / "run", true);
    resume.validate_on(data.held_out.x, data.held_out.y);
    auto x = data.train.x;
    auto labels = data.train.y;
    std::string expected;
    SECTION("another seed") {
        resume.seed = 12;
        expected = "seed 11, this one 12";
    }
    SECTION("another batch size") {
        resume.batch_size = 6;
        expected = "batch_size 5, this one 6";
    }
    SECTION("other data") {
        x(0, 3) += 1e-9;
        expected = "other data";
    }
    SECTION("other labels") {
        labels[2] = (labels[2] + 1) % 3;
        expected = "other data";
    }
    SECTION("another early stopping rule") {
        resume.early_stopping->patience = 4;
        expected = "early stopping patience 3, min_delta 0, this one patience 4, min_delta 0";
    }
    SECTION("clipping") {
        resume.max_gradient_norm = 1.0;
        expected = "max_gradient_norm 0, this one 1";
    }
    const auto message = message_of<descent::checkpoint_mismatch_error>(
        [&] { descent::fit(fresh, other, x, labels, resume); });
    CHECK_THAT(message, Contains((dir / "run").string()) && Contains(expected));
    CHECK(same_bits(fresh.parameters(), theta));
    CHECK(other.state().size() == 0);
    CHECK(other.steps() == 0);
}

TEST_CASE("A checkpoint is refused by another network or optimizer, naming the difference",
          "[checkpoint][errors]") {
    TempDir dir;
    const auto d = blobs<float>(4, 3);
    SmallNet<float> net({2, 5, 3}, 1);
    descent::Momentum<descent::L2> momentum(0.1, 1e-3, {}, 0.9);
    momentum.step(net, d.x, d.y);
    descent::save_checkpoint(dir / "c", net, momentum, {});

    auto refused = [&](auto& other_net, auto& other_optimizer) {
        const Eigen::VectorXd theta = other_net.parameters().template cast<double>();
        const auto before = other_optimizer.snapshot();
        const auto message = message_of<descent::checkpoint_mismatch_error>(
            [&] { descent::load_checkpoint(dir / "c", other_net, other_optimizer); });
        CHECK(same_bits(Eigen::VectorXd(other_net.parameters().template cast<double>()), theta));
        CHECK(same_snapshot(other_optimizer.snapshot(), before));
        return message;
    };
    SECTION("another architecture") {
        SmallNet<float> wide({2, 7, 3}, 1);
        descent::Momentum<descent::L2> m(0.1, 1e-3, {}, 0.9);
        CHECK_THAT(refused(wide, m),
                   Contains("network is 2-5:tanh-3 (softmax_cross_entropy, float), this network is "
                            "2-7:tanh-3 (softmax_cross_entropy, float)"));
    }
    SECTION("another scalar type") {
        SmallNet<double> precise({2, 5, 3}, 1);
        descent::Momentum<descent::L2> m(0.1, 1e-3, {}, 0.9);
        CHECK_THAT(refused(precise, m),
                   Contains("network is 2-5:tanh-3 (softmax_cross_entropy, float), this network is "
                            "2-5:tanh-3 (softmax_cross_entropy, double)"));
    }
    SECTION("another optimizer") {
        SmallNet<float> same({2, 5, 3}, 1);
        descent::Adam<descent::L2> adam(0.1, 1e-3);
        CHECK_THAT(refused(same, adam), Contains("state of Momentum, this optimizer is Adam"));
    }
    SECTION("another regularizer") {
        SmallNet<float> same({2, 5, 3}, 1);
        descent::Momentum<descent::L1> m(0.1, 1e-3, {}, 0.9);
        CHECK_THAT(refused(same, m), Contains("regularizer is l2, this optimizer's is l1"));
    }
    SECTION("another β") {
        SmallNet<float> same({2, 5, 3}, 1);
        descent::Momentum<descent::L2> m(0.1, 1e-3, {}, 0.8);
        CHECK_THAT(refused(same, m), Contains("beta is 0.9, this optimizer's is 0.8"));
    }
    SECTION("Nesterov's momentum instead of the classical") {
        SmallNet<float> same({2, 5, 3}, 1);
        descent::Momentum<descent::L2> m(0.1, 1e-3, {}, 0.9, descent::MomentumKind::nesterov);
        CHECK_THAT(refused(same, m), Contains("nesterov is 0, this optimizer's is 1"));
    }
}

TEST_CASE("Each kind of bad checkpoint file has its own error", "[checkpoint][errors]") {
    TempDir dir;
    const auto d = blobs<double>(4, 3);
    SmallNet<double> net({2, 5, 3}, 1);
    descent::Adam<> adam(0.01);
    adam.step(net, d.x, d.y);
    descent::save_checkpoint(dir / "good", net, adam, busy_progress(net.parameters().size(), true));
    const std::string good = contents(dir / "good");
    auto decode = [](std::string_view bytes) { descent::decode_checkpoint(bytes, "f.checkpoint"); };

    CHECK_THROWS_AS(descent::read_checkpoint(dir / "missing"), descent::io_error);
    CHECK_THAT(message_of<descent::not_a_checkpoint_error>([&] { decode(""); }),
               Contains("the file is empty"));
    CHECK_THAT(message_of<descent::not_a_checkpoint_error>([&] { decode("hello, world, this is text"); }),
               Contains("f.checkpoint: not a descent checkpoint"));
    descent::save(net, dir / "model");
    CHECK_THAT(message_of<descent::not_a_checkpoint_error>([&] { decode(contents(dir / "model")); }),
               Contains("it is a model file: load() reads it"));
    CHECK_THAT(message_of<descent::corrupt_checkpoint_error>([&] { decode(good.substr(0, 5)); }),
               Contains("inside the magic number"));
    CHECK_THAT(
        message_of<descent::corrupt_checkpoint_error>([&] { decode(good.substr(0, good.size() - 1)); }),
        Contains("CRC-32 does not match"));
    CHECK_THAT(message_of<descent::corrupt_checkpoint_error>([&] { decode(good + "x"); }),
               Contains("CRC-32 does not match"));

    // A newer version, with a sound checksum: told apart from damage.
    std::string newer = good;
    newer[18] = 3;
    CHECK_THAT(message_of<descent::checkpoint_version_error>([&] { decode(reseal(newer)); }),
               Contains("f.checkpoint: checkpoint format version 3 is newer than this descent reads (up to "
                        "version 2); resume it with a newer descent"));
    // Version 1 embedded a whole model file; its runs are finished by the descent that began them.
    newer[18] = 1;
    CHECK_THAT(message_of<descent::checkpoint_version_error>([&] { decode(reseal(newer)); }),
               Contains("checkpoint format version 1 is older than this descent reads (from version 2)"));
    newer[18] = 0;
    CHECK_THAT(message_of<descent::corrupt_checkpoint_error>([&] { decode(reseal(newer)); }),
               Contains("version 0 does not exist"));

    // Sizes that lie, with a sound checksum: refused before anything is allocated.
    const auto optm = good.find("OPTM");
    REQUIRE(optm != std::string::npos);
    std::string huge = good;
    const std::uint64_t lie = std::uint64_t{1} << 60;
    std::memcpy(huge.data() + optm + 4, &lie, 8);
    CHECK_THAT(message_of<descent::corrupt_checkpoint_error>([&] { decode(reseal(huge)); }),
               Contains("the OPTM section claims 1152921504606846976 bytes"));
    // The optimizer's state count is the last 8-byte field before the state: after α, the
    // settings and t. Lie about it alone.
    const auto section_end = optm + 12 + [&] {
        std::uint64_t n;
        std::memcpy(&n, good.data() + optm + 4, 8);
        return n;
    }();
    const std::size_t state_count_at = section_end - 8 * static_cast<std::size_t>(adam.state().size()) - 8;
    std::string state = good;
    std::memcpy(state.data() + state_count_at, &lie, 8);
    CHECK_THAT(message_of<descent::corrupt_checkpoint_error>([&] { decode(reseal(state)); }),
               Contains("optimizer's state claims 1152921504606846976 entries"));

    // The random engine's state as another standard library writes it.
    auto library = good.find(descent::detail::engine_format());
    REQUIRE(library != std::string::npos);
    std::string foreign = good;
    foreign[library] = foreign[library] == 'x' ? 'y' : 'x';
    CHECK_THAT(message_of<descent::checkpoint_mismatch_error>([&] { decode(reseal(foreign)); }),
               Contains("random engine's state was written by"));
    // A sample order that is not a permutation.
    const std::string text = descent::detail::engine_text(busy_progress(1, false).engine);
    const auto order_at = good.find(text) + text.size() + 8;
    std::string twice = good;
    std::memcpy(twice.data() + order_at + 8, twice.data() + order_at, 8);  // the second entry = the first
    CHECK_THAT(message_of<descent::corrupt_checkpoint_error>([&] { decode(reseal(twice)); }),
               Contains("not a permutation of [0, 5): it holds 4 twice"));
}

TEST_CASE("Every truncation and every flipped bit of a checkpoint is a checkpoint_error",
          "[checkpoint][errors]") {
    TempDir dir;
    const auto d = blobs<float>(4, 3);
    SmallNet<float> net({2, 3, 3}, 1);
    descent::Momentum<> momentum(0.01);
    momentum.step(net, d.x, d.y);
    descent::save_checkpoint(dir / "good", net, momentum,
                             busy_progress<float>(net.parameters().size(), true));
    const std::string good = contents(dir / "good");
    std::size_t refused = 0;
    for (std::size_t n = 0; n < good.size(); ++n) {
        CAPTURE(n);
        CHECK_THROWS_AS(descent::decode_checkpoint(good.substr(0, n)), descent::checkpoint_error);
        ++refused;
    }
    for (std::size_t at = 0; at < good.size(); at += 7) {
        for (int bit = 0; bit < 8; bit += 3) {
            CAPTURE(at, bit);
            std::string bad = good;
            bad[at] = static_cast<char>(bad[at] ^ (1 << bit));
            CHECK_THROWS_AS(descent::decode_checkpoint(bad), descent::checkpoint_error);
            ++refused;
        }
    }
    CHECK(refused == good.size() + 3 * ((good.size() + 6) / 7));
}

TEST_CASE("Stale temporary files of a killed write are removed, and nothing else", "[checkpoint]") {
    TempDir dir;
    dir.write(".run.checkpoint.tmp-123", "half a checkpoint");
    dir.write(".run.checkpoint.tmp-9", "");
    dir.write("run.checkpoint", "the checkpoint itself");
    dir.write(".other.tmp-1", "another file's");
    CHECK(descent::remove_stale_checkpoint_files(dir / "run.checkpoint") == 2);
    CHECK(std::filesystem::exists(dir / "run.checkpoint"));
    CHECK(std::filesystem::exists(dir / ".other.tmp-1"));
    CHECK(!std::filesystem::exists(dir / ".run.checkpoint.tmp-123"));
}
