package kdrec.kd;

import static kdrec.kd.RceKdTest.DATA;
import static kdrec.kd.RceKdTest.mf;
import static kdrec.kd.RceKdTest.studentScores;
import static kdrec.kd.RceKdTest.toSet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.train.TrainConfig;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RRD: the sets' definitions, the rank-weighted draw, the loss against the formula, a tiny run. */
class RrdTest {
    @TempDir
    Path dir;

    static KdParams params(Object... kv) {
        return Rrd.METHOD.params().with(KdParams.ordered(kv));
    }

    static Set<Integer> train(int u) {
        Set<Integer> s = new HashSet<>();
        for (int j = DATA.trainPtr()[u]; j < DATA.trainPtr()[u + 1]; j++) s.add(DATA.trainItems()[j]);
        return s;
    }

    @Test
    void outsideItemsSkipsBothExcludedLists() {
        // items 0..9 without {1, 4} and {2, 7}: free = 0, 3, 5, 6, 8, 9; ranks 0, 1, 2, 5 -> 0, 3, 5, 9
        int[] out = new int[4];
        Rrd.outsideItems(new int[] {0, 1, 2, 5}, new int[] {1, 4}, 0, 2, new int[] {9, 2, 7}, 1, 3, out, 0);
        assertArrayEquals(new int[] {0, 3, 5, 9}, out);
    }

