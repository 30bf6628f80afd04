#pragma once
// The training loop: N epochs; each epoch visits every example once, in an
// order reshuffled from the seeded engine, by minibatches of batch_size
// (batch_size = 1 is the course's per-example SGD).
//
// Optionally: a learning-rate schedule applied before every step, a validation
// set evaluated after every epoch, early stopping on the validation loss, and
// hooks after every batch and every epoch (for progress lines and learning curves).
//
// Robust to a long run going wrong: every step is guarded (training/divergence.hpp),
// so a run that diverges stops with a divergence_error naming the epoch and the batch,
// with the network at its last finite parameters; ∇θ may be clipped by its norm; and
// with checkpoints on, the run is saved atomically every few epochs and can be resumed
// after a crash or a kill, continuing bit for bit as if it had never stopped.
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "../detail/check_range.hpp"
#include "../detail/random.hpp"
#include "../detail/validate.hpp"
#include "../detail/workspace.hpp"
#include "../error.hpp"
#include "../detail/crc32.hpp"
#include "../optimizers/optimizer.hpp"
#include "divergence.hpp"
#include "early_stopping.hpp"
#include "epoch_report.hpp"
#include "run_state.hpp"

namespace descent {

// A held-out set, referenced and not copied: one sample per column, one label per sample.
template <class Scalar>
struct ValidationSet {
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    const Scalar* data;
    Eigen::Index rows;
    Eigen::Index cols;
    Eigen::Index outer_stride;  // from one column to the next
    std::span<const int> labels;

    Eigen::Map<const Matrix, 0, Eigen::OuterStride<>> x() const {
        return {data, rows, cols, Eigen::OuterStride<>(outer_stride)};
    }
};

struct FitOptions {
    int epochs = 10;
    Eigen::Index batch_size = 32;
    std::uint64_t seed = 0;  // of the shuffling engine; the weights have their own
    std::function<void(const EpochReport&)> on_epoch{};  // optional

    // Optional: called after every step. Keep it cheap (Progress throttles its output).
    std::function<void(const BatchReport&)> on_batch{};
    // Optional: α = schedule(epoch, t) before every step (training/schedule.hpp says what
    // epoch and t count); it overrides the optimizer's own α, which must be adjustable.
    std::function<double(int epoch, std::int64_t t)> schedule{};
    // Optional: set with validate_on().
    std::variant<std::monostate, ValidationSet<float>, ValidationSet<double>> validation{};
    // Optional: needs a validation set.
    std::optional<EarlyStopping> early_stopping{};
    // Optional: ∇θ is scaled down to this Euclidean norm before an update when it is
    // longer (training/divergence.hpp); 0 is no clipping.
    double max_gradient_norm = 0;
    // Optional: checkpoints every few epochs, and resuming from one.
    std::optional<Checkpointing> checkpoint{};

    // Evaluates (x, labels) after every epoch. Nothing is copied: x and labels must
    // outlive fit. x is a column-major matrix in memory (a Matrix, a Map, a block of
    // columns), of the network's scalar type; fit checks its shape and labels.
    template <class Derived>
    FitOptions& validate_on(const Eigen::DenseBase<Derived>& x, std::span<const int> labels) {
        using S = typename Derived::Scalar;
        static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>,
                      "FitOptions::validate_on: the validation set must hold float or double");
        static_assert(
            bool(Derived::Flags & Eigen::DirectAccessBit) && !bool(Derived::Flags & Eigen::RowMajorBit),
            "FitOptions::validate_on: the validation set is referenced, not copied, so it must be a "
            "column-major matrix in memory (a Matrix, a Map or a block of columns), not an expression");
        if (x.derived().innerStride() != 1)
            throw argument_error(
                "FitOptions::validate_on: the validation set's columns must be contiguous, got "
                "an inner stride of " +
                std::to_string(x.derived().innerStride()));
        validation =
            ValidationSet<S>{x.derived().data(), x.rows(), x.cols(), x.derived().outerStride(), labels};
        return *this;
    }
    // A temporary matrix would be gone before fit reads it.
    template <class S, int R, int C, int O, int MR, int MC>
    FitOptions& validate_on(Eigen::Matrix<S, R, C, O, MR, MC>&&, std::span<const int>) = delete;
};

