package kdrec.autograd;

import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.tensor.IndexSets;
import kdrec.tensor.Tensor;

/**
 * The relaxed ranking (Plackett-Luce) loss of RRD (Kang et al., CIKM'20) as the RCE-KD authors'
 * framework codes it ({@code relaxed_ranking_loss} in woriazzc/RCEKD modeling/KD/baseline.py, used
 * by RRD and DCD). Row r of {@code sets} holds an ordered list {@code pi_1..pi_K} (its first
 * {@code orderedCount[r]} entries) followed by a set U whose internal order is ignored:
 *
 * <pre>
 *   loss_r = -sum_{k=1..K} [ s_k - log( sum_{l=k..K} exp s_l + sum_{j in U} exp s_j ) ],  s = min(logit, 80)
 * </pre>
 *
 * <p>The reference computes the denominators with a plain reversed cumulative sum of exp in
 * float32 (hence its clip at 80); here they are sums in double of exp(s - max) over the row (a
 * suffix log-sum-exp where a row's logits spread over more than 700), equal wherever the reference
 * is finite and finite where its exp would underflow to log(0). Rows run on the kernel threads. The clip is
 * {@code torch.minimum(S, 80)} applied before both the numerator and the denominators, so a
 * clipped logit gets no gradient at all, and one exactly at 80 gets half (torch.minimum's tie rule).
 * Gradients are derived in the forward pass and only scaled by the upstream gradient in backward:
 * {@code dloss/ds_k = -1 + sum_{k'<=k} exp(s_k - D_k')} for ordered entries and
 * {@code sum_{k'<=K} exp(s_j - D_k')} for U, D_k' being the log-denominators.
 */
public final class RelaxedRanking {
    private RelaxedRanking() {}

    /** The authors' clip on student logits before exp. */
    public static final float CLIP = 80f;

