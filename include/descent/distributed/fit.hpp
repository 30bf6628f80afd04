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
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../optimizers/objective.hpp"
#include "../optimizers/step_guard.hpp"
#include "../training/fit_options.hpp"
#include "../training/run.hpp"
#include "mpi.hpp"

namespace descent {
namespace detail {

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

namespace detail {

// The steps of one rank of N: its shard of each global batch, one all-reduce of ∇θ, the same
// update everywhere (the top of this file).
class ShardedSteps {
public:
    static constexpr const char* name = "mpi::fit";
    static constexpr bool distributed = true;
    explicit ShardedSteps(const Communicator& comm) : comm_(comm) {}

    int ranks() const { return comm_.size(); }
    descent::detail::RankPart part(Eigen::Index count) const {
        return descent::detail::rank_part(count, comm_.rank(), comm_.size());
    }
    // Each rank its own checks; then they agree, so that none is left waiting.
    template <class F>
    void checked(F&& f) {
        std::exception_ptr failure;
        try {
            f();
        } catch (...) {
            failure = std::current_exception();
        }
        agree(comm_, failure, name);
    }
    template <class F>
    void alone(F&& f) {
        abort_on_failure(comm_, f);
    }
    bool any(bool value) const { return comm_.max(value ? 1 : 0) != 0; }
    void same_everywhere(std::span<const std::uint64_t> words) const {
        const std::uint64_t mine = descent::detail::fingerprint(words);
        if (comm_.min(mine) != comm_.max(mine))
            throw distributed_error(
                "mpi::fit: the ranks were given different training sets or options (the data's size or "
                "CRC-32, "
                "the network's size, epochs, batch size, seed, clipping, early stopping, schedule or "
                "checkpoints "
                "differ); every rank must pass the same");
    }
    // Rank 0's θ for everyone: ranks that initialised from different seeds start alike.
    template <class Net>
    void start(Net& net) const {
        auto theta = net.parameters();
        comm_.broadcast(std::span(theta.data(), static_cast<std::size_t>(theta.size())));
    }
    // Rank 0 reads the file (if there is one) and sends its bytes, so that the file need not
    // be visible to the other hosts.
    std::optional<std::string> read(CheckpointStore& store) {
        std::string bytes;
        std::int64_t size = -1;  // no checkpoint yet: a fresh run
        checked([&] {
            if (comm_.rank() != 0) return;
            if (auto read = store.read()) {
                bytes = std::move(*read);
                size = static_cast<std::int64_t>(bytes.size());
            }
        });
        comm_.broadcast(std::span(&size, 1));
        if (size < 0) return std::nullopt;
        bytes.resize(static_cast<std::size_t>(size));
        comm_.broadcast(std::span(bytes.data(), bytes.size()));
        return bytes;
    }
    // Rank 0 writes; the others learn whether it could.
    template <class F>
    void write(F&& f) {
        checked([&] {
            if (comm_.rank() == 0) f();
        });
    }
    void sum(std::span<double> values) const { comm_.sum(values); }

    template <class Net, class Opt>
    void check_optimizer(const Opt&, const FitOptions&) const {
        static_assert(
            AppliesGradient<Opt, Net>,
            "mpi::fit needs an optimizer with apply_gradient(net, guard), regularizer() and lambda() "
            "(every FirstOrder optimizer has them)");
    }

    // g_r over this rank's B_r samples of the global batch's B_g, scaled by B_r/B_g and summed
    // over the ranks: the mean over the global batch. Returns l_r + λΩ (0 for an empty shard).
    template <class Net, class Opt, class Targets>
    double step(Net& net, Opt& optimizer, const Eigen::Map<const typename Net::Matrix>& xb, const Targets& yb,
                const StepGuard& guard, Eigen::Index count) {
        using Clock = std::chrono::steady_clock;
        auto since = [](Clock::time_point start) {
            return std::chrono::duration<double>(Clock::now() - start).count();
        };
        auto start = Clock::now();
        double objective = 0;
        abort_on_failure(comm_, [&] {
            auto g = net.gradient();
            if (xb.cols() == 0) {  // a last global batch smaller than N: this rank adds nothing
                g.setZero();
                return;
            }
            objective = objective_gradient(net, xb, yb, optimizer.regularizer(), optimizer.lambda());
            g *= static_cast<typename Net::Scalar>(static_cast<double>(xb.cols()) /
                                                   static_cast<double>(count));
        });
        times.compute_seconds += since(start);
        start = Clock::now();
        auto g = net.gradient();
        comm_.sum(std::span(g.data(), static_cast<std::size_t>(g.size())));
        times.all_reduce_seconds += since(start);
        start = Clock::now();
        // The same g and θ on every rank: the guard refuses on all of them or on none.
        optimizer.apply_gradient(net, guard);
        times.update_seconds += since(start);
        ++times.steps;
        return objective;
    }

    StepTimes times;

private:
    const Communicator& comm_;
};

}  // namespace detail

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
// clang-format off
namespace detail {

template <class Net, class Opt, class Targets>
std::vector<EpochReport> fit_targets(const Communicator& comm, Net& net, Opt& optimizer,
                                     const Eigen::Ref<const typename Net::Matrix>& x, Targets targets,
                                     const FitOptions& options, StepTimes* times) {
    ShardedSteps steps(comm);
    auto reports = descent::detail::run_training(net, optimizer, x, std::move(targets), options, steps);
    if (times) {
        times->steps += steps.times.steps;
        times->compute_seconds += steps.times.compute_seconds;
        times->all_reduce_seconds += steps.times.all_reduce_seconds;
        times->update_seconds += steps.times.update_seconds;
    }
    return reports;
}

}  // namespace detail

template <class Net, class Opt>
    requires AppliesGradient<Opt, Net>
std::vector<EpochReport> fit(const Communicator& comm, Net& net, Opt& optimizer,
                             const Eigen::Ref<const typename Net::Matrix>& x, std::span<const int> labels,
                             const FitOptions& options, StepTimes* times = nullptr) {
    return detail::fit_targets(comm, net, optimizer, x, descent::detail::LabelTargets(labels), options, times);
}

// The same with real-valued targets y, one column per sample (regression, multi-label).
template <class Net, class Opt, class Y>
    requires(AppliesGradient<Opt, Net> && std::derived_from<Y, Eigen::DenseBase<Y>>)
std::vector<EpochReport> fit(const Communicator& comm, Net& net, Opt& optimizer,
                             const Eigen::Ref<const typename Net::Matrix>& x, const Y& y, const FitOptions& options,
                             StepTimes* times = nullptr) {
    return detail::fit_targets(comm, net, optimizer, x, descent::detail::value_targets<typename Net::Scalar>(y), options,
                               times);
}
// clang-format on

}  // namespace mpi
}  // namespace descent
