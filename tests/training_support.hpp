#pragma once
// What the tests of checkpoints, the divergence guard and the strong guarantee share besides
// support.hpp's fixtures (SmallNet, blobs): bit-for-bit comparisons of training state.
#include <Eigen/Core>
#include <cstring>
#include <descent/optimizers/optimizer_snapshot.hpp>

#include "support.hpp"

namespace descent::test {

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
