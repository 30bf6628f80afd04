#pragma once
#include <type_traits>

#include "regularizer.hpp"

namespace descent {

// Ω(W) = Σ_ij |W_ij|, ∇Ω(W) = sign(W), taking the subgradient 0 at W_ij = 0.
struct L1 {
    static constexpr const char* name = "l1";
    template <class W>
    double value(const W& w) const { return static_cast<double>(w.template lpNorm<1>()); }
    template <class W, class G, class S>
    void add_gradient(const W& w, S lambda, G&& g) const {
        using T = typename std::decay_t<G>::Scalar;
        g += static_cast<T>(lambda) * w.cwiseSign();  // Eigen's sign(0) is 0
    }
};

}  // namespace descent
