// Must not compile: an activation with a value but no derivative cannot be
// backpropagated through, and Dense's Activation constraint says so.
#include <descent/descent.hpp>

struct Softplus {
    static constexpr const char* name = "softplus";
    template <class D>
    static auto value(const Eigen::ArrayBase<D>& a) { return (a.exp() + 1).log(); }
#ifdef DESCENT_COMPILE_FAIL_CONTROL
    template <class DA, class DH>
    static auto derivative(const Eigen::ArrayBase<DA>& a, const Eigen::ArrayBase<DH>&) { return a.logistic(); }
#endif
};

int main() {
    descent::Dense<Softplus, double> layer(3, 2);
    return static_cast<int>(layer.outputs()) - 2;
}
