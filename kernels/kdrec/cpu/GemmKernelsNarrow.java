package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link GemmSimd}'s micro-kernels for outputs at most one vector wide (n <= lanes: the attention's
 * per-head products at dh = 16, NN and TN), panels of one vector. With two-vector panels half of
 * every FMA went to zero columns at n = 16; one vector of 6 rows would leave the FMA units waiting on
 * 6 dependent chains, so these kernels take twice {@link GemmKernels}' rows: 12 rows with native
 * 512-bit vectors (12 accumulators + 1 B vector + 12 broadcasts = 25 of 32 registers), 6 with 16
 * registers. Row panels are always computed whole: for a partial panel the staged rows past the
 * last are stale but inside the staging buffer, and {@link GemmSimd} stores only the real rows from
 * the raw tile. Staging as in {@link GemmKernels} (row slices, stride rs) and {@link GemmKernelsT}
 * (transposed blocks, constant stride {@link GemmKernels#TS}); B packed k-major, {@code bp[bo + kk*L]}.
 * Same fma chain per output as every other kernel, so results do not change with the panel shape.
 */
final class GemmKernelsNarrow {
    private GemmKernelsNarrow() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    private static final int NR = GemmKernels.NR;
    private static final int TS = GemmKernels.TS;
    private static final ByteOrder BO = Mem.ORDER;
    /** Rows of a one-vector panel: twice the wide kernels' (12 with native 512-bit vectors, else 6). */
    static final int MR = 2 * ScoreTile.MR;

    /** 12 rows x 1 vector; row r of A at {@code a[aOff + r*rs + kk]} (NN, NT; native 512-bit only). */
    static void k12x1(int kc, float[] a, int aOff, int rs, float[] bp, int bo, float[] t,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        int p0 = aOff, p1 = p0 + rs, p2 = p1 + rs, p3 = p2 + rs, p4 = p3 + rs, p5 = p4 + rs;
        int p6 = p5 + rs, p7 = p6 + rs, p8 = p7 + rs, p9 = p8 + rs, p10 = p9 + rs, p11 = p10 + rs;
        for (int kk = 0; kk < kc; kk++) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bo + kk * L);
            c0 = b0.fma(FloatVector.broadcast(F, a[p0 + kk]), c0);
            c1 = b0.fma(FloatVector.broadcast(F, a[p1 + kk]), c1);
            c2 = b0.fma(FloatVector.broadcast(F, a[p2 + kk]), c2);
            c3 = b0.fma(FloatVector.broadcast(F, a[p3 + kk]), c3);
            c4 = b0.fma(FloatVector.broadcast(F, a[p4 + kk]), c4);
            c5 = b0.fma(FloatVector.broadcast(F, a[p5 + kk]), c5);
            c6 = b0.fma(FloatVector.broadcast(F, a[p6 + kk]), c6);
            c7 = b0.fma(FloatVector.broadcast(F, a[p7 + kk]), c7);
            c8 = b0.fma(FloatVector.broadcast(F, a[p8 + kk]), c8);
            c9 = b0.fma(FloatVector.broadcast(F, a[p9 + kk]), c9);
            c10 = b0.fma(FloatVector.broadcast(F, a[p10 + kk]), c10);
            c11 = b0.fma(FloatVector.broadcast(F, a[p11 + kk]), c11);
        }
        if (c == null) {
            c0.intoArray(t, 0); c1.intoArray(t, NR); c2.intoArray(t, 2 * NR);
            c3.intoArray(t, 3 * NR); c4.intoArray(t, 4 * NR); c5.intoArray(t, 5 * NR);
            c6.intoArray(t, 6 * NR); c7.intoArray(t, 7 * NR); c8.intoArray(t, 8 * NR);
            c9.intoArray(t, 9 * NR); c10.intoArray(t, 10 * NR); c11.intoArray(t, 11 * NR);
            return;
        }
        FloatVector av = FloatVector.broadcast(F, alpha);
        long o = Mem.bytes(co), row = Mem.bytes(ldc);
        c0.mul(av).intoMemorySegment(c, o, BO);
        c1.mul(av).intoMemorySegment(c, o + row, BO);
        c2.mul(av).intoMemorySegment(c, o + 2 * row, BO);
        c3.mul(av).intoMemorySegment(c, o + 3 * row, BO);
        c4.mul(av).intoMemorySegment(c, o + 4 * row, BO);
        c5.mul(av).intoMemorySegment(c, o + 5 * row, BO);
        c6.mul(av).intoMemorySegment(c, o + 6 * row, BO);
        c7.mul(av).intoMemorySegment(c, o + 7 * row, BO);
        c8.mul(av).intoMemorySegment(c, o + 8 * row, BO);
        c9.mul(av).intoMemorySegment(c, o + 9 * row, BO);
        c10.mul(av).intoMemorySegment(c, o + 10 * row, BO);
        c11.mul(av).intoMemorySegment(c, o + 11 * row, BO);
    }

    /** 12 rows x 1 vector; row r of A at {@code a[aOff + r + kk*TS]} (TN; native 512-bit only). */
    static void k12x1t(int kc, float[] a, int aOff, float[] bp, int bo, float[] t,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int kk = 0; kk < kc; kk++) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bo + kk * L);
            c0 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS]), c0);
            c1 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 1]), c1);
            c2 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 2]), c2);
            c3 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 3]), c3);
            c4 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 4]), c4);
            c5 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 5]), c5);
            c6 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 6]), c6);
            c7 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 7]), c7);
            c8 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 8]), c8);
            c9 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 9]), c9);
            c10 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 10]), c10);
            c11 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 11]), c11);
        }
        if (c == null) {
            c0.intoArray(t, 0); c1.intoArray(t, NR); c2.intoArray(t, 2 * NR);
            c3.intoArray(t, 3 * NR); c4.intoArray(t, 4 * NR); c5.intoArray(t, 5 * NR);
            c6.intoArray(t, 6 * NR); c7.intoArray(t, 7 * NR); c8.intoArray(t, 8 * NR);
            c9.intoArray(t, 9 * NR); c10.intoArray(t, 10 * NR); c11.intoArray(t, 11 * NR);
            return;
        }
        FloatVector av = FloatVector.broadcast(F, alpha);
        long o = Mem.bytes(co), row = Mem.bytes(ldc);
        c0.mul(av).intoMemorySegment(c, o, BO);
        c1.mul(av).intoMemorySegment(c, o + row, BO);
        c2.mul(av).intoMemorySegment(c, o + 2 * row, BO);
        c3.mul(av).intoMemorySegment(c, o + 3 * row, BO);
        c4.mul(av).intoMemorySegment(c, o + 4 * row, BO);
        c5.mul(av).intoMemorySegment(c, o + 5 * row, BO);
        c6.mul(av).intoMemorySegment(c, o + 6 * row, BO);
        c7.mul(av).intoMemorySegment(c, o + 7 * row, BO);
        c8.mul(av).intoMemorySegment(c, o + 8 * row, BO);
        c9.mul(av).intoMemorySegment(c, o + 9 * row, BO);
        c10.mul(av).intoMemorySegment(c, o + 10 * row, BO);
        c11.mul(av).intoMemorySegment(c, o + 11 * row, BO);
    }

    /** 6 rows x 1 vector, NN/NT staging (16 registers). */
    static void k6x1(int kc, float[] a, int aOff, int rs, float[] bp, int bo, float[] t,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        int p0 = aOff, p1 = p0 + rs, p2 = p1 + rs, p3 = p2 + rs, p4 = p3 + rs, p5 = p4 + rs;
        for (int kk = 0; kk < kc; kk++) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bo + kk * L);
            c0 = b0.fma(FloatVector.broadcast(F, a[p0 + kk]), c0);
            c1 = b0.fma(FloatVector.broadcast(F, a[p1 + kk]), c1);
            c2 = b0.fma(FloatVector.broadcast(F, a[p2 + kk]), c2);
            c3 = b0.fma(FloatVector.broadcast(F, a[p3 + kk]), c3);
            c4 = b0.fma(FloatVector.broadcast(F, a[p4 + kk]), c4);
            c5 = b0.fma(FloatVector.broadcast(F, a[p5 + kk]), c5);
        }
        if (c == null) {
            c0.intoArray(t, 0); c1.intoArray(t, NR); c2.intoArray(t, 2 * NR);
            c3.intoArray(t, 3 * NR); c4.intoArray(t, 4 * NR); c5.intoArray(t, 5 * NR);
            return;
        }
        FloatVector av = FloatVector.broadcast(F, alpha);
        long o = Mem.bytes(co), row = Mem.bytes(ldc);
        c0.mul(av).intoMemorySegment(c, o, BO);
        c1.mul(av).intoMemorySegment(c, o + row, BO);
        c2.mul(av).intoMemorySegment(c, o + 2 * row, BO);
        c3.mul(av).intoMemorySegment(c, o + 3 * row, BO);
        c4.mul(av).intoMemorySegment(c, o + 4 * row, BO);
        c5.mul(av).intoMemorySegment(c, o + 5 * row, BO);
    }

    /** 6 rows x 1 vector, TN staging (16 registers). */
    static void k6x1t(int kc, float[] a, int aOff, float[] bp, int bo, float[] t,
                    MemorySegment c, long co, long ldc, float alpha) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        for (int kk = 0; kk < kc; kk++) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bo + kk * L);
            c0 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS]), c0);
            c1 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 1]), c1);
            c2 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 2]), c2);
            c3 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 3]), c3);
            c4 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 4]), c4);
            c5 = b0.fma(FloatVector.broadcast(F, a[aOff + kk * TS + 5]), c5);
        }
        if (c == null) {
            c0.intoArray(t, 0); c1.intoArray(t, NR); c2.intoArray(t, 2 * NR);
            c3.intoArray(t, 3 * NR); c4.intoArray(t, 4 * NR); c5.intoArray(t, 5 * NR);
            return;
        }
        FloatVector av = FloatVector.broadcast(F, alpha);
        long o = Mem.bytes(co), row = Mem.bytes(ldc);
        c0.mul(av).intoMemorySegment(c, o, BO);
        c1.mul(av).intoMemorySegment(c, o + row, BO);
        c2.mul(av).intoMemorySegment(c, o + 2 * row, BO);
        c3.mul(av).intoMemorySegment(c, o + 3 * row, BO);
        c4.mul(av).intoMemorySegment(c, o + 4 * row, BO);
        c5.mul(av).intoMemorySegment(c, o + 5 * row, BO);
    }
}
