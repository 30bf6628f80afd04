// detail::PackedProduct: Eigen's own single-threaded GEMM (general_matrix_matrix_product) bit for
// bit, whatever the storage orders, the block sizes, and the rows and columns left over by the
// micro-kernel's 3-packet x 4 block; results that another summation order would change by a
// rounding are checked for equality, not within a tolerance.
#include <descent/detail/gemm.hpp>

#include "support.hpp"

#if DESCENT_OWN_GEMM

namespace {

template <class T>
using Matrix = descent::test::Matrix<T>;

template <class T>
struct Blocking : Eigen::internal::level3_blocking<T, T> {
    Blocking(Eigen::Index kc, Eigen::Index mc, Eigen::Index nc, T* a, T* b) {
        this->m_kc = kc;
        this->m_mc = mc;
        this->m_nc = nc;
        this->m_blockA = a;
        this->m_blockB = b;
    }
};

// C0 + α A B by Eigen's general_matrix_matrix_product and by PackedProduct, with the same blocks;
// A (m x k) and B (k x n) stored in the given orders.
template <class T, int LhsOrder, int RhsOrder>
void check_same(Eigen::Index m, Eigen::Index n, Eigen::Index k, Eigen::Index kc, Eigen::Index mc,
                Eigen::Index nc) {
    using Eigen::Index;
    CAPTURE(m, n, k, kc, mc, nc, LhsOrder, RhsOrder);
    const bool lhs_row_major = LhsOrder == Eigen::RowMajor, rhs_row_major = RhsOrder == Eigen::RowMajor;
    const Matrix<T> A = descent::test::pseudo_random<T>(lhs_row_major ? k : m, lhs_row_major ? m : k, 1);
    const Matrix<T> B = descent::test::pseudo_random<T>(rhs_row_major ? n : k, rhs_row_major ? k : n, 2);
    const Matrix<T> C0 = descent::test::pseudo_random<T>(m, n, 3);
    Matrix<T> expected = C0, got = C0;
    Eigen::Matrix<T, Eigen::Dynamic, 1> block_a(kc * mc), block_b(kc * nc);
    Blocking<T> blocking(kc, mc, nc, block_a.data(), block_b.data());
    const T alpha = T(-0.375);
    Eigen::internal::general_matrix_matrix_product<Index, T, LhsOrder, false, T, RhsOrder, false,
                                                   Eigen::ColMajor, 1>::run(m, n, k, A.data(), A.rows(),
                                                                            B.data(), B.rows(),
                                                                            expected.data(), 1, m, alpha,
                                                                            blocking, nullptr);
    descent::detail::PackedProduct<T, LhsOrder, RhsOrder>::run(m, n, k, A.data(), A.rows(), B.data(),
                                                               B.rows(), got.data(), m, alpha, blocking);
    CHECK((got.array() == expected.array()).all());
}

template <class T>
void check_all_orders(Eigen::Index m, Eigen::Index n, Eigen::Index k, Eigen::Index kc, Eigen::Index mc,
                      Eigen::Index nc) {
    check_same<T, Eigen::ColMajor, Eigen::ColMajor>(m, n, k, kc, mc, nc);
    check_same<T, Eigen::RowMajor, Eigen::ColMajor>(m, n, k, kc, mc, nc);
    check_same<T, Eigen::ColMajor, Eigen::RowMajor>(m, n, k, kc, mc, nc);
    check_same<T, Eigen::RowMajor, Eigen::RowMajor>(m, n, k, kc, mc, nc);
}

}  // namespace

TEMPLATE_TEST_CASE("PackedProduct gives Eigen's GEMM bit for bit", "[gemm]", float, double) {
    using T = TestType;
    // The layers of 784-512-256-10 at batch 128 (forward, ∇W, ∇h) with Eigen's blocks of one thread,
    // and shapes off the 3-packet x 4 block: rows left over (1 to 3 packets, part of a packet, one row),
    // columns left over, a depth of 1, a depth not a multiple of the kernel's unrolling.
    struct Shape {
        Eigen::Index m, n, k;
    };
    for (const Shape s : {Shape{512, 128, 784}, Shape{256, 128, 512}, Shape{10, 128, 256},
                          Shape{512, 784, 128}, Shape{784, 128, 512}, Shape{97, 53, 301}, Shape{48, 4, 8},
                          Shape{49, 5, 1}, Shape{95, 7, 13}, Shape{3, 130, 40}, Shape{200, 3, 17}}) {
        Eigen::Index kc = s.k, mc = s.m, nc = s.n;
        Eigen::internal::computeProductBlockingSizes<T, T, 1>(kc, mc, nc, Eigen::Index(1));
        check_all_orders<T>(s.m, s.n, s.k, kc, mc, nc);
    }
    // Blocks smaller than the product, so that A, B and the depth are cut.
    check_all_orders<T>(300, 70, 250, 64, 96, 24);
    check_all_orders<T>(131, 67, 99, 40, 50, 9);
}

#else

TEST_CASE("PackedProduct is used only with Eigen 3.4's internals", "[gemm]") {
    descent::test::skip(
        "matrix products are Eigen's public expressions in this build (DESCENT_OWN_GEMM is 0)");
}

#endif
