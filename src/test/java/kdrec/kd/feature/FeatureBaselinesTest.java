package kdrec.kd.feature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import kdrec.autograd.GumbelSoftmax;
import kdrec.autograd.Tape;
import kdrec.autograd.Topology;
import kdrec.autograd.Var;
import kdrec.data.Datasets;
import kdrec.kd.Distillation;
import kdrec.kd.Methods;
import kdrec.kd.Sampling;
import kdrec.kd.Teacher;
import kdrec.loss.Batch;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;
import kdrec.nn.Params;
import kdrec.tensor.Tensor;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FitNet, DE and HTD: hand-computed losses, the sampling and selection rules, end-to-end runs and exact resume. */
class FeatureBaselinesTest {
    @TempDir
    Path dir;

    static final TrainData DATA = FreqdTest.DATA;

    /** A teacher and a student whose user/item rows are all (a, b) with a, b > 0, width 2 (identity experts pass them through ReLU). */
    static MatrixFactorization positive(long seed) {
        MatrixFactorization m = new MatrixFactorization(DATA.users(), DATA.items(), 2, seed);
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (var p : m.params().all()) for (long i = 0; i < p.value().size(); i++) p.value().set(i, (float) (0.1 + r.nextDouble()));
        return m;
    }

    static void identityExperts(Params params, String prefix, int experts) {
        for (int e = 0; e < experts; e++) {
            for (String w : new String[] {"w1", "w2"}) {
                Tensor t = params.get(prefix + ".expert" + e + "." + w).value();
                t.fill(0f);
                t.set(0, 0, 1f);
                t.set(1, 1, 1f);
            }
            params.get(prefix + ".expert" + e + ".b1").value().fill(0f);
            params.get(prefix + ".expert" + e + ".b2").value().fill(0f);
        }
    }

    static double sq(Tensor a, int ra, Tensor b, int rb) {
        double s = 0;
        for (int c = 0; c < a.cols(); c++) s += Math.pow(a.get(ra, c) - b.get(rb, c), 2);
        return s;
    }

    @Test
    void fitnetRegressesRandomEntitiesNotTheBatch() {
        try (Teacher teacher = Teacher.of(positive(1)); Recommender student = positive(2); Tape tape = new Tape()) {
            FitNet f = new FitNet(Methods.get("fitnet").params().with(Map.of("dropout", 0.0, "hidden_ratio", 1)), teacher, DATA, 9);
            identityExperts(f.params(student), "user", 1);
            identityExperts(f.params(student), "item", 1);
            f.beginEpoch(tape, student, 2);
            Batch b = new Batch(new int[] {0, 0, 1, 2, 3}, new int[] {0, 1, 2, 3, 4}, new int[] {5, 6, 7, 8, 9});
            float l = f.loss(tape, student, student.forward(tape), b).value().get(0);
            // the draw: 5 distinct users and 5 distinct items from the step's generators; P = identity
            int[] us = Sampling.uniformWithoutReplacement(DATA.users(), 5, Sampling.rng(9, 30, 2, 0));
            int[] is = Sampling.uniformWithoutReplacement(DATA.items(), 5, Sampling.rng(9, 31, 2, 0));
            assertEquals(5, java.util.Arrays.stream(us).distinct().count());
            double want = 0;
            Tensor su = student.params().get("user").value(), si = student.params().get("item").value();
            for (int u : us) want += sq(su, u, teacher.userEmbeddings(), u);
            for (int i : is) want += sq(si, i, teacher.itemEmbeddings(), i);
            assertEquals(want, l, 1e-5 * want);
            assertNotEquals(l, f.loss(tape, student, student.forward(tape), b).value().get(0), "the next step draws other entities");
        }
    }

