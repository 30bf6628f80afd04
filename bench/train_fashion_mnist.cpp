// Trains the workload (workload.hpp) on Fashion-MNIST with descent::fit and reports,
// one `key=value` per line: the test accuracy, the training time and throughput,
// and the peak resident memory against what the data and the model need.
//
//   train_fashion_mnist [--epochs 5] [--batch 128] [--lr A] [--seed 1] [--threads T]
//                       [--optimizer sgd|momentum|adam] [--network] [--samples N]
//
// The recipe of bench/compare_pytorch.py's parity mode: plain SGD, the training set
// reshuffled each epoch, accuracy on the 10000 test images. fit as users call it, so that
// samples_per_s (samples trained / seconds in fit) is the speed a user gets: every step
// guarded, no validation set. --samples trains on the first N images only, so that a
// fixed amount of work (batch 1 above all) is timed in seconds; --network trains the same
// layers as a run-time descent::Network, from the same θ.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <descent/network.hpp>
#include <descent/optimizers/adam.hpp>
#include <descent/optimizers/momentum.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/threads.hpp>
#include <descent/training/fit.hpp>
#include <optional>
#include <string>

#include "common/flags.hpp"
#include "workload.hpp"

namespace {

// The peak resident set of this process so far, in bytes (Linux reports KiB).
double peak_rss_bytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) * 1024.0;
}

struct Options : examples::TrainingFlags {
    std::optional<double> lr;  // unset: default_learning_rate
    std::string optimizer = "sgd";
    bool network = false;
    Eigen::Index samples = 0;  // 0: the whole training set

    Options() {
        epochs = 5;
        threads = 0;  // descent::threads()'s default
    }
};

inline constexpr double momentum_beta = 0.9;

// α when --lr is not given: the course's α for plain SGD (workload.hpp); for momentum the
// same step once the velocity has built up, α / (1 − β) being the step of a steady gradient;
// Adam's own default, 0.001, whose step is α whatever the gradient's scale.
double default_learning_rate(const std::string& optimizer, Eigen::Index batch) {
    if (optimizer == "momentum") return bench::learning_rate(batch) * (1 - momentum_beta);
    if (optimizer == "adam") return 0.001;
    return bench::learning_rate(batch);
}

// The fraction of the test images net classifies right (net is not const: its buffers serve
// the forward pass). By chunks: accuracy on all 10000 at once would grow every layer's
// buffers to 10000 columns (about 60 MB), more than training at this batch size needs.
template <class Net>
double test_accuracy(Net& net, const descent::Dataset<float>& test) {
    double correct = 0;
    for (Eigen::Index first = 0; first < test.size(); first += 1000) {
        const Eigen::Index count = std::min<Eigen::Index>(1000, test.size() - first);
        correct += net.accuracy(test.x.middleCols(first, count),
                                std::span<const int>(test.y).subspan(static_cast<std::size_t>(first),
                                                                     static_cast<std::size_t>(count))) *
                   static_cast<double>(count);
    }
    return correct / static_cast<double>(test.size());
}

