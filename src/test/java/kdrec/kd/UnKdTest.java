package kdrec.kd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.data.Dataset;
import kdrec.data.IdMap;
import kdrec.data.InteractionMatrix;
import kdrec.loss.Batch;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** UnKD: popularity groups and pair counts by hand, teacher lists, the pair sampler, a hand-computed loss, a tiny run. */
class UnKdTest {
    @TempDir
    Path dir;

    static final TrainData DATA = RceKdTest.DATA;

    static KdParams params(Object... kv) {
        return UnKd.METHOD.params().with(KdParams.ordered(kv));
    }

    @Test
    void popularityGroupsSharesAndPairCountsByHand() {
        // counts: item 0: 5, 1: 3, 2: 2, 3: 2, 4: 1, 5: 1, 6: never (14 interactions)
        int[] train = {0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 5};
        // G = 2, mass 7 per group: 0 (5); +1 -> 8 > 7: close [0], restart with 1 (3); +2 +3 -> 7; +4 -> 8 > 7: close [1,2,3],
        // restart [4] (1); +5 -> 2 <= 7/2: joins the last group -> [0], [1..5]
        assertArrayEquals(new int[] {0, 1, 1, 1, 1, 1, -1}, UnKd.groupOf(train, 7, 2));
        // G = 3, mass 4.67: 0 alone (5 > 4.67); 1 (3) +2 -> 5: close [1], restart [2]; +3 -> 4; +4 -> 5: close [2,3], [4]; +5 -> 2 <= 2.33: joins
        int[] g3 = UnKd.groupOf(train, 7, 3);
        assertArrayEquals(new int[] {0, 1, 2, 2, 2, 2, -1}, g3);
        // shares, lamda 1: mean popularity (5, 3, 1.5) -> reflected (1.5, 3.5, 5) / 10 = (0.15, 0.35, 0.5)
        // pairs of 30: round-half-even(4.5, 10.5, 15) = (4, 10, 15) = 29 < 30 -> the first group gets one more
        double[] s3 = UnKd.groupShares(g3, 3, train, 1.0);
        assertArrayEquals(new double[] {0.15, 0.35, 0.5}, s3, 1e-12);
        assertArrayEquals(new int[] {5, 10, 15}, UnKd.pairCounts(s3, 30));
        // G = 2, lamda 1: means (5, 1.8) -> (1.8, 5) / 6.8 = (0.2647, 0.7353) -> rounded (0.26, 0.74) -> pairs (8, 22)
        double[] s2 = UnKd.groupShares(UnKd.groupOf(train, 7, 2), 2, train, 1.0);
        assertArrayEquals(new double[] {0.26, 0.74}, s2, 1e-12);
        assertArrayEquals(new int[] {8, 22}, UnKd.pairCounts(s2, 30));
        // lamda 0: equal shares; 4 groups of n = 2: round(0.5) = 0 each, topped up to (1, 1, 0, 0); n = 30: 7.5 -> 8 each (32)
        double[] eq = {0.25, 0.25, 0.25, 0.25};
        assertArrayEquals(eq, UnKd.groupShares(UnKd.groupOf(train, 7, 4), 4, train, 0.0), 1e-12);
        assertArrayEquals(new int[] {1, 1, 0, 0}, UnKd.pairCounts(eq, 2));
        assertArrayEquals(new int[] {8, 8, 8, 8}, UnKd.pairCounts(eq, 30));
    }

