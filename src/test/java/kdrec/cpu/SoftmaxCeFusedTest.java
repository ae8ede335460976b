package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * SoftmaxCeFused (scores, top-K and softmax CE per row block) against the three SIMD kernels it
 * replaces, GemmSimd.nt + TopKSimd.selectTopK + SoftmaxCeSimd.rowsInPlace: logits/gradients, losses,
 * top-K ids and scores must be bit-identical, for any thread count, heap and native segments, with
 * offsets and padded leading dims; and against the scalar twins (GemmScalar + TopKScalar +
 * SoftmaxCeScalar) within rounding.
 */
@Tag("simd")
class SoftmaxCeFusedTest {
    private record Out(float[] logits, float[] loss, int[] ids, float[] scores) {}

    private static Out run(boolean fused, int m, int n, int d, float scale, int k, float[] u, float[] it, int[] target,
                           int ldl, Arena arena) {
        MemorySegment su = arena == null ? heap(u) : offHeap(arena, u);
        MemorySegment si = arena == null ? heap(it) : offHeap(arena, it);
        float[] lg = new float[3 + m * ldl + 2];
        Arrays.fill(lg, Float.NaN); // padding must stay untouched
        MemorySegment sl = arena == null ? heap(lg) : offHeap(arena, lg);
        float[] loss = new float[m];
        int[] ids = new int[m * k];
        float[] sc = new float[m * k];
        int ldu = d + 1, ldi = d + 2;
        if (fused) {
            SoftmaxCeFused.forward(m, n, d, su, 1, ldu, si, 2, ldi, scale, target, k, ids, sc, sl, 3, ldl, loss);
        } else {
            GemmSimd.nt(m, n, d, scale, su, 1, ldu, si, 2, ldi, 0f, sl, 3, ldl);
            if (k > 0) TopKSimd.selectTopK(m, n, sl, 3, ldl, k, null, null, ids, sc);
            SoftmaxCeSimd.rowsInPlace(m, n, sl, 3, ldl, target, null, loss);
        }
        return new Out(toArray(sl), loss, ids, sc);
    }

    private static void check(String what, int m, int n, int d, float scale, int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] u = randn(seed, 1 + m * (d + 1) + 1), it = randn(seed + 7, 2 + n * (d + 2) + 1);
        int[] target = new int[m];
        for (int i = 0; i < m; i++) target[i] = n == 0 ? 0 : r.nextInt(n);
        int ldl = n + 5;
        Out ref = run(false, m, n, d, scale, k, u, it, target, ldl, null);
        for (Arena arena : new Arena[] {null, Arena.ofShared()}) {
            String w = what + (arena == null ? " heap" : " native");
            Out got = run(true, m, n, d, scale, k, u, it, target, ldl, arena);
            assertBitEqual(w + ": logits/gradient", ref.logits, got.logits);
            assertBitEqual(w + ": loss", ref.loss, got.loss);
            assertArrayEquals(ref.ids, got.ids, w + ": top-k ids");
            assertBitEqual(w + ": top-k scores", ref.scores, got.scores);
            if (arena != null) arena.close();
        }
    }

    @Test
    void matchesTheThreeKernelsBitForBit() {
        int p = 1021;
        int[][] shapes = {{0, 5, 3, 2}, {1, 1, 1, 1}, {7, Simd.LANES + 1, 5, 3}, {50, 4000, 64, 50}, {49, p, 20, 0}, {13, 997, 64, 100},
                {97, 2 * ScoreTile.NR + 1, 31, 7}, {6, 10007, 16, 200}, {5, 300, 400, 20}};
        for (int[] s : shapes) {
            for (float scale : new float[] {1f, 0.37f}) {
                check("m=" + s[0] + " n=" + s[1] + " d=" + s[2] + " k=" + s[3] + " scale=" + scale, s[0], s[1], s[2], scale, s[3],
                        31L * s[0] + s[1] + s[2]);
            }
        }
    }

    @Test
    void threadCountDoesNotChangeResults() {
        int saved = Parallel.threads();
        try {
            int m = 3 * SoftmaxCeFused.MB + 5, n = 2003, d = 24, k = 40;
            Out[] outs = new Out[3];
            float[] u = randn(3, 1 + m * (d + 1) + 1), it = randn(4, 2 + n * (d + 2) + 1);
            int[] target = new int[m];
            for (int i = 0; i < m; i++) target[i] = (i * 37) % n;
            for (int t = 1; t <= 3; t++) {
                Parallel.setThreads(t);
                outs[t - 1] = run(true, m, n, d, 0.5f, k, u, it, target, n, null);
            }
            for (int t = 1; t < 3; t++) {
                assertBitEqual("threads " + (t + 1) + " logits", outs[0].logits, outs[t].logits);
                assertBitEqual("threads " + (t + 1) + " loss", outs[0].loss, outs[t].loss);
                assertArrayEquals(outs[0].ids, outs[t].ids, "threads " + (t + 1) + " ids");
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void closeToTheScalarTwins() {
        int m = 9, n = 777, d = 12, k = 25, ldl = n;
        float[] u = randn(11, 1 + m * (d + 1) + 1), it = randn(12, 2 + n * (d + 2) + 1);
        int[] target = new int[m];
        for (int i = 0; i < m; i++) target[i] = i * 50;
        Out got = run(true, m, n, d, 0.8f, k, u, it, target, ldl, null);
        float[] lg = new float[3 + m * ldl + 2];
        MemorySegment sl = heap(lg);
        float[] loss = new float[m];
        int[] ids = new int[m * k];
        float[] sc = new float[m * k];
        GemmScalar.nt(m, n, d, 0.8f, heap(u), 1, d + 1, heap(it), 2, d + 2, 0f, sl, 3, ldl);
        TopKScalar.selectTopK(m, n, sl, 3, ldl, k, null, null, ids, sc);
        SoftmaxCeScalar.rowsInPlace(m, n, sl, 3, ldl, target, null, loss);
        assertClose("loss", loss, got.loss, 1e-4, 1e-4);
        assertClose("scores", sc, got.scores, 1e-4, 1e-4);
        assertClose("gradient", Arrays.copyOfRange(toArray(sl), 3, 3 + m * ldl), Arrays.copyOfRange(got.logits, 3, 3 + m * ldl), 1e-5, 1e-4);
    }

    @Test
    void badArgumentsAreRejected() {
        MemorySegment u = heap(new float[8]), it = heap(new float[12]), lg = heap(new float[6]);
        float[] loss = new float[2];
        assertThrows(IllegalArgumentException.class,
                () -> SoftmaxCeFused.forward(2, 3, 4, u, 0, 4, it, 0, 4, 1f, new int[] {0, 3}, 0, null, null, lg, 0, 3, loss));
        assertThrows(IllegalArgumentException.class,
                () -> SoftmaxCeFused.forward(2, 3, 4, u, 0, 4, it, 0, 4, 1f, new int[] {0, 1}, 2, new int[1], new float[1], lg, 0, 3, loss));
        assertThrows(IllegalArgumentException.class,
                () -> SoftmaxCeFused.forward(2, 3, 4, u, 0, 4, it, 0, 4, 1f, new int[] {0, 1}, 0, null, null, lg, 0, 2, loss));
    }
}