// Trains net with optimizer on the first `samples` training images and prints the report.
template <class Net, class Opt>
void train(Net& net, Opt& optimizer, const Options& options, Eigen::Index samples, double baseline) {
    const auto& data = bench::fashion_mnist();
    descent::FitOptions fit;
    fit.epochs = options.epochs;
    fit.batch_size = options.batch;
    fit.seed = options.seed;
    const auto x = data.train.x.leftCols(samples);  // a view: nothing is copied
    const auto y = std::span<const int>(data.train.y).first(static_cast<std::size_t>(samples));
    const auto start = std::chrono::steady_clock::now();
    const auto reports = descent::fit(net, optimizer, x, y, fit);
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    const double after_training = peak_rss_bytes();
    const double accuracy = test_accuracy(net, data.test);

    const double data_bytes = static_cast<double>(data.train.x.size() + data.test.x.size()) * sizeof(float);
    const double model_bytes = static_cast<double>(net.parameters().size()) * sizeof(float);
    const double peak = peak_rss_bytes();
    for (const auto& r : reports)
        std::printf("epoch=%d loss=%.6f seconds=%.3f\n", r.epoch, r.loss, r.seconds);
    std::printf("model=%s\n", options.network ? "network" : "mlp");
    std::printf("optimizer=%s\n", options.optimizer.c_str());
    std::printf("lr=%g\n", optimizer.learning_rate());
    std::printf("batch=%ld\n", static_cast<long>(options.batch));
    std::printf("samples=%ld\n", static_cast<long>(samples));
    std::printf("test_accuracy=%.4f\n", accuracy);
    std::printf("train_seconds=%.3f\n", seconds.count());
    // Every epoch run trains on every sample once.
    std::printf("samples_per_s=%.1f\n",
                static_cast<double>(reports.size()) * static_cast<double>(samples) / seconds.count());
    std::printf("threads=%d\n", descent::threads());
    std::printf("data_mb=%.1f\n", data_bytes / 1e6);
    std::printf("model_mb=%.2f\n", model_bytes / 1e6);
    std::printf("peak_rss_mb=%.1f\n", peak / 1e6);
    std::printf("peak_rss_after_training_mb=%.1f\n", after_training / 1e6);
    std::printf("baseline_rss_mb=%.1f\n", baseline / 1e6);
    // The target: the whole process's peak below 1.5 times the float data and the model.
    std::printf("peak_over_data_and_model=%.3f\n", peak / (data_bytes + model_bytes));
}

template <class Net>
void train_with_optimizer(Net& net, const Options& options, Eigen::Index samples, double baseline) {
    const double lr = options.lr.value_or(default_learning_rate(options.optimizer, options.batch));
    if (options.optimizer == "momentum") {
        descent::Momentum<> momentum(lr, 0.0, {}, momentum_beta);
        train(net, momentum, options, samples, baseline);
    } else if (options.optimizer == "adam") {
        descent::Adam<> adam(lr);
        train(net, adam, options, samples, baseline);
    } else {
        descent::Sgd<> sgd(lr);
        train(net, sgd, options, samples, baseline);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App app(
        "Trains bench/workload.hpp's network on Fashion-MNIST (from DESCENT_FASHION_MNIST, else "
        "/usr/share/datasets/fashion-mnist) with descent::fit and prints key=value lines.",
        "train_fashion_mnist");
    examples::add_training_flags(app, options);
    app.get_option("--threads")->description("threads for the matrix products; 0: descent's default");
    app.add_option("--optimizer", options.optimizer, "sgd, momentum (classical, β = 0.9) or adam")
        ->type_name("NAME")
        ->check(CLI::IsMember({"sgd", "momentum", "adam"}))
        ->capture_default_str();
    app.add_option("--lr", options.lr,
                   "learning rate α; by default 0.01 at batch 1 and 0.1 otherwise for sgd, a tenth of "
                   "that for momentum, 0.001 for adam")
        ->type_name("A");
    app.add_flag("--network", options.network,
                 "train a run-time descent::Network of the same layers and initial θ, not the typed Mlp");
    app.add_option("--samples", options.samples, "train on the first N training images only; 0: all 60000")
        ->type_name("N")
        ->check(examples::not_negative)
        ->capture_default_str();
    try {
        if (!examples::parse(app, argc, argv)) return 0;
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "train_fashion_mnist: error: %s\n", e.what());
        return 2;
    }
    if (options.threads > 0) descent::set_threads(options.threads);
    const double baseline = peak_rss_bytes();

    const auto& data = bench::fashion_mnist();
    if (options.samples > data.train.size()) {
        std::fprintf(stderr, "train_fashion_mnist: error: --samples %ld, but the training set has %ld\n",
                     static_cast<long>(options.samples), static_cast<long>(data.train.size()));
        return 2;
    }
    const Eigen::Index samples = options.samples > 0 ? options.samples : data.train.size();
    if (options.network) {
        descent::Network<float> net(bench::network_spec(), options.seed);
        train_with_optimizer(net, options, samples, baseline);
    } else {
        bench::Net net(bench::sizes, options.seed);
        train_with_optimizer(net, options, samples, baseline);
    }
    return 0;
}
