package kdrec.kd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import kdrec.tensor.Tensor;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RD: hand-computed static and dynamic weights and loss, the teacher list and the uniform unobserved samples, a tiny run. */
class RdTest {
    @TempDir
    Path dir;

    static final TrainData DATA = RceKdTest.DATA;

    static KdParams params(Object... kv) {
        return Rd.METHOD.params().with(KdParams.ordered(kv));
    }

    @Test
    void handComputedWeights() {
        // static, T = 1: exp(-1..-4) / sum = (0.643914, 0.236883, 0.087144, 0.032059)
        double[] sw = Rd.staticWeights(4, 1.0);
        assertArrayEquals(new double[] {0.643914, 0.236883, 0.087144, 0.032059}, sw, 1e-6);
        // dynamic: |I| = 11, n = 4 samples scoring (1.0, 0.3, 0.1, 0.6), student scores of the list (0.5, 0.2, 0.9, 2.0)
        // r0 = 0: 2 samples higher -> rhat = floor(10 * 2/4) + 1 = 6, tanh(0.1 * 6) = 0.537050
        // r0 = 1: 3 higher -> rhat = floor(7.5) + 1 = 8, tanh(0.1 * 7) = 0.604368
        // r0 = 2: 1 higher -> rhat = floor(2.5) + 1 = 3, tanh(0.1 * 1) = 0.099668
        // r0 = 3: 0 higher -> rhat = 1 < 3: max(0, tanh(-0.2)) = 0
        // products (0.345810, 0.143164, 0.008685, 0) renormalised: (0.694875, 0.287673, 0.017453, 0)
        float[] out = new float[5];
        Rd.userWeights(sw, new float[] {9, 0.5f, 0.2f, 0.9f, 2.0f}, 1, 4, new float[] {1.0f, 0.3f, 0.1f, 0.6f}, 0, 4, 11, 0.1, out, 1);
        assertArrayEquals(new float[] {0, 0.694875f, 0.287673f, 0.017453f, 0}, out, 1e-6f);
        // before start_epoch: the static weights as they are
        Rd.userWeights(sw, null, 0, 4, null, 0, 0, 11, 0.1, out, 0);
        assertArrayEquals(new float[] {0.643914f, 0.236883f, 0.087144f, 0.032059f}, Arrays.copyOf(out, 4), 1e-6f);
        // every sample above every item: rhat = 11 for all, all weights positive, summing to 1
        Rd.userWeights(sw, new float[] {-5, -5, -5, -5}, 0, 4, new float[] {1, 1}, 0, 2, 11, 0.1, out, 0);
        assertEquals(1.0, out[0] + out[1] + out[2] + out[3], 1e-6);
    }

