package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Plain scalar GEMM: the test oracle and the benchmark baseline for {@link GemmSimd}.
 * C = alpha * op(A) . op(B) + beta * C over row-major float32 segments with element offsets and
 * leading dimensions. Single-threaded. Each output is a float sum over k in increasing order, then
 * {@code alpha * sum + beta * c}; with {@code beta == 0} C is only written, never read, so NaN or
 * garbage in C does not leak. The loop orders keep the innermost loop on contiguous memory (a fair
 * baseline, not a pessimised one), at the price of one float[n] row accumulator per call.
 */
public final class GemmScalar {
    private GemmScalar() {}

    /** C = alpha * A . B + beta * C ; A m x k, B k x n (row-major). */
    public static void nn(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                          MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        GemmArgs.check("GemmScalar.nn", false, false, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        float[] acc = new float[n];
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(acc, 0f);
            for (int p = 0; p < k; p++) {
                float x = Mem.get(a, aOff + (long) i * lda + p);
                long bo = bOff + (long) p * ldb;
                for (int j = 0; j < n; j++) acc[j] += x * Mem.get(b, bo + j);
            }
            storeRow(acc, n, alpha, beta, c, cOff + (long) i * ldc);
        }
    }

    /** C = alpha * A . B^T + beta * C ; A m x k, B n x k. */
    public static void nt(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                          MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        GemmArgs.check("GemmScalar.nt", false, true, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        float[] acc = new float[n];
        for (int i = 0; i < m; i++) {
            long ao = aOff + (long) i * lda;
            for (int j = 0; j < n; j++) {
                long bo = bOff + (long) j * ldb;
                float s = 0f;
                for (int p = 0; p < k; p++) s += Mem.get(a, ao + p) * Mem.get(b, bo + p);
                acc[j] = s;
            }
            storeRow(acc, n, alpha, beta, c, cOff + (long) i * ldc);
        }
    }

    /** C = alpha * A^T . B + beta * C ; A k x m, B k x n. */
    public static void tn(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                          MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        GemmArgs.check("GemmScalar.tn", true, false, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        float[] acc = new float[n];
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(acc, 0f);
            for (int p = 0; p < k; p++) {
                float x = Mem.get(a, aOff + (long) p * lda + i);
                long bo = bOff + (long) p * ldb;
                for (int j = 0; j < n; j++) acc[j] += x * Mem.get(b, bo + j);
            }
            storeRow(acc, n, alpha, beta, c, cOff + (long) i * ldc);
        }
    }

    private static void storeRow(float[] acc, int n, float alpha, float beta, MemorySegment c, long co) {
        for (int j = 0; j < n; j++) {
            float v = alpha * acc[j];
            if (beta != 0f) v += beta * Mem.get(c, co + j);
            Mem.set(c, co + j, v);
        }
    }
}
