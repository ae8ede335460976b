package kdrec.autograd;

import static kdrec.autograd.GradCheck.check;
import static kdrec.autograd.GradCheck.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import kdrec.cpu.Parallel;
import kdrec.tensor.Backend;
import kdrec.tensor.IndexSets;
import kdrec.tensor.Scratch;
import kdrec.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The whole-catalogue listwise losses: hand-computed rows, clamps, and finite differences across chunk borders. */
class ListwiseAllTest {

    private static final double E = Math.E;

    /** One user row u = [1] against 1-d items: the scores are the item values. */
    private static double value(Backend be, float[] scores, int[] excluded, int[][] lists, int[][] held, float[] w, boolean pl, float clip, double floor) {
        Var u = Var.leaf("u", Tensor.of(new float[] {1f}, 1, 1));
        Var items = Var.leaf("items", Tensor.of(scores, scores.length, 1));
        ListwiseAll.Terms terms = new ListwiseAll.Terms(new int[] {0, lists.length}, IndexSets.of(lists), IndexSets.of(held), w);
        try (Tape t = new Tape(be, new Scratch())) {
            return ListwiseAll.loss(t, u, items, IndexSets.of(new int[][] {excluded}), terms, pl, clip, floor).value().get(0);
        }
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void handComputedRows(Backend be) {
        float[] s = {2f, 1f, 0f, -1f};
        int[] x = {3}; // item 3 is a train item: in no denominator
        // PL on [0, 1] held out {0, 1}: rest = {2}. -[(2 - log(e^2 + e + 1)) + (1 - log(e + 1))]
        double pl = Math.log(E * E + E + 1) - 2 + Math.log(E + 1) - 1;
        assertEquals(pl, value(be, s, x, new int[][] {{0, 1}}, new int[][] {{0, 1}}, new float[] {1f}, true, 0f, 0), 1e-6);
        // independent: each listed item against the rest alone: -[(2 - log(e^2 + 1)) + (1 - log(e + 1))]
        double ind = Math.log(E * E + 1) - 2 + Math.log(E + 1) - 1;
        assertEquals(ind, value(be, s, x, new int[][] {{0, 1}}, new int[][] {{0, 1}}, new float[] {1f}, false, 0f, 0), 1e-6);
        // a listed train item (3) with nothing held out: rest = {0, 1, 2}; -[-1 - log(e^-1 + e^2 + e + 1)], weight 2
        double train = 2 * (1 + Math.log(1 / E + E * E + E + 1));
        assertEquals(train, value(be, s, x, new int[][] {{3}}, new int[][] {{}}, new float[] {2f}, false, 0f, 0), 1e-5);
        // a held-out set naming an item twice, then a term that counts that item in its rest again
        assertEquals(pl + train, value(be, s, x, new int[][] {{0, 1}, {3}}, new int[][] {{0, 0, 1}, {}}, new float[] {1f, 2f}, true, 0f, 0), 1e-5);
        // two terms in one row add up with their weights
        assertEquals(1.5 * pl, value(be, s, x, new int[][] {{0, 1}, {0, 1}}, new int[][] {{0, 1}, {0, 1}}, new float[] {1f, 0.5f}, true, 0f, 0), 1e-5);
        // clip 1.5: scores [1.5, 1, 0, -1]; PL as above with 1.5 for 2
        double clipped = Math.log(Math.exp(1.5) + E + 1) - 1.5 + Math.log(E + 1) - 1;
        assertEquals(clipped, value(be, s, x, new int[][] {{0, 1}}, new int[][] {{0, 1}}, new float[] {1f}, true, 1.5f, 0), 1e-6);
        // floor: scores -40 everywhere, the one-item denominator e^-40 + e^-40 < 1e-5 is held at 1e-5: -(-40 - log 1e-5)
        float[] low = {-40f, -40f};
        assertEquals(40 + Math.log(1e-5), value(be, low, new int[0], new int[][] {{0}}, new int[][] {{0}}, new float[] {1f}, false, 40f, 1e-5), 1e-4);
        // large scores stay finite (log-sum-exp): [1000, 999] PL on [0] with rest {1}: log(1 + e^-1)
        assertEquals(Math.log(1 + 1 / E), value(be, new float[] {1000f, 999f}, new int[0], new int[][] {{0}}, new int[][] {{0}}, new float[] {1f}, true, 0f, 0), 1e-4);
    }

    /** Random per-row excluded sets, lists and held-out sets (lists may repeat across terms and include excluded items). */
    private static ListwiseAll.Terms randomTerms(SplittableRandom r, int rows, int n, int[][] excludedOut) {
        java.util.List<int[]> lists = new java.util.ArrayList<>(), held = new java.util.ArrayList<>();
        java.util.List<Float> w = new java.util.ArrayList<>();
        int[] rowPtr = new int[rows + 1];
        for (int row = 0; row < rows; row++) {
            excludedOut[row] = distinct(r, n, r.nextInt(4));
            int terms = 1 + r.nextInt(3);
            for (int j = 0; j < terms; j++) {
                int[] l = distinct(r, n, 1 + r.nextInt(5));
                lists.add(l);
                held.add(r.nextBoolean() ? l : distinct(r, n, r.nextInt(4)));
                w.add((float) (0.25 + r.nextDouble()));
            }
            rowPtr[row + 1] = rowPtr[row] + terms;
        }
        float[] wa = new float[w.size()];
        for (int i = 0; i < wa.length; i++) wa[i] = w.get(i);
        return new ListwiseAll.Terms(rowPtr, IndexSets.of(lists.toArray(new int[0][])), IndexSets.of(held.toArray(new int[0][])), wa);
    }

    private static int[] distinct(SplittableRandom r, int n, int k) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = 0; i < k; i++) {
            int j = i + r.nextInt(n - i);
            int tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        return java.util.Arrays.copyOf(perm, k);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void gradientMatchesFiniteDifferences(Backend be) {
        int rows = 5, n = 13, d = 4;
        SplittableRandom r = new SplittableRandom(11);
        int[][] ex = new int[rows][];
        ListwiseAll.Terms terms = randomTerms(r, rows, n, ex);
        IndexSets excluded = IndexSets.of(ex);
        Var u = Var.leaf("u", randn(1, 0.7f, rows, d)), items = Var.leaf("items", randn(2, 0.7f, n, d));
        for (boolean pl : new boolean[] {true, false}) {
            // a budget of 2 rows per chunk: forward and backward cross chunk borders
            check("listwiseAll pl=" + pl, be, t -> ListwiseAll.loss(t, u, items, excluded, terms, pl, 0f, 0, 2L * n), 1e-2, 5e-4, 5e-3, u, items);
            check("listwiseAll whole pl=" + pl, be, t -> ListwiseAll.loss(t, u, items, excluded, terms, pl, 40f, 1e-5), 1e-2, 5e-4, 5e-3, u, items);
        }
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void clampedScoresPassNoGradient(Backend be) {
        // scores of item 0 are far above the clip for both users: its gradient must vanish, the rest must match FD
        int n = 6, d = 2;
        Var u = Var.leaf("u", Tensor.of(new float[] {1f, 0.2f, 0.8f, -0.3f}, 2, d));
        Tensor iv = randn(5, 0.5f, n, d);
        iv.set(0, 30f);
        iv.set(1, 0f);
        Var items = Var.leaf("items", iv);
        IndexSets excluded = IndexSets.of(new int[][] {{5}, {}});
        ListwiseAll.Terms terms = new ListwiseAll.Terms(new int[] {0, 1, 2}, IndexSets.of(new int[][] {{0, 2}, {3, 0}}),
                IndexSets.of(new int[][] {{0, 2}, {3}}), new float[] {1f, 2f});
        check("listwiseAll clip", be, t -> ListwiseAll.loss(t, u, items, excluded, terms, true, 5f, 1e-5), 1e-2, 5e-4, 5e-3, u, items);
        try (Tape t = new Tape(be, new Scratch())) {
            Var loss = ListwiseAll.loss(t, u, items, excluded, terms, true, 5f, 1e-5);
            t.backward(Arith.sum(t, loss));
            Tensor g = items.densify(t);
            assertEquals(0f, g.get(0), "item 0 scores 30 and 24 (> clip 5) for both users");
            assertEquals(0f, g.get(1));
        }
        items.zeroGrad();
        u.zeroGrad();
    }

    /** Loss and item gradient of one row u = [1] (scores = item values) under an upstream gradient. */
    private static double[] valueAndGrad(Backend be, float[] scores, int[] list, int[] held, float clip, float upstream) {
        Var u = Var.leaf("u", Tensor.of(new float[] {1f}, 1, 1));
        Var items = Var.leaf("items", Tensor.of(scores, scores.length, 1));
        ListwiseAll.Terms terms = new ListwiseAll.Terms(new int[] {0, 1}, IndexSets.of(new int[][] {list}), IndexSets.of(new int[][] {held}), new float[] {1f});
        try (Tape t = new Tape(be, new Scratch())) {
            Var loss = ListwiseAll.loss(t, u, items, IndexSets.of(new int[][] {{}}), terms, true, clip, 0);
            t.backward(loss, Tensor.of(new float[] {upstream}, 1));
            Tensor g = items.densify(t);
            double[] out = new double[scores.length + 1];
            out[0] = loss.value().get(0);
            for (int i = 0; i < scores.length; i++) out[i + 1] = g.get(i);
            return out;
        }
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void spreadsBeyondTheFloatExponentAndLargeUpstreamsStayExact(Backend be) {
        // no clamp, scores 100 apart: PL on [0, 1] held {0, 1}, rest {2}: -[(100 - log(e^100 + 2)) + (0 - log 2)] = log 2 (+ 2e-43);
        // e^-100 is 0 in float, which made the first denominator 0 and the gradients NaN
        for (float clip : new float[] {0f, 50f, Float.POSITIVE_INFINITY}) {
            float hi = clip == 50f ? 50f : 100f, lo = clip == 50f ? -50f : 0f;
            double[] r = valueAndGrad(be, new float[] {hi, lo, lo}, new int[] {0, 1}, new int[] {0, 1}, clip, 1f);
            assertEquals(Math.log(2), r[0], 1e-6, "clip " + clip);
            assertEquals(0, r[1], 1e-6, "clip " + clip);
            assertEquals(-0.5, r[2], 1e-6, "clip " + clip);
            assertEquals(0.5, r[3], 1e-6, "clip " + clip);
        }
        // clip 40 (HetComp's), upstream 1e5: the rest's gradient scale 1e5 * e^80 leaves the float range, its gradient does not
        double[] r = valueAndGrad(be, new float[] {40f, -40f, -40f}, new int[] {0, 1}, new int[] {0, 1}, 40f, 1e5f);
        assertEquals(-5e4, r[2], 1e-1);
        assertEquals(5e4, r[3], 1e-1);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void rowsGiveTheSameBitsOnOneThreadOrMany(Backend be) {
        int threads = Parallel.threads();
        try {
            float[][] runs = new float[2][];
            for (int k = 0; k < 2; k++) {
                Parallel.setThreads(k == 0 ? 1 : 3);
                float[] all = new float[0];
                for (int n : new int[] {61, 23}) { // a larger catalogue first: the per-thread row buffers are longer than n after it
                    int rows = 24, d = 3;
                    SplittableRandom r = new SplittableRandom(n);
                    int[][] ex = new int[rows][];
                    ListwiseAll.Terms terms = randomTerms(r, rows, n, ex);
                    Var u = Var.leaf("u", randn(n, 2f, rows, d)), items = Var.leaf("items", randn(n + 1, 2f, n, d));
                    try (Tape t = new Tape(be, new Scratch())) {
                        Var loss = ListwiseAll.loss(t, u, items, IndexSets.of(ex), terms, true, 40f, 1e-5);
                        t.backward(Arith.sum(t, loss));
                        all = concat(all, loss.value().toArray(), items.densify(t).toArray(), u.densify(t).toArray());
                    }
                }
                runs[k] = all;
            }
            for (int i = 0; i < runs[0].length; i++) {
                assertEquals(Float.floatToIntBits(runs[0][i]), Float.floatToIntBits(runs[1][i]), "entry " + i + ": 1 thread " + runs[0][i] + ", 3 threads " + runs[1][i]);
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] out = new float[n];
        int o = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void shapeErrorsNameTheOp(Backend be) {
        Var u = Var.leaf("u", randn(1, 1f, 2, 3)), items = Var.leaf("items", randn(2, 1f, 4, 3));
        ListwiseAll.Terms one = new ListwiseAll.Terms(new int[] {0, 1}, IndexSets.of(new int[][] {{0}}), IndexSets.of(new int[][] {{}}), new float[] {1f});
        try (Tape t = new Tape(be, new Scratch())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ListwiseAll.loss(t, u, items, IndexSets.of(new int[][] {{}, {}}), one, true, 0f, 0));
            assertEquals(true, e.getMessage().startsWith("listwiseAll"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new ListwiseAll.Terms(new int[] {0, 2}, IndexSets.of(new int[][] {{0}}),
                IndexSets.of(new int[][] {{}}), new float[] {1f}));
    }
}
