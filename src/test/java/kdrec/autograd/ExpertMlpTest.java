package kdrec.autograd;

import static kdrec.autograd.GradCheck.check;
import static kdrec.autograd.GradCheck.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import kdrec.kd.feature.Projector;
import kdrec.nn.Params;
import kdrec.tensor.Backend;
import kdrec.tensor.Scratch;
import kdrec.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused mean-of-experts op ({@link ExpertMlp}) on both CPU backends: central finite differences
 * (in double) for the input and every parameter, equality bit for bit with the composition of
 * Linear / relu / RowDropout / add / scale it replaces (output and all gradients, over one chunk and
 * several), and its scratch: forward keeps only its output, backward only the gradients.
 */
class ExpertMlpTest {

    // a small step: with N(0, 0.5²) weights a step of 1e-2 in W1 moves some pre-activations across relu's kink
    private static final double EPS = 1e-3, ATOL = 2e-3, RTOL = 5e-3;

    /** A projector of random weights (N(0, 0.5²) rather than the small PyTorch init: relu kinks and roundings stay apart from the step). */
    static Projector projector(Params params, int experts, int in, int hid, int out, float p, long seed) {
        Projector proj = new Projector(params, "side", experts, in, hid, out, p, seed);
        for (Var v : params.all()) {
            Tensor r = randn(seed * 101 + v.name().hashCode(), 0.5f, v.value().shape());
            r.copyTo(v.value());
        }
        return proj;
    }

    static int[] ids(int n, int base) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = base + 3 * i;
        return ids;
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void gradientsAgainstFiniteDifferences(Backend be) {
        for (int experts : new int[] {1, 3}) {
            for (float p : new float[] {0f, 0.25f}) {
                try (Params params = new Params()) {
                    Projector proj = projector(params, experts, 3, 5, 4, p, 7 + experts);
                    Var x = Var.leaf("x", randn(11, 1f, 6, 3));
                    int[] ids = ids(6, 40);
                    List<Var> inputs = new ArrayList<>(params.all());
                    inputs.add(x);
                    check("expertMlp E=" + experts + " p=" + p, be, t -> proj.forward(t, x, ids, 77), EPS, ATOL, RTOL, inputs.toArray(new Var[0]));
                }
            }
        }
    }

    /**
     * Several row chunks (1100 rows): the weight gradients are reduced chunk by chunk. Parameters only
     * (1100 x 3 inputs would take long). b1 is shifted to about 3 so that every pre-activation stays
     * positive: of 8800 some would otherwise sit within a step of relu's kink (the case above covers relu's zero branch).
     */
    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void gradientsOverSeveralChunks(Backend be) {
        try (Params params = new Params()) {
            Projector proj = projector(params, 2, 3, 4, 2, 0.2f, 5);
            for (int e = 0; e < 2; e++) {
                Tensor b1 = params.get("side.expert" + e + ".b1").value();
                for (int i = 0; i < b1.size(); i++) b1.set(i, b1.get(i) + 3f);
            }
            Var x = Var.leaf("x", randn(12, 0.3f, 1100, 3));
            int[] ids = ids(1100, 0);
            check("expertMlp, 1100 rows", be, t -> proj.forward(t, x, ids, 78), EPS, 5e-3, 1e-2, params.all().toArray(new Var[0]));
        }
    }

    /** Loss (a weighted sum of the outputs) and every gradient equal the composition's bit for bit, x a parameter or not. */
    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void equalsTheComposedOpsBitForBit(Backend be) {
        int[][] shapes = {{0, 3, 5, 4}, {1, 3, 5, 4}, {7, 20, 33, 17}, {1100, 20, 40, 24}, {2500, 7, 16, 9}};
        for (int[] sh : shapes) {
            for (int experts : new int[] {1, 5}) {
                for (float p : new float[] {0f, 0.2f}) {
                    for (boolean xGrad : new boolean[] {true, false}) {
                        String what = "n=" + sh[0] + " " + sh[1] + "->" + sh[2] + "->" + sh[3] + " E=" + experts + " p=" + p + " xGrad=" + xGrad;
                        float[][] fused = run(be, sh, experts, p, xGrad, false), composed = run(be, sh, experts, p, xGrad, true);
                        assertEquals(composed.length, fused.length);
                        for (int k = 0; k < fused.length; k++) assertArrayEquals(composed[k], fused[k], what + ": array " + k);
                    }
                }
            }
        }
    }

