package kdrec.autograd;

import static kdrec.autograd.GradCheck.check;
import static kdrec.autograd.GradCheck.leaf;
import static kdrec.autograd.GradCheck.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
        }
    }

    private static java.util.List<Float> box(float[] a) {
        java.util.List<Float> l = new java.util.ArrayList<>();
        for (float f : a) l.add(f);
        return l;
    }
}
