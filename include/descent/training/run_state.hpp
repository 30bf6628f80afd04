#pragma once
// A training run as plain data, and where fit keeps it between epochs.
//
// fit (training/fit.hpp) hands a RunRecord to a CheckpointStore after every few epochs and,
// when resuming, asks the store for the last one. The store decides where the bytes go: a
// file (io/checkpoint.hpp's checkpoint_file), or a store of one's own. So the training loop
// needs no file code, and a program that trains in memory pulls none in.
#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../architecture.hpp"
#include "../detail/message.hpp"
#include "../detail/random.hpp"
#include "../error.hpp"
#include "../optimizers/optimizer_snapshot.hpp"
#include "early_stopping.hpp"
#include "epoch_report.hpp"

namespace descent {

// Where a training run is, after a whole epoch: what fit keeps between epochs, and what a
// loop of one's own may keep (the fields it does not use stay at their defaults).
struct TrainingProgress {
    int epoch = 0;             // epochs completed
    std::int64_t updates = 0;  // t: optimizer steps made, the schedule's position
    bool finished = false;     // early stopping ended the run: resuming trains no more
    Engine engine{};           // the shuffling engine, after the last epoch's shuffle
    // The order the samples were visited in during the last epoch; fit reshuffles it in
    // place, so the next epoch's order depends on it. Empty, or a permutation of [0, samples).
    std::vector<Eigen::Index> order;
    std::vector<EpochReport> reports;  // of the epochs completed, in order

    // What the run was, so that resuming it with other data or options is refused.
    std::uint64_t seed = 0;
    std::int64_t samples = 0;
    std::int64_t batch_size = 0;
    std::uint32_t data_checksum = 0;  // CRC-32 of the training and validation data
    double max_gradient_norm = 0;

    // Early stopping's tracker (BestEpoch): the rule, the lowest validation loss and its
    // epoch (0 before any), and θ then (empty without early stopping). θ is kept in
    // double here, which holds a float exactly.
    std::optional<EarlyStopping> early_stopping;
    double best_loss = std::numeric_limits<double>::infinity();
    int best_epoch = 0;
    Eigen::VectorXd best_parameters;
};

// Everything a checkpoint holds: the network (what it is and θ, in double, which holds a
// float exactly), the optimizer's snapshot and the run's progress.
struct RunRecord {
    Architecture architecture;
    Eigen::VectorXd parameters;
    OptimizerSnapshot optimizer;
    TrainingProgress progress;
};

// Where checkpoints go. Bytes and their encoding are separate so that a distributed run can
// read the bytes on one process and decode them on every one.
class CheckpointStore {
public:
    virtual ~CheckpointStore() = default;
    // For messages: the file's path, say.
    virtual std::string name() const = 0;
    // The last checkpoint's bytes; nullopt when there is none yet. throws: io_error.
    virtual std::optional<std::string> read() const = 0;
    // Replaces the last checkpoint, atomically: a crash leaves the old one or the new one.
    // throws: io_error, with the old checkpoint intact.
    virtual void write(std::string_view bytes) = 0;
    virtual std::string encode(const RunRecord& record) const = 0;
    // throws: the checkpoint_error subclasses for bytes that are not a whole checkpoint.
    virtual RunRecord decode(std::string_view bytes) const = 0;
    // Called once before a run's first write: tidies what an earlier process left (temporaries).
    virtual void prepare() {}
};

// Checkpoints during fit.
struct Checkpointing {
    std::shared_ptr<CheckpointStore> store;  // e.g. checkpoint_file("run.checkpoint") (io/checkpoint.hpp)
    int every = 1;                           // epochs between checkpoints; the last epoch always writes one
    // When the store holds a checkpoint, continue the run it holds instead of starting afresh.
    // It must be of this run: the same network, optimizer and hyperparameters, data, seed,
    // batch size, clipping and early stopping (checkpoint_mismatch_error otherwise). epochs may
    // differ: a finished run can be given more.
    bool resume = false;
};

// An optimizer whose state can be saved and restored (every FirstOrder one).
template <class O>
concept CheckpointableOptimizer = requires(O& o, const O& c, const OptimizerSnapshot& s, Eigen::Index p) {
    { c.snapshot() } -> std::convertible_to<OptimizerSnapshot>;
    { c.mismatch(s, p) } -> std::convertible_to<std::string>;
    o.restore(s, p);
};

// net, optimizer and progress as a RunRecord.
template <class Net, CheckpointableOptimizer Opt>
RunRecord make_run_record(const Net& net, const Opt& optimizer, TrainingProgress progress) {
    return {net.architecture(), net.parameters().template cast<double>(), optimizer.snapshot(),
            std::move(progress)};
}

// Puts a record's θ into net and its snapshot into optimizer; returns its progress.
// `name` (the file, say) goes into the messages.
// ensures: on a throw, net and optimizer are unchanged.
// throws: checkpoint_mismatch_error when the record is of another architecture or scalar type
//         (naming both), or of another optimizer or hyperparameters (optimizer.mismatch);
//         corrupt_checkpoint_error when its θ or best θ does not fit its own architecture.
template <class Net, CheckpointableOptimizer Opt>
TrainingProgress restore_run(const RunRecord& record, Net& net, Opt& optimizer, const std::string& name) {
    using Scalar = typename Net::Scalar;
    const Architecture mine = net.architecture();
    if (record.architecture != mine)
        throw checkpoint_mismatch_error(
            detail::join({name, ": the checkpoint's network is ", describe(record.architecture),
                          ", this network is ", describe(mine)}));
    const Eigen::Index parameters = net.parameters().size();
    if (record.parameters.size() != parameters)
        throw corrupt_checkpoint_error(detail::join({name, ": corrupt checkpoint: ", record.parameters.size(),
                                                     " parameters for a network of ", parameters}));
    if (const std::string reason = optimizer.mismatch(record.optimizer, parameters); !reason.empty())
        throw checkpoint_mismatch_error(
            detail::join({name, ": the checkpoint's optimizer does not fit this one: ", reason}));
    const auto& best = record.progress.best_parameters;
    if (best.size() != 0 && best.size() != parameters)
        throw corrupt_checkpoint_error(detail::join(
            {name, ": corrupt checkpoint: ", best.size(), " best parameters for a model of ", parameters}));
    // Everything that may throw (allocations included) before anything changes.
    const Eigen::Matrix<Scalar, Eigen::Dynamic, 1> theta = record.parameters.template cast<Scalar>();
    TrainingProgress progress = record.progress;
    optimizer.restore(record.optimizer, parameters);  // checked above; strong on its own
    net.parameters() = theta;
    return progress;
}

}  // namespace descent