    /**
     * Weighted total {@code sum_r rowWeight[r] * loss_r} as a [1] tensor. {@code logits} is rank-1,
     * aligned with {@code sets.idx()} (e.g. from {@link Gather#setDots}); {@code rowWeight} null
     * means 1 for every row.
     */
    public static Var loss(Tape t, Var logits, IndexSets sets, int[] orderedCount, float[] rowWeight) {
        Kernel k = kernel("relaxedRanking", logits, sets, orderedCount, rowWeight);
        double total = 0;
        for (int r = 0; r < k.rowLoss.length; r++) total += (rowWeight == null ? 1.0 : rowWeight[r]) * k.rowLoss[r];
        Var out = t.output("relaxedRanking", t.needsGrad(logits), 1);
        out.value.set(0, (float) total);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            float[] d = k.grad.clone();
            int[] ptr = sets.ptr();
            for (int r = 0; r < k.rowLoss.length; r++) {
                double s = g.get(0) * (rowWeight == null ? 1.0 : rowWeight[r]);
                for (int j = ptr[r]; j < ptr[r + 1]; j++) d[j] = (float) (s * d[j]);
            }
            accumulate(t, logits, d);
        });
        return out;
    }

    /** Per-row losses (rank-1, one per row of {@code sets}), for callers that weight rows themselves. */
    public static Var rows(Tape t, Var logits, IndexSets sets, int[] orderedCount) {
        Kernel k = kernel("relaxedRanking rows", logits, sets, orderedCount, null);
        int m = k.rowLoss.length;
        Var out = t.output("relaxedRankingRows", t.needsGrad(logits), m);
        float[] lf = new float[m];
        for (int r = 0; r < m; r++) lf[r] = (float) k.rowLoss[r];
        Mem.copyIn(lf, 0, out.value.data(), 0, m);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            float[] d = k.grad.clone();
            int[] ptr = sets.ptr();
            for (int r = 0; r < m; r++) {
                float s = g.get(r);
                for (int j = ptr[r]; j < ptr[r + 1]; j++) d[j] *= s;
            }
            accumulate(t, logits, d);
        });
        return out;
    }

    private static void accumulate(Tape t, Var logits, float[] d) {
        if (d.length == 0) return;
        Tensor tmp = t.scratch().uninitialized(d.length);
        Mem.copyIn(d, 0, tmp.data(), 0, d.length);
        t.backend().axpy(d.length, 1f, tmp.data(), 0, t.gradOf(logits).data(), 0);
    }

    /** Per-row losses (double) and per-entry dloss_r/dlogit (unscaled by any row weight). */
    private record Kernel(double[] rowLoss, float[] grad) {}

    private static Kernel kernel(String op, Var logits, IndexSets sets, int[] orderedCount, float[] rowWeight) {
        int m = sets.rows();
        if (logits.value.rank() != 1 || logits.value.size() != sets.size()) {
            throw new IllegalArgumentException(op + ": " + logits.value.size() + " logits (rank " + logits.value.rank() + ") for " + sets.size() + " set entries");
        }
        if (orderedCount.length != m) throw new IllegalArgumentException(op + ": " + orderedCount.length + " ordered counts for " + m + " rows");
        if (rowWeight != null && rowWeight.length != m) throw new IllegalArgumentException(op + ": " + rowWeight.length + " row weights for " + m + " rows");
        int[] ptr = sets.ptr();
        for (int r = 0; r < m; r++) {
            if (orderedCount[r] < 0 || orderedCount[r] > ptr[r + 1] - ptr[r]) {
                throw new IllegalArgumentException(op + ": row " + r + " has " + (ptr[r + 1] - ptr[r]) + " entries but ordered count " + orderedCount[r]);
            }
        }
        float[] x = logits.value.toArray();
        double[] rowLoss = new double[m];
        float[] grad = new float[x.length];
        int widest = 0, longest = 0;
        for (int r = 0; r < m; r++) {
            widest = Math.max(widest, orderedCount[r]);
            longest = Math.max(longest, ptr[r + 1] - ptr[r]);
        }
        int width = widest, length = longest;
        // rows are independent (each writes its own loss and entries): the same bits for any thread count
        Parallel.forRange(m, 1, Math.max(1, 16_384 / Math.max(1, x.length / Math.max(1, m))), (lo, hi) -> {
            double[] logDen = new double[width], e = new double[length];
            for (int r = lo; r < hi; r++) row(x, ptr[r], ptr[r + 1], orderedCount[r], logDen, e, rowLoss, r, grad);
        });
        return new Kernel(rowLoss, grad);
    }

    /**
     * Below this, exp(s - max) could leave the double range's normal numbers: such a row (logits
     * spread over more than 700) takes the log-domain path.
     */
    private static final double LINEAR_SPREAD = 700;

    /**
     * One row's loss (into rowLoss[r]) and per-entry gradients (grad[p0, p1)): entries [p0, p0+kk)
     * ordered, the rest U. With M the row's largest clipped logit and e = exp(s - M), the denominators
     * are S_k = sum_{l>=k} e_l + sum_U e_j (log-denominator M + log S_k) and the gradients
     * e_k P_k - 1 (ordered) and e_j P_K (U) with P_k = sum_{k'<=k} 1/S_k': one exp per entry and one
     * log per ordered entry (e waits in {@code e} between the sums and the gradients). The log-domain form (two transcendental calls per entry and term) had taken
     * half of an RRD epoch at the Gowalla shape; both agree to double rounding.
     */
    private static void row(float[] x, int p0, int p1, int kk, double[] logDen, double[] e, double[] rowLoss, int r, float[] grad) {
        if (kk == 0) return; // no ordered item: no term, and U has nothing to be ranked below
        double max = Double.NEGATIVE_INFINITY, min = Double.POSITIVE_INFINITY;
        for (int j = p0; j < p1; j++) {
            double s = clip(x[j]);
            max = Math.max(max, s);
            min = Math.min(min, s);
        }
        if (!(max - min <= LINEAR_SPREAD)) { // also NaN and infinite logits
            logDomainRow(x, p0, p1, kk, logDen, rowLoss, r, grad);
            return;
        }
        double eu = 0;
        for (int j = p0 + kk; j < p1; j++) eu += e[j - p0] = Math.exp(clip(x[j]) - max);
        double acc = eu, loss = 0;
        for (int k = kk - 1; k >= 0; k--) { // logDen holds S_k here
            double s = clip(x[p0 + k]);
            acc += e[k] = Math.exp(s - max);
            logDen[k] = acc;
            loss += max + Math.log(acc) - s;
        }
        rowLoss[r] = loss;
        double pre = 0;
        for (int k = 0; k < kk; k++) {
            pre += 1 / logDen[k];
            grad[p0 + k] = (float) (clipFactor(x[p0 + k]) * (e[k] * pre - 1.0));
        }
        for (int j = p0 + kk; j < p1; j++) grad[j] = (float) (clipFactor(x[j]) * e[j - p0] * pre);
    }

    /** {@link #row} in the log domain: suffix and prefix log-sum-exps, for rows whose logits spread too far. */
    private static void logDomainRow(float[] x, int p0, int p1, int kk, double[] logDen, double[] rowLoss, int r, float[] grad) {
        double lseU = Double.NEGATIVE_INFINITY;
        for (int j = p0 + kk; j < p1; j++) lseU = logAddExp(lseU, clip(x[j]));
        // reverse cumulative log-sum-exp: logDen[k] = log(sum_{l>=k} exp s_l + sum_U exp s_j)
        double acc = lseU, loss = 0;
        for (int k = kk - 1; k >= 0; k--) {
            double s = clip(x[p0 + k]);
            acc = logAddExp(acc, s);
            logDen[k] = acc;
            loss += acc - s;
        }
        rowLoss[r] = loss;
        // prefix log-sum of exp(-logDen): each ordered s_k appears in denominators 0..k, U in all
        double pre = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < kk; k++) {
            pre = logAddExp(pre, -logDen[k]);
            double s = clip(x[p0 + k]);
            grad[p0 + k] = (float) (clipFactor(x[p0 + k]) * (Math.exp(s + pre) - 1.0));
        }
        for (int j = p0 + kk; j < p1; j++) grad[j] = (float) (clipFactor(x[j]) * Math.exp(clip(x[j]) + pre));
    }

    private static double clip(float v) {
        return Math.min(v, CLIP);
    }

    /** d min(v, 80)/dv as torch.minimum defines it: 1 below, 1/2 at the tie, 0 above. */
    private static double clipFactor(float v) {
        return v < CLIP ? 1.0 : v == CLIP ? 0.5 : 0.0;
    }

    private static double logAddExp(double a, double b) {
        if (a == Double.NEGATIVE_INFINITY) return b;
        if (b == Double.NEGATIVE_INFINITY) return a;
        return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
    }
}
