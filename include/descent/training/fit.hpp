#pragma once
// The training loop: N epochs; each epoch visits every example once, in an
// order reshuffled from the seeded engine, by minibatches of batch_size
// (batch_size = 1 is the course's per-example SGD).
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "../detail/random.hpp"
#include "../detail/validate.hpp"
#include "../detail/workspace.hpp"
#include "../error.hpp"

namespace descent {

// What one epoch did, handed to FitOptions::on_epoch.
struct EpochReport {
    int epoch;           // 1-based
    double loss;         // mean over the epoch's batches of l + λΩ, before each step
    double seconds;      // wall time of the epoch
};

struct FitOptions {
    int epochs = 10;
    Eigen::Index batch_size = 32;
    std::uint64_t seed = 0;  // of the shuffling engine; the weights have their own
    std::function<void(const EpochReport&)> on_epoch;  // optional
};

namespace detail {

// Copies the samples order[first, first + count) into the front of the batch buffers.
template <class Matrix>
void gather(const Eigen::Ref<const Matrix>& x, std::span<const int> labels, std::span<const Eigen::Index> order,
            Eigen::Map<Matrix> xb, std::span<int> yb) {
    for (std::size_t j = 0; j < order.size(); ++j) {
        xb.col(static_cast<Eigen::Index>(j)) = x.col(order[j]);
        yb[j] = labels[static_cast<std::size_t>(order[j])];
    }
}

}  // namespace detail

// Trains net with optimizer on (x, labels), one sample per column of x.
// throws: argument_error for epochs < 1 or batch_size < 1, and the errors of
//         Mlp for bad data, before any step is taken.
// returns: one report per epoch.
template <class Net, class Opt>
std::vector<EpochReport> fit(Net& net, Opt& optimizer, const Eigen::Ref<const typename Net::Matrix>& x,
                             std::span<const int> labels, const FitOptions& options) {
    using Matrix = typename Net::Matrix;
    if (options.epochs < 1)
        throw argument_error("fit: epochs must be at least 1, got " + std::to_string(options.epochs));
    if (options.batch_size < 1)
        throw argument_error("fit: batch_size must be at least 1, got " + std::to_string(options.batch_size));
    detail::check_batch(x, net.inputs(), "fit");
    detail::check_labels(labels, x.cols(), net.classes(), "fit");

    const Eigen::Index n = x.cols();
    const Eigen::Index batch = std::min(options.batch_size, n);
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    detail::Workspace<typename Net::Scalar> xb_storage;
    std::vector<int> yb(static_cast<std::size_t>(batch));
    xb_storage.shape(x.rows(), batch);
    Engine engine(options.seed);

    std::vector<EpochReport> reports;
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        detail::shuffle(std::span(order), engine);
        double total = 0;
        std::size_t steps = 0;
        for (Eigen::Index first = 0; first < n; first += batch) {
            const Eigen::Index count = std::min(batch, n - first);
            auto xb = xb_storage.shape(x.rows(), count);
            const auto ids = std::span<const Eigen::Index>(order).subspan(static_cast<std::size_t>(first),
                                                                           static_cast<std::size_t>(count));
            const auto yview = std::span(yb).first(static_cast<std::size_t>(count));
            detail::gather<Matrix>(x, labels, ids, xb, yview);
            total += optimizer.step(net, xb, yview);
            ++steps;
        }
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
        reports.push_back({epoch, total / static_cast<double>(steps), elapsed.count()});
        if (options.on_epoch) options.on_epoch(reports.back());
    }
    return reports;
}

}  // namespace descent
