// Backpropagation through hidden layers, checked by finite differences.
//
// From the fused output gradient ∇a(L+1) l = -(e(y) - f(x)), for k = L+1 down to 1:
//   ∇W(k) l = ∇a(k) l h(k-1)ᵀ          ∇b(k) l = ∇a(k) l
//   ∇h(k-1) l = W(k)ᵀ ∇a(k) l          ∇a(k-1) l = ∇h(k-1) l ⊙ g'(a(k-1))
// descent::check_gradients perturbs every parameter θ_i by ±ε and compares
// (l(θ + ε e_i) - l(θ - ε e_i)) / 2ε with what backpropagation gave.
#include <descent/descent.hpp>
#include <cstdio>

#include "common/uniform.hpp"

template <class Net>
void check(const char* name, const Net& net, const Eigen::MatrixXd& x, const std::vector<int>& y) {
    std::printf("%s\n", name);
    for (const auto& block : descent::check_gradients(net, x, y))
        std::printf("  %-5s largest relative error %.2e\n", block.name.c_str(), block.max_relative_error);
}

int main() {
    using namespace descent;
    // A small batch: 5 features, 8 samples, 3 classes.
    Engine engine(7);
    Eigen::MatrixXd x(5, 8);
    for (Eigen::Index j = 0; j < x.cols(); ++j)
        for (Eigen::Index i = 0; i < x.rows(); ++i) x(i, j) = examples::uniform(engine, -1, 1);
    const std::vector<int> y{0, 1, 2, 0, 1, 2, 0, 1};

    // Three hidden non-linearities, each with its own g'(a):
    //   sigmoid: g' = g (1 - g)    tanh: g' = 1 - g²    ReLU: g' = 1_{a > 0}
    check("sigmoid, two hidden layers", Mlp<Dense<Sigmoid, double>, Dense<Sigmoid, double>, Dense<Identity, double>>({5, 6, 4, 3}, 1), x, y);
    check("tanh, two hidden layers", Mlp<Dense<Tanh, double>, Dense<Tanh, double>, Dense<Identity, double>>({5, 6, 4, 3}, 1), x, y);
    check("ReLU, two hidden layers", Mlp<Dense<Relu, double>, Dense<Relu, double>, Dense<Identity, double>>({5, 6, 4, 3}, 1), x, y);
}
