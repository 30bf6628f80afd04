#pragma once
// The Activation concept: a stateless policy g with its derivative g'.
//
// g and g' work on whole Eigen arrays so that Eigen can vectorise them; no
// virtual call and no per-element function pointer.
#include <Eigen/Core>
#include <concepts>

namespace descent {

namespace detail {
using ProbeArray = Eigen::ArrayXXd;
}

// requires: A::name, A::value(a) -> h = g(a), and A::derivative(a, h) -> g'(a)
//           (h is passed too, because sigmoid and tanh are cheapest from h).
template <class A>
concept Activation = requires(const detail::ProbeArray& a, const detail::ProbeArray& h) {
    { A::name } -> std::convertible_to<const char*>;
    { A::value(a) };
    { A::derivative(a, h) };
};

}  // namespace descent