namespace detail {

// Copies the samples order[first, first + count) into the front of the batch buffers.
template <class Matrix>
void gather(const Eigen::Ref<const Matrix>& x, std::span<const int> labels,
            std::span<const Eigen::Index> order, Eigen::Map<Matrix> xb, std::span<int> yb) {
    for (std::size_t j = 0; j < order.size(); ++j) {
        xb.col(static_cast<Eigen::Index>(j)) = x.col(order[j]);
        yb[j] = labels[static_cast<std::size_t>(order[j])];
    }
}

// How many columns of the logits a(L+1) have their largest entry at the sample's label.
template <class Logits>
Eigen::Index count_correct(const Logits& a, std::span<const int> labels) {
    Eigen::Index correct = 0;
    for (Eigen::Index j = 0; j < a.cols(); ++j) {
        Eigen::Index predicted = 0;
        a.col(j).maxCoeff(&predicted);
        correct += predicted == labels[static_cast<std::size_t>(j)];
    }
    return correct;
}

// A network whose output layer keeps a(L+1) of its last forward pass (Mlp does).
template <class Net>
concept exposes_logits = requires(Net& net) {
    net.template layer<Net::depth - 1>().output();
};

struct Evaluation {
    double loss;  // mean l = -log f(x)_y
    double accuracy;
};

// Mean loss and accuracy over (x, labels), `chunk` samples per forward pass so that the
// network's buffers stay near the batch size whatever the size of the set.
template <class Net>
Evaluation evaluate(Net& net, const Eigen::Ref<const typename Net::Matrix>& x, std::span<const int> labels,
                    Eigen::Index chunk) {
    double loss = 0;
    Eigen::Index correct = 0;
    for (Eigen::Index first = 0; first < x.cols(); first += chunk) {
        const Eigen::Index count = std::min(chunk, x.cols() - first);
        const auto y = labels.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count));
        const auto a = net.forward(x.middleCols(first, count));
        for (Eigen::Index j = 0; j < count; ++j) {
            // -log f(x)_y = log Σ_c exp(a_c) - a_y, with the max taken out so no exp overflows.
            const auto m = a.col(j).maxCoeff();
            const auto sum = (a.col(j).array() - m).exp().sum();  // in [1, C]
            loss += static_cast<double>(m + std::log(sum) - a(y[static_cast<std::size_t>(j)], j));
        }
        correct += count_correct(a, y);
    }
    const auto n = static_cast<double>(x.cols());
    return {loss / n, static_cast<double>(correct) / n};
}

// The validation set of the network's scalar type, or nullptr when there is none.
template <class Scalar>
const ValidationSet<Scalar>* validation_set(const FitOptions& options) {
    if (std::holds_alternative<std::monostate>(options.validation)) return nullptr;
    const auto* set = std::get_if<ValidationSet<Scalar>>(&options.validation);
    if (set == nullptr)
        throw argument_error(std::string("fit: the validation set holds ") +
                             (std::is_same_v<Scalar, float> ? "double" : "float") + " but the network is " +
                             (std::is_same_v<Scalar, float> ? "float" : "double"));
    return set;
}

// An optimizer whose step can be guarded (every FirstOrder one).
template <class Opt, class Net>
concept guarded_optimizer = requires(Opt& optimizer, Net& net, const typename Net::Matrix& x,
                                     std::span<const int> labels, const StepGuard& guard) {
    { optimizer.step(net, x, labels, guard) } -> std::convertible_to<double>;
};

// A CRC-32 of the training data and the validation set, so that a checkpoint is not
// resumed on other data: that would not continue the run it saved.
template <class Scalar>
std::uint32_t data_checksum(const Eigen::Ref<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>>& x,
                            std::span<const int> labels, const ValidationSet<Scalar>* validation) {
    std::uint32_t crc = 0;
    auto add = [&](const void* data, std::size_t bytes) { crc = crc32(crc, data, bytes); };
    auto add_matrix = [&](const auto& m) {
        for (Eigen::Index j = 0; j < m.cols(); ++j)
            add(m.col(j).data(), static_cast<std::size_t>(m.rows()) * sizeof(Scalar));
    };
    add_matrix(x);
    add(labels.data(), labels.size_bytes());
    if (validation) {
        add_matrix(validation->x());
        add(validation->labels.data(), validation->labels.size_bytes());
    }
    return crc;
}

