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
#include "../detail/random.hpp"
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

}  // namespace descent
