#pragma once
// Checks on what a user hands to a public entry point, done before anything
// is changed, so that a throw leaves the model as it was.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <span>
#include <string>

#include "../error.hpp"
#include "check_range.hpp"
#include "message.hpp"

namespace descent::detail {

// True when no value is NaN or infinite: x·0 is 0 for a finite x and NaN otherwise,
// and a sum with a NaN in it is NaN. One vectorised pass, where Eigen's allFinite()
// compares a coefficient at a time (5% of a training step at batch 128). Relies on
// IEEE arithmetic: no -ffast-math.
template <class Derived>
bool all_finite(const Eigen::DenseBase<Derived>& v) {
    using Scalar = typename Derived::Scalar;
    return v.size() == 0 || !std::isnan(static_cast<double>((v.derived().array() * Scalar(0)).sum()));
}

// Where a check runs, for its message: "Mlp::forward", or a whole name such as "fit".
// Two pointers, joined only when a message is written, so that a check that passes
// builds no string (a step at batch 1 takes about 40 µs; an allocation is not free).
struct Where {
    const char* object = nullptr;
    const char* function = "";
    Where(const char* whole) : function(whole) {}  // NOLINT: a name converts implicitly
    Where(const char* object_name, const char* function_name)
        : object(object_name), function(function_name) {}
    std::string text() const { return object ? join({object, "::", function}) : std::string(function); }
};

// A batch: one sample per column, `expected_rows` features, at least one sample, all finite.
template <class Derived>
void check_batch(const Eigen::MatrixBase<Derived>& x, Eigen::Index expected_rows, const Where& where) {
    if (x.cols() == 0)
        throw argument_error(
            join({where.text(), ": empty batch (the input has 0 columns; one sample per column)"}));
    if (x.rows() != expected_rows)
        throw shape_error(join({where.text(), ": input has ", x.rows(),
                                " rows (features) but the first layer takes ", expected_rows}));
    if (!all_finite(x)) {
        for (Eigen::Index j = 0; j < x.cols(); ++j)
            for (Eigen::Index i = 0; i < x.rows(); ++i)
                if (!std::isfinite(static_cast<double>(x(i, j))))
                    throw non_finite_error(
                        join({where.text(), ": input holds ", std::to_string(static_cast<double>(x(i, j))),
                              " at row ", i, ", column ", j, " (feature ", i, " of sample ", j, ")"}));
    }
}

// What a label error adds when the labels show a common mistake: a network of one output with
// softmax (whose only class is 0) given a binary task, or labels numbered 1..C (none 0).
inline std::string label_hint(std::span<const int> labels, Eigen::Index classes) {
    if (labels.empty()) return "";
    const auto [low, high] = std::minmax_element(labels.begin(), labels.end());
    if (classes == 1 && *high == 1)
        return "; a network of one output with softmax_cross_entropy has one class, 0: for a binary task "
               "give it one output with the sigmoid_cross_entropy head, or two outputs";
    if (*low >= 1 && *high == classes)
        return join({"; the labels look numbered from 1 (all in [1, ", classes,
                     "], none 0): descent numbers classes from 0, so subtract 1 from every label"});
    return "";
}

// One label per sample, each in [0, classes).
inline void check_labels(std::span<const int> labels, Eigen::Index samples, Eigen::Index classes,
                         const Where& where) {
    if (static_cast<Eigen::Index>(labels.size()) != samples)
        throw shape_error(
            join({where.text(), ": ", labels.size(), " labels for ", samples, " samples (columns)"}));
    for (std::size_t t = 0; t < labels.size(); ++t)
        if (labels[t] < 0 || labels[t] >= classes)
            throw label_error(join({where.text(), ": label ", labels[t], " of sample ", t, " is outside [0, ",
                                    classes, ")", label_hint(labels, classes)}));
}

// A target matrix: one column per sample, one row per output, every entry finite.
template <class Derived>
void check_target_matrix(const Eigen::MatrixBase<Derived>& y, Eigen::Index outputs, Eigen::Index samples,
                         const Where& where) {
    if (y.cols() != samples)
        throw shape_error(join({where.text(), ": ", y.cols(), " target columns for ", samples,
                                " samples (one column per sample)"}));
    if (y.rows() != outputs)
        throw shape_error(join({where.text(), ": targets have ", y.rows(), " rows but the network has ",
                                outputs, " outputs (one row per output, one column per sample)"}));
    if (!all_finite(y)) {
        for (Eigen::Index j = 0; j < y.cols(); ++j)
            for (Eigen::Index i = 0; i < y.rows(); ++i)
                if (!std::isfinite(static_cast<double>(y(i, j))))
                    throw non_finite_error(
                        join({where.text(), ": target holds ", number(static_cast<double>(y(i, j))),
                              " at row ", i, ", column ", j, " (output ", i, " of sample ", j, ")"}));
    }
}

// The index of the first NaN or infinity of a vector, or -1 when all are finite. The
// common case, all finite, is one vectorised pass (all_finite).
template <class Derived>
Eigen::Index first_non_finite(const Eigen::DenseBase<Derived>& v) {
    if (all_finite(v)) return -1;
    for (Eigen::Index i = 0; i < v.size(); ++i)
        if (!std::isfinite(static_cast<double>(v.derived()(i)))) return i;
    return -1;
}

// Where index i of θ sits, in the course's names when the network lays its
// parameters out in blocks (Mlp::parameter_blocks): "W(2) row 3, column 0".
template <class Net>
std::string parameter_name(const Net& net, Eigen::Index i) {
    if constexpr (requires { net.parameter_blocks(); }) {
        for (const auto& block : net.parameter_blocks()) {
            if (i < block.offset || i >= block.offset + block.size()) continue;
            const Eigen::Index within = i - block.offset;
            if (block.cols == 1) return join({block.name, " row ", within});
            return join({block.name, " row ", within % block.rows, ", column ", within / block.rows});
        }
    }
    return join({"θ_", i});
}

}  // namespace descent::detail
