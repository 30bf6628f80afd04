#pragma once
// The single-threaded GEMM under Products (gemm.hpp): C += α A B, Eigen 3.4's own loop
// (general_matrix_matrix_product's sequential run: pack a block of A, pack a block of B, multiply
// the packed blocks with gebp_kernel), with one change. Where Eigen's register block is 3 packets
// x 4 columns and there are 32 vector registers (AVX-512), the micro-kernel of that block is ours.
//
// Why: GCC (12) compiles Eigen's 3pX4 loop into 12 FMAs that each read their packet of A from
// memory again, one load per FMA instead of one per packet of A (16 loads for 12 FMAs, and some
// register moves), and the FMA units wait on the loads: Eigen's kernel ran 144 GFLOP/s on a Zen 5
// core whose FMA peak is ~220. The same loop with the three packets of A held in registers (an
// empty asm statement says they are in registers, as Eigen does for ARM's NEON in the same place)
// ran 209 (the 512 x 784 x 128 product of a 784-512-256-10 network, bench/README.md).
//
// The sums are Eigen's, in Eigen's order: each of the 12 accumulators starts at 0 and adds
// a_ik b_kj for k in order by an FMA, then C += α acc by an FMA; the rows and columns that do not
// fill a 3-packet x 4 block go to Eigen's gebp_kernel itself. The results are those of Eigen's
// kernel, bit for bit (tests/test_gemm.cpp checks it).
#include <Eigen/Core>
#include <algorithm>
#include <type_traits>

#if defined(EIGEN_VECTORIZE_AVX512) && defined(__GNUC__)
#define DESCENT_OWN_MICRO_KERNEL 1
// Tells the compiler that the packets are in registers (and may have changed), so that it keeps them there.
#define DESCENT_IN_REGISTERS(a, b, c) __asm__("" : "+v"(a), "+v"(b), "+v"(c))
#else
#define DESCENT_OWN_MICRO_KERNEL 0
#define DESCENT_IN_REGISTERS(a, b, c)
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

    // Ours only where Eigen's gebp would use its 3pX4 block with the plain packet types.
    static constexpr bool own_micro_kernel =
        DESCENT_OWN_MICRO_KERNEL && std::is_floating_point_v<Scalar> && Traits::mr == 3 * P &&
        Traits::nr == 4 && Traits::RhsProgress == 1 &&
        std::is_same_v<Packet, typename Traits::RhsPacket> && std::is_same_v<Packet, typename Traits::AccPacket> &&
        std::is_same_v<Packet, typename Traits::ResPacket> &&
        Eigen::internal::unpacket_traits<Packet>::size == P;

    static void run(Index rows, Index cols, Index depth, const Scalar* lhs_data, Index lhs_stride,
                    const Scalar* rhs_data, Index rhs_stride, Scalar* res_data, Index res_stride, Scalar alpha,
                    Eigen::internal::level3_blocking<Scalar, Scalar>& blocking) {
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
                    if (!pack_rhs_once || i2 == 0) pack_rhs(block_b, rhs.getSubMapper(k2, j2), actual_kc, actual_nc);
                    multiply_packed(res.getSubMapper(i2, j2), block_a, block_b, actual_mc, actual_kc, actual_nc,
                                    alpha);
                }
            }
        }
    }

private:
    using Gebp = Eigen::internal::gebp_kernel<Scalar, Scalar, Index, ResMapper, Traits::mr, Traits::nr, false, false>;

    // res += α A' B' for a packed block A' (rows x depth) and B' (depth x cols): gebp_kernel's job.
    static void multiply_packed(const ResMapper& res, const Scalar* block_a, const Scalar* block_b, Index rows,
                                Index depth, Index cols, Scalar alpha) {
        if constexpr (!own_micro_kernel) {
            Gebp()(res, block_a, block_b, rows, depth, cols, alpha);
        } else {
            // The packed A' holds its 3-packet panels first (rows / 3P of them, depth x 3P each),
            // B' its 4-column panels first (depth x 4 each); what follows each is laid out as if
            // packed alone, so Eigen's gebp takes the rest from there with strides of depth.
            const Index rows3 = rows / (3 * P) * (3 * P);
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
                        block_3p_by_4(block_a + i * depth, block_b + j * depth, depth, &res(i, j), res.stride(), alpha);
            }
            if (rows3 > 0 && cols4 < cols)
                Gebp()(res.getSubMapper(0, cols4), block_a, block_b + cols4 * depth, rows3, depth, cols - cols4,
                       alpha, depth, depth);
            if (rows3 < rows)
                Gebp()(res.getSubMapper(rows3, 0), block_a + rows3 * depth, block_b, rows - rows3, depth, cols, alpha,
                       depth, depth);
        }
    }

    // c(0:3P, 0:4) += α a b for one panel a (depth x 3P, k-major) and b (depth x 4, k-major).
    static void block_3p_by_4(const Scalar* a, const Scalar* b, Index depth, Scalar* c, Index c_stride,
                              Scalar alpha) {
        using namespace Eigen::internal;
        Packet c00 = pset1<Packet>(Scalar(0)), c10 = c00, c20 = c00, c01 = c00, c11 = c00, c21 = c00, c02 = c00,
               c12 = c00, c22 = c00, c03 = c00, c13 = c00, c23 = c00;
        for (Index k = 0; k < depth; ++k) {
            prefetch(a + 16 * P);
            Packet a0 = pload<Packet>(a), a1 = pload<Packet>(a + P), a2 = pload<Packet>(a + 2 * P);
            // In registers: without this GCC reads each packet of A from memory at each of its 4 FMAs.
            DESCENT_IN_REGISTERS(a0, a1, a2);
            Packet bk = pset1<Packet>(b[0]);
            c00 = pmadd(a0, bk, c00);
            c10 = pmadd(a1, bk, c10);
            c20 = pmadd(a2, bk, c20);
            bk = pset1<Packet>(b[1]);
            c01 = pmadd(a0, bk, c01);
            c11 = pmadd(a1, bk, c11);
            c21 = pmadd(a2, bk, c21);
            bk = pset1<Packet>(b[2]);
            c02 = pmadd(a0, bk, c02);
            c12 = pmadd(a1, bk, c12);
            c22 = pmadd(a2, bk, c22);
            bk = pset1<Packet>(b[3]);
            c03 = pmadd(a0, bk, c03);
            c13 = pmadd(a1, bk, c13);
            c23 = pmadd(a2, bk, c23);
            a += 3 * P;
            b += 4;
        }
        const Packet alphav = pset1<Packet>(alpha);
        auto store = [&](Scalar* col, const Packet& x0, const Packet& x1, const Packet& x2) {
            pstoreu(col, pmadd(x0, alphav, ploadu<Packet>(col)));
            pstoreu(col + P, pmadd(x1, alphav, ploadu<Packet>(col + P)));
            pstoreu(col + 2 * P, pmadd(x2, alphav, ploadu<Packet>(col + 2 * P)));
        };
        store(c, c00, c10, c20);
        store(c + c_stride, c01, c11, c21);
        store(c + 2 * c_stride, c02, c12, c22);
        store(c + 3 * c_stride, c03, c13, c23);
    }
};

}  // namespace descent::detail
