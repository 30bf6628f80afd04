#pragma once
#include <type_traits>

#include "regularizer.hpp"

namespace descent {

// Ω(W) = Σ_ij W_ij², ∇Ω(W) = 2W (weight decay).
struct L2 {
    static constexpr const char* name = "l2";
    template <class W>
    double value(const W& w) const { return static_cast<double>(w.squaredNorm()); }
    template <class W, class G, class S>
    void add_gradient(const W& w, S lambda, G&& g) const {
        using T = typename std::decay_t<G>::Scalar;
        g += (T(2) * static_cast<T>(lambda)) * w;
    }
};

}  // namespace descent
