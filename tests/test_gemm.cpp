// detail::Products: the same numbers as Eigen's own products for every shape the
// layers use (and the awkward ones: a single row or column, a depth of 1, sizes
// that do not fall on the kernel's blocks), transposed operands, C = αAB and
// C += αAB, on one to four threads; and the choice of thread counts.
#include <array>
#include <descent/detail/gemm.hpp>
#include <descent/threads.hpp>
#include <initializer_list>

#include "support.hpp"

namespace {

template <class T>
using Matrix = descent::test::Matrix<T>;

// max |got - expected| relative to the largest |expected|.
template <class T>
double relative_error(const Matrix<T>& got, const Matrix<T>& expected) {
    const double scale = std::max(1.0, static_cast<double>(expected.cwiseAbs().maxCoeff()));
    return static_cast<double>((got - expected).cwiseAbs().maxCoeff()) / scale;
}

}  // namespace

TEMPLATE_TEST_CASE("Products match Eigen's products, transposed or not, set or accumulated", "[gemm]", float,
                   double) {
    using T = TestType;
    const int threads = GENERATE(1, 2, 3, 4);
    CAPTURE(threads);
    const int saved = descent::threads();
    descent::set_threads(threads);
    descent::detail::Products<T> products;
    struct Shape {
        Eigen::Index m, n, k;
    };
    // From tiny to the 784-512-256-10 layers at batch 1 and 128, and sizes off the kernel's blocks.
    for (const Shape s : {Shape{1, 1, 1}, Shape{3, 2, 5}, Shape{10, 1, 256}, Shape{512, 1, 784},
                          Shape{512, 784, 1}, Shape{10, 128, 256}, Shape{512, 128, 784}, Shape{784, 128, 512},
                          Shape{512, 784, 128}, Shape{97, 53, 301}, Shape{1, 300, 40}}) {
        CAPTURE(s.m, s.n, s.k);
        const T alpha = T(-0.75);
        const Matrix<T> A = descent::test::pseudo_random<T>(s.m, s.k, 1);
        const Matrix<T> B = descent::test::pseudo_random<T>(s.k, s.n, 2);
        const Matrix<T> At = A.transpose(), Bt = B.transpose();
        const Matrix<T> C0 = descent::test::pseudo_random<T>(s.m, s.n, 3);
        const Matrix<T> expected = alpha * (A * B);
        Matrix<T> C = C0;
        Eigen::Map<Matrix<T>> c(C.data(), s.m, s.n);

        products.multiply(c, A, B, alpha, false);
        CHECK(relative_error<T>(C, expected) <= descent::test::tolerance<T>());
        products.multiply(c, At.transpose(), B, alpha, false);  // A row-major, as W(k)ᵀ is
        CHECK(relative_error<T>(C, expected) <= descent::test::tolerance<T>());
        products.multiply(c, A, Bt.transpose(), alpha, false);  // B row-major, as h(k-1)ᵀ is
        CHECK(relative_error<T>(C, expected) <= descent::test::tolerance<T>());
        C = C0;
        products.multiply(c, A, B, alpha, true);
        CHECK(relative_error<T>(C, Matrix<T>(C0 + expected)) <= descent::test::tolerance<T>());
    }
    descent::set_threads(saved);
}

