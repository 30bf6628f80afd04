#pragma once
// What the tests share: the Catch2 shim, tolerances per scalar type and small data.
#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <vector>

#include "catch.hpp"

namespace descent::test {

// Relative tolerance for a comparison of values computed two ways in type T.
template <class T>
constexpr double tolerance() {
    return std::is_same_v<T, float> ? 1e-5 : 1e-12;
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

}  // namespace descent::test
