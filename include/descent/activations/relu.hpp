#pragma once
#include "activation.hpp"

namespace descent {

// g(a) = max(0, a), g'(a) = 1 if a > 0 else 0 (the subgradient 0 at the kink).
struct Relu {
    static constexpr const char* name = "relu";
    template <class D>
    static auto value(const Eigen::ArrayBase<D>& a) { return a.max(typename D::Scalar(0)); }
    template <class DA, class DH>
    static auto derivative(const Eigen::ArrayBase<DA>& a, const Eigen::ArrayBase<DH>&) {
        using S = typename DA::Scalar;
        return (a > S(0)).template cast<S>();
    }
};

}  // namespace descent
