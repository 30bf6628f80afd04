// Activations g and g': values worked out by hand, and g' against central
// finite differences of g, element by element.
#include <cmath>
#include <descent/activations/activation.hpp>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/sigmoid.hpp>
#include <descent/activations/tanh.hpp>
#include <string>

#include "support.hpp"

using descent::test::check_close;

namespace {

template <class T>
using Array = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic>;

// g and g'(a, g(a)) of Act on the column a, evaluated into plain arrays.
template <class Act, class T>
Array<T> value_of(const Array<T>& a) {
    return Act::value(a);
}
template <class Act, class T>
Array<T> derivative_of(const Array<T>& a) {
    const Array<T> h = Act::value(a);
    return Act::derivative(a, h);
}

}  // namespace

static_assert(descent::Activation<descent::Identity>);
static_assert(descent::Activation<descent::Sigmoid>);
static_assert(descent::Activation<descent::Tanh>);
static_assert(descent::Activation<descent::Relu>);

TEST_CASE("activation names", "[activations]") {
    CHECK(std::string(descent::Identity::name) == "identity");
    CHECK(std::string(descent::Sigmoid::name) == "sigmoid");
    CHECK(std::string(descent::Tanh::name) == "tanh");
    CHECK(std::string(descent::Relu::name) == "relu");
}

TEMPLATE_TEST_CASE("sigmoid against values by hand", "[activations]", float, double) {
    using T = TestType;
    Array<T> a(4, 1);
    a << 0, std::log(3.0), -std::log(3.0), std::log(9.0);
    const Array<T> h = value_of<descent::Sigmoid>(a);
    const Array<T> d = derivative_of<descent::Sigmoid>(a);
    // g(0) = 1/2, g'(0) = 1/2 * 1/2 = 1/4
    check_close(h(0), 0.5);
    check_close(d(0), 0.25);
    // g(ln 3) = 1/(1 + 1/3) = 3/4, g' = 3/4 * 1/4 = 3/16
    check_close(h(1), 0.75);
    check_close(d(1), 3.0 / 16);
    // g(-ln 3) = 1/(1 + 3) = 1/4, g' = 1/4 * 3/4 = 3/16 (g' is even)
    check_close(h(2), 0.25);
    check_close(d(2), 3.0 / 16);
    // g(ln 9) = 1/(1 + 1/9) = 9/10, g' = 9/10 * 1/10 = 9/100
    check_close(h(3), 0.9);
    check_close(d(3), 0.09);
}

TEMPLATE_TEST_CASE("tanh against values by hand", "[activations]", float, double) {
    using T = TestType;
    Array<T> a(3, 1);
    a << 0, std::log(2.0), -std::log(3.0);
    const Array<T> h = value_of<descent::Tanh>(a);
    const Array<T> d = derivative_of<descent::Tanh>(a);
    // tanh(0) = 0, g'(0) = 1
    check_close(h(0), 0.0);
    check_close(d(0), 1.0);
    // tanh(ln 2) = (2 - 1/2)/(2 + 1/2) = 3/5, g' = 1 - 9/25 = 16/25
    check_close(h(1), 0.6);
    check_close(d(1), 0.64);
    // tanh(-ln 3) = (1/3 - 3)/(1/3 + 3) = -4/5, g' = 1 - 16/25 = 9/25
    check_close(h(2), -0.8);
    check_close(d(2), 0.36);
}

TEMPLATE_TEST_CASE("relu against values by hand", "[activations]", float, double) {
    using T = TestType;
    Array<T> a(5, 1);
    a << -2.5, -0.0, 0, 1e-30, 3.25;
    const Array<T> h = value_of<descent::Relu>(a);
    const Array<T> d = derivative_of<descent::Relu>(a);
    CHECK(h(0) == T(0));
    CHECK(h(1) == T(0));
    CHECK(h(2) == T(0));
    CHECK(h(3) == T(1e-30));
    CHECK(h(4) == T(3.25));
    CHECK(d(0) == T(0));
    CHECK(d(1) == T(0));
    CHECK(d(2) == T(0));  // the subgradient 0 at the kink
    CHECK(d(3) == T(1));
    CHECK(d(4) == T(1));
}

TEMPLATE_TEST_CASE("identity against values by hand", "[activations]", float, double) {
    using T = TestType;
    Array<T> a(2, 2);
    a << -3, 0.5, 0, 7;
    const Array<T> h = value_of<descent::Identity>(a);
    const Array<T> d = derivative_of<descent::Identity>(a);
    CHECK((h == a).all());
    REQUIRE(d.rows() == 2);
    REQUIRE(d.cols() == 2);
    CHECK((d == T(1)).all());
}

TEMPLATE_TEST_CASE("saturated sigmoid and tanh stay finite", "[activations]", float, double) {
    using T = TestType;
    Array<T> a(2, 1);
    a << 1000, -1000;
    const Array<T> s = value_of<descent::Sigmoid>(a);
    const Array<T> ds = derivative_of<descent::Sigmoid>(a);
    const Array<T> t = value_of<descent::Tanh>(a);
    const Array<T> dt = derivative_of<descent::Tanh>(a);
    CHECK(s(0) == T(1));
    CHECK(s(1) == T(0));
    CHECK(ds(0) == T(0));
    CHECK(ds(1) == T(0));
    CHECK(t(0) == T(1));
    CHECK(t(1) == T(-1));
    CHECK(dt(0) == T(0));
    CHECK(dt(1) == T(0));
}

namespace {

// g'(a) against (g(a + ε) - g(a - ε)) / 2ε at every point of a grid over [-4, 4], in double.
template <class Act>
double worst_finite_difference_error(bool skip_kink) {
    const double eps = 1e-6;
    Array<double> a(1, 161);
    for (Eigen::Index i = 0; i < a.cols(); ++i) a(i) = -4.0 + 0.05 * static_cast<double>(i) + 0.0123;
    const Array<double> d = derivative_of<Act>(a);
    const Array<double> plus = value_of<Act>(Array<double>(a + eps));
    const Array<double> minus = value_of<Act>(Array<double>(a - eps));
    double worst = 0;
    for (Eigen::Index i = 0; i < a.cols(); ++i) {
        if (skip_kink && std::abs(a(i)) < 2 * eps) continue;
        const double numeric = (plus(i) - minus(i)) / (2 * eps);
        worst = std::max(worst, std::abs(numeric - d(i)) / std::max(1.0, std::abs(d(i))));
    }
    return worst;
}

}  // namespace

TEST_CASE("each derivative matches finite differences elementwise", "[activations]") {
    CHECK(worst_finite_difference_error<descent::Sigmoid>(false) < 1e-8);
    CHECK(worst_finite_difference_error<descent::Tanh>(false) < 1e-8);
    CHECK(worst_finite_difference_error<descent::Identity>(false) < 1e-8);
    CHECK(worst_finite_difference_error<descent::Relu>(true) < 1e-8);
}

namespace {
// A sigmoid whose g' is tanh's: the finite-difference check above must catch it.
struct SigmoidWithTanhDerivative {
    static constexpr const char* name = "wrong";
    static Array<double> value(const Array<double>& a) { return descent::Sigmoid::value(a); }
    static Array<double> derivative(const Array<double>&, const Array<double>& h) { return 1 - h.square(); }
};
}  // namespace

TEST_CASE("the finite-difference comparison notices a wrong derivative", "[activations]") {
    CHECK(worst_finite_difference_error<SigmoidWithTanhDerivative>(false) > 0.1);
}
