// A user's program, built outside descent's tree against descent::descent.
#include <descent/descent.hpp>
#include <iostream>

int main() {
    Eigen::MatrixXf x(2, 4);
    x << 0, 0, 1, 1,
         0, 1, 0, 1;
    const std::vector<int> y{0, 1, 1, 0};
    descent::Mlp<descent::Dense<descent::Tanh>, descent::Dense<descent::Identity>> net({2, 8, 2}, 3);
    descent::Sgd sgd(0.1);
    descent::FitOptions options;
    options.epochs = 2000;
    options.batch_size = 1;
    descent::fit(net, sgd, x, y, options);
    const double accuracy = net.accuracy(x, y);
    std::cout << "consumer accuracy=" << accuracy << "\n";
    return accuracy == 1.0 ? 0 : 1;
}
