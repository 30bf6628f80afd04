// Must not compile: Mlp's layer list takes only types that satisfy Layer.
// expect: descent: this type in the layer list is not a Layer: it needs `Eigen::Index inputs() const`
#include <descent/descent.hpp>

#ifdef DESCENT_COMPILE_FAIL_CONTROL
using Middle = descent::Dense<descent::Relu, double>;
#else
struct Middle {  // looks like a layer to a person, not to the Layer concept
    using scalar_type = double;
};
#endif

int main() {
    descent::Mlp<descent::Dense<descent::Relu, double>, Middle, descent::Dense<descent::Identity, double>> net(
        {2, 3, 3, 2});
    return static_cast<int>(net.classes()) - 2;
}
