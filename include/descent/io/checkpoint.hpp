#pragma once
// Training checkpoints: everything a run needs to go on exactly where it stopped.
//
//   FitOptions options;
//   options.checkpoint = Checkpointing{checkpoint_file("run.checkpoint"), 1, /*resume=*/true};
//   fit(net, adam, x, y, options);   // killed in epoch 8 and run again: goes on from epoch 7
//
// or from a training loop of one's own (rank 0 of a distributed run, say):
//   save_checkpoint("run.checkpoint", net, adam, progress);        // after an epoch
//   TrainingProgress progress = load_checkpoint("run.checkpoint", net, adam);
//
// A checkpoint holds the network (a model file's payload, io/model_file.hpp), the optimizer's
// snapshot (α, its hyperparameters, t and its state: ∇̄θ, Adam's m and v) and the run's
// progress (TrainingProgress): the epochs completed, the updates made (where a schedule
// is), the shuffling engine and the sample order it reshuffles in place, early stopping's
// tracker (best loss, best epoch, θ there), the epoch reports so far, and what identifies
// the run (seed, sample count, batch size, clipping, a checksum of the data). With all of
// it, a resumed run computes what the uninterrupted one would have, bit for bit.
//
// A checkpoint is a payload in the frame of io/codec.hpp (magic 89 "descent-ckpt" \r \n 1A \n,
// 17 bytes; byte order at offset 17, format version at 18, CRC-32 last). Payload of format
// version 2, every multi-byte field in the file's byte order, strings as a 4-byte length and
// the bytes: three sections, in this order, each a 4-byte ASCII tag, an 8-byte length n and
// n bytes:
//   MODL  the model file format version of what follows (4), then a model file's payload
//   OPTM  the optimizer: name, regularizer (strings), α (8), hyperparameters (4-byte count,
//         then a name and an 8-byte value each), t (8), state (8-byte count, then one
//         binary64 each)
//   PROG  the progress: epoch (4), updates (8), finished (1), seed (8), samples (8), batch
//         size (8), data checksum (4), max gradient norm (8), the engine's library and its
//         state as that library's operator<< writes it (strings), the order (8-byte count,
//         then 8 bytes each), early stopping (1, then patience (4) and min_delta (8)), best
//         loss (8), best epoch (4), best θ (8-byte count, then values in the model's scalar
//         type), reports (4-byte count, then per report: epoch (4), six binary64 and best
//         epoch (4))
// Version 1 embedded a whole model file in MODL; it is refused as checkpoint_version_error (a
// checkpoint lives as long as its run: finish it with the descent that began it).
#include <Eigen/Core>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <locale>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "../architecture.hpp"
#include "../detail/check_range.hpp"
#include "../detail/file.hpp"
#include "../detail/random.hpp"
#include "../detail/validate.hpp"
#include "../error.hpp"
#include "../optimizers/optimizer_snapshot.hpp"
#include "../training/run_state.hpp"
#include "codec.hpp"
#include "model_file.hpp"

