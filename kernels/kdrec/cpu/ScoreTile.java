package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked "scoring" micro-kernel shared by GEMM NT, fused score->top-K and the tiled
 * softmax-CE kernels: a tile C[mb x nb] = A[mb x k] . Bp, where Bp holds rows of B (the items)
 * packed k-major into panels of {@link #NR} columns.
 *
 * <p>Shape MR x NR = 3 x (3 vectors): 9 accumulators + 3 B vectors + 3 broadcasts stay within the
 * 16 AVX2 registers (C2 hoists all broadcasts of an iteration, so 4x24 and 6x16 spill; see
 * reference/vector-api-calibration.md section 4.1). The accumulator is always the addend of
 * {@code fma} so C2 emits an in-place vfmadd231ps.
 */
public final class ScoreTile {
    private ScoreTile() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Rows per micro-tile. */
    public static final int MR = 3;
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
        int panels = (nb + NR - 1) / NR;
        float[] row = new float[k];
        for (int p = 0; p < panels; p++) {
            int base = p * k * NR;
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
        for (; i + MR <= mb; i += MR) {
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
