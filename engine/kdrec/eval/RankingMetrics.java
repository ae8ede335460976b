package kdrec.eval;

import java.util.Arrays;
import java.util.LinkedHashMap;

/**
 * Full-ranking Recall@k and NDCG@k from per-user top-K lists, with the KD papers' protocol
 * (reference/rce-kd-and-baselines.md 3.2, code {@code utils/metric.py}):
 * <ul>
 *   <li>binary relevance; DCG = sum over ranks r = 1..k of hit(r) / log2(r + 1);</li>
 *   <li>IDCG = the DCG of min(|gt|, k) hits at the top;</li>
 *   <li>Recall@k = hits@k / max(|gt|, 1) (the denominator is |gt|, not min(|gt|, k));</li>
 *   <li>averaged over <em>all</em> users: a user without ground truth contributes 0 to both.</li>
 * </ul>
 *
 * <p>Inputs: {@code topIds} is row-major users x K, best first; {@code -1} marks an empty slot (when
 * the catalogue, after masking, holds fewer than K items) and is never a hit. Ground truth is CSR
 * ({@code gtPtr} of length users + 1, {@code gtItems}), any order. A ground-truth item listed twice
 * counts once (|gt| is the number of distinct items), and an item that appears twice in a top list is
 * a hit at its first rank only, so Recall never exceeds 1 and NDCG never exceeds 1.
 *
 * <p>Means are summed in double in user order: deterministic. Metric names are
 * {@code recall@k} then {@code ndcg@k}, in cutoff order: recall@10, recall@20, ndcg@10, ndcg@20.
 */
public final class RankingMetrics {
    private RankingMetrics() {}

    /** The cutoffs the papers report. */
    public static final int[] DEFAULT_CUTOFFS = {10, 20};

    private static final String RECALL = "recall@", NDCG = "ndcg@";

    /** The metric names {@link #evaluate} returns, in its order: recall at each cutoff, then NDCG at each. */
    public static java.util.List<String> names(int... cutoffs) {
        if (cutoffs.length == 0) cutoffs = DEFAULT_CUTOFFS;
        java.util.List<String> names = new java.util.ArrayList<>();
        for (int c : cutoffs) names.add(RECALL + c);
        for (int c : cutoffs) names.add(NDCG + c);
        return names;
    }

    /**
     * Per-user values, for paired significance tests and per-user analysis.
     *
     * @param cutoffs the cutoffs, in the order given
     * @param recall  recall[c][u] = Recall@cutoffs[c] of user u
     * @param ndcg    ndcg[c][u] = NDCG@cutoffs[c] of user u
     * @param gtSize  number of distinct ground-truth items of each user
     */
    public record PerUser(int[] cutoffs, double[][] recall, double[][] ndcg, int[] gtSize) {

        public int users() {
            return gtSize.length;
        }

        /** The per-user array of a metric by name ("recall@10", "ndcg@20"); throws if unknown. */
        public double[] get(String name) {
            for (int c = 0; c < cutoffs.length; c++) {
                if (name.equals(RECALL + cutoffs[c])) return recall[c];
                if (name.equals(NDCG + cutoffs[c])) return ndcg[c];
            }
            throw new IllegalArgumentException("no per-user metric '" + name + "'; cutoffs " + Arrays.toString(cutoffs));
        }

        /** Means over all users, as {@link RankingMetrics#evaluate} returns them, named as {@link RankingMetrics#names}. */
        public Metrics mean() {
            LinkedHashMap<String, Double> m = new LinkedHashMap<>();
            for (int c = 0; c < cutoffs.length; c++) m.put(RECALL + cutoffs[c], meanOf(recall[c]));
            for (int c = 0; c < cutoffs.length; c++) m.put(NDCG + cutoffs[c], meanOf(ndcg[c]));
            return new Metrics(m);
        }

        private static double meanOf(double[] x) {
            if (x.length == 0) return 0.0;
            double s = 0;
            for (double v : x) s += v;
            return s / x.length;
        }
    }

    /** Recall@10/20 and NDCG@10/20 averaged over all users. */
    public static Metrics evaluate(int[] topIds, int k, int[] gtPtr, int[] gtItems) {
        return perUser(topIds, k, gtPtr, gtItems, DEFAULT_CUTOFFS).mean();
    }

    /** Recall and NDCG at each of {@code cutoffs} (each in 1..k), averaged over all users. */
    public static Metrics evaluate(int[] topIds, int k, int[] gtPtr, int[] gtItems, int... cutoffs) {
        return perUser(topIds, k, gtPtr, gtItems, cutoffs).mean();
    }

