#pragma once
// Training checkpoints: everything a run needs to go on exactly where it stopped.
//
//   FitOptions options;
//   options.checkpoint = Checkpointing{"run.checkpoint", 1, /*resume=*/true};
//   fit(net, adam, x, y, options);   // killed in epoch 8 and run again: goes on from epoch 7
//
// or from a training loop of one's own (rank 0 of a distributed run, say):
//   save_checkpoint("run.checkpoint", net, adam, progress);        // after an epoch
//   TrainingProgress progress = load_checkpoint("run.checkpoint", net, adam);
//
// A checkpoint holds the network (a whole model file, io/model_file.hpp), the optimizer's
// snapshot (α, its hyperparameters, t and its state: ∇̄θ, Adam's m and v) and the run's
// progress (TrainingProgress): the epochs completed, the updates made (where a schedule
// is), the shuffling engine and the sample order it reshuffles in place, early stopping's
// tracker (best loss, best epoch, θ there), the epoch reports so far, and what identifies
// the run (seed, sample count, batch size, clipping, a checksum of the data). With all of
// it, a resumed run computes what the uninterrupted one would have, bit for bit.
//
// Format version 1; every multi-byte field in the file's byte order:
//
//   bytes   field
//   17      magic           89 "descent-ckpt" \r \n 1A \n (PNG's trick, as model files)
//   1       byte order      'L' little-endian, 'B' big-endian (the writer's own)
//   4       format version  1
//   then three sections, in this order, each a 4-byte ASCII tag, an 8-byte length n
//   and n bytes:
//     MODL  a model file, byte for byte as save() writes it (with its own CRC-32)
//     OPTM  the optimizer: name, regularizer (strings: 4-byte length, then bytes),
//           α (8), hyperparameters (4-byte count, then name and 8-byte value each),
//           t (8), state (8-byte count, then one binary64 each)
//     PROG  the progress: epoch (4), updates (8), finished (1), seed (8), samples (8),
//           batch size (8), data checksum (4), max gradient norm (8), the engine's
//           library and its state as that library's operator<< writes it (strings),
//           the order (8-byte count, then 8 bytes each), early stopping (1, then
//           patience (4) and min_delta (8)), best loss (8), best epoch (4), best θ
//           (8-byte count, then values in the model's scalar type), reports (4-byte
//           count, then per report: epoch (4), six binary64 and best epoch (4))
//   4       CRC-32          zlib's crc32 of every byte before it
//
// Frozen for every future version: the magic, the byte order, the version at offset 18
// and the CRC-32 as the last 4 bytes, so that damage is found before the version is
// believed. Reading checks every count against the bytes that remain before it
// allocates anything, so no file, however made, makes the reader allocate more than a
// small multiple of the file's own size.
#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
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

#include "../detail/file.hpp"
#include "../detail/random.hpp"
#include "../detail/validate.hpp"
#include "../error.hpp"
#include "../optimizers/optimizer_snapshot.hpp"
#include "../training/run_state.hpp"
#include "model_file.hpp"

namespace descent {

// A checkpoint file's content, decoded and checked, not yet matched to a network.
struct Checkpoint {
    std::string model;  // a model file's bytes (io/model_file.hpp)
    OptimizerSnapshot optimizer;
    TrainingProgress progress;
};

namespace detail {

// "\x89" ends the hexadecimal escape before the 'd'.
inline constexpr std::string_view checkpoint_magic{
    "\x89"
    "descent-ckpt\r\n\x1A\n",
    17};
inline constexpr std::uint32_t checkpoint_format_version = 1;
inline constexpr std::size_t checkpoint_header_size = checkpoint_magic.size() + 1 + 4;
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

// Fields of a checkpoint, bounds-checked: running past the end is a corrupt file.
class CheckpointReader {
public:
    CheckpointReader(std::string_view bytes, std::endian order, const std::string& name)
        : bytes_(bytes), order_(order), name_(name) {}

