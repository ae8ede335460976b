package kdrec.kd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import kdrec.autograd.Arith;
import kdrec.autograd.CrossEntropy;
import kdrec.autograd.Gather;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.data.Datasets;
import kdrec.loss.Batch;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;
import kdrec.nn.Params;
import kdrec.tensor.Backends;
import kdrec.tensor.IndexSets;
import kdrec.tensor.Scratch;
import kdrec.tensor.Tensor;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RCE-KD against the spec's worked example (§1.3), hand-computed set formulas (§1.4), finite differences and resume. */
class RceKdTest {
    @TempDir
    Path dir;

    static final TrainData DATA = new TrainData(Datasets.loadUnchecked("synthetic:users=40,items=30,per_user=6,clusters=3,seed=5"));

    static MatrixFactorization mf(int dim, long seed, float std) {
        MatrixFactorization m = new MatrixFactorization(DATA.users(), DATA.items(), dim, seed);
        for (var p : m.params().all()) Params.fillNormal(p.value(), std, seed * 31 + p.name().hashCode());
        return m;
    }

    static KdParams params(Object... kv) {
        return RceKd.METHOD.params().with(KdParams.ordered(kv));
    }

    @Test
    void workedExampleWeightsSetsAndOverlap() {
        // SM = [a..f] = ids 0..5, QT = {b, d, x} = {1, 3, 9}, M = 6, K = 3, T = 10
        int[] sm = {0, 1, 2, 3, 4, 5};
        int[] qtSorted = {1, 3, 9};
        double[] logw = RceKd.closureLogWeights(sm, 0, 6, qtSorted, 0, 3, 10, false);
        assertArrayEquals(new double[] {0.3, 0.3, 0.2, 0.2, 0.1, 0.1}, logw, 1e-12, "log weights (c+1)/T with c = [2,2,1,1,0,0]");
        double[] rank = RceKd.closureLogWeights(sm, 0, 6, qtSorted, 0, 3, 10, true);
        assertArrayEquals(new double[] {-0.1, -0.2, -0.3, -0.4, -0.5, -0.6}, rank, 1e-12, "sample_rank: -(m+1)/T");
        // the draw P = {a, d} = positions {0, 3}: J2 = {a, d} ∪ ({b, d, x} \ {a, b, c, d}) = {a, d, x}
        // one list [SK \ P | SK ∩ P | P \ SK | QT \ (P ∪ SK)] = [b, c | a | d | x]: SK its first K, J2 from |SK \ P| on
        RceKd.UserEpoch ue = RceKd.userEpoch(sm, 0, 3, new int[] {0, 3}, new int[] {1, 3, 9}, 0, qtSorted, true, 10);
        assertArrayEquals(new int[] {1, 2, 0, 3, 9}, ue.items(), "each item once");
        assertEquals(Set.of(0, 1, 2), toSet(Arrays.copyOfRange(ue.items(), 0, ue.a())), "SK");
        assertArrayEquals(new int[] {0, 3, 9}, Arrays.copyOfRange(ue.items(), ue.b(), ue.items().length), "J2");
        assertEquals(1, ue.overlap(), "|QT ∩ P| = |{d}|");
        // w/o sep: one set, the union SK ∪ P ∪ QT = {a, b, c, d, x}
        RceKd.UserEpoch union = RceKd.userEpoch(sm, 0, 3, new int[] {0, 3}, new int[] {1, 3, 9}, 0, qtSorted, false, 10);
        assertEquals(Set.of(0, 1, 2, 3, 9), toSet(union.items()));
        assertEquals(union.items().length, union.a());
        assertEquals(union.items().length, union.b());
    }

    @Test
    void closureWeightsTakeTheCatalogueFromTheStudentListToo() {
        // the student's top-M holds ids above every QT id (12, 10): the marks must cover them
        int[] sm = {12, 1, 10, 3};
        double[] logw = RceKd.closureLogWeights(sm, 0, 4, new int[] {1, 3, 9}, 0, 3, 10, false);
        assertArrayEquals(new double[] {0.3, 0.3, 0.2, 0.2}, logw, 1e-12, "c = [2,2,1,1] from the bottom up");
    }

