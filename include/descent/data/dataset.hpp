#pragma once
// A data set in the layout the networks take: one sample per column, with its
// targets, which are either integer class labels (classification) or a matrix of
// real values (regression), or absent (samples to predict).
//
//   auto [train, test] = descent::split(data, 0.25, seed);   // stratified by class
//   descent::fit(net, sgd, train.x, train.y, options);
//
// A split by class keeps each class's share in both parts, so that a small data set
// (iris: 50 samples a class) does not lose most of a class to one side by chance.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../detail/check_range.hpp"
#include "../detail/huge_pages.hpp"
#include "../detail/random.hpp"
#include "../error.hpp"

namespace descent {

template <std::floating_point Scalar>
struct Dataset {
    using scalar_type = Scalar;
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

    Matrix x;            // D x N: x.col(t) is sample t's features
    std::vector<int> y;  // N class labels, y[t] in [0, C); empty when the targets are real or absent
    // Defaulted, so that {x, y} still initialises a labelled set without a warning.
    Matrix targets = {};  // K x N real-valued targets, targets.col(t) sample t's; empty (0 x 0) otherwise
    std::vector<std::string> feature_names = {};  // D names (a CSV file's header), or none
    std::vector<std::string> target_names = {};   // the names of the K target columns (1 for labels), or none

    Eigen::Index size() const { return x.cols(); }
    Eigen::Index features() const { return x.rows(); }
    bool has_labels() const { return !y.empty(); }
    bool has_targets() const { return targets.size() != 0; }

    // C = 1 + the largest label, the number of outputs a classifier needs for these
    // labels 0, 1, ..., C−1 (a class absent from the data still counts when a larger one is present).
    // requires: labels, none negative.
    // throws: argument_error (no labels), label_error (a negative label).
    int classes() const {
        if (y.empty()) throw argument_error("Dataset::classes: the data set has no labels");
        int largest = 0;
        for (std::size_t t = 0; t < y.size(); ++t) {
            if (y[t] < 0)
                throw label_error("Dataset::classes: label " + std::to_string(y[t]) + " of sample " +
                                  std::to_string(t) + " is negative; labels are classes 0, 1, 2, ...");
            largest = std::max(largest, y[t]);
        }
        return largest + 1;
    }

    // How many samples each class 0, ..., C−1 has; a 0 for class 0 hints at labels numbered from 1.
    // throws: as classes().
    std::vector<Eigen::Index> class_counts() const {
        std::vector<Eigen::Index> counts(static_cast<std::size_t>(classes()), 0);
        for (const int label : y) ++counts[static_cast<std::size_t>(label)];
        return counts;
    }

    // The samples at `indices`, in that order, with their labels or targets (and the names).
    // requires: check_consistent(); every index in [0, size()).
    // throws: shape_error, argument_error.
    Dataset subset(std::span<const Eigen::Index> indices) const {
        check_consistent("Dataset::subset");
        for (const Eigen::Index t : indices)
            if (t < 0 || t >= size())
                throw argument_error("Dataset::subset: index " + std::to_string(t) + " is outside [0, " +
                                     std::to_string(size()) + ")");
        const auto n = static_cast<Eigen::Index>(indices.size());
        Dataset part{Matrix(x.rows(), n), {}, Matrix(), feature_names, target_names};
        detail::advise_huge_pages(part.x.data(), static_cast<std::size_t>(part.x.size()) * sizeof(Scalar));
        if (has_labels()) part.y.reserve(indices.size());
        if (has_targets()) part.targets.resize(targets.rows(), n);
        for (Eigen::Index k = 0; k < n; ++k) {
            const Eigen::Index t = indices[static_cast<std::size_t>(k)];
            part.x.col(k) = x.col(t);
            if (has_labels()) part.y.push_back(y[static_cast<std::size_t>(t)]);
            if (has_targets()) part.targets.col(k) = targets.col(t);
        }
        return part;
    }

