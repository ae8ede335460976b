package kdrec.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.data.InteractionMatrix;
import kdrec.data.Sequences;
import kdrec.model.Hstu;
import org.junit.jupiter.api.Test;

/** The HSTU next-item losses against their formulas in double from the encoded states, the batch seed and negatives, settings. */
class SequenceLossTest {
    static final int USERS = 5, ITEMS = 12, MAX_LEN = 6;

    /**
     * Sequences (split order): user 0 five items, user 1 one (no position to predict), user 2 eight (the last six
     * kept), user 3 none, user 4 two.
     */
    static Hstu model() {
        InteractionMatrix train = InteractionMatrix.fromRows(USERS, ITEMS,
                new int[][] {{1, 2, 3, 4, 5}, {7}, {8, 3, 9, 10, 11, 2, 4, 6}, {}, {0, 11}});
        Sequences seq = Sequences.of(train, MAX_LEN);
        return new Hstu(USERS, ITEMS, 8, 1, 2, MAX_LEN, 0f, seq, seq, 3);
    }

    /** The mean over positions p < len-1 of each batch user of the CE of predicting item p+1, in double. */
    static double expected(Hstu h, SequenceLoss sl, int[] users, long bs) {
        double total = 0;
        int count = 0;
        try (Tape t = new Tape(); var ng = t.noGrad()) {
            Hstu.Encoded enc = h.encode(t, users, bs);
            float[] st = enc.states().value().toArray(), it = h.itemTable().value().toArray();
            int d = h.dim(), n = enc.n();
            double[][] item = new double[ITEMS][d];
            for (int i = 0; i < ITEMS; i++) {
                double norm = 0;
                for (int c = 0; c < d; c++) norm += (double) it[i * d + c] * it[i * d + c];
                for (int c = 0; c < d; c++) item[i][c] = it[i * d + c] / Math.sqrt(norm);
            }
            int[] neg = sl.negatives(bs, ITEMS);
            int row = 0; // the position's index among the batch's supervised positions (per-position draws)
            for (int s = 0; s < users.length; s++) {
                int len = h.sequences().length(users[s]);
                for (int p = 0; p + 1 < len; p++) {
                    double[] logit = new double[ITEMS];
                    for (int i = 0; i < ITEMS; i++) {
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += st[(s * n + p) * d + c] * item[i][c];
                        logit[i] = dot / sl.temperature();
                    }
                    int target = h.sequences().item(users[s], p + 1);
                    double z;
                    if (sl.name().equals("full_softmax")) {
                        z = 0;
                        for (int i = 0; i < ITEMS; i++) z += Math.exp(logit[i]);
                    } else {
                        double negSum = 0;
                        for (int q = 0; q < sl.negatives(); q++) {
                            int j = sl.perPosition() ? sl.negative(bs, row, q, ITEMS) : neg[q];
                            if (j != target) negSum += Math.exp(logit[j]);
                        }
                        z = Math.exp(logit[target]) + sl.negScale(ITEMS) * negSum;
                    }
                    total += -logit[target] + Math.log(z);
                    count++;
                    row++;
                }
            }
        }
        return total / count;
    }

    @Test
    void lossesAreTheMeanNextItemCeOverPositions() {
        int[] users = {2, 1, 0, 4, 3}; // 5 + 0 + 4 + 1 + 0 = 10 positions; the first user (2) seeds the batch
        try (Hstu h = model()) {
            assertEquals(6, h.sequences().length(2), "the last max_len items");
            for (String kind : new String[] {"sampled_softmax", "scaled_softmax", "full_softmax"}) {
                SequenceLoss sl = new SequenceLoss(kind, 4, 0.2f, 17);
                double want = expected(h, sl, users, SequenceLoss.batchSeed(17, 3, 2));
                try (Tape t = new Tape(); var ng = t.noGrad()) {
                    float got = sl.forward(t, h, new Batch(users, new int[5], new int[5], 3), false).loss().value().get(0);
                    assertEquals(want, got, 1e-4 * Math.abs(want), kind);
                }
            }
            // the three differ on this batch (so each is told apart from the others)
            double sampled = expected(h, new SequenceLoss("sampled_softmax", 4, 0.2f, 17), users, SequenceLoss.batchSeed(17, 3, 2));
            double scaled = expected(h, new SequenceLoss("scaled_softmax", 4, 0.2f, 17), users, SequenceLoss.batchSeed(17, 3, 2));
            double full = expected(h, new SequenceLoss("full_softmax", 4, 0.2f, 17), users, SequenceLoss.batchSeed(17, 3, 2));
            assertTrue(Math.abs(sampled - scaled) > 0.1 && Math.abs(sampled - full) > 0.1, sampled + " " + scaled + " " + full);
            // the negatives come from the first user's seed, not user 0's
            assertFalse(java.util.Arrays.equals(new SequenceLoss("sampled_softmax", 4, 0.2f, 17).negatives(SequenceLoss.batchSeed(17, 3, 2), ITEMS),
                    new SequenceLoss("sampled_softmax", 4, 0.2f, 17).negatives(SequenceLoss.batchSeed(17, 3, 0), ITEMS)));
        }
    }

