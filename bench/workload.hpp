#pragma once
// The workload every figure of descent's benchmarks is measured on, and the one
// bench/compare_pytorch.py runs in PyTorch too:
//   Fashion-MNIST's 60000 training images, 784 floats in [0, 1] each, in memory;
//   an MLP 784-512-256-10, ReLU, softmax-cross-entropy; plain SGD.
// The data come from DESCENT_FASHION_MNIST, else /usr/share/datasets/fashion-mnist.
#include <array>
#include <cstdlib>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/data/fashion_mnist.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <filesystem>
#include <span>
#include <string>

namespace bench {

using Net = descent::Mlp<descent::Dense<descent::Relu, float>, descent::Dense<descent::Relu, float>,
                         descent::Dense<descent::Identity, float>>;
using Matrix = Net::Matrix;

inline constexpr std::array<Eigen::Index, 4> sizes{784, 512, 256, 10};  // H_0 .. H_(L+1)

// Net as descent::Network's spec, "784-512:relu-256:relu-10": the same layers chosen at run
// time, which from the same seed start from, and train to, the same θ bit for bit.
inline std::string network_spec() {
    std::string spec = std::to_string(sizes.front());
    for (std::size_t k = 1; k < sizes.size(); ++k) {
        spec += '-';
        spec += std::to_string(sizes[k]);
        if (k + 1 < sizes.size()) spec += ":relu";
    }
    return spec;
}

// The course's learning rates for this workload: 0.01 sample by sample, 0.1 by minibatches.
inline double learning_rate(Eigen::Index batch) {
    return batch == 1 ? 0.01 : 0.1;
}

inline std::filesystem::path data_directory() {
    const char* dir = std::getenv("DESCENT_FASHION_MNIST");
    return dir != nullptr ? dir : "/usr/share/datasets/fashion-mnist";
}

// Loaded once per process.
inline const descent::FashionMnist<float>& fashion_mnist() {
    static const auto data = descent::load_fashion_mnist<float>(data_directory());
    return data;
}

// Multiply-adds of one forward pass per sample: Σ_k H_k H_(k-1).
inline double forward_macs_per_sample() {
    double macs = 0;
    for (std::size_t k = 1; k < sizes.size(); ++k) macs += double(sizes[k]) * double(sizes[k - 1]);
    return macs;
}

// Flops of the matrix products, which are all but a sliver of the arithmetic:
// forward 2 Σ_k H_k H_(k-1) B; backward twice that (∇W(k) and ∇h(k-1) per layer),
// less layer 1's ∇h(0), which nobody needs.
inline double forward_flops(Eigen::Index batch) {
    return 2 * forward_macs_per_sample() * double(batch);
}
inline double backward_flops(Eigen::Index batch) {
    return 2 * forward_flops(batch) - 2 * double(sizes[1]) * double(sizes[0]) * double(batch);
}
inline double step_flops(Eigen::Index batch) {
    return forward_flops(batch) + backward_flops(batch);
}

// Consecutive batches of the training set, wrapping around: the columns are contiguous,
// so a batch is a view, with no copy.
class Batches {
public:
    // Loads the data now, so that no timed loop pays for it.
    explicit Batches(Eigen::Index batch) : batch_(batch) { fashion_mnist(); }
    template <class F>
    void next(F&& use) {
        const auto& train = fashion_mnist().train;
        if (first_ + batch_ > train.size()) first_ = 0;
        use(train.x.middleCols(first_, batch_),
            std::span<const int>(train.y).subspan(static_cast<std::size_t>(first_),
                                                  static_cast<std::size_t>(batch_)));
        first_ += batch_;
    }

private:
    Eigen::Index batch_;
    Eigen::Index first_ = 0;
};

}  // namespace bench
