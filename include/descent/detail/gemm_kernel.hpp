#pragma once
// The single-threaded GEMM under Products (gemm.hpp): C += α A B, Eigen 3.4's own loop
// (general_matrix_matrix_product's sequential run: pack a block of A, pack a block of B, multiply
// the packed blocks as gebp_kernel does), with one change: with AVX-512 (32 vector registers), the
// micro-kernels of Eigen's register blocks of 3, 2 and 1 packets of rows by 4 columns are ours.
//
// Why: GCC (12) compiles Eigen's 3pX4 loop into 12 FMAs that each read their packet of A from
// memory again, one load per FMA instead of one per packet of A (16 loads for 12 FMAs, and some
// register moves), and the FMA units wait on the loads: Eigen's kernel ran 144 GFLOP/s on a Zen 5
// core whose FMA peak is ~220. The same loop with the packets of A held in registers (an empty asm
// statement says they are in registers, as Eigen does for ARM's NEON in the same place) ran 209,
// on the 512 x 784 x 128 product of a 784-512-256-10 network at batch 128 (bench/README.md).
//
// The sums are Eigen's, in Eigen's order: each accumulator starts at 0 and adds a_ik b_kj for k in
// order by an FMA (1pX4: even and odd k apart, then added, as Eigen does), then C += α acc by an
// FMA; the rows and columns that fill no such block go to Eigen's gebp_kernel itself. The results
// are those of Eigen's kernel, bit for bit (tests/test_gemm_kernel.cpp checks it).
#include <Eigen/Core>
#include <algorithm>
#include <type_traits>

#if defined(EIGEN_VECTORIZE_AVX512) && defined(__GNUC__)
#define DESCENT_OWN_MICRO_KERNEL 1
// Tells the compiler that the packet is in a register (and may have changed), so that it keeps it there.
#define DESCENT_IN_REGISTER(x) __asm__("" : "+v"(x))
#else
#define DESCENT_OWN_MICRO_KERNEL 0
#define DESCENT_IN_REGISTER(x)
#endif

namespace descent::detail {

// C (rows x cols, column-major, columns res_stride apart) += α A B, A rows x depth and B depth x cols
// in memory with the given storage orders and outer strides; blocked by blocking's kc, mc and nc,
// packed into its blockA and blockB (which must be there: this never allocates).
template <class Scalar, int LhsOrder, int RhsOrder>
struct PackedProduct {
    using Index = Eigen::Index;
    using Traits = Eigen::internal::gebp_traits<Scalar, Scalar>;
    using LhsMapper = Eigen::internal::const_blas_data_mapper<Scalar, Index, LhsOrder>;
    using RhsMapper = Eigen::internal::const_blas_data_mapper<Scalar, Index, RhsOrder>;
    using ResMapper = Eigen::internal::blas_data_mapper<Scalar, Index, Eigen::ColMajor, Eigen::Unaligned, 1>;
    using Packet = typename Traits::LhsPacket;
    static constexpr Index P = Traits::LhsProgress;  // scalars in a packet of A

    // Ours only where Eigen's gebp would use its 3pX4 block, with plain packets of the scalar.
    static constexpr bool own_micro_kernel =
        DESCENT_OWN_MICRO_KERNEL && std::is_floating_point_v<Scalar> && Traits::mr == 3 * P &&
        Traits::nr == 4 && Traits::RhsProgress == 1 && std::is_same_v<Packet, typename Traits::RhsPacket> &&
        std::is_same_v<Packet, typename Traits::AccPacket> &&
        std::is_same_v<Packet, typename Traits::ResPacket> &&
        Eigen::internal::unpacket_traits<Packet>::size == P;