// Why a checkpoint's progress is not of the run fit was asked for; empty when it is.
inline std::string run_mismatch(const TrainingProgress& saved, const FitOptions& options,
                                Eigen::Index samples, std::uint32_t checksum) {
    auto differs = [](const std::string& what, const std::string& theirs, const std::string& ours) {
        return "the checkpoint's run has " + what + " " + theirs + ", this one " + ours;
    };
    if (saved.samples != samples)
        return differs("training samples", std::to_string(saved.samples), std::to_string(samples));
    if (saved.data_checksum != checksum)
        return "the checkpoint's run trained on other data (the CRC-32 of the training and validation "
               "sets differs)";
    if (saved.seed != options.seed)
        return differs("seed", std::to_string(saved.seed), std::to_string(options.seed));
    if (saved.batch_size != options.batch_size)
        return differs("batch_size", std::to_string(saved.batch_size), std::to_string(options.batch_size));
    if (!(saved.max_gradient_norm == options.max_gradient_norm))
        return differs("max_gradient_norm", number(saved.max_gradient_norm),
                       number(options.max_gradient_norm));
    auto rule = [](const std::optional<EarlyStopping>& r) {
        return r ? "patience " + std::to_string(r->patience) + ", min_delta " + number(r->min_delta)
                 : std::string("none");
    };
    const auto& ours = options.early_stopping;
    if (saved.early_stopping.has_value() != ours.has_value() ||
        (ours && (saved.early_stopping->patience != ours->patience ||
                  !(saved.early_stopping->min_delta == ours->min_delta))))
        return differs("early stopping", rule(saved.early_stopping), rule(ours));
    return {};
}

}  // namespace detail

namespace detail {

// What fit itself writes into a checkpoint, checked on resuming, so that a hand-made
// or damaged one cannot derail the loop. fit and mpi::fit share it.
// throws: corrupt_checkpoint_error naming `name`.
inline void check_resumable(const TrainingProgress& p, const FitOptions& options, Eigen::Index n,
                            Eigen::Index batches, const std::string& name) {
    auto corrupt = [&](const std::string& what) {
        return corrupt_checkpoint_error(name + ": corrupt checkpoint for fit: " + what);
    };
    if (p.epoch > 0 && static_cast<Eigen::Index>(p.order.size()) != n)
        throw corrupt("no sample order after " + std::to_string(p.epoch) + " epochs");
    if (static_cast<int>(p.reports.size()) != p.epoch)
        throw corrupt(std::to_string(p.reports.size()) + " epoch reports for " + std::to_string(p.epoch) +
                      " epochs");
    if (p.updates != static_cast<std::int64_t>(p.epoch) * batches)
        throw corrupt(std::to_string(p.updates) + " updates in " + std::to_string(p.epoch) + " epochs of " +
                      std::to_string(batches) + " batches");
    if (options.early_stopping && p.best_epoch > 0 && p.best_parameters.size() == 0)
        throw corrupt("early stopping's best epoch " + std::to_string(p.best_epoch) + " without its parameters");
    if (p.finished && !options.early_stopping)
        throw corrupt("the run is marked finished by early stopping, which is off");
}

// Early stopping's tracker as the checkpoint left it (θ of the best epoch only when it is on).
template <class Vector>
BestEpoch<Vector> resumed_best(const TrainingProgress& p, const FitOptions& options) {
    using Scalar = typename Vector::Scalar;
    BestEpoch<Vector> best(options.early_stopping);
    if (p.best_epoch > 0) {
        if (options.early_stopping)
            best.record(p.best_epoch, p.best_loss, p.best_parameters.template cast<Scalar>());
        else
            best.record(p.best_epoch, p.best_loss, Vector());
    }
    return best;
}

}  // namespace detail

