// The loss gradient at the output, as derived in the course, checked numerically.
//
// l(f(x), y) = -log f(x)_y with f(x) = softmax(a(L+1)(x)). The course derives
//   ∇f(x) l = -e(y) / f(x)_y                     (w.r.t. the output)
//   ∇a(L+1) l = -(e(y) - f(x))                   (w.r.t. the pre-activation)
// and the second is the first pushed through the softmax Jacobian. descent's
// backward pass uses the second, fused form. This program shows all three
// agree with a central finite difference of the loss itself.
#include <descent/descent.hpp>
#include <cstdio>

int main() {
    using Loss = descent::SoftmaxCrossEntropy<double>;
    Eigen::VectorXd a(4);
    a << 1.5, -0.3, 0.8, 2.0;  // a(L+1)(x) for one sample and C = 4 classes
    const int y = 2;
    std::vector<int> label{y};

    Loss loss;
    const double l = loss.forward(a, label);
    const Eigen::VectorXd f = loss.probabilities();
    std::printf("f(x) = softmax(a) = [%.4f %.4f %.4f %.4f], l = -log f(x)_%d = %.6f\n", f(0), f(1), f(2), f(3), y, l);

    // The fused gradient, as backward() computes it for a batch of one.
    const Eigen::VectorXd fused = loss.backward(label);

    // The unfused chain: ∇a l = J_softmaxᵀ ∇f l, with J = diag(f) - f fᵀ.
    const Eigen::VectorXd chained = Loss::softmax_jacobian(f).transpose() * Loss::gradient_wrt_output(f, y);

    // Finite differences of l in each a_c.
    const double eps = 1e-6;
    Eigen::VectorXd numeric(4);
    for (int c = 0; c < 4; ++c) {
        Eigen::VectorXd plus = a, minus = a;
        plus(c) += eps;
        minus(c) -= eps;
        numeric(c) = (Loss().forward(plus, label) - Loss().forward(minus, label)) / (2 * eps);
    }

    std::printf("%-4s %14s %14s %14s\n", "c", "-(e(y)-f)_c", "chained", "numeric");
    for (int c = 0; c < 4; ++c) std::printf("%-4d %14.9f %14.9f %14.9f\n", c, fused(c), chained(c), numeric(c));
    const double worst = std::max((fused - chained).cwiseAbs().maxCoeff(), (fused - numeric).cwiseAbs().maxCoeff());
    std::printf("largest difference: %.2e\n", worst);
    return worst < 1e-8 ? 0 : 1;
}
