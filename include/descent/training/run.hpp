#pragma once
// The one training loop under fit and mpi::fit: N epochs; each epoch visits every example
// once, in an order reshuffled from the seeded engine, by minibatches (batch_size = 1 is the
// course's per-example SGD). The loop owns the sample order, the engine, the step count t,
// the schedule, validation, early stopping, the reports, the checkpoint record and resuming.
// What differs between one process and several is passed in as a Steps policy:
//
//   name                      "fit", "mpi::fit": the start of every message
//   ranks(), part(count)      how many processes share a batch, and this one's share of it
//   checked(f)                runs checks every process makes; a failure is everyone's
//   alone(f)                  runs a user hook, which may fail on one process only
//   same_everywhere(words)    refuses processes given different data or options
//   start(net)                before the first step (a broadcast of θ)
//   read(store)               the checkpoint's bytes, on every process
//   write(f)                  writes a checkpoint (on one process)
//   step(net, opt, xb, yb, guard, count)   the step on this process's part of a batch of
//                             count samples: returns l + λΩ over the part (0 for an empty one)
//   sum(values)               adds figures over the processes
#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../detail/check_range.hpp"
#include "../detail/crc32.hpp"
#include "../detail/message.hpp"
#include "../detail/random.hpp"
#include "../detail/validate.hpp"
#include "../detail/workspace.hpp"
#include "../error.hpp"
#include "../optimizers/optimizer.hpp"
#include "../optimizers/step_guard.hpp"
#include "early_stopping.hpp"
#include "epoch_report.hpp"
#include "feature_scale.hpp"
#include "fit_options.hpp"
#include "run_state.hpp"

namespace descent::detail {

// Part [first, first + count) of a batch of `total` samples that process `rank` of `ranks`
// takes: the parts follow rank order and differ in size by one at most.
struct RankPart {
    Eigen::Index first;
    Eigen::Index count;
};
inline RankPart rank_part(Eigen::Index total, int rank, int ranks) {
    const Eigen::Index first = total * rank / ranks;
    return {first, total * (rank + 1) / ranks - first};
}

// The targets of a training set: a label per sample, gathered a batch at a time.
class LabelTargets {
public:
    explicit LabelTargets(std::span<const int> all) : all_(all) {}
    Eigen::Index samples() const { return static_cast<Eigen::Index>(all_.size()); }
    void reserve(Eigen::Index batch) { batch_.resize(static_cast<std::size_t>(batch)); }
    std::span<const int> gather(std::span<const Eigen::Index> ids) {
        for (std::size_t j = 0; j < ids.size(); ++j) batch_[j] = all_[static_cast<std::size_t>(ids[j])];
        return std::span<const int>(batch_).first(ids.size());
    }
    std::span<const int> all() const { return all_; }
    template <class Add>
    void checksum(Add&& add) const {
        add(all_.data(), all_.size_bytes());
    }

private:
    std::span<const int> all_;
    std::vector<int> batch_;
};

// Real-valued targets, one column per sample (regression, multi-label).
template <class Scalar>
class ValueTargets {
public:
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using View = Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>;
    explicit ValueTargets(View all) : all_(all) {}
    Eigen::Index samples() const { return all_.cols(); }
    void reserve(Eigen::Index batch) { batch_.shape(all_.rows(), batch); }
    Eigen::Map<const Matrix> gather(std::span<const Eigen::Index> ids) {
        auto y = batch_.shape(all_.rows(), static_cast<Eigen::Index>(ids.size()));
        for (std::size_t j = 0; j < ids.size(); ++j) y.col(static_cast<Eigen::Index>(j)) = all_.col(ids[j]);
        return batch_.cview();
    }
    const View& all() const { return all_; }
    template <class Add>
    void checksum(Add&& add) const {
        for (Eigen::Index j = 0; j < all_.cols(); ++j)
            add(all_.col(j).data(), static_cast<std::size_t>(all_.rows()) * sizeof(Scalar));
    }

private:
    View all_;
    Workspace<Scalar> batch_;
};

// y, a matrix in memory of the network's scalar type, as the training set's targets.
template <class Scalar, class Y>
ValueTargets<Scalar> value_targets(const Y& y) {
    static_assert(std::is_same_v<typename Y::Scalar, Scalar>,
                  "fit: the targets must have the network's scalar type");
    const Eigen::Ref<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>> values(y);
    return ValueTargets<Scalar>(
        {values.data(), values.rows(), values.cols(), Eigen::OuterStride<>(values.outerStride())});
}

// Columns [first, first + count) of a set's targets.
inline std::span<const int> target_columns(std::span<const int> labels, Eigen::Index first,
                                           Eigen::Index count) {
    return labels.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count));
}
template <class View>
auto target_columns(const View& values, Eigen::Index first, Eigen::Index count) {
    return values.middleCols(first, count);
}