    /**
     * Per-user Recall and NDCG.
     *
     * @param topIds  users x k item ids, row-major, best first, -1 = empty slot
     * @param k       width of each top list (row stride of topIds)
     * @param gtPtr   CSR row pointers of the ground truth, length users + 1
     * @param gtItems CSR item ids (>= 0)
     * @param cutoffs metric cutoffs, each in 1..k
     */
    public static PerUser perUser(int[] topIds, int k, int[] gtPtr, int[] gtItems, int... cutoffs) {
        check(topIds, k, gtPtr, gtItems, cutoffs);
        int users = gtPtr.length - 1;
        int maxCut = 0;
        for (int c : cutoffs) maxCut = Math.max(maxCut, c);
        // discount[r] = 1 / log2(r + 2) for 0-based rank r; idcg[n] = sum of the first n discounts.
        double[] discount = new double[maxCut];
        double[] idcg = new double[maxCut + 1];
        for (int r = 0; r < maxCut; r++) {
            discount[r] = 1.0 / (Math.log(r + 2) / Math.log(2));
            idcg[r + 1] = idcg[r] + discount[r];
        }
        int maxId = -1;
        for (int v : gtItems) maxId = Math.max(maxId, v);
        // mark[item] == u + 1 while item is an unconsumed ground-truth item of user u: O(1) membership,
        // dedups gt, and consuming it on a hit makes a repeated id in the top list a miss.
        int[] mark = new int[maxId + 1];
        double[][] recall = new double[cutoffs.length][users];
        double[][] ndcg = new double[cutoffs.length][users];
        int[] gtSize = new int[users];
        // hitRank[j] = 0-based rank of the j-th hit of the current user, in rank order
        int[] hitRank = new int[maxCut];
        for (int u = 0; u < users; u++) {
            int stamp = u + 1;
            int g = 0;
            for (int p = gtPtr[u]; p < gtPtr[u + 1]; p++) {
                int it = gtItems[p];
                if (mark[it] != stamp) {
                    mark[it] = stamp;
                    g++;
                }
            }
            gtSize[u] = g;
            if (g == 0) continue; // contributes 0; its row of the top list is not even read
            int hits = 0;
            long row = (long) u * k;
            for (int r = 0; r < maxCut; r++) {
                int it = topIds[(int) (row + r)];
                if (it >= 0 && it <= maxId && mark[it] == stamp) {
                    mark[it] = -stamp;
                    hitRank[hits++] = r;
                }
            }
            for (int c = 0; c < cutoffs.length; c++) {
                int cut = cutoffs[c];
                int h = 0;
                double dcg = 0;
                while (h < hits && hitRank[h] < cut) dcg += discount[hitRank[h++]];
                recall[c][u] = (double) h / g;
                ndcg[c][u] = dcg / idcg[Math.min(g, cut)];
            }
        }
        return new PerUser(cutoffs.clone(), recall, ndcg, gtSize);
    }

    private static void check(int[] topIds, int k, int[] gtPtr, int[] gtItems, int[] cutoffs) {
        if (gtPtr.length < 1) throw new IllegalArgumentException("RankingMetrics: gtPtr must have length users + 1 >= 1");
        int users = gtPtr.length - 1;
        if (k < 1) throw new IllegalArgumentException("RankingMetrics: k must be >= 1, got " + k);
        if ((long) users * k != topIds.length) {
            throw new IllegalArgumentException("RankingMetrics: topIds has " + topIds.length + " ids, expected users x k = "
                    + users + " x " + k);
        }
        if (cutoffs.length == 0) throw new IllegalArgumentException("RankingMetrics: no cutoffs");
        for (int c : cutoffs) {
            if (c < 1 || c > k) {
                throw new IllegalArgumentException("RankingMetrics: cutoff " + c + " outside 1.." + k + " (the top lists hold k = " + k + ")");
            }
        }
        if (gtPtr[0] != 0 || gtPtr[users] != gtItems.length) {
            throw new IllegalArgumentException("RankingMetrics: gtPtr must start at 0 and end at gtItems.length = " + gtItems.length
                    + ", got " + gtPtr[0] + " .. " + gtPtr[users]);
        }
        for (int u = 0; u < users; u++) {
            if (gtPtr[u] > gtPtr[u + 1]) {
                throw new IllegalArgumentException("RankingMetrics: gtPtr decreases at user " + u);
            }
        }
        for (int v : gtItems) if (v < 0) throw new IllegalArgumentException("RankingMetrics: negative ground-truth item id " + v);
        for (int v : topIds) if (v < -1) throw new IllegalArgumentException("RankingMetrics: top-list id " + v + " (only -1 marks an empty slot)");
    }
}