    /** The linear projector has no bias unless asked for, as the one released FitNet config (fit_bias: False). */
    @Test
    void fitnetLinearProjectorHasABiasOnlyWhenAskedFor() {
        try (Teacher teacher = Teacher.of(positive(1)); Recommender student = positive(2)) {
            FitNet plain = new FitNet(Methods.get("fitnet").params().with(Map.of("linear", true)), teacher, DATA, 9);
            assertEquals(java.util.List.of("user.w", "item.w"), plain.params(student).all().stream().map(v -> v.name()).toList());
            FitNet biased = new FitNet(Methods.get("fitnet").params().with(Map.of("linear", true, "bias", true)), teacher, DATA, 9);
            assertEquals(java.util.List.of("user.w", "item.w", "user.b", "item.b"), biased.params(student).all().stream().map(v -> v.name()).toList());
        }
    }

    @Test
    void deWithOneExpertIsHintRegressionOverDistinctEntities() {
        try (Teacher teacher = Teacher.of(positive(1)); Recommender student = positive(2); Tape tape = new Tape()) {
            DistillationExperts de = new DistillationExperts(Methods.get("de").params().with(Map.of("experts", 1)), teacher, DATA, 3);
            identityExperts(de.params(student), "user", 1);
            identityExperts(de.params(student), "item", 1);
            de.beginEpoch(tape, student, 0);
            float l = de.loss(tape, student, student.forward(tape), new Batch(new int[] {4, 4, 7}, new int[] {1, 2, 1}, new int[] {3, 3, 3})).value().get(0);
            Tensor su = student.params().get("user").value(), si = student.params().get("item").value();
            Tensor tu = teacher.userEmbeddings(), ti = teacher.itemEmbeddings();
            double want = sq(su, 4, tu, 4) + sq(su, 7, tu, 7) + 0.5 * (sq(si, 1, ti, 1) + sq(si, 2, ti, 2) + sq(si, 3, ti, 3));
            assertEquals(want, l, 1e-5 * want);
        }
    }

    @Test
    void gumbelSelectionAndAnnealing() {
        // at T -> 0 the selection is one-hot on argmax(log π + g): expert m is chosen with probability π_m (Gumbel-max)
        float[] logits = {0.5f, -1f, 1.2f};
        double[] pi = new double[3];
        double z = 0;
        for (int m = 0; m < 3; m++) z += pi[m] = Math.exp(logits[m]);
        int n = 4000;
        float[] rows = new float[3 * n];
        for (int r = 0; r < n; r++) System.arraycopy(logits, 0, rows, 3 * r, 3);
        try (Tape tape = new Tape()) {
            Tensor sel = GumbelSoftmax.select(tape, Var.constant(Tensor.of(rows, n, 3)), GumbelSoftmax.noise(new java.util.SplittableRandom(5), 3 * n), 1e-10).value();
            int[] count = new int[3];
            for (int r = 0; r < n; r++) {
                double sum = 0;
                for (int m = 0; m < 3; m++) {
                    sum += sel.get(r, m);
                    assertTrue(sel.get(r, m) == 0f || sel.get(r, m) == 1f, "one-hot");
                    if (sel.get(r, m) == 1f) count[m]++;
                }
                assertEquals(1, sum, 1e-6);
            }
            for (int m = 0; m < 3; m++) assertEquals(pi[m] / z, count[m] / (double) n, 0.03, "expert " + m);
        }
        assertEquals(1.0, ExpertSelection.temperature(1, 1e-10, 0, 1000), 1e-12);
        assertEquals(1e-5, ExpertSelection.temperature(1, 1e-10, 500, 1000), 1e-12);
        assertEquals(1e-10, ExpertSelection.temperature(1, 1e-10, 1500, 1000), 1e-20);
    }