    static void run(Index rows, Index cols, Index depth, const Scalar* lhs_data, Index lhs_stride,
                    const Scalar* rhs_data, Index rhs_stride, Scalar* res_data, Index res_stride,
                    Scalar alpha, Eigen::internal::level3_blocking<Scalar, Scalar>& blocking) {
        const LhsMapper lhs(lhs_data, lhs_stride);
        const RhsMapper rhs(rhs_data, rhs_stride);
        const ResMapper res(res_data, res_stride);
        const Index kc = blocking.kc();
        const Index mc = std::min(rows, blocking.mc());
        const Index nc = std::min(cols, blocking.nc());
        Scalar* block_a = blocking.blockA();
        Scalar* block_b = blocking.blockB();
        eigen_assert(block_a && block_b);
        Eigen::internal::gemm_pack_lhs<Scalar, Index, LhsMapper, Traits::mr, Traits::LhsProgress,
                                       typename Traits::LhsPacket4Packing, LhsOrder>
            pack_lhs;
        Eigen::internal::gemm_pack_rhs<Scalar, Index, RhsMapper, Traits::nr, RhsOrder> pack_rhs;

        // As Eigen: B is packed once when all of it fits in one kc x nc block.
        const bool pack_rhs_once = mc != rows && kc == depth && nc == cols;
        for (Index i2 = 0; i2 < rows; i2 += mc) {
            const Index actual_mc = std::min(i2 + mc, rows) - i2;
            for (Index k2 = 0; k2 < depth; k2 += kc) {
                const Index actual_kc = std::min(k2 + kc, depth) - k2;
                pack_lhs(block_a, lhs.getSubMapper(i2, k2), actual_kc, actual_mc);
                for (Index j2 = 0; j2 < cols; j2 += nc) {
                    const Index actual_nc = std::min(j2 + nc, cols) - j2;
                    if (!pack_rhs_once || i2 == 0)
                        pack_rhs(block_b, rhs.getSubMapper(k2, j2), actual_kc, actual_nc);
                    multiply_packed(res.getSubMapper(i2, j2), block_a, block_b, actual_mc, actual_kc,
                                    actual_nc, alpha);
                }
            }
        }
    }

private:
    using Gebp =
        Eigen::internal::gebp_kernel<Scalar, Scalar, Index, ResMapper, Traits::mr, Traits::nr, false, false>;

    // res += α A' B' for a packed block A' (rows x depth) and B' (depth x cols): gebp_kernel's job.
    static void multiply_packed(const ResMapper& res, const Scalar* block_a, const Scalar* block_b,
                                Index rows, Index depth, Index cols, Scalar alpha) {
        if constexpr (!own_micro_kernel) {
            Gebp()(res, block_a, block_b, rows, depth, cols, alpha);
        } else {
            // The packed A' holds its panels of 3 packets of rows first (depth x 3P each), then one of
            // 2 packets and panels of 1 packet when the rows leave them, then smaller ones; B' its
            // panels of 4 columns first (depth x 4 each). What follows a run of panels is laid out as
            // if packed alone, so Eigen's gebp takes the rest from there with strides of depth.
            const Index rows3 = rows / (3 * P) * (3 * P);
            const Index rows2 = rows3 + (rows - rows3) / (2 * P) * (2 * P);
            const Index rows1 = rows2 + (rows - rows2) / P * P;
            const Index cols4 = cols / 4 * 4;
            // Eigen's order: as many 3-packet panels of A' at a time as fit in its L1 beside a
            // panel of B', each taken across every panel of B'.
            const Index l1 = Eigen::internal::defaultL1CacheSize;
            const Index panel_rows =
                3 * P *
                std::max<Index>(1, (l1 - Index(sizeof(Scalar)) * Traits::mr * Traits::nr -
                                    depth * Traits::nr * Index(sizeof(Scalar))) /
                                       (depth * Index(sizeof(Scalar)) * 3 * P));
            for (Index i1 = 0; i1 < rows3; i1 += panel_rows) {
                const Index i_end = std::min(i1 + panel_rows, rows3);
                for (Index j = 0; j < cols4; j += 4)
                    for (Index i = i1; i < i_end; i += 3 * P)
                        block_by_4<3>(block_a + i * depth, block_b + j * depth, depth, &res(i, j),
                                      res.stride(), alpha);
            }
            for (Index j = 0; j < cols4; j += 4) {
                if (rows2 > rows3)
                    block_by_4<2>(block_a + rows3 * depth, block_b + j * depth, depth, &res(rows3, j),
                                  res.stride(), alpha);
                for (Index i = rows2; i < rows1; i += P)
                    block_by_4<1>(block_a + i * depth, block_b + j * depth, depth, &res(i, j), res.stride(),
                                  alpha);
            }
            if (rows1 > 0 && cols4 < cols)
                Gebp()(res.getSubMapper(0, cols4), block_a, block_b + cols4 * depth, rows1, depth,
                       cols - cols4, alpha, depth, depth);
            if (rows1 < rows)
                Gebp()(res.getSubMapper(rows1, 0), block_a + rows1 * depth, block_b, rows - rows1, depth,
                       cols, alpha, depth, depth);
        }
    }

