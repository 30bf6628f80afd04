#pragma once
#include "regularizer.hpp"

namespace descent {

// Ω = 0.
struct NoRegularization {
    static constexpr const char* name = "none";
    template <class W>
    double value(const W&) const { return 0.0; }
    template <class W, class G, class S>
    void add_gradient(const W&, S, G&&) const {}
};

}  // namespace descent
