#pragma once
// Checks on what a user hands to a public entry point, done before anything
// is changed, so that a throw leaves the model as it was.
#include <Eigen/Core>
#include <cmath>
#include <span>
#include <string>

#include "../error.hpp"

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

// A batch: one sample per column, `expected_rows` features, at least one sample, all finite.
template <class Derived>
void check_batch(const Eigen::MatrixBase<Derived>& x, Eigen::Index expected_rows, const char* where) {
    if (x.cols() == 0)
        throw argument_error(std::string(where) + ": empty batch (the input has 0 columns; one sample per column)");
    if (x.rows() != expected_rows)
        throw shape_error(std::string(where) + ": input has " + std::to_string(x.rows()) +
                          " rows (features) but the first layer takes " + std::to_string(expected_rows));
    if (!all_finite(x)) {
        for (Eigen::Index j = 0; j < x.cols(); ++j)
            for (Eigen::Index i = 0; i < x.rows(); ++i)
                if (!std::isfinite(static_cast<double>(x(i, j))))
                    throw non_finite_error(std::string(where) + ": input holds " +
                                           std::to_string(static_cast<double>(x(i, j))) + " at row " +
                                           std::to_string(i) + ", column " + std::to_string(j) +
                                           " (feature " + std::to_string(i) + " of sample " +
                                           std::to_string(j) + ")");
    }
}

// One label per sample, each in [0, classes).
inline void check_labels(std::span<const int> labels, Eigen::Index samples, Eigen::Index classes,
                         const char* where) {
    if (static_cast<Eigen::Index>(labels.size()) != samples)
        throw shape_error(std::string(where) + ": " + std::to_string(labels.size()) + " labels for " +
                          std::to_string(samples) + " samples (columns)");
    for (std::size_t t = 0; t < labels.size(); ++t)
        if (labels[t] < 0 || labels[t] >= classes)
            throw label_error(std::string(where) + ": label " + std::to_string(labels[t]) + " of sample " +
                              std::to_string(t) + " is outside [0, " + std::to_string(classes) + ")");
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
            if (block.cols == 1) return block.name + " row " + std::to_string(within);
            return block.name + " row " + std::to_string(within % block.rows) + ", column " +
                   std::to_string(within / block.rows);
        }
    }
    return "θ_" + std::to_string(i);
}

}  // namespace descent::detail
