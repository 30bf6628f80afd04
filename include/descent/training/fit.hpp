#pragma once
// fit: the training loop (training/run.hpp) on one process. Each step is the optimizer's
// guarded step on the whole batch (optimizers/first_order.hpp): the step bench/ times.
//
// Robust to a long run going wrong: every step is guarded (optimizers/step_guard.hpp), so a
// run that diverges stops with a divergence_error naming the epoch and the batch, with the
// network at its last finite parameters; ∇θ may be clipped by its norm; and with checkpoints
// on, the run is saved atomically every few epochs and can be resumed after a crash or a
// kill, continuing bit for bit as if it had never stopped.
#include <Eigen/Core>
#include <cmath>
#include <concepts>
#include <span>
#include <string>
#include <vector>

#include "../detail/validate.hpp"
#include "../error.hpp"
#include "../optimizers/optimizer.hpp"
#include "../optimizers/step_guard.hpp"
#include "fit_options.hpp"
#include "run.hpp"

namespace descent {
namespace detail {

// An optimizer whose step can be guarded (every FirstOrder one).
template <class Opt, class Net, class Targets>
concept guarded_optimizer = requires(Opt& optimizer, Net& net, const typename Net::Matrix& x,
                                     const Targets& y, const StepGuard& guard) {
    { optimizer.step(net, x, y, guard) } -> std::convertible_to<double>;
};

// The steps of one process: the whole batch, the optimizer's own guarded step.
struct LocalSteps {
    static constexpr const char* name = "fit";
    static constexpr bool distributed = false;
    int ranks() const { return 1; }
    RankPart part(Eigen::Index count) const { return {0, count}; }
    template <class F>
    void checked(F&& f) {
        f();
    }
    template <class F>
    void alone(F&& f) {
        f();
    }
    bool any(bool value) const { return value; }
    void same_everywhere(std::span<const std::uint64_t>) const {}
    template <class Net>
    void start(Net&) const {}
    std::optional<std::string> read(CheckpointStore& store) const { return store.read(); }
    template <class F>
    void write(F&& f) {
        f();
    }
    void sum(std::span<double>) const {}

    template <class Net, class Opt>
    void check_optimizer(const Opt&, const FitOptions& options) const {
        if constexpr (!guarded_optimizer<Opt, Net, std::span<const int>>) {
            if (options.max_gradient_norm > 0)
                throw argument_error(
                    "fit: max_gradient_norm needs an optimizer with guarded steps "
                    "(step(net, x, y, StepGuard), as every FirstOrder optimizer has)");
        }
    }

    template <class Net, class Opt, class Targets>
    double step(Net& net, Opt& optimizer, const Eigen::Map<const typename Net::Matrix>& xb, const Targets& yb,
                const StepGuard& guard, Eigen::Index) {
        if constexpr (guarded_optimizer<Opt, Net, Targets>) {
            return optimizer.step(net, xb, yb, guard);
        } else {
            // An optimizer of one's own without a guarded step: the guard can only look after it.
            const double objective = optimizer.step(net, xb, yb);
            if (!std::isfinite(objective) || !all_finite(net.parameters()))
                throw divergence_error(
                    "the objective is " + number(objective) +
                    " (this optimizer has no guarded step, so θ may hold the non-finite values)");
            return objective;
        }
    }
};

}  // namespace detail

// Trains net with optimizer on (x, labels), one sample per column of x; or on (x, y) with
// real-valued targets y, one column per sample (regression, multi-label).
// throws: argument_error for epochs < 1, batch_size < 1, early stopping without a
//         validation set or with patience < 1 or min_delta < 0, a schedule with an
//         optimizer whose α cannot be set, a validation set of the other scalar type,
//         max_gradient_norm < 0 (or > 0 with an optimizer that has no guarded step),
//         checkpoints without a store, every < 1 or an optimizer without snapshots;
//         the errors of Mlp for bad data (training or validation); when resuming, io_error
//         and the checkpoint_error subclasses (from the store), checkpoint_mismatch_error
//         for a checkpoint of another run. All of these before any step, with net and
//         optimizer unchanged.
//         During training: divergence_error when a step meets a non-finite objective,
//         gradient or update, naming the epoch and the batch (net keeps the parameters of
//         the last finite step, the optimizer its state then); argument_error from the
//         optimizer if the schedule gives α <= 0; io_error when a checkpoint cannot be written.
// ensures: with early stopping, net holds the parameters of the epoch with the lowest
//          validation loss (reports.back().best_epoch), whether training stopped early
//          or ran all its epochs; otherwise those of the last step. The optimizer's
//          state (velocity, moments) is left as the last step made it, not rewound.
//          With checkpoints, one is written after every `every` epochs, after the last
//          and when early stopping ends the run, before on_epoch sees the epoch; it holds
//          the parameters of the last step (not the best epoch's), so that a resumed run,
//          given more epochs, goes on from where training was. Resuming from one gives,
//          on one thread, the parameters, optimizer state and reports the uninterrupted
//          run would have (the seconds apart), bit for bit; the schedule is called with
//          the epoch and t of the whole run.
// returns: one report per epoch run, those before a resume included.
template <class Net, class Opt>
std::vector<EpochReport> fit(Net& net, Opt& optimizer, const Eigen::Ref<const typename Net::Matrix>& x,
                             std::span<const int> labels, const FitOptions& options) {
    detail::LocalSteps steps;
    return detail::run_training(net, optimizer, x, detail::LabelTargets(labels), options, steps);
}

template <class Net, class Opt, class Targets>
requires std::derived_from<Targets, Eigen::DenseBase<Targets>> std::vector<EpochReport> fit(
    Net& net, Opt& optimizer, const Eigen::Ref<const typename Net::Matrix>& x, const Targets& y,
    const FitOptions& options) {
    detail::LocalSteps steps;
    return detail::run_training(net, optimizer, x, detail::value_targets<typename Net::Scalar>(y), options, steps);
}

}  // namespace descent
