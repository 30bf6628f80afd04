// Must not compile: the head applies its own f and takes its gradient at
// a(L+1), so the output layer's activation must be the identity.
// expect: descent::Mlp: the output layer must be Dense<Identity, ...>, because the head applies its own f (softmax, sigmoid, identity) and takes the gradient at a(L+1)
#include <descent/descent.hpp>

#ifdef DESCENT_COMPILE_FAIL_CONTROL
using Output = descent::Dense<descent::Identity, double>;
#else
using Output = descent::Dense<descent::Sigmoid, double>;
#endif

int main() {
    descent::Mlp<descent::Dense<descent::Tanh, double>, Output> net({2, 3, 2});
    return static_cast<int>(net.classes()) - 2;
}