    /** [output, dx (if x is a leaf), every parameter's gradient in order] after one backward with fixed random upstream weights. */
    private static float[][] run(Backend be, int[] sh, int experts, float p, boolean xGrad, boolean composed) {
        int n = sh[0], in = sh[1], hid = sh[2], out = sh[3];
        try (Params params = new Params(); Tape t = new Tape(be, new Scratch())) {
            Projector proj = projector(params, experts, in, hid, out, p, 3);
            Tensor xv = randn(13, 1f, n, in);
            Var x = xGrad ? Var.leaf("x", xv) : Var.constant(xv);
            int[] ids = ids(n, 100);
            Var y = composed ? proj.forwardComposed(t, x, ids, 91) : proj.forward(t, x, ids, 91);
            List<float[]> res = new ArrayList<>();
            res.add(y.value().toArray());
            if (n > 0) t.backward(y, randn(14, 1f, n, out));
            if (xGrad) res.add(n == 0 ? new float[0] : x.densify(t).toArray());
            for (Var v : params.all()) res.add(n == 0 ? new float[0] : v.densify(t).toArray());
            return res.toArray(new float[0][]);
        }
    }

    /** Forward leaves only its output in scratch (no per-expert intermediates); backward adds only gradients. */
    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void scratchHoldsOnlyTheOutputAndGradients(Backend be) {
        int n = 3000, in = 20, hid = 64, out = 48;
        try (Params params = new Params(); Tape t = new Tape(be, new Scratch())) {
            Projector proj = projector(params, 5, in, hid, out, 0.2f, 4);
            Var x = Var.leaf("x", randn(15, 1f, n, in));
            Scratch s = t.scratch();
            long before = s.used();
            Var y = proj.forward(t, x, ids(n, 0), 5);
            assertEquals(aligned((long) n * out * 4), s.used() - before, "forward keeps only its output");
            Tensor seed = s.uninitialized(n, out);
            seed.fill(1f);
            long mid = s.used();
            t.backward(y, seed);
            // the output's gradient and x's (a leaf without a buffer of its own); the parameters own theirs
            assertEquals(aligned((long) n * out * 4) + aligned((long) n * in * 4), s.used() - mid, "backward adds only gradients");
            // chunk buffers: a few (chunk x hidden), far below the composition's 50 (n x hidden); the scalar twin runs one chunk of all rows
            if (be.name().equals("panama")) assertTrue(s.highWater() - before < 4L * n * hid * 4, "chunk buffers: " + (s.highWater() - before) + " bytes");
        }
    }

    private static long aligned(long bytes) {
        return (bytes + 63) / 64 * 64;
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void noGradientWhenNothingNeedsOne(Backend be) {
        try (Params params = new Params(); Tape t = new Tape(be, new Scratch())) {
            Projector proj = projector(params, 2, 3, 4, 5, 0.2f, 6);
            Var x = Var.constant(randn(16, 1f, 4, 3));
            try (var ng = t.noGrad()) {
                Var y = proj.forward(t, x, ids(4, 0), 1);
                assertTrue(!y.requiresGrad());
                assertEquals(0, t.recorded());
            }
            for (Var v : params.all()) assertNull(v.grad());
            assertThrows(IllegalArgumentException.class, () -> proj.forward(t, x, ids(3, 0), 1), "one id per row");
        }
    }
}
