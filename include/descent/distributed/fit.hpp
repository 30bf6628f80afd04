#pragma once
// Data-parallel training over MPI: fit (training/fit.hpp), with each step's batch spread
// over the N ranks of a Communicator.
//
// Every rank holds the training set and a copy of the network; rank 0's θ is broadcast
// first, so that all start alike. Each epoch, every rank draws the same order of the n
// samples from Engine(seed) and cuts it into global batches of N·B samples (B =
// FitOptions::batch_size, per rank); rank r's shard of a global batch is its r-th part,
// B samples. On a global batch of B_g samples, where rank r has B_r of them:
//   1. each rank computes g_r = ∇θ(l + λΩ) over its B_r samples, a mean, and scales it by B_r/B_g;
//   2. one all-reduce over the contiguous buffer ∇θ sums them: Σ_r (B_r/B_g) g_r is ∇θ l as a
//      mean over the global batch, plus λ∇Ω (the same on every rank, weighted by Σ_r B_r/B_g = 1);
//   3. every rank applies the optimizer's update to that g: θ and the optimizer's state stay
//      identical on every rank, with no other communication.
// So N ranks at batch B train as one process does at batch N·B with the same seed (fit), up
// to the order in which the gradient's terms are added: equal to about 1e-15 per step in double.
//
// The shards are redrawn every epoch, as fit reshuffles, and the run repeats for a seed, and for
// any N at the same N·B. The price: every rank holds all n samples (each reads the data set).
//
// Communication per step: the all-reduce of P numbers (P = |θ|) and nothing else; per epoch, one
// all-reduce of five numbers (the epoch's loss and accuracy, on the training and validation sets).
//
// Checkpoints (FitOptions::checkpoint) are fit's own (io/checkpoint.hpp): rank 0 writes them, and
// on resuming rank 0 reads the file and sends it to every rank, so the file need not be visible
// to the other hosts. The run they record is that of one process at the global batch N·B: a
// checkpoint of mpi::fit can be resumed by fit at batch N·B, or by mpi::fit on another number of
// ranks with the same N·B, and the other way round. Only rank 0's Checkpointing::path is used.
#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../detail/check_range.hpp"
#include "../detail/file.hpp"
#include "../detail/random.hpp"
#include "../detail/validate.hpp"
#include "../detail/workspace.hpp"
#include "../error.hpp"
#include "../optimizers/optimizer.hpp"
#include "../training/divergence.hpp"
#include "../training/early_stopping.hpp"
#include "../training/fit.hpp"
#include "../training/objective.hpp"
#include "mpi.hpp"

namespace descent {
namespace detail {

// Rank r's part [first, first + count) of `total` samples split over `ranks` ranks: the parts
// follow rank order and differ in size by one at most; total = ranks·B gives every rank B.
struct RankPart {
    Eigen::Index first;
    Eigen::Index count;
};
inline RankPart rank_part(Eigen::Index total, int rank, int ranks) {
    const Eigen::Index first = total * rank / ranks;
    return {first, total * (rank + 1) / ranks - first};
}

// FNV-1a over the words that every rank of a run must agree on.
inline std::uint64_t fingerprint(std::span<const std::uint64_t> words) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const auto word : words)
        for (int byte = 0; byte < 8; ++byte) {
            h ^= (word >> (8 * byte)) & 0xff;
            h *= 0x100000001b3ull;
        }
    return h;
}

}  // namespace detail

