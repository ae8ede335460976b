package kdrec.kd;

import static kdrec.kd.RceKdTest.DATA;
import static kdrec.kd.RceKdTest.mf;
import static kdrec.kd.RceKdTest.toSet;
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
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DCD: exact student ranks, the correction weights, the draw order, the loss formula and a tiny run. */
class DcdTest {
    @TempDir
    Path dir;

    static KdParams params(Object... kv) {
        return Dcd.METHOD.params().with(KdParams.ordered(kv));
    }

    @Test
    void handComputedRanksAndWeights() {
        // scores of items 0..5; descending: 1 (3), 3 (3, tie: larger id after), 5 (2), 2 (1), 0 (0.5), 4 (-1)
        float[] s = {0.5f, 3f, 1f, 3f, -1f, 2f};
        int[] list = {2, 3, 0, 1}; // the teacher's list: r_T = 0, 1, 2, 3
        int[] rank = new int[4];
        Dcd.ranks(s, 6, list, 0, 4, rank, new Dcd.RankScratch(4));
        assertArrayEquals(new int[] {3, 1, 4, 0}, rank);
        // d = rank - r_T = (3, 0, 2, -3), T = 2: under = tanh(1.5), 1e-5, tanh(1), 1e-5; over = 1e-5 x3, tanh(1.5)
        double[] under = new double[4], over = new double[4];
        Dcd.logWeights(rank, 4, 2.0, under, over);
        assertArrayEquals(new double[] {0.9051482536, 1e-5, 0.7615941560, 1e-5}, Arrays.stream(under).map(Math::exp).toArray(), 1e-9);
        assertArrayEquals(new double[] {1e-5, 1e-5, 1e-5, 0.9051482536}, Arrays.stream(over).map(Math::exp).toArray(), 1e-9);
    }

    @Test
    void ranksMatchBruteForceWithTies() {
        SplittableRandom r = new SplittableRandom(4);
        for (int trial = 0; trial < 400; trial++) {
            int n = 1 + r.nextInt(trial < 100 ? 40 : 400), m = 1 + r.nextInt(n);
            float[] s = new float[n];
            for (int j = 0; j < n; j++) s[j] = r.nextInt(8) - 4 + (r.nextBoolean() ? 0f : 0.5f); // many ties
            if (trial % 4 == 1) for (int j = 0; j < n; j++) s[j] = (float) r.nextGaussian(); // distinct: the bucket walk
            if (trial % 4 == 2) for (int j = 0; j < n; j++) s[j] = r.nextInt(3) == 0 ? -0f : (float) r.nextGaussian() * 1e-3f;
            if (trial % 8 == 3) s[r.nextInt(n)] = r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY; // degenerate range
            if (trial % 8 == 7) java.util.Arrays.fill(s, 1.5f); // one score
            int[] perm = new int[n];
            for (int j = 0; j < n; j++) perm[j] = j;
            for (int j = n - 1; j > 0; j--) {
                int t = r.nextInt(j + 1), x = perm[j];
                perm[j] = perm[t];
                perm[t] = x;
            }
            int[] list = new int[m + 3];
            System.arraycopy(perm, 0, list, 3, m); // at an offset, as in the users x mxk table
            int[] rank = new int[m];
            Dcd.ranks(s, n, list, 3, m, rank, new Dcd.RankScratch(m));
            for (int t = 0; t < m; t++) {
                int i = list[3 + t], want = 0;
                for (int j = 0; j < n; j++) if (s[j] > s[i] || (s[j] == s[i] && j < i)) want++;
                assertEquals(want, rank[t], "trial " + trial + ", item " + i);
            }
        }
    }

    @Test
    void drawOrderIsTheSequentialDrawOrder() {
        double[] w = {1, 2, 3, 4};
        double[] logw = Arrays.stream(w).map(Math::log).toArray();
        int trials = 100_000;
        int[] first = new int[4], second = new int[4];
        for (int t = 0; t < trials; t++) {
            int[] d = Sampling.inDrawOrder(logw, 4, 2, new SplittableRandom(t));
            int[] set = Sampling.withoutReplacement(logw, 4, 2, new SplittableRandom(t));
            int[] sorted = d.clone();
            Arrays.sort(sorted);
            assertArrayEquals(set, sorted, "the same items as Sampling.withoutReplacement from the same generator");
            first[d[0]]++;
            second[d[1]]++;
        }
        for (int i = 0; i < 4; i++) {
            double p2 = 0; // P(second draw = i) = sum_{j != i} p_j * w_i / (10 - w_j)
            for (int j = 0; j < 4; j++) if (j != i) p2 += w[j] / 10 * w[i] / (10 - w[j]);
            assertEquals(w[i] / 10, first[i] / (double) trials, 0.006, "first draw of " + i);
            assertEquals(p2, second[i] / (double) trials, 0.006, "second draw of " + i);
        }
    }

