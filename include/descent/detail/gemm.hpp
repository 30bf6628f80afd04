#pragma once
// The matrix products of training, C = α A B or C += α A B, with two things
// Eigen's `C.noalias() = A * B` does not give:
//
// 1. No allocation. Eigen's GEMM packs blocks of A and B into buffers it takes
//    per product, from the heap (aligned_malloc) whenever they exceed
//    EIGEN_STACK_ALLOCATION_LIMIT (128 KiB) or the product runs on several
//    threads: a 784-512-256-10 step at batch 128 made 7 heap allocations. Here
//    the buffers belong to a Products object that lives as long as its layer
//    and only ever grows, so a step allocates nothing once the largest batch
//    has been seen. (Raising EIGEN_STACK_ALLOCATION_LIMIT would have done it
//    without Eigen's internals, but it is a global setting that must agree
//    across every translation unit of a program, that a header-only library
//    cannot set for its users, and that moves megabytes onto threads' stacks.)
//
// 2. Threads that pay for themselves. A product is cut into one slab of rows
//    (or columns) per thread of descent's pool (thread_pool.hpp), each run by
//    Eigen's single-threaded kernel, only when every slab holds enough work to pay for a fork and a join
//    (min_work_per_thread); the 10-wide output layer and other small products
//    stay on the calling thread. Matrix-vector products and the outer products
//    of batch 1 stay there too unless the matrix is far larger than a cache:
//    cut by rows, the forward pass, ∇h(k-1) = W(k)ᵀ ∇a(k) (cut by columns) and
//    the update each touch W(k) in another pattern, so the two cores' caches
//    pass the weights back and forth at every step, and a step on 2 threads
//    took several times as long as on 1 (bench/README.md, "Threads").
//
// 3. Zeros skipped at batch 1. h(k-1) after a ReLU, and Fashion-MNIST's pixels,
//    are about half zeros; a(k) = W(k) h(k-1) + b(k) and W(k) -= α ∇a(k) h(k-1)ᵀ
//    then need only the columns of W(k) where h(k-1) is not 0, which halves the
//    memory that a per-example step moves. (A column that is skipped is one
//    whose term is 0·W(k)_j: left out of the sum, it changes nothing unless that
//    column holds an infinity or a NaN, which the divergence guard reports.)
//
// The GEMM is Eigen's own loop, packing and kernel, reached through
// Eigen::internal (gemm_pack_lhs, gemm_pack_rhs, gebp_kernel, level3_blocking),
// whose interface is that of Eigen 3.4, with a micro-kernel of ours for its
// main block under AVX-512 (gemm_kernel.hpp). With another Eigen, or with
// EIGEN_USE_BLAS, or with DESCENT_PLAIN_EIGEN_PRODUCTS defined, matrix-matrix
// products are Eigen's public expressions instead, on Eigen's own threads (when
// the program is built with OpenMP), and may allocate.
#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "thread_pool.hpp"

#if EIGEN_VERSION_AT_LEAST(3, 4, 0) && !EIGEN_VERSION_AT_LEAST(3, 4, 90) && !defined(EIGEN_USE_BLAS) && \
    !defined(DESCENT_PLAIN_EIGEN_PRODUCTS)
#define DESCENT_OWN_GEMM 1
#include "gemm_kernel.hpp"
#else
#define DESCENT_OWN_GEMM 0
#endif

// Products' one body per scalar type is compiled as a function of its own, not inlined into
// each caller, which would compile and optimise a copy of Eigen's kernels per call site.
#if defined(_MSC_VER)
#define DESCENT_PRODUCTS_CALL __declspec(noinline)
#else
#define DESCENT_PRODUCTS_CALL [[gnu::noinline]]
#endif

