// The yardstick for fit's speed: the same workload (bench/workload.hpp) trained by a
// straightforward loop of plain Eigen, as one would write it by hand in an afternoon.
// Column-major, one sample per column; products through noalias(); the fused softmax
// gradient ∇a(L+1) = f(x) − e(y); the SGD update folded into the weight-gradient product,
// W(k) −= (α/B) ∇a(k) h(k−1)ᵀ. No guard, no checks, no shuffling: consecutive batches.
// Threads are Eigen's own (OpenMP, when the build has it).
//
//   build/bench/eigen_reference --epochs 2 --batch 128 --threads 1 [--samples N]
// prints samples_per_second= (the steps only) and test_accuracy=. --samples trains on the
// first N images only (0: all), as train_fashion_mnist's, for the same work in both.
#include <Eigen/Core>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "workload.hpp"

namespace {

using Matrix = Eigen::MatrixXf;
using Vector = Eigen::VectorXf;

struct Layer {
    Matrix W;
    Vector b;
    Matrix a, h, grad;  // a(k), h(k), ∇a(k) of the current batch
};

int flag(int argc, char** argv, const char* name, int fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
    return fallback;
}

}  // namespace

int main(int argc, char** argv) {
    const int epochs = flag(argc, argv, "--epochs", 2);
    const Eigen::Index batch = flag(argc, argv, "--batch", 128);
#ifdef _OPENMP
    Eigen::setNbThreads(flag(argc, argv, "--threads", 1));
#endif
    const float alpha = static_cast<float>(bench::learning_rate(batch));
    const auto& data = bench::fashion_mnist();
    const Matrix& x = data.train.x;
    const std::vector<int>& y = data.train.y;
    const int asked = flag(argc, argv, "--samples", 0);
    const Eigen::Index n = asked > 0 && asked < x.cols() ? asked : x.cols();

    // He-uniform weights from Eigen's own generator, biases 0.
    std::srand(1);
    std::vector<Layer> layers(bench::sizes.size() - 1);
    for (std::size_t k = 0; k < layers.size(); ++k) {
        const auto fan_in = bench::sizes[k];
        const float bound = std::sqrt(6.0f / static_cast<float>(fan_in));
        layers[k].W = Matrix::Random(bench::sizes[k + 1], fan_in) * bound;
        layers[k].b = Vector::Zero(bench::sizes[k + 1]);
    }

    auto forward = [&](const Eigen::Ref<const Matrix>& input) {
        const Matrix* h = nullptr;
        for (std::size_t k = 0; k < layers.size(); ++k) {
            auto& l = layers[k];
            if (k == 0)
                l.a.noalias() = l.W * input;
            else
                l.a.noalias() = l.W * *h;
            l.a.colwise() += l.b;
            if (k + 1 < layers.size()) l.h = l.a.cwiseMax(0.0f);  // ReLU
            h = &l.h;
        }
        return &layers.back().a;
    };

    const auto start = std::chrono::steady_clock::now();
    Eigen::Index samples = 0;
    for (int epoch = 0; epoch < epochs; ++epoch) {
        for (Eigen::Index first = 0; first + batch <= n; first += batch) {
            const auto input = x.middleCols(first, batch);
            const Matrix& logits = *forward(input);
            // ∇a(L+1) = (f(x) − e(y)) / B, f = softmax, stably.
            Matrix& g = layers.back().grad;
            g = (logits.rowwise() - logits.colwise().maxCoeff()).array().exp();
            g.array().rowwise() /= g.colwise().sum().array();
            for (Eigen::Index j = 0; j < batch; ++j) g(y[static_cast<std::size_t>(first + j)], j) -= 1.0f;
            g /= static_cast<float>(batch);
            for (std::size_t k = layers.size(); k-- > 0;) {
                auto& l = layers[k];
                if (k > 0) {  // ∇a(k−1) = (W(k)ᵀ ∇a(k)) ⊙ g'(a(k−1)), with W(k) before its update
                    auto& below = layers[k - 1];
                    below.grad.noalias() = l.W.transpose() * l.grad;
                    below.grad.array() *= (below.a.array() > 0.0f).cast<float>();
                }
                if (k == 0)
                    l.W.noalias() -= alpha * l.grad * input.transpose();
                else
                    l.W.noalias() -= alpha * l.grad * layers[k - 1].h.transpose();
                l.b.noalias() -= alpha * l.grad.rowwise().sum();
            }
            samples += batch;
        }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    Eigen::Index correct = 0;
    const Matrix& logits = *forward(data.test.x);
    for (Eigen::Index j = 0; j < logits.cols(); ++j) {
        Eigen::Index c = 0;
        logits.col(j).maxCoeff(&c);
        correct += c == data.test.y[static_cast<std::size_t>(j)];
    }
    std::printf("samples_per_second=%.0f\nseconds=%.3f\ntest_accuracy=%.4f\n",
                static_cast<double>(samples) / seconds, seconds,
                static_cast<double>(correct) / static_cast<double>(logits.cols()));
    return 0;
}