// Trains net with optimizer on (x, labels), one sample per column of x.
// throws: argument_error for epochs < 1, batch_size < 1, early stopping without a
//         validation set or with patience < 1 or min_delta < 0, a schedule with an
//         optimizer whose α cannot be set, a validation set of the other scalar type,
//         max_gradient_norm < 0 (or > 0 with an optimizer that has no guarded step),
//         checkpoints with an empty path, every < 1 or an optimizer without snapshots;
//         the errors of Mlp for bad data (training or validation); when resuming, io_error
//         and the checkpoint_error subclasses (io/checkpoint.hpp), checkpoint_mismatch_error
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
    using Matrix = typename Net::Matrix;
    using Scalar = typename Net::Scalar;
    using Vector = typename Net::Vector;
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    constexpr bool guarded = detail::guarded_optimizer<Opt, Net>;
    constexpr bool checkpointable = CheckpointableOptimizer<Opt>;
    if (options.epochs < 1)
        throw argument_error("fit: epochs must be at least 1, got " + std::to_string(options.epochs));
    if (options.batch_size < 1)
        throw argument_error("fit: batch_size must be at least 1, got " + std::to_string(options.batch_size));
    detail::check_batch(x, net.inputs(), "fit");
    detail::check_labels(labels, x.cols(), net.classes(), "fit");
    const ValidationSet<Scalar>* validation = detail::validation_set<Scalar>(options);
    if (validation) {
        detail::check_batch(validation->x(), net.inputs(), "fit (validation set)");
        detail::check_labels(validation->labels, validation->x().cols(), net.classes(),
                             "fit (validation set)");
    }
    if (options.early_stopping && !validation)
        throw argument_error("fit: early stopping needs a validation set (FitOptions::validate_on)");
    BestEpoch<Vector> best(options.early_stopping);  // throws for a bad patience or min_delta
    if constexpr (!AdjustableLearningRate<Opt>) {
        if (options.schedule)
            throw argument_error("fit: a schedule was given but the optimizer has no set_learning_rate()");
    }
    detail::require_non_negative(options.max_gradient_norm, "fit", "max_gradient_norm");
    if (!guarded && options.max_gradient_norm > 0)
        throw argument_error(
            "fit: max_gradient_norm needs an optimizer with guarded steps "
            "(step(net, x, y, StepGuard), as every FirstOrder optimizer has)");
    if (options.checkpoint) {
        if (!options.checkpoint->store) throw argument_error("fit: Checkpointing::store is null");
        detail::require_at_least(options.checkpoint->every, 1, "fit", "Checkpointing::every");
        if (!checkpointable)
            throw argument_error(
                "fit: checkpoints need an optimizer with snapshot() and restore() "
                "(every FirstOrder optimizer has them)");
    }

    const Eigen::Index n = x.cols();
    const Eigen::Index batch = std::min(options.batch_size, n);
    const Eigen::Index batches = (n + batch - 1) / batch;
    const Eigen::Index evaluation_chunk = std::max<Eigen::Index>(batch, 256);
    const StepGuard guard{options.max_gradient_norm};
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    Engine engine(options.seed);
    std::vector<EpochReport> reports;
    std::int64_t t = 0;  // updates so far, for the schedule
    int done = 0;        // epochs completed
    bool finished = false;

    std::uint32_t checksum = 0;
    if constexpr (checkpointable) {
        if (options.checkpoint) {
            CheckpointStore& store = *options.checkpoint->store;
            checksum = detail::data_checksum<Scalar>(x, labels, validation);
            const std::optional<std::string> bytes =
                options.checkpoint->resume ? store.read() : std::optional<std::string>();
            if (bytes) {
                const std::string name = store.name();
                const RunRecord saved = store.decode(*bytes);
                const TrainingProgress& p = saved.progress;
                if (const auto reason = detail::run_mismatch(p, options, n, checksum); !reason.empty())
                    throw checkpoint_mismatch_error(name + ": " + reason);
                detail::check_resumable(p, options, n, batches, name);
                // Everything that allocates, before net and optimizer change (strong guarantee).
                BestEpoch<Vector> resumed = detail::resumed_best<Vector>(p, options);
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
            }
            store.prepare();
        }
    }
    if (finished || done >= options.epochs) {
        best.restore(net.parameters());
        return reports;
    }

    detail::Workspace<Scalar> xb_storage;
    std::vector<int> yb(static_cast<std::size_t>(batch));
    xb_storage.shape(x.rows(), batch);
    for (int epoch = done + 1; epoch <= options.epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        detail::shuffle(std::span(order), engine);
        double total = 0;
        std::size_t steps = 0;
        Eigen::Index correct = 0;
        bool counted = true;  // every step's logits were readable, so correct is a count over the epoch
        for (Eigen::Index first = 0; first < n; first += batch) {
            const Eigen::Index count = std::min(batch, n - first);
            auto xb = xb_storage.shape(x.rows(), count);
            const auto ids = std::span<const Eigen::Index>(order).subspan(static_cast<std::size_t>(first),
                                                                          static_cast<std::size_t>(count));
            const auto yview = std::span(yb).first(static_cast<std::size_t>(count));
            detail::gather<Matrix>(x, labels, ids, xb, yview);
            const auto where = [&] {
                return "fit: epoch " + std::to_string(epoch) + ", batch " +
                       std::to_string(first / batch + 1) + " of " + std::to_string(batches) + " (update " +
                       std::to_string(t + 1) + ")";
            };
            if constexpr (AdjustableLearningRate<Opt>) {
                if (options.schedule) {
                    const double alpha = options.schedule(epoch - 1, t);
                    try {
                        optimizer.set_learning_rate(alpha);
                    } catch (const argument_error& e) {
                        throw argument_error(where() + ": the schedule gave α = " + detail::number(alpha) +
                                             ": " + e.what());
                    }
                }
            }
            double objective = 0;
            if constexpr (guarded) {
                try {
                    objective = optimizer.step(net, xb, yview, guard);
                } catch (const divergence_error& e) {
                    throw divergence_error(where() + ": training diverged: " + e.what() +
                                           ": the network keeps the parameters of the last finite step");
                }
            } else {
                // An optimizer of one's own without a guarded step: the guard can only look after it.
                objective = optimizer.step(net, xb, yview);
                if (!std::isfinite(objective) || !detail::all_finite(net.parameters()))
                    throw divergence_error(
                        where() + ": training diverged: the objective is " + detail::number(objective) +
                        " (this optimizer has no guarded step, so θ may hold the non-finite values)");
            }
            total += objective;
            ++t;
            ++steps;
            if constexpr (detail::exposes_logits<Net>) {
                // The logits of the step's own forward pass, at θ before the step.
                const auto a = net.template layer<Net::depth - 1>().output();
                if (a.cols() == count)
                    correct += detail::count_correct(a, yview);
                else
                    counted = false;
            } else {
                counted = false;
            }
            if (options.on_batch) {
                const Eigen::Index seen = first + count;
                options.on_batch({epoch, options.epochs, seen, n, total / static_cast<double>(steps),
                                  counted ? static_cast<double>(correct) / static_cast<double>(seen) : nan});
            }
        }

        EpochReport report{epoch, total / static_cast<double>(steps), 0.0};
        if (counted) report.train_accuracy = static_cast<double>(correct) / static_cast<double>(n);
        if constexpr (AdjustableLearningRate<Opt>) report.learning_rate = optimizer.learning_rate();
        bool stop = false;
        if (validation) {
            const auto result = detail::evaluate(net, validation->x(), validation->labels, evaluation_chunk);
            report.validation_loss = result.loss;
            report.validation_accuracy = result.accuracy;
            stop = best.record(epoch, result.loss, net.parameters());
            report.best_epoch = best.epoch();
        }
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
        report.seconds = elapsed.count();
        reports.push_back(report);
        if constexpr (checkpointable) {
            const auto& c = options.checkpoint;
            if (c && (epoch % c->every == 0 || epoch == options.epochs || stop)) {
                TrainingProgress progress;
                progress.epoch = epoch;
                progress.updates = t;
                progress.finished = stop;
                progress.engine = engine;
                progress.order = order;
                progress.reports = reports;
                progress.seed = options.seed;
                progress.samples = n;
                progress.batch_size = options.batch_size;
                progress.data_checksum = checksum;
                progress.max_gradient_norm = options.max_gradient_norm;
                progress.early_stopping = options.early_stopping;
                progress.best_loss = best.loss();
                progress.best_epoch = best.epoch();
                if (options.early_stopping && best.epoch() > 0)
                    progress.best_parameters = best.parameters().template cast<double>();
                c->store->write(c->store->encode(make_run_record(net, optimizer, std::move(progress))));
            }
        }
        if (options.on_epoch) options.on_epoch(reports.back());
        if (stop) break;
    }
    best.restore(net.parameters());
    return reports;
}

}  // namespace descent
