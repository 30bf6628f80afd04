#pragma once
// Checks on what a user hands to a public entry point, done before anything
// is changed, so that a throw leaves the model as it was.
#include <Eigen/Core>
#include <cmath>
#include <span>
#include <string>

#include "../error.hpp"

namespace descent::detail {

// A batch: one sample per column, `expected_rows` features, at least one sample, all finite.
template <class Derived>
void check_batch(const Eigen::MatrixBase<Derived>& x, Eigen::Index expected_rows, const char* where) {
    if (x.cols() == 0)
        throw argument_error(std::string(where) + ": empty batch (the input has 0 columns; one sample per column)");
    if (x.rows() != expected_rows)
        throw shape_error(std::string(where) + ": input has " + std::to_string(x.rows()) +
                          " rows (features) but the first layer takes " + std::to_string(expected_rows));
    if (!x.allFinite()) {
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

}  // namespace descent::detail
