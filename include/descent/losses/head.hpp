#pragma once
// The Head concept: what sits on the output pre-activation a(L+1) of a network. A head is a
// stateless policy, like an activation: it gives the output f(x) = f(a(L+1)), the loss
// l(f(x), y) averaged over a batch, and the fused gradient ∇a(L+1) l, which for each of the three
// heads is (f(x) - y) per sample, y being the target as a vector (e(y) for a class label):
//
//   head                   f(x)         l(f(x), y)                                 targets
//   softmax_cross_entropy  softmax(a)   -log f(x)_y                                class labels
//   sigmoid_cross_entropy  sigmoid(a)   -Σ_k y_k log f_k + (1 - y_k) log(1 - f_k)  0/1 labels or matrix
//   squared_error          a            ½ Σ_k (f_k - y_k)²                         a real matrix
//
// The output layer is therefore always Dense<Identity>: the head applies f itself, where it can
// fuse the gradient and keep it finite for logits of ±1e4.
//
// Every function is static and works on a whole batch, one sample per column: a and f are
// outputs x B. A network calls them through its head policy (Mlp: a type, Network: a choice
// made at run time); none holds state between calls.
#include <Eigen/Core>
#include <concepts>

#include "../detail/validate.hpp"
#include "targets.hpp"

namespace descent {

template <class H>
concept Head = requires {
    typename H::template rebind<double>;
}
&&requires(const Eigen::MatrixXd& a, Eigen::MatrixXd& f, const Targets<double>& y, Eigen::Index n,
           const detail::Where& where) {
    { H::name } -> std::convertible_to<const char*>;             // as Architecture::head records it
    { H::output_function } -> std::convertible_to<const char*>;  // f: "softmax", "sigmoid", "identity"
    { H::has_probabilities } -> std::convertible_to<bool>;       // f(x) is a probability
    { H::template rebind<double>::classes(n) } -> std::same_as<Eigen::Index>;
    H::template rebind<double>::check_targets(y, n, n, where);
    H::template rebind<double>::output(a, f);
    { H::template rebind<double>::loss(a, y, f) } -> std::same_as<double>;
    H::template rebind<double>::gradient(a, f, y, f);
    { H::template rebind<double>::predicts_classes(n) } -> std::same_as<bool>;
    { H::template rebind<double>::predict_class(a, n) } -> std::same_as<int>;
    H::template rebind<double>::decide(a, f);
    { H::template rebind<double>::count_correct(a, y) } -> std::same_as<Eigen::Index>;
};

}  // namespace descent