    // c(0:N P, 0:4) += α a b for one panel a (depth x N P, k-major) and b (depth x 4, k-major), N
    // packets of rows: 4 N accumulators, named rather than in an array, which GCC would keep in
    // memory. For N = 1 Eigen's 1pX4 sums the even and the odd k of each 8 apart and adds the two
    // at the end; so does this, to give its results.
    template <int N>
    static void block_by_4(const Scalar* a, const Scalar* b, Index depth, Scalar* c, Index c_stride,
                           Scalar alpha) {
        static_assert(N >= 1 && N <= 3);
        using namespace Eigen::internal;
        const Packet zero = pset1<Packet>(Scalar(0));
        // c<packet><column>
        Packet c00 = zero, c01 = zero, c02 = zero, c03 = zero;
        Packet c10 = zero, c11 = zero, c12 = zero, c13 = zero;
        Packet c20 = zero, c21 = zero, c22 = zero, c23 = zero;
        // The packets of A at one k, held in registers: without that GCC reads each of them from
        // memory again at each of its 4 FMAs.
        Packet x0 = zero, x1 = zero, x2 = zero;
        auto load = [&](const Scalar* at) {
            x0 = pload<Packet>(at);
            DESCENT_IN_REGISTER(x0);
            if constexpr (N >= 2) {
                x1 = pload<Packet>(at + P);
                DESCENT_IN_REGISTER(x1);
            }
            if constexpr (N == 3) {
                x2 = pload<Packet>(at + 2 * P);
                DESCENT_IN_REGISTER(x2);
            }
        };
        auto column = [&](Scalar bj, Packet& s0, Packet& s1, Packet& s2) {
            const Packet bk = pset1<Packet>(bj);
            s0 = pmadd(x0, bk, s0);
            if constexpr (N >= 2) s1 = pmadd(x1, bk, s1);
            if constexpr (N == 3) s2 = pmadd(x2, bk, s2);
        };
        Index k = 0;
        if constexpr (N == 1) {
            Packet d0 = zero, d1 = zero, d2 = zero, d3 = zero;
            for (const Index peeled = depth / 8 * 8; k < peeled; k += 2, a += 2 * P, b += 8) {
                prefetch(a + 16 * P);
                load(a);
                Packet y = pload<Packet>(a + P);
                DESCENT_IN_REGISTER(y);
                column(b[0], c00, c10, c20);
                column(b[1], c01, c11, c21);
                column(b[2], c02, c12, c22);
                column(b[3], c03, c13, c23);
                d0 = pmadd(y, pset1<Packet>(b[4]), d0);
                d1 = pmadd(y, pset1<Packet>(b[5]), d1);
                d2 = pmadd(y, pset1<Packet>(b[6]), d2);
                d3 = pmadd(y, pset1<Packet>(b[7]), d3);
            }
            c00 = padd(c00, d0);
            c01 = padd(c01, d1);
            c02 = padd(c02, d2);
            c03 = padd(c03, d3);
        }
        for (; k < depth; ++k, a += N * P, b += 4) {
            prefetch(a + 16 * P);
            load(a);
            column(b[0], c00, c10, c20);
            column(b[1], c01, c11, c21);
            column(b[2], c02, c12, c22);
            column(b[3], c03, c13, c23);
        }
        const Packet alphav = pset1<Packet>(alpha);
        auto store = [&](Scalar* col, const Packet& s0, const Packet& s1, const Packet& s2) {
            pstoreu(col, pmadd(s0, alphav, ploadu<Packet>(col)));
            if constexpr (N >= 2) pstoreu(col + P, pmadd(s1, alphav, ploadu<Packet>(col + P)));
            if constexpr (N == 3) pstoreu(col + 2 * P, pmadd(s2, alphav, ploadu<Packet>(col + 2 * P)));
        };
        store(c, c00, c10, c20);
        store(c + c_stride, c01, c11, c21);
        store(c + 2 * c_stride, c02, c12, c22);
        store(c + 3 * c_stride, c03, c13, c23);
    }
};

}  // namespace descent::detail