    @Test
    void popularityGroupsTieBreakAndLastGroupByHand() {
        // counts 4: 3, 3: 2, 0: 2, 2: 1, 1: 1; equal counts in order of first appearance: 4, 3, 0, 2, 1 (not by id: 0 before 3)
        // G = 3, mass 3: 4 (3); +3 -> 5 > 3: close [4], restart [3] (2); +0 -> 4 > 3: close [3], restart [0] (2); +2 -> 3;
        // +1 -> 4 > 3: close [0, 2], restart [1] (1 <= 1.5): joins -> [4], [3], [0, 2, 1]
        assertArrayEquals(new int[] {2, 2, 2, 1, 0}, UnKd.groupOf(new int[] {4, 4, 4, 3, 3, 0, 0, 2, 1}, 5, 3));
        // three items of 4, G = 3, mass 4: [0], [1], and a last group [2] of mass 4 > 4/2 that stays on its own
        assertArrayEquals(new int[] {0, 1, 2}, UnKd.groupOf(new int[] {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}, 3, 3));
        // counts 3, 3, 2, G = 2, mass 4: [0], [1], then [2] of mass exactly 4/2: "at most half" joins the previous group
        assertArrayEquals(new int[] {0, 1, 1}, UnKd.groupOf(new int[] {0, 0, 0, 1, 1, 1, 2, 2}, 3, 2));
    }

    /** Users and items for the sampler's position weights: user 0 has items 1..60 as candidates, user 1 only item 0. */
    static final TrainData LONG = new TrainData(new Dataset("long", IdMap.identity(2), IdMap.identity(61),
            InteractionMatrix.fromRows(2, 61, new int[][] {{0}, java.util.stream.IntStream.rangeClosed(1, 60).toArray()}),
            InteractionMatrix.empty(2, 61), InteractionMatrix.empty(2, 61)));

    static MatrixFactorization oneDim(int users, int items, java.util.function.IntToDoubleFunction user, java.util.function.IntToDoubleFunction item) {
        MatrixFactorization m = new MatrixFactorization(users, items, 1, 0);
        for (int u = 0; u < users; u++) m.params().get("user").value().set(u, (float) user.applyAsDouble(u));
        for (int i = 0; i < items; i++) m.params().get("item").value().set(i, (float) item.applyAsDouble(i));
        return m;
    }

    @Test
    void epochPairsFollowThePositionWeightsOfTheTeacherList() {
        // teacher score -i: user 0's candidates 1..60 in id order, position r = item - 1, drawn with p_r ∝ exp(-(r+1)/20);
        // a pair is two such draws redrawn while equal: P(r in the pair) = 2 p_r (1 - p_r) / (1 - sum p^2)
        try (Teacher teacher = Teacher.of(oneDim(2, 61, u -> 1, i -> -i)); Recommender student = oneDim(2, 61, u -> 1, i -> 0); Tape tape = new Tape()) {
            int n = 20_000;
            UnKd kd = new UnKd(params("group_num", 1, "n_distill", n), teacher, LONG, 3);
            assertArrayEquals(java.util.stream.IntStream.rangeClosed(1, 60).toArray(), kd.listOf(0, 0));
            kd.beginEpoch(tape, student, 0);
            assertEquals(0, kd.pairsOf(1)[0].length, "one candidate: no pairs");
            int[][] pairs = kd.pairsOf(0);
            assertEquals(n, pairs[0].length);
            double[] p = new double[60];
            double z = 0, sq = 0;
            for (int r = 0; r < 60; r++) z += p[r] = Math.exp(-(r + 1) / 20.0);
            for (int r = 0; r < 60; r++) sq += (p[r] /= z) * p[r];
            int[] hits = new int[60];
            for (int j = 0; j < n; j++) {
                assertTrue(pairs[0][j] < pairs[1][j], "the better-ranked (lower position) item is the positive");
                hits[pairs[0][j] - 1]++;
                hits[pairs[1][j] - 1]++;
            }
            for (int r : new int[] {0, 1, 5, 20, 40, 59}) {
                assertEquals(2 * p[r] * (1 - p[r]) / (1 - sq), hits[r] / (double) n, 0.01, "share of pairs holding position " + r);
            }
        }
    }

    /**
     * 4 users, 9 items, G = 2: counts 0: 3, 1: 3, 2: 2, 3: 2, 4..7: 1, 8 never: groups {0, 1} and {2..7}. Users 0-2 saw both
     * popular items (no candidate in group 0), user 3 saw neither.
     */
    static final TrainData SHORT = new TrainData(new Dataset("short", IdMap.identity(4), IdMap.identity(9),
            InteractionMatrix.fromRows(4, 9, new int[][] {{0, 1, 2, 3, 4, 5}, {0, 1, 6}, {0, 1, 7}, {2, 3}}),
            InteractionMatrix.empty(4, 9), InteractionMatrix.empty(4, 9)));

