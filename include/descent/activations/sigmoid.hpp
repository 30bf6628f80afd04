#pragma once
#include "activation.hpp"

namespace descent {

// g(a) = 1 / (1 + exp(-a)), g'(a) = g(a) (1 - g(a)).
struct Sigmoid {
    static constexpr const char* name = "sigmoid";
    template <class D>
    static auto value(const Eigen::ArrayBase<D>& a) { return a.logistic(); }
    template <class DA, class DH>
    static auto derivative(const Eigen::ArrayBase<DA>&, const Eigen::ArrayBase<DH>& h) {
        return h * (typename DH::Scalar(1) - h);
    }
};

}  // namespace descent
