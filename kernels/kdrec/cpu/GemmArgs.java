package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Argument checks shared by {@link GemmScalar} and {@link GemmSimd}, so both reject exactly the same
 * calls. Runs once per public call; the kernels behind it trust their arguments.
 */
final class GemmArgs {
    private GemmArgs() {}

    /**
     * Checks dims, leading dimensions, offsets and segment extents for C = op(A) . op(B), with
     * {@code ta}/{@code tb} saying whether A is stored k x m (transposed) and B n x k (transposed).
     */
    static void check(String kernel, boolean ta, boolean tb, int m, int n, int k,
                      MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                      MemorySegment c, long cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(kernel + ": negative dims m=" + m + " n=" + n + " k=" + k);
        }
        if (a == null || b == null || c == null) throw new IllegalArgumentException(kernel + ": null segment");
        int aRows = ta ? k : m, aCols = ta ? m : k;
        int bRows = tb ? n : k, bCols = tb ? k : n;
        matrix(kernel, "A", ta ? "k x m" : "m x k", a, aOff, aRows, aCols, lda, m, n, k);
        matrix(kernel, "B", tb ? "n x k" : "k x n", b, bOff, bRows, bCols, ldb, m, n, k);
        matrix(kernel, "C", "m x n", c, cOff, m, n, ldc, m, n, k);
    }

    private static void matrix(String kernel, String name, String shape, MemorySegment s, long off, int rows, int cols,
                               int ld, int m, int n, int k) {
        if (ld < cols || ld < 0) {
            throw new IllegalArgumentException(kernel + ": ld" + name.toLowerCase() + "=" + ld + " < " + cols
                    + " columns of " + name + " (" + shape + ", m=" + m + " n=" + n + " k=" + k + ")");
        }
        if (off < 0) throw new IllegalArgumentException(kernel + ": negative offset " + off + " of " + name);
        long extent = rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
        if (off + extent > Mem.floats(s)) {
            throw new IllegalArgumentException(kernel + ": " + name + " (" + shape + ", m=" + m + " n=" + n + " k=" + k
                    + ", ld " + ld + ", offset " + off + ") needs " + (off + extent) + " floats, segment has " + Mem.floats(s));
        }
    }
}
