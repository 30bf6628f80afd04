#pragma once
// What fit is asked to do besides the steps themselves: epochs, batch size, the shuffling
// seed, a validation set, early stopping, a schedule, clipping, checkpoints and hooks.
#include <Eigen/Core>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "../error.hpp"
#include "early_stopping.hpp"
#include "epoch_report.hpp"
#include "run_state.hpp"

namespace descent {

// A held-out set, referenced and not copied: one sample per column, and per sample either a
// label (classification) or a column of real targets (targets != nullptr).
template <class Scalar>
struct ValidationSet {
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using View = Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>;
    const Scalar* data;
    Eigen::Index rows;
    Eigen::Index cols;
    Eigen::Index outer_stride;  // from one column to the next
    std::span<const int> labels;
    const Scalar* targets = nullptr;
    Eigen::Index target_rows = 0;
    Eigen::Index target_stride = 0;

    View x() const { return {data, rows, cols, Eigen::OuterStride<>(outer_stride)}; }
    View y() const { return {targets, target_rows, cols, Eigen::OuterStride<>(target_stride)}; }
};

// FitOptions::on_epoch: a function of the epoch's report. One that returns bool stops
// training by returning true (after this epoch, with θ as early stopping leaves it: the best
// epoch's when it is on); one that returns nothing lets training go on.
class EpochHook {
public:
    EpochHook() = default;
    EpochHook(std::nullptr_t) {}
    template <class F>
    requires(std::invocable<F&, const EpochReport&> && !std::is_same_v<std::remove_cvref_t<F>, EpochHook>)
        EpochHook(F hook) {
        if constexpr (std::is_convertible_v<std::invoke_result_t<F&, const EpochReport&>, bool>)
            hook_ = std::move(hook);
        else
            hook_ = [hook = std::move(hook)](const EpochReport& report) mutable {
                hook(report);
                return false;
            };
    }
    explicit operator bool() const { return static_cast<bool>(hook_); }
    // Returns true when training should stop.
    bool operator()(const EpochReport& report) const { return hook_(report); }

private:
    std::function<bool(const EpochReport&)> hook_;
};

struct FitOptions {
    int epochs = 10;
    Eigen::Index batch_size = 32;
    std::uint64_t seed = 0;  // of the shuffling engine; the weights have their own
    // Optional: called after every epoch; returning true stops training (EpochHook).
    EpochHook on_epoch{};

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
    // longer (optimizers/step_guard.hpp); 0 is no clipping.
    double max_gradient_norm = 0;
    // Optional: checkpoints every few epochs, and resuming from one (training/run_state.hpp;
    // io/checkpoint.hpp's checkpoint_file(path) keeps them in a file).
    std::optional<Checkpointing> checkpoint{};
    // Optional: receives fit's warnings (training/feature_scale.hpp: inputs that look
    // unstandardised), on one process; when unset, fit writes them to standard error.
    std::function<void(const std::string&)> on_warning{};

    // Evaluates (x, labels) after every epoch. Nothing is copied: x and labels must
    // outlive fit. x is a column-major matrix in memory (a Matrix, a Map, a block of
    // columns), of the network's scalar type; fit checks its shape and labels.
    template <class Derived>
    FitOptions& validate_on(const Eigen::DenseBase<Derived>& x, std::span<const int> labels) {
        validation = reference(x, labels, nullptr, 0, 0);
        return *this;
    }
    // The same with real-valued targets y, one column per sample (regression, multi-label).
    template <class Derived, class Targets>
    FitOptions& validate_on(const Eigen::DenseBase<Derived>& x, const Eigen::DenseBase<Targets>& y) {
        static_assert(std::is_same_v<typename Derived::Scalar, typename Targets::Scalar>,
                      "FitOptions::validate_on: inputs and targets must have the same scalar type");
        check_referable(y, "targets");
        validation = reference(x, {}, y.derived().data(), y.rows(), y.derived().outerStride());
        return *this;
    }
    // A temporary matrix would be gone before fit reads it.
    template <class S, int R, int C, int O, int MR, int MC>
    FitOptions& validate_on(Eigen::Matrix<S, R, C, O, MR, MC>&&, std::span<const int>) = delete;
    template <class S, int R, int C, int O, int MR, int MC, class Targets>
    FitOptions& validate_on(Eigen::Matrix<S, R, C, O, MR, MC>&&, const Eigen::DenseBase<Targets>&) = delete;
    template <class Derived, class S, int R, int C, int O, int MR, int MC>
    FitOptions& validate_on(const Eigen::DenseBase<Derived>&, Eigen::Matrix<S, R, C, O, MR, MC>&&) = delete;

private:
    template <class Derived>
    static void check_referable(const Eigen::DenseBase<Derived>& m, const char* what) {
        using S = typename Derived::Scalar;
        static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>,
                      "FitOptions::validate_on: the validation set must hold float or double");
        static_assert(
            bool(Derived::Flags & Eigen::DirectAccessBit) && !bool(Derived::Flags & Eigen::RowMajorBit),
            "FitOptions::validate_on: the validation set is referenced, not copied, so it must be a "
            "column-major matrix in memory (a Matrix, a Map or a block of columns), not an expression");
        if (m.derived().innerStride() != 1)
            throw argument_error(std::string("FitOptions::validate_on: the validation set's ") + what +
                                 " must have contiguous columns, got an inner stride of " +
                                 std::to_string(m.derived().innerStride()));
    }
    template <class Derived>
    static ValidationSet<typename Derived::Scalar> reference(const Eigen::DenseBase<Derived>& x,
                                                             std::span<const int> labels,
                                                             const typename Derived::Scalar* targets,
                                                             Eigen::Index target_rows,
                                                             Eigen::Index target_stride) {
        check_referable(x, "inputs");
        return {x.derived().data(), x.rows(),     x.cols(), x.derived().outerStride(), labels, targets,
                target_rows,        target_stride};
    }
};

}  // namespace descent
