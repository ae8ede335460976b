package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * GemmSimd (NN, NT, TN) against its scalar twin GemmScalar over size sweeps, alpha/beta, offsets and
 * leading dims, heap and native segments; thread-count independence; hand-computed cases; argument errors.
 */
@Tag("simd")
class GemmTest {
    interface Gemm {
        void run(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                 float beta, MemorySegment c, long cOff, int ldc);
    }

    /** A layout: both implementations plus the stored shapes of A and B. */
    enum Layout {
        NN(GemmScalar::nn, GemmSimd::nn, false, false),
        NT(GemmScalar::nt, GemmSimd::nt, false, true),
        TN(GemmScalar::tn, GemmSimd::tn, true, false);

        final Gemm scalar, simd;
        final boolean ta, tb;

        Layout(Gemm scalar, Gemm simd, boolean ta, boolean tb) {
            this.scalar = scalar; this.simd = simd; this.ta = ta; this.tb = tb;
        }

        int aRows(int m, int k) { return ta ? k : m; }
        int aCols(int m, int k) { return ta ? m : k; }
        int bRows(int n, int k) { return tb ? n : k; }
        int bCols(int n, int k) { return tb ? k : n; }
    }

    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(savedThreads);
    }

    /** One randomised problem: operands with offsets and padded leading dims, C pre-filled. */
    record Problem(Layout lay, int m, int n, int k, float alpha, float beta, float[] a, long aOff, int lda,
                   float[] b, long bOff, int ldb, float[] c, long cOff, int ldc) {

        static Problem make(Layout lay, int m, int n, int k, float alpha, float beta, long seed, boolean padded) {
            SplittableRandom r = new SplittableRandom(seed);
            int pad = padded ? 1 + r.nextInt(5) : 0;
            int lda = lay.aCols(m, k) + pad, ldb = lay.bCols(n, k) + (padded ? r.nextInt(4) : 0), ldc = n + pad;
            int aOff = padded ? 1 + r.nextInt(7) : 0, bOff = padded ? r.nextInt(9) : 0, cOff = padded ? 3 : 0;
            float[] a = randn(seed * 31 + 1, aOff + lay.aRows(m, k) * lda + 2);
            float[] b = randn(seed * 31 + 2, bOff + lay.bRows(n, k) * ldb + 2);
            // beta == 0: fill C (window and padding) with NaN, which must not leak into the result
            float[] c = beta == 0f ? nanArray(cOff + m * ldc + 2) : randn(seed * 31 + 3, cOff + m * ldc + 2);
            return new Problem(lay, m, n, k, alpha, beta, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        }

        float[] run(Gemm g, Arena arena) {
            MemorySegment sa = arena == null ? heap(a) : offHeap(arena, a);
            MemorySegment sb = arena == null ? heap(b) : offHeap(arena, b);
            MemorySegment sc = arena == null ? heap(c) : offHeap(arena, c);
            g.run(m, n, k, alpha, sa, aOff, lda, sb, bOff, ldb, beta, sc, cOff, ldc);
            return toArray(sc);
        }

        String name() {
            return lay + " m=" + m + " n=" + n + " k=" + k + " alpha=" + alpha + " beta=" + beta + " lda=" + lda
                    + " ldb=" + ldb + " ldc=" + ldc + " offs=" + aOff + "/" + bOff + "/" + cOff;
        }

        /** SIMD vs scalar, whole C buffer (so padding and the region before cOff must stay untouched). */
        void check(Arena arena) {
            float[] want = run(lay.scalar, null);
            float[] got = run(lay.simd, arena);
            double tol = 4e-6 * (k + 1) * Math.max(1f, Math.abs(alpha)) + 1e-6;
            assertClose(name() + (arena == null ? " heap" : " native"), want, got, tol, 1e-5);
            if (beta == 0f && k > 0) {
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                        assertFalse(Float.isNaN(got[(int) cOff + i * ldc + j]), name() + ": NaN from C leaked at " + i + "," + j);
            }
        }
    }

    static float[] nanArray(int len) {
        float[] x = new float[len];
        java.util.Arrays.fill(x, Float.NaN);
        return x;
    }

    static final float[][] ALPHA_BETA = {{1f, 0f}, {1f, 1f}, {-0.75f, 0.5f}, {2f, 0f}, {0.5f, 1f}, {1f, 0.5f}};

    private static int[] mSizes() {
        int l = Simd.LANES;
        return java.util.stream.IntStream.of(0, 1, 2, 3, 4, 5, 7, l + 1, 13, 31, 97).distinct().sorted().toArray();
    }

    private static int[] nSizes() {
        int l = Simd.LANES;
        return java.util.stream.IntStream.of(0, 1, l - 1, l, l + 1, 2 * l, 2 * l + 1, 3 * l, 3 * l + 1, 13, 31, 97)
                .filter(x -> x >= 0).distinct().sorted().toArray();
    }

    private static int[] kSizes() {
        int l = Simd.LANES;
        return java.util.stream.IntStream.of(0, 1, l - 1, l + 1, 13, 97, 1021).filter(x -> x >= 0).distinct().sorted().toArray();
    }

    private static void sweep(Layout lay) {
        int combo = 0;
        try (Arena arena = Arena.ofShared()) {
            for (int m : mSizes())
                for (int n : nSizes())
                    for (int k : kSizes()) {
                        float[] ab = ALPHA_BETA[combo % ALPHA_BETA.length];
                        Problem p = Problem.make(lay, m, n, k, ab[0], ab[1], 1000 + combo, combo % 3 != 0);
                        p.check(combo % 2 == 0 ? null : arena);
                        combo++;
                    }
        }
    }

    @Test void nnSweep() { sweep(Layout.NN); }
    @Test void ntSweep() { sweep(Layout.NT); }
    @Test void tnSweep() { sweep(Layout.TN); }

    /** Larger shapes: several k blocks (k > GemmSimd.KC), several column blocks, the n = 20/64/300 widths. */
    @Test
    void largerShapes() {
        int big = Simd.emulated() ? 400 : 1021;
        int[][] shapes = {{37, 2053, 64}, {70, 64, 2 * GemmSimd.KC + 5}, {5, 300, 900}, {big, 20, 300}, {64, 64, 4000},
                {131, big, 20}, {2, 1, 3001}};
        try (Arena arena = Arena.ofShared()) {
            int s = 0;
            for (Layout lay : Layout.values())
                for (int[] sh : shapes)
                    for (float[] ab : new float[][]{{1f, 0f}, {0.5f, 1f}, {1f, 0.5f}}) {
                        Problem.make(lay, sh[0], sh[1], sh[2], ab[0], ab[1], 77 + s, s % 2 == 0).check(s % 2 == 0 ? arena : null);
                        s++;
                    }
        }
    }

    /** Results must not depend on the thread count (row splits for m > n, column splits for n >= m). */
    @Test
    void threadCountIndependent() {
        int[][] shapes = {{200, 72, 64}, {61, 500, 64}, {97, 64, 1021}, {301, 20, 257}, {90, 300, 300}};
        int s = 0;
        for (Layout lay : Layout.values())
            for (int[] sh : shapes) {
                Problem p = Problem.make(lay, sh[0], sh[1], sh[2], 0.75f, s % 2 == 0 ? 0f : 0.5f, 555 + s++, true);
                Parallel.setThreads(1);
                float[] one = p.run(lay.simd, null);
                for (int t : new int[]{2, 3}) {
                    Parallel.setThreads(t);
                    assertBitEqual(p.name() + " threads=" + t + " vs 1", one, p.run(lay.simd, null));
                }
                Parallel.setThreads(2);
                try (Arena arena = Arena.ofShared()) {
                    assertBitEqual(p.name() + " native vs heap", one, p.run(lay.simd, arena));
                }
            }
    }

    /**
     * The numerics contract, bit for bit: each output is acc = fma(a, b, acc) over kk in increasing order
     * from +0 (one k block: k <= KC), then alpha * acc, or fma(acc, alpha, beta * c). Shapes cover every
     * panel kind (one vector with whole and partial row panels, two and three vectors, a partial last
     * panel) so no kernel can reorder a chain unnoticed; the scalar twin is only compared within a tolerance.
     */
    @Test
    void everyOutputIsOneFmaChainOverK() {
        int l = Simd.LANES;
        int[] ms = {1, 5, 12, 13, 25, 100}, ns = {1, l - 1, l, 20, 2 * l + 3, 100, 7 * l}, ks = {1, 16, 100, GemmSimd.KC};
        int s = 0;
        for (Layout lay : Layout.values())
            for (int m : ms)
                for (int n : ns)
                    for (int k : ks) {
                        float[] ab = ALPHA_BETA[s % ALPHA_BETA.length];
                        Problem p = Problem.make(lay, m, n, k, ab[0], ab[1], 9000 + s, s % 2 == 0);
                        s++;
                        float[] got = p.run(lay.simd, null), want = p.c.clone();
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < n; j++) {
                                float acc = 0f;
                                for (int kk = 0; kk < k; kk++) {
                                    float x = p.a[(int) p.aOff + (lay.ta ? kk * p.lda + i : i * p.lda + kk)];
                                    float y = p.b[(int) p.bOff + (lay.tb ? j * p.ldb + kk : kk * p.ldb + j)];
                                    acc = Math.fma(x, y, acc);
                                }
                                int o = (int) p.cOff + i * p.ldc + j;
                                want[o] = p.beta == 0f ? acc * p.alpha : Math.fma(acc, p.alpha, p.beta * p.c[o]);
                            }
                        assertBitEqual(p.name(), want, got);
                    }
    }

    private static float[] call(Gemm g, int m, int n, int k, float alpha, float[] a, int lda, float[] b, int ldb,
                                float beta, float[] c, int ldc) {
        MemorySegment sc = heap(c);
        g.run(m, n, k, alpha, heap(a), 0, lda, heap(b), 0, ldb, beta, sc, 0, ldc);
        return toArray(sc);
    }

    @Test
    void handComputed() {
        float[] a = {1, 2, 3, 4}, b = {5, 6, 7, 8}, c = {1, 1, 1, 1};
        for (Layout lay : Layout.values()) {
            for (Gemm g : new Gemm[]{lay.scalar, lay.simd}) {
                // A.B = [[19,22],[43,50]], A.B^T = [[17,23],[39,53]], A^T.B = [[26,30],[38,44]]
                float[] plain = switch (lay) {
                    case NN -> new float[]{19, 22, 43, 50};
                    case NT -> new float[]{17, 23, 39, 53};
                    case TN -> new float[]{26, 30, 38, 44};
                };
                assertArrayEquals(plain, call(g, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2), lay + " alpha 1 beta 0");
                float[] scaled = new float[4];
                for (int i = 0; i < 4; i++) scaled[i] = 2 * plain[i] + 0.5f;
                assertArrayEquals(scaled, call(g, 2, 2, 2, 2f, a, 2, b, 2, 0.5f, c, 2), lay + " alpha 2 beta 0.5");
            }
        }
        // non-square: [1 2 3] . [[1],[10],[100]] = 321 ; outer product [2;3] . [4 5] for k = 1
        float[] row = {1, 2, 3}, col = {1, 10, 100};
        assertArrayEquals(new float[]{321}, call(GemmSimd::nn, 1, 1, 3, 1f, row, 3, col, 1, 0f, new float[1], 1));
        assertArrayEquals(new float[]{321}, call(GemmSimd::nt, 1, 1, 3, 1f, row, 3, col, 3, 0f, new float[1], 1));
        assertArrayEquals(new float[]{321}, call(GemmSimd::tn, 1, 1, 3, 1f, row, 1, col, 1, 0f, new float[1], 1));
        assertArrayEquals(new float[]{8, 10, 12, 15},
                call(GemmSimd::nn, 2, 2, 1, 1f, new float[]{2, 3}, 1, new float[]{4, 5}, 2, 0f, new float[4], 2));
    }

    @Test
    void kZeroScalesC() {
        for (Layout lay : Layout.values()) {
            for (Gemm g : new Gemm[]{lay.scalar, lay.simd}) {
                float[] c = {1, 2, 99, 3, 4, 99};
                assertArrayEquals(new float[]{0.5f, 1f, 99, 1.5f, 2f, 99},
                        call(g, 2, 2, 0, 3f, new float[1], lay.ta ? 2 : 1, new float[1], lay.tb ? 1 : 2, 0.5f, c, 3), lay + " beta .5");
                float[] nan = {Float.NaN, Float.NaN, 7, Float.NaN, Float.NaN, 7};
                assertArrayEquals(new float[]{0, 0, 7, 0, 0, 7},
                        call(g, 2, 2, 0, 3f, new float[1], lay.ta ? 2 : 1, new float[1], lay.tb ? 1 : 2, 0f, nan, 3), lay + " beta 0");
            }
        }
    }

    @Test
    void emptyOutputTouchesNothing() {
        for (Layout lay : Layout.values()) {
            float[] c = {Float.NaN, 5f};
            assertArrayEquals(new float[]{Float.NaN, 5f}, call(lay.simd, 0, 3, 4, 1f, new float[12], 4, new float[12], lay.tb ? 4 : 3, 0f, c, 3));
            assertArrayEquals(new float[]{Float.NaN, 5f}, call(lay.simd, 3, 0, 4, 1f, new float[12], lay.ta ? 3 : 4, new float[12], lay.tb ? 4 : 0, 0f, c, 0));
        }
    }

    /** TN over k rows equals TN calls over consecutive tnBlock(k)-row ranges accumulating with beta = 1, bit for bit (fused ops reduce over row chunks so). */
    @Test
    void tnSplitAtTnBlockReproducesOneCall() {
        assertEquals(0, GemmSimd.tnBlock(0));
        for (int k : new int[] {1, 7, 383, 384, 385, 1021, 5000, 41003}) {
            int split = GemmSimd.tnBlock(k);
            assertTrue(split >= 1 && split <= k, "k=" + k + ": split " + split);
            for (int[] mn : new int[][] {{5, 37}, {20, 3 * Simd.LANES + 1}}) {
                int m = mn[0], n = mn[1];
                float[] a = randn(k * 7L + m, k * m), b = randn(k * 11L + n, k * n), c0 = randn(3, m * n);
                float[] one = call(GemmSimd::tn, m, n, k, 1f, a, m, b, n, 1f, c0.clone(), n);
                MemorySegment sa = heap(a), sb = heap(b), sc = heap(c0.clone());
                for (int r = 0; r < k; r += split) GemmSimd.tn(m, n, Math.min(split, k - r), 1f, sa, (long) r * m, m, sb, (long) r * n, n, 1f, sc, 0, n);
                assertArrayEquals(one, toArray(sc), "k=" + k + " m=" + m + " n=" + n + " in splits of " + split);
            }
        }
    }

    @Test
    void badArgumentsRejected() {
        float[] x = new float[64];
        for (Layout lay : Layout.values()) {
            for (Gemm g : new Gemm[]{lay.scalar, lay.simd}) {
                int lda = lay.ta ? 4 : 4, ldb = 4; // m = n = k = 4 fits 16 floats each
                assertThrows(IllegalArgumentException.class, () -> call(g, -1, 4, 4, 1f, x, lda, x, ldb, 0f, x, 4), lay + " m<0");
                assertThrows(IllegalArgumentException.class, () -> call(g, 4, -2, 4, 1f, x, lda, x, ldb, 0f, x, 4), lay + " n<0");
                assertThrows(IllegalArgumentException.class, () -> call(g, 4, 4, -3, 1f, x, lda, x, ldb, 0f, x, 4), lay + " k<0");
                assertThrows(IllegalArgumentException.class, () -> call(g, 4, 4, 4, 1f, x, 3, x, ldb, 0f, x, 4), lay + " lda");
                assertThrows(IllegalArgumentException.class, () -> call(g, 4, 4, 4, 1f, x, lda, x, 3, 0f, x, 4), lay + " ldb");
                assertThrows(IllegalArgumentException.class, () -> call(g, 4, 4, 4, 1f, x, lda, x, ldb, 0f, x, 3), lay + " ldc");
                assertThrows(IllegalArgumentException.class,
                        () -> call(g, 4, 4, 4, 1f, new float[15], lda, x, ldb, 0f, x, 4), lay + " A too small");
                assertThrows(IllegalArgumentException.class,
                        () -> call(g, 4, 4, 4, 1f, x, lda, new float[15], ldb, 0f, x, 4), lay + " B too small");
                assertThrows(IllegalArgumentException.class,
                        () -> call(g, 4, 4, 4, 1f, x, lda, x, ldb, 0f, new float[15], 4), lay + " C too small");
                MemorySegment s = MemorySegment.ofArray(new float[16]);
                assertThrows(IllegalArgumentException.class,
                        () -> g.run(4, 4, 4, 1f, s, 1, 4, s, 0, 4, 0f, MemorySegment.ofArray(new float[64]), 0, 4), lay + " A offset");
                assertThrows(IllegalArgumentException.class,
                        () -> g.run(4, 4, 4, 1f, s, -1, 4, s, 0, 4, 0f, MemorySegment.ofArray(new float[64]), 0, 4), lay + " negative offset");
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> call(g, 4, 4, 4, 1f, x, lda, x, ldb, 0f, x, 3));
                assertTrue(e.getMessage().contains("Gemm") && e.getMessage().contains("m=4"), e.getMessage());
            }
        }
    }
}
