package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Soft-target cross-entropy on ragged per-row item subsets (the RCE-KD loss, reference
 * rce-kd-and-baselines.md 1.4 and 1.7), plain scalar Java: the test oracle and benchmark baseline
 * of {@link SubsetCeSimd}. Single-threaded.
 *
 * <p>Subsets are CSR: row r owns entries j in [ptr[r], ptr[r+1]); idx[j] is an item id (row of the
 * item table) and every per-entry float array is indexed by the same j. Duplicated ids in a row are
 * separate entries. Dots accumulate in float in index order; the softmax sums accumulate in double
 * (so the oracle is at least as accurate as the SIMD twin).
 */
public final class SubsetCeScalar {
    private SubsetCeScalar() {}

    /** out[j] = &lt;U[r], I[idx[j]]&gt; for every entry j of row r. */
    public static void gatherDot(int m, int d, MemorySegment u, long uOff, int ldu,
                                 MemorySegment items, long iOff, int ldi, int[] ptr, int[] idx, float[] out) {
        int nnz = CeArgs.gather("SubsetCe.gatherDot", m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx);
        CeArgs.length("SubsetCe.gatherDot", "out", out, nnz);
        for (int r = 0; r < m; r++) {
            long ur = uOff + (long) r * ldu;
            for (int j = ptr[r]; j < ptr[r + 1]; j++) out[j] = dot(d, u, ur, items, iOff + (long) idx[j] * ldi);
        }
    }

    /**
     * Backward of gatherDot: du[r] += sum_j g[j] * I[idx[j]] ; di[idx[j]] += g[j] * U[r]. du or di may
     * be null (that gradient is skipped). Accumulation into each destination row is in entry order.
     */
    public static void gatherDotBackward(int m, int d, MemorySegment u, long uOff, int ldu,
                                         MemorySegment items, long iOff, int ldi, int[] ptr, int[] idx, float[] g,
                                         MemorySegment du, long duOff, int lddu, MemorySegment di, long diOff, int lddi) {
        int nItems = checkBackward(m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx, g, du, duOff, lddu, di, diOff, lddi);
        if (nItems < 0) return;
        for (int r = 0; r < m; r++) {
            long ur = uOff + (long) r * ldu, dur = duOff + (long) r * lddu;
            for (int j = ptr[r]; j < ptr[r + 1]; j++) {
                long ir = iOff + (long) idx[j] * ldi;
                float gj = g[j];
                if (du != null) {
                    for (int k = 0; k < d; k++) Mem.add(du, dur + k, gj * Mem.get(items, ir + k));
                }
                if (di != null) {
                    long dir = diOff + (long) idx[j] * lddi;
                    for (int k = 0; k < d; k++) Mem.add(di, dir + k, gj * Mem.get(u, ur + k));
                }
            }
        }
    }

    /**
     * Fused soft-target CE on each row's set A_r: s_j = &lt;U[r], I[idx[j]]&gt;, p = softmax(t/tau),
     * q = softmax(s/tau) over A_r, loss[r] = -sum_j p_j log q_j, gradLogits[j] = rowScale[r] * (q_j - p_j)
     * / tau (rowScale null = 1). Empty set: loss 0. Writes s_j into studentLogits when non-null.
     */
    public static void softCe(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi,
                              int[] ptr, int[] idx, float[] teacherLogits, float tau, float[] rowScale,
                              float[] loss, float[] gradLogits, float[] studentLogits) {
        String k = "SubsetCe.softCe";
        int nnz = CeArgs.gather(k, m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx);
        checkCe(k, m, nnz, teacherLogits, tau, rowScale, loss, gradLogits);
        if (studentLogits != null) CeArgs.length(k, "studentLogits", studentLogits, nnz);
        float[] s = new float[CeArgs.maxRow(m, ptr)];
        for (int r = 0; r < m; r++) {
            int o = ptr[r], n = ptr[r + 1] - o;
            long ur = uOff + (long) r * ldu;
            for (int j = 0; j < n; j++) s[j] = dot(d, u, ur, items, iOff + (long) idx[o + j] * ldi);
            if (studentLogits != null) System.arraycopy(s, 0, studentLogits, o, n);
            loss[r] = row(s, 0, teacherLogits, o, n, tau, rowScale == null ? 1f : rowScale[r], gradLogits, o);
        }
    }