    @Test
    void drawsOfAtLeastTheWholeRangeReturnEveryPosition() {
        // l >= m (l is clamped to m): every position of the student's top-M, in order
        double[] logw = {0.3, -2, 5, 0.1};
        assertArrayEquals(new int[] {0, 1, 2, 3}, Sampling.withoutReplacement(logw, 4, 4, new SplittableRandom(1)));
        assertArrayEquals(new int[] {0, 1, 2, 3}, Sampling.withoutReplacement(logw, 4, 9, new SplittableRandom(1)));
        assertArrayEquals(new int[] {0, 1, 2}, Sampling.withoutReplacement(logw, 3, 3, new SplittableRandom(1)), "only the first n weights count");
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, Sampling.uniformWithoutReplacement(5, 5, new SplittableRandom(2)));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, Sampling.uniformWithoutReplacement(5, 8, new SplittableRandom(2)));
        for (int t = 0; t < 200; t++) {
            int[] s = Sampling.uniformWithoutReplacement(9, 4, new SplittableRandom(t));
            assertEquals(4, s.length);
            for (int j = 0; j < 4; j++) {
                assertTrue(s[j] >= 0 && s[j] < 9);
                if (j > 0) assertTrue(s[j - 1] < s[j], "distinct, increasing");
            }
        }
    }

    @Test
    void generatorsAreDistinctPerSeedStreamEpochAndUserAndStableAcrossVersions() {
        // the device (native/rcekd.cu) draws from rngBase + user * USER_MIX: the host's rng must be exactly that generator
        for (long seed : new long[] {0, 1, 7}) {
            for (int user : new int[] {0, 1, 39}) {
                SplittableRandom host = Sampling.rng(seed, 1, 2, user), device = new SplittableRandom(Sampling.rngBase(seed, 1, 2) + user * Sampling.USER_MIX);
                for (int i = 0; i < 4; i++) assertEquals(device.nextLong(), host.nextLong(), "seed " + seed + ", user " + user);
            }
        }
        // small seeds, streams and epochs (0, 1, 2 ...) must all give different generators
        Set<Long> bases = new HashSet<>();
        for (long seed = 0; seed < 4; seed++) {
            for (int stream = 0; stream < 4; stream++) {
                for (int epoch = 0; epoch < 4; epoch++) assertTrue(bases.add(Sampling.rngBase(seed, stream, epoch)), seed + "/" + stream + "/" + epoch);
            }
        }
        Set<Long> firstDraws = new HashSet<>();
        for (long seed = 0; seed < 4; seed++) {
            for (int stream = 0; stream < 4; stream++) {
                for (int user = 0; user < 4; user++) firstDraws.add(Sampling.rng(seed, stream, 1, user).nextLong());
            }
        }
        assertEquals(64, firstDraws.size(), "every (seed, stream, user) draws its own numbers");
        // a recorded run's seed redraws the same sets after an upgrade (resume, comparisons): the mix is pinned
        assertEquals(0x9E3779B97F4A7C15L, Sampling.rngBase(1, 0, 0));
        assertEquals(0xD1B54A32D192ED03L, Sampling.rngBase(0, 1, 0));
        assertEquals(0xBF58476D1CE4E5B9L, Sampling.rngBase(0, 0, 1));
        assertEquals(3 * 0x9E3779B97F4A7C15L + 2 * 0xD1B54A32D192ED03L + 5 * 0xBF58476D1CE4E5B9L, Sampling.rngBase(3, 2, 5));
        assertEquals(0x94D049BB133111EBL, Sampling.USER_MIX);
    }

    @Test
    void samplingWithoutReplacementHasTheSequentialDrawDistribution() {
        // weights 1, 2, 3, 4 (log form), draw 2: P(i in sample) by sequential draws without replacement
        double[] w = {1, 2, 3, 4};
        double[] logw = new double[4];
        for (int i = 0; i < 4; i++) logw[i] = Math.log(w[i]);
        double[] expected = new double[4];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                if (j == i) continue;
                double pi = w[i] / 10, pj = w[j] / 10;
                expected[i] += pi * pj / (1 - pi) + pj * pi / (1 - pj); // i first then j, or j first then i
            }
        }
        int trials = 200_000;
        int[] hits = new int[4];
        SplittableRandom r = new SplittableRandom(3);
        for (int t = 0; t < trials; t++) {
            int[] s = Sampling.withoutReplacement(logw, 4, 2, r);
            assertEquals(2, s.length);
            assertTrue(s[0] < s[1], "distinct, increasing positions");
            for (int x : s) hits[x]++;
        }
        for (int i = 0; i < 4; i++) assertEquals(expected[i], hits[i] / (double) trials, 0.005, "inclusion probability of " + i);
    }

    @Test
    void settingsBeyondTheCatalogueAreClampedAndSaySo() {
        java.util.List<String> notices = new java.util.ArrayList<>();
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); var r = kdrec.tensor.Diagnostics.redirect(notices::add)) {
            new RceKd(params("k", 4, "m", 9, "l", 3), teacher, DATA, 7);
            assertTrue(notices.isEmpty(), notices.toString());
            int items = teacher.items();
            new RceKd(params("k", items + 5, "m", items + 50, "l", items + 60), teacher, DATA, 7);
            assertEquals(java.util.List.of("rcekd: k, m, l run as " + items + ", " + items + ", " + items + " (asked: " + (items + 5) + ", "
                    + (items + 50) + ", " + (items + 60) + "; k and m are at most the " + items + " items, l at most m)"), notices);
        }
    }

    @Test
    void epochSetsFollowTheDefinitionsAndAreSeededPerEpoch() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 1f); Tape tape = new Tape()) {
            RceKd kd = new RceKd(params("k", 4, "m", 9, "l", 3, "beta", 2.0), teacher, DATA, 7);
            kd.beginEpoch(tape, student, 0);
            int[] qt = teacher.topK(4, null, null);
            for (int u = 0; u < DATA.users(); u++) {
                int[] sm = bruteTop(student, u, 9);
                int[][] s = kd.setsOf(u);
                assertArrayEquals(Arrays.copyOf(sm, 4), s[0], "SK = the student's top-K, best first, user " + u);
                int[] p = Arrays.copyOf(s[1], 3);
                Set<Integer> smSet = toSet(sm), pSet = toSet(p), skSet = toSet(s[0]), qtSet = toSet(Arrays.copyOfRange(qt, u * 4, u * 4 + 4));
                assertEquals(3, pSet.size(), "P has L distinct items");
                assertTrue(smSet.containsAll(pSet), "P is drawn from the student's top-M");
                Set<Integer> rest = new HashSet<>(qtSet);
                rest.removeAll(pSet);
                rest.removeAll(skSet);
                assertEquals(rest, toSet(Arrays.copyOfRange(s[1], 3, s[1].length)), "J2 \\ P = QT \\ (P ∪ SK)");
                Set<Integer> inter = new HashSet<>(qtSet);
                inter.retainAll(pSet);
                assertEquals(Math.exp(-2.0 * inter.size() / 4), kd.mixOf(u), 1e-6, "w = exp(-beta |QT ∩ P| / K)");
            }
            int[][] before = kd.setsOf(5);
            kd.beginEpoch(tape, student, 0);
            assertArrayEquals(before[1], kd.setsOf(5)[1], "same (seed, epoch): same draw");
            boolean changed = false;
            for (int u = 0; u < DATA.users() && !changed; u++) {
                int[] e0 = kd.setsOf(u)[1];
                kd.beginEpoch(tape, student, 1);
                changed = !Arrays.equals(e0, kd.setsOf(u)[1]);
                kd.beginEpoch(tape, student, 0);
            }
            assertTrue(changed, "another epoch draws afresh");
        }
    }

    @Test
    void lossEqualsTheSetFormulasAndItsGradientMatchesFiniteDifferences() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 0.7f); Tape tape = new Tape()) {
            float tau = 0.8f;
            RceKd kd = new RceKd(params("k", 4, "m", 9, "l", 3, "beta", 2.0, "tau", tau), teacher, DATA, 7);
            kd.beginEpoch(tape, student, 0);
            int[] users = {3, 7, 3, 11, 0}; // user 3 twice: duplicates count twice
            Batch batch = new Batch(users, new int[users.length], new int[users.length]);
            tape.reset();
            student.params().zeroGrad();
            Var loss = kd.loss(tape, student, student.forward(tape), batch);
            assertEquals(expected(kd, teacher, student, users, tau), loss.value().get(0), 1e-4 * Math.abs(loss.value().get(0)) + 1e-5);
            tape.backward(loss);
            for (String name : new String[] {"user", "item"}) {
                Var p = student.params().get(name);
                Tensor g = p.densify(tape);
                float[] analytic = g.toArray();
                Tensor x = p.value();
                for (int i = 0; i < x.size(); i += 3) {
                    float x0 = x.get(i);
                    double h = 1e-3;
                    x.set(i, (float) (x0 + h));
                    double fp = expected(kd, teacher, student, users, tau);
                    x.set(i, (float) (x0 - h));
                    double fm = expected(kd, teacher, student, users, tau);
                    x.set(i, x0);
                    double numeric = (fp - fm) / (2 * h);
                    assertEquals(numeric, analytic[i], 2e-3 + 2e-3 * Math.abs(numeric), name + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void fusedPathEqualsAPlainCompositionOfOps() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 0.7f); Tape tape = new Tape()) {
            RceKd kd = new RceKd(params("k", 4, "m", 9, "l", 3), teacher, DATA, 7);
            kd.beginEpoch(tape, student, 0);
            int[] users = {1, 2, 2, 9};
            Batch batch = new Batch(users, new int[4], new int[4]);
            tape.reset();
            student.params().zeroGrad();
            Var fused = kd.loss(tape, student, student.forward(tape), batch);
            tape.backward(fused);
            float[] gu = student.params().get("user").densify(tape).toArray(), gi = student.params().get("item").densify(tape).toArray();
            float fusedValue = fused.value().get(0);
            // the same loss from separate ops: one row per batch entry and per set, dots by setDots, CE on logits
            tape.reset();
            student.params().zeroGrad();
            Recommender.Embeddings e = student.forward(tape);
            int[][] rows = new int[users.length * 2][];
            int[] rowUsers = new int[users.length * 2];
            float[] weight = new float[users.length * 2];
            for (int b = 0; b < users.length; b++) {
                int[][] s = kd.setsOf(users[b]);
                rows[2 * b] = s[0];
                rows[2 * b + 1] = s[1];
                rowUsers[2 * b] = rowUsers[2 * b + 1] = users[b];
                weight[2 * b] = 1 - kd.mixOf(users[b]);
                weight[2 * b + 1] = kd.mixOf(users[b]);
            }
            IndexSets sets = IndexSets.of(rows);
            Var logits = Gather.setDots(tape, Gather.rows(tape, e.users(), rowUsers), e.items(), sets);
            Var ce = CrossEntropy.softCeLogits(tape, logits, sets, teacher.logits(rowUsers, sets), 1f);
            Var plain = Arith.weightedSum(tape, ce, weight);
            tape.backward(plain);
            assertEquals(plain.value().get(0), fusedValue, 1e-5 * Math.abs(fusedValue));
            assertArrayEquals(student.params().get("user").densify(tape).toArray(), gu, 1e-5f);
            assertArrayEquals(student.params().get("item").densify(tape).toArray(), gi, 1e-5f);
        }
    }

    @Test
    void twoKdTermsInOneStepKeepTheirOwnBuffers() {
        // the per-batch arrays are reused from step to step; two terms in one step must not share them
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 0.7f); Tape tape = new Tape()) {
            RceKd kd = new RceKd(params("k", 4, "m", 9, "l", 3), teacher, DATA, 7);
            kd.beginEpoch(tape, student, 0);
            Batch b1 = new Batch(new int[] {1, 2, 2, 9}, new int[4], new int[4]), b2 = new Batch(new int[] {5, 30, 7}, new int[3], new int[3]);
            float[][] single = new float[2][];
            Batch[] batches = {b1, b2};
            for (int i = 0; i < 2; i++) {
                tape.reset();
                student.params().zeroGrad();
                tape.backward(kd.loss(tape, student, student.forward(tape), batches[i]));
                single[i] = student.params().get("item").densify(tape).toArray();
            }
            tape.reset();
            student.params().zeroGrad();
            Recommender.Embeddings e = student.forward(tape);
            tape.backward(Arith.add(tape, kd.loss(tape, student, e, b1), kd.loss(tape, student, e, b2)));
            float[] both = student.params().get("item").densify(tape).toArray();
            for (int i = 0; i < both.length; i++) assertEquals(single[0][i] + single[1][i], both[i], 1e-5f, "item grad " + i);
        }
    }

    @Test
    void ablationSwitches() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 0.7f); Tape tape = new Tape()) {
            int[] qt = teacher.topK(4, null, null);
            RceKd noSampling = new RceKd(params("k", 4, "m", 9, "l", 3, "sampling", false), teacher, DATA, 7);
            assertArrayEquals(Arrays.copyOfRange(qt, 8, 12), noSampling.setsOf(2)[0], "w/o S: one CE on QT");
            assertEquals(1f, noSampling.mixOf(2));
            RceKd union = new RceKd(params("k", 4, "m", 9, "l", 3, "separate", false), teacher, DATA, 7);
            RceKd sep = new RceKd(params("k", 4, "m", 9, "l", 3), teacher, DATA, 7);
            union.beginEpoch(tape, student, 0);
            sep.beginEpoch(tape, student, 0);
            Set<Integer> both = toSet(sep.setsOf(2)[0]);
            both.addAll(toSet(sep.setsOf(2)[1]));
            assertEquals(both, toSet(union.setsOf(2)[0]), "w/o sep: one CE on SK ∪ J2");
            assertEquals(0, union.setsOf(2)[1].length);
            RceKd constant = new RceKd(params("k", 4, "m", 9, "l", 3, "const_weight", 0.25), teacher, DATA, 7);
            constant.beginEpoch(tape, student, 0);
            for (int u = 0; u < 5; u++) assertEquals(0.25f, constant.mixOf(u));
            assertThrows(IllegalArgumentException.class, () -> new RceKd(params("k", 10, "m", 5), teacher, DATA, 0), "M < K is refused");
            assertThrows(IllegalArgumentException.class, () -> params("K", "ten"), "wrong type names the key");
            assertThrows(IllegalArgumentException.class, () -> params("kk", 3), "unknown key");
        }
    }

    @Test
    void withoutSamplingTheLossIsOneCeOnTheTeachersTopK() {
        // w/o S (§1.9): per batch entry CE(softmax(teacher/tau) || softmax(student/tau)) over QT, weight 1
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 0.7f); Tape tape = new Tape()) {
            double tau = 1.5;
            RceKd kd = new RceKd(params("k", 4, "m", 9, "l", 3, "sampling", false, "tau", tau), teacher, DATA, 7);
            assertEquals(0, kd.setsOf(2)[1].length, "one set only: J2 is empty");
            assertTrue(!kd.perEpochSets(), "nothing is rebuilt per epoch");
            assertEquals(1.5f, kd.tau());
            int[] qt = teacher.topK(4, null, null);
            int[] users = {2, 2, 5, 17};
            Var loss = kd.loss(tape, student, student.forward(tape), new Batch(users, new int[4], new int[4]));
            double want = 0;
            for (int u : users) {
                int[] q = Arrays.copyOfRange(qt, u * 4, u * 4 + 4);
                want += ce(teacherScores(teacher, u, q), studentScores(student, u, q), tau);
            }
            assertTrue(want > 0.1, "a non-trivial CE: " + want);
            assertEquals(want, loss.value().get(0), 1e-4 * want);
            RceKdEpoch ep = kd.epochSets();
            for (int u = 0; u < DATA.users(); u++) {
                assertEquals(4, ep.a[u], "SK = the whole list");
                assertEquals(4, ep.b[u], "J2 empty");
                assertEquals(1f, ep.wA[u]);
                assertEquals(0f, ep.wB[u]);
            }
        }
    }

    @Test
    void constantWeightBoundsAreInclusiveAndZeroMeansSkOnly() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 0.7f); Tape tape = new Tape()) {
            RceKd zero = new RceKd(params("k", 4, "m", 9, "l", 3, "const_weight", 0.0, "beta", 2.0), teacher, DATA, 7);
            RceKd one = new RceKd(params("k", 4, "m", 9, "l", 3, "const_weight", 1.0), teacher, DATA, 7);
            assertThrows(IllegalArgumentException.class, () -> new RceKd(params("k", 4, "m", 9, "l", 3, "const_weight", 1.01), teacher, DATA, 7));
            zero.beginEpoch(tape, student, 0);
            one.beginEpoch(tape, student, 0);
            for (int u = 0; u < DATA.users(); u++) {
                assertEquals(0f, zero.mixOf(u), "const_weight = 0: w = 0, not the adaptive weight, user " + u);
                assertEquals(1f, one.mixOf(u), "const_weight = 1, user " + u);
            }
            int[] users = {3, 8, 8};
            tape.reset();
            Var loss = zero.loss(tape, student, student.forward(tape), new Batch(users, new int[3], new int[3]));
            double want = 0;
            for (int u : users) {
                int[] sk = zero.setsOf(u)[0];
                want += ce(teacherScores(teacher, u, sk), studentScores(student, u, sk), 1.0);
            }
            assertEquals(want, loss.value().get(0), 1e-4 * want, "w = 0: the CE on SK alone");
        }
    }

    @Test
    void mEqualToKIsAccepted() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 1f); Tape tape = new Tape()) {
            RceKd kd = new RceKd(params("k", 4, "m", 4, "l", 2), teacher, DATA, 7);
            kd.beginEpoch(tape, student, 0);
            for (int u = 0; u < 5; u++) {
                int[][] s = kd.setsOf(u);
                assertArrayEquals(bruteTop(student, u, 4), s[0]);
                assertTrue(toSet(s[0]).containsAll(toSet(Arrays.copyOf(s[1], 2))), "M = K: P is drawn from SK");
            }
        }
    }

    @Test
    void epochBuffersAreReusedNotReallocated() {
        int[] x = new int[12];
        float[] f = new float[12];
        assertTrue(x == RceKdEpoch.grow(x, 12) && x == RceKdEpoch.grow(x, 5), "long enough: the same array");
        assertTrue(f == RceKdEpoch.grow(f, 12) && f == RceKdEpoch.grow(f, 5), "long enough: the same array");
        assertTrue(RceKdEpoch.grow(new int[100], 101).length >= 125, "grows by at least a quarter (a slowly growing need is not a new array each epoch)");
        assertTrue(RceKdEpoch.grow(new float[100], 101).length >= 125);
        assertEquals(40, RceKdEpoch.grow(new int[10], 40).length);
        assertEquals(40, RceKdEpoch.grow(new float[10], 40).length);
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 1f); Tape tape = new Tape()) {
            RceKd kd = new RceKd(params("k", 4, "m", 9, "l", 3), teacher, DATA, 7);
            assertThrows(IllegalStateException.class, kd::epochSets, "no sets before the first epoch");
            assertTrue(kd.perEpochSets());
            assertTrue(!kd.fullCe(), "per-user rows, not the full-catalogue ablation");
            kd.beginEpoch(tape, student, 0);
            RceKdEpoch ep = kd.epochSets();
            int[] top = ep.top, a = ep.a;
            float[] w = ep.w, wA = ep.wA;
            kd.beginEpoch(tape, student, 1);
            assertTrue(top == ep.top && a == ep.a && w == ep.w && wA == ep.wA, "same-size buffers survive the epoch");
        }
    }

    @Test
    void kdParamsNameTheirMethodAndRefuseUnknownKeysOnRead() {
        KdParams p = params("k", 7);
        assertEquals("rcekd", p.method());
        assertEquals(7, p.toMap().get("k"));
        assertEquals(RceKd.METHOD.params().toMap().keySet(), p.toMap().keySet(), "the method's keys, in order");
        assertEquals(7, p.integer("K"), "keys are case-insensitive");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.str("no_such_key"));
        assertTrue(e.getMessage().contains("no setting 'no_such_key'"), e.getMessage());
    }

    @Test
    void fullCatalogueAblationIsTheCeOfTheFullSoftmaxes() {
        try (Teacher teacher = Teacher.of(mf(8, 1, 1f)); Recommender student = mf(4, 2, 0.7f); Tape tape = new Tape()) {
            RceKd full = new RceKd(params("full_ce", true, "tau", 2.0), teacher, DATA, 7);
            assertTrue(full.fullCe() && !full.perEpochSets(), "no per-user rows");
            int[] users = {4, 4, 8};
            Var loss = full.loss(tape, student, student.forward(tape), new Batch(users, new int[3], new int[3]));
            double want = 0;
            for (int u : users) {
                int[] all = new int[DATA.items()];
                for (int i = 0; i < all.length; i++) all[i] = i;
                want += ce(teacherScores(teacher, u, all), studentScores(student, u, all), 2.0);
            }
            assertEquals(want, loss.value().get(0), 1e-4 * want);
        }
    }

    @Test
    void distillationResumesExactly() throws Exception {
        try (Teacher teacher = Teacher.of(mf(16, 1, 0.5f))) {
            float[] straight = assertResumesExactly(dir, teacher, "rcekd", Map.of("rcekd.k", 5, "rcekd.m", 10, "rcekd.l", 4));
            assertNotEquals(0f, straight[0]);
        }
    }

    /**
     * Distills 4 epochs straight, and 2 epochs then a resume from last.safetensors to 4, and asserts the
     * students are equal bit for bit (tiny MF d=8 student on {@link #DATA}). Returns the user table.
     */
    static float[] assertResumesExactly(Path dir, Teacher teacher, String method, Map<String, ?> overrides) throws java.io.IOException {
        TrainConfig full = TrainConfig.defaults().with(Map.of("dim", 8, "epochs", 4, "batch_size", 64, "lr", 0.01, "patience", 50));
        Distillation.Setup s = Distillation.resolve(method, full, null, "mf", overrides);
        float[] straight;
        try (Recommender m = kdrec.train.Models.create(full, DATA)) {
            new Trainer(full, DATA, m, Distillation.objective(s, teacher, DATA), new Trainer.Outputs(null, null, dir.resolve("a"))).fit(null);
            straight = m.params().get("user").value().toArray();
        }
        Distillation.Setup half = new Distillation.Setup(method, full.with(Map.of("epochs", 2)), s.params());
        Distillation.run(half, teacher, DATA, new Trainer.Outputs(null, null, dir.resolve("b")), null);
        try (Recommender m = kdrec.train.Models.create(full, DATA)) {
            Trainer.Result r = new Trainer(full, DATA, m, Distillation.objective(s, teacher, DATA), new Trainer.Outputs(null, null, dir.resolve("b")))
                    .fit(dir.resolve("b").resolve("last.safetensors"));
            assertEquals(4, r.epochsRun());
            assertTrue(Double.isFinite(r.test().get("ndcg@10")));
            assertArrayEquals(straight, m.params().get("user").value().toArray(), method + ": resumed distillation equals the uninterrupted one");
        }
        return straight;
    }

    // ---- the spec's set formulas, in double, independent of the implementation ----

    static double expected(RceKd kd, Teacher teacher, Recommender student, int[] users, double tau) {
        double total = 0;
        for (int u : users) {
            int[][] s = kd.setsOf(u);
            double w = kd.mixOf(u);
            total += (1 - w) * ce(teacherScores(teacher, u, s[0]), studentScores(student, u, s[0]), tau)
                    + w * ce(teacherScores(teacher, u, s[1]), studentScores(student, u, s[1]), tau);
        }
        return total;
    }

    static double ce(double[] t, double[] s, double tau) {
        if (t.length == 0) return 0;
        double mt = Double.NEGATIVE_INFINITY, ms = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < t.length; i++) {
            mt = Math.max(mt, t[i] / tau);
            ms = Math.max(ms, s[i] / tau);
        }
        double zt = 0, zs = 0;
        for (int i = 0; i < t.length; i++) {
            zt += Math.exp(t[i] / tau - mt);
            zs += Math.exp(s[i] / tau - ms);
        }
        double loss = 0;
        for (int i = 0; i < t.length; i++) {
            double pt = Math.exp(t[i] / tau - mt) / zt;
            double logps = s[i] / tau - ms - Math.log(zs);
            loss -= pt * logps;
        }
        return loss;
    }

    static double[] studentScores(Recommender m, int u, int[] items) {
        Tensor U = m.params().get("user").value(), I = m.params().get("item").value();
        return dots(U, u, I, items);
    }

    static double[] teacherScores(Teacher t, int u, int[] items) {
        return dots(t.userEmbeddings(), u, t.itemEmbeddings(), items);
    }

    static double[] dots(Tensor U, int u, Tensor I, int[] items) {
        double[] out = new double[items.length];
        for (int j = 0; j < items.length; j++) {
            double acc = 0;
            for (int k = 0; k < U.cols(); k++) acc += (double) U.get(u, k) * I.get(items[j], k);
            out[j] = acc;
        }
        return out;
    }

    static int[] bruteTop(Recommender m, int u, int k) {
        int n = m.items();
        int[] all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        Tensor U = m.params().get("user").value(), I = m.params().get("item").value();
        float[] s = new float[n];
        for (int i = 0; i < n; i++) { // float dots in the kernels' precision would tie differently; scores here are well separated
            double acc = 0;
            for (int c = 0; c < U.cols(); c++) acc += (double) U.get(u, c) * I.get(i, c);
            s[i] = (float) acc;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> s[a] != s[b] ? Float.compare(s[b], s[a]) : Integer.compare(a, b));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) out[i] = order[i];
        return out;
    }

    static Set<Integer> toSet(int[] a) {
        Set<Integer> s = new HashSet<>();
        for (int x : a) s.add(x);
        return s;
    }
}
