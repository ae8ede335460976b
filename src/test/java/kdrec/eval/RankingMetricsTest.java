package kdrec.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RankingMetricsTest {
    private static final double EPS = 1e-12;

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    /** gt {1, 3}, ranked [3, 0, 1, 4, ...]: hits at ranks 1 and 3. */
    @Test
    void handComputedSingleUser() {
        int[] top = {3, 0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
        Metrics m = RankingMetrics.evaluate(top, 20, new int[] {0, 2}, new int[] {1, 3});
        double ndcg = (1 + 1 / log2(4)) / (1 + 1 / log2(3));
        assertEquals(1.0, m.get("recall@10"), EPS);
        assertEquals(1.0, m.get("recall@20"), EPS);
        assertEquals(ndcg, m.get("ndcg@10"), EPS);
        assertEquals(ndcg, m.get("ndcg@20"), EPS);
        assertEquals(List.of("recall@10", "recall@20", "ndcg@10", "ndcg@20"), m.names());
    }

    /** A hit at rank 12 counts for @20 only. */
    @Test
    void cutoffsSeparateHits() {
        int[] top = new int[20];
        for (int i = 0; i < 20; i++) top[i] = 100 + i;
        top[0] = 7;
        top[11] = 9;
        Metrics m = RankingMetrics.evaluate(top, 20, new int[] {0, 3}, new int[] {7, 9, 50});
        assertEquals(1.0 / 3, m.get("recall@10"), EPS);
        assertEquals(2.0 / 3, m.get("recall@20"), EPS);
        assertEquals(1.0 / (1 + 1 / log2(3) + 1 / log2(4)), m.get("ndcg@10"), EPS);
        assertEquals((1 + 1 / log2(13)) / (1 + 1 / log2(3) + 1 / log2(4)), m.get("ndcg@20"), EPS);
    }

    /** Users without ground truth count as 0 in the mean over all users. */
    @Test
    void usersWithoutGroundTruthCountAsZero() {
        int[] top = {5, 6, 7, 5, 6, 7, 5, 6, 7};
        int[] ptr = {0, 1, 1, 2}; // user 1 has no test items
        int[] items = {5, 7};
        RankingMetrics.PerUser pu = RankingMetrics.perUser(top, 3, ptr, items, 1, 3);
        assertArrayEquals(new double[] {1, 0, 0}, pu.get("recall@1"), EPS);
        assertArrayEquals(new double[] {1, 0, 1}, pu.get("recall@3"), EPS);
        assertArrayEquals(new double[] {1, 0, 1 / log2(4)}, pu.get("ndcg@3"), EPS);
        assertArrayEquals(new int[] {1, 0, 1}, pu.gtSize());
        Metrics m = pu.mean();
        assertEquals(1.0 / 3, m.get("recall@1"), EPS);
        assertEquals(2.0 / 3, m.get("recall@3"), EPS);
        assertEquals((1 + 0.5) / 3, m.get("ndcg@3"), EPS);
        assertEquals(m, RankingMetrics.evaluate(top, 3, ptr, items, 1, 3));
    }

    /** Catalogue of 3 items, K = 10: empty slots are -1 and never hits. */
    @Test
    void catalogueSmallerThanK() {
        int[] top = {2, 0, 1, -1, -1, -1, -1, -1, -1, -1};
        Metrics m = RankingMetrics.evaluate(top, 10, new int[] {0, 1}, new int[] {1}, 10);
        assertEquals(1.0, m.get("recall@10"), EPS);
        assertEquals(1 / log2(4), m.get("ndcg@10"), EPS);
        int[] empty = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
        Metrics z = RankingMetrics.evaluate(empty, 10, new int[] {0, 1}, new int[] {1}, 10);
        assertEquals(0.0, z.get("recall@10"));
        assertEquals(0.0, z.get("ndcg@10"));
    }

    /** gt {1, 1, 3} is gt {1, 3}; a repeated id in the list is a hit once. */
    @Test
    void duplicatedIds() {
        int[] top = {3, 0, 1, 4, 5, 6, 7, 8, 9, 10};
        Metrics dup = RankingMetrics.evaluate(top, 10, new int[] {0, 3}, new int[] {1, 3, 1}, 10);
        Metrics plain = RankingMetrics.evaluate(top, 10, new int[] {0, 2}, new int[] {3, 1}, 10);
        assertEquals(plain, dup);
        assertEquals(1.0, dup.get("recall@10"), EPS);
        int[] rep = {1, 1, 9, 9, 9, 9, 9, 9, 9, 9};
        Metrics r = RankingMetrics.evaluate(rep, 10, new int[] {0, 2}, new int[] {1, 2}, 10);
        assertEquals(0.5, r.get("recall@10"), EPS);
        assertEquals(1 / (1 + 1 / log2(3)), r.get("ndcg@10"), EPS);
    }

    /** Recall's denominator is |gt|, not min(|gt|, k); IDCG uses min(|gt|, k) ones. */
    @Test
    void recallDenominatorIsGtSize() {
        int[] gt = new int[25];
        for (int i = 0; i < 25; i++) gt[i] = i;
        int[] top = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        Metrics m = RankingMetrics.evaluate(top, 10, new int[] {0, 25}, gt, 10);
        assertEquals(0.4, m.get("recall@10"), EPS);
        assertEquals(1.0, m.get("ndcg@10"), EPS);
    }

    @Test
    void noUsers() {
        Metrics m = RankingMetrics.evaluate(new int[0], 20, new int[] {0}, new int[0]);
        assertEquals(0.0, m.get("ndcg@20"));
    }

    /** Random cases against a direct transcription of the formulas with hash sets. */
    @Test
    void matchesNaiveOnRandomCases() {
        SplittableRandom rnd = new SplittableRandom(42);
        for (int trial = 0; trial < 30; trial++) {
            int users = 1 + rnd.nextInt(40), items = 1 + rnd.nextInt(60), k = 1 + rnd.nextInt(25);
            int[] top = new int[users * k];
            int[] ptr = new int[users + 1];
            int[] gtAll = new int[users * 30];
            int n = 0;
            for (int u = 0; u < users; u++) {
                // a top list of distinct items, padded with -1 when the catalogue is short
                int[] perm = rnd.ints(0, items).distinct().limit(Math.min(k, items)).toArray();
                for (int r = 0; r < k; r++) top[u * k + r] = r < perm.length ? perm[r] : -1;
                int g = rnd.nextInt(6) == 0 ? 0 : 1 + rnd.nextInt(12);
                for (int j = 0; j < g; j++) gtAll[n++] = rnd.nextInt(items);
                ptr[u + 1] = n;
            }
            int[] gt = java.util.Arrays.copyOf(gtAll, n);
            int[] cut = {1 + rnd.nextInt(k), k};
            RankingMetrics.PerUser pu = RankingMetrics.perUser(top, k, ptr, gt, cut);
            for (int u = 0; u < users; u++) {
                Set<Integer> set = new HashSet<>();
                for (int p = ptr[u]; p < ptr[u + 1]; p++) set.add(gt[p]);
                for (int c = 0; c < cut.length; c++) {
                    double dcg = 0, idcg = 0;
                    int hits = 0;
                    for (int r = 0; r < cut[c]; r++) {
                        if (set.contains(top[u * k + r])) {
                            hits++;
                            dcg += 1 / log2(r + 2);
                        }
                    }
                    for (int r = 0; r < Math.min(set.size(), cut[c]); r++) idcg += 1 / log2(r + 2);
                    double rec = set.isEmpty() ? 0 : (double) hits / set.size();
                    double nd = set.isEmpty() ? 0 : dcg / idcg;
                    assertEquals(rec, pu.recall()[c][u], 1e-12, "recall user " + u);
                    assertEquals(nd, pu.ndcg()[c][u], 1e-12, "ndcg user " + u);
                    assertTrue(nd <= 1 + 1e-12);
                }
            }
        }
    }

    @Test
    void badArguments() {
        int[] top = {0, 1};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RankingMetrics.evaluate(top, 2, new int[] {0, 1}, new int[] {0}, 10));
        assertTrue(e.getMessage().contains("cutoff 10"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RankingMetrics.evaluate(top, 3, new int[] {0, 1}, new int[] {0}, 1));
        assertThrows(IllegalArgumentException.class, () -> RankingMetrics.evaluate(top, 2, new int[] {0, 2}, new int[] {0}, 1));
        assertThrows(IllegalArgumentException.class, () -> RankingMetrics.evaluate(top, 2, new int[] {0, 1}, new int[] {-3}, 1));
        assertThrows(IllegalArgumentException.class, () -> RankingMetrics.evaluate(new int[] {-2, 0}, 2, new int[] {0, 1}, new int[] {0}, 1));
        assertThrows(IllegalArgumentException.class, () -> RankingMetrics.evaluate(top, 2, new int[] {0, 1}, new int[] {0}, new int[0]));
        assertThrows(IllegalArgumentException.class, () -> RankingMetrics.perUser(top, 2, new int[] {0, 1}, new int[] {0}, 1).get("mrr@1"));
    }
}
