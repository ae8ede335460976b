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
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CD: hand-computed soft-label BCE, the tournament sampler's distribution and sets, settings, a tiny run. */
class CdTest {
    @TempDir
    Path dir;

    static final TrainData DATA = RceKdTest.DATA;

    static KdParams params(Object... kv) {
        return Cd.METHOD.params().with(KdParams.ordered(kv));
    }

    @Test
    void handComputedLoss() {
        // teacher users are 0: every teacher logit is 0, so y = sigmoid((0 + t2)/t1) whatever was sampled
        // student s = e_u (user 3: 2, others 1) on every item; n_distill = 2 items per entry
        // t2 = 0: y = 1/2; item loss -(0.5 log sigmoid(s) + 0.5 log sigmoid(-s)):
        //   s = 1: 0.5 (0.313262 + 1.313262) = 0.813262; s = 2: 0.5 (0.126928 + 2.126928) = 1.126928
        //   batch {0, 0, 3}: 2 * 2 * 0.813262 + 2 * 1.126928 = 5.506903
        // t2 = 2, t1 = 2: y = sigmoid(1) = 0.731059; s = 1: 0.731059 * 0.313262 + 0.268941 * 1.313262 = 0.582203; user 0 alone: 1.164406
        try (Teacher teacher = Teacher.of(VanillaCeTest.oneDim(u -> 0, i -> i / 10.0));
             Recommender student = VanillaCeTest.oneDim(u -> u == 3 ? 2 : 1, i -> 1); Tape tape = new Tape()) {
            Cd kd = new Cd(params("rank_k", 10), teacher, DATA, 4);
            kd.beginEpoch(tape, student, 0);
            Var loss = kd.loss(tape, student, student.forward(tape), new Batch(new int[] {0, 0, 3}, new int[3], new int[3]));
            assertEquals(5.506903, loss.value().get(0), 1e-5);
            Cd shifted = new Cd(params("rank_k", 10, "t2", 2.0, "t1", 2.0), teacher, DATA, 4);
            shifted.beginEpoch(tape, student, 0);
            Var l2 = shifted.loss(tape, student, student.forward(tape), new Batch(new int[] {0}, new int[1], new int[1]));
            assertEquals(1.164406, l2.value().get(0), 1e-5);
        }
    }