    /** Same as {@link #softCe} from given student logits (no dots). */
    public static void softCeLogits(int m, int[] ptr, float[] studentLogits, float[] teacherLogits, float tau,
                                    float[] rowScale, float[] loss, float[] gradLogits) {
        String k = "SubsetCe.softCeLogits";
        int nnz = CeArgs.csr(k, m, ptr, Integer.MAX_VALUE);
        CeArgs.length(k, "studentLogits", studentLogits, nnz);
        checkCe(k, m, nnz, teacherLogits, tau, rowScale, loss, gradLogits);
        for (int r = 0; r < m; r++) {
            int o = ptr[r];
            loss[r] = row(studentLogits, o, teacherLogits, o, ptr[r + 1] - o, tau,
                    rowScale == null ? 1f : rowScale[r], gradLogits, o);
        }
    }

    static void checkCe(String k, int m, int nnz, float[] teacherLogits, float tau, float[] rowScale,
                        float[] loss, float[] gradLogits) {
        CeArgs.tau(k, tau);
        CeArgs.length(k, "teacherLogits", teacherLogits, nnz);
        CeArgs.optional(k, "rowScale", rowScale, m);
        CeArgs.length(k, "loss", loss, m);
        CeArgs.length(k, "gradLogits", gradLogits, nnz);
    }

    /** Shared checks of both backward twins; returns the item-row count touched (max id + 1), -1 for none. */
    static int checkBackward(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi,
                             int[] ptr, int[] idx, float[] g, MemorySegment du, long duOff, int lddu,
                             MemorySegment di, long diOff, int lddi) {
        String k = "SubsetCe.gatherDotBackward";
        int[] maxId = new int[1];
        int nnz = CeArgs.gather(k, m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx, maxId);
        CeArgs.length(k, "g", g, nnz);
        if (du != null) CeArgs.matrix(k, "du", du, duOff, m, d, lddu);
        int nItems = maxId[0] + 1;
        if (di != null) CeArgs.matrix(k, "di", di, diOff, nItems, d, lddi);
        return (du == null && di == null) || nnz == ptr[0] || d == 0 ? -1 : nItems;
    }

    static float dot(int d, MemorySegment a, long ao, MemorySegment b, long bo) {
        float acc = 0f;
        for (int k = 0; k < d; k++) acc += Mem.get(a, ao + k) * Mem.get(b, bo + k);
        return acc;
    }

    /**
     * One row: soft CE of teacher t[to..to+n) against student s[so..so+n), both over tau; writes the
     * scaled gradient to grad[go..go+n) and returns the loss. Max-subtracted, so +-80 logits are safe.
     */
    static float row(float[] s, int so, float[] t, int to, int n, float tau, float scale, float[] grad, int go) {
        if (n == 0) return 0f;
        double ms = Double.NEGATIVE_INFINITY, mt = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            ms = Math.max(ms, s[so + j]);
            mt = Math.max(mt, t[to + j]);
        }
        double ss = 0, st = 0;
        for (int j = 0; j < n; j++) {
            ss += Math.exp((s[so + j] - ms) / tau);
            st += Math.exp((t[to + j] - mt) / tau);
        }
        double logSs = Math.log(ss), loss = 0;
        for (int j = 0; j < n; j++) {
            double p = Math.exp((t[to + j] - mt) / tau) / st;
            double logQ = (s[so + j] - ms) / tau - logSs;
            loss -= p * logQ;
            grad[go + j] = (float) (scale * (Math.exp(logQ) - p) / tau);
        }
        return (float) loss;
    }
}