    @Test
    void aGroupWithFewerThanTwoCandidatesGivesNoPairs() {
        try (Teacher teacher = Teacher.of(oneDim(4, 9, u -> 1, i -> -i)); Recommender student = oneDim(4, 9, u -> 1, i -> 0); Tape tape = new Tape()) {
            UnKd kd = new UnKd(params("group_num", 2, "n_distill", 4), teacher, SHORT, 5);
            assertEquals(2, kd.groups());
            assertArrayEquals(new int[] {2, 2}, kd.pairCounts());
            assertArrayEquals(new int[0], kd.listOf(0, 0));
            assertArrayEquals(new int[] {6, 7}, kd.listOf(0, 1));
            assertArrayEquals(new int[] {0, 1}, kd.listOf(3, 0));
            kd.beginEpoch(tape, student, 0);
            int[] want = {2, 2, 2, 4};
            for (int u = 0; u < 4; u++) {
                int[][] pairs = kd.pairsOf(u);
                assertEquals(want[u], pairs[0].length, "pairs of user " + u);
                assertEquals(want[u], pairs[1].length);
                for (int j = 0; j < pairs[0].length; j++) {
                    int g = pairs[0][j] <= 1 ? 0 : 1;
                    int[] list = kd.listOf(u, g);
                    assertTrue(indexOf(list, pairs[0][j]) >= 0 && indexOf(list, pairs[0][j]) < indexOf(list, pairs[1][j]),
                            "user " + u + " pair " + pairs[0][j] + ", " + pairs[1][j] + " from its group's list");
                }
            }
            Var loss = kd.loss(tape, student, student.forward(tape), new Batch(new int[] {0, 3}, new int[2], new int[2]));
            assertEquals(2 * -Math.log(0.5 + 1e-10), loss.value().get(0), 1e-5, "all student scores 0: each user's mean pair loss is log 2");
        }
    }

    @Test
    void teacherListsSpanSeveralUserChunksAndStopAtTop() {
        // Teacher.topKAmong ranks SUBSET_CHUNK_USERS users a call, so these users take two calls; each group holds
        // ~2,050 seen items, so its lists stop at TOP = 1000; scores take 1,000 values, so ties are broken by id
        int users = Teacher.SUBSET_CHUNK_USERS + 4, items = users + 100;
        int[][] rows = new int[users][];
        for (int u = 0; u < users; u++) rows[u] = new int[] {u, u + 1, u + 2};
        TrainData wide = new TrainData(new Dataset("wide", IdMap.identity(users), IdMap.identity(items), InteractionMatrix.fromRows(users, items, rows),
                InteractionMatrix.empty(users, items), InteractionMatrix.empty(users, items)));
        java.util.function.IntToDoubleFunction score = i -> ((i * 7919) % 1000) / 64.0; // exact in float
        try (Teacher teacher = Teacher.of(oneDim(users, items, u -> u % 3 == 0 ? -1 : 1, score))) {
            UnKd kd = new UnKd(params("group_num", 2, "n_distill", 4), teacher, wide, 5);
            int[] group = UnKd.groupOf(wide.trainItems(), items, 2);
            for (int u : new int[] {0, 40, Teacher.SUBSET_CHUNK_USERS - 1, Teacher.SUBSET_CHUNK_USERS, users - 1}) {
                double sign = u % 3 == 0 ? -1 : 1;
                for (int g = 0; g < kd.groups(); g++) {
                    int gg = g, uu = u;
                    int[] want = java.util.stream.IntStream.range(0, items).filter(i -> group[i] == gg && (i < uu || i > uu + 2)).boxed()
                            .sorted((a, b) -> sign * score.applyAsDouble(a) != sign * score.applyAsDouble(b)
                                    ? Double.compare(sign * score.applyAsDouble(b), sign * score.applyAsDouble(a)) : Integer.compare(a, b))
                            .mapToInt(Integer::intValue).limit(UnKd.TOP).toArray();
                    assertEquals(UnKd.TOP, want.length, "the group is longer than TOP");
                    assertArrayEquals(want, kd.listOf(u, g), "user " + u + ", group " + g);
                }
            }
        }
    }