    @Test
    void tournamentKeepsTheHigherScoredOfTwoDraws() {
        // one tournament over positions with weights p: the winner is the better position, so
        // P(winner = i) = S_i^2 - S_{i+1}^2 with S_i = sum_{j >= i} p_j
        int pool = 4;
        double temp = 0.5; // sharper than the default so the weights matter
        double[] cdf = Cd.positionCdf(pool, temp);
        double[] p = new double[pool];
        double z = 0;
        for (int r = 0; r < pool; r++) z += p[r] = Math.exp(-((r + 1) / (double) pool) / temp);
        double[] want = new double[pool];
        for (int i = 0; i < pool; i++) {
            double si = 0, sn = 0;
            for (int j = i; j < pool; j++) si += p[j] / z;
            for (int j = i + 1; j < pool; j++) sn += p[j] / z;
            want[i] = si * si - sn * sn;
        }
        int[] ids = {40, 41, 42, 43};
        float[] scores = {4, 3, 2, 1};
        int trials = 60_000;
        int[] hits = new int[50], mark = new int[50];
        SplittableRandom rng = new SplittableRandom(8);
        for (int t = 0; t < trials; t++) hits[Cd.tournaments(ids, scores, 0, pool, cdf, 1, rng, mark, t + 1)[0]]++;
        for (int i = 0; i < pool; i++) assertEquals(want[i], hits[40 + i] / (double) trials, 0.01, "position " + i);

        int[] two = Cd.tournaments(ids, scores, 0, pool, cdf, 3, new SplittableRandom(1), new int[50], 1);
        assertEquals(3, Set.copyOf(Arrays.stream(two).boxed().toList()).size(), "n distinct items");
        int[] padded = {7, 9, -1, -1};
        int[] few = Cd.tournaments(padded, new float[] {2, 1, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, 0, 4, cdf, 3, new SplittableRandom(1), new int[50], 1);
        assertEquals(Set.of(7, 9), RceKdTest.toSet(few), "a list shorter than n gives all of its items");
    }

    /** The student's {@code n} best-scored items outside user u's train items (the student guide's pool), best first. */
    private static int[] studentTopUnobserved(Recommender student, int u, int n) {
        int[] ptr = DATA.trainPtr(), tr = DATA.trainItems();
        Set<Integer> train = RceKdTest.toSet(Arrays.copyOfRange(tr, ptr[u], ptr[u + 1]));
        double[] s = RceKdTest.studentScores(student, u, RdTest.allItems());
        return java.util.stream.IntStream.range(0, DATA.items()).filter(i -> !train.contains(i)).boxed()
                .sorted((a, b) -> Double.compare(s[b], s[a])).limit(n).mapToInt(Integer::intValue).toArray();
    }

    @Test
    void sampledSetsFollowTheGuide() {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f)); Recommender student = RceKdTest.mf(4, 2, 1f); Tape tape = new Tape()) {
            int[] ptr = DATA.trainPtr(), tr = DATA.trainItems();
            Cd kd = new Cd(params("rank_k", 8, "n_distill", 3), teacher, DATA, 4);
            kd.beginEpoch(tape, student, 0);
            int[][] epoch0 = new int[DATA.users()][];
            for (int u = 0; u < DATA.users(); u++) {
                Set<Integer> poolSet = RceKdTest.toSet(studentTopUnobserved(student, u, 8));
                epoch0[u] = kd.samplesOf(u);
                assertEquals(3, RceKdTest.toSet(epoch0[u]).size(), "n_distill distinct items, user " + u);
                assertTrue(poolSet.containsAll(RceKdTest.toSet(epoch0[u])), "drawn from the student's top-rank_k unobserved items, user " + u);
            }
            kd.beginEpoch(tape, student, 0);
            assertArrayEquals(epoch0[6], kd.samplesOf(6), "same (seed, epoch): same draw");
            kd.beginEpoch(tape, student, 1);
            boolean changed = false;
            for (int u = 0; u < DATA.users(); u++) changed |= !Arrays.equals(epoch0[u], kd.samplesOf(u));
            assertTrue(changed, "the student guide redraws every epoch");

            Cd byTeacher = new Cd(params("rank_k", 8, "n_distill", 3, "guide", "teacher"), teacher, DATA, 4);
            int[] fixed = byTeacher.samplesOf(6);
            byTeacher.beginEpoch(tape, student, 5);
            assertArrayEquals(fixed, byTeacher.samplesOf(6), "the teacher guide draws once");
            int[] qt = teacher.topK(8, ptr, tr);
            assertTrue(RceKdTest.toSet(Arrays.copyOfRange(qt, 48, 56)).containsAll(RceKdTest.toSet(fixed)), "from the teacher's top unobserved items");
            Cd random = new Cd(params("n_distill", 5, "guide", "random"), teacher, DATA, 4);
            assertEquals(5, random.samplesOf(2).length);
        }
    }

    @Test
    void nDistillEqualToThePoolTakesTheWholePool() {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f)); Recommender student = RceKdTest.mf(4, 2, 1f); Tape tape = new Tape()) {
            Cd kd = new Cd(params("rank_k", 6, "n_distill", 6), teacher, DATA, 4);
            kd.beginEpoch(tape, student, 0);
            for (int u = 0; u < DATA.users(); u += 5) {
                assertEquals(RceKdTest.toSet(studentTopUnobserved(student, u, 6)), RceKdTest.toSet(kd.samplesOf(u)),
                        "n_distill = rank_k: all of the top-rank_k, user " + u);
            }
        }
    }

    @Test
    void guidesSayWhetherTheyRedrawAndRandomDrawsSpanTheCatalogue() {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f))) {
            Cd byStudent = new Cd(params("rank_k", 8), teacher, DATA, 4);
            assertTrue(byStudent.redrawsEachEpoch());
            assertThrows(IllegalStateException.class, byStudent::samples, "the student guide has no samples before its first epoch");
            Cd byTeacher = new Cd(params("rank_k", 8, "guide", "teacher"), teacher, DATA, 4);
            assertTrue(!byTeacher.redrawsEachEpoch());
            assertArrayEquals(byTeacher.samplesOf(3), byTeacher.samples().of(3));
            // random: n_distill items uniformly with replacement from all items (40 users x 5 draws over 30 items)
            Cd random = new Cd(params("n_distill", 5, "guide", "random"), teacher, DATA, 4);
            assertTrue(!random.redrawsEachEpoch());
            int[] hits = new int[DATA.items()];
            for (int u = 0; u < DATA.users(); u++) {
                int[] s = random.samples().of(u);
                assertEquals(5, s.length);
                for (int i : s) hits[i]++;
            }
            int covered = 0;
            for (int h : hits) if (h > 0) covered++;
            assertTrue(covered >= 25, "200 uniform draws reach most of the 30 items: " + covered);
            for (int h : hits) assertTrue(h <= 20, "no item drawn far above its 200/30 share: " + Arrays.toString(hits));
        }
    }

    @Test
    void samplesOfAWideCatalogueSpanSeveralScoreChunks() {
        // rank_k = 50,000 items: rankings are built in chunks of 2^22 / 50,000 = 83 users, so 100 users take two chunks.
        // Each user's S_u is the tournaments over its own ranked unobserved list with its own generator.
        int users = 100, items = 50_000;
        int[][] rows = new int[users][];
        for (int u = 0; u < users; u++) rows[u] = new int[] {u, u + 1, u + 2};
        TrainData wide = new TrainData(new kdrec.data.Dataset("wide", kdrec.data.IdMap.identity(users), kdrec.data.IdMap.identity(items),
                kdrec.data.InteractionMatrix.fromRows(users, items, rows), kdrec.data.InteractionMatrix.empty(users, items), kdrec.data.InteractionMatrix.empty(users, items)));
        try (Teacher teacher = Teacher.of(UnKdTest.oneDim(users, items, u -> 1, i -> -i))) { // teacher ranking: unobserved items by id
            Cd kd = new Cd(params("rank_k", items, "n_distill", 3, "guide", "teacher", "t", 0.05), teacher, wide, 11);
            double[] cdf = Cd.positionCdf(items, 0.05);
            for (int u : new int[] {0, 82, 83, 99}) {
                int[] ids = new int[items];
                float[] scores = new float[items];
                Arrays.fill(ids, -1);
                Arrays.fill(scores, Float.NEGATIVE_INFINITY);
                for (int i = 0, r = 0; i < items; i++) {
                    if (i >= u && i <= u + 2) continue;
                    ids[r] = i;
                    scores[r++] = -i;
                }
                int[] want = Cd.tournaments(ids, scores, 0, items, cdf, 3, Sampling.rng(11, 3, 0, u), new int[items], 1);
                assertArrayEquals(want, kd.samplesOf(u), "user " + u);
            }
        }
    }

    @Test
    void batchUsersAndUserSetsCheckTheirInput() {
        BatchUsers bu = BatchUsers.of(new int[] {4, 0, 4, 4, 2}, 5);
        assertArrayEquals(new int[] {4, 0, 2}, bu.users(), "distinct users in order of first appearance");
        assertArrayEquals(new float[] {3, 1, 1}, bu.counts());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BatchUsers.of(new int[] {1, 5}, 5), "user == users is outside");
        assertTrue(e.getMessage().contains("batch user 5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BatchUsers.of(new int[] {-1}, 5));
        assertEquals(0, new UserSets(new int[] {0}, new int[0], null).users(), "no users is a valid (empty) CSR");
        assertThrows(IllegalArgumentException.class, () -> new UserSets(new int[0], new int[0], null));
        assertThrows(IllegalArgumentException.class, () -> new UserSets(new int[] {0, 2}, new int[] {1}, null), "ptr[users] != ids");
        assertThrows(IllegalArgumentException.class, () -> new UserSets(new int[] {0, 1}, new int[] {1}, new float[2]), "teacher logits misaligned");
    }

    @Test
    void settingsAndTinyRun() throws Exception {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Cd(params("n_distill", 20, "rank_k", 10), teacher, DATA, 1));
            assertTrue(e.getMessage().contains("cd.n_distill"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new Cd(params("guide", "both"), teacher, DATA, 1));
            assertThrows(IllegalArgumentException.class, () -> new Cd(params("t1", 0.0), teacher, DATA, 1));
            new Cd(params("guide", "teacher guide"), teacher, DATA, 1); // the configs' spelling
        }
        Distillation.Setup preset = Distillation.resolve("cd", TrainConfig.defaults(), "gowalla", "mf", Map.of());
        assertEquals(1e-8f, preset.student().weightDecay());
        assertEquals(2, preset.params().integer("n_distill"));
        // rows as the released files: configs/<dataset>/<student>/cd.yaml keyed by teacher; no LightGCN -> MF file
        assertEquals(512, Cd.METHOD.preset("citeulike", "hstu", "hstu").get("batch_size"));
        assertEquals(2048, Cd.METHOD.preset("yelp", "lightgcn", "lightgcn").get("batch_size"));
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> Cd.METHOD.preset("gowalla", "lightgcn", "mf"));
        assertTrue(none.getMessage().contains("gowalla/mf>mf"), none.getMessage());
        assertThrows(IllegalArgumentException.class, () -> VanillaCe.METHOD.preset("citeulike", "mf", "hstu"), "kd.yaml holds MF students only");
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("dim", 8, "epochs", 3, "batch_size", 64, "lr", 0.01, "patience", 50));
        try (Teacher teacher = Teacher.of(RceKdTest.mf(16, 1, 0.5f))) {
            Distillation.Setup s = Distillation.resolve("cd", cfg, null, "mf", Map.of("cd.rank_k", 10, "cd.n_distill", 3));
            Trainer.Result r = Distillation.run(s, teacher, DATA, new Trainer.Outputs(null, null, dir), null);
            assertEquals(3, r.epochsRun());
            assertTrue(Double.isFinite(r.test().get("ndcg@10")));
        }
    }
}