namespace descent {

// A checkpoint file's content, decoded and checked, not yet matched to a network.
struct Checkpoint {
    ModelData model;
    OptimizerSnapshot optimizer;
    TrainingProgress progress;
};

namespace detail {

struct CheckpointFormat {
    // "\x89" ends the hexadecimal escape before the 'd'.
    static constexpr std::string_view magic{
        "\x89"
        "descent-ckpt\r\n\x1A\n",
        17};
    static constexpr std::uint32_t oldest = 2;  // a checkpoint lives as long as its run
    static constexpr std::uint32_t version = 2;
    static constexpr std::string_view noun = "checkpoint";
    static constexpr std::string_view reread = "resume it";
    static std::string foreign(std::string_view bytes) {
        return bytes.starts_with(ModelFileFormat::magic) ? "; it is a model file: load() reads it" : "";
    }
    using not_this_error = not_a_checkpoint_error;
    using corrupt_error = corrupt_checkpoint_error;
    using version_error = checkpoint_version_error;
};
using CheckpointReader = ByteReader<CheckpointFormat>;

// Per report: epoch, loss, seconds, train accuracy, validation loss and accuracy, learning
// rate, best epoch.
inline constexpr std::size_t report_size = 4 + 6 * 8 + 4;

// Whose operator<< wrote the engine's state: the text is exact, but each standard library
// writes its own (libstdc++ adds the position in its buffer), so it is read back only by
// the same library.
inline const char* engine_format() {
#if defined(_LIBCPP_VERSION)
    return "libc++ mt19937_64";
#elif defined(__GLIBCXX__)
    return "libstdc++ mt19937_64";
#elif defined(_MSC_VER)
    return "msvc mt19937_64";
#else
    return "unknown mt19937_64";
#endif
}

inline std::string engine_text(const Engine& engine) {
    std::ostringstream out;
    out.imbue(std::locale::classic());  // no digit grouping, whatever the global locale
    out << engine;
    return out.str();
}

// A section: its tag, then a block.
template <class Write>
void put_section(ByteWriter& out, std::string_view tag, Write&& write) {
    out.put_bytes(tag);
    out.put_block(std::forward<Write>(write));
}
inline CheckpointReader get_section(CheckpointReader& in, const char* tag) {
    const auto found = in.get_bytes(4, "section tags");
    if (found != std::string_view(tag, 4))
        throw in.corrupt("expected the " + std::string(tag) + " section, found the tag \"" +
                         std::string(found) + "\"");
    return in.get_block((std::string(tag) + " section").c_str());
}

inline void put_optimizer(ByteWriter& out, const OptimizerSnapshot& o) {
    out.put_string(o.optimizer);
    out.put_string(o.regularizer);
    out.put(o.learning_rate);
    out.put(static_cast<std::uint32_t>(o.settings.size()));
    for (const auto& [name, value] : o.settings) {
        out.put_string(name);
        out.put(value);
    }
    out.put(static_cast<std::int64_t>(o.steps));
    out.put(static_cast<std::uint64_t>(o.state.size()));
    out.put(o.state.data(), static_cast<std::size_t>(o.state.size()));
}

inline OptimizerSnapshot get_optimizer(CheckpointReader& in) {
    OptimizerSnapshot o;
    o.optimizer = in.get_string("optimizer's name");
    o.regularizer = in.get_string("optimizer's regularizer");
    o.learning_rate = in.get<double>("optimizer's learning rate");
    // A hyperparameter takes a string's length and a value at least.
    const auto settings = in.check_count(in.get<std::uint32_t>("optimizer's hyperparameters"), 12,
                                         "optimizer's hyperparameters");
    for (std::uint32_t k = 0; k < settings; ++k) {
        std::string name = in.get_string("optimizer's hyperparameters");
        o.settings.emplace_back(std::move(name), in.get<double>("optimizer's hyperparameters"));
    }
    o.steps = in.get<std::int64_t>("optimizer's step count");
    if (o.steps < 0) throw in.corrupt("the optimizer's step count is " + std::to_string(o.steps));
    o.state.resize(static_cast<Eigen::Index>(in.get_count(8, "optimizer's state")));
    in.get(o.state.data(), static_cast<std::size_t>(o.state.size()), "optimizer's state");
    in.expect_end("optimizer's state");
    return o;
}

inline void put_progress(ByteWriter& out, const TrainingProgress& p, bool single) {
    out.put(static_cast<std::int32_t>(p.epoch));
    out.put(static_cast<std::int64_t>(p.updates));
    out.put(static_cast<std::uint8_t>(p.finished ? 1 : 0));
    out.put(static_cast<std::uint64_t>(p.seed));
    out.put(static_cast<std::int64_t>(p.samples));
    out.put(static_cast<std::int64_t>(p.batch_size));
    out.put(static_cast<std::uint32_t>(p.data_checksum));
    out.put(p.max_gradient_norm);
    out.put_string(engine_format());
    out.put_string(engine_text(p.engine));
    out.put(static_cast<std::uint64_t>(p.order.size()));
    for (const auto i : p.order) out.put(static_cast<std::int64_t>(i));
    out.put(static_cast<std::uint8_t>(p.early_stopping ? 1 : 0));
    out.put(static_cast<std::int32_t>(p.early_stopping ? p.early_stopping->patience : 0));
    out.put(p.early_stopping ? p.early_stopping->min_delta : 0.0);
    out.put(p.best_loss);
    out.put(static_cast<std::int32_t>(p.best_epoch));
    out.put(static_cast<std::uint64_t>(p.best_parameters.size()));
    if (single) {
        const Eigen::VectorXf best = p.best_parameters.cast<float>();
        out.put(best.data(), static_cast<std::size_t>(best.size()));
    } else {
        out.put(p.best_parameters.data(), static_cast<std::size_t>(p.best_parameters.size()));
    }
    out.put(static_cast<std::uint32_t>(p.reports.size()));
    for (const auto& r : p.reports) {
        out.put(static_cast<std::int32_t>(r.epoch));
        for (const double v :
             {r.loss, r.seconds, r.train_accuracy, r.validation_loss, r.validation_accuracy, r.learning_rate})
            out.put(v);
        out.put(static_cast<std::int32_t>(r.best_epoch));
    }
}

// The progress, its best θ of `parameters` values (or none) in float when `single`.
inline TrainingProgress get_progress(CheckpointReader& in, bool single, std::uint64_t parameters) {
    TrainingProgress p;
    auto corrupt = [&](const std::string& what) { return in.corrupt(what); };
    p.epoch = in.get<std::int32_t>("progress");
    if (p.epoch < 0) throw corrupt("the epoch is " + std::to_string(p.epoch));
    p.updates = in.get<std::int64_t>("progress");
    if (p.updates < 0) throw corrupt("the update count is " + std::to_string(p.updates));
    const auto finished = in.get<std::uint8_t>("progress");
    if (finished > 1) throw corrupt("the finished flag is " + std::to_string(finished));
    p.finished = finished == 1;
    p.seed = in.get<std::uint64_t>("progress");
    p.samples = in.get<std::int64_t>("progress");
    p.batch_size = in.get<std::int64_t>("progress");
    if (p.samples < 0 || p.batch_size < 0)
        throw corrupt("the sample count " + std::to_string(p.samples) + " or the batch size " +
                      std::to_string(p.batch_size) + " is negative");
    p.data_checksum = in.get<std::uint32_t>("progress");
    p.max_gradient_norm = in.get<double>("progress");
    if (!(std::isfinite(p.max_gradient_norm) && p.max_gradient_norm >= 0))
        throw corrupt("the max gradient norm is " + number(p.max_gradient_norm));

    const std::string format = in.get_string("engine's library");
    const std::string text = in.get_string("engine's state");
    if (format != engine_format())
        throw checkpoint_mismatch_error(in.name() + ": the random engine's state was written by " + format +
                                        ", which this build (" + engine_format() +
                                        ") cannot read back exactly");
    {
        std::istringstream read(text);
        read.imbue(std::locale::classic());
        read >> p.engine;
        // The text must be the engine's own, exactly: what it reads back writes it again.
        if (read.fail() || engine_text(p.engine) != text)
            throw corrupt("the random engine's state is not one " + format + " writes");
    }

    const auto order = in.get_count(8, "sample order");
    if (order != 0) {
        if (static_cast<std::uint64_t>(p.samples) != order)
            throw corrupt("the sample order has " + std::to_string(order) + " entries for " +
                          std::to_string(p.samples) + " samples");
        std::vector<bool> seen(order, false);
        p.order.resize(order);
        for (auto& i : p.order) {
            const auto value = in.get<std::int64_t>("sample order");
            const bool inside = value >= 0 && static_cast<std::uint64_t>(value) < order;
            if (!inside || seen[static_cast<std::size_t>(value)])
                throw corrupt("the sample order is not a permutation of [0, " + std::to_string(order) +
                              "): it holds " + std::to_string(value) + (inside ? " twice" : ""));
            seen[static_cast<std::size_t>(value)] = true;
            i = static_cast<Eigen::Index>(value);
        }
    }

    const auto stopping = in.get<std::uint8_t>("early stopping");
    const auto patience = in.get<std::int32_t>("early stopping");
    const auto min_delta = in.get<double>("early stopping");
    if (stopping > 1) throw corrupt("the early stopping flag is " + std::to_string(stopping));
    if (stopping == 1) {
        if (patience < 1 || !(std::isfinite(min_delta) && min_delta >= 0))
            throw corrupt("early stopping has patience " + std::to_string(patience) + " and min_delta " +
                          number(min_delta));
        p.early_stopping = EarlyStopping{patience, min_delta};
    }
    p.best_loss = in.get<double>("early stopping");
    p.best_epoch = in.get<std::int32_t>("early stopping");
    if (p.best_epoch < 0 || p.best_epoch > p.epoch)
        throw corrupt("the best epoch " + std::to_string(p.best_epoch) + " is outside [0, " +
                      std::to_string(p.epoch) + "]");
    if (p.best_epoch == 0 ? p.best_loss != std::numeric_limits<double>::infinity()
                          : !std::isfinite(p.best_loss))
        throw corrupt("the best loss " + number(p.best_loss) + " does not go with best epoch " +
                      std::to_string(p.best_epoch));
    const auto best = in.get_count(single ? 4 : 8, "best parameters");
    if (best != 0 && best != parameters)
        throw corrupt("the best parameters are " + std::to_string(best) + " values for a model of " +
                      std::to_string(parameters));
    if (single) {
        Eigen::VectorXf values(static_cast<Eigen::Index>(best));
        in.get(values.data(), best, "best parameters");
        p.best_parameters = values.cast<double>();
    } else {
        p.best_parameters.resize(static_cast<Eigen::Index>(best));
        in.get(p.best_parameters.data(), best, "best parameters");
    }
    // fit puts these back when it stops: a NaN here would end the run with a broken network
    // and no error (found by fuzzing, tests/test_fuzz_regressions.cpp).
    if (const Eigen::Index i = first_non_finite(p.best_parameters); i >= 0)
        throw corrupt("the best parameters hold " + number(p.best_parameters(i)) + " at index " +
                      std::to_string(i));

    const auto reports = in.check_count(in.get<std::uint32_t>("epoch reports"), report_size, "epoch reports");
    p.reports.reserve(reports);
    for (std::uint32_t k = 0; k < reports; ++k) {
        EpochReport r{};
        r.epoch = in.get<std::int32_t>("epoch reports");
        r.loss = in.get<double>("epoch reports");
        r.seconds = in.get<double>("epoch reports");
        r.train_accuracy = in.get<double>("epoch reports");
        r.validation_loss = in.get<double>("epoch reports");
        r.validation_accuracy = in.get<double>("epoch reports");
        r.learning_rate = in.get<double>("epoch reports");
        r.best_epoch = in.get<std::int32_t>("epoch reports");
        const int previous = p.reports.empty() ? 0 : p.reports.back().epoch;
        if (r.epoch <= previous || r.epoch > p.epoch || r.best_epoch < 0 || r.best_epoch > r.epoch)
            throw corrupt("epoch report " + std::to_string(k + 1) + " is of epoch " +
                          std::to_string(r.epoch) + " (best " + std::to_string(r.best_epoch) +
                          ") after epoch " + std::to_string(previous) + ", in a run of " +
                          std::to_string(p.epoch) + " epochs");
        p.reports.push_back(r);
    }
    in.expect_end("epoch reports");
    return p;
}

// The bytes of a checkpoint of the model (a, θ, metadata), optimizer o and progress p, in the
// byte order `order`.
// throws: argument_error naming `who` when a is not sound (as save_model), or p.best_parameters
//         is neither empty nor of θ's size, or holds a NaN or an infinity.
inline std::string encode_checkpoint(const Architecture& a, const Eigen::VectorXd& theta,
                                     const ModelMetadata& metadata, const OptimizerSnapshot& o,
                                     const TrainingProgress& p, const char* who,
                                     std::endian order = std::endian::native) {
    check_architecture(a, who);
    const Eigen::Index best = p.best_parameters.size();
    if (best != 0 && best != theta.size())
        throw argument_error(std::string(who) + ": " + std::to_string(best) +
                             " best parameters for a model of " + std::to_string(theta.size()));
    if (const Eigen::Index i = first_non_finite(p.best_parameters); i >= 0)
        throw argument_error(std::string(who) + ": the best parameters hold " + number(p.best_parameters(i)) +
                             " at index " + std::to_string(i));
    const bool single = a.scalar == "float";
    return encode_frame<CheckpointFormat>(order, [&](ByteWriter& out) {
        put_section(out, "MODL", [&](ByteWriter& model) {
            model.put(ModelFileFormat::version);
            const auto count = static_cast<std::size_t>(theta.size());
            if (single) {
                const Eigen::VectorXf narrow = theta.cast<float>();
                put_model(model, a, metadata, narrow.data(), count);
            } else {
                put_model(model, a, metadata, theta.data(), count);
            }
        });
        put_section(out, "OPTM", [&](ByteWriter& optimizer) { put_optimizer(optimizer, o); });
        put_section(out, "PROG", [&](ByteWriter& progress) { put_progress(progress, p, single); });
    });
}

}  // namespace detail

// The bytes of a checkpoint file holding `c`, in this machine's byte order.
// throws: argument_error when c.model's architecture is not sound, or c.progress.best_parameters
//         is neither empty nor of θ's size, or holds a NaN or an infinity.
inline std::string encode_checkpoint(const Checkpoint& c) {
    return detail::encode_checkpoint(c.model.architecture, c.model.parameters, c.model.metadata, c.optimizer,
                                     c.progress, "encode_checkpoint");
}

// A checkpoint taken apart and checked: the frame (magic, checksum, version), every size and
// count, the model section as a model file's payload, the optimizer's and the progress's
// fields. It reads any bytes at all without crashing or allocating beyond a small multiple of
// their size (the entry point for fuzzing); `name` goes into the messages.
// throws: not_a_checkpoint_error (wrong magic; a model file is named as one),
//         corrupt_checkpoint_error (checksum, sizes, fields out of range),
//         checkpoint_version_error (a newer format), checkpoint_mismatch_error (the engine's
//         state written by another standard library).
inline Checkpoint decode_checkpoint(std::string_view bytes, const std::string& name = "checkpoint") {
    auto frame = detail::open_frame<detail::CheckpointFormat>(bytes, name);
    detail::CheckpointReader& in = frame.payload;
    auto model = detail::get_section(in, "MODL");
    const auto version = model.get<std::uint32_t>("MODL section");
    if (version == 0 || version > detail::ModelFileFormat::version)
        throw in.corrupt("its model section is of model file format version " + std::to_string(version) +
                         ", which no checkpoint of version " + std::to_string(frame.version) + " holds");
    const auto image = detail::get_model(model, version);
    Checkpoint c;
    c.model.parameters = detail::get_parameters_as_double<detail::CheckpointFormat>(image, name);
    auto optimizer = detail::get_section(in, "OPTM");
    c.optimizer = detail::get_optimizer(optimizer);
    auto progress = detail::get_section(in, "PROG");
    c.progress = detail::get_progress(progress, image.architecture.scalar == "float", image.parameter_count);
    in.expect_end("last section");
    c.model.architecture = image.architecture;
    c.model.metadata = image.metadata;
    return c;
}

// The checkpoint at `path`. throws: io_error (missing, unreadable), and as decode_checkpoint.
inline Checkpoint read_checkpoint(const std::filesystem::path& path) {
    return decode_checkpoint(detail::read_file(path), path.string());
}

// Replaces the file at `path` with `c`, atomically (detail::atomic_write): a crash or a kill
// at any moment leaves either the previous checkpoint or this one, complete.
// throws: argument_error as encode_checkpoint; io_error naming the path and the step.
inline void write_checkpoint(const std::filesystem::path& path, const Checkpoint& c) {
    detail::atomic_write(path, encode_checkpoint(c));
}

// net, optimizer and progress as a Checkpoint (make_run_record).
template <class Net, CheckpointableOptimizer Opt>
Checkpoint make_checkpoint(const Net& net, const Opt& optimizer, TrainingProgress progress) {
    RunRecord r = make_run_record(net, optimizer, std::move(progress));
    return {{std::move(r.architecture), std::move(r.parameters), {}},
            std::move(r.optimizer),
            std::move(r.progress)};
}

// Writes net, optimizer and progress to `path`, atomically (write_checkpoint).
// throws: as write_checkpoint; net and optimizer are never changed.
template <class Net, CheckpointableOptimizer Opt>
void save_checkpoint(const std::filesystem::path& path, const Net& net, const Opt& optimizer,
                     const TrainingProgress& progress) {
    write_checkpoint(path, make_checkpoint(net, optimizer, progress));
}

// Puts a decoded checkpoint's θ into net and its snapshot into optimizer (restore_run);
// returns its progress. `name` (the file) goes into the messages.
// ensures: on a throw, net and optimizer are unchanged.
// throws: checkpoint_mismatch_error when the checkpoint is of another architecture or scalar
//         type (naming both), or of another optimizer or hyperparameters (optimizer.mismatch);
//         corrupt_checkpoint_error when its θ or best θ is not of the network's size.
template <class Net, CheckpointableOptimizer Opt>
TrainingProgress restore_checkpoint(const Checkpoint& c, Net& net, Opt& optimizer,
                                    const std::string& name = "checkpoint") {
    const RunRecord record{c.model.architecture, c.model.parameters, c.optimizer, c.progress};
    return restore_run(record, net, optimizer, name);
}

// The checkpoint at `path` restored into net and optimizer (read_checkpoint, then
// restore_checkpoint); returns its progress.
// ensures: on a throw, net and optimizer are unchanged.
// throws: io_error, and the checkpoint_error subclasses of decode_checkpoint and restore_checkpoint.
template <class Net, CheckpointableOptimizer Opt>
TrainingProgress load_checkpoint(const std::filesystem::path& path, Net& net, Opt& optimizer) {
    return restore_checkpoint(read_checkpoint(path), net, optimizer, path.string());
}

// Removes the temporary files that writes of the checkpoint at `path` left when the process
// died between creating and renaming them (detail::atomic_write names them
// ".<file name>.tmp-<n>" beside the file). Only for when no other process is writing that
// checkpoint; errors are ignored (a stale file only costs space).
// returns: how many files were removed.
inline int remove_stale_checkpoint_files(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    const fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
    const std::string prefix = "." + path.filename().string() + ".tmp-";
    int removed = 0;
    std::error_code code;
    for (fs::directory_iterator it(directory, code), end; !code && it != end; it.increment(code)) {
        const std::string file = it->path().filename().string();
        std::error_code ignored;
        if (file.starts_with(prefix) && fs::remove(it->path(), ignored)) ++removed;
    }
    return removed;
}

// Checkpoints in a file at `path`, replaced atomically at every write.
class CheckpointFile : public CheckpointStore {
public:
    // throws: argument_error for an empty path.
    explicit CheckpointFile(std::filesystem::path path) : path_(std::move(path)) {
        if (path_.empty()) throw argument_error("checkpoint_file: the path is empty");
    }
    std::string name() const override { return path_.string(); }
    std::optional<std::string> read() const override {
        std::error_code missing;
        if (!std::filesystem::exists(path_, missing)) return std::nullopt;
        return detail::read_file(path_);
    }
    void write(std::string_view bytes) override { detail::atomic_write(path_, bytes); }
    std::string encode(const RunRecord& r) const override {
        return detail::encode_checkpoint(r.architecture, r.parameters, {}, r.optimizer, r.progress,
                                         "checkpoint");
    }
    RunRecord decode(std::string_view bytes) const override {
        Checkpoint c = decode_checkpoint(bytes, name());
        return {std::move(c.model.architecture), std::move(c.model.parameters), std::move(c.optimizer),
                std::move(c.progress)};
    }
    // Removes what writes killed before their rename left behind (remove_stale_checkpoint_files).
    void prepare() override { remove_stale_checkpoint_files(path_); }

private:
    std::filesystem::path path_;
};

// A store for FitOptions::checkpoint: Checkpointing{checkpoint_file("run.checkpoint"), every, resume}.
// throws: argument_error for an empty path.
inline std::shared_ptr<CheckpointStore> checkpoint_file(const std::filesystem::path& path) {
    return std::make_shared<CheckpointFile>(path);
}

}  // namespace descent