    /**
     * s0 = (1,0), s1 = (0,1), s2 = (1,1); t0 = (1,0), t1 = (1,1), t2 = (0,1); one group. Teacher cosines
     * c01 = c12 = 1/√2, c02 = 0 (dropped: not > 0); student s01 = 0, s12 = 1/√2. Entity level:
     * 2 (0 - 1/√2)² = 1. Prototypes P_s ∥ P_t ∥ (1,1): cos(P_s, s) = (1/√2, 1/√2, 1), cos(P_t, t) =
     * (1/√2, 1, 1/√2): 2 (1 - 1/√2)². Split into groups {0,1}, {2}: entity level still 1; prototypes
     * g0: P_s ∥ (1,1), P_t ∥ (2,1); g1: P_s ∥ (1,1), P_t ∥ (0,1).
     */
    @Test
    void topologyByHand() {
        Tensor t = Tensor.of(new float[] {1, 0, 1, 1, 0, 1}, 3, 2);
        double r2 = Math.sqrt(0.5), r5 = Math.sqrt(0.2), r10 = Math.sqrt(0.1);
        try (Tape tape = new Tape()) {
            Var s = Var.leaf("s", Tensor.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2));
            assertEquals(1 + 2 * Math.pow(1 - r2, 2), Topology.loss(tape, s, t, new int[] {0, 0, 0}).value().get(0), 1e-6);
            double g0 = Math.pow(r2 - 2 * r5, 2) + Math.pow(r2 - 3 * r10, 2) + Math.pow(1 - r5, 2);
            double g1 = Math.pow(r2 - 0, 2) + Math.pow(r2 - r2, 2) + Math.pow(1 - 1, 2);
            assertEquals(1 + g0 + g1, Topology.loss(tape, s, t, new int[] {3, 3, 8}).value().get(0), 1e-6);
        }
    }

    @Test
    void baselinesDistillEndToEndAndResumeExactly() throws Exception {
        TrainConfig full = TrainConfig.defaults().with(Map.of("dim", 4, "epochs", 3, "batch_size", 64, "lr", 0.01, "patience", 50));
        Map<String, Map<String, Object>> sets = Map.of("fitnet", Map.of("fitnet.hidden_ratio", 1), "de", Map.of("de.experts", 3, "de.max_epochs", 3),
                "htd", Map.of("htd.experts", 3, "htd.max_epochs", 3));
        try (Teacher teacher = Teacher.of(FreqdTest.mf(8, 1, 0.5f))) {
            for (String method : new String[] {"fitnet", "de", "htd"}) {
                Distillation.Setup s = Distillation.resolve(method, full, null, "mf", sets.get(method));
                float[] straight;
                try (Recommender m = Models.create(full, DATA)) {
                    Trainer.Result r = new Trainer(full, DATA, m, Distillation.objective(s, teacher, DATA), new Trainer.Outputs(null, null, dir.resolve(method + "a"))).fit(null);
                    assertTrue(Double.isFinite(r.test().get("ndcg@10")), method);
                    straight = m.params().get("user").value().toArray();
                }
                Distillation.run(new Distillation.Setup(method, full.with(Map.of("epochs", 1)), s.params()), teacher, DATA,
                        new Trainer.Outputs(null, null, dir.resolve(method + "b")), null);
                try (Recommender m = Models.create(full, DATA)) {
                    new Trainer(full, DATA, m, Distillation.objective(s, teacher, DATA), new Trainer.Outputs(null, null, dir.resolve(method + "b")))
                            .fit(dir.resolve(method + "b").resolve("last.safetensors"));
                    assertArrayEquals(straight, m.params().get("user").value().toArray(), method + ": resumed run equals the uninterrupted one");
                }
            }
        }
    }

    @Test
    void expertGroupsAreTheSelectionArgmaxFirstOnTiesAndSettingsAreBounded() {
        try (Params params = new Params(); Tape tape = new Tape()) {
            ExpertSelection sel = new ExpertSelection(params, "u", 3, 2, 2, 7);
            sel.selW.value().fill(0f);
            sel.selB.value().set(0, 1f);
            sel.selB.value().set(1, 1f);
            sel.selB.value().set(2, 0f);
            Tensor t = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
            assertArrayEquals(new int[] {0, 0}, sel.groups(tape, t), "a tie goes to the first expert");
            sel.selB.value().set(2, 3f);
            assertArrayEquals(new int[] {2, 2}, sel.groups(tape, t));
            // each row by its own logits: t's column 0 feeds expert 1, column 1 expert 2
            sel.selB.value().fill(0f);
            sel.selW.value().set(0, 1, 1f);
            sel.selW.value().set(1, 2, 1f);
            assertArrayEquals(new int[] {1, 2, 0}, sel.groups(tape, Tensor.of(new float[] {5, 1, -1, 2, -1, -2}, 3, 2)));
            ExpertSelection one = new ExpertSelection(params, "i", 1, 2, 2, 7);
            assertArrayEquals(new int[] {0, 0}, one.groups(tape, t), "one expert: everything in group 0");
            // widths: experts d_s -> (d_s + d_t) / 2 -> d_t, the selection net d_t -> E
            ExpertSelection wide = new ExpertSelection(params, "w", 2, 6, 10, 7);
            assertArrayEquals(new int[] {6, 8}, params.get("w.expert1.w1").value().shape());
            assertArrayEquals(new int[] {8, 10}, params.get("w.expert1.w2").value().shape());
            assertArrayEquals(new int[] {10, 2}, wide.selW.value().shape());
            assertEquals(2, wide.experts.experts());
            new Projector(params, "p0", 1, 2, 2, 2, 0.99f, 1);
            for (float bad : new float[] {1f, -0.1f}) {
                var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> new Projector(params, "p1", 1, 2, 2, 2, bad, 1));
                assertEquals("p1 projector: dropout must be in [0, 1), got " + bad, e.getMessage());
            }
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new Projector(params, "p2", 1, 0, 2, 2, 0f, 1));
        }
        // start·(end/start)^(epoch/max), floored at end
        assertEquals(1.0, ExpertSelection.temperature(2, 0.5, 1, 2), 1e-12);
        assertEquals(0.5, ExpertSelection.temperature(2, 0.5, 3, 2), 1e-12);
        try (Teacher teacher = Teacher.of(positive(1))) {
            for (double a : new double[] {0, 1}) new HierarchicalTopology(Methods.get("htd").params().with(Map.of("alpha", a)), teacher, DATA, 1);
            for (double a : new double[] {-0.01, 1.01}) {
                var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> new HierarchicalTopology(Methods.get("htd").params().with(Map.of("alpha", a)), teacher, DATA, 1));
                assertEquals("htd.alpha must be in [0, 1], got " + a, e.getMessage());
            }
            new FitNet(Methods.get("fitnet").params().with(Map.of("dropout", 0.99)), teacher, DATA, 1);
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> new FitNet(Methods.get("fitnet").params().with(Map.of("dropout", 1.0)), teacher, DATA, 1));
            assertEquals("fitnet.dropout must be in [0, 1), got 1.0", e.getMessage());
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> new FitNet(Methods.get("fitnet").params().with(Map.of("dropout", -0.1)), teacher, DATA, 1));
        }
    }

    @Test
    void deAnnealsFromEndTimesAnnealSizeAndHtdDistilsTheBatchItems() {
        try (Teacher teacher = Teacher.of(positive(1)); Recommender student = positive(2); Tape tape = new Tape()) {
            DistillationExperts de = new DistillationExperts(Methods.get("de").params().with(Map.of("end_t", 0.5, "anneal_size", 4,
                    "max_epochs", 2)), teacher, DATA, 3);
            double[] want = {2.0, 1.0, 0.5, 0.5};
            for (int epoch = 0; epoch < want.length; epoch++) {
                de.beginEpoch(tape, student, epoch);
                assertEquals(want[epoch], de.temperature(), 1e-12, "epoch " + epoch);
            }
            // HTD's item side is the batch's positives and negatives: other items, another loss
            HierarchicalTopology htd = new HierarchicalTopology(Methods.get("htd").params().with(Map.of("experts", 1)), teacher, DATA, 3);
            htd.beginEpoch(tape, student, 0);
            float a = htd.loss(tape, student, student.forward(tape), new Batch(new int[] {4, 7}, new int[] {1, 2}, new int[] {3, 5})).value().get(0);
            float b = htd.loss(tape, student, student.forward(tape), new Batch(new int[] {4, 7}, new int[] {6, 8}, new int[] {3, 5})).value().get(0);
            float c = htd.loss(tape, student, student.forward(tape), new Batch(new int[] {4, 7}, new int[] {1, 2}, new int[] {3, 5})).value().get(0);
            float d = htd.loss(tape, student, student.forward(tape), new Batch(new int[] {4, 7}, new int[] {1, 2}, new int[] {9, 10})).value().get(0);
            assertNotEquals(a, b, "other positives");
            assertNotEquals(a, d, "other negatives");
            assertEquals(a, c, 1e-6f * Math.abs(a), "one expert: no draws, the same batch gives the same loss");
        }
    }

    @Test
    void htdIsAlphaTopologyPlusTheRestAssignmentWithItemGroupsApartFromUsers() {
        try (Teacher teacher = Teacher.of(positive(1)); Recommender student = positive(2); Tape tape = new Tape()) {
            Batch batch = new Batch(new int[] {4, 7, 4}, new int[] {1, 2, 6}, new int[] {3, 5, 1});
            double[] alphas = {1, 0, 0.3}, loss = new double[alphas.length];
            for (int k = 0; k < alphas.length; k++) { // one expert: no draws, each distiller sees the same step
                HierarchicalTopology htd = new HierarchicalTopology(Methods.get("htd").params().with(Map.of("experts", 1, "alpha", alphas[k])), teacher, DATA, 3);
                htd.beginEpoch(tape, student, 0);
                loss[k] = htd.loss(tape, student, student.forward(tape), batch).value().get(0);
            }
            assertTrue(loss[0] > 1e-4 && loss[1] > 1e-4 && Math.abs(loss[0] - loss[1]) > 1e-3, "both terms present and different: " + loss[0] + ", " + loss[1]);
            assertEquals(0.3 * loss[0] + 0.7 * loss[1], loss[2], 1e-6 * loss[2], "alpha TD + (1 - alpha) GA");
            // alpha 1 is the topology alone, by hand: with one expert the users are one group and the items (offset by E) another
            Tensor su = student.forward(tape).users().value(), si = student.forward(tape).items().value();
            int[] users = {4, 7}, items = {1, 2, 6, 3, 5};
            int n = users.length + items.length;
            double[][] s = new double[n][], t = new double[n][];
            for (int k = 0; k < n; k++) {
                boolean user = k < users.length;
                int id = user ? users[k] : items[k - users.length];
                s[k] = row(user ? su : si, id);
                t[k] = row(user ? teacher.userEmbeddings() : teacher.itemEmbeddings(), id);
            }
            int[] apart = new int[n], together = new int[n];
            for (int k = users.length; k < n; k++) apart[k] = 1;
            assertEquals(topologyByHand(s, t, apart), loss[0], 1e-5 * loss[0]);
            assertTrue(Math.abs(topologyByHand(s, t, together) - loss[0]) > 1e-3 * loss[0], "users and items in one group would give another loss");
        }
    }

    private static double[] row(Tensor m, int r) {
        double[] out = new double[m.cols()];
        for (int c = 0; c < out.length; c++) out[c] = m.get(r, c);
        return out;
    }

    private static double cos(double[] a, double[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int c = 0; c < a.length; c++) {
            ab += a[c] * b[c];
            aa += a[c] * a[c];
            bb += b[c] * b[c];
        }
        return ab / Math.sqrt(aa * bb);
    }

    /** Topology's two terms (all teacher cosines are positive here): same-group pairs, then every group's prototype against every entity. */
    private static double topologyByHand(double[][] s, double[][] t, int[] group) {
        int n = s.length;
        double loss = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) if (group[i] == group[j]) loss += Math.pow(cos(s[i], s[j]) - cos(t[i], t[j]), 2);
        }
        for (int g = 0; g <= 1; g++) {
            double[] ps = new double[s[0].length], pt = new double[t[0].length];
            int members = 0;
            for (int i = 0; i < n; i++) {
                if (group[i] != g) continue;
                members++;
                for (int c = 0; c < ps.length; c++) ps[c] += s[i][c];
                for (int c = 0; c < pt.length; c++) pt[c] += t[i][c];
            }
            if (members == 0) continue;
            for (int i = 0; i < n; i++) loss += Math.pow(cos(ps, s[i]) - cos(pt, t[i]), 2); // a mean's cosine is its sum's
        }
        return loss;
    }
}