namespace descent::detail {

// A slab must hold at least this many multiply-adds for a product to be cut
// into one slab per thread: about 2.5 µs of one core's GEMM at 100 GFLOP/s,
// against a few µs for a fork and join of the pool whose workers are still
// spinning (to be tuned on a quiet machine: see bench/README.md).
inline constexpr double min_work_per_thread = 131072;
// Matrix-vector and outer products are cut only beyond 16 MiB of float weights
// (4M multiply-adds), where the matrix comes from memory at every step anyway
// and two cores fetch it faster than one; below that, see point 2 above.
inline constexpr double min_gemv_work_per_thread = 4194304;

// How many threads a product of `work` multiply-adds may use, cut into `parts`
// at most: 1 inside a task of the pool already (no threads times threads).
inline int threads_for(double work, double min_work, Eigen::Index parts) {
    if (in_pool_task()) return 1;
    const auto by_work = static_cast<Eigen::Index>(work / min_work);
    return static_cast<int>(
        std::max<Eigen::Index>(1, std::min<Eigen::Index>({Eigen::Index(thread_count()), by_work, parts})));
}

// [begin, end) of slab `i` of `count` over `size` items, in multiples of `grain`
// (the last slab takes the rest).
inline std::pair<Eigen::Index, Eigen::Index> slab(Eigen::Index size, int count, int i, Eigen::Index grain) {
    const Eigen::Index step = std::max<Eigen::Index>(grain, (size / count) / grain * grain);
    const Eigen::Index begin = std::min(size, step * i);
    const Eigen::Index end = i + 1 == count ? size : std::min(size, step * (i + 1));
    return {begin, end};
}

// An operand of a product as the kernels see it: a matrix stored column by column, each
// `stride` entries after the one before, used as it is or, when Transposed, transposed (a
// row-major matrix). Every operand the layers pass (Matrix, Map, Ref, a block of columns, the
// transpose of one) becomes one of these, so that Products compiles Eigen's GEMV and GEMM once
// for each transposition a program uses (W(k) h(k-1), W(k)ᵀ ∇a(k), ∇a(k) h(k-1)ᵀ), not once for
// each combination of Eigen expression types.
template <class Scalar, bool Transposed>
class Operand {
public:
    using Stored =
        Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>;

    // rows x cols as used; the stored columns `outer_stride` entries apart.
    Operand(const Scalar* data, Eigen::Index rows, Eigen::Index cols, Eigen::Index outer_stride)
        : data_(data), rows_(rows), cols_(cols), stride_(outer_stride) {}

    const Scalar* data() const { return data_; }
    Eigen::Index rows() const { return rows_; }
    Eigen::Index cols() const { return cols_; }
    Eigen::Index outerStride() const { return stride_; }

    // What is stored: rows x cols, or cols x rows when transposed.
    Stored stored() const {
        if constexpr (Transposed)
            return Stored(data_, cols_, rows_, Eigen::OuterStride<>(stride_));
        else
            return Stored(data_, rows_, cols_, Eigen::OuterStride<>(stride_));
    }
    // The operand itself, as an Eigen expression.
    auto matrix() const {
        if constexpr (Transposed)
            return stored().transpose();
        else
            return stored();
    }
    Scalar operator()(Eigen::Index i, Eigen::Index j) const {
        if constexpr (Transposed)
            return data_[i * stride_ + j];
        else
            return data_[i + j * stride_];
    }

private:
    const Scalar* data_;
    Eigen::Index rows_, cols_, stride_;
};

// The Operand of a matrix in memory whose entries are contiguous along its inner dimension.
template <class X>
auto operand(const X& x) {
    static_assert(int(X::InnerStrideAtCompileTime) == 1,
                  "descent::detail::Products takes matrices whose entries are contiguous along a column "
                  "(or along a row, for a transpose)");
    return Operand<typename X::Scalar, (int(X::Flags) & Eigen::RowMajorBit) != 0>(x.data(), x.rows(),
                                                                                  x.cols(), x.outerStride());
}

template <class Scalar>
class Products {
public:
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

    // The buffers are a cache: a copy starts without them.
    Products() = default;
    Products(const Products&) {}
    Products& operator=(const Products&) { return *this; }
    Products(Products&&) noexcept = default;
    Products& operator=(Products&&) noexcept = default;
    ~Products() = default;

