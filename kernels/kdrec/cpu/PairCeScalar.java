package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Soft-target cross-entropy on two overlapping item sets per row that share one item list (RCE-KD:
 * the student's top-K and J2 over their union), plain scalar Java: the test oracle and benchmark
 * baseline of {@link PairCeSimd}. Single-threaded; softmax sums in double.
 *
 * <p>Row r owns entries j in [ptr[r], ptr[r+1]) (CSR as in {@link SubsetCeScalar}); with n its
 * length, set A is its first {@code a[r]} entries and set B its entries from {@code b[r]} on, so
 * entries [b[r], a[r]) belong to both (an item in both sets is one entry: its dot is computed once).
 * a[r] = 0 or b[r] = n makes that set empty (its CE counts 0). Per row,
 * {@code loss = wA CE_A + wB CE_B} with {@code CE_X = -sum_{j in X} pX_j log qX_j}, pX and qX the
 * teacher's and the student's softmax over X of logits/tau. The teacher side comes in as one
 * per-entry <em>target</em> {@code t_j = wA pA_j [j < a] + wB pB_j [j >= b]} ({@link #targets}; the
 * teacher is fixed for an epoch, so distillers build it once per epoch, not per batch).
 *
 * <p>Outputs: loss[r]; grad[j] = dloss_r/ds_j = (wA qA_j [j &lt; a] + wB qB_j [j &gt;= b] - t_j) / tau;
 * gu[r] = sum_j grad[j] I[idx[j]], the user-row gradient for an upstream gradient of 1, computed while
 * the row's item rows are in cache (the backward only scales it).
 */
public final class PairCeScalar {
    private PairCeScalar() {}

    /**
     * t[j] = wA[r] softmax_A(tl/tau)_j [j &lt; a] + wB[r] softmax_B(tl/tau)_j [j &gt;= b] for the
     * entries of every row, from teacher logits tl aligned with the entries.
     */
    public static void targets(int m, int[] ptr, int[] a, int[] b, float[] teacherLogits, float tau, float[] wA, float[] wB, float[] target) {
        int nnz = checkTargets("PairCe.targets", m, ptr, a, b, teacherLogits, tau, wA, wB, target);
        java.util.Arrays.fill(target, ptr[0], nnz, 0f);
        for (int r = 0; r < m; r++) {
            int o = ptr[r], n = ptr[r + 1] - o;
            double[] pa = softmax(teacherLogits, o, 0, a[r], tau), pb = softmax(teacherLogits, o, b[r], n, tau);
            for (int j = 0; j < n; j++) {
                double v = (j < a[r] ? wA[r] * pa[j] : 0) + (j >= b[r] ? wB[r] * pb[j - b[r]] : 0);
                target[o + j] = (float) v;
            }
        }
    }

    /** The fused forward: see the class comment. gu is m x d with leading dimension ldgu (overwritten; null: skipped). */
    public static void softCe(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi,
                              int[] ptr, int[] idx, int[] a, int[] b, float[] target, float[] wA, float[] wB, float tau,
                              float[] loss, float[] grad, MemorySegment gu, long guOff, int ldgu) {
        String k = "PairCe.softCe";
        int nnz = CeArgs.gather(k, m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx);
        checkForward(k, m, d, nnz, ptr, a, b, target, wA, wB, tau, loss, grad, gu, guOff, ldgu);
        for (int r = 0; r < m; r++) {
            int o = ptr[r], n = ptr[r + 1] - o, ar = a[r], br = b[r];
            long ur = uOff + (long) r * ldu;
            double[] s = new double[n];
            for (int j = 0; j < n; j++) s[j] = SubsetCeScalar.dot(d, u, ur, items, iOff + (long) idx[o + j] * ldi);
            double lseA = lse(s, 0, ar, tau), lseB = lse(s, br, n, tau), cross = 0;
            double value = (ar > 0 ? wA[r] * lseA : 0) + (br < n ? wB[r] * lseB : 0);
            double[] g = new double[n];
            for (int j = 0; j < n; j++) {
                cross += target[o + j] * s[j] / tau;
                double q = (j < ar ? wA[r] * Math.exp(s[j] / tau - lseA) : 0) + (j >= br ? wB[r] * Math.exp(s[j] / tau - lseB) : 0);
                g[j] = (q - target[o + j]) / tau;
                grad[o + j] = (float) g[j];
            }
            loss[r] = (float) (value - cross);
            if (gu == null) continue;
            long gr = guOff + (long) r * ldgu;
            for (int c = 0; c < d; c++) {
                double acc = 0;
                for (int j = 0; j < n; j++) acc += g[j] * Mem.get(items, iOff + (long) idx[o + j] * ldi + c);
                Mem.set(gu, gr + c, (float) acc);
            }
        }
    }

    /** log sum exp(x/tau) over x[from, to) (max-shifted); -Inf for an empty range. */
    private static double lse(double[] x, int from, int to, float tau) {
        if (from >= to) return Double.NEGATIVE_INFINITY;
        double mx = Double.NEGATIVE_INFINITY, sum = 0;
        for (int j = from; j < to; j++) mx = Math.max(mx, x[j] / tau);
        for (int j = from; j < to; j++) sum += Math.exp(x[j] / tau - mx);
        return mx + Math.log(sum);
    }

    private static double[] softmax(float[] x, int o, int from, int to, float tau) {
        double[] p = new double[Math.max(0, to - from)];
        if (p.length == 0) return p;
        double mx = Double.NEGATIVE_INFINITY, sum = 0;
        for (int j = from; j < to; j++) mx = Math.max(mx, x[o + j] / (double) tau);
        for (int j = from; j < to; j++) sum += p[j - from] = Math.exp(x[o + j] / (double) tau - mx);
        for (int j = 0; j < p.length; j++) p[j] /= sum;
        return p;
    }

    /** The split points of every row: 0 &lt;= a &lt;= n, 0 &lt;= b &lt;= n (b &lt;= a or b &gt; a both allowed). */
    static void checkSplit(String k, int m, int[] ptr, int[] a, int[] b) {
        CeArgs.length(k, "a", a, m);
        CeArgs.length(k, "b", b, m);
        for (int r = 0; r < m; r++) {
            int n = ptr[r + 1] - ptr[r];
            if (a[r] < 0 || a[r] > n || b[r] < 0 || b[r] > n) {
                throw CeArgs.bad(k, "row " + r + " of " + n + " entries: set A = [0, " + a[r] + "), set B = [" + b[r] + ", " + n + ") out of range");
            }
        }
    }

    static int checkTargets(String k, int m, int[] ptr, int[] a, int[] b, float[] teacherLogits, float tau, float[] wA, float[] wB, float[] target) {
        int nnz = CeArgs.csr(k, m, ptr, Integer.MAX_VALUE);
        checkSplit(k, m, ptr, a, b);
        CeArgs.tau(k, tau);
        CeArgs.length(k, "teacherLogits", teacherLogits, nnz);
        CeArgs.length(k, "wA", wA, m);
        CeArgs.length(k, "wB", wB, m);
        CeArgs.length(k, "target", target, nnz);
        return nnz;
    }

    static void checkForward(String k, int m, int d, int nnz, int[] ptr, int[] a, int[] b, float[] target, float[] wA, float[] wB,
                             float tau, float[] loss, float[] grad, MemorySegment gu, long guOff, int ldgu) {
        checkSplit(k, m, ptr, a, b);
        CeArgs.tau(k, tau);
        CeArgs.length(k, "target", target, nnz);
        CeArgs.length(k, "wA", wA, m);
        CeArgs.length(k, "wB", wB, m);
        CeArgs.length(k, "loss", loss, m);
        CeArgs.length(k, "grad", grad, nnz);
        if (gu != null) CeArgs.matrix(k, "gu", gu, guOff, m, d, ldgu);
    }
}
