#pragma once
// What the tests share: the Catch2 shim, tolerances per scalar type, small data and networks
// (the 2-2-2 network worked out by hand, the blobs), and skipping a test that cannot run here.
// training_support.hpp adds bit-for-bit comparisons of training state, file_support.hpp
// temporary directories and error messages.
#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "catch.hpp"

namespace descent::test {

// Relative tolerance for a comparison of values computed two ways in type T.
template <class T>
constexpr double tolerance() {
    return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}

// actual is expected up to tolerance<T>(), relative above 1 and absolute below.
template <class T>
void check_close(T actual, double expected) {
    CHECK_THAT(static_cast<double>(actual),
               Catch::Matchers::WithinAbs(expected, tolerance<T>() * (1 + std::abs(expected))));
}

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

// Deterministic, uniform in [-1, 1): tests must not depend on Eigen's Random().
template <class T>
Matrix<T> pseudo_random(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
    std::uint64_t s = 0x9E3779B97F4A7C15ull * (seed + 1);
    Matrix<T> m(rows, cols);
    for (Eigen::Index j = 0; j < cols; ++j)
        for (Eigen::Index i = 0; i < rows; ++i) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            m(i, j) = static_cast<T>(static_cast<double>(s >> 11) * 0x1.0p-52 - 1.0);
        }
    return m;
}

inline std::vector<int> labels_cycling(Eigen::Index n, int classes) {
    std::vector<int> y(static_cast<std::size_t>(n));
    for (std::size_t t = 0; t < y.size(); ++t) y[t] = static_cast<int>(t) % classes;
    return y;
}

// The status with which a test that cannot run here ends: CTest shows it as skipped, never as
// passed (tests/CMakeLists.txt gives every test SKIP_RETURN_CODE 77, and catch_main.cpp makes
// a failure exit with 1, so that 77 means nothing else).
inline constexpr int skip_return_code = 77;

// Ends the test as skipped, saying why on stderr. Call it before the test creates anything:
// the process ends here, without unwinding.
[[noreturn]] inline void skip(const std::string& why) {
    std::fflush(stdout);
    std::fprintf(stderr, "skipped: %s\n", why.c_str());
    std::fflush(stderr);
    std::_Exit(skip_return_code);
}

// Where Fashion-MNIST's four .gz files are: $DESCENT_FASHION_MNIST, else Debian's
// dataset-fashion-mnist.
inline std::filesystem::path fashion_mnist_dir() {
    const char* dir = std::getenv("DESCENT_FASHION_MNIST");
    return dir != nullptr ? dir : "/usr/share/datasets/fashion-mnist";
}

// Skips the test unless Fashion-MNIST is there.
inline void require_fashion_mnist() {
    if (!std::filesystem::exists(fashion_mnist_dir() / "train-images-idx3-ubyte.gz"))
        skip("Fashion-MNIST not found in " + fashion_mnist_dir().string() +
             " (install dataset-fashion-mnist or set DESCENT_FASHION_MNIST)");
}

// The 2-2-2 network worked out by hand in test_mlp.cpp (forward pass, ∇θ l) and used again
// in test_sgd.cpp:
//   W(1) = [0.5 -1; 1 0.25], b(1) = (0.5, -0.5), W(2) = [1 -1; 2 0.5], b(2) = (0.25, -0.25)
template <class T>
using HandNet = Mlp<Dense<Relu, T>, Dense<Identity, T>>;

template <class T>
HandNet<T> hand_net() {
    HandNet<T> net({2, 2, 2});
    // clang-format off
    net.template layer<0>().W() << 0.5, -1,
                                   1, 0.25;
    // clang-format on
    net.template layer<0>().b() << 0.5, -0.5;
    // clang-format off
    net.template layer<1>().W() << 1, -1,
                                   2, 0.5;
    // clang-format on
    net.template layer<1>().b() << 0.25, -0.25;
    return net;
}

// Its batch: two samples, one per column, x_1 = (1, 2), x_2 = (0, -2), labels 0 and 1.
template <class T>
Matrix<T> hand_x() {
    Matrix<T> x(2, 2);
    // clang-format off
    x << 1, 0,
         2, -2;
    // clang-format on
    return x;
}
inline const std::vector<int> hand_y{0, 1};

// σ(t) = 1 / (1 + e^-t): f of the hand-worked network is (σ(a_1 - a_2), σ(a_2 - a_1)).
inline double sigma(double t) {
    return 1 / (1 + std::exp(-t));
}

// θ and ∇θ of a network of doubles, to show that a refused call changed neither.
template <class Net>
struct Snapshot {
    Eigen::VectorXd theta, grad;
    explicit Snapshot(const Net& net) : theta(net.parameters()), grad(net.gradient()) {}
    bool same_as(const Net& net) const { return net.parameters() == theta && net.gradient() == grad; }
};

// A network small enough to train in microseconds, for tests of the training loop.
template <class T>
using SmallNet = Mlp<Dense<Tanh, T>, Dense<Identity, T>>;

// Inputs, one sample per column, and their labels.
template <class T>
struct Samples {
    Matrix<T> x;
    std::vector<int> y;
};

// Three overlapping blobs in the plane, centred on (0, 0), (1, 0) and (0, 1), classes in
// turn: close enough that a network keeps learning for many epochs, and that the
// validation loss eventually rises. Deterministic.
template <class T>
Samples<T> blobs(Eigen::Index per_class, unsigned seed) {
    const double cx[3] = {0, 1, 0}, cy[3] = {0, 0, 1};
    const Eigen::Index n = 3 * per_class;
    const Eigen::MatrixXd u = pseudo_random<double>(2, n, seed);
    Samples<T> d{Matrix<T>(2, n), std::vector<int>(static_cast<std::size_t>(n))};
    for (Eigen::Index t = 0; t < n; ++t) {
        const int c = static_cast<int>(t % 3);
        d.x(0, t) = static_cast<T>(cx[c] + 0.8 * u(0, t));
        d.x(1, t) = static_cast<T>(cy[c] + 0.8 * u(1, t));
        d.y[static_cast<std::size_t>(t)] = c;
    }
    return d;
}

// Three well separated blobs, centred on (0, 0), (3, 0) and (0, 3), classes in turn. Each
// coordinate adds 0.5 (u1 + u2 + u3), u uniform in [-1, 1): bell-shaped, standard deviation
// 0.5, so the blobs are six standard deviations apart. Deterministic.
template <class T>
Samples<T> separated_blobs(Eigen::Index per_class, unsigned seed) {
    const double cx[3] = {0, 3, 0}, cy[3] = {0, 0, 3};
    const Eigen::Index n = 3 * per_class;
    const Eigen::MatrixXd u = pseudo_random<double>(6, n, seed);
    Samples<T> d{Matrix<T>(2, n), std::vector<int>(static_cast<std::size_t>(n))};
    for (Eigen::Index t = 0; t < n; ++t) {
        const int c = static_cast<int>(t % 3);
        d.x(0, t) = static_cast<T>(cx[c] + 0.5 * (u(0, t) + u(1, t) + u(2, t)));
        d.x(1, t) = static_cast<T>(cy[c] + 0.5 * (u(3, t) + u(4, t) + u(5, t)));
        d.y[static_cast<std::size_t>(t)] = c;
    }
    return d;
}

}  // namespace descent::test
