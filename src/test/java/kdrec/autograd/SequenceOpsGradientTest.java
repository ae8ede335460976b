package kdrec.autograd;

import static kdrec.autograd.GradCheck.check;
import static kdrec.autograd.GradCheck.leaf;
import static kdrec.autograd.GradCheck.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Function;
import java.util.function.IntBinaryOperator;
import kdrec.cpu.Parallel;
import kdrec.tensor.Backend;
import kdrec.tensor.CpuBackend;
import kdrec.tensor.Scratch;
import kdrec.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The HSTU ops against central finite differences (both CPU backends) plus small hand-checked values. */
class SequenceOpsGradientTest {


    private static final double EPS = 1e-2, ATOL = 5e-4, RTOL = 5e-3;

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void batchedAttentionProducts(Backend be) {
        int b = 2, n = 4, h = 2;
        Var q = leaf("q", 1, b * n, h * 3), k = leaf("k", 2, b * n, h * 3), v = leaf("v", 3, b * n, h * 5), a = leaf("a", 4, b * h, n, n);
        check("attention qk", be, t -> Attention.qk(t, q, k, b, n, h), EPS, ATOL, RTOL, q, k);
        check("attention av", be, t -> Attention.av(t, a, v, b, n, h), EPS, ATOL, RTOL, a, v);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void maskBiasEmbedNormalise(Backend be) {
        int n = 4;
        Var s = leaf("s", 5, 3, n, n), w = leaf("w", 6, 2 * 5 - 1); // a table for sequences up to 5, used at length 4
        check("causalMask", be, t -> Attention.causalMask(t, s), EPS, ATOL, RTOL, s);
        check("relativeBias", be, t -> Attention.relativeBias(t, s, w), EPS, ATOL, RTOL, s, w);
        Var table = leaf("table", 7, 6, 3), pos = leaf("pos", 8, 5, 3);
        int[] ids = {2, 5, 5, 0, /* */ 1, 9, 9, 9}; // second sequence has length 1: the 9s are padding, never read
        check("sequence embed", be, t -> Attention.embed(t, table, pos, ids, new int[] {4, 1}, n, 1.7f), EPS, ATOL, RTOL, table, pos);
        Var x = leaf("x", 9, 2, 3, 6);
        check("layerNorm last axis (rank 3)", be, t -> Norm.layerNorm(t, x, null, null, 1e-6f), 1e-2, 5e-3, 3e-2, x);
        Var y = leaf("y", 10, 5, 4);
        check("l2Rows", be, t -> Norm.l2Rows(t, y, 1e-6f), EPS, ATOL, RTOL, y);
        Var src = leaf("src", 11, 3, 4);
        check("scatterRows", be, t -> Gather.scatterRows(t, src, new int[] {4, 0, 2}, 6), EPS, ATOL, RTOL, src);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void sharedSampledSoftmax(Backend be) {
        Var s = leaf("s", 12, 4, 3), p = leaf("p", 13, 4, 3), ng = leaf("n", 14, 5, 3);
        int[] posIds = {7, 1, 2, 3}, negIds = {1, 9, 8, 1, 6}; // row 1's positive collides with two negatives
        check("sampled softmax", be, t -> SampledCe.loss(t, s, p, posIds, ng, negIds, 0.5f, 1f), EPS, ATOL, RTOL, s, p, ng);
        check("scaled sampled softmax", be, t -> SampledCe.loss(t, s, p, posIds, ng, negIds, 0.5f, 7.5f), EPS, ATOL, RTOL, s, p, ng);
    }

    /** Negatives per row for the per-row tests: 5 items, so rows meet their positive among them often. */
    private static int negativeOf(int row, int j) {
        return (row * 7 + j * 3 + row * j) % 5;
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void perRowSampledSoftmax(Backend be) {
        Var s = leaf("s", 21, 4, 3), table = leaf("table", 22, 5, 3);
        int[] posIds = {0, 3, 1, 3}; // row 0 draws 0, 3, 1, 4: its positive among them (dropped)
        check("per-row sampled softmax", be, t -> SampledCe.perRow(t, s, table, posIds, 4, SequenceOpsGradientTest::negativeOf, 0.5f, 1f),
                EPS, ATOL, RTOL, s, table);
        // one row per chunk, nothing kept: the backward's chunk-by-chunk regeneration
        check("per-row sampled softmax, chunked", be,
                t -> SampledCe.perRow(t, s, table, posIds, 4, SequenceOpsGradientTest::negativeOf, 0.5f, 3.5f, 1, 0), EPS, ATOL, RTOL, s, table);
    }

    /**
     * With every row drawing the same negatives, the per-row op is the shared one on the table's rows: same
     * losses and gradients (to float rounding: a gathered dot against a GEMM).
     */
    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void perRowWithOneDrawIsTheSharedOp(Backend be) {
        int m = 6, d = 5, items = 9;
        int[] posIds = {1, 4, 4, 0, 8, 2}, negIds = {4, 7, 7, 0, 3};
        Tensor sv = randn(31, 1f, m, d), tv = randn(32, 1f, items, d), w = randn(33, 1f, m);
        float[][] shared = run(be, sv, tv, w, t -> {
            Var s = Var.leaf("s", sv), table = Var.leaf("table", tv);
            return new Var[] {SampledCe.loss(t, s, Gather.rows(t, table, posIds), posIds, Gather.rows(t, table, negIds), negIds, 0.3f, 2f), s, table};
        });
        float[][] perRow = run(be, sv, tv, w, t -> {
            Var s = Var.leaf("s", sv), table = Var.leaf("table", tv);
            return new Var[] {SampledCe.perRow(t, s, table, posIds, negIds.length, (r, j) -> negIds[j], 0.3f, 2f), s, table};
        });
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < shared[k].length; i++) assertEquals(shared[k][i], perRow[k][i], 2e-5 * (1 + Math.abs(shared[k][i])), "output " + k + "[" + i + "]");
        }
    }

    /**
     * Chunk size, keeping the forward for the backward or not, and thread count change nothing, bit for bit
     * (rows never span chunks; the table's gradient goes in entry order).
     */
    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void perRowIsBitIdenticalAcrossChunksAndThreads(Backend be) {
        // small: one chunk per row and ragged chunks; large enough (89,600 entries) that the draws, the dots
        // and the table's scatter really split across threads
        perRowAcross(be, 37, 19, 23, 11, new int[] {SampledCe.PER_ROW_CHUNK, 1, 2 * (11 + 1), 100});
        perRowAcross(be, 700, 24, 3000, 128, new int[] {SampledCe.PER_ROW_CHUNK, 1000, 20_000});
    }

    private static void perRowAcross(Backend be, int m, int d, int items, int r, int[] chunks) {
        int[] posIds = new int[m];
        for (int i = 0; i < m; i++) posIds[i] = (i * 5) % items;
        IntBinaryOperator neg = (row, j) -> (int) Math.floorMod(row * 131L + j * 17L + (long) row * j * j, (long) items);
        Tensor sv = randn(41, 1f, m, d), tv = randn(42, 1f, items, d), w = randn(43, 1f, m);
        int before = Parallel.threads();
        try {
            float[][] want = null;
            for (int threads : new int[] {1, 2, 4}) {
                Parallel.setThreads(threads);
                for (int chunk : chunks) {
                    for (int keep : new int[] {0, m * r / 2, m * r}) { // the backward draws and gathers again, in part or all, or reads the forward's
                        float[][] got = run(be, sv, tv, w, t -> {
                            Var s = Var.leaf("s", sv), table = Var.leaf("table", tv);
                            return new Var[] {SampledCe.perRow(t, s, table, posIds, r, neg, 0.2f, 1f, chunk, keep), s, table};
                        });
                        if (want == null) want = got;
                        for (int k = 0; k < 3; k++) {
                            assertArrayEquals(want[k], got[k], threads + " threads, chunk " + chunk + ", keep " + keep + ", output " + k);
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** The attention maps' bias and mask run maps (and the bias gradient table entries) in parallel: same bits for any thread count. */
    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void attentionMapOpsAreBitIdenticalAcrossThreads(Backend be) {
        int bh = 24, n = 90; // 194,400 elements: several tasks for the maps, up to 16 for the table's 179 entries
        Tensor sv = randn(51, 1f, bh, n, n), wv = randn(52, 1f, 2 * n - 1), seed = randn(53, 1f, bh, n, n);
        int before = Parallel.threads();
        try {
            float[][] want = null;
            for (int threads : new int[] {1, 2, 4}) {
                Parallel.setThreads(threads);
                float[][] got = run(be, sv, wv, seed, t -> {
                    Var s = Var.leaf("s", sv), w = Var.leaf("w", wv);
                    return new Var[] {Attention.causalMask(t, Attention.relativeBias(t, s, w)), s, w};
                });
                if (want == null) want = got;
                for (int k = 0; k < 3; k++) assertArrayEquals(want[k], got[k], threads + " threads, output " + k);
            }
            // and the values: out = s + w[c + j - i] below the diagonal, 0 above; dw[e] sums seed over its diagonal
            int c = n - 1;
            double[] dw = new double[2 * n - 1];
            for (int r = 0; r < bh; r++) {
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        int at = (r * n + i) * n + j;
                        float expect = j <= i ? sv.get(at) + wv.get(c + j - i) : 0f;
                        assertEquals(expect, want[0][at], "out[" + r + "," + i + "," + j + "]");
                        assertEquals(j <= i ? seed.get(at) : 0f, want[1][at], "ds[" + r + "," + i + "," + j + "]");
                        if (j <= i) dw[c + j - i] += seed.get(at);
                    }
                }
            }
            // summed in double in (map, row) order per entry, as the serial loop did: the same float exactly
            for (int e = 0; e < dw.length; e++) assertEquals((float) dw[e], want[2][e], "dw[" + e + "]");
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void perRowRefusesBadIds() {
        try (Tape t = new Tape(new CpuBackend(false), new Scratch())) {
            Var s = Var.constant(Tensor.zeros(2, 3)), table = Var.constant(Tensor.zeros(4, 3));
            var bad = assertThrows(IllegalArgumentException.class, () -> SampledCe.perRow(t, s, table, new int[] {0, 1}, 2, (r, j) -> r + j + 2, 1f, 1f));
            assertTrue(bad.getMessage().contains("negative 1 of row 1 is 4, outside [0, 4)"), bad.getMessage());
            bad = assertThrows(IllegalArgumentException.class, () -> SampledCe.perRow(t, s, table, new int[] {0, 4}, 2, (r, j) -> 0, 1f, 1f));
            assertTrue(bad.getMessage().contains("positive id 4 of row 1"), bad.getMessage());
        }
    }

    /** Loss (weighted by w), then the gradients of the two leaves, as flat arrays. */
    private static float[][] run(Backend be, Tensor sv, Tensor tv, Tensor w, Function<Tape, Var[]> f) {
        try (Tape t = new Tape(be, new Scratch())) {
            Var[] out = f.apply(t);
            t.backward(out[0], w);
            return new float[][] {out[0].value().toArray(), out[1].densify(t).toArray(), out[2].densify(t).toArray()};
        }
    }

    @Test
    void handComputedValues() {
        try (Tape t = new Tape(new CpuBackend(false), new Scratch())) {
            // relative bias: s = 0, w = [w-2 .. w2] = [10, 20, 30, 40, 50] (centre 30), n = 2: [[30, 40], [20, 30]]
            Var s = Var.constant(Tensor.zeros(1, 2, 2)), w = Var.constant(Tensor.of(new float[] {10, 20, 30, 40, 50}, 5));
            assertEquals(java.util.List.of(30f, 40f, 20f, 30f), box(Attention.relativeBias(t, s, w).value().toArray()));
            // causal mask keeps j <= i
            Var m = Var.constant(Tensor.of(new float[] {1, 2, 3, 4}, 1, 2, 2));
            assertEquals(java.util.List.of(1f, 0f, 3f, 4f), box(Attention.causalMask(t, m).value().toArray()));
            // qk with h = 1, d = 1: q = [1, 2], k = [3, 4] -> [[3, 4], [6, 8]]; av: [[1,0],[0,1]] v = [5, 6] -> [5, 6]
            Var q = Var.constant(Tensor.of(new float[] {1, 2}, 2, 1)), k = Var.constant(Tensor.of(new float[] {3, 4}, 2, 1));
            assertEquals(java.util.List.of(3f, 4f, 6f, 8f), box(Attention.qk(t, q, k, 1, 2, 1).value().toArray()));
            Var eye = Var.constant(Tensor.of(new float[] {1, 0, 0, 1}, 1, 2, 2)), v = Var.constant(Tensor.of(new float[] {5, 6}, 2, 1));
            assertEquals(java.util.List.of(5f, 6f), box(Attention.av(t, eye, v, 1, 2, 1).value().toArray()));
            // sampled softmax, one row, temp 1: pos logit <(1,0),(2,0)> = 2, negatives 0 and 1 -> -2 + log(e^2 + e^0 + e^1)
            Var st = Var.constant(Tensor.of(new float[] {1, 0}, 1, 2)), pt = Var.constant(Tensor.of(new float[] {2, 0}, 1, 2));
            Var nt = Var.constant(Tensor.of(new float[] {0, 1, 1, 0, 3, 0}, 3, 2));
            float got = SampledCe.loss(t, st, pt, new int[] {4}, nt, new int[] {0, 1, 4}, 1f, 1f).value().get(0);
            assertEquals(-2 + Math.log(Math.exp(2) + 1 + Math.E), got, 1e-5); // the third negative is the positive: dropped
            // per row on the table rows {pos (2,0), (0,1), (1,0)}: the same row as above, ids 0 = positive, 1, 2, 0 (dropped)
            Var table = Var.constant(Tensor.of(new float[] {2, 0, 0, 1, 1, 0}, 3, 2));
            int[] draws = {1, 2, 0};
            float perRow = SampledCe.perRow(t, st, table, new int[] {0}, 3, (r, j) -> draws[j], 1f, 1f).value().get(0);
            assertEquals(-2 + Math.log(Math.exp(2) + 1 + Math.E), perRow, 1e-5);
        }
    }

    private static java.util.List<Float> box(float[] a) {
        java.util.List<Float> l = new java.util.ArrayList<>();
        for (float f : a) l.add(f);
        return l;
    }
}