    @Test
    void perPositionNegativesAreTheCodesDraw() {
        int[] users = {2, 1, 0, 4, 3};
        long bs = SequenceLoss.batchSeed(17, 3, 2);
        try (Hstu h = model()) {
            for (String kind : new String[] {"sampled_softmax", "scaled_softmax"}) {
                SequenceLoss sl = new SequenceLoss(kind, 4, 0.2f, 17, true);
                assertTrue(sl.perPosition());
                double want = expected(h, sl, users, bs);
                try (Tape t = new Tape(); var ng = t.noGrad()) {
                    float got = sl.forward(t, h, new Batch(users, new int[5], new int[5], 3), false).loss().value().get(0);
                    assertEquals(want, got, 1e-4 * Math.abs(want), kind);
                }
                // not the shared draw: the same batch with negatives per batch has another loss
                double shared = expected(h, new SequenceLoss(kind, 4, 0.2f, 17), users, bs);
                assertTrue(Math.abs(shared - want) > 1e-3, kind + ": " + shared + " vs " + want);
            }
            // every row draws its own: rows 0 and 1 of the batch differ, and each is a pure function of (seed, row, j)
            SequenceLoss sl = new SequenceLoss("sampled_softmax", 64, 0.2f, 17, true);
            int[] r0 = new int[64], r1 = new int[64];
            for (int j = 0; j < 64; j++) {
                r0[j] = sl.negative(bs, 0, j, ITEMS);
                r1[j] = sl.negative(bs, 1, j, ITEMS);
                assertEquals(r0[j], sl.negative(bs, 0, j, ITEMS));
            }
            assertFalse(java.util.Arrays.equals(r0, r1));
            int[] other = new int[64];
            for (int j = 0; j < 64; j++) other[j] = sl.negative(bs + 1, 0, j, ITEMS);
            assertFalse(java.util.Arrays.equals(r0, other), "another batch seed, another draw");
        }
    }

    @Test
    void kdTermSeedsDifferFromTheBatchSeedAndFromEachOther() {
        for (long bs : new long[] {0, -1, SequenceLoss.batchSeed(17, 3, 2)}) {
            java.util.Set<Long> seen = new java.util.HashSet<>(java.util.List.of(bs));
            for (int term = 0; term < 4; term++) assertTrue(seen.add(SequenceLoss.termSeed(bs, term)), "term " + term + " of " + bs);
        }
    }

    @Test
    void perPositionDrawsAreUniformAndInRange() {
        SequenceLoss sl = new SequenceLoss("sampled_softmax", 100, 0.1f, 1, true);
        int items = 37;
        long[] hits = new long[items];
        for (int row = 0; row < 1000; row++) {
            for (int j = 0; j < 100; j++) {
                int id = sl.negative(99L, row, j, items);
                assertTrue(id >= 0 && id < items, "id " + id);
                hits[id]++;
            }
        }
        double expected = 100_000.0 / items, chi2 = 0;
        for (long h : hits) chi2 += (h - expected) * (h - expected) / expected;
        // 36 degrees of freedom: the 99.9 % quantile is ~67.99; fixed seed, so this is a fixed draw, not a flaky one
        assertTrue(chi2 < 68, "chi-square " + chi2);
        // the largest catalogue still reaches its last ids (the multiply-shift keeps the top bits)
        int top = 0;
        for (int j = 0; j < 100; j++) top = Math.max(top, sl.negative(5L, 0, j, Integer.MAX_VALUE));
        assertTrue(top > Integer.MAX_VALUE / 2, "max of 100 draws " + top);
    }

    @Test
    void stepBackpropagatesAndReportsTheLoss() {
        int[] users = {0, 2, 4};
        try (Hstu h = model(); Tape t = new Tape()) {
            SequenceLoss sl = new SequenceLoss("sampled_softmax", 5, 0.2f, 9);
            double want = expected(h, sl, users, SequenceLoss.batchSeed(9, 1, 0));
            h.params().zeroGrad();
            Map<String, Double> out = sl.step(t, h, new Batch(users, new int[3], new int[3], 1));
            assertEquals(Set.of("sampled_softmax"), out.keySet());
            assertEquals(want, out.get("sampled_softmax"), 1e-4 * want);
            float[] g = h.params().get("item").densify(t).toArray();
            double norm = 0;
            for (float x : g) norm += x * x;
            assertTrue(norm > 0, "the step backpropagates into the item table");
        }
    }