    template <class T>
    T get(const char* what) {
        need(sizeof(T), what);
        char raw[sizeof(T)];
        std::memcpy(raw, bytes_.data() + at_, sizeof(T));
        if (order_ != std::endian::native) std::reverse(raw, raw + sizeof(T));
        at_ += sizeof(T);
        T value;
        std::memcpy(&value, raw, sizeof(T));
        return value;
    }
    std::string_view get_bytes(std::size_t n, const char* what) {
        need(n, what);
        const auto view = bytes_.substr(at_, n);
        at_ += n;
        return view;
    }
    std::string get_string(const char* what) {
        return std::string(get_bytes(get<std::uint32_t>(what), what));
    }
    // A count of items of `item_size` bytes each, which must fit in what remains.
    std::uint64_t get_count(std::size_t item_size, const char* what) {
        const auto n = get<std::uint64_t>(what);
        if (n > remaining() / item_size)
            throw corrupt(std::string("its ") + what + " claims " + std::to_string(n) +
                          " entries, more than the " + std::to_string(remaining()) + " bytes left hold");
        return n;
    }
    std::size_t remaining() const { return bytes_.size() - at_; }
    const std::string& name() const { return name_; }

    corrupt_checkpoint_error corrupt(const std::string& what) const {
        return corrupt_checkpoint_error(name_ + ": corrupt checkpoint: " + what);
    }

private:
    void need(std::size_t n, const char* what) const {
        if (n > remaining()) throw corrupt(std::string("it ends inside the ") + what);
    }
    std::string_view bytes_;
    std::endian order_;
    std::string name_;
    std::size_t at_ = 0;
};

inline void put_string(ModelWriter& out, std::string_view text) {
    out.put(static_cast<std::uint32_t>(text.size()));
    out.put_raw(text.data(), text.size());
}
inline void put_section(ModelWriter& out, const char (&tag)[5], const std::string& payload) {
    out.put_raw(tag, 4);
    out.put(static_cast<std::uint64_t>(payload.size()));
    out.put_raw(payload.data(), payload.size());
}

// A checkpoint's model section, checked as a model file; damage there is damage to the checkpoint.
inline ModelImage decode_embedded_model(std::string_view model, const std::string& name) {
    try {
        return decode_model(model, name + " (its model)");
    } catch (const model_file_error& e) {
        throw corrupt_checkpoint_error(
            name + ": corrupt checkpoint: its model section is not a sound model file: " + e.what());
    }
}

inline std::string encode_optimizer(const OptimizerSnapshot& o, std::endian order) {
    ModelWriter out(order);
    put_string(out, o.optimizer);
    put_string(out, o.regularizer);
    out.put(o.learning_rate);
    out.put(static_cast<std::uint32_t>(o.settings.size()));
    for (const auto& [name, value] : o.settings) {
        put_string(out, name);
        out.put(value);
    }
    out.put(static_cast<std::int64_t>(o.steps));
    out.put(static_cast<std::uint64_t>(o.state.size()));
    for (Eigen::Index i = 0; i < o.state.size(); ++i) out.put(o.state(i));
    return std::move(out.bytes());
}

inline OptimizerSnapshot decode_optimizer(CheckpointReader& in) {
    OptimizerSnapshot o;
    o.optimizer = in.get_string("optimizer's name");
    o.regularizer = in.get_string("optimizer's regularizer");
    o.learning_rate = in.get<double>("optimizer's learning rate");
    const auto settings = in.get<std::uint32_t>("optimizer's hyperparameters");
    if (settings > in.remaining() / 12)
        throw in.corrupt(std::to_string(settings) + " hyperparameters do not fit in the optimizer's section");
    for (std::uint32_t k = 0; k < settings; ++k) {
        std::string name = in.get_string("optimizer's hyperparameters");
        o.settings.emplace_back(std::move(name), in.get<double>("optimizer's hyperparameters"));
    }
    o.steps = in.get<std::int64_t>("optimizer's step count");
    if (o.steps < 0) throw in.corrupt("the optimizer's step count is " + std::to_string(o.steps));
    const auto count = in.get_count(8, "optimizer's state");
    o.state.resize(static_cast<Eigen::Index>(count));
    for (Eigen::Index i = 0; i < o.state.size(); ++i) o.state(i) = in.get<double>("optimizer's state");
    if (in.remaining() != 0) throw in.corrupt("the optimizer's section has bytes after its state");
    return o;
}

inline std::string encode_progress(const TrainingProgress& p, const ModelImage& model, std::endian order) {
    ModelWriter out(order);
    out.put(static_cast<std::int32_t>(p.epoch));
    out.put(static_cast<std::int64_t>(p.updates));
    out.put(static_cast<std::uint8_t>(p.finished ? 1 : 0));
    out.put(static_cast<std::uint64_t>(p.seed));
    out.put(static_cast<std::int64_t>(p.samples));
    out.put(static_cast<std::int64_t>(p.batch_size));
    out.put(static_cast<std::uint32_t>(p.data_checksum));
    out.put(p.max_gradient_norm);
    put_string(out, engine_format());
    put_string(out, engine_text(p.engine));
    out.put(static_cast<std::uint64_t>(p.order.size()));
    for (const auto i : p.order) out.put(static_cast<std::int64_t>(i));
    out.put(static_cast<std::uint8_t>(p.early_stopping ? 1 : 0));
    out.put(static_cast<std::int32_t>(p.early_stopping ? p.early_stopping->patience : 0));
    out.put(p.early_stopping ? p.early_stopping->min_delta : 0.0);
    out.put(p.best_loss);
    out.put(static_cast<std::int32_t>(p.best_epoch));
    out.put(static_cast<std::uint64_t>(p.best_parameters.size()));
    for (Eigen::Index i = 0; i < p.best_parameters.size(); ++i) {
        if (model.scalar == 'f')
            out.put(static_cast<float>(p.best_parameters(i)));
        else
            out.put(p.best_parameters(i));
    }
    out.put(static_cast<std::uint32_t>(p.reports.size()));
    for (const auto& r : p.reports) {
        out.put(static_cast<std::int32_t>(r.epoch));
        for (const double v :
             {r.loss, r.seconds, r.train_accuracy, r.validation_loss, r.validation_accuracy, r.learning_rate})
            out.put(v);
        out.put(static_cast<std::int32_t>(r.best_epoch));
    }
    return std::move(out.bytes());
}

inline TrainingProgress decode_progress(CheckpointReader& in, const ModelImage& model) {
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
    const std::size_t scalar_size = model.scalar == 'f' ? 4 : 8;
    const auto best = in.get_count(scalar_size, "best parameters");
    if (best != 0 && best != model.parameter_count)
        throw corrupt("the best parameters are " + std::to_string(best) + " values for a model of " +
                      std::to_string(model.parameter_count));
    p.best_parameters.resize(static_cast<Eigen::Index>(best));
    for (Eigen::Index i = 0; i < p.best_parameters.size(); ++i)
        p.best_parameters(i) = model.scalar == 'f' ? static_cast<double>(in.get<float>("best parameters"))
                                                   : in.get<double>("best parameters");
    // fit puts these back when it stops: a NaN here would end the run with a broken network
    // and no error (found by fuzzing, tests/test_fuzz_regressions.cpp).
    if (const Eigen::Index i = first_non_finite(p.best_parameters); i >= 0)
        throw corrupt("the best parameters hold " + number(p.best_parameters(i)) + " at index " +
                      std::to_string(i));

    const auto reports = in.get<std::uint32_t>("epoch reports");
    if (reports > in.remaining() / report_size)
        throw corrupt(std::to_string(reports) + " epoch reports do not fit in the progress section");
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
    if (in.remaining() != 0) throw corrupt("the progress section has bytes after its reports");
    return p;
}

}  // namespace detail

// The bytes of a checkpoint file holding `c`, in this machine's byte order.
// throws: argument_error when c.model is not a sound model file or c.progress.best_parameters
//         is neither empty nor of the model's size, or holds a NaN or an infinity.
inline std::string encode_checkpoint(const Checkpoint& c) {
    const auto order = std::endian::native;
    detail::ModelImage image{};
    try {
        image = detail::decode_model(c.model, "the checkpoint's model");
    } catch (const model_file_error& e) {
        throw argument_error(std::string("encode_checkpoint: the model is not a sound model file: ") +
                             e.what());
    }
    const auto best = static_cast<std::uint64_t>(c.progress.best_parameters.size());
    if (best != 0 && best != image.parameter_count)
        throw argument_error("encode_checkpoint: " + std::to_string(best) +
                             " best parameters for a model of " + std::to_string(image.parameter_count));
    if (const Eigen::Index i = detail::first_non_finite(c.progress.best_parameters); i >= 0)
        throw argument_error("encode_checkpoint: the best parameters hold " +
                             detail::number(c.progress.best_parameters(i)) + " at index " +
                             std::to_string(i));
    detail::ModelWriter out(order);
    out.put_raw(detail::checkpoint_magic.data(), detail::checkpoint_magic.size());
    out.put(order == std::endian::little ? 'L' : 'B');
    out.put(detail::checkpoint_format_version);
    detail::put_section(out, "MODL", c.model);
    detail::put_section(out, "OPTM", detail::encode_optimizer(c.optimizer, order));
    detail::put_section(out, "PROG", detail::encode_progress(c.progress, image, order));
    out.put(detail::crc32_of(out.bytes()));
    return std::move(out.bytes());
}

// A checkpoint taken apart and checked: the magic, the checksum, the version, every size
// and count, the model section as a model file, the optimizer's and the progress's fields.
// It reads any bytes at all without crashing or allocating beyond a small multiple of
// their size (the entry point for fuzzing); `name` goes into the messages.
// throws: not_a_checkpoint_error (wrong magic; a model file is named as one),
//         corrupt_checkpoint_error (checksum, sizes, fields out of range),
//         checkpoint_version_error (a newer format), checkpoint_mismatch_error (the engine's
//         state written by another standard library).
inline Checkpoint decode_checkpoint(std::string_view bytes, const std::string& name = "checkpoint") {
    const std::string_view magic = detail::checkpoint_magic;
    auto corrupt = [&](const std::string& what) {
        return corrupt_checkpoint_error(name + ": corrupt checkpoint: " + what);
    };
    if (!bytes.empty() && bytes.size() < magic.size() && magic.starts_with(bytes))
        throw corrupt("truncated to " + std::to_string(bytes.size()) + " bytes, inside the magic number");
    if (!bytes.starts_with(magic)) {
        const std::string_view model_magic(detail::model_magic, sizeof detail::model_magic);
        throw not_a_checkpoint_error(name + ": not a descent checkpoint (wrong magic number" +
                                     (bytes.starts_with(model_magic)
                                          ? std::string("; it is a model file: load() reads it)")
                                      : bytes.empty() ? std::string("; the file is empty)")
                                                      : std::string(")")));
    }
    if (bytes.size() < detail::checkpoint_header_size + 4)
        throw corrupt("truncated to " + std::to_string(bytes.size()) + " bytes, shorter than any checkpoint");
    const char order_mark = bytes[magic.size()];
    if (order_mark != 'L' && order_mark != 'B') throw corrupt("the byte order is neither 'L' nor 'B'");
    const std::endian order = order_mark == 'L' ? std::endian::little : std::endian::big;

    detail::CheckpointReader trailer(bytes.substr(bytes.size() - 4), order, name);
    if (trailer.get<std::uint32_t>("checksum") != detail::crc32_of(bytes.substr(0, bytes.size() - 4)))
        throw corrupt(
            "the CRC-32 does not match its content (the file was truncated, damaged or appended to)");

    detail::CheckpointReader in(bytes.substr(0, bytes.size() - 4), order, name);
    in.get_bytes(magic.size() + 1, "header");
    const auto version = in.get<std::uint32_t>("header");
    if (version == 0) throw corrupt("format version 0 does not exist");
    if (version > detail::checkpoint_format_version)
        throw checkpoint_version_error(name + ": checkpoint format version " + std::to_string(version) +
                                       " is newer than this descent reads (up to version " +
                                       std::to_string(detail::checkpoint_format_version) +
                                       "); resume it with a newer descent");

    auto section = [&](const char* tag) {
        const auto found = in.get_bytes(4, "section tags");
        if (found != std::string_view(tag, 4))
            throw corrupt("expected the " + std::string(tag) + " section, found the tag \"" +
                          std::string(found) + "\"");
        const auto length = in.get<std::uint64_t>("section lengths");
        if (length > in.remaining())
            throw corrupt("the " + std::string(tag) + " section claims " + std::to_string(length) +
                          " bytes, " + std::to_string(in.remaining()) + " remain");
        return in.get_bytes(static_cast<std::size_t>(length), "sections");
    };
    Checkpoint c;
    c.model = std::string(section("MODL"));
    const auto image = detail::decode_embedded_model(c.model, name);
    detail::CheckpointReader optimizer(section("OPTM"), order, name);
    c.optimizer = detail::decode_optimizer(optimizer);
    detail::CheckpointReader progress(section("PROG"), order, name);
    c.progress = detail::decode_progress(progress, image);
    if (in.remaining() != 0) throw corrupt(std::to_string(in.remaining()) + " bytes after the last section");
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

// An optimizer whose state can be saved and restored (every FirstOrder one).
// net, optimizer and progress as a Checkpoint.
template <detail::SavableNetwork Net, CheckpointableOptimizer Opt>
Checkpoint make_checkpoint(const Net& net, const Opt& optimizer, TrainingProgress progress) {
    const auto theta = net.parameters();
    return {detail::encode_model(detail::manifest(net), theta.data(), static_cast<std::size_t>(theta.size()),
                                 std::endian::native),
            optimizer.snapshot(), std::move(progress)};
}

// Writes net, optimizer and progress to `path`, atomically (write_checkpoint).
template <detail::SavableNetwork Net, CheckpointableOptimizer Opt>
void save_checkpoint(const std::filesystem::path& path, const Net& net, const Opt& optimizer,
                     const TrainingProgress& progress) {
    write_checkpoint(path, make_checkpoint(net, optimizer, progress));
}

// Puts a decoded checkpoint's θ into net and its snapshot into optimizer; returns its progress.
// `name` (the file) goes into the messages.
// ensures: on a throw, net and optimizer are unchanged.
// throws: checkpoint_mismatch_error when the checkpoint is of another architecture or scalar
//         type (naming both), or of another optimizer or hyperparameters (optimizer.mismatch).
template <detail::SavableNetwork Net, CheckpointableOptimizer Opt>
TrainingProgress restore_checkpoint(const Checkpoint& c, Net& net, Opt& optimizer,
                                    const std::string& name = "checkpoint") {
    using Scalar = typename Net::scalar_type;
    const auto image = detail::decode_embedded_model(c.model, name);
    if (image.scalar != detail::scalar_code<Scalar>())
        throw checkpoint_mismatch_error(name + ": the checkpoint holds " + detail::scalar_name(image.scalar) +
                                        " parameters, this network is " +
                                        detail::scalar_name(detail::scalar_code<Scalar>()));
    const auto mine = detail::manifest(net);
    if (image.layers != mine)
        throw checkpoint_mismatch_error(name + ": the checkpoint's network is " +
                                        detail::describe(image.layers) + ", this network is " +
                                        detail::describe(mine));
    const auto parameters = static_cast<Eigen::Index>(image.parameter_count);
    if (const std::string reason = optimizer.mismatch(c.optimizer, parameters); !reason.empty())
        throw checkpoint_mismatch_error(name +
                                        ": the checkpoint's optimizer does not fit this one: " + reason);
    if (c.progress.best_parameters.size() != 0 && c.progress.best_parameters.size() != parameters)
        throw corrupt_checkpoint_error(
            name + ": corrupt checkpoint: " + std::to_string(c.progress.best_parameters.size()) +
            " best parameters for a model of " + std::to_string(parameters));
    // Everything that may throw (allocations included) before anything changes.
    const auto theta = detail::decode_parameters<Scalar>(image, name);
    TrainingProgress progress = c.progress;
    optimizer.restore(c.optimizer, parameters);  // checked above; strong on its own
    net.parameters() = theta;
    return progress;
}

// The checkpoint at `path` restored into net and optimizer (read_checkpoint, then
// restore_checkpoint); returns its progress.
// ensures: on a throw, net and optimizer are unchanged.
// throws: io_error, and the checkpoint_error subclasses of decode_checkpoint and restore_checkpoint.
template <detail::SavableNetwork Net, CheckpointableOptimizer Opt>
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

namespace detail {

// A RunRecord's network as a model file's bytes, and back.
inline std::string encode_record_model(const RunRecord& r) {
    std::vector<LayerRecord> layers;
    for (const auto& l : r.architecture.layers)
        layers.push_back({l.kind, l.activation, static_cast<std::uint64_t>(l.inputs),
                          static_cast<std::uint64_t>(l.outputs)});
    const auto count = static_cast<std::size_t>(r.parameters.size());
    if (r.architecture.scalar == "double") return encode_model(layers, r.parameters.data(), count, std::endian::native);
    const Eigen::VectorXf theta = r.parameters.cast<float>();
    return encode_model(layers, theta.data(), count, std::endian::native);
}

}  // namespace detail

// Checkpoints in a file at `path`, replaced atomically at every write (write_checkpoint).
class CheckpointFile : public CheckpointStore {
public:
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
        return encode_checkpoint({detail::encode_record_model(r), r.optimizer, r.progress});
    }
    RunRecord decode(std::string_view bytes) const override {
        const std::string label = name();
        Checkpoint c = decode_checkpoint(bytes, label);
        const auto image = detail::decode_embedded_model(c.model, label);
        RunRecord r;
        for (const auto& l : image.layers)
            r.architecture.layers.push_back(
                {l.kind, l.activation, static_cast<Eigen::Index>(l.inputs), static_cast<Eigen::Index>(l.outputs)});
        r.architecture.scalar = detail::scalar_name(image.scalar);
        if (image.scalar == 'd')
            r.parameters = detail::decode_parameters<double>(image, label);
        else
            r.parameters = detail::decode_parameters<float>(image, label).cast<double>();
        r.optimizer = std::move(c.optimizer);
        r.progress = std::move(c.progress);
        return r;
    }
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
