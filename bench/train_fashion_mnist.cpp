// Trains the workload (workload.hpp) on Fashion-MNIST with descent::fit and reports,
// one `key=value` per line: the test accuracy, the training time and throughput,
// and the peak resident memory against what the data and the model need.
//
//   train_fashion_mnist [--epochs 5] [--batch 128] [--lr 0.1] [--seed 1] [--threads T]
//
// The recipe of bench/compare_pytorch.py's parity mode: plain SGD, the training set
// reshuffled each epoch, accuracy on the 10000 test images.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <descent/optimizers/sgd.hpp>
#include <descent/threads.hpp>
#include <descent/training/fit.hpp>
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
    double lr = 0.1;

    Options() {
        epochs = 5;
        threads = 0;  // descent::threads()'s default
    }
};

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App app(
        "Trains bench/workload.hpp's network on Fashion-MNIST (from DESCENT_FASHION_MNIST, else "
        "/usr/share/datasets/fashion-mnist) with descent::fit and prints key=value lines.",
        "train_fashion_mnist");
    examples::add_training_flags(app, options);
    app.get_option("--threads")->description("threads for the matrix products; 0: descent's default");
    app.add_option("--lr", options.lr, "learning rate α of plain SGD")->type_name("A")->capture_default_str();
    try {
        if (!examples::parse(app, argc, argv)) return 0;
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "train_fashion_mnist: error: %s\n", e.what());
        return 2;
    }
    if (options.threads > 0) descent::set_threads(options.threads);
    const double baseline = peak_rss_bytes();

    const auto& data = bench::fashion_mnist();
    bench::Net net(bench::sizes, options.seed);
    descent::Sgd<> sgd(options.lr);
    descent::FitOptions fit;
    fit.epochs = options.epochs;
    fit.batch_size = options.batch;
    fit.seed = options.seed;
    const auto start = std::chrono::steady_clock::now();
    const auto reports = descent::fit(net, sgd, data.train.x, data.train.y, fit);
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    const double after_training = peak_rss_bytes();
    // By chunks: Mlp::accuracy on all 10000 test images at once would grow every layer's
    // buffers to 10000 columns (about 60 MB), more than training at this batch size needs.
    double correct = 0;
    for (Eigen::Index first = 0; first < data.test.size(); first += 1000) {
        const Eigen::Index count = std::min<Eigen::Index>(1000, data.test.size() - first);
        correct +=
            net.accuracy(data.test.x.middleCols(first, count),
                         std::span<const int>(data.test.y)
                             .subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count))) *
            static_cast<double>(count);
    }
    const double accuracy = correct / static_cast<double>(data.test.size());

    const double data_bytes = static_cast<double>(data.train.x.size() + data.test.x.size()) * sizeof(float);
    const double model_bytes = static_cast<double>(net.parameters().size()) * sizeof(float);
    const double peak = peak_rss_bytes();
    for (const auto& r : reports)
        std::printf("epoch=%d loss=%.6f seconds=%.3f\n", r.epoch, r.loss, r.seconds);
    std::printf("test_accuracy=%.4f\n", accuracy);
    std::printf("train_seconds=%.3f\n", seconds.count());
    std::printf("samples_per_s=%.1f\n", static_cast<double>(options.epochs) *
                                            static_cast<double>(data.train.size()) / seconds.count());
    std::printf("threads=%d\n", descent::threads());
    std::printf("data_mb=%.1f\n", data_bytes / 1e6);
    std::printf("model_mb=%.2f\n", model_bytes / 1e6);
    std::printf("peak_rss_mb=%.1f\n", peak / 1e6);
    std::printf("peak_rss_after_training_mb=%.1f\n", after_training / 1e6);
    std::printf("baseline_rss_mb=%.1f\n", baseline / 1e6);
    // The target: the whole process's peak below 1.5 times the float data and the model.
    std::printf("peak_over_data_and_model=%.3f\n", peak / (data_bytes + model_bytes));
    return 0;
}
