#pragma once
// What the tests of checkpoints, the divergence guard and the strong guarantee share:
// a small problem that trains in microseconds, and bit-for-bit comparisons.
#include <Eigen/Core>
#include <cstring>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/optimizer_snapshot.hpp>
#include <vector>

#include "support.hpp"

namespace descent::test {

template <class T>
struct Blobs {
    Matrix<T> x;
    std::vector<int> y;
};

// Three overlapping blobs in the plane, centred on (0, 0), (1, 0) and (0, 1), classes in
// turn: close enough that a network keeps learning for many epochs, and that the
// validation loss eventually rises. Deterministic.
template <class T>
Blobs<T> blobs(Eigen::Index per_class, unsigned seed) {
    const double cx[3] = {0, 1, 0}, cy[3] = {0, 0, 1};
    const Eigen::Index n = 3 * per_class;
    const Eigen::MatrixXd u = pseudo_random<double>(2, n, seed);
    Blobs<T> d{Matrix<T>(2, n), std::vector<int>(static_cast<std::size_t>(n))};
    for (Eigen::Index t = 0; t < n; ++t) {
        const int c = static_cast<int>(t % 3);
        d.x(0, t) = static_cast<T>(cx[c] + 0.8 * u(0, t));
        d.x(1, t) = static_cast<T>(cy[c] + 0.8 * u(1, t));
        d.y[static_cast<std::size_t>(t)] = c;
    }
    return d;
}

template <class T>
using SmallNet = Mlp<Dense<Tanh, T>, Dense<Identity, T>>;

// The same bits, NaN included (== on Eigen vectors says NaN != NaN, and 0 == -0).
template <class A, class B>
bool same_bits(const A& a, const B& b) {
    using S = typename A::Scalar;
    static_assert(std::is_same_v<S, typename B::Scalar>);
    if (a.size() != b.size()) return false;
    const Eigen::Matrix<S, Eigen::Dynamic, 1> ea = a, eb = b;
    return a.size() == 0 ||
           std::memcmp(ea.data(), eb.data(), static_cast<std::size_t>(ea.size()) * sizeof(S)) == 0;
}

inline bool same_snapshot(const OptimizerSnapshot& a, const OptimizerSnapshot& b) {
    return a.optimizer == b.optimizer && a.regularizer == b.regularizer &&
           std::memcmp(&a.learning_rate, &b.learning_rate, sizeof(double)) == 0 && a.settings == b.settings &&
           a.steps == b.steps && same_bits(a.state, b.state);
}

}  // namespace descent::test
