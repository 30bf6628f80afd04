// Must not compile: a float layer feeding a double layer.
// expect: descent::Mlp: every layer must have the same scalar type (all float or all double)
#include <descent/descent.hpp>

#ifdef DESCENT_COMPILE_FAIL_CONTROL
using Output = descent::Dense<descent::Identity, float>;
#else
using Output = descent::Dense<descent::Identity, double>;
#endif

int main() {
    descent::Mlp<descent::Dense<descent::Tanh, float>, Output> net({2, 3, 2});
    return static_cast<int>(net.classes()) - 2;
}
