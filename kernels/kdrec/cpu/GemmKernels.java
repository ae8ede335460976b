package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-blocked GEMM micro-kernels for {@link GemmSimd}: C[MR x NR] = alpha * A[MR x kc] . Bp + beta * C.
 *
 * <p>A is broadcast from a float[] staging copy: element (r, kk) of the row panel sits at
 * {@code a[aOff + r*rs + kk]} for row-major slices (NN, NT: {@link #k3x3}, {@link #k3x2}) and at
 * {@code a[aOff + r + kk*TS]} for transposed blocks (TN: {@link #k3x3t}, {@link #k3x2t}); the one-row
 * tail kernels take a general stride ks. The 3-row kernels keep the k stride a compile-time constant
 * so the broadcast index is {@code const*kk + invariant} and C2's range-check elimination hoists its
 * bounds checks; with a runtime stride (three pointers stepping by ks) every broadcast kept a check and
 * NN/NT ran 15-30 % slower. A float[] and not the caller's segment:
 * a {@code MemorySegment.get} per broadcast measured 13 GFLOP/s (native) and 7 (heap, once the call
 * site had seen both kinds) against 63 from an array, in cache, on one core. B comes packed k-major,
 * NR columns per k step ({@code bp[bo + kk*NR + c]}), zero-padded past the last column.
 *
 * <p>Shape 3 x (3 vectors), plus 3 x (2 vectors) for a narrow last panel: 9 accumulators + 3 B
 * vectors + 3 broadcasts fit the 16 AVX2 registers (C2 hoists all broadcasts of a k step, so 4x24 or
 * 6x16 spill: reference/vector-api-calibration.md 4.1). 4 x (2 vectors) was tried for n = 64: in
 * cache it ran 55-64 GFLOP/s against 60-88 for 3 x (3 vectors) on one core, so narrow outputs use
 * 3-row panels too. The accumulator is always the addend of {@code fma}
 * (in-place vfmadd231ps). One-row kernels cover row tails.
 *
 * <p>Numerics: every path (full tile, one-row tail, any shape or width) computes each output as the
 * same fused chain {@code acc = fma(b, a, acc)} over kk in increasing order from 0, then
 * {@code fma(acc, alpha, beta * c)} (or {@code acc * alpha} when beta is 0, C not read). That is why
 * {@link GemmSimd}'s results do not depend on the tiling or on how rows and columns are split over threads.
 */
final class GemmKernels {
    private GemmKernels() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /**
     * Row stride of the TN staging of A ({@code a[kk*TS + x]}, 48 columns of A): a constant, so that the
     * broadcast index is {@code kk*TS + const} and C2 hoists its bounds check out of the k loop. With the
     * stride as an argument (or a second induction variable) every broadcast kept its check.
     */
    static final int TS = 48;
    private static final long LB = (long) L * Float.BYTES;

    /** Stores alpha * acc + beta * C at byte offset {@code at}; beta == 0 does not read C. */
    private static void st(FloatVector acc, MemorySegment c, long at, float alpha, float beta) {
        FloatVector r = beta == 0f ? acc.mul(alpha)
                : acc.fma(FloatVector.broadcast(F, alpha), FloatVector.fromMemorySegment(F, c, at, Mem.ORDER).mul(beta));
        r.intoMemorySegment(c, at, Mem.ORDER);
    }

    /** 3 rows x 3 vectors; row r of A at {@code a[aOff + r*rs + kk]} (NN, NT). */
    static void k3x3(int kc, float[] a, int aOff, int rs, float[] bp, int bo,
                     MemorySegment c, long cOff, long ldc, float alpha, float beta) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00;
        int p0 = aOff, p1 = p0 + rs, p2 = p1 + rs;
        final int nr = 3 * L;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * nr;
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
        long o = Mem.bytes(cOff), row = Mem.bytes(ldc);
        st(c00, c, o, alpha, beta); st(c01, c, o + LB, alpha, beta); st(c02, c, o + 2 * LB, alpha, beta);
        o += row;
        st(c10, c, o, alpha, beta); st(c11, c, o + LB, alpha, beta); st(c12, c, o + 2 * LB, alpha, beta);
        o += row;
        st(c20, c, o, alpha, beta); st(c21, c, o + LB, alpha, beta); st(c22, c, o + 2 * LB, alpha, beta);
    }

    /** 3 rows x 3 vectors; row r of A at {@code a[aOff + r + kk*TS]} (TN). */
    static void k3x3t(int kc, float[] a, int aOff, float[] bp, int bo,
                     MemorySegment c, long cOff, long ldc, float alpha, float beta) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00;
        final int nr = 3 * L;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * nr;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, b + 2 * L);
            FloatVector x0 = FloatVector.broadcast(F, a[aOff + kk * TS]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01); c02 = b2.fma(x0, c02);
            FloatVector x1 = FloatVector.broadcast(F, a[aOff + kk * TS + 1]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11); c12 = b2.fma(x1, c12);
            FloatVector x2 = FloatVector.broadcast(F, a[aOff + kk * TS + 2]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21); c22 = b2.fma(x2, c22);
        }
        long o = Mem.bytes(cOff), row = Mem.bytes(ldc);
        st(c00, c, o, alpha, beta); st(c01, c, o + LB, alpha, beta); st(c02, c, o + 2 * LB, alpha, beta);
        o += row;
        st(c10, c, o, alpha, beta); st(c11, c, o + LB, alpha, beta); st(c12, c, o + 2 * LB, alpha, beta);
        o += row;
        st(c20, c, o, alpha, beta); st(c21, c, o + LB, alpha, beta); st(c22, c, o + 2 * LB, alpha, beta);
    }

    /** 1 row x 3 vectors (row tail of the 3-row kernel). */
    static void k1x3(int kc, float[] a, int aOff, int ks, float[] bp, int bo,
                     MemorySegment c, long cOff, float alpha, float beta) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0;
        int p = aOff;
        final int nr = 3 * L;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * nr;
            FloatVector x = FloatVector.broadcast(F, a[p]);
            c0 = FloatVector.fromArray(F, bp, b).fma(x, c0);
            c1 = FloatVector.fromArray(F, bp, b + L).fma(x, c1);
            c2 = FloatVector.fromArray(F, bp, b + 2 * L).fma(x, c2);
            p += ks;
        }
        long o = Mem.bytes(cOff);
        st(c0, c, o, alpha, beta); st(c1, c, o + LB, alpha, beta); st(c2, c, o + 2 * LB, alpha, beta);
    }

    /**
     * 3 rows x 2 vectors, reading the first two vectors of 3-vector panels (row stride {@code bs}): the
     * last panel when at most 2 vectors of columns remain (n = 64 = 24 + 24 + 16 needs no padding).
     */
    static void k3x2(int kc, float[] a, int aOff, int rs, float[] bp, int bo, int bs,
                     MemorySegment c, long cOff, long ldc, float alpha, float beta) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        int p0 = aOff, p1 = p0 + rs, p2 = p1 + rs;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * bs;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector x0 = FloatVector.broadcast(F, a[p0 + kk]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(F, a[p1 + kk]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(F, a[p2 + kk]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21);
        }
        long o = Mem.bytes(cOff), row = Mem.bytes(ldc);
        st(c00, c, o, alpha, beta); st(c01, c, o + LB, alpha, beta);
        o += row;
        st(c10, c, o, alpha, beta); st(c11, c, o + LB, alpha, beta);
        o += row;
        st(c20, c, o, alpha, beta); st(c21, c, o + LB, alpha, beta);
    }

    /** {@link #k3x2} for the TN staging, A(r, kk) at {@code a[aOff + r + kk*TS]}. */
    static void k3x2t(int kc, float[] a, int aOff, float[] bp, int bo, int bs,
                     MemorySegment c, long cOff, long ldc, float alpha, float beta) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * bs;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector x0 = FloatVector.broadcast(F, a[aOff + kk * TS]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(F, a[aOff + kk * TS + 1]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(F, a[aOff + kk * TS + 2]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21);
        }
        long o = Mem.bytes(cOff), row = Mem.bytes(ldc);
        st(c00, c, o, alpha, beta); st(c01, c, o + LB, alpha, beta);
        o += row;
        st(c10, c, o, alpha, beta); st(c11, c, o + LB, alpha, beta);
        o += row;
        st(c20, c, o, alpha, beta); st(c21, c, o + LB, alpha, beta);
    }

    /** 1 row x 2 vectors (row tail of {@link #k3x2}). */
    static void k1x2(int kc, float[] a, int aOff, int ks, float[] bp, int bo, int bs,
                     MemorySegment c, long cOff, float alpha, float beta) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0;
        int p = aOff;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * bs;
            FloatVector x = FloatVector.broadcast(F, a[p]);
            c0 = FloatVector.fromArray(F, bp, b).fma(x, c0);
            c1 = FloatVector.fromArray(F, bp, b + L).fma(x, c1);
            p += ks;
        }
        long o = Mem.bytes(cOff);
        st(c0, c, o, alpha, beta); st(c1, c, o + LB, alpha, beta);
    }
}