// At batch 1 the columns of W(k) where h(k-1) is 0 are skipped (gemm.hpp, point 3):
// half-zero vectors, as ReLU gives, the first and last entries included, and all zeros.
TEMPLATE_TEST_CASE("Batch-1 products with zeros in h(k-1) match Eigen's", "[gemm]", float, double) {
    using T = TestType;
    descent::detail::Products<T> products;
    const Matrix<T> W = descent::test::pseudo_random<T>(37, 23, 4);
    const Matrix<T> delta = descent::test::pseudo_random<T>(37, 1, 5);
    for (const bool all_zero : {false, true}) {
        Matrix<T> h = descent::test::pseudo_random<T>(23, 1, 6);
        for (Eigen::Index j = 0; j < h.rows(); ++j)
            if (all_zero || j % 2 == 0 || j == 5 || j == 22) h(j) = T(0);
        CAPTURE(all_zero);
        const Matrix<T> a0 = descent::test::pseudo_random<T>(37, 1, 7);
        Matrix<T> a = a0;  // a(k) = W(k) h(k-1) + b(k), onto b(k)
        products.multiply(Eigen::Map<Matrix<T>>(a.data(), 37, 1), W, h, T(1), true);
        CHECK(relative_error<T>(a, Matrix<T>(a0 + W * h)) <= descent::test::tolerance<T>());
        products.multiply(Eigen::Map<Matrix<T>>(a.data(), 37, 1), W, h, T(2), false);
        CHECK(relative_error<T>(a, Matrix<T>(T(2) * W * h)) <= descent::test::tolerance<T>());
        Matrix<T> w = W;  // W(k) -= α ∇a(k) h(k-1)ᵀ: columns where h(k-1) is 0 stay bit for bit
        products.multiply(Eigen::Map<Matrix<T>>(w.data(), 37, 23), delta, h.transpose(), T(-0.5), true);
        CHECK(relative_error<T>(w, Matrix<T>(W - T(0.5) * delta * h.transpose())) <=
              descent::test::tolerance<T>());
        for (Eigen::Index j = 0; j < h.rows(); ++j)
            if (h(j) == T(0)) CHECK((w.col(j).array() == W.col(j).array()).all());
    }
}

TEST_CASE("Products of depth 0 set C to 0 or leave it", "[gemm]") {
    descent::detail::Products<double> products;
    Eigen::MatrixXd C = Eigen::MatrixXd::Constant(3, 2, 5), A(3, 0), B(0, 2);
    Eigen::Map<Eigen::MatrixXd> c(C.data(), 3, 2);
    products.multiply(c, A, B, 1.0, true);
    CHECK((C.array() == 5).all());
    products.multiply(c, A, B, 1.0, false);
    CHECK((C.array() == 0).all());
}

TEST_CASE("threads_for uses one thread for small work and never more than asked", "[gemm]") {
    using descent::detail::min_work_per_thread;
    using descent::detail::threads_for;
    const int saved = descent::threads();
    descent::set_threads(2);
    CHECK(threads_for(10.0 * 256 * 32, min_work_per_thread, 1000) == 1);  // the output layer at batch 32
    CHECK(threads_for(1e3 * min_work_per_thread, min_work_per_thread, 1) == 1);  // one part only
    CHECK(threads_for(512.0 * 784 * 128, min_work_per_thread, 10) == 2);         // layer 1 at batch 128
    descent::set_threads(8);
    CHECK(threads_for(512.0 * 784 * 128, min_work_per_thread, 10) == 8);
    CHECK(threads_for(3 * min_work_per_thread, min_work_per_thread, 10) == 3);
    std::array<int, 2> inside{0, 0};
    descent::set_threads(2);
    descent::detail::run_on_threads(2, [&](int i, int) {  // already in a split product
        inside[static_cast<std::size_t>(i)] = threads_for(1e9, min_work_per_thread, 100);
    });
    CHECK(inside[0] == 1);
    CHECK(inside[1] == 1);
    descent::set_threads(saved);
}

TEST_CASE("slab cuts a side into whole grains, the last taking the rest", "[gemm]") {
    using descent::detail::slab;
    CHECK(slab(512, 2, 0, 48) == std::pair<Eigen::Index, Eigen::Index>{0, 240});
    CHECK(slab(512, 2, 1, 48) == std::pair<Eigen::Index, Eigen::Index>{240, 512});
    CHECK(slab(10, 2, 0, 16) == std::pair<Eigen::Index, Eigen::Index>{0, 10});  // one grain: all in the first
    CHECK(slab(10, 2, 1, 16) == std::pair<Eigen::Index, Eigen::Index>{10, 10});
    CHECK(slab(7, 1, 0, 4) == std::pair<Eigen::Index, Eigen::Index>{0, 7});
}
