#pragma once
// The training loop: N epochs; each epoch visits every example once, in an
// order reshuffled from the seeded engine, by minibatches of batch_size
// (batch_size = 1 is the course's per-example SGD).
//
// Optionally: a learning-rate schedule applied before every step, a validation
// set evaluated after every epoch, early stopping on the validation loss, and
// hooks after every batch and every epoch (for progress lines and learning curves).
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
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
#include "../optimizers/optimizer.hpp"
#include "early_stopping.hpp"

namespace descent {

// What one epoch did, handed to FitOptions::on_epoch. The figures fit does not compute
// are NaN (the validation ones without a validation set).
struct EpochReport {
    int epoch;       // 1-based
    double loss;     // mean over the epoch's batches of l + λΩ, before each step
    double seconds;  // wall time of the epoch, its validation included
    // The fraction of the epoch's samples that their batch's forward pass classified
    // correctly, with θ as it was just before that batch's step: a running figure, like
    // loss, read from the forward pass the step makes anyway, so it costs no extra pass.
    double train_accuracy = std::numeric_limits<double>::quiet_NaN();
    // Mean l (without λΩ) and accuracy over the validation set, with θ at the end of the epoch.
    double validation_loss = std::numeric_limits<double>::quiet_NaN();
    double validation_accuracy = std::numeric_limits<double>::quiet_NaN();
    // The epoch with the lowest validation loss so far (by more than min_delta when early
    // stopping); 0 without a validation set. With early stopping, fit returns with this
    // epoch's parameters, and the last report's best_epoch says which epoch that was.
    int best_epoch = 0;
    // α of the epoch's last step (NaN when the optimizer does not expose it).
    double learning_rate = std::numeric_limits<double>::quiet_NaN();
};

// Where an epoch is, handed to FitOptions::on_batch after every step.
struct BatchReport {
    int epoch;                  // 1-based
    int epochs;                 // FitOptions::epochs
    Eigen::Index samples_done;  // in this epoch, this batch included
    Eigen::Index samples_total;
    double loss;            // running mean of l + λΩ over the epoch's batches so far
    double train_accuracy;  // running, as EpochReport::train_accuracy (NaN if not available)
};

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

}  // namespace detail

// Trains net with optimizer on (x, labels), one sample per column of x.
// throws: argument_error for epochs < 1, batch_size < 1, early stopping without a
//         validation set or with patience < 1 or min_delta < 0, a schedule with an
//         optimizer whose α cannot be set, a validation set of the other scalar type;
//         and the errors of Mlp for bad data (training or validation), all before any
//         step is taken. argument_error from the optimizer if the schedule gives α <= 0.
// ensures: with early stopping, net holds the parameters of the epoch with the lowest
//          validation loss (reports.back().best_epoch), whether training stopped early
//          or ran all its epochs; otherwise those of the last step. The optimizer's
//          state (velocity, moments) is left as the last step made it, not rewound.
// returns: one report per epoch run.
template <class Net, class Opt>
std::vector<EpochReport> fit(Net& net, Opt& optimizer, const Eigen::Ref<const typename Net::Matrix>& x,
                             std::span<const int> labels, const FitOptions& options) {
    using Matrix = typename Net::Matrix;
    using Scalar = typename Net::Scalar;
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
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
    BestEpoch<typename Net::Vector> best(options.early_stopping);  // throws for a bad patience or min_delta
    if constexpr (!AdjustableLearningRate<Opt>) {
        if (options.schedule)
            throw argument_error("fit: a schedule was given but the optimizer has no set_learning_rate()");
    }

    const Eigen::Index n = x.cols();
    const Eigen::Index batch = std::min(options.batch_size, n);
    const Eigen::Index evaluation_chunk = std::max<Eigen::Index>(batch, 256);
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    detail::Workspace<Scalar> xb_storage;
    std::vector<int> yb(static_cast<std::size_t>(batch));
    xb_storage.shape(x.rows(), batch);
    Engine engine(options.seed);

    std::vector<EpochReport> reports;
    std::int64_t t = 0;  // updates so far, for the schedule
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
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
            if constexpr (AdjustableLearningRate<Opt>) {
                if (options.schedule) optimizer.set_learning_rate(options.schedule(epoch - 1, t));
            }
            total += optimizer.step(net, xb, yview);
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
                const Eigen::Index done = first + count;
                options.on_batch({epoch, options.epochs, done, n, total / static_cast<double>(steps),
                                  counted ? static_cast<double>(correct) / static_cast<double>(done) : nan});
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
        if (options.on_epoch) options.on_epoch(reports.back());
        if (stop) break;
    }
    best.restore(net.parameters());
    return reports;
}

}  // namespace descent