namespace mpi {

// Where this rank's steps spent their time (optional; fit adds to it).
struct StepTimes {
    std::int64_t steps = 0;
    double compute_seconds = 0;     // gathering the shard, forward and backward passes, scaling g_r
    double all_reduce_seconds = 0;  // in MPI_Allreduce: the transfer, and waiting for slower ranks
    double update_seconds = 0;      // the optimizer's update
};

// An optimizer whose update rule can be applied to a gradient computed elsewhere, and whose
// objective fit can compute: every optimizer deriving from FirstOrder (Sgd, Momentum, Adam).
template <class O, class Net>
concept AppliesGradient = requires(O& optimizer, Net& net, const StepGuard& guard) {
    optimizer.apply_gradient(net, guard);
    optimizer.regularizer();
    { optimizer.lambda() } -> std::convertible_to<double>;
};

// Trains net with optimizer on (x, labels) over the ranks of comm, as described at the top.
// Every rank calls it with the same training set, network shape, optimizer (in the same state)
// and options; FitOptions::batch_size is the batch per rank, and the validation set, when
// given, is evaluated in N parts, one per rank. Everything else in FitOptions means what it
// means to fit: schedule, early stopping, max_gradient_norm (on the summed g), checkpoints.
//
// throws: on every rank alike, so that none is left waiting:
//         - before any step, fit's errors for bad options or data and, when resuming, for the
//           checkpoint: the rank that found one throws it, the others distributed_error("mpi::fit:
//           rank R: <its message>"); distributed_error when the ranks were given different data or
//           options (a fingerprint of the sizes, the options and the CRC-32 of the data differs);
//         - during training: divergence_error naming the epoch and step, and argument_error for a
//           schedule's α <= 0, which every rank meets at the same step since g, θ and α are the
//           same everywhere; io_error on rank 0 when a checkpoint cannot be written, and
//           distributed_error saying so on the others.
// ends the job (MPI_Abort, "rank R: <what>" on stderr) when a rank fails alone during training,
//         where the others cannot know: on_batch or on_epoch throwing, memory running out.
// ensures: as fit: θ (the best epoch's with early stopping) is the same on every rank, bit for
//          bit; the reports are the same on every rank, except for their seconds.
// on_batch sees this rank's own running loss and accuracy (over its shards so far), to keep
// the step free of communication; samples_done counts the samples of all ranks.
template <class Net, class Opt>
    requires AppliesGradient<Opt, Net>
std::vector<EpochReport> fit(const Communicator& comm, Net& net, Opt& optimizer,
                             const Eigen::Ref<const typename Net::Matrix>& x, std::span<const int> labels,
                             const FitOptions& options, StepTimes* times = nullptr) {
    using Matrix = typename Net::Matrix;
    using Scalar = typename Net::Scalar;
    using Vector = typename Net::Vector;
    using Clock = std::chrono::steady_clock;
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    constexpr bool checkpointable = CheckpointableOptimizer<Opt>;
    const int ranks = comm.size();
    const int rank = comm.rank();
    const bool writer = rank == 0;  // of the checkpoints

    // What one process would run: fit at the global batch. Checkpoints record it.
    FitOptions global = options;
    global.batch_size = options.batch_size * ranks;

    // Checks: each rank its own; then they agree, before the first collective of training.
    const ValidationSet<Scalar>* validation = nullptr;
    std::optional<BestEpoch<Vector>> best;
    std::uint32_t checksum = 0;
    std::uint64_t fingerprint = 0;
    {
        std::exception_ptr failure;
        try {
            if (options.epochs < 1)
                throw argument_error("mpi::fit: epochs must be at least 1, got " + std::to_string(options.epochs));
            if (options.batch_size < 1)
                throw argument_error("mpi::fit: batch_size must be at least 1, got " +
                                     std::to_string(options.batch_size));
            descent::detail::check_batch(x, net.inputs(), "mpi::fit");
            descent::detail::check_labels(labels, x.cols(), net.classes(), "mpi::fit");
            validation = descent::detail::validation_set<Scalar>(options);
            if (validation) {
                descent::detail::check_batch(validation->x(), net.inputs(), "mpi::fit (validation set)");
                descent::detail::check_labels(validation->labels, validation->x().cols(), net.classes(),
                                              "mpi::fit (validation set)");
            }
            if (options.early_stopping && !validation)
                throw argument_error("mpi::fit: early stopping needs a validation set (FitOptions::validate_on)");
            best.emplace(options.early_stopping);  // throws for a bad patience or min_delta
            if constexpr (!AdjustableLearningRate<Opt>) {
                if (options.schedule)
                    throw argument_error("mpi::fit: a schedule was given but the optimizer has no set_learning_rate()");
            }
            descent::detail::require_non_negative(options.max_gradient_norm, "mpi::fit", "max_gradient_norm");
            if (options.checkpoint) {
                if (!options.checkpoint->store) throw argument_error("mpi::fit: Checkpointing::store is null");
                descent::detail::require_at_least(options.checkpoint->every, 1, "mpi::fit", "Checkpointing::every");
                if (!checkpointable)
                    throw argument_error("mpi::fit: checkpoints need an optimizer with snapshot() and restore() "
                                         "(every FirstOrder optimizer has them)");
            }
            checksum = descent::detail::data_checksum<Scalar>(x, labels, validation);
            const std::uint64_t words[] = {
                static_cast<std::uint64_t>(x.rows()),
                static_cast<std::uint64_t>(x.cols()),
                checksum,
                static_cast<std::uint64_t>(net.parameters().size()),
                static_cast<std::uint64_t>(options.epochs),
                static_cast<std::uint64_t>(options.batch_size),
                options.seed,
                std::bit_cast<std::uint64_t>(options.max_gradient_norm),
                static_cast<std::uint64_t>(options.early_stopping ? options.early_stopping->patience : -1),
                static_cast<std::uint64_t>(options.schedule ? 1 : 0),
                static_cast<std::uint64_t>(options.checkpoint ? options.checkpoint->every : -1),
                static_cast<std::uint64_t>(options.checkpoint && options.checkpoint->resume ? 1 : 0)};
            fingerprint = descent::detail::fingerprint(words);
        } catch (...) {
            failure = std::current_exception();
        }
        agree(comm, failure, "mpi::fit");
    }
    if (comm.min(fingerprint) != comm.max(fingerprint))
        throw distributed_error(
            "mpi::fit: the ranks were given different training sets or options (the data's size or CRC-32, "
            "the network's size, epochs, batch size, seed, clipping, early stopping, schedule or checkpoints "
            "differ); every rank must pass the same");

    const Eigen::Index n = x.cols();
    const Eigen::Index global_batch = std::min(global.batch_size, n);
    const Eigen::Index batches = (n + global_batch - 1) / global_batch;
    const Eigen::Index largest_part = (global_batch + ranks - 1) / ranks;
    const Eigen::Index evaluation_chunk = std::max<Eigen::Index>(largest_part, 256);
    const StepGuard guard{options.max_gradient_norm};
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    Engine engine(options.seed);
    std::vector<EpochReport> reports;
    std::int64_t t = 0;  // updates so far, for the schedule
    int done = 0;        // epochs completed
    bool finished = false;

    // Rank 0's θ for everyone: ranks that initialised from different seeds start alike.
    auto theta = net.parameters();
    comm.broadcast(std::span(theta.data(), static_cast<std::size_t>(theta.size())));

    if constexpr (checkpointable) {
        if (options.checkpoint && options.checkpoint->resume) {
            // Rank 0 reads the file (if there is one) and sends its bytes; every rank decodes them.
            CheckpointStore& store = *options.checkpoint->store;
            const std::string name = store.name();
            std::string bytes;
            std::int64_t size = -1;  // no checkpoint yet: a fresh run
            std::exception_ptr failure;
            if (writer) {
                try {
                    if (auto read = store.read()) {
                        bytes = std::move(*read);
                        size = static_cast<std::int64_t>(bytes.size());
                    }
                } catch (...) {
                    failure = std::current_exception();
                }
            }
            agree(comm, failure, "mpi::fit");
            comm.broadcast(std::span(&size, 1));
            if (size >= 0) {
                bytes.resize(static_cast<std::size_t>(size));
                comm.broadcast(std::span(bytes.data(), bytes.size()));
                try {
                    const RunRecord saved = store.decode(bytes);
                    const TrainingProgress& p = saved.progress;
                    if (auto reason = descent::detail::run_mismatch(p, global, n, checksum); !reason.empty())
                        throw checkpoint_mismatch_error(
                            name + ": " + reason + " (mpi::fit's run is one of batch_size = ranks x batch_size = " +
                            std::to_string(ranks) + " x " + std::to_string(options.batch_size) + ")");
                    descent::detail::check_resumable(p, options, n, batches, name);
                    // Everything that allocates, before net and optimizer change.
                    BestEpoch<Vector> resumed = descent::detail::resumed_best<Vector>(p, options);
                    std::vector<Eigen::Index> resumed_order = p.epoch > 0 ? p.order : order;
                    std::vector<EpochReport> resumed_reports = p.reports;
                    restore_run(saved, net, optimizer, name);
                    best = std::move(resumed);
                    order.swap(resumed_order);
                    reports.swap(resumed_reports);
                    engine = p.engine;
                    t = p.updates;
                    done = p.epoch;
                    finished = p.finished;
                } catch (...) {
                    failure = std::current_exception();
                }
                // The same bytes on every rank: they fail alike, but agree all the same.
                agree(comm, failure, "mpi::fit");
            }
        }
        if (options.checkpoint && writer) options.checkpoint->store->prepare();
    }
    if (finished || done >= options.epochs) {
        best->restore(net.parameters());
        return reports;
    }

    descent::detail::Workspace<Scalar> xb_storage;
    xb_storage.shape(x.rows(), largest_part);
    std::vector<int> yb(static_cast<std::size_t>(largest_part));
    StepTimes local_times;
    const auto seconds_since = [](Clock::time_point start) {
        return std::chrono::duration<double>(Clock::now() - start).count();
    };

    for (int epoch = done + 1; epoch <= options.epochs; ++epoch) {
        const auto start = Clock::now();
        descent::detail::shuffle(std::span(order), engine);
        // Σ over steps of (B_r/B_g)(l_r + λΩ): summed over the ranks, the epoch's Σ of l + λΩ.
        double weighted_objective = 0;
        double own_objective = 0;  // Σ over steps of l_r + λΩ, for on_batch
        Eigen::Index own_samples = 0;
        Eigen::Index correct = 0;
        bool counted = true;  // every step's logits were readable
        std::size_t steps = 0;
        for (Eigen::Index first = 0; first < n; first += global_batch) {
            const Eigen::Index count = std::min(global_batch, n - first);
            const auto part = descent::detail::rank_part(count, rank, ranks);
            const auto where = [&] {
                return "mpi::fit: epoch " + std::to_string(epoch) + ", batch " +
                       std::to_string(first / global_batch + 1) + " of " + std::to_string(batches) + " (update " +
                       std::to_string(t + 1) + ")";
            };
            if constexpr (AdjustableLearningRate<Opt>) {
                if (options.schedule) {
                    const double alpha = options.schedule(epoch - 1, t);
                    try {
                        optimizer.set_learning_rate(alpha);
                    } catch (const argument_error& e) {
                        throw argument_error(where() + ": the schedule gave α = " + descent::detail::number(alpha) +
                                             ": " + e.what());
                    }
                }
            }
            auto step_start = Clock::now();
            abort_on_failure(comm, [&] {
                auto g = net.gradient();
                if (part.count == 0) {  // a last global batch smaller than N: this rank adds nothing
                    g.setZero();
                    return;
                }
                auto xb = xb_storage.shape(x.rows(), part.count);
                const auto ids = std::span<const Eigen::Index>(order).subspan(
                    static_cast<std::size_t>(first + part.first), static_cast<std::size_t>(part.count));
                const auto yview = std::span(yb).first(static_cast<std::size_t>(part.count));
                descent::detail::gather<Matrix>(x, labels, ids, xb, yview);
                const double objective =
                    objective_gradient(net, xb, yview, optimizer.regularizer(), optimizer.lambda());
                const double weight = static_cast<double>(part.count) / static_cast<double>(count);
                g *= static_cast<Scalar>(weight);
                weighted_objective += weight * objective;
                own_objective += objective;
                own_samples += part.count;
                if constexpr (descent::detail::exposes_logits<Net>) {
                    const auto a = net.template layer<Net::depth - 1>().output();
                    if (a.cols() == part.count)
                        correct += descent::detail::count_correct(a, yview);
                    else
                        counted = false;
                } else {
                    counted = false;
                }
            });
            local_times.compute_seconds += seconds_since(step_start);
            step_start = Clock::now();
            auto g = net.gradient();
            comm.sum(std::span(g.data(), static_cast<std::size_t>(g.size())));
            local_times.all_reduce_seconds += seconds_since(step_start);
            step_start = Clock::now();
            // The same g and θ on every rank: the guard refuses on all of them or on none.
            try {
                optimizer.apply_gradient(net, guard);
            } catch (const divergence_error& e) {
                throw divergence_error(where() + ": training diverged: " + e.what() +
                                       ": the network keeps the parameters of the last finite step");
            }
            local_times.update_seconds += seconds_since(step_start);
            ++local_times.steps;
            ++t;
            ++steps;
            if (options.on_batch) {
                abort_on_failure(comm, [&] {
                    const double own_steps = static_cast<double>(std::max<std::size_t>(steps, 1));
                    options.on_batch({epoch, options.epochs, first + count, n, own_objective / own_steps,
                                      counted && own_samples > 0
                                          ? static_cast<double>(correct) / static_cast<double>(own_samples)
                                          : nan});
                });
            }
        }

        // The epoch's figures, and the validation set's in N parts, summed over the ranks at
        // once. The fifth counts the ranks that could not count: then the accuracy is NaN.
        double sums[5] = {weighted_objective, static_cast<double>(counted ? correct : 0), 0, 0, counted ? 0.0 : 1.0};
        if (validation) {
            abort_on_failure(comm, [&] {
                const auto v = descent::detail::rank_part(validation->cols, rank, ranks);
                if (v.count == 0) return;
                const auto result = descent::detail::evaluate(
                    net, validation->x().middleCols(v.first, v.count),
                    validation->labels.subspan(static_cast<std::size_t>(v.first), static_cast<std::size_t>(v.count)),
                    evaluation_chunk);
                sums[2] = result.loss * static_cast<double>(v.count);
                sums[3] = result.accuracy * static_cast<double>(v.count);
            });
        }
        comm.sum(std::span<double>(sums));

        EpochReport report{epoch, sums[0] / static_cast<double>(steps), 0.0};
        if (sums[4] == 0) report.train_accuracy = sums[1] / static_cast<double>(n);
        if constexpr (AdjustableLearningRate<Opt>) report.learning_rate = optimizer.learning_rate();
        bool stop = false;
        if (validation) {
            const auto samples = static_cast<double>(validation->cols);
            report.validation_loss = sums[2] / samples;
            report.validation_accuracy = std::round(sums[3]) / samples;  // a count, summed in double
            stop = best->record(epoch, report.validation_loss, net.parameters());
            report.best_epoch = best->epoch();
        }
        report.seconds = seconds_since(start);
        reports.push_back(report);
        if constexpr (checkpointable) {
            const auto& c = options.checkpoint;
            if (c && (epoch % c->every == 0 || epoch == options.epochs || stop)) {
                // Rank 0 writes what fit at the global batch would; the others learn whether it could.
                std::exception_ptr failure;
                if (writer) {
                    try {
                        TrainingProgress progress;
                        progress.epoch = epoch;
                        progress.updates = t;
                        progress.finished = stop;
                        progress.engine = engine;
                        progress.order = order;
                        progress.reports = reports;
                        progress.seed = options.seed;
                        progress.samples = n;
                        progress.batch_size = global.batch_size;
                        progress.data_checksum = checksum;
                        progress.max_gradient_norm = options.max_gradient_norm;
                        progress.early_stopping = options.early_stopping;
                        progress.best_loss = best->loss();
                        progress.best_epoch = best->epoch();
                        if (options.early_stopping && best->epoch() > 0)
                            progress.best_parameters = best->parameters().template cast<double>();
                        c->store->write(c->store->encode(make_run_record(net, optimizer, std::move(progress))));
                    } catch (...) {
                        failure = std::current_exception();
                    }
                }
                agree(comm, failure, "mpi::fit");
            }
        }
        if (options.on_epoch) abort_on_failure(comm, [&] { options.on_epoch(reports.back()); });
        if (stop) break;
    }
    best->restore(net.parameters());
    if (times) {
        times->steps += local_times.steps;
        times->compute_seconds += local_times.compute_seconds;
        times->all_reduce_seconds += local_times.all_reduce_seconds;
        times->update_seconds += local_times.update_seconds;
    }
    return reports;
}

}  // namespace mpi
}  // namespace descent