    @Test
    void epochSetsAreDrawsFromTheTeacherListAndIndependentOfTheBlockSize() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 1f); Tape tape = new Tape()) {
            Dcd kd = new Dcd(params("k", 4, "mxk", 12, "t", 3.0), teacher, DATA, 7);
            kd.beginEpoch(tape, student, 0);
            Dcd small = new Dcd(params("k", 4, "mxk", 12, "t", 3.0), teacher, DATA, 7);
            small.blockFloats = 3 * DATA.items(); // three users per score block
            small.beginEpoch(tape, student, 0);
            for (int u = 0; u < DATA.users(); u++) {
                Set<Integer> list = toSet(kd.teacherList(u));
                for (int j = DATA.trainPtr()[u]; j < DATA.trainPtr()[u + 1]; j++) assertTrue(!list.contains(DATA.trainItems()[j]), "train masked");
                int[][] s = kd.setsOf(u);
                assertEquals(4, s[0].length);
                assertEquals(4, s[1].length);
                assertEquals(4, toSet(s[0]).size(), "under-estimated items distinct");
                assertEquals(4, toSet(s[1]).size(), "over-estimated items distinct");
                assertTrue(list.containsAll(toSet(s[0])) && list.containsAll(toSet(s[1])));
                assertArrayEquals(s[0], small.setsOf(u)[0], "block size changes nothing, user " + u);
                assertArrayEquals(s[1], small.setsOf(u)[1]);
            }
        }
    }

    @Test
    void underAndOverEstimatedItemsComeFromTheStudentsRanks() {
        // user 5's student scores put the teacher's list on top in teacher order except positions 1 and 4,
        // swapped: d = +3 for position 1 (under-estimated), -3 for position 4 (over-estimated), 0 elsewhere.
        // With T = 1 and K = 1 the weights are tanh(3) = 0.995 against 5 x 1e-5: each draw is that item.
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(1, 2, 1f); Tape tape = new Tape()) {
            Dcd kd = new Dcd(params("k", 1, "mxk", 6, "t", 1.0), teacher, DATA, 3);
            int u = 5;
            int[] list = kd.teacherList(u);
            var uEmb = student.params().get("user").value();
            var iEmb = student.params().get("item").value();
            for (int i = 0; i < DATA.items(); i++) iEmb.set(i, 0, 0f);
            int[] studentPos = {0, 4, 2, 3, 1, 5};
            for (int t = 0; t < 6; t++) iEmb.set(list[t], 0, 10f - studentPos[t]);
            uEmb.set(u, 0, 1f);
            kd.beginEpoch(tape, student, 0);
            assertArrayEquals(new int[] {list[1]}, kd.setsOf(u)[0], "under-estimated: teacher position 1, student rank 4");
            assertArrayEquals(new int[] {list[4]}, kd.setsOf(u)[1], "over-estimated: teacher position 4, student rank 1");
        }
    }

    @Test
    void lossIsTheRelaxedRankingFormulaOverDistinctBatchUsers() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 0.7f); Tape tape = new Tape()) {
            Dcd kd = new Dcd(params("k", 4, "mxk", 10), teacher, DATA, 7);
            kd.beginEpoch(tape, student, 0);
            tape.reset();
            int[] users = {8, 2, 8, 30};
            Var loss = kd.loss(tape, student, student.forward(tape), new Batch(users, new int[4], new int[4]));
            double want = 0;
            for (int u : new int[] {8, 2, 30}) want += RrdTest.formula(kd.setsOf(u), student, u); // ordered = under, in draw order
            assertEquals(want, loss.value().get(0), 1e-5 * want);
        }
    }

    @Test
    void kEqualToMxkDrawsTheWholeList() {
        try (Teacher teacher = Teacher.of(mf(16, 1, 0.5f)); Recommender student = mf(4, 2, 1f); Tape tape = new Tape()) {
            Dcd kd = new Dcd(params("k", 6, "mxk", 6, "t", 3.0), teacher, DATA, 7);
            kd.beginEpoch(tape, student, 0);
            for (int u = 0; u < DATA.users(); u += 3) {
                int[][] s = kd.setsOf(u);
                assertEquals(toSet(kd.teacherList(u)), toSet(s[0]), "K = mxK: every item under-estimated side, user " + u);
                assertEquals(toSet(kd.teacherList(u)), toSet(s[1]), "and on the over-estimated side, user " + u);
                assertEquals(6, s[0].length);
            }
        }
    }

    @Test
    void settingsPresetsAndATinyRun() throws Exception {
        try (Teacher teacher = Teacher.of(mf(16, 1, 0.5f))) {
            assertThrows(IllegalArgumentException.class, () -> new Dcd(params("k", 20, "mxk", 10), teacher, DATA, 0), "K > mxK is refused");
            assertThrows(IllegalArgumentException.class, () -> new Dcd(params("t", -1.0), teacher, DATA, 0));
            assertEquals(Map.of("lambda", 0.01, "k", 100, "t", 10.0, "mxk", 500), Dcd.METHOD.defaults());
            assertEquals(2048, Dcd.METHOD.preset("citeulike", "mf", "mf").get("batch_size"));
            assertThrows(IllegalArgumentException.class, () -> Dcd.METHOD.preset("gowalla", "mf", "mf"), "no released Gowalla config");
            TrainConfig cfg = TrainConfig.defaults().with(Map.of("dim", 8, "epochs", 3, "batch_size", 64, "lr", 0.01, "patience", 50));
            Distillation.Setup s = Distillation.resolve("dcd", cfg, null, "mf", Map.of("dcd.k", 5, "dcd.mxk", 12, "lambda", 0.5));
            Trainer.Result r = Distillation.run(s, teacher, DATA, new Trainer.Outputs(null, null, dir.resolve("dcd")), null);
            assertEquals(3, r.epochsRun());
            assertTrue(Double.isFinite(r.test().get("ndcg@10")));
        }
    }

    @Test
    void distillationResumesExactly() throws Exception {
        // no cross-epoch state: each epoch's draws follow from (seed, epoch, user) and the resumed student
        try (Teacher teacher = Teacher.of(mf(16, 1, 0.5f))) {
            RceKdTest.assertResumesExactly(dir, teacher, "dcd", Map.of("dcd.k", 4, "dcd.mxk", 10, "lambda", 0.5));
        }
    }
}
