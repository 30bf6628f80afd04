#pragma once
#include "activation.hpp"

namespace descent {

// g(a) = tanh(a), g'(a) = 1 - g(a)^2.
struct Tanh {
    static constexpr const char* name = "tanh";
    template <class D>
    static auto value(const Eigen::ArrayBase<D>& a) { return a.tanh(); }
    template <class DA, class DH>
    static auto derivative(const Eigen::ArrayBase<DA>&, const Eigen::ArrayBase<DH>& h) {
        return typename DH::Scalar(1) - h.square();
    }
};

}  // namespace descent
