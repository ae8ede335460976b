package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Full-catalogue softmax cross-entropy (next-item / base losses over all n items) and sampled softmax,
 * plain scalar Java: the test oracle and benchmark baseline of {@link SoftmaxCeSimd}. Single-threaded.
 * Dots accumulate in float in index order; softmax sums in double (an oracle at least as accurate as
 * the SIMD twin). The "online" forward keeps a running max and sum per row, one exp per logit, and like
 * the SIMD twin never holds an m x n buffer.
 */
public final class SoftmaxCeScalar {
    private SoftmaxCeScalar() {}

    /**
     * Online forward: z_rj = scale * &lt;U[r], I[j]&gt; for all n items; lse[r] = log sum_j exp(z_rj)
     * (running max/sum, no m x n buffer); loss[r] = lse[r] - z_r,target[r].
     */
    public static void forward(int m, int n, int d, MemorySegment u, long uOff, int ldu,
                               MemorySegment items, long iOff, int ldi, float scale, int[] target, float[] loss, float[] lse) {
        checkForward("SoftmaxCe.forward", m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, loss, lse);
        for (int r = 0; r < m; r++) {
            long ur = uOff + (long) r * ldu;
            double mx = Double.NEGATIVE_INFINITY, sum = 0;
            float zt = 0f;
            for (int j = 0; j < n; j++) {
                float z = scale * SubsetCeScalar.dot(d, u, ur, items, iOff + (long) j * ldi);
                if (j == target[r]) zt = z;
                if (z > mx) {
                    sum = sum * Math.exp(mx - z) + 1;
                    mx = z;
                } else {
                    sum += Math.exp(z - mx);
                }
            }
            double l = mx + Math.log(sum);
            lse[r] = (float) l;
            loss[r] = (float) (l - zt);
        }
    }

