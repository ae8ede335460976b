package kdrec.kd;

import static kdrec.kd.RceKdTest.DATA;
import static kdrec.kd.RceKdTest.mf;
import static kdrec.kd.RceKdTest.studentScores;
import static kdrec.kd.RceKdTest.teacherScores;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import java.util.function.DoubleSupplier;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.loss.Batch;
import kdrec.loss.SequenceLoss;
import kdrec.model.Hstu;
import kdrec.model.Recommender;
import kdrec.tensor.Tensor;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import org.junit.jupiter.api.Test;

/**
 * kd_encoding=per_term: every KD method whose reference code scores the student more than once per
 * batch reads a pass per call. Each is checked with a different MF student standing in for each pass
 * (so a set scored by the wrong pass changes the value), against its formula in double and by finite
 * differences on every pass; then the HSTU objective that makes the passes.
 */
class StudentPassesTest {
    static StudentPasses passes(Tape tape, Recommender... students) {
        return StudentPasses.perTerm(i -> students[i].forward(tape));
    }

    static Batch batch(int... users) {
        return new Batch(users, new int[users.length], new int[users.length]);
    }

    /** Central differences of {@code f} against the analytic gradient of every pass's tables (every third entry). */
    static void assertGradients(Tape tape, Recommender[] students, DoubleSupplier f) {
        for (int s = 0; s < students.length; s++) {
            for (String name : new String[] {"user", "item"}) {
                Var p = students[s].params().get(name);
                float[] analytic = p.densify(tape).toArray();
                Tensor x = p.value();
                for (int i = s % 3; i < x.size(); i += 3) {
                    float x0 = x.get(i);
                    double h = 1e-3;
                    x.set(i, (float) (x0 + h));
                    double fp = f.getAsDouble();
                    x.set(i, (float) (x0 - h));
                    double fm = f.getAsDouble();
                    x.set(i, x0);
                    double numeric = (fp - fm) / (2 * h);
                    assertEquals(numeric, analytic[i], 2e-3 + 2e-3 * Math.abs(numeric), "pass " + s + " " + name + "[" + i + "]");
                }
            }
        }
    }

    static void zeroGrads(Recommender... students) {
        for (Recommender s : students) s.params().zeroGrad();
    }

    /** RCE-KD as the code's get_loss: CE_SK on pass 0, CE_J2 with P's logits from pass 2 and the rest's from pass 1. */
    static double rcekd(RceKd kd, Teacher teacher, Recommender[] st, int[] users, int l, double tau) {
        double total = 0;
        for (int u : users) {
            int[][] s = kd.setsOf(u);
            int[] p = Arrays.copyOf(s[1], l), rest = Arrays.copyOfRange(s[1], l, s[1].length);
            double[] j2 = new double[s[1].length];
            System.arraycopy(studentScores(st[2], u, p), 0, j2, 0, l);
            System.arraycopy(studentScores(st[1], u, rest), 0, j2, l, rest.length);
            double w = kd.mixOf(u);
            total += (1 - w) * RceKdTest.ce(teacherScores(teacher, u, s[0]), studentScores(st[0], u, s[0]), tau)
                    + w * RceKdTest.ce(teacherScores(teacher, u, s[1]), j2, tau);
        }
        return total;
    }

