package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Argument checks shared by {@link TopKScalar} and {@link TopKSimd}, run once at each public entry so
 * that both twins reject exactly the same inputs with the same messages.
 */
final class TopKArgs {
    private TopKArgs() {}

    /** Checks a dense row-major operand of {@code rows x cols} with leading dimension {@code ld}. */
    static void checkMatrix(String kernel, String what, MemorySegment s, long off, int rows, int cols, int ld) {
        if (s == null) throw new IllegalArgumentException(kernel + ": " + what + " segment is null");
        if (off < 0) throw new IllegalArgumentException(kernel + ": " + what + " offset " + off + " < 0");
        if (ld < cols) {
            throw new IllegalArgumentException(kernel + ": " + what + " leading dimension " + ld + " < width " + cols);
        }
        if (rows == 0 || cols == 0) return;
        Mem.checkRange(kernel + ": " + what + " (" + rows + " x " + cols + ", ld " + ld + ")", s, off,
                (long) (rows - 1) * ld + cols);
    }

    /** Checks dims, outputs and the optional exclusion CSR. */
    static void checkCommon(String kernel, int m, int n, int k, int[] excludePtr, int[] excludeIdx,
                            int[] outIdx, float[] outScore) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(kernel + ": negative dims m=" + m + ", n=" + n + ", k=" + k);
        }
        long slots = (long) m * k;
        if (slots > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(kernel + ": m*k = " + slots + " too large");
        if (outIdx == null || outScore == null) throw new IllegalArgumentException(kernel + ": output arrays are null");
        if (outIdx.length < slots || outScore.length < slots) {
            throw new IllegalArgumentException(kernel + ": outputs hold " + outIdx.length + " ids / " + outScore.length
                    + " scores, need m*k = " + slots + " (m=" + m + ", k=" + k + ")");
        }
        if ((excludePtr == null) != (excludeIdx == null)) {
            throw new IllegalArgumentException(kernel + ": excludePtr and excludeIdx must both be null or both be set");
        }
        if (excludePtr == null) return;
        if (excludePtr.length < m + 1) {
            throw new IllegalArgumentException(kernel + ": excludePtr has length " + excludePtr.length + ", need m+1 = " + (m + 1));
        }
        if (excludePtr[0] < 0) throw new IllegalArgumentException(kernel + ": excludePtr[0] = " + excludePtr[0] + " < 0");
        for (int r = 0; r < m; r++) {
            if (excludePtr[r + 1] < excludePtr[r]) {
                throw new IllegalArgumentException(kernel + ": excludePtr decreases at row " + r);
            }
        }
        if (excludePtr[m] > excludeIdx.length) {
            throw new IllegalArgumentException(kernel + ": excludePtr[m] = " + excludePtr[m] + " > excludeIdx.length "
                    + excludeIdx.length);
        }
        for (int e = excludePtr[0]; e < excludePtr[m]; e++) {
            if (excludeIdx[e] < 0 || excludeIdx[e] >= n) {
                throw new IllegalArgumentException(kernel + ": excluded item id " + excludeIdx[e] + " at " + e
                        + " outside [0, n=" + n + ")");
            }
        }
    }

    /** Fills the k slots of row r with the "no item" marker (id -1, score -Infinity) from slot {@code from}. */
    static void fillEmpty(int[] outIdx, float[] outScore, int r, int k, int from) {
        for (int j = from; j < k; j++) {
            outIdx[r * k + j] = -1;
            outScore[r * k + j] = Float.NEGATIVE_INFINITY;
        }
    }
}
