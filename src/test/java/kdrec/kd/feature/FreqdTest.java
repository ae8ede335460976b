package kdrec.kd.feature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.data.Datasets;
import kdrec.kd.Distillation;
import kdrec.kd.KdParams;
import kdrec.kd.Methods;
import kdrec.kd.Teacher;
import kdrec.loss.Batch;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;
import kdrec.nn.Params;
import kdrec.tensor.SparseMatrix;
import kdrec.tensor.Tensor;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FreqD: hand-computed losses, Parseval (h ≡ 1 is plain feature KD), closure = full table, fused = composed projector, the step weighting, end to end and exact resume. */
class FreqdTest {
    @TempDir
    Path dir;

    static final TrainData DATA = new TrainData(Datasets.loadUnchecked("synthetic:users=40,items=30,per_user=6,clusters=3,seed=5"));

    static MatrixFactorization mf(int dim, long seed, float std) {
        MatrixFactorization m = new MatrixFactorization(DATA.users(), DATA.items(), dim, seed);
        for (var p : m.params().all()) Params.fillNormal(p.value(), std, seed * 31 + p.name().hashCode());
        return m;
    }

    static KdParams params(Object... kv) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return Methods.get("freqd").params().with(m);
    }

    /** A one-expert projector that is the identity on non-negative rows of width d. */
    static Projector identity(Params params, int d) {
        Projector p = new Projector(params, "side", 1, d, d, d, 0f, 1);
        for (String w : new String[] {"w1", "w2"}) {
            Tensor t = params.get("side.expert0." + w).value();
            t.fill(0f);
            for (int i = 0; i < d; i++) t.set(i, i, 1f);
        }
        params.get("side.expert0.b1").value().fill(0f);
        params.get("side.expert0.b2").value().fill(0f);
        return p;
    }

    /**
     * Path graph 0-1-2 with unit edges: degrees 1, 2, 1, so Â01 = Â12 = 1/√2. H = (I + Â)/2 (linear:0.5).
     * S = [1, 2, 3], T = [2, 0, 1] (width 1), X = S - T = [-1, 2, 2]:
     * (HX)_0 = -1/2 + (1/2)(2/√2) = -1/2 + 1/√2, (HX)_1 = 1 + (1/2)(1/√2)(-1 + 2) = 1 + 1/(2√2).
     * Squared L2 over B = {0, 1}: (3/4 - 1/√2) + (9/8 + 1/√2) = 15/8.
     */
    @Test
    void handComputedLossOnAPathGraph() {
        float r = (float) (1 / Math.sqrt(2));
        SparseMatrix ahat = new SparseMatrix(3, 3, new int[] {0, 1, 3, 4}, new int[] {1, 0, 2, 1}, new float[] {r, r, r, r}, true);
        try (Params params = new Params(); Tape tape = new Tape()) {
            Projector id = identity(params, 1);
            Var s = Var.leaf("s", Tensor.of(new float[] {1, 2, 3}, 3, 1));
            Tensor t = Tensor.of(new float[] {2, 0, 1}, 3, 1);
            SpectralFilter lin = SpectralFilter.parse("linear:0.5");
            for (boolean closure : new boolean[] {true, false}) {
                Var loss = FreqD.sideLoss(tape, new int[] {0, 1}, s, t, ahat, id, lin, 1f, closure, false, 3);
                assertEquals(15.0 / 8, loss.value().get(0), 1e-6);
                Var one = FreqD.sideLoss(tape, new int[] {0}, s, t, ahat, id, lin, 1f, closure, false, 3);
                assertEquals(0.75 - Math.sqrt(0.5), one.value().get(0), 1e-6);
            }
            // cosine on an isolated node: H = I/2 scales both rows, 1 - cos((3,4), (4,3)) = 1 - 24/25
            SparseMatrix empty = new SparseMatrix(1, 1, new int[] {0, 0}, new int[0], new float[0], true);
            Projector id2 = new Projector(params, "two", 1, 2, 2, 2, 0f, 1);
            for (String w : new String[] {"w1", "w2"}) {
                Tensor m = params.get("two.expert0." + w).value();
                m.fill(0f);
                m.set(0, 0, 1f);
                m.set(1, 1, 1f);
            }
            params.get("two.expert0.b1").value().fill(0f);
            params.get("two.expert0.b2").value().fill(0f);
            Var loss = FreqD.sideLoss(tape, new int[] {0}, Var.leaf("s2", Tensor.of(new float[] {3, 4}, 1, 2)), Tensor.of(new float[] {4, 3}, 1, 2),
                    empty, id2, lin, 1f, true, true, 3);
            assertEquals(1 - 24.0 / 25, loss.value().get(0), 1e-6);
        }
    }

    /** h ≡ 1 (cheb:1) with squared L2: FreqD is plain feature KD, Σ_i ‖P(S)_i - T_i‖² (Parseval). */
    @Test
    void identityFilterIsPlainFeatureKd() {
        try (Teacher teacher = Teacher.of(mf(6, 1, 0.5f)); Recommender student = mf(3, 2, 0.5f); Tape tape = new Tape()) {
            FreqD f = new FreqD(params("filter", "cheb:1", "norm", false, "keep_prob", 1.0, "dropout", 0.0, "experts", 2), teacher, DATA, 4);
            f.params(student);
            int[] users = {0, 5, 9, 17};
            Var su = student.params().get("user");
            double loss = f.sideLoss(tape, users, su, teacher.userEmbeddings(), f.userGraph, f.userProj, 1).value().get(0);
            Var z = f.userProj.forward(tape, su, allIds(DATA.users()), 0);
            double want = 0;
            for (int u : users) for (int c = 0; c < 6; c++) {
                double diff = z.value().get(u, c) - teacher.userEmbeddings().get(u, c);
                want += diff * diff;
            }
            assertEquals(want, loss, 1e-5 * want);
        }
    }

    static int[] allIds(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    /** The batch's closure gives the same loss and gradients as the code's full-table path, dropout and edge dropout on. */
    @Test
    void closureEqualsFullTable() {
        for (String filter : new String[] {"linear:0.5", "exp:1,3"}) {
            double[] loss = new double[2];
            float[][] gUser = new float[2][], gProj = new float[2][];
            for (int path = 0; path < 2; path++) {
                try (Teacher teacher = Teacher.of(mf(6, 1, 0.5f)); Recommender student = mf(3, 2, 0.5f); Tape tape = new Tape()) {
                    FreqD f = new FreqD(params("filter", filter, "closure", path == 0, "experts", 2), teacher, DATA, 4);
                    Params ps = f.params(student);
                    f.beginEpoch(tape, student, 3);
                    Batch b = new Batch(new int[] {1, 7, 7, 30}, new int[] {2, 2, 9, 11}, new int[] {5, 6, 7, 8});
                    Var l = f.loss(tape, student, student.forward(tape), b);
                    tape.backward(l);
                    loss[path] = l.value().get(0);
                    gUser[path] = student.params().get("user").densify(tape).toArray();
                    gProj[path] = ps.get("item.expert1.w2").densify(tape).toArray();
                }
            }
            assertEquals(loss[1], loss[0], 1e-5 * Math.abs(loss[1]), filter);
            assertArrayEquals(gUser[1], gUser[0], 1e-5f, filter + ": student gradients");
            assertArrayEquals(gProj[1], gProj[0], 1e-5f, filter + ": projector gradients");
            assertTrue(loss[0] > 0);
        }
    }

    /**
     * The fused projector op gives FreqD's step the very loss and gradients (student tables, every
     * projector parameter) of the composed ops it replaced, bit for bit, on both paths and for a
     * one-product filter and a three-product one.
     */
    @Test
    void fusedProjectorEqualsTheComposedOnes() {
        for (String filter : new String[] {"linear:0.5", "exp:1,3"}) {
            for (boolean closure : new boolean[] {true, false}) {
                float[][][] got = new float[2][][];
                for (int composed = 0; composed < 2; composed++) {
                    try (Teacher teacher = Teacher.of(mf(6, 1, 0.5f)); Recommender student = mf(3, 2, 0.5f); Tape tape = new Tape()) {
                        FreqD f = new FreqD(params("filter", filter, "closure", closure, "experts", 3), teacher, DATA, 4);
                        Params ps = f.params(student);
                        f.composedProjectors(composed == 1);
                        f.beginEpoch(tape, student, 1);
                        Var l = f.loss(tape, student, student.forward(tape), new Batch(new int[] {1, 7, 7, 30}, new int[] {2, 2, 9, 11}, new int[] {5, 6, 7, 8}));
                        tape.backward(l);
                        java.util.List<float[]> out = new java.util.ArrayList<>();
                        out.add(l.value().toArray());
                        for (Var v : student.params().all()) out.add(v.densify(tape).toArray());
                        for (Var v : ps.all()) out.add(v.densify(tape).toArray());
                        got[composed] = out.toArray(new float[0][]);
                    }
                }
                for (int k = 0; k < got[0].length; k++) assertArrayEquals(got[1][k], got[0][k], filter + " closure=" + closure + ": array " + k);
            }
        }
    }

    /** L = F(unique users) + 0.5 (F(unique pos) + F(unique neg)): duplicates count once; fresh masks per step. */
    @Test
    void stepWeightingAndDuplicates() {
        try (Teacher teacher = Teacher.of(mf(6, 1, 0.5f)); Recommender student = mf(3, 2, 0.5f); Tape tape = new Tape()) {
            FreqD f = new FreqD(params("keep_prob", 1.0, "dropout", 0.0, "experts", 1), teacher, DATA, 4);
            f.params(student);
            Var su = student.params().get("user"), si = student.params().get("item");
            double want = f.sideLoss(tape, new int[] {1, 4}, su, teacher.userEmbeddings(), f.userGraph, f.userProj, 0).value().get(0)
                    + 0.5 * (f.sideLoss(tape, new int[] {3}, si, teacher.itemEmbeddings(), f.itemGraph, f.itemProj, 0).value().get(0)
                    + f.sideLoss(tape, new int[] {3, 8}, si, teacher.itemEmbeddings(), f.itemGraph, f.itemProj, 0).value().get(0));
            f.beginEpoch(tape, student, 0);
            Var l = f.loss(tape, student, student.forward(tape), new Batch(new int[] {4, 1, 4}, new int[] {3, 3, 3}, new int[] {8, 3, 8}));
            assertEquals(want, l.value().get(0), 1e-5 * want);
            // with dropout on, two steps draw different masks; a new epoch's first step redraws the first
            FreqD g = new FreqD(params("experts", 1), teacher, DATA, 4);
            g.params(student);
            Batch b = new Batch(new int[] {4, 1}, new int[] {3, 5}, new int[] {8, 2});
            g.beginEpoch(tape, student, 2);
            float first = g.loss(tape, student, student.forward(tape), b).value().get(0);
            float second = g.loss(tape, student, student.forward(tape), b).value().get(0);
            g.beginEpoch(tape, student, 2);
            assertEquals(first, g.loss(tape, student, student.forward(tape), b).value().get(0));
            assertNotEquals(first, second);
        }
    }

    @Test
    void settingsAreChecked() {
        try (Teacher teacher = Teacher.of(mf(6, 1, 0.5f))) {
            for (Object[] bad : new Object[][] {{"keep_prob", 0.0}, {"dropout", 1.0}, {"experts", 0}, {"filter", "wavelet"}, {"k", 0}}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FreqD(params(bad), teacher, DATA, 0));
                assertTrue(e.getMessage().contains("freqd"), e.getMessage());
            }
        }
    }

    @Test
    void distillsEndToEndAndResumesExactly() throws Exception {
        TrainConfig full = TrainConfig.defaults().with(Map.of("dim", 4, "epochs", 3, "batch_size", 64, "lr", 0.01, "patience", 50));
        Map<String, Object> set = Map.of("freqd.experts", 2, "freqd.filter", "quadratic:0.4");
        try (Teacher teacher = Teacher.of(mf(8, 1, 0.5f))) {
            Distillation.Setup s = Distillation.resolve("freqd", full, null, "mf", set);
            float[] straight, straightProj;
            try (Recommender m = Models.create(full, DATA)) {
                var objective = Distillation.objective(s, teacher, DATA);
                Trainer.Result r = new Trainer(full, DATA, m, objective, new Trainer.Outputs(null, null, dir.resolve("a"))).fit(null);
                assertTrue(Double.isFinite(r.test().get("ndcg@10")));
                straight = m.params().get("user").value().toArray();
                straightProj = objective.params(m).get("user.expert1.w1").value().toArray();
            }
            Distillation.Setup half = new Distillation.Setup("freqd", full.with(Map.of("epochs", 1)), s.params());
            Distillation.run(half, teacher, DATA, new Trainer.Outputs(null, null, dir.resolve("b")), null);
            try (Recommender m = Models.create(full, DATA)) {
                var objective = Distillation.objective(s, teacher, DATA);
                new Trainer(full, DATA, m, objective, new Trainer.Outputs(null, null, dir.resolve("b"))).fit(dir.resolve("b").resolve("last.safetensors"));
                assertArrayEquals(straight, m.params().get("user").value().toArray(), "resumed FreqD equals the uninterrupted run");
                assertArrayEquals(straightProj, objective.params(m).get("user.expert1.w1").value().toArray(), "projector too");
            }
            // a LightGCN student distils from its raw (ego) tables
            TrainConfig lg = full.with(Map.of("model", "lightgcn", "layers", 2, "epochs", 1));
            Trainer.Result r = Distillation.run(Distillation.resolve("freqd", lg, null, "mf", Map.of("freqd.experts", 1)), teacher, DATA, Trainer.Outputs.none(), null);
            assertTrue(Double.isFinite(r.test().get("ndcg@10")));
        }
    }
}