    @Test
    void rceKdScoresEachSetWithItsOwnPass() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender s0 = mf(4, 2, 0.7f); Recommender s1 = mf(4, 3, 0.7f);
             Recommender s2 = mf(4, 4, 0.7f); Tape tape = new Tape()) {
            float tau = 0.8f;
            int l = 3;
            RceKd kd = new RceKd(RceKdTest.params("k", 4, "m", 9, "l", l, "beta", 2.0, "tau", tau), teacher, DATA, 7);
            kd.beginEpoch(tape, s0, 0);
            int[] users = {3, 7, 3, 11, 0}; // user 3 twice: duplicates count twice
            Recommender[] st = {s0, s1, s2};
            for (int u : users) assertTrue(kd.setsOf(u)[1].length > l, "J2 holds teacher items besides P for user " + u);
            tape.reset();
            zeroGrads(st);
            Var loss = kd.loss(tape, s0, passes(tape, st), batch(users));
            double want = rcekd(kd, teacher, st, users, l, tau);
            assertEquals(want, loss.value().get(0), 1e-5 * Math.abs(want));
            Recommender[] swapped = {s0, s2, s1};
            assertNotEquals(want, rcekd(kd, teacher, swapped, users, l, tau), 1e-3 * Math.abs(want), "P and the rest read different passes");
            tape.backward(loss);
            assertGradients(tape, st, () -> rcekd(kd, teacher, st, users, l, tau));
        }
    }

    @Test
    void oneRceKdPassForEveryTermEqualsTheFusedPath() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 0.7f); Tape tape = new Tape()) {
            RceKd kd = new RceKd(RceKdTest.params("k", 4, "m", 9, "l", 3), teacher, DATA, 7);
            kd.beginEpoch(tape, student, 0);
            Batch b = batch(1, 2, 2, 9, 30);
            tape.reset();
            student.params().zeroGrad();
            Var fused = kd.loss(tape, student, student.forward(tape), b);
            tape.backward(fused);
            float[] gu = student.params().get("user").densify(tape).toArray(), gi = student.params().get("item").densify(tape).toArray();
            float fusedValue = fused.value().get(0); // the tape's memory is reused after reset
            tape.reset();
            student.params().zeroGrad();
            Recommender.Embeddings e = student.forward(tape);
            Var composed = kd.loss(tape, student, StudentPasses.perTerm(i -> e), b);
            tape.backward(composed);
            assertEquals(fusedValue, composed.value().get(0), 1e-5 * Math.abs(fusedValue));
            assertArrayEquals(gu, student.params().get("user").densify(tape).toArray(), 1e-5f);
            assertArrayEquals(gi, student.params().get("item").densify(tape).toArray(), 1e-5f);
        }
    }

    @Test
    void rceKdAblationsWithOneCeReadOnePass() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender s0 = mf(4, 2, 0.7f); Recommender s1 = mf(4, 3, 0.7f); Tape tape = new Tape()) {
            for (Map<String, Object> ablation : java.util.List.<Map<String, Object>>of(Map.of("sampling", false), Map.of("separate", false))) {
                KdParams p = RceKdTest.params("k", 4, "m", 9, "l", 3).with(ablation);
                RceKd kd = new RceKd(p, teacher, DATA, 7);
                kd.beginEpoch(tape, s0, 0);
                tape.reset();
                float one = kd.loss(tape, s0, s0.forward(tape), batch(4, 5)).value().get(0);
                tape.reset();
                float perTerm = kd.loss(tape, s0, passes(tape, s0, s1), batch(4, 5)).value().get(0);
                assertEquals(one, perTerm, 0f, "term 0 only: " + ablation);
            }
        }
    }

    @Test
    void rrdAndDcdScoreTheirTwoListsWithTwoPasses() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender s0 = mf(4, 2, 0.7f); Recommender s1 = mf(4, 3, 0.7f); Tape tape = new Tape()) {
            Recommender[] st = {s0, s1};
            Rrd rrd = new Rrd(RrdTest.params("k", 4, "l", 6, "mxk", 10), teacher, DATA, 7);
            Dcd dcd = new Dcd(DcdTest.params("k", 4, "mxk", 10), teacher, DATA, 7);
            int[] users = {3, 7, 3, 11, 0}, distinct = {3, 7, 11, 0};
            for (Distiller kd : new Distiller[] {rrd, dcd}) {
                kd.beginEpoch(tape, s0, 0);
                DoubleSupplier want = () -> {
                    double sum = 0;
                    for (int u : distinct) sum += RrdTest.formula(kd instanceof Rrd r ? r.setsOf(u) : ((Dcd) kd).setsOf(u), s0, s1, u);
                    return sum;
                };
                tape.reset();
                zeroGrads(st);
                Var loss = kd.loss(tape, s0, passes(tape, st), batch(users));
                assertEquals(want.getAsDouble(), loss.value().get(0), 1e-5 * Math.abs(want.getAsDouble()), kd.name());
                tape.backward(loss);
                assertGradients(tape, st, want);
            }
        }
    }

    @Test
    void unKdScoresPositivesAndNegativesWithTwoPasses() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender s0 = mf(4, 2, 0.7f); Recommender s1 = mf(4, 3, 0.7f); Tape tape = new Tape()) {
            Recommender[] st = {s0, s1};
            UnKd kd = new UnKd(UnKdTest.params("group_num", 2, "n_distill", 5), teacher, DATA, 9);
            kd.beginEpoch(tape, s0, 0);
            int[] users = {3, 7, 3, 11};
            DoubleSupplier want = () -> {
                double sum = 0;
                for (int u : users) {
                    int[][] pairs = kd.pairsOf(u);
                    double[] pos = studentScores(s0, u, pairs[0]), neg = studentScores(s1, u, pairs[1]);
                    for (int j = 0; j < pos.length; j++) sum -= Math.log(1 / (1 + Math.exp(-(pos[j] - neg[j]))) + UnKd.EPS) / pos.length;
                }
                return sum;
            };
            tape.reset();
            zeroGrads(st);
            Var loss = kd.loss(tape, s0, passes(tape, st), batch(users));
            assertEquals(want.getAsDouble(), loss.value().get(0), 1e-5 * Math.abs(want.getAsDouble()));
            tape.backward(loss);
            assertGradients(tape, st, want);
        }
    }

    @Test
    void rdReadsTheDynamicSamplesFromOnePassAndTrainsTheOther() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender s0 = mf(4, 2, 0.7f); Recommender s1 = mf(4, 3, 0.7f); Tape tape = new Tape()) {
            Rd kd = new Rd(RdTest.params("topk", 6, "dynamic_sample", 9, "start_epoch", 0, "mu", 0.3, "lambda_r", 2.0), teacher, DATA, 3);
            kd.beginEpoch(tape, s0, 0);
            int[] users = {2, 9, 2, 13};
            double[][] frozen = new double[users.length][];
            for (int b = 0; b < users.length; b++) frozen[b] = RdTest.weights(kd, s1, s0, users[b], 0.3, 2.0);
            tape.reset();
            zeroGrads(s0, s1);
            Var loss = kd.loss(tape, s0, passes(tape, s0, s1), batch(users));
            double want = RdTest.weighted(kd, s1, users, frozen);
            assertEquals(want, loss.value().get(0), 1e-5 * Math.abs(want) + 1e-6);
            double[][] oneStudent = new double[users.length][];
            for (int b = 0; b < users.length; b++) oneStudent[b] = RdTest.weights(kd, s1, s1, users[b], 0.3, 2.0);
            assertNotEquals(want, RdTest.weighted(kd, s1, users, oneStudent), 1e-4 * Math.abs(want), "the weights read pass 0");
            tape.backward(loss);
            for (String name : new String[] {"user", "item"}) {
                Tensor g = s0.params().get(name).densify(tape);
                if (g != null) for (float v : g.toArray()) assertEquals(0f, v, "the dynamic scores carry no gradient");
            }
            assertGradients(tape, new Recommender[] {s1}, () -> RdTest.weighted(kd, s1, users, frozen));
        }
    }

    // ---- the HSTU objective that makes the passes ----

    static TrainConfig hstuStudent(double dropout, String encoding) {
        return RceKdHstuTest.hstu(1, 1).with(Map.of("dropout", dropout, "kd_encoding", encoding));
    }

    static Map<String, Double> step(Teacher teacher, TrainConfig sc, int[] users) {
        Distillation.Setup s = Distillation.resolve("rcekd", sc, null, "hstu", RceKdHstuTest.SMALL);
        try (Recommender student = Models.create(sc, RceKdHstuTest.DATA); Tape tape = new Tape()) {
            DistillObjective o = (DistillObjective) Distillation.objective(s, teacher, RceKdHstuTest.DATA);
            assertEquals(sc.kdEncoding().equals("per_term"), o.passPerTerm());
            try (var ng = tape.noGrad()) {
                o.beginEpoch(tape, student, 0);
            }
            tape.reset();
            return o.step(tape, student, Batch.ofUsers(users, 0));
        }
    }

    @Test
    void hstuStudentsEncodeOncePerTermWithTheirOwnDropout() throws Exception {
        try (Teacher teacher = RceKdHstuTest.teacher()) {
            int[] users = {3, 7, 11, 20};
            Map<String, Double> shared = step(teacher, hstuStudent(0.3, "shared"), users);
            Map<String, Double> perTerm = step(teacher, hstuStudent(0.3, "per_term"), users);
            assertEquals(shared.get("sampled_softmax"), perTerm.get("sampled_softmax"), 0.0, "the base loss keeps its own pass");
            assertTrue(Math.abs(shared.get("kd") - perTerm.get("kd")) > 1e-3 * Math.abs(shared.get("kd")), "other dropout masks for the KD terms");
            assertEquals(perTerm, step(teacher, hstuStudent(0.3, "per_term"), users), "the masks are a function of the seed");
            // without dropout every pass is the same encoding: only the composition's rounding differs
            double a = step(teacher, hstuStudent(0, "shared"), users).get("kd"), b = step(teacher, hstuStudent(0, "per_term"), users).get("kd");
            assertEquals(a, b, 1e-5 * Math.abs(a));
        }
    }

    @Test
    void eachTermsPassHasItsOwnDropoutMasks() {
        for (double dropout : new double[] {0.3, 0}) {
            TrainConfig sc = hstuStudent(dropout, "per_term");
            try (Hstu h = (Hstu) Models.create(sc, RceKdHstuTest.DATA); Tape tape = new Tape()) {
                SequenceLoss sl = (SequenceLoss) Models.objective(sc);
                int[] users = {3, 7, 11, 20};
                Batch b = Batch.ofUsers(users, 2);
                float[][] rows = new float[4][];
                rows[0] = userRows(sl.forward(tape, h, b, true).embeddings(), users);
                for (int term = 0; term < 3; term++) rows[term + 1] = userRows(sl.termPass(tape, h, b, term), users);
                assertArrayEquals(rows[1], userRows(sl.termPass(tape, h, b, 0), users), "a term's pass is a function of (batch, term)");
                for (int i = 0; i < 4; i++) {
                    for (int j = i + 1; j < 4; j++) {
                        double diff = 0;
                        for (int q = 0; q < rows[i].length; q++) diff = Math.max(diff, Math.abs(rows[i][q] - rows[j][q]));
                        if (dropout > 0) assertTrue(diff > 1e-3, "passes " + i + " and " + j + " (0 = the base loss's) differ: " + diff);
                        else assertEquals(0.0, diff, 1e-6, "without dropout every pass is the same encoding");
                    }
                }
            }
        }
    }

    static float[] userRows(Recommender.Embeddings e, int[] users) {
        Tensor u = e.users().value();
        float[] out = new float[users.length * u.cols()];
        for (int r = 0; r < users.length; r++) for (int c = 0; c < u.cols(); c++) out[r * u.cols() + c] = u.get(users[r], c);
        return out;
    }

    @Test
    void perTermNeedsASequentialStudent() {
        Distiller none = new Distiller() {
            @Override
            public String name() {
                return "none";
            }

            @Override
            public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
                throw new AssertionError("not called");
            }
        };
        var bpr = assertThrows(IllegalArgumentException.class, () -> new DistillObjective(none, 1, new kdrec.loss.Bpr(), true));
        assertTrue(bpr.getMessage().contains("kd_encoding=per_term needs a sequential student"), bpr.getMessage());
        Distillation.Setup s = Distillation.resolve("rcekd", hstuStudent(0.3, "per_term"), null, "hstu", RceKdHstuTest.SMALL);
        Distillation.checkOnDevice(s, 40); // the device encodes every pass and runs the method on the host
        try (Teacher teacher = Teacher.of(new kdrec.model.MatrixFactorization(RceKdHstuTest.DATA.users(), RceKdHstuTest.DATA.items(), 8, 1))) {
            var objective = (DistillObjective) Distillation.objective(s, teacher, RceKdHstuTest.DATA);
            assertTrue(objective.passPerTerm());
            objective.checkOnDevice();
        }
        assertEquals("per_term", Distillation.studentConfig("citeulike", Map.of("model", "hstu")).kdEncoding(), "--preset: the code's passes");
    }
}
