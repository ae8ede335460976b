package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Scalar twin of {@link TopKSimd}: per-row top-K item selection, the test oracle and benchmark
 * baseline. Deliberately plain: every item is scored with a sequential dot product, excluded items
 * are marked in a boolean[n], and a bounded binary heap (worst candidate at the root) keeps the k best
 * under the order "higher score first, equal scores: lower item id first". NaN scores are skipped.
 *
 * <p>The dot product is a chain of {@code Math.fma} in depth order starting from +0, the same
 * per-lane operation sequence as {@link ScoreTile}'s micro-kernel, so the SIMD twin sees bit-identical
 * scores (tests with small integers are exact whatever the order). Reported scores are {@code s + 0f}:
 * -0.0 comes out as 0.0 (the two tie, as float comparison says). Single-threaded.
 */
public final class TopKScalar {
    private TopKScalar() {}

    /**
     * For each of the m rows of U (m x d, leading dim ldu) score all n items (n x d, leading dim ldi):
     * s = &lt;u, item&gt;. Write the k best per row into outIdx[r*k + j] / outScore[r*k + j], j = 0..k-1,
     * descending score, ties broken by the lower item id. excludePtr (length m+1) / excludeIdx: optional
     * CSR of item ids to exclude per row (any order, duplicates allowed, ids in [0,n)); both null = none.
     * Rows with fewer than k eligible items: remaining slots get id -1 and score -Infinity.
     * NaN scores are never selected. Never allocates an m x n buffer.
     */
    public static void scoreTopK(int m, int n, int d, MemorySegment u, long uOff, int ldu,
                                 MemorySegment items, long iOff, int ldi, int k,
                                 int[] excludePtr, int[] excludeIdx, int[] outIdx, float[] outScore) {
        String kernel = "TopKScalar.scoreTopK(m=" + m + ", n=" + n + ", d=" + d + ", k=" + k + ")";
        if (d < 0) throw new IllegalArgumentException(kernel + ": negative d");
        TopKArgs.checkCommon(kernel, m, n, k, excludePtr, excludeIdx, outIdx, outScore);
        TopKArgs.checkMatrix(kernel, "U", u, uOff, m, d, ldu);
        TopKArgs.checkMatrix(kernel, "items", items, iOff, n, d, ldi);
        if (m == 0 || k == 0) return;
        float[] scores = new float[n];
        float[] urow = new float[d];
        float[] irow = new float[d];
        Rows rows = new Rows(n, k);
        for (int r = 0; r < m; r++) {
            Mem.copyOut(u, uOff + (long) r * ldu, urow, 0, d);
            for (int j = 0; j < n; j++) {
                Mem.copyOut(items, iOff + (long) j * ldi, irow, 0, d);
                float s = 0f;
                for (int t = 0; t < d; t++) s = Math.fma(urow[t], irow[t], s);
                scores[j] = s;
            }
            rows.select(r, scores, excludePtr, excludeIdx, outIdx, outScore);
        }
    }

    /** Same selection over a materialised score matrix (m x n, leading dim lds). */
    public static void selectTopK(int m, int n, MemorySegment scores, long sOff, int lds, int k,
                                  int[] excludePtr, int[] excludeIdx, int[] outIdx, float[] outScore) {
        String kernel = "TopKScalar.selectTopK(m=" + m + ", n=" + n + ", k=" + k + ")";
        TopKArgs.checkCommon(kernel, m, n, k, excludePtr, excludeIdx, outIdx, outScore);
        TopKArgs.checkMatrix(kernel, "scores", scores, sOff, m, n, lds);
        if (m == 0 || k == 0) return;
        float[] row = new float[n];
        Rows rows = new Rows(n, k);
        for (int r = 0; r < m; r++) {
            Mem.copyOut(scores, sOff + (long) r * lds, row, 0, n);
            rows.select(r, row, excludePtr, excludeIdx, outIdx, outScore);
        }
    }

    /** Per-call scratch: the exclusion marks and the bounded heap. */
    private static final class Rows {
        final int k;
        final boolean[] excluded;
        final float[] hs;
        final int[] hi;

        Rows(int n, int k) {
            this.k = k;
            excluded = new boolean[n];
            hs = new float[Math.min(k, n)];
            hi = new int[Math.min(k, n)];
        }

        /** True when (sa, ia) ranks strictly before (sb, ib). */
        static boolean better(float sa, int ia, float sb, int ib) {
            return sa > sb || (sa == sb && ia < ib);
        }

        void select(int r, float[] scores, int[] ptr, int[] idx, int[] outIdx, float[] outScore) {
            int n = excluded.length;
            if (ptr != null) for (int e = ptr[r]; e < ptr[r + 1]; e++) excluded[idx[e]] = true;
            int size = 0, cap = hs.length;
            for (int j = 0; j < n; j++) {
                float s = scores[j];
                if (excluded[j] || Float.isNaN(s)) continue;
                s += 0f;
                if (size < cap) {
                    hs[size] = s;
                    hi[size] = j;
                    siftUp(size++);
                } else if (cap > 0 && better(s, j, hs[0], hi[0])) {
                    hs[0] = s;
                    hi[0] = j;
                    siftDown(0, size);
                }
            }
            if (ptr != null) for (int e = ptr[r]; e < ptr[r + 1]; e++) excluded[idx[e]] = false;
            // pop the worst first: it goes to the last filled slot
            int filled = size;
            while (size > 0) {
                outIdx[r * k + size - 1] = hi[0];
                outScore[r * k + size - 1] = hs[0];
                size--;
                hs[0] = hs[size];
                hi[0] = hi[size];
                siftDown(0, size);
            }
            TopKArgs.fillEmpty(outIdx, outScore, r, k, filled);
        }

        /** Heap order: a parent is worse than (ranks after) its children; the root is the worst kept. */
        private void siftUp(int i) {
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (!better(hs[p], hi[p], hs[i], hi[i])) break;
                swap(i, p);
                i = p;
            }
        }

        private void siftDown(int i, int size) {
            while (true) {
                int l = 2 * i + 1, w = i;
                if (l < size && better(hs[w], hi[w], hs[l], hi[l])) w = l;
                if (l + 1 < size && better(hs[w], hi[w], hs[l + 1], hi[l + 1])) w = l + 1;
                if (w == i) return;
                swap(i, w);
                i = w;
            }
        }

        private void swap(int a, int b) {
            float ts = hs[a];
            hs[a] = hs[b];
            hs[b] = ts;
            int ti = hi[a];
            hi[a] = hi[b];
            hi[b] = ti;
        }
    }
}
