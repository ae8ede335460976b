package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Argument checks shared by the cross-entropy kernel families (SubsetCe*, SoftmaxCe*). Scalar and
 * SIMD twins call the same checks at their public entry, so both reject exactly the same inputs with
 * the same message (kernel name and offending dims). Package-private: not part of the kernel API.
 */
final class CeArgs {
    private CeArgs() {}

    static IllegalArgumentException bad(String kernel, String msg) {
        return new IllegalArgumentException(kernel + ": " + msg);
    }

    static void dims(String kernel, int m, int d) {
        if (m < 0 || d < 0) throw bad(kernel, "negative dims m=" + m + ", d=" + d);
    }

    /** Checks that rows x cols with leading dimension ld (>= cols) lies inside the segment. */
    static void matrix(String kernel, String what, MemorySegment s, long off, int rows, int cols, int ld) {
        if (s == null) throw bad(kernel, what + " is null");
        if (ld < cols) throw bad(kernel, what + ": leading dim " + ld + " < width " + cols);
        if (off < 0) throw bad(kernel, what + ": negative offset " + off);
        if (rows == 0 || cols == 0) return;
        long need = off + (long) (rows - 1) * ld + cols;
        if (need > Mem.floats(s)) {
            throw bad(kernel, what + ": " + rows + " x " + cols + " (ld " + ld + ", offset " + off
                    + ") needs " + need + " floats, segment holds " + Mem.floats(s));
        }
    }

    static void length(String kernel, String what, float[] a, long need) {
        if (a == null) throw bad(kernel, what + " is null");
        if (a.length < need) throw bad(kernel, what + ": length " + a.length + " < " + need);
    }

    static void length(String kernel, String what, int[] a, long need) {
        if (a == null) throw bad(kernel, what + " is null");
        if (a.length < need) throw bad(kernel, what + ": length " + a.length + " < " + need);
    }

    /** Optional per-row array: null is allowed, otherwise it needs m entries. */
    static void optional(String kernel, String what, float[] a, long need) {
        if (a != null && a.length < need) throw bad(kernel, what + ": length " + a.length + " < " + need);
    }

    static void tau(String kernel, float tau) {
        if (!(tau > 0f) || Float.isInfinite(tau)) throw bad(kernel, "tau must be finite and > 0, got " + tau);
    }

    /**
     * Checks a CSR row pointer over m rows (ptr[0] >= 0, non-decreasing, ptr[m] <= idxLen) and
     * returns the number of entry slots the per-entry arrays need (ptr[m]).
     */
    static int csr(String kernel, int m, int[] ptr, int idxLen) {
        if (m < 0) throw bad(kernel, "negative m=" + m);
        length(kernel, "ptr", ptr, (long) m + 1);
        if (ptr[0] < 0) throw bad(kernel, "ptr[0] = " + ptr[0] + " < 0");
        for (int r = 0; r < m; r++) {
            if (ptr[r + 1] < ptr[r]) throw bad(kernel, "ptr not non-decreasing at row " + r + ": " + ptr[r] + " > " + ptr[r + 1]);
        }
        if (ptr[m] > idxLen) throw bad(kernel, "ptr[" + m + "] = " + ptr[m] + " > number of entries " + idxLen);
        return ptr[m];
    }

    /**
     * Largest item id used by entries [ptr[0], ptr[m]) of idx (negative ids rejected), -1 if none.
     * Vectorised (min and max lanes, exact in any order): the RCE-KD step checks ~400k ids per batch.
     */
    static int maxIndex(String kernel, int m, int[] ptr, int[] idx) {
        int from = ptr[0], to = ptr[m], nv = from + Simd.I.loopBound(to - from);
        IntVector lo = IntVector.broadcast(Simd.I, Integer.MAX_VALUE), hi = IntVector.broadcast(Simd.I, -1);
        for (int j = from; j < nv; j += Simd.LANES) {
            IntVector v = IntVector.fromArray(Simd.I, idx, j);
            lo = lo.min(v);
            hi = hi.max(v);
        }
        int min = lo.reduceLanes(VectorOperators.MIN), max = hi.reduceLanes(VectorOperators.MAX);
        for (int j = nv; j < to; j++) {
            min = Math.min(min, idx[j]);
            max = Math.max(max, idx[j]);
        }
        if (min < 0) {
            for (int j = from; j < to; j++) if (idx[j] < 0) throw bad(kernel, "idx[" + j + "] = " + idx[j] + " < 0");
        }
        return max;
    }

    /** Longest row of a CSR pointer (for per-row scratch). */
    static int maxRow(int m, int[] ptr) {
        int max = 0;
        for (int r = 0; r < m; r++) max = Math.max(max, ptr[r + 1] - ptr[r]);
        return max;
    }

    /**
     * The full set of checks for the gatherDot-shaped kernels (user rows u, item table indexed by
     * idx): returns the number of entry slots (ptr[m]).
     */
    static int gather(String kernel, int m, int d, MemorySegment u, long uOff, int ldu,
                      MemorySegment items, long iOff, int ldi, int[] ptr, int[] idx) {
        return gather(kernel, m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx, null);
    }

    /** {@link #gather}, also storing the largest id (-1 for none) in {@code maxId[0]} when given. */
    static int gather(String kernel, int m, int d, MemorySegment u, long uOff, int ldu,
                      MemorySegment items, long iOff, int ldi, int[] ptr, int[] idx, int[] maxId) {
        dims(kernel, m, d);
        if (idx == null) throw bad(kernel, "idx is null");
        int nnz = csr(kernel, m, ptr, idx.length);
        matrix(kernel, "u", u, uOff, m, d, ldu);
        int max = maxIndex(kernel, m, ptr, idx);
        matrix(kernel, "items", items, iOff, max + 1, d, ldi);
        if (maxId != null) maxId[0] = max;
        return nnz;
    }
}
