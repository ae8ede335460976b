package kdrec.autograd;

import static kdrec.autograd.GradCheck.randn;
import static kdrec.cpu.KernelTestSupport.assertBitEqual;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import kdrec.cpu.Parallel;
import kdrec.tensor.Backend;
import kdrec.tensor.CpuBackend;
import kdrec.tensor.Scratch;
import kdrec.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The fused HSTU attention against the composition of Attention's ops it replaces (each checked by
 * finite differences in SequenceOpsGradientTest): output and every gradient bit for bit, on both CPU
 * backends, with and without the bias table, for 1, 2 and 3 threads, at lengths that leave vector
 * tails and row panels partial (and, tagged simd, at every forced vector width).
 */
@Tag("simd")
class HstuAttentionTest {
    private static final float ALPHA = 1f / 37;

    /** b, n, h, dh, dv. */
    private static final int[][] SHAPES = {{3, 13, 2, 5, 3}, {2, 40, 4, 16, 16}, {1, 1, 1, 4, 4}, {2, 33, 1, 20, 7}};

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void fusedEqualsComposedBitForBit(Backend be) {
        int before = Parallel.threads();
        try {
            int seed = 0;
            for (int[] s : SHAPES) {
                int b = s[0], n = s[1], h = s[2], dh = s[3], dv = s[4];
                Tensor q = randn(++seed, 1f, b * n, h * dh), k = randn(++seed, 1f, b * n, h * dh), v = randn(++seed, 1f, b * n, h * dv);
                Tensor w = randn(++seed, 0.5f, 2 * n + 3), g = randn(++seed, 1f, b * n, h * dv); // a table for longer sequences than n
                for (boolean bias : new boolean[] {true, false}) {
                    String what = be.name() + " b=" + b + " n=" + n + " h=" + h + " dh=" + dh + " dv=" + dv + " bias=" + bias;
                    Parallel.setThreads(1);
                    float[][] want = run(be, q, k, v, w, g, (vars, t) -> composed(t, vars, bias, b, n, h));
                    for (int threads : new int[] {1, 2, 3}) {
                        Parallel.setThreads(threads);
                        float[][] got = run(be, q, k, v, w, g, (vars, t) -> HstuAttention.attend(t, vars[0], vars[1], vars[2], bias ? vars[3] : null, ALPHA, b, n, h));
                        String[] names = {"out", "dq", "dk", "dv", "dw"};
                        for (int x = 0; x < want.length; x++) assertBitEqual(what + " threads=" + threads + " " + names[x], want[x], got[x]);
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** Without a tape recording (evaluation), the forward alone: the same bits, nothing recorded. */
    @Test
    void noGradForwardMatches() {
        Backend be = new CpuBackend(true);
        int b = 2, n = 21, h = 2, d = 8;
        Tensor q = randn(71, 1f, b * n, h * d), k = randn(72, 1f, b * n, h * d), v = randn(73, 1f, b * n, h * d), w = randn(74, 1f, 2 * n - 1);
        try (Tape t = new Tape(be, new Scratch())) {
            Var[] vars = {Var.leaf("q", q), Var.leaf("k", k), Var.leaf("v", v), Var.leaf("w", w)};
            float[] want = composed(t, vars, true, b, n, h).value().toArray();
            t.reset();
            try (Tape.NoGrad ng = t.noGrad()) {
                Var out = HstuAttention.attend(t, vars[0], vars[1], vars[2], vars[3], ALPHA, b, n, h);
                assertTrue(!out.requiresGrad && t.recorded() == 0, "nothing recorded under noGrad");
                assertBitEqual("noGrad forward", want, out.value().toArray());
            }
        }
    }

    @Test
    void refusesMismatchedShapes() {
        try (Tape t = new Tape(new CpuBackend(true), new Scratch())) {
            Var q = Var.constant(Tensor.zeros(2 * 3, 2 * 4)), k = Var.constant(Tensor.zeros(2 * 3, 2 * 5)), v = Var.constant(Tensor.zeros(2 * 3, 2 * 4));
            var e = assertThrows(IllegalArgumentException.class, () -> HstuAttention.attend(t, q, k, v, null, 1f, 2, 3, 2));
            assertTrue(e.getMessage().contains("q and k widths differ"), e.getMessage());
            Var shortTable = Var.constant(Tensor.zeros(3));
            e = assertThrows(IllegalArgumentException.class, () -> HstuAttention.attend(t, q, q, v, shortTable, 1f, 2, 3, 2));
            assertTrue(e.getMessage().contains("a table of 3 entries"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> HstuAttention.attend(t, q, q, v, null, 1f, 3, 3, 2));
            assertTrue(e.getMessage().contains("hstu attention"), e.getMessage());
        }
    }

    /** What Hstu.encode ran before the fused op: the reference. */
    private static Var composed(Tape t, Var[] vars, boolean bias, int b, int n, int h) {
        Var a = Attention.qk(t, vars[0], vars[1], b, n, h);
        if (bias) a = Attention.relativeBias(t, a, vars[3]);
        a = Attention.causalMask(t, Arith.scale(t, Activations.silu(t, a), ALPHA));
        return Attention.av(t, a, vars[2], b, n, h);
    }

    /** out, then the gradients of q, k, v and w (zeros where the op does not reach w) after backward(out, g). */
    private static float[][] run(Backend be, Tensor q, Tensor k, Tensor v, Tensor w, Tensor g, java.util.function.BiFunction<Var[], Tape, Var> op) {
        try (Tape t = new Tape(be, new Scratch())) {
            Var[] vars = {Var.leaf("q", q), Var.leaf("k", k), Var.leaf("v", v), Var.leaf("w", w)};
            Var out = op.apply(vars, t);
            t.backward(out, g);
            float[][] r = new float[5][];
            r[0] = out.value().toArray();
            for (int x = 0; x < 4; x++) {
                Tensor gr = vars[x].densify(t);
                r[x + 1] = gr == null ? new float[0] : gr.toArray(); // w without the bias: no gradient either way
            }
            return r;
        }
    }
}
