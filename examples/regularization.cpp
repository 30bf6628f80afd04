// Regularisation: Δ = -∇θ l - λ∇θ Ω(θ), with Ω on the weights W(k) only.
//
//   L2: Ω(θ) = Σ_k Σ_ij W(k)_ij²,   ∇W(k) Ω = 2 W(k)   (weight decay)
//   L1: Ω(θ) = Σ_k Σ_ij |W(k)_ij|,  ∇W(k) Ω = sign(W(k)) (pushes weights to exactly 0)
// The biases are left alone: they do not make the function more complex.
// This program trains the same noisy problem three ways and prints what each
// Ω did to the weights, and checks the regularised gradient numerically.
#include <descent/descent.hpp>
#include <cstdio>

#include "common/uniform.hpp"

int main() {
    using namespace descent;
    using Net = Mlp<Dense<Tanh, double>, Dense<Identity, double>>;
    // 2 informative features and 8 of noise; the label is the sign of x0 + x1.
    Engine engine(11);
    Eigen::MatrixXd x(10, 200);
    std::vector<int> y(200);
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
        for (Eigen::Index i = 0; i < x.rows(); ++i) x(i, j) = examples::uniform(engine, -1, 1);
        y[static_cast<std::size_t>(j)] = x(0, j) + x(1, j) > 0 ? 1 : 0;
    }

    FitOptions options;
    options.epochs = 100;
    options.batch_size = 10;

    auto report = [&](const char* name, auto sgd) {
        Net net({10, 16, 2}, 5);
        fit(net, sgd, x, y, options);
        const auto W1 = net.layer<0>().W();
        std::printf("%-5s accuracy %.3f  Σ W(1)² %8.3f  Σ|W(1)| %8.3f  |W(1)| < 1e-3: %3ld of %ld  Σ|b(1)| %.3f\n",
                    name, net.accuracy(x, y), W1.squaredNorm(), W1.cwiseAbs().sum(),
                    static_cast<long>((W1.array().abs() < 1e-3).count()), static_cast<long>(W1.size()),
                    net.layer<0>().b().cwiseAbs().sum());
        const auto checks = check_gradients(net, x.leftCols(20), std::span(y).first(20), sgd.regularizer(), sgd.lambda());
        double worst = 0;
        for (const auto& c : checks) worst = std::max(worst, c.max_relative_error);
        std::printf("      gradient of l + λΩ vs finite differences: largest relative error %.2e\n", worst);
    };
    report("none", Sgd(0.1));
    report("L2", Sgd(0.1, 1e-3, L2{}));
    report("L1", Sgd(0.1, 1e-3, L1{}));
}
