package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The TN micro-kernels of {@link GemmSimd}: {@link GemmKernels}' shapes and epilogues (raw tile into
 * {@code t}, or alpha * acc straight into C when {@code c != null}) for A staged transposed, element
 * (r, kk) of the row panel at {@code a[aOff + r + kk*TS]} with the constant stride
 * {@link GemmKernels#TS} (so C2 hoists the broadcasts' bounds checks). Same fma chain per output as
 * every other kernel.
 */
final class GemmKernelsT {
    private GemmKernelsT() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    private static final int NR = GemmKernels.NR;
    private static final int TS = GemmKernels.TS;
    private static final long LB = (long) L * Float.BYTES;
    private static final ByteOrder BO = Mem.ORDER;

    /** 6 rows x 3 vectors; row r of A at {@code a[aOff + r + kk*TS]} (TN). */
    static void k6x3t(int kc, float[] a, int aOff, float[] bp, int bo, float[] t,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
        FloatVector c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * 3 * L;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, b + 2 * L);
            FloatVector x0 = FloatVector.broadcast(F, a[aOff + kk * TS]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01); c02 = b2.fma(x0, c02);
            FloatVector x1 = FloatVector.broadcast(F, a[aOff + kk * TS + 1]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11); c12 = b2.fma(x1, c12);
            FloatVector x2 = FloatVector.broadcast(F, a[aOff + kk * TS + 2]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21); c22 = b2.fma(x2, c22);
            FloatVector x3 = FloatVector.broadcast(F, a[aOff + kk * TS + 3]);
            c30 = b0.fma(x3, c30); c31 = b1.fma(x3, c31); c32 = b2.fma(x3, c32);
            FloatVector x4 = FloatVector.broadcast(F, a[aOff + kk * TS + 4]);
            c40 = b0.fma(x4, c40); c41 = b1.fma(x4, c41); c42 = b2.fma(x4, c42);
            FloatVector x5 = FloatVector.broadcast(F, a[aOff + kk * TS + 5]);
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

    /** 6 rows x 2 vectors, TN staging. */
    static void k6x2t(int kc, float[] a, int aOff, float[] bp, int bo, float[] t,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector x0 = FloatVector.broadcast(F, a[aOff + kk * TS]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(F, a[aOff + kk * TS + 1]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(F, a[aOff + kk * TS + 2]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21);
            FloatVector x3 = FloatVector.broadcast(F, a[aOff + kk * TS + 3]);
            c30 = b0.fma(x3, c30); c31 = b1.fma(x3, c31);
            FloatVector x4 = FloatVector.broadcast(F, a[aOff + kk * TS + 4]);
            c40 = b0.fma(x4, c40); c41 = b1.fma(x4, c41);
            FloatVector x5 = FloatVector.broadcast(F, a[aOff + kk * TS + 5]);
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

    /** 3 rows x 3 vectors, TN staging. */
    static void k3x3t(int kc, float[] a, int aOff, float[] bp, int bo, float[] t,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * 3 * L;
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

    /** 3 rows x 2 vectors, TN staging. */
    static void k3x2t(int kc, float[] a, int aOff, float[] bp, int bo, float[] t,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int b = bo + kk * 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector x0 = FloatVector.broadcast(F, a[aOff + kk * TS]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(F, a[aOff + kk * TS + 1]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(F, a[aOff + kk * TS + 2]);
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
}
