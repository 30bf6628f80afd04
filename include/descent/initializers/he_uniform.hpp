#pragma once
#include <cmath>

#include "initializer.hpp"

namespace descent {

// W(k) ~ U[-b, b], b = sqrt(6 / H_(k-1)) (He et al., 2015): variance 2 / H_(k-1),
// which keeps the scale of h(k) through ReLU, which zeroes half of a(k).
struct HeUniform {
    static constexpr const char* name = "he_uniform";
    template <class Derived>
    static void fill(Eigen::MatrixBase<Derived>&& w, Engine& engine) { fill(w, engine); }
    template <class Derived>
    static void fill(Eigen::MatrixBase<Derived>& w, Engine& engine) {
        const double b = std::sqrt(6.0 / static_cast<double>(w.cols()));
        detail::fill_uniform(w, b, engine);
    }
};

}  // namespace descent