    // C = α A B, or C += α A B when accumulate. A is m x k, B is k x n, C is m x n.
    // Each of A and B is a matrix in memory with contiguous columns (Matrix, Map,
    // Ref, a block of columns) or the transpose of one; C is a column-major Map.
    // requires: the shapes agree and C overlaps neither A nor B.
    template <class Lhs, class Rhs>
    void multiply(Eigen::Map<Matrix> C, const Lhs& A, const Rhs& B, Scalar alpha, bool accumulate) {
        multiply(C, operand(A), operand(B), alpha, accumulate);
    }
    // The same over operands: one body for each transposition, compiled as a function of its own
    // rather than inlined into each caller.
    template <bool TA, bool TB>
    DESCENT_PRODUCTS_CALL void multiply(Eigen::Map<Matrix> C, const Operand<Scalar, TA>& A,
                                        const Operand<Scalar, TB>& B, Scalar alpha, bool accumulate) {
        eigen_assert(C.rows() == A.rows() && C.cols() == B.cols() && A.cols() == B.rows());
        const Eigen::Index m = C.rows(), n = C.cols(), k = A.cols();
        if (m == 0 || n == 0) return;
        if (k == 0) {
            if (!accumulate) C.setZero();
            return;
        }
        if (n == 1) return matrix_vector(C, A, B, alpha, accumulate);
        if (k == 1) return outer(C, A, B, alpha, accumulate);
#if DESCENT_OWN_GEMM
        if constexpr (TA && TB) {
            // Aᵀ Bᵀ, which no layer asks for, runs as A Bᵀ on a copy of A: one kernel fewer.
            lhs_copy_ = A.matrix();
            gemm(C, Operand<Scalar, false>(lhs_copy_.data(), m, k, m), B, alpha, accumulate);
        } else {
            gemm(C, A, B, alpha, accumulate);
        }
#else
        if (accumulate)
            C.noalias() += alpha * A.matrix() * B.matrix();
        else
            C.noalias() = alpha * A.matrix() * B.matrix();
#endif
    }

private:
    using Stored = Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>;
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
    // A column of an operand: contiguous in a stored column, strided in a stored row.
    using Column = Eigen::Map<const Vector>;
    using StridedColumn = Eigen::Map<const Vector, 0, Eigen::InnerStride<>>;
    template <bool Transposed>
    using ColumnOf = std::conditional_t<Transposed, StridedColumn, Column>;
    template <bool Transposed>
    static ColumnOf<Transposed> first_column(const Operand<Scalar, Transposed>& X) {
        if constexpr (Transposed)
            return StridedColumn(X.data(), X.rows(), Eigen::InnerStride<>(X.outerStride()));
        else
            return Column(X.data(), X.rows());
    }

    // c += α Σ_j b_j A(:, j) over the j where b_j ≠ 0 (point 3 above), four columns
    // to a pass over c. A's columns are contiguous (A is not transposed).
    template <class Vec>
    static void add_nonzero_columns(Eigen::Map<Matrix> C, const Stored& A, const Vec& b, Scalar alpha) {
        auto c = C.col(0);
        Eigen::Index j[4];
        int found = 0;
        for (Eigen::Index col = 0; col < A.cols(); ++col) {
            if (b(col) == Scalar(0)) continue;
            j[found++] = col;
            if (found == 4) {
                c.noalias() += (alpha * b(j[0])) * A.col(j[0]) + (alpha * b(j[1])) * A.col(j[1]) +
                               (alpha * b(j[2])) * A.col(j[2]) + (alpha * b(j[3])) * A.col(j[3]);
                found = 0;
            }
        }
        for (int i = 0; i < found; ++i) c.noalias() += (alpha * b(j[i])) * A.col(j[i]);
    }

    // c = α A b (+ c), cut by rows of A: each slab is a matrix-vector product of its own.
    template <bool TA, bool TB>
    static void matrix_vector(Eigen::Map<Matrix> C, const Operand<Scalar, TA>& A,
                              const Operand<Scalar, TB>& B, Scalar alpha, bool accumulate) {
        const Eigen::Index m = C.rows(), k = A.cols();
        const int count = threads_for(double(m) * double(k), min_gemv_work_per_thread, m / 16);
        const auto b = first_column(B);
        if constexpr (!TA) {
            if (count == 1) {
                if (!accumulate) C.setZero();
                return add_nonzero_columns(C, A.stored(), b, alpha);
            }
        }
        const auto a_all = A.matrix();
        run_on_threads(count, [&](int i, int actual) {
            const auto [begin, end] = slab(m, actual, i, 16);
            if (begin == end) return;
            auto c = C.col(0).segment(begin, end - begin);
            const auto a = a_all.middleRows(begin, end - begin);
            if (accumulate)
                c.noalias() += alpha * a * b;
            else
                c.noalias() = alpha * a * b;
        });
    }

    // C = α a bᵀ (+ C) for a depth of 1 (∇W(k) = ∇a(k) h(k-1)ᵀ of one sample): one pass
    // over C, a column at a time, skipping the columns whose b_j is 0 when accumulating
    // (point 3 above). Cut by rows, as matrix_vector is, only for matrices beyond a cache
    // (min_gemv_work_per_thread, point 2).
    template <bool TA, bool TB>
    static void outer(Eigen::Map<Matrix> C, const Operand<Scalar, TA>& A, const Operand<Scalar, TB>& B,
                      Scalar alpha, bool accumulate) {
        const Eigen::Index m = C.rows(), n = C.cols();
        const int count = threads_for(double(m) * double(n), min_gemv_work_per_thread, m / 16);
        const auto a_all = first_column(A);
        run_on_threads(count, [&](int i, int actual) {
            const auto [begin, end] = slab(m, actual, i, 16);
            if (begin == end) return;
            const auto a = a_all.segment(begin, end - begin);
            for (Eigen::Index j = 0; j < n; ++j) {
                auto c = C.col(j).segment(begin, end - begin);
                const Scalar s = alpha * B(0, j);
                if (!accumulate)
                    c = s * a;
                else if (s != Scalar(0))  // point 3 above
                    c += s * a;
            }
        });
    }

#if DESCENT_OWN_GEMM
    // Eigen's blocking, pointed at buffers that outlive the product.
    class Blocking : public Eigen::internal::level3_blocking<Scalar, Scalar> {
    public:
        Blocking(Eigen::Index kc, Eigen::Index mc, Eigen::Index nc, Scalar* a, Scalar* b) {
            this->m_kc = kc;
            this->m_mc = mc;
            this->m_nc = nc;
            this->m_blockA = a;
            this->m_blockB = b;
        }
    };

