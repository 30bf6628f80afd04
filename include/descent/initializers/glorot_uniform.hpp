#pragma once
#include <cmath>

#include "initializer.hpp"

namespace descent {

// W(k) ~ U[-b, b], b = sqrt(6) / sqrt(H_k + H_(k-1)) (Glorot & Bengio, 2010):
// the course's choice for sigmoid and tanh.
struct GlorotUniform {
    static constexpr const char* name = "glorot_uniform";
    template <class Derived>
    static void fill(Eigen::MatrixBase<Derived>&& w, Engine& engine) { fill(w, engine); }
    template <class Derived>
    static void fill(Eigen::MatrixBase<Derived>& w, Engine& engine) {
        const double b = std::sqrt(6.0) / std::sqrt(static_cast<double>(w.rows() + w.cols()));
        detail::fill_uniform(w, b, engine);
    }
};

}  // namespace descent
