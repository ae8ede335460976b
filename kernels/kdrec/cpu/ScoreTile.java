package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked "scoring" micro-kernel shared by fused score->top-K and the tiled softmax-CE
 * kernels: a tile C[mb x nb] = A[mb x k] . Bp, where Bp holds rows of B (the items) packed k-major
 * into panels of {@link #NR} columns. {@link TopKTile} runs the same arithmetic with a selecting
 * epilogue instead of the store.
 *
 * <p>Shape MR x NR = MR x (3 vectors). With 16 registers (AVX2, or any forced width below the
 * machine's) MR = 3: 9 accumulators + 3 B vectors + 3 broadcasts (C2 hoists all broadcasts of an
 * iteration, so 4x24 and 6x16 spill; reference/vector-api-calibration.md section 4.1). With native
 * 512-bit vectors (32 registers) MR = 6: 18 accumulators + 3 + 6 = 27 registers, and each B vector
 * loaded feeds 6 FMAs instead of 3, which halves the L1/L2 load traffic per FMA; on the Zen 5 box an
 * in-cache probe measured 6x3 at 225-228 GFLOP/s on one core against 173-186 for 3x3. The
 * accumulator is always the addend of {@code fma} so C2 emits an in-place vfmadd231ps.
 *
 * <p>Every shape computes each output as the same chain {@code acc = fma(b, a, acc)} over kk from
 * +0 in increasing order, so the results do not depend on MR, on row remainders or on how rows are
 * blocked (and equal {@link TopKScalar}'s sequential fma dot).
 */
public final class ScoreTile {
    private ScoreTile() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** True when the 6-row kernels are used: native (not emulated) vectors of at least 512 bits. */
    static final boolean WIDE = Simd.BITS >= 512 && !Simd.emulated();
    /** Rows per micro-tile. */
    public static final int MR = WIDE ? 6 : 3;
    /** Columns per packed panel (three vectors). */
    public static final int NR = 3 * L;

    /** Floats needed to pack {@code nb} rows of B with depth {@code k}: whole panels, zero padded. */
    public static int packedSize(int nb, int k) {
        return ((nb + NR - 1) / NR) * NR * k;
    }

    /**
     * Packs rows [j0, j0+nb) of B (row-major, n x k, leading dimension ldb, element offset bOff) into
     * {@code dst}: panel p, depth index kk, column c goes to {@code dst[p*k*NR + kk*NR + c]}; columns
     * past nb are zero.
     */
    public static void packB(MemorySegment b, long bOff, int ldb, int j0, int nb, int k, float[] dst) {
        packB(b, bOff, ldb, j0, nb, k, dst, 0);
    }

    /** {@link #packB} into dst from offset dstOff. */
    public static void packB(MemorySegment b, long bOff, int ldb, int j0, int nb, int k, float[] dst, int dstOff) {
        int panels = (nb + NR - 1) / NR;
        float[] row = new float[k];
        for (int p = 0; p < panels; p++) {
            int base = dstOff + p * k * NR;
            for (int c = 0; c < NR; c++) {
                int j = p * NR + c;
                if (j < nb) {
                    Mem.copyOut(b, bOff + (long) (j0 + j) * ldb, row, 0, k);
                    for (int kk = 0; kk < k; kk++) dst[base + kk * NR + c] = row[kk];
                } else {
                    for (int kk = 0; kk < k; kk++) dst[base + kk * NR + c] = 0f;
                }
            }
        }
    }

    /**
     * C[i*ldc + j] = sum_kk a[aOff + i*lda + kk] * B[j][kk] for i in [0, mb), j in [0, nb), where B is
     * packed in {@code bp} from offset 0 (see {@link #packB}). {@code c} needs room for whole
     * panels: nb rounded up to NR columns in each row, i.e. ldc >= ceil(nb/NR)*NR.
     */
    public static void tile(int mb, int nb, int k, float[] a, int aOff, int lda, float[] bp, float[] c, int ldc) {
        int panels = (nb + NR - 1) / NR;
        int i = 0;
        if (WIDE) {
            for (; i + 6 <= mb; i += 6) {
                int ao = aOff + i * lda;
                for (int p = 0; p < panels; p++) {
                    kernel6(k, a, ao, lda, bp, p * k * NR, c, i * ldc + p * NR, ldc);
                }
            }
        }
        for (; i + 3 <= mb; i += 3) {
            int ao = aOff + i * lda;
            for (int p = 0; p < panels; p++) {
                kernel3(k, a, ao, lda, bp, p * k * NR, c, i * ldc + p * NR, ldc);
            }
        }
        for (; i < mb; i++) {
            int ao = aOff + i * lda;
            for (int p = 0; p < panels; p++) {
                kernel1(k, a, ao, bp, p * k * NR, c, i * ldc + p * NR);
            }
        }
    }

    /** 6 rows x NR columns (native 512-bit vectors only: 27 of the 32 registers). */
    static void kernel6(int k, float[] a, int ao, int lda, float[] bp, int bo, float[] c, int co, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
        FloatVector c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
        int a1 = ao + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int kk = 0; kk < k; kk++) {
            int b = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, b + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ao + kk]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02);
            x = FloatVector.broadcast(F, a[a1 + kk]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12);
            x = FloatVector.broadcast(F, a[a2 + kk]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22);
            x = FloatVector.broadcast(F, a[a3 + kk]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32);
            x = FloatVector.broadcast(F, a[a4 + kk]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); c42 = b2.fma(x, c42);
            x = FloatVector.broadcast(F, a[a5 + kk]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); c52 = b2.fma(x, c52);
        }
        c00.intoArray(c, co); c01.intoArray(c, co + L); c02.intoArray(c, co + 2 * L);
        co += ldc;
        c10.intoArray(c, co); c11.intoArray(c, co + L); c12.intoArray(c, co + 2 * L);
        co += ldc;
        c20.intoArray(c, co); c21.intoArray(c, co + L); c22.intoArray(c, co + 2 * L);
        co += ldc;
        c30.intoArray(c, co); c31.intoArray(c, co + L); c32.intoArray(c, co + 2 * L);
        co += ldc;
        c40.intoArray(c, co); c41.intoArray(c, co + L); c42.intoArray(c, co + 2 * L);
        co += ldc;
        c50.intoArray(c, co); c51.intoArray(c, co + L); c52.intoArray(c, co + 2 * L);
    }

    /** 3 rows x NR columns. */
    static void kernel3(int k, float[] a, int ao, int lda, float[] bp, int bo, float[] c, int co, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00;
        int a1 = ao + lda, a2 = ao + 2 * lda;
        for (int kk = 0; kk < k; kk++) {
            int b = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, b + 2 * L);
            FloatVector x0 = FloatVector.broadcast(F, a[ao + kk]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01); c02 = b2.fma(x0, c02);
            FloatVector x1 = FloatVector.broadcast(F, a[a1 + kk]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11); c12 = b2.fma(x1, c12);
            FloatVector x2 = FloatVector.broadcast(F, a[a2 + kk]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21); c22 = b2.fma(x2, c22);
        }
        c00.intoArray(c, co); c01.intoArray(c, co + L); c02.intoArray(c, co + 2 * L);
        co += ldc;
        c10.intoArray(c, co); c11.intoArray(c, co + L); c12.intoArray(c, co + 2 * L);
        co += ldc;
        c20.intoArray(c, co); c21.intoArray(c, co + L); c22.intoArray(c, co + 2 * L);
    }

    /** 1 row x NR columns (row remainder). */
    static void kernel1(int k, float[] a, int ao, float[] bp, int bo, float[] c, int co) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0;
        for (int kk = 0; kk < k; kk++) {
            int b = bo + kk * NR;
            FloatVector x = FloatVector.broadcast(F, a[ao + kk]);
            c0 = FloatVector.fromArray(F, bp, b).fma(x, c0);
            c1 = FloatVector.fromArray(F, bp, b + L).fma(x, c1);
            c2 = FloatVector.fromArray(F, bp, b + 2 * L).fma(x, c2);
        }
        c0.intoArray(c, co); c1.intoArray(c, co + L); c2.intoArray(c, co + 2 * L);
    }
}