    /**
     * Online backward, recomputing the logits: G_rj = gLoss[r] * scale * (exp(z_rj - lse[r]) - [j ==
     * target[r]]); du += G . I ; di += G^T . U (either may be null). Each du row accumulates over j in
     * order, each di row over r in order.
     */
    public static void backward(int m, int n, int d, MemorySegment u, long uOff, int ldu,
                                MemorySegment items, long iOff, int ldi, float scale, int[] target, float[] lse, float[] gLoss,
                                MemorySegment du, long duOff, int lddu, MemorySegment di, long diOff, int lddi) {
        checkBackward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, lse, gLoss, du, duOff, lddu, di, diOff, lddi);
        for (int r = 0; r < m; r++) {
            long ur = uOff + (long) r * ldu, dur = duOff + (long) r * lddu;
            for (int j = 0; j < n; j++) {
                long ir = iOff + (long) j * ldi;
                float z = scale * SubsetCeScalar.dot(d, u, ur, items, ir);
                float g = (float) (gLoss[r] * scale * (Math.exp(z - lse[r]) - (j == target[r] ? 1 : 0)));
                if (du != null) for (int k = 0; k < d; k++) Mem.add(du, dur + k, g * Mem.get(items, ir + k));
                if (di != null) {
                    long dir = diOff + (long) j * lddi;
                    for (int k = 0; k < d; k++) Mem.add(di, dir + k, g * Mem.get(u, ur + k));
                }
            }
        }
    }

    /**
     * Materialised path: loss[r] = lse_r - z_r,target from the m x n logits (leading dim ld), then the
     * logits are overwritten with gradScale[r] * (softmax_rj - [j == target[r]]) (gradScale null = 1).
     */
    public static void rowsInPlace(int m, int n, MemorySegment logits, long off, int ld, int[] target,
                                   float[] gradScale, float[] loss) {
        checkRows(m, n, logits, off, ld, target, gradScale, loss);
        for (int r = 0; r < m; r++) {
            long o = off + (long) r * ld;
            double mx = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < n; j++) mx = Math.max(mx, Mem.get(logits, o + j));
            for (int j = 0; j < n; j++) sum += Math.exp(Mem.get(logits, o + j) - mx);
            double lse = mx + Math.log(sum);
            loss[r] = (float) (lse - Mem.get(logits, o + target[r]));
            double gs = gradScale == null ? 1 : gradScale[r];
            for (int j = 0; j < n; j++) {
                Mem.set(logits, o + j, (float) (gs * (Math.exp(Mem.get(logits, o + j) - lse) - (j == target[r] ? 1 : 0))));
            }
        }
    }

    /**
     * Sampled softmax from given logits: loss[r] = -pos[r] + log(exp(pos[r]) + negScale * sum_j
     * exp(neg_j)) over j in [negPtr[r], negPtr[r+1]); gPos[r], gNeg[j] = dloss_r/dlogit (times
     * rowScale[r] when non-null). Max-subtracted.
     */
    public static void sampled(int m, float[] pos, int[] negPtr, float[] neg, float negScale, float[] rowScale,
                               float[] loss, float[] gPos, float[] gNeg) {
        checkSampled(m, pos, negPtr, neg, negScale, rowScale, loss, gPos, gNeg);
        for (int r = 0; r < m; r++) {
            double mx = pos[r];
            for (int j = negPtr[r]; j < negPtr[r + 1]; j++) mx = Math.max(mx, neg[j]);
            double sn = 0;
            for (int j = negPtr[r]; j < negPtr[r + 1]; j++) sn += Math.exp(neg[j] - mx);
            double ep = Math.exp(pos[r] - mx), z = ep + negScale * sn;
            double rs = rowScale == null ? 1 : rowScale[r];
            loss[r] = (float) (mx + Math.log(z) - pos[r]);
            gPos[r] = (float) (rs * (ep / z - 1));
            for (int j = negPtr[r]; j < negPtr[r + 1]; j++) gNeg[j] = (float) (rs * negScale * Math.exp(neg[j] - mx) / z);
        }
    }

    // ---- argument checks shared with SoftmaxCeSimd ----

    static void checkForward(String k, int m, int n, int d, MemorySegment u, long uOff, int ldu,
                             MemorySegment items, long iOff, int ldi, float scale, int[] target, float[] loss, float[] lse) {
        if (m < 0 || n < 0 || d < 0) throw CeArgs.bad(k, "negative dims m=" + m + ", n=" + n + ", d=" + d);
        if (!Float.isFinite(scale)) throw CeArgs.bad(k, "scale must be finite, got " + scale);
        CeArgs.matrix(k, "u", u, uOff, m, d, ldu);
        CeArgs.matrix(k, "items", items, iOff, n, d, ldi);
        targets(k, m, n, target);
        CeArgs.length(k, "loss", loss, m);
        CeArgs.length(k, "lse", lse, m);
    }

    static void checkBackward(int m, int n, int d, MemorySegment u, long uOff, int ldu,
                              MemorySegment items, long iOff, int ldi, float scale, int[] target, float[] lse, float[] gLoss,
                              MemorySegment du, long duOff, int lddu, MemorySegment di, long diOff, int lddi) {
        String k = "SoftmaxCe.backward";
        if (m < 0 || n < 0 || d < 0) throw CeArgs.bad(k, "negative dims m=" + m + ", n=" + n + ", d=" + d);
        if (!Float.isFinite(scale)) throw CeArgs.bad(k, "scale must be finite, got " + scale);
        CeArgs.matrix(k, "u", u, uOff, m, d, ldu);
        CeArgs.matrix(k, "items", items, iOff, n, d, ldi);
        targets(k, m, n, target);
        CeArgs.length(k, "lse", lse, m);
        CeArgs.length(k, "gLoss", gLoss, m);
        if (du != null) CeArgs.matrix(k, "du", du, duOff, m, d, lddu);
        if (di != null) CeArgs.matrix(k, "di", di, diOff, n, d, lddi);
    }

    static void checkRows(int m, int n, MemorySegment logits, long off, int ld, int[] target, float[] gradScale, float[] loss) {
        String k = "SoftmaxCe.rowsInPlace";
        if (m < 0 || n < 0) throw CeArgs.bad(k, "negative dims m=" + m + ", n=" + n);
        CeArgs.matrix(k, "logits", logits, off, m, n, ld);
        targets(k, m, n, target);
        CeArgs.optional(k, "gradScale", gradScale, m);
        CeArgs.length(k, "loss", loss, m);
    }

    static void checkSampled(int m, float[] pos, int[] negPtr, float[] neg, float negScale, float[] rowScale,
                             float[] loss, float[] gPos, float[] gNeg) {
        String k = "SoftmaxCe.sampled";
        if (neg == null) throw CeArgs.bad(k, "neg is null");
        int nnz = CeArgs.csr(k, m, negPtr, neg.length);
        if (!(negScale >= 0f) || Float.isInfinite(negScale)) throw CeArgs.bad(k, "negScale must be finite and >= 0, got " + negScale);
        CeArgs.length(k, "pos", pos, m);
        CeArgs.optional(k, "rowScale", rowScale, m);
        CeArgs.length(k, "loss", loss, m);
        CeArgs.length(k, "gPos", gPos, m);
        CeArgs.length(k, "gNeg", gNeg, nnz);
    }

    private static void targets(String k, int m, int n, int[] target) {
        CeArgs.length(k, "target", target, m);
        for (int r = 0; r < m; r++) {
            if (target[r] < 0 || target[r] >= n) throw CeArgs.bad(k, "target[" + r + "] = " + target[r] + " outside [0, " + n + ")");
        }
    }
}
