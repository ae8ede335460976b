package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Scalar reference for sparse (CSR) x dense products: the test oracle and benchmark baseline of
 * {@link SpmmSimd}. Single-threaded, plain loops, float accumulation in storage order.
 *
 * <p>{@link #spmmT} scatters (Y[col] += val * X[row]) instead of transposing, so it checks the SIMD
 * kernel's transpose path by a different route; per output row it adds entries in the same order
 * (increasing source row, then storage order). Argument rules are those of {@link SpmmSimd}.
 */
public final class SpmmScalar {
    private SpmmScalar() {}

    /** Y (m x d) = A . X + beta * Y ; X is (ncols x d). beta == 0: Y not read. */
    public static void spmm(int m, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff, int ldx,
                            float beta, MemorySegment y, long yOff, int ldy) {
        SpmmSimd.checkSpmm("spmm", m, d, ptr, col, val, x, xOff, ldx, y, yOff, ldy);
        for (int i = 0; i < m; i++) row(i, i, d, ptr, col, val, x, xOff, ldx, beta, y, yOff, ldy);
    }

    /** Y (n x d) = A^T . X + beta * Y ; A has m rows and n columns, X is (m x d). */
    public static void spmmT(int m, int n, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff, int ldx,
                             float beta, MemorySegment y, long yOff, int ldy) {
        SpmmSimd.checkSpmmT(m, n, d, ptr, col, val, x, xOff, ldx, y, yOff, ldy);
        for (int j = 0; j < n; j++) {
            long yo = yOff + (long) j * ldy;
            for (int c = 0; c < d; c++) Mem.set(y, yo + c, beta == 0f ? 0f : beta * Mem.get(y, yo + c));
        }
        for (int i = 0; i < m; i++) {
            long xo = xOff + (long) i * ldx;
            for (int k = ptr[i]; k < ptr[i + 1]; k++) {
                float v = val == null ? 1f : val[k];
                long yo = yOff + (long) col[k] * ldy;
                for (int c = 0; c < d; c++) Mem.set(y, yo + c, Mem.get(y, yo + c) + v * Mem.get(x, xo + c));
            }
        }
    }

    /** Row-restricted: Y[t] = (A . X)[rows[t]] + beta * Y[t] for t in [0, nRows) (Y is nRows x d). */
    public static void spmmRows(int nRows, int[] rows, int d, int[] ptr, int[] col, float[] val,
                                MemorySegment x, long xOff, int ldx, float beta, MemorySegment y, long yOff, int ldy) {
        SpmmSimd.checkSpmmRows(nRows, rows, d, ptr, col, val, x, xOff, ldx, y, yOff, ldy);
        for (int t = 0; t < nRows; t++) row(rows[t], t, d, ptr, col, val, x, xOff, ldx, beta, y, yOff, ldy);
    }

    private static void row(int i, int out, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff, int ldx,
                            float beta, MemorySegment y, long yOff, int ldy) {
        long yo = yOff + (long) out * ldy;
        for (int c = 0; c < d; c++) {
            float s = 0f;
            for (int k = ptr[i]; k < ptr[i + 1]; k++) {
                float v = val == null ? 1f : val[k];
                s += v * Mem.get(x, xOff + (long) col[k] * ldx + c);
            }
            Mem.set(y, yo + c, beta == 0f ? s : s + beta * Mem.get(y, yo + c));
        }
    }
}