    @Test
    void pairSamplerDistribution() {
        // positions 0..2 with p ∝ exp(-(r+1)/20), a pair redrawn while equal:
        // P({i, j}) = 2 p_i p_j / (1 - sum_k p_k^2), the smaller position first
        double[] cdf = new double[3];
        double[] p = new double[3];
        double z = 0, acc = 0;
        for (int r = 0; r < 3; r++) {
            z += p[r] = Math.exp(-(r + 1) / 20.0);
            cdf[r] = acc += p[r];
        }
        double sq = 0;
        for (int r = 0; r < 3; r++) sq += (p[r] / z) * (p[r] / z);
        int[][] hits = new int[3][3];
        int trials = 60_000;
        SplittableRandom rng = new SplittableRandom(2);
        for (int t = 0; t < trials; t++) {
            int[] pr = UnKd.drawPair(cdf, 3, rng);
            assertTrue(pr[0] < pr[1]);
            hits[pr[0]][pr[1]]++;
        }
        for (int i = 0; i < 3; i++) {
            for (int j = i + 1; j < 3; j++) {
                double want = 2 * (p[i] / z) * (p[j] / z) / (1 - sq);
                assertEquals(want, hits[i][j] / (double) trials, 0.01, "pair " + i + "," + j);
            }
        }
    }

    /** 3 users, 8 items; each of items 0..5 seen twice, 6 and 7 never: one group {0..5}, two candidates per user. */
    static final TrainData HAND = new TrainData(new Dataset("hand", IdMap.identity(3), IdMap.identity(8),
            InteractionMatrix.fromRows(3, 8, new int[][] {{0, 1, 2, 3}, {0, 1, 4, 5}, {2, 3, 4, 5}}),
            InteractionMatrix.empty(3, 8), InteractionMatrix.empty(3, 8)));

    static MatrixFactorization oneDim(double[] user, double[] item) {
        MatrixFactorization m = new MatrixFactorization(user.length, item.length, 1, 0);
        for (int u = 0; u < user.length; u++) m.params().get("user").value().set(u, (float) user[u]);
        for (int i = 0; i < item.length; i++) m.params().get("item").value().set(i, (float) item[i]);
        return m;
    }

    @Test
    void handComputedLoss() {
        // teacher: users 1, item i = i/10, so higher ids rank first. Candidates (unobserved, in the group):
        // user 0: {5, 4}, user 1: {3, 2}, user 2: {1, 0}: every pair is (the higher id, the lower id).
        // student: users (1, 2, 1), items (0, 1, 0, 0.5, 2, 0, 0, 0):
        // user 0: s5 - s4 = -2: -log(sigmoid(-2) + 1e-10) = 2.126928
        // user 1: s3 - s2 = 2 * 0.5 = 1: 0.313262;  user 2: s1 - s0 = 1: 0.313262
        // mean over a user's (identical) pairs; batch {0, 1, 1, 2}: 2.126928 + 3 * 0.313262 = 3.066714
        try (Teacher teacher = Teacher.of(oneDim(new double[] {1, 1, 1}, new double[] {0, .1, .2, .3, .4, .5, .6, .7}));
             Recommender student = oneDim(new double[] {1, 2, 1}, new double[] {0, 1, 0, 0.5, 2, 0, 0, 0}); Tape tape = new Tape()) {
            UnKd kd = new UnKd(params("group_num", 1, "n_distill", 3), teacher, HAND, 9);
            assertEquals(1, kd.groups());
            assertArrayEquals(new int[] {3}, kd.pairCounts());
            assertArrayEquals(new int[] {5, 4}, kd.listOf(0, 0));
            kd.beginEpoch(tape, student, 0);
            assertArrayEquals(new int[][] {{5, 5, 5}, {4, 4, 4}}, kd.pairsOf(0));
            Var loss = kd.loss(tape, student, student.forward(tape), new Batch(new int[] {0, 1, 1, 2}, new int[4], new int[4]));
            assertEquals(3.066714, loss.value().get(0), 1e-5);
        }
    }