    // throws: shape_error when there is not one label or one target column per sample, or
    //         the names do not match the rows; argument_error when there are labels and targets both.
    void check_consistent(const char* where) const {
        const std::string at(where);
        if (has_labels() && static_cast<std::size_t>(x.cols()) != y.size())
            throw shape_error(at + ": " + std::to_string(x.cols()) + " samples (columns) but " +
                              std::to_string(y.size()) + " labels");
        if (has_targets() && targets.cols() != x.cols())
            throw shape_error(at + ": " + std::to_string(x.cols()) + " samples (columns) but targets for " +
                              std::to_string(targets.cols()));
        if (has_labels() && has_targets())
            throw argument_error(at +
                                 ": the data set holds both labels and real-valued targets; "
                                 "keep one of them");
        if (!feature_names.empty() && static_cast<Eigen::Index>(feature_names.size()) != x.rows())
            throw shape_error(at + ": " + std::to_string(feature_names.size()) + " feature names for " +
                              std::to_string(x.rows()) + " features (rows)");
    }
};

// A data set cut in two: the part to train on and the part held out to choose
// hyperparameters or to test (and to fit nothing on, the standardizer included).
template <std::floating_point Scalar>
struct Split {
    Dataset<Scalar> train;
    Dataset<Scalar> validation;
};

// by_class: each class goes to the held-out part in the proportion of the whole (for a data
// set with labels; real-valued targets and unlabelled samples are split plainly); none: a
// plain random split, whatever the targets.
enum class Stratify { by_class, none };

namespace detail {

// How many samples of each class go to the held-out part: k_c = ⌊V n_c / N⌋, and the V − Σ k_c
// left over to the classes with the largest remainders V n_c mod N (ties to the smaller class),
// in integers so that every platform splits alike. Σ k_c = V and k_c ≤ ⌈V n_c / N⌉ ≤ n_c.
inline std::vector<Eigen::Index> class_quotas(const std::vector<Eigen::Index>& counts, Eigen::Index held,
                                              Eigen::Index total) {
    std::vector<Eigen::Index> quota(counts.size()), remainder(counts.size()), order(counts.size());
    Eigen::Index given = 0;
    for (std::size_t c = 0; c < counts.size(); ++c) {
        // V n_c < N² fits in 64 bits for any N below 3·10⁹.
        quota[c] = held * counts[c] / total;
        remainder[c] = held * counts[c] % total;
        given += quota[c];
    }
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
        return remainder[static_cast<std::size_t>(a)] > remainder[static_cast<std::size_t>(b)];
    });
    for (std::size_t k = 0; given < held; ++k, ++given) ++quota[static_cast<std::size_t>(order[k])];
    return quota;
}

}  // namespace detail

// A random split: `validation_size` samples go to validation, the rest to train,
// each part keeping the data set's order; real-valued targets follow their samples.
// With labels and Stratify::by_class (the default) each class c of n_c samples gives
// about n_c V / N of them (exactly as detail::class_quotas says). The same seed gives
// the same split on every platform (descent::Engine and detail::shuffle are portable).
// requires: 0 < validation_size < data.size(); data.check_consistent(); labels ≥ 0.
// throws: argument_error, shape_error, label_error.
template <std::floating_point Scalar, std::integral Count>
Split<Scalar> split(const Dataset<Scalar>& data, Count validation_size, std::uint64_t seed,
                    Stratify stratify = Stratify::by_class) {
    data.check_consistent("split");
    const auto held = static_cast<Eigen::Index>(validation_size);
    if (std::cmp_less_equal(validation_size, 0) || held >= data.size())
        throw argument_error("split: validation size " + std::to_string(validation_size) +
                             " is outside [1, " + std::to_string(data.size() - 1) + "] for a data set of " +
                             std::to_string(data.size()) + " samples");
    std::vector<Eigen::Index> order(static_cast<std::size_t>(data.size()));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    Engine engine(seed);
    detail::shuffle(std::span<Eigen::Index>(order), engine);

    std::vector<Eigen::Index> validation, train;
    validation.reserve(static_cast<std::size_t>(held));
    train.reserve(order.size() - static_cast<std::size_t>(held));
    if (stratify == Stratify::by_class && data.has_labels()) {
        // The first k_c samples of class c in the shuffled order are held out.
        auto quota = detail::class_quotas(data.class_counts(), held, data.size());
        for (const Eigen::Index t : order) {
            auto& left = quota[static_cast<std::size_t>(data.y[static_cast<std::size_t>(t)])];
            (left > 0 ? validation : train).push_back(t);
            if (left > 0) --left;
        }
    } else {
        validation.assign(order.begin(), order.begin() + held);
        train.assign(order.begin() + held, order.end());
    }
    std::sort(validation.begin(), validation.end());
    std::sort(train.begin(), train.end());
    return {data.subset(train), data.subset(validation)};
}

// The same with a fraction f of the samples held out: V = ⌈f N⌉ (rounded up, as
// scikit-learn's test_size; a product off by a rounding error, 0.1 · 30 =
// 3.0000000000000004, counts as the integer it stands for).
// requires: 0 < f < 1, and 1 ≤ V < N.
// throws: argument_error, shape_error, label_error.
template <std::floating_point Scalar, std::floating_point Fraction>
Split<Scalar> split(const Dataset<Scalar>& data, Fraction validation_fraction, std::uint64_t seed,
                    Stratify stratify = Stratify::by_class) {
    const double f = static_cast<double>(validation_fraction);
    const auto n = static_cast<double>(data.size());
    if (!(f > 0 && f < 1))
        throw argument_error("split: validation fraction must be in (0, 1), got " + detail::number(f));
    const double product = f * n;
    const auto held = static_cast<Eigen::Index>(std::ceil(product - 1e-9 * std::max(1.0, product)));
    if (held < 1 || held >= data.size())
        throw argument_error("split: a validation fraction of " + detail::number(f) + " of " +
                             std::to_string(data.size()) + " samples leaves " +
                             (held < 1 ? "the validation part" : "the training part") + " empty");
    return split(data, held, seed, stratify);
}

}  // namespace descent
