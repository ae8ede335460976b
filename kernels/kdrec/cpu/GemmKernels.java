package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-blocked GEMM micro-kernels for {@link GemmSimd}: an MR x (2 or 3 vectors) tile of
 * A[MR x kc] . Bp, written raw into a small float[] tile {@code t} (row stride {@link #NR}); GemmSimd
 * applies alpha/beta while copying the tile into C ({@link GemmSimd}'s store). Writing the
 * accumulators to a tile instead of to C here keeps the kernels free of calls: an epilogue helper
 * taking the vectors was not always inlined by C2, and then boxed every accumulator.
 *
 * <p>A is broadcast from a float[] staging copy: element (r, kk) of the row panel sits at
 * {@code a[aOff + r*rs + kk]} for row-major slices (NN, NT) and at {@code a[aOff + r + kk*TS]} for
 * transposed blocks (TN: {@link GemmKernelsT}); the one-row tail kernels take a general stride ks. The multi-row kernels keep the k stride a compile-time constant so the broadcast index is
 * {@code const*kk + invariant} and C2's range-check elimination hoists its bounds checks; with a
 * runtime stride every broadcast kept a check and NN/NT ran 15-30 % slower. A float[] and not the
 * caller's segment: a {@code MemorySegment.get} per broadcast measured 13 GFLOP/s against 63 from an
 * array, in cache, on one core. B comes packed k-major in panels of 3 vectors ({@code bp[bo + kk*3L + c]})
 * for the x3 kernels or of 2 vectors ({@code bp[bo + kk*2L + c]}) for the x2 kernels, zero-padded past
 * the last column; the panel width is a constant of each kernel for the same reason.
 *
 * <p>Shapes: with 16 registers (AVX2 or a width below the machine's) 3 x 3 vectors (9 accumulators
 * + 3 B vectors + 3 broadcasts; C2 hoists all broadcasts of a k step, so 4x24 or 6x16 spill:
 * reference/vector-api-calibration.md 4.1). With native 512-bit vectors (32 registers) 6 x 3 vectors
 * (18 + 3 + 6 = 27 registers): each B vector feeds 6 FMAs instead of 3, half the load traffic per
 * FMA. The accumulator is always the addend of {@code fma} (in-place vfmadd231ps).
 *
 * <p>Numerics: every kernel computes each output as the same fused chain {@code acc = fma(b, a, acc)}
 * over kk in increasing order from +0; the tile shape, the row remainder path and the thread split
 * cannot change a result.
 */
final class GemmKernels {
    private GemmKernels() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Row stride of the raw tile t (3 vectors). */
    static final int NR = 3 * L;
    private static final long LB = (long) L * Float.BYTES;
    private static final ByteOrder BO = Mem.ORDER;
    /** Floats a tile buffer needs: 6 rows of NR. */
    static final int TILE = 6 * NR;
    /**
     * Row stride of the TN staging of A ({@code a[kk*TS + x]}, 48 columns of A): a constant, so that the
     * broadcast index is {@code kk*TS + const} and C2 hoists its bounds check out of the k loop. With the
     * stride as an argument (or a second induction variable) every broadcast kept its check. A multiple
     * of 6 and 3, so whole row panels tile it.
     */
    static final int TS = 48;

    /** 6 rows x 3 vectors; row r of A at {@code a[aOff + r*rs + kk]} (NN, NT; native 512-bit only). */
    static void k6x3(int kc, float[] a, int aOff, int rs, float[] bp, int bo, float[] t,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
        FloatVector c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
        int p0 = aOff, p1 = p0 + rs, p2 = p1 + rs, p3 = p2 + rs, p4 = p3 + rs, p5 = p4 + rs;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * 3 * L;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, b + 2 * L);
            FloatVector x0 = FloatVector.broadcast(F, a[p0 + kk]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01); c02 = b2.fma(x0, c02);
            FloatVector x1 = FloatVector.broadcast(F, a[p1 + kk]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11); c12 = b2.fma(x1, c12);
            FloatVector x2 = FloatVector.broadcast(F, a[p2 + kk]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21); c22 = b2.fma(x2, c22);
            FloatVector x3 = FloatVector.broadcast(F, a[p3 + kk]);
            c30 = b0.fma(x3, c30); c31 = b1.fma(x3, c31); c32 = b2.fma(x3, c32);
            FloatVector x4 = FloatVector.broadcast(F, a[p4 + kk]);
            c40 = b0.fma(x4, c40); c41 = b1.fma(x4, c41); c42 = b2.fma(x4, c42);
            FloatVector x5 = FloatVector.broadcast(F, a[p5 + kk]);
            c50 = b0.fma(x5, c50); c51 = b1.fma(x5, c51); c52 = b2.fma(x5, c52);
        }
        if (c == null) {
            c00.intoArray(t, 0); c01.intoArray(t, L); c02.intoArray(t, 2 * L);
            c10.intoArray(t, NR); c11.intoArray(t, NR + L); c12.intoArray(t, NR + 2 * L);
            c20.intoArray(t, 2 * NR); c21.intoArray(t, 2 * NR + L); c22.intoArray(t, 2 * NR + 2 * L);
            c30.intoArray(t, 3 * NR); c31.intoArray(t, 3 * NR + L); c32.intoArray(t, 3 * NR + 2 * L);
            c40.intoArray(t, 4 * NR); c41.intoArray(t, 4 * NR + L); c42.intoArray(t, 4 * NR + 2 * L);
            c50.intoArray(t, 5 * NR); c51.intoArray(t, 5 * NR + L); c52.intoArray(t, 5 * NR + 2 * L);
            return;
        }
        FloatVector av = FloatVector.broadcast(F, alpha);
        long o = Mem.bytes(co), row = Mem.bytes(ldc);
        c00.mul(av).intoMemorySegment(c, o, BO); c01.mul(av).intoMemorySegment(c, o + LB, BO);
        c02.mul(av).intoMemorySegment(c, o + 2 * LB, BO);
        o += row;
        c10.mul(av).intoMemorySegment(c, o, BO); c11.mul(av).intoMemorySegment(c, o + LB, BO);
        c12.mul(av).intoMemorySegment(c, o + 2 * LB, BO);
        o += row;
        c20.mul(av).intoMemorySegment(c, o, BO); c21.mul(av).intoMemorySegment(c, o + LB, BO);
        c22.mul(av).intoMemorySegment(c, o + 2 * LB, BO);
        o += row;
        c30.mul(av).intoMemorySegment(c, o, BO); c31.mul(av).intoMemorySegment(c, o + LB, BO);
        c32.mul(av).intoMemorySegment(c, o + 2 * LB, BO);
        o += row;
        c40.mul(av).intoMemorySegment(c, o, BO); c41.mul(av).intoMemorySegment(c, o + LB, BO);
        c42.mul(av).intoMemorySegment(c, o + 2 * LB, BO);
        o += row;
        c50.mul(av).intoMemorySegment(c, o, BO); c51.mul(av).intoMemorySegment(c, o + LB, BO);
        c52.mul(av).intoMemorySegment(c, o + 2 * LB, BO);
    }

    /** 6 rows x 2 vectors (2-vector panels), NN/NT staging. */
    static void k6x2(int kc, float[] a, int aOff, int rs, float[] bp, int bo, float[] t,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        int p0 = aOff, p1 = p0 + rs, p2 = p1 + rs, p3 = p2 + rs, p4 = p3 + rs, p5 = p4 + rs;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector x0 = FloatVector.broadcast(F, a[p0 + kk]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(F, a[p1 + kk]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(F, a[p2 + kk]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21);
            FloatVector x3 = FloatVector.broadcast(F, a[p3 + kk]);
            c30 = b0.fma(x3, c30); c31 = b1.fma(x3, c31);
            FloatVector x4 = FloatVector.broadcast(F, a[p4 + kk]);
            c40 = b0.fma(x4, c40); c41 = b1.fma(x4, c41);
            FloatVector x5 = FloatVector.broadcast(F, a[p5 + kk]);
            c50 = b0.fma(x5, c50); c51 = b1.fma(x5, c51);
        }
        if (c == null) {
            c00.intoArray(t, 0); c01.intoArray(t, L);
            c10.intoArray(t, NR); c11.intoArray(t, NR + L);
            c20.intoArray(t, 2 * NR); c21.intoArray(t, 2 * NR + L);
            c30.intoArray(t, 3 * NR); c31.intoArray(t, 3 * NR + L);
            c40.intoArray(t, 4 * NR); c41.intoArray(t, 4 * NR + L);
            c50.intoArray(t, 5 * NR); c51.intoArray(t, 5 * NR + L);
            return;
        }
        FloatVector av = FloatVector.broadcast(F, alpha);
        long o = Mem.bytes(co), row = Mem.bytes(ldc);
        c00.mul(av).intoMemorySegment(c, o, BO); c01.mul(av).intoMemorySegment(c, o + LB, BO);
        o += row;
        c10.mul(av).intoMemorySegment(c, o, BO); c11.mul(av).intoMemorySegment(c, o + LB, BO);
        o += row;
        c20.mul(av).intoMemorySegment(c, o, BO); c21.mul(av).intoMemorySegment(c, o + LB, BO);
        o += row;
        c30.mul(av).intoMemorySegment(c, o, BO); c31.mul(av).intoMemorySegment(c, o + LB, BO);
        o += row;
        c40.mul(av).intoMemorySegment(c, o, BO); c41.mul(av).intoMemorySegment(c, o + LB, BO);
        o += row;
        c50.mul(av).intoMemorySegment(c, o, BO); c51.mul(av).intoMemorySegment(c, o + LB, BO);
    }

    /** 3 rows x 3 vectors, NN/NT staging. */
    static void k3x3(int kc, float[] a, int aOff, int rs, float[] bp, int bo, float[] t,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00;
        int p0 = aOff, p1 = p0 + rs, p2 = p1 + rs;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * 3 * L;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, b + 2 * L);
            FloatVector x0 = FloatVector.broadcast(F, a[p0 + kk]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01); c02 = b2.fma(x0, c02);
            FloatVector x1 = FloatVector.broadcast(F, a[p1 + kk]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11); c12 = b2.fma(x1, c12);
            FloatVector x2 = FloatVector.broadcast(F, a[p2 + kk]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21); c22 = b2.fma(x2, c22);
        }
        if (c == null) {
            c00.intoArray(t, 0); c01.intoArray(t, L); c02.intoArray(t, 2 * L);
            c10.intoArray(t, NR); c11.intoArray(t, NR + L); c12.intoArray(t, NR + 2 * L);
            c20.intoArray(t, 2 * NR); c21.intoArray(t, 2 * NR + L); c22.intoArray(t, 2 * NR + 2 * L);
            return;
        }
        FloatVector av = FloatVector.broadcast(F, alpha);
        long o = Mem.bytes(co), row = Mem.bytes(ldc);
        c00.mul(av).intoMemorySegment(c, o, BO); c01.mul(av).intoMemorySegment(c, o + LB, BO);
        c02.mul(av).intoMemorySegment(c, o + 2 * LB, BO);
        o += row;
        c10.mul(av).intoMemorySegment(c, o, BO); c11.mul(av).intoMemorySegment(c, o + LB, BO);
        c12.mul(av).intoMemorySegment(c, o + 2 * LB, BO);
        o += row;
        c20.mul(av).intoMemorySegment(c, o, BO); c21.mul(av).intoMemorySegment(c, o + LB, BO);
        c22.mul(av).intoMemorySegment(c, o + 2 * LB, BO);
    }

    /** 3 rows x 2 vectors, NN/NT staging. */
    static void k3x2(int kc, float[] a, int aOff, int rs, float[] bp, int bo, float[] t,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        int p0 = aOff, p1 = p0 + rs, p2 = p1 + rs;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector x0 = FloatVector.broadcast(F, a[p0 + kk]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(F, a[p1 + kk]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(F, a[p2 + kk]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21);
        }
        if (c == null) {
            c00.intoArray(t, 0); c01.intoArray(t, L);
            c10.intoArray(t, NR); c11.intoArray(t, NR + L);
            c20.intoArray(t, 2 * NR); c21.intoArray(t, 2 * NR + L);
            return;
        }
        FloatVector av = FloatVector.broadcast(F, alpha);
        long o = Mem.bytes(co), row = Mem.bytes(ldc);
        c00.mul(av).intoMemorySegment(c, o, BO); c01.mul(av).intoMemorySegment(c, o + LB, BO);
        o += row;
        c10.mul(av).intoMemorySegment(c, o, BO); c11.mul(av).intoMemorySegment(c, o + LB, BO);
        o += row;
        c20.mul(av).intoMemorySegment(c, o, BO); c21.mul(av).intoMemorySegment(c, o + LB, BO);
    }

    /** 1 row x 3 vectors (row tail) into t[to..]; A(kk) at {@code a[aOff + kk*ks]}. */
    static void k1x3(int kc, float[] a, int aOff, int ks, float[] bp, int bo, float[] t, int to,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00;
        int p = aOff;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * 3 * L;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, b + 2 * L);
            FloatVector x0 = FloatVector.broadcast(F, a[p]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01); c02 = b2.fma(x0, c02);
            p += ks;
        }
        if (c == null) {
            c00.intoArray(t, to); c01.intoArray(t, to + L); c02.intoArray(t, to + 2 * L);
            return;
        }
        FloatVector av = FloatVector.broadcast(F, alpha);
        long o = Mem.bytes(co), row = Mem.bytes(ldc);
        c00.mul(av).intoMemorySegment(c, o, BO); c01.mul(av).intoMemorySegment(c, o + LB, BO);
        c02.mul(av).intoMemorySegment(c, o + 2 * LB, BO);
    }

    /** 1 row x 2 vectors (row tail). */
    static void k1x2(int kc, float[] a, int aOff, int ks, float[] bp, int bo, float[] t, int to,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00;
        int p = aOff;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector x0 = FloatVector.broadcast(F, a[p]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01);
            p += ks;
        }
        if (c == null) {
            c00.intoArray(t, to); c01.intoArray(t, to + L);
            return;
        }
        FloatVector av = FloatVector.broadcast(F, alpha);
        long o = Mem.bytes(co), row = Mem.bytes(ldc);
        c00.mul(av).intoMemorySegment(c, o, BO); c01.mul(av).intoMemorySegment(c, o + LB, BO);
    }
}