// Checks a set's targets against the network before anything changes.
template <class Net>
void check_targets(const Net& net, std::span<const int> labels, Eigen::Index samples, const char* where) {
    if constexpr (requires { net.check_targets(labels, samples, where); })
        net.check_targets(labels, samples, where);
    else
        check_labels(labels, samples, net.classes(), where);
}
template <class Net, class View>
void check_targets(const Net& net, const View& values, Eigen::Index samples, const char* where) {
    if constexpr (requires { net.check_targets(values, samples, where); }) {
        net.check_targets(values, samples, where);
    } else if constexpr (requires { net.loss(net.forward(values), values); }) {
        const Eigen::Index outputs = net.sizes().back();
        if (values.cols() != samples || values.rows() != outputs)
            throw shape_error(join({where, ": the targets are ", values.rows(), " x ", values.cols(),
                                    ", expected ", outputs, " x ", samples, " (one column per sample)"}));
        check_batch(values, values.rows(), where);
    } else {
        throw argument_error(
            join({where,
                  ": real-valued targets need a network whose head takes them (sigmoid_cross_entropy, "
                  "squared_error); this one takes class labels"}));
    }
}

// How many samples of the network's last forward pass its head classified as their targets;
// -1 when that cannot be told (a regression head, a network that does not say).
template <class Net, class Targets>
Eigen::Index correct_in_last_pass(const Net& net, const Targets& targets) {
    return static_cast<Eigen::Index>(net.count_correct(targets));
}

// Σ of the loss l and the count of correct samples (-1: not told) over (x, targets),
// `chunk` samples per forward pass so that the network's buffers stay near the batch size.
struct Evaluation {
    double loss_sum = 0;
    Eigen::Index correct = 0;
};
template <class Net, class X, class Targets>
Evaluation evaluate(Net& net, const X& x, const Targets& targets, Eigen::Index chunk) {
    Evaluation result;
    for (Eigen::Index first = 0; first < x.cols(); first += chunk) {
        const Eigen::Index count = std::min(chunk, x.cols() - first);
        const auto y = target_columns(targets, first, count);
        if constexpr (requires { net.loss(x.middleCols(first, count), y); })
            result.loss_sum +=
                static_cast<double>(net.loss(x.middleCols(first, count), y)) * static_cast<double>(count);
        const Eigen::Index correct = correct_in_last_pass(net, y);
        result.correct = correct < 0 || result.correct < 0 ? -1 : result.correct + correct;
    }
    return result;
}

// The validation set of the network's scalar type, or nullptr when there is none.
template <class Scalar>
const ValidationSet<Scalar>* validation_set(const FitOptions& options, const char* where) {
    if (std::holds_alternative<std::monostate>(options.validation)) return nullptr;
    const auto* set = std::get_if<ValidationSet<Scalar>>(&options.validation);
    if (set == nullptr)
        throw argument_error(
            join({where, ": the validation set holds ", std::is_same_v<Scalar, float> ? "double" : "float",
                  " but the network is ", std::is_same_v<Scalar, float> ? "float" : "double"}));
    return set;
}

// Calls f with the validation set's targets: its labels, or its columns of real values.
template <class Scalar, class F>
decltype(auto) with_targets(const ValidationSet<Scalar>& set, F&& f) {
    if (set.targets != nullptr) return f(set.y());
    return f(set.labels);
}

// A CRC-32 of the training data and the validation set, so that a checkpoint is not resumed
// on other data (that would not continue the run it saved) and processes given different
// data are told apart.
template <class X, class Targets, class Scalar>
std::uint32_t data_checksum(const X& x, const Targets& targets, const ValidationSet<Scalar>* validation) {
    std::uint32_t crc = 0;
    auto add = [&](const void* data, std::size_t bytes) { crc = crc32(crc, data, bytes); };
    auto add_matrix = [&](const auto& m) {
        for (Eigen::Index j = 0; j < m.cols(); ++j)
            add(m.col(j).data(), static_cast<std::size_t>(m.rows()) * sizeof(Scalar));
    };
    add_matrix(x);
    targets.checksum(add);
    if (validation) {
        add_matrix(validation->x());
        if (validation->targets != nullptr)
            add_matrix(validation->y());
        else
            add(validation->labels.data(), validation->labels.size_bytes());
    }
    return crc;
}