    @Test
    void epochSetsFollowTheDefinitions() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 1f); Tape tape = new Tape()) {
            Rrd kd = new Rrd(params("k", 4, "l", 6, "mxk", 10, "t", 2.0), teacher, DATA, 7);
            kd.beginEpoch(tape, student, 0);
            int[] top = teacher.topK(10, DATA.trainPtr(), DATA.trainItems());
            for (int u = 0; u < DATA.users(); u++) {
                int[] list = kd.teacherList(u);
                assertArrayEquals(java.util.Arrays.copyOfRange(top, u * 10, u * 10 + list.length), list, "the teacher's unobserved top-mxk");
                Set<Integer> tr = train(u), listSet = toSet(list);
                for (int i : list) assertTrue(!tr.contains(i), "train items are masked");
                int[][] s = kd.setsOf(u);
                assertEquals(4, s[0].length);
                int prev = -1;
                for (int i : s[0]) {
                    int pos = indexOf(list, i);
                    assertTrue(pos > prev, "interesting items distinct and in teacher order, user " + u);
                    prev = pos;
                }
                int pool = DATA.items() - tr.size() - list.length;
                assertEquals(Math.min(6, pool), s[1].length);
                assertEquals(s[1].length, toSet(s[1]).size(), "uninteresting items distinct");
                for (int i : s[1]) assertTrue(!tr.contains(i) && !listSet.contains(i), "uninteresting: not train, not teacher-top, user " + u);
            }
            int[][] before = kd.setsOf(3);
            kd.beginEpoch(tape, student, 0);
            assertArrayEquals(before[0], kd.setsOf(3)[0], "same (seed, epoch): same draw");
            assertArrayEquals(before[1], kd.setsOf(3)[1]);
        }
    }

    @Test
    void interestingItemsFollowTheRankWeights() {
        // mxk 4, K 2, T 1: P(position r drawn) from sequential draws with weights exp(-(r+1))
        double[] w = new double[4];
        double z = 0;
        for (int r = 0; r < 4; r++) z += w[r] = Math.exp(-(r + 1));
        double[] expected = new double[4];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                if (j == i) continue;
                double pi = w[i] / z, pj = w[j] / z;
                expected[i] += pi * pj / (1 - pi) + pj * pi / (1 - pj);
            }
        }
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 1f); Tape tape = new Tape()) {
            Rrd kd = new Rrd(params("k", 2, "l", 1, "mxk", 4, "t", 1.0), teacher, DATA, 11);
            int[] hits = new int[4];
            int[] freeHits = new int[DATA.items()];
            int epochs = 1500, draws = 0;
            for (int ep = 0; ep < epochs; ep++) {
                kd.beginEpoch(tape, student, ep);
                for (int u = 0; u < DATA.users(); u++) {
                    int[] list = kd.teacherList(u);
                    for (int i : kd.setsOf(u)[0]) hits[indexOf(list, i)]++;
                    draws++;
                }
                for (int i : kd.setsOf(0)[1]) freeHits[i]++;
            }
            for (int r = 0; r < 4; r++) assertEquals(expected[r], hits[r] / (double) draws, 0.01, "inclusion probability of teacher position " + r);
            // user 0's single uninteresting item: uniform over the items outside train and the top list
            Set<Integer> excluded = train(0);
            excluded.addAll(toSet(kd.teacherList(0)));
            int free = DATA.items() - excluded.size();
            for (int i = 0; i < DATA.items(); i++) {
                if (excluded.contains(i)) assertEquals(0, freeHits[i]);
                else assertEquals(1.0 / free, freeHits[i] / (double) epochs, 0.03, "uniform uninteresting item " + i);
            }
        }
    }

    @Test
    void kEqualToMxkAndAnUninterestingPoolSmallerThanL() {
        // 30 items, mxk 20: about 4 items are neither train nor teacher-top, fewer than l = 50: all of them are taken
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 1f); Tape tape = new Tape()) {
            Rrd kd = new Rrd(params("k", 20, "l", 50, "mxk", 20, "t", 2.0), teacher, DATA, 7);
            kd.beginEpoch(tape, student, 0);
            for (int u = 0; u < DATA.users(); u++) {
                int[] list = kd.teacherList(u);
                int[][] s = kd.setsOf(u);
                assertArrayEquals(list, s[0], "K = mxK: the whole teacher list, in teacher order, user " + u);
                Set<Integer> free = new HashSet<>();
                for (int i = 0; i < DATA.items(); i++) free.add(i);
                free.removeAll(train(u));
                free.removeAll(toSet(list));
                assertTrue(free.size() < 50);
                assertEquals(free.size(), s[1].length, "the uninteresting pool is smaller than l: all of it, user " + u);
                assertEquals(free, toSet(s[1]), "user " + u);
            }
        }
    }

    @Test
    void interestingItemsFollowTheRankWeightsAtATemperatureOtherThanOne() {
        // mxk 4, K 1, T 2: P(teacher position r) = exp(-(r+1)/2) / sum
        double[] p = new double[4];
        double z = 0;
        for (int r = 0; r < 4; r++) z += p[r] = Math.exp(-(r + 1) / 2.0);
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 1f); Tape tape = new Tape()) {
            Rrd kd = new Rrd(params("k", 1, "l", 0, "mxk", 4, "t", 2.0), teacher, DATA, 13);
            int[] hits = new int[4];
            int draws = 0;
            for (int ep = 0; ep < 300; ep++) {
                kd.beginEpoch(tape, student, ep);
                for (int u = 0; u < DATA.users(); u++) {
                    hits[indexOf(kd.teacherList(u), kd.setsOf(u)[0][0])]++;
                    draws++;
                }
            }
            for (int r = 0; r < 4; r++) assertEquals(p[r] / z, hits[r] / (double) draws, 0.015, "teacher position " + r);
        }
    }

    @Test
    void lossIsTheRelaxedRankingFormulaOverDistinctBatchUsers() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 0.7f); Tape tape = new Tape()) {
            Rrd kd = new Rrd(params("k", 4, "l", 6, "mxk", 10), teacher, DATA, 7);
            kd.beginEpoch(tape, student, 0);
            tape.reset();
            int[] users = {3, 7, 3, 11, 0, 3}; // user 3 three times: counted once (the code unique()s batch users)
            Var loss = kd.loss(tape, student, student.forward(tape), new Batch(users, new int[6], new int[6]));
            double want = 0;
            for (int u : new int[] {3, 7, 11, 0}) want += formula(kd.setsOf(u), student, u);
            assertEquals(want, loss.value().get(0), 1e-5 * want);
        }
    }

    /** -sum_k [s_k - log(sum_{l>=k} exp s_l + sum_U exp s_j)], straight from the spec in double. */
    static double formula(int[][] s, Recommender student, int u) {
        return formula(s, student, student, u);
    }

    /** The same with the ordered items scored by one student and the rest by another (kd_encoding=per_term). */
    static double formula(int[][] s, Recommender ordered, Recommender others, int u) {
        double[] o = studentScores(ordered, u, s[0]), rest = studentScores(others, u, s[1]);
        double loss = 0;
        for (int k = 0; k < o.length; k++) {
            double den = 0;
            for (int l = k; l < o.length; l++) den += Math.exp(Math.min(o[l], 80));
            for (double x : rest) den += Math.exp(Math.min(x, 80));
            loss -= Math.min(o[k], 80) - Math.log(den);
        }
        return loss;
    }

    @Test
    void settingsAndPresets() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f))) {
            assertThrows(IllegalArgumentException.class, () -> new Rrd(params("k", 20, "mxk", 10), teacher, DATA, 0), "K > mxK is refused");
            assertThrows(IllegalArgumentException.class, () -> new Rrd(params("t", 0.0), teacher, DATA, 0));
            assertThrows(IllegalArgumentException.class, () -> params("l", "many"));
            Rrd capped = new Rrd(params("k", 100, "mxk", 500), teacher, DATA, 0); // 30 items: capped to the catalogue
            assertTrue(capped.teacherList(0).length <= DATA.items());
        }
        assertEquals(0.005, Rrd.METHOD.preset("Gowalla", "mf", "mf").get("lambda"));
        assertEquals(200, Rrd.METHOD.preset("yelp", "lightgcn", "mf").get("k"));
        assertEquals(Rrd.METHOD, Methods.get("RRD"));
        Map<String, Object> d = Rrd.METHOD.defaults();
        assertEquals(Map.of("lambda", 0.1, "k", 100, "l", 200, "t", 10.0, "mxk", 500), d, "defaults = the CiteULike MF row");
    }

    @Test
    void tinyDistillationRunsToFiniteMetrics() throws Exception {
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("dim", 8, "epochs", 3, "batch_size", 64, "lr", 0.01, "patience", 50));
        try (Teacher teacher = Teacher.of(mf(16, 1, 0.5f))) {
            Distillation.Setup s = Distillation.resolve("rrd", cfg, null, "mf", Map.of("rrd.k", 5, "rrd.l", 8, "rrd.mxk", 10, "lambda", 0.5));
            Trainer.Result r = Distillation.run(s, teacher, DATA, new Trainer.Outputs(null, null, dir.resolve("rrd")), null);
            assertEquals(3, r.epochsRun());
            assertTrue(Double.isFinite(r.test().get("ndcg@10")));
        }
    }

    static int indexOf(int[] a, int x) {
        for (int i = 0; i < a.length; i++) if (a[i] == x) return i;
        return -1;
    }

}
