// Must not compile: an activation with a value but no derivative cannot be
// backpropagated through, and Dense's Activation constraint says so.
// Dense states its requirement as a concept, so the message is the compiler's own:
// expect GNU: required for the satisfaction of 'Activation<Act>' [with Act = Softplus]
// expect GNU: the required expression 'A::derivative(a, h)' is invalid
// expect Clang: because 'Softplus' does not satisfy 'Activation'
// expect Clang: because 'A::derivative(a, h)' would be invalid: no member named 'derivative' in 'Softplus'
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