    @Test
    void handComputedStaticLoss() {
        // every student score is e_u * 1 (user 3: 2, others 1) so the weights (sum 1) factor out:
        // entry loss = -log sigmoid(s) = log(1 + e^-s); batch {0, 0, 3}: 2 * 0.313262 + 0.126928 = 0.753451
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f));
             Recommender student = VanillaCeTest.oneDim(u -> u == 3 ? 2 : 1, i -> 1); Tape tape = new Tape()) {
            Rd kd = new Rd(params("topk", 5), teacher, DATA, 3);
            kd.beginEpoch(tape, student, 0);
            Var loss = kd.loss(tape, student, student.forward(tape), new Batch(new int[] {0, 0, 3}, new int[3], new int[3]));
            assertEquals(0.753451, loss.value().get(0), 1e-5);
        }
    }

    @Test
    void teacherListAndUniformUnobservedSamples() {
        // the r-th unobserved item: train {1, 3} of 6 items leaves {0, 2, 4, 5}, each drawn with probability 1/4
        int[] hits = new int[6];
        int draws = 80_000;
        for (int x : Rd.sampleUnobserved(new int[] {1, 3}, 0, 2, 6, draws, new SplittableRandom(5))) hits[x]++;
        assertEquals(0, hits[1] + hits[3], "train items are never drawn");
        for (int x : new int[] {0, 2, 4, 5}) assertEquals(0.25, hits[x] / (double) draws, 0.01, "item " + x);
        assertEquals(0, Rd.sampleUnobserved(new int[] {0, 1}, 0, 2, 2, 5, new SplittableRandom(1)).length, "nothing unobserved");

        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f)); Recommender student = RceKdTest.mf(4, 2, 1f); Tape tape = new Tape()) {
            Rd kd = new Rd(params("topk", 6, "dynamic_sample", 7, "start_epoch", 2), teacher, DATA, 3);
            int[] ptr = DATA.trainPtr(), tr = DATA.trainItems();
            for (int u = 0; u < DATA.users(); u++) {
                Set<Integer> train = RceKdTest.toSet(Arrays.copyOfRange(tr, ptr[u], ptr[u + 1]));
                double[] t = RceKdTest.dots(teacher.userEmbeddings(), u, teacher.itemEmbeddings(), allItems());
                Integer[] order = new Integer[DATA.items()];
                for (int i = 0; i < order.length; i++) order[i] = i;
                Arrays.sort(order, (a, b) -> Double.compare(t[b], t[a]));
                int[] want = Arrays.stream(order).filter(i -> !train.contains(i)).limit(6).mapToInt(Integer::intValue).toArray();
                assertArrayEquals(want, kd.topOf(u), "teacher's top unobserved items, best first, user " + u);
            }
            kd.beginEpoch(tape, student, 1);
            assertNull(kd.negativesOf(0), "no samples before start_epoch");
            kd.beginEpoch(tape, student, 2);
            int[] first = kd.negativesOf(4);
            for (int u = 0; u < DATA.users(); u++) {
                int[] s = kd.negativesOf(u);
                assertEquals(7, s.length);
                Set<Integer> train = RceKdTest.toSet(Arrays.copyOfRange(tr, ptr[u], ptr[u + 1]));
                for (int x : s) assertTrue(!train.contains(x) && x >= 0 && x < DATA.items(), "unobserved sample " + x + " of user " + u);
            }
            kd.beginEpoch(tape, student, 2);
            assertArrayEquals(first, kd.negativesOf(4), "same epoch, same draw");
            int[][] epoch2 = new int[DATA.users()][];
            for (int u = 0; u < DATA.users(); u++) epoch2[u] = kd.negativesOf(u);
            kd.beginEpoch(tape, student, 3);
            boolean changed = false;
            for (int u = 0; u < DATA.users(); u++) changed |= !Arrays.equals(epoch2[u], kd.negativesOf(u));
            assertTrue(changed, "a new epoch draws afresh");
        }
    }

    @Test
    void dynamicLossEqualsTheFormulaAndItsGradientMatchesFiniteDifferences() {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f)); Recommender student = RceKdTest.mf(4, 2, 0.7f); Tape tape = new Tape()) {
            Rd kd = new Rd(params("topk", 6, "dynamic_sample", 9, "start_epoch", 0, "mu", 0.3, "lambda_r", 2.0), teacher, DATA, 3);
            kd.beginEpoch(tape, student, 0);
            int[] users = {2, 9, 2, 13};
            Batch batch = new Batch(users, new int[4], new int[4]);
            tape.reset();
            student.params().zeroGrad();
            Var loss = kd.loss(tape, student, student.forward(tape), batch);
            double want = expected(kd, student, users, 0.3, 2.0);
            assertEquals(want, loss.value().get(0), 1e-5 * Math.abs(want) + 1e-6);
            tape.backward(loss);
            // the weights are constants of the step: differentiate the formula with them frozen
            double[][] frozen = new double[users.length][];
            for (int b = 0; b < users.length; b++) frozen[b] = weights(kd, student, users[b], 0.3, 2.0);
            for (String name : new String[] {"user", "item"}) {
                Var p = student.params().get(name);
                float[] analytic = p.densify(tape).toArray();
                Tensor x = p.value();
                for (int i = 0; i < x.size(); i += 3) {
                    float x0 = x.get(i);
                    double h = 1e-3;
                    x.set(i, (float) (x0 + h));
                    double fp = weighted(kd, student, users, frozen);
                    x.set(i, (float) (x0 - h));
                    double fm = weighted(kd, student, users, frozen);
                    x.set(i, x0);
                    double numeric = (fp - fm) / (2 * h);
                    assertEquals(numeric, analytic[i], 2e-3 + 2e-3 * Math.abs(numeric), name + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void muZeroIsAllowedAndShortUnobservedListsAreNotPadded() {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f))) {
            new Rd(params("mu", 0.0), teacher, DATA, 1); // rd.mu must be >= 0: 0 is valid
        }
        // train counts 6, 3, 3, 2 of 9 items (UnKdTest.SHORT); teacher score -i: topk 9 gives each user its unobserved items by id
        try (Teacher teacher = Teacher.of(UnKdTest.oneDim(4, 9, u -> 1, i -> -i))) {
            Rd kd = new Rd(params("topk", 9), teacher, UnKdTest.SHORT, 1);
            assertArrayEquals(new int[] {6, 7, 8}, kd.topOf(0));
            assertArrayEquals(new int[] {2, 3, 4, 5, 7, 8}, kd.topOf(1));
            assertArrayEquals(new int[] {2, 3, 4, 5, 6, 8}, kd.topOf(2));
            assertArrayEquals(new int[] {0, 1, 4, 5, 6, 7, 8}, kd.topOf(3));
        }
    }

    @Test
    void settingsAndTinyRun() throws Exception {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f))) {
            assertThrows(IllegalArgumentException.class, () -> new Rd(params("lambda_r", 0.0), teacher, DATA, 1));
            assertThrows(IllegalArgumentException.class, () -> new Rd(params("mu", -1.0), teacher, DATA, 1));
            assertThrows(IllegalArgumentException.class, () -> new Rd(params("dynamic_sample", 0), teacher, DATA, 1));
            assertThrows(IllegalArgumentException.class, () -> params("T", 1.0), "rd_T is lambda_r here");
        }
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("dim", 8, "epochs", 3, "batch_size", 64, "lr", 0.01, "patience", 50));
        try (Teacher teacher = Teacher.of(RceKdTest.mf(16, 1, 0.5f))) {
            Distillation.Setup s = Distillation.resolve("rd", cfg, null, "mf", Map.of("rd.topk", 5, "rd.start_epoch", 1, "rd.dynamic_sample", 10));
            Trainer.Result r = Distillation.run(s, teacher, DATA, new Trainer.Outputs(null, null, dir), null);
            assertEquals(3, r.epochsRun());
            assertTrue(Double.isFinite(r.test().get("ndcg@10")));
        }
    }

    @Test
    void resumedRunCrossingStartEpochEqualsTheUninterruptedOne() throws Exception {
        // the dynamic phase depends only on (seed, epoch, user) and the student: a run resumed at epoch 2 redraws the same samples
        try (Teacher teacher = Teacher.of(RceKdTest.mf(16, 1, 0.5f))) {
            RceKdTest.assertResumesExactly(dir, teacher, "rd", Map.of("rd.topk", 5, "rd.start_epoch", 1, "rd.dynamic_sample", 10));
        }
    }

    // ---- the spec's formulas in double, independent of the implementation ----

    static double[] weights(Rd kd, Recommender student, int u, double mu, double temp) {
        return weights(kd, student, student, u, mu, temp);
    }

    /** The weights with the teacher-top items scored by {@code top} and the dynamic samples by {@code dynamic}. */
    static double[] weights(Rd kd, Recommender top, Recommender dynamic, int u, double mu, double temp) {
        int[] list = kd.topOf(u), neg = kd.negativesOf(u);
        double[] s = RceKdTest.studentScores(top, u, list), ns = RceKdTest.studentScores(dynamic, u, neg);
        double[] w = new double[list.length];
        double z = 0, sum = 0;
        for (int r = 1; r <= list.length; r++) z += Math.exp(-r / temp);
        for (int r = 0; r < list.length; r++) {
            int higher = 0;
            for (double v : ns) if (v > s[r]) higher++;
            double rhat = Math.floor((DATA.items() - 1) * higher / (double) ns.length) + 1;
            w[r] = Math.exp(-(r + 1) / temp) / z * Math.max(0, Math.tanh(mu * (rhat - r)));
            sum += w[r];
        }
        for (int r = 0; r < w.length; r++) w[r] /= Math.max(sum, 1e-12);
        return w;
    }

    static double weighted(Rd kd, Recommender student, int[] users, double[][] w) {
        double total = 0;
        for (int b = 0; b < users.length; b++) {
            double[] s = RceKdTest.studentScores(student, users[b], kd.topOf(users[b]));
            for (int r = 0; r < s.length; r++) total -= w[b][r] * -Math.log1p(Math.exp(-s[r]));
        }
        return total;
    }

    static double expected(Rd kd, Recommender student, int[] users, double mu, double temp) {
        double[][] w = new double[users.length][];
        for (int b = 0; b < users.length; b++) w[b] = weights(kd, student, users[b], mu, temp);
        return weighted(kd, student, users, w);
    }

    static int[] allItems() {
        int[] all = new int[DATA.items()];
        for (int i = 0; i < all.length; i++) all[i] = i;
        return all;
    }
}