    // The packed-block buffers of one thread, grown to the largest product seen.
    struct Scratch {
        Eigen::Matrix<Scalar, Eigen::Dynamic, 1> storage;
        Scalar* reserve(Eigen::Index size) {
            if (storage.size() < size) storage.resize(size);
            return storage.data();
        }
    };

    template <bool TA, bool TB>
    void gemm(Eigen::Map<Matrix> C, const Operand<Scalar, TA>& A, const Operand<Scalar, TB>& B, Scalar alpha,
              bool accumulate) {
        using Eigen::Index;
        constexpr bool lhs_row_major = TA;
        constexpr bool rhs_row_major = TB;
        using Kernel = PackedProduct<Scalar, lhs_row_major ? Eigen::RowMajor : Eigen::ColMajor,
                                     rhs_row_major ? Eigen::RowMajor : Eigen::ColMajor>;
        using Traits = Eigen::internal::gebp_traits<Scalar, Scalar>;
        const Scalar* a = A.data();
        const Scalar* b = B.data();
        const Index a_stride = A.outerStride(), b_stride = B.outerStride();
        const Index m = C.rows(), n = C.cols(), k = A.cols();

        // Cut the longer side of C: rows in multiples of the kernel's mr, columns of its nr.
        const bool by_rows = m >= n;
        const Index grain = by_rows ? Index(Traits::mr) : Index(Traits::nr);
        const int count =
            threads_for(double(m) * double(n) * double(k), min_work_per_thread, (by_rows ? m : n) / grain);
        // Block sizes for the widest slab (the last: it takes the rest), computed once here,
        // outside any parallel region. A slab of another width (the pool may give fewer threads)
        // is still right with them: the kernel steps through a slab by blocks of mc x kc and kc x nc.
        const Index side = by_rows ? m : n;
        const Index widest = side - slab(side, count, count - 1, grain).first;
        Index kc = k, mc = by_rows ? widest : m, nc = by_rows ? n : widest;
        Eigen::internal::computeProductBlockingSizes<Scalar, Scalar, 1>(kc, mc, nc, Index(1));
        // A packed first, B after it on a packet boundary.
        constexpr Index align = std::max<Index>(1, EIGEN_MAX_ALIGN_BYTES / Index(sizeof(Scalar)));
        const Index size_a = (kc * mc + align - 1) / align * align;
        const Index size_b = kc * nc;
        if (scratch_.size() < static_cast<std::size_t>(count))
            scratch_.resize(static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i) scratch_[static_cast<std::size_t>(i)].reserve(size_a + size_b);

        run_on_threads(count, [&](int i, int actual) {
            const auto [begin, end] = slab(side, actual, i, grain);
            if (begin == end) return;
            const Index rows = by_rows ? end - begin : m;
            const Index cols = by_rows ? n : end - begin;
            // Where the slab starts in A, B and C.
            const Scalar* a_slab = a;
            const Scalar* b_slab = b;
            Scalar* c_slab = C.data();
            if (by_rows) {
                a_slab += lhs_row_major ? begin * a_stride : begin;
                c_slab += begin;
            } else {
                b_slab += rhs_row_major ? begin : begin * b_stride;
                c_slab += begin * C.outerStride();
            }
            if (!accumulate)
                Eigen::Map<Matrix, 0, Eigen::OuterStride<>>(c_slab, rows, cols,
                                                            Eigen::OuterStride<>(C.outerStride()))
                    .setZero();
            Scalar* buffer = scratch_[static_cast<std::size_t>(i)].storage.data();
            Blocking blocking(kc, mc, nc, buffer, buffer + size_a);
            Kernel::run(rows, cols, k, a_slab, a_stride, b_slab, b_stride, c_slab, C.outerStride(), alpha,
                        blocking);
        });
    }

    std::vector<Scratch> scratch_;
    Matrix lhs_copy_;  // A of a product Aᵀ Bᵀ
#endif
};

}  // namespace descent::detail