// Why a checkpoint's progress is not of the run asked for; empty when it is.
inline std::string run_mismatch(const TrainingProgress& saved, const FitOptions& options,
                                Eigen::Index batch_size, Eigen::Index samples, std::uint32_t checksum) {
    auto differs = [](const char* what, const std::string& theirs, const std::string& ours) {
        return join({"the checkpoint's run has ", what, " ", theirs, ", this one ", ours});
    };
    if (saved.samples != samples) return differs("training samples", join({saved.samples}), join({samples}));
    if (saved.data_checksum != checksum)
        return "the checkpoint's run trained on other data (the CRC-32 of the training and validation "
               "sets differs)";
    if (saved.seed != options.seed) return differs("seed", join({saved.seed}), join({options.seed}));
    if (saved.batch_size != batch_size)
        return differs("batch_size", join({saved.batch_size}), join({batch_size}));
    if (!(saved.max_gradient_norm == options.max_gradient_norm))
        return differs("max_gradient_norm", number(saved.max_gradient_norm),
                       number(options.max_gradient_norm));
    auto rule = [](const std::optional<EarlyStopping>& r) {
        return r ? join({"patience ", r->patience, ", min_delta ", number(r->min_delta)})
                 : std::string("none");
    };
    const auto& ours = options.early_stopping;
    if (saved.early_stopping.has_value() != ours.has_value() ||
        (ours && (saved.early_stopping->patience != ours->patience ||
                  !(saved.early_stopping->min_delta == ours->min_delta))))
        return differs("early stopping", rule(saved.early_stopping), rule(ours));
    return {};
}