    @Test
    void aBatchWithoutTwoItemSequencesHasAConstantZeroLoss() {
        try (Hstu h = model(); Tape t = new Tape()) {
            SequenceLoss sl = new SequenceLoss("full_softmax", 5, 0.2f, 9);
            Var loss = sl.forward(t, h, new Batch(new int[] {1, 3}, new int[2], new int[2]), false).loss();
            assertEquals(0f, loss.value().get(0));
            assertFalse(loss.requiresGrad());
            assertEquals(Map.of("full_softmax", 0.0), sl.step(t, h, new Batch(new int[] {3, 1}, new int[2], new int[2])));
        }
    }

    @Test
    void negativesAreUniformDrawsFromTheBatchSeed() {
        SequenceLoss sl = new SequenceLoss("sampled_softmax", 3000, 0.1f, 1);
        assertEquals(3000, sl.negatives());
        int[] neg = sl.negatives(12345L, 50);
        assertEquals(3000, neg.length);
        int[] hits = new int[50];
        for (int i : neg) hits[i]++;
        for (int i = 0; i < 50; i++) assertTrue(hits[i] > 30 && hits[i] < 90, "item " + i + " drawn " + hits[i] + " times of an expected 60");
        assertArrayEquals(neg, sl.negatives(12345L, 50), "a pure function of the batch seed");
        assertFalse(java.util.Arrays.equals(neg, sl.negatives(12346L, 50)));
    }

    @Test
    void batchSeedsAreDistinctAndPinned() {
        // the device twin draws the same negatives and dropout masks from this seed; recorded runs redraw them after an upgrade
        long c = 0x2545F4914F6CDD1DL;
        assertEquals(c, SequenceLoss.batchSeed(0, 0, 0));
        assertEquals(0x9E3779B97F4A7C15L + c, SequenceLoss.batchSeed(1, 0, 0));
        assertEquals(0xBF58476D1CE4E5B9L + c, SequenceLoss.batchSeed(0, 1, 0));
        assertEquals(0x94D049BB133111EBL + c, SequenceLoss.batchSeed(0, 0, 1));
        assertEquals(2 * 0x9E3779B97F4A7C15L + 3 * 0xBF58476D1CE4E5B9L + 5 * 0x94D049BB133111EBL + c, SequenceLoss.batchSeed(2, 3, 5));
        Set<Long> seen = new HashSet<>();
        for (long seed = 0; seed < 4; seed++) {
            for (int epoch = 0; epoch < 4; epoch++) {
                for (int user = 0; user < 4; user++) assertTrue(seen.add(SequenceLoss.batchSeed(seed, epoch, user)), seed + "/" + epoch + "/" + user);
            }
        }
        assertEquals(SequenceLoss.batchSeed(7, 3, 5), new SequenceLoss("full_softmax", 4, 0.1f, 7).batchSeed(3, 5));
        assertNotEquals(0L, new SequenceLoss("full_softmax", 4, 0.1f, 0).batchSeed(0, 0));
    }

    @Test
    void aUsersBatchHasNoPairs() {
        Batch b = Batch.ofUsers(new int[] {3, 1, 4}, 2);
        assertArrayEquals(new int[] {3, 1, 4}, b.users());
        assertArrayEquals(new int[] {-1, -1, -1}, b.positives(), "no positive item: -1");
        assertArrayEquals(new int[] {-1, -1, -1}, b.negatives());
        assertEquals(2, b.epoch());
    }

    @Test
    void settingsAndTheNegativesScale() {
        for (String kind : new String[] {"sampled_softmax", "scaled_softmax", "full_softmax"}) {
            SequenceLoss sl = new SequenceLoss(kind, 1, Float.MIN_VALUE, 0);
            assertEquals(kind, sl.name());
            assertEquals(1, sl.negatives(), "one negative is enough");
            assertEquals(Float.MIN_VALUE, sl.temperature(), "any positive temperature");
        }
        assertThrows(IllegalArgumentException.class, () -> new SequenceLoss("softmax", 4, 0.1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new SequenceLoss("sampled_softmax", 0, 0.1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new SequenceLoss("sampled_softmax", 4, 0f, 0));
        assertThrows(IllegalArgumentException.class, () -> new SequenceLoss("sampled_softmax", 4, Float.NaN, 0));
        // scaled_softmax scales the negatives' sum to the catalogue: (items - 1) / R, never below 1
        assertEquals(15f, new SequenceLoss("scaled_softmax", 8, 0.1f, 0).negScale(121));
        assertEquals(1f, new SequenceLoss("scaled_softmax", 200, 0.1f, 0).negScale(121));
        assertEquals(1f, new SequenceLoss("sampled_softmax", 8, 0.1f, 0).negScale(121));
        assertEquals(1f, new SequenceLoss("full_softmax", 8, 0.1f, 0).negScale(121));
    }
}
