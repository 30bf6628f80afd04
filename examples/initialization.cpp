// Initialisation: biases 0, weights U[-b, b].
//
// Glorot (sigmoid, tanh): b = √6 / √(H_k + H_(k-1)), so that Var W = 2 / (H_k + H_(k-1)).
// He (ReLU, the default for Dense<Relu>): b = √(6 / H_(k-1)), Var W = 2 / H_(k-1),
// because ReLU zeroes half of a(k) and would otherwise halve the signal each layer.
// Never all zeros: every hidden unit would then compute, and learn, the same thing.
// Seeded: the same seed gives the same weights, bit for bit.
#include <descent/descent.hpp>
#include <cmath>
#include <cstdio>

#include "common/uniform.hpp"

template <class Net>
void describe(const char* name, Net& net) {
    // Push a batch of standardised inputs through and watch the scale of each h(k).
    descent::Engine engine(3);
    Eigen::MatrixXf x(net.inputs(), 256);
    for (Eigen::Index j = 0; j < x.cols(); ++j)
        for (Eigen::Index i = 0; i < x.rows(); ++i)
            x(i, j) = static_cast<float>(std::sqrt(3.0) * examples::uniform(engine, -1, 1));
    net.forward(x);
    std::printf("%s\n", name);
    const auto W1 = net.template layer<0>().W();
    const double bound = W1.cwiseAbs().maxCoeff();
    std::printf("  W(1): max |w| %.4f, variance %.5f (b²/3 = %.5f for the bound of the rule)\n", bound,
                (W1.array().square().mean() - std::pow(W1.mean(), 2)), bound * bound / 3);
    std::printf("  std of h(1) %.3f, h(2) %.3f, h(3) %.3f\n", std::sqrt(net.template layer<0>().output().array().square().mean()),
                std::sqrt(net.template layer<1>().output().array().square().mean()),
                std::sqrt(net.template layer<2>().output().array().square().mean()));
}

int main() {
    using namespace descent;
    Mlp<Dense<Tanh>, Dense<Tanh>, Dense<Tanh>, Dense<Identity>> tanh_net({256, 256, 256, 256, 10}, 42);
    Mlp<Dense<Relu>, Dense<Relu>, Dense<Relu>, Dense<Identity>> relu_net({256, 256, 256, 256, 10}, 42);
    describe("tanh, Glorot: b = sqrt(6)/sqrt(256 + 256) = 0.1083", tanh_net);
    describe("ReLU, He: b = sqrt(6/256) = 0.1531", relu_net);

    Mlp<Dense<Relu>, Dense<Relu>, Dense<Relu>, Dense<Identity>> again({256, 256, 256, 256, 10}, 42);
    const bool same = (again.parameters().array() == relu_net.parameters().array()).all();
    std::printf("same seed, same weights bit for bit: %s; every bias 0: %s\n", same ? "yes" : "no",
                relu_net.layer<0>().b().isZero(0) ? "yes" : "no");
    return same ? 0 : 1;
}