// What the loop itself writes into a checkpoint, checked on resuming, so that a hand-made
// or damaged one cannot derail it. throws: corrupt_checkpoint_error naming `name`.
inline void check_resumable(const TrainingProgress& p, const FitOptions& options, Eigen::Index n,
                            Eigen::Index batches, const std::string& name) {
    auto corrupt = [&](const std::string& what) {
        return corrupt_checkpoint_error(join({name, ": corrupt checkpoint for fit: ", what}));
    };
    if (p.epoch > 0 && static_cast<Eigen::Index>(p.order.size()) != n)
        throw corrupt(join({"no sample order after ", p.epoch, " epochs"}));
    if (static_cast<int>(p.reports.size()) != p.epoch)
        throw corrupt(join({p.reports.size(), " epoch reports for ", p.epoch, " epochs"}));
    if (p.updates != static_cast<std::int64_t>(p.epoch) * batches)
        throw corrupt(join({p.updates, " updates in ", p.epoch, " epochs of ", batches, " batches"}));
    if (options.early_stopping && p.best_epoch > 0 && p.best_parameters.size() == 0)
        throw corrupt(join({"early stopping's best epoch ", p.best_epoch, " without its parameters"}));
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

// The training run, as the top of this file describes it. fit's and mpi::fit's contracts
// (training/fit.hpp, distributed/fit.hpp) are this function's.
template <class Net, class Opt, class Targets, class Steps>
std::vector<EpochReport> run_training(Net& net, Opt& optimizer,
                                      const Eigen::Ref<const typename Net::Matrix>& x, Targets targets,
                                      const FitOptions& options, Steps& steps) {
    using Scalar = typename Net::Scalar;
    using Vector = typename Net::Vector;
    using Clock = std::chrono::steady_clock;
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    constexpr bool checkpointable = CheckpointableOptimizer<Opt>;
    const std::string name = Steps::name;
    const int ranks = steps.ranks();
    // The batch of one step over all processes: what one process would run, and what a
    // checkpoint records.
    const Eigen::Index global_batch_size = options.batch_size * ranks;

    const ValidationSet<Scalar>* validation = nullptr;
    std::optional<BestEpoch<Vector>> best;
    std::uint32_t checksum = 0;
    steps.checked([&] {
        if (options.epochs < 1)
            throw argument_error(join({name, ": epochs must be at least 1, got ", options.epochs}));
        if (options.batch_size < 1)
            throw argument_error(join({name, ": batch_size must be at least 1, got ", options.batch_size}));
        check_batch(x, net.inputs(), name.c_str());
        check_targets(net, targets.all(), x.cols(), name.c_str());
        validation = validation_set<Scalar>(options, name.c_str());
        if (validation) {
            const std::string where = join({name, " (validation set)"});
            check_batch(validation->x(), net.inputs(), where.c_str());
            with_targets(*validation,
                         [&](const auto& y) { check_targets(net, y, validation->cols, where.c_str()); });
        }
        if (options.early_stopping && !validation)
            throw argument_error(
                join({name, ": early stopping needs a validation set (FitOptions::validate_on)"}));
        best.emplace(options.early_stopping);  // throws for a bad patience or min_delta
        if constexpr (!AdjustableLearningRate<Opt>) {
            if (options.schedule)
                throw argument_error(
                    join({name, ": a schedule was given but the optimizer has no set_learning_rate()"}));
        }
        require_non_negative(options.max_gradient_norm, name.c_str(), "max_gradient_norm");
        steps.template check_optimizer<Net>(optimizer, options);
        if (options.checkpoint) {
            if (!options.checkpoint->store)
                throw argument_error(join({name, ": Checkpointing::store is null"}));
            require_at_least(options.checkpoint->every, 1, name.c_str(), "Checkpointing::every");
            if (!checkpointable)
                throw argument_error(join({name,
                                           ": checkpoints need an optimizer with snapshot() and restore() "
                                           "(every FirstOrder optimizer has them)"}));
        }
        if (options.checkpoint || Steps::distributed) checksum = data_checksum(x, targets, validation);
    });
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
    steps.same_everywhere(words);
    steps.write([&] {
        if (const std::string warning = feature_scale_warning(x, name.c_str()); !warning.empty()) {
            if (options.on_warning)
                options.on_warning(warning);
            else
                std::fprintf(stderr, "%s\n", warning.c_str());
        }
    });

    const Eigen::Index n = x.cols();
    const Eigen::Index batch = std::min(global_batch_size, n);
    const Eigen::Index batches = (n + batch - 1) / batch;
    const Eigen::Index largest_part = (batch + ranks - 1) / ranks;
    const Eigen::Index evaluation_chunk = std::max<Eigen::Index>(largest_part, 256);
    const StepGuard guard{options.max_gradient_norm};
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    Engine engine(options.seed);
    std::vector<EpochReport> reports;
    std::int64_t t = 0;  // updates so far, for the schedule
    int done = 0;        // epochs completed
    bool finished = false;

    steps.start(net);
    if constexpr (checkpointable) {
        if (options.checkpoint) {
            CheckpointStore& store = *options.checkpoint->store;
            const std::optional<std::string> bytes =
                options.checkpoint->resume ? steps.read(store) : std::optional<std::string>();
            if (bytes) {
                steps.checked([&] {
                    const std::string file = store.name();
                    const RunRecord saved = store.decode(*bytes);
                    const TrainingProgress& p = saved.progress;
                    if (auto reason = run_mismatch(p, options, global_batch_size, n, checksum);
                        !reason.empty()) {
                        if (ranks > 1)
                            append(reason, {" (mpi::fit's run is one of batch_size = ranks x batch_size = ",
                                            ranks, " x ", options.batch_size, ")"});
                        throw checkpoint_mismatch_error(join({file, ": ", reason}));
                    }
                    check_resumable(p, options, n, batches, file);
                    // Everything that allocates, before net and optimizer change (strong guarantee).
                    BestEpoch<Vector> resumed = resumed_best<Vector>(p, options);
                    std::vector<Eigen::Index> resumed_order = p.epoch > 0 ? p.order : order;
                    std::vector<EpochReport> resumed_reports = p.reports;
                    restore_run(saved, net, optimizer, file);
                    best = std::move(resumed);
                    order.swap(resumed_order);
                    reports.swap(resumed_reports);
                    engine = p.engine;
                    t = p.updates;
                    done = p.epoch;
                    finished = p.finished;
                });
            }
            steps.write([&] { store.prepare(); });
        }
    }
    if (finished || done >= options.epochs) {
        best->restore(net.parameters());
        return reports;
    }

    Workspace<Scalar> xb_storage;
    xb_storage.shape(x.rows(), largest_part);
    targets.reserve(largest_part);
    for (int epoch = done + 1; epoch <= options.epochs; ++epoch) {
        const auto start = Clock::now();
        shuffle(std::span(order), engine);
        // Σ over steps of (B_r/B)(l_r + λΩ), this process's share: summed over the
        // processes, the epoch's Σ of l + λΩ.
        double weighted_objective = 0;
        double own_objective = 0;  // Σ over steps of l_r + λΩ, for on_batch
        Eigen::Index own_samples = 0;
        Eigen::Index correct = 0;
        bool counted = true;  // every step told its correct count
        std::size_t step_count = 0;
        for (Eigen::Index first = 0; first < n; first += batch) {
            const Eigen::Index count = std::min(batch, n - first);
            const RankPart part = steps.part(count);
            const auto where = [&] {
                return join({name, ": epoch ", epoch, ", batch ", first / batch + 1, " of ", batches,
                             " (update ", t + 1, ")"});
            };
            if constexpr (AdjustableLearningRate<Opt>) {
                if (options.schedule) {
                    const double alpha = options.schedule(epoch - 1, t);
                    try {
                        optimizer.set_learning_rate(alpha);
                    } catch (const argument_error& e) {
                        throw argument_error(
                            join({where(), ": the schedule gave α = ", number(alpha), ": ", e.what()}));
                    }
                }
            }
            const auto ids = std::span<const Eigen::Index>(order).subspan(
                static_cast<std::size_t>(first + part.first), static_cast<std::size_t>(part.count));
            auto xb = xb_storage.shape(x.rows(), part.count);
            for (std::size_t j = 0; j < ids.size(); ++j) xb.col(static_cast<Eigen::Index>(j)) = x.col(ids[j]);
            const auto yb = targets.gather(ids);
            double objective = 0;
            try {
                objective = steps.step(net, optimizer, xb_storage.cview(), yb, guard, count);
            } catch (const divergence_error& e) {
                throw divergence_error(join({where(), ": training diverged: ", e.what(),
                                             ": the network keeps the parameters of the last finite step"}));
            }
            weighted_objective += static_cast<double>(part.count) / static_cast<double>(count) * objective;
            own_objective += objective;
            own_samples += part.count;
            ++t;
            ++step_count;
            if (part.count > 0) {
                // The forward pass of the step itself, at θ before the step.
                const Eigen::Index c = counted ? correct_in_last_pass(net, yb) : -1;
                if (c < 0)
                    counted = false;
                else
                    correct += c;
            }
            if (options.on_batch) {
                steps.alone([&] {
                    options.on_batch({epoch, options.epochs, first + count, n,
                                      own_objective / static_cast<double>(step_count),
                                      counted && own_samples > 0
                                          ? static_cast<double>(correct) / static_cast<double>(own_samples)
                                          : nan});
                });
            }
        }

        // The epoch's figures and the validation set's, this process's part of each, summed
        // over the processes at once. The last counts the processes that could not count.
        double sums[5] = {weighted_objective, static_cast<double>(counted ? correct : 0), 0, 0,
                          counted ? 0.0 : 1.0};
        if (validation) {
            steps.alone([&] {
                const RankPart v = steps.part(validation->cols);
                if (v.count == 0) return;
                const auto result = with_targets(*validation, [&](const auto& y) {
                    return evaluate(net, validation->x().middleCols(v.first, v.count),
                                    target_columns(y, v.first, v.count), evaluation_chunk);
                });
                sums[2] = result.loss_sum;
                sums[3] = result.correct < 0 ? nan : static_cast<double>(result.correct);
            });
        }
        steps.sum(std::span<double>(sums));

        EpochReport report{epoch, sums[0] / static_cast<double>(step_count), 0.0};
        if (sums[4] == 0) report.train_accuracy = sums[1] / static_cast<double>(n);
        if constexpr (AdjustableLearningRate<Opt>) report.learning_rate = optimizer.learning_rate();
        bool stop = false;
        if (validation) {
            const auto samples = static_cast<double>(validation->cols);
            report.validation_loss = sums[2] / samples;
            report.validation_accuracy = sums[3] / samples;
            stop = best->record(epoch, report.validation_loss, net.parameters());
            report.best_epoch = best->epoch();
        }
        report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        reports.push_back(report);
        if constexpr (checkpointable) {
            const auto& c = options.checkpoint;
            if (c && (epoch % c->every == 0 || epoch == options.epochs || stop)) {
                steps.write([&] {
                    TrainingProgress progress;
                    progress.epoch = epoch;
                    progress.updates = t;
                    progress.finished = stop;
                    progress.engine = engine;
                    progress.order = order;
                    progress.reports = reports;
                    progress.seed = options.seed;
                    progress.samples = n;
                    progress.batch_size = global_batch_size;
                    progress.data_checksum = checksum;
                    progress.max_gradient_norm = options.max_gradient_norm;
                    progress.early_stopping = options.early_stopping;
                    progress.best_loss = best->loss();
                    progress.best_epoch = best->epoch();
                    if (options.early_stopping && best->epoch() > 0)
                        progress.best_parameters = best->parameters().template cast<double>();
                    c->store->write(c->store->encode(make_run_record(net, optimizer, std::move(progress))));
                });
            }
        }
        if (options.on_epoch) {
            bool asked = false;
            steps.alone([&] { asked = options.on_epoch(reports.back()); });
            stop = steps.any(asked) || stop;
        }
        if (stop) break;
    }
    best->restore(net.parameters());
    return reports;
}

}  // namespace descent::detail
