#pragma once
// A labelled data set in the layout the networks take: one sample per column.
//
//   auto [train, validation] = descent::split(data, 10000, seed);
//   descent::fit(net, sgd, train.x, train.y, options);
#include <Eigen/Core>
#include <algorithm>
#include <concepts>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "../detail/huge_pages.hpp"
#include "../detail/random.hpp"
#include "../error.hpp"

namespace descent {

template <std::floating_point Scalar>
struct Dataset {
    using scalar_type = Scalar;
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

    Matrix x;            // D x N: x.col(t) is sample t's features
    std::vector<int> y;  // N labels: y[t] is sample t's class

    Eigen::Index size() const { return x.cols(); }
    Eigen::Index features() const { return x.rows(); }

    // The samples at `indices`, in that order.
    // requires: x.cols() == y.size(); every index in [0, size()).
    // throws: shape_error, argument_error.
    Dataset subset(std::span<const Eigen::Index> indices) const {
        check_consistent("Dataset::subset");
        Dataset part{Matrix(x.rows(), static_cast<Eigen::Index>(indices.size())), {}};
        detail::advise_huge_pages(part.x.data(), static_cast<std::size_t>(part.x.size()) * sizeof(Scalar));
        part.y.reserve(indices.size());
        for (std::size_t k = 0; k < indices.size(); ++k) {
            const Eigen::Index t = indices[k];
            if (t < 0 || t >= size())
                throw argument_error("Dataset::subset: index " + std::to_string(t) + " is outside [0, " +
                                     std::to_string(size()) + ")");
            part.x.col(static_cast<Eigen::Index>(k)) = x.col(t);
            part.y.push_back(y[static_cast<std::size_t>(t)]);
        }
        return part;
    }

    // throws: shape_error when there is not one label per sample.
    void check_consistent(const char* where) const {
        if (static_cast<std::size_t>(x.cols()) != y.size())
            throw shape_error(std::string(where) + ": " + std::to_string(x.cols()) +
                              " samples (columns) but " + std::to_string(y.size()) + " labels");
    }
};

// A data set cut in two: the part to train on and the part held out to choose
// hyperparameters (and to fit nothing on, the standardizer included).
template <std::floating_point Scalar>
struct Split {
    Dataset<Scalar> train;
    Dataset<Scalar> validation;
};

// A random split: `validation_size` samples go to validation, the rest to
// train, each part keeping the data set's order. The same seed gives the same
// split on every platform (descent::Engine and detail::shuffle are portable).
// requires: 0 < validation_size < data.size(); one label per sample.
// throws: argument_error, shape_error.
template <std::floating_point Scalar>
Split<Scalar> split(const Dataset<Scalar>& data, Eigen::Index validation_size, std::uint64_t seed) {
    data.check_consistent("split");
    if (validation_size <= 0 || validation_size >= data.size())
        throw argument_error("split: validation size " + std::to_string(validation_size) +
                             " is outside [1, " + std::to_string(data.size() - 1) + "] for a data set of " +
                             std::to_string(data.size()) + " samples");
    std::vector<Eigen::Index> order(static_cast<std::size_t>(data.size()));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    Engine engine(seed);
    detail::shuffle(std::span<Eigen::Index>(order), engine);

    const auto cut = order.begin() + validation_size;
    std::sort(order.begin(), cut);
    std::sort(cut, order.end());
    const std::span<const Eigen::Index> all(order);
    return {data.subset(all.subspan(static_cast<std::size_t>(validation_size))),
            data.subset(all.first(static_cast<std::size_t>(validation_size)))};
}

}  // namespace descent
