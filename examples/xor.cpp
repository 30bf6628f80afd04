// XOR, the smallest problem a linear model cannot solve: a 2-4-2 network
// trained by the course's per-example SGD, one (x, y) at a time.
#include <descent/descent.hpp>
#include <iostream>

int main() {
    using namespace descent;
    // One sample per column: the four corners of the unit square.
    Eigen::MatrixXd x(2, 4);
    x << 0, 0, 1, 1,
         0, 1, 0, 1;
    const std::vector<int> y{0, 1, 1, 0};

    // a(1) = W(1) x + b(1), h(1) = tanh(a(1)); a(2) = W(2) h(1) + b(2); f = softmax(a(2)).
    Mlp<Dense<Tanh, double>, Dense<Identity, double>> net({2, 4, 2}, /*seed=*/1);
    Sgd sgd(/*learning_rate=*/0.1);

    FitOptions options;
    options.epochs = 2000;
    options.batch_size = 1;  // Δ = -∇θ l(f(x;θ), y); θ ← θ + αΔ after every example
    options.on_epoch = [](const EpochReport& r) {
        if (r.epoch % 500 == 0) std::cout << "epoch " << r.epoch << " loss " << r.loss << "\n";
    };
    fit(net, sgd, x, y, options);

    const auto predicted = net.predict(x);
    for (int t = 0; t < 4; ++t)
        std::cout << x(0, t) << " xor " << x(1, t) << " = " << predicted[t] << "\n";
    std::cout << "accuracy=" << net.accuracy(x, y) << "\n";
}