    @Test
    void teacherListsAndEpochPairsOnSyntheticData() {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f)); Recommender student = RceKdTest.mf(4, 2, 1f); Tape tape = new Tape()) {
            UnKd kd = new UnKd(params("group_num", 2, "n_distill", 5), teacher, DATA, 9);
            int[] group = UnKd.groupOf(DATA.trainItems(), DATA.items(), 2);
            int[] ptr = DATA.trainPtr(), tr = DATA.trainItems();
            kd.beginEpoch(tape, student, 0);
            int[] pc = kd.pairCounts();
            for (int u = 0; u < DATA.users(); u++) {
                Set<Integer> train = RceKdTest.toSet(Arrays.copyOfRange(tr, ptr[u], ptr[u + 1]));
                double[] t = RceKdTest.dots(teacher.userEmbeddings(), u, teacher.itemEmbeddings(), RdTest.allItems());
                int expectPairs = 0;
                for (int g = 0; g < kd.groups(); g++) {
                    int gg = g;
                    int[] want = java.util.stream.IntStream.range(0, DATA.items()).filter(i -> group[i] == gg && !train.contains(i)).boxed()
                            .sorted((a, b) -> Double.compare(t[b], t[a])).mapToInt(Integer::intValue).toArray();
                    assertArrayEquals(want, kd.listOf(u, g), "unobserved items of group " + g + " by teacher score, user " + u);
                    if (want.length >= 2) expectPairs += pc[g];
                }
                int[][] pairs = kd.pairsOf(u);
                assertEquals(expectPairs, pairs[0].length);
                for (int j = 0; j < pairs[0].length; j++) {
                    int gp = group[pairs[0][j]];
                    assertEquals(gp, group[pairs[1][j]], "a pair stays within its group");
                    int[] list = kd.listOf(u, gp);
                    assertTrue(indexOf(list, pairs[0][j]) < indexOf(list, pairs[1][j]), "the positive is the better-ranked item");
                }
            }
            int[][] before = kd.pairsOf(3);
            kd.beginEpoch(tape, student, 0);
            assertArrayEquals(before[0], kd.pairsOf(3)[0], "same (seed, epoch): same pairs");
        }
    }

    private static int indexOf(int[] a, int x) {
        for (int i = 0; i < a.length; i++) if (a[i] == x) return i;
        return -1;
    }

    @Test
    void settingsAndTinyRun() throws Exception {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f))) {
            assertThrows(IllegalArgumentException.class, () -> new UnKd(params("group_num", 0), teacher, DATA, 1));
            assertThrows(IllegalArgumentException.class, () -> new UnKd(params("n_distill", 0), teacher, DATA, 1));
        }
        Distillation.Setup preset = Distillation.resolve("unkd", TrainConfig.defaults(), "citeulike", "mf", Map.of());
        assertEquals(2, preset.params().integer("group_num"));
        assertEquals(1e-8f, preset.student().weightDecay());
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("dim", 8, "epochs", 3, "batch_size", 64, "lr", 0.01, "patience", 50));
        try (Teacher teacher = Teacher.of(RceKdTest.mf(16, 1, 0.5f))) {
            Distillation.Setup s = Distillation.resolve("unkd", cfg, null, "mf", Map.of("unkd.n_distill", 6));
            Trainer.Result r = Distillation.run(s, teacher, DATA, new Trainer.Outputs(null, null, dir), null);
            assertEquals(3, r.epochsRun());
            assertTrue(Double.isFinite(r.test().get("ndcg@10")));
        }
    }
}
