package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import kdrec.cpu.GemmScalar;
import kdrec.cpu.Mem;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link GpuGemm} (NN, NT, TN) against {@link GemmScalar}: a sweep of shapes (empty, 1, 31/32/33,
 * the prime 1021, k = 0/1/9/20/64/300, one large case), alpha/beta cases (beta = 0 with C full of NaN:
 * C must not be read), three operand placements (tight; 16-byte aligned with padded leading dims, the
 * float4 path; odd offsets and odd leading dims, the scalar path), skinny long-k shapes that take the
 * split-K path (workspace + fixed-order reduce), and every float outside C must be
 * left untouched. The outer class's test needs no GPU: argument checks happen before CUDA is touched.
 */
class GemmGpuTest {

    /** Fake buffers with a size but no device memory: enough for the argument checks. */
    private static DeviceBuffer fake(long floats) {
        return DeviceBuffer.detached(floats);
    }

    @Test
    void argumentChecksComeBeforeCuda() {
        DeviceBuffer a = fake(16), b = fake(16), c = fake(16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GpuGemm.nn(null, 4, 4, 4, 1f, a, 1, 4, b, 0, 4, 0f, c, 0, 4));
        assertTrue(e.getMessage().contains("GpuGemm.nn") && e.getMessage().contains("needs 17 floats"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GpuGemm.nt(null, 4, 4, 4, 1f, a, 0, 3, b, 0, 4, 0f, c, 0, 4));
        assertTrue(e.getMessage().contains("lda=3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GpuGemm.tn(null, -1, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4));
        assertTrue(e.getMessage().contains("negative dims"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GpuGemm.nn(null, 2, 2, 2, 1f, null, 0, 2, b, 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
        // empty problems return before any CUDA call (cuda is null here)
        GpuGemm.nn(null, 0, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4);
        GpuGemm.tn(null, 4, 0, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4);
    }

    @Test
    void splitKOnlyForSkinnyLongK() {
        assertEquals(1, GpuGemm.splitK(4096, 4096, 4096), "plenty of tiles");
        assertEquals(1, GpuGemm.splitK(1024, 4000, 64), "short k");
        assertEquals(1, GpuGemm.splitK(0, 64, 5000), "empty");
        int s = GpuGemm.splitK(1024, 64, 4000);  // kdrec's dU = G . I
        assertTrue(s > 1 && s <= 64, "dU shape should split k, got " + s);
        assertEquals(s, GpuGemm.splitK(1024, 64, 4000, 132));
        // fewer SMs, fewer splits; more SMs, at most k / 128 (31 here)
        assertTrue(GpuGemm.splitK(1024, 64, 4000, 66) < s && GpuGemm.splitK(1024, 64, 4000, 264) >= s, "split-K follows the SM count");
        assertEquals(4000 / 128, GpuGemm.splitK(1024, 64, 4000, 264));
        for (int[] c : new int[][] {{100, 64, 1500}, {300, 64, 1021}, {64, 130, 777}, {40, 50, 300}}) {
            int sp = GpuGemm.splitK(c[0], c[1], c[2]), chunk = GpuGemm.chunk(c[2], sp);
            assertTrue(sp > 1 && chunk % 8 == 0 && (long) chunk * sp >= c[2], java.util.Arrays.toString(c) + " splits " + sp);
        }
    }

    enum Layout {
        NN(false, false), NT(false, true), TN(true, false);

        final boolean ta, tb;

        Layout(boolean ta, boolean tb) {
            this.ta = ta;
            this.tb = tb;
        }

        void cpu(int m, int n, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta,
                 float[] c, int cOff, int ldc) {
            MemorySegment sa = Mem.of(a), sb = Mem.of(b), sc = Mem.of(c);
            switch (this) {
                case NN -> GemmScalar.nn(m, n, k, alpha, sa, aOff, lda, sb, bOff, ldb, beta, sc, cOff, ldc);
                case NT -> GemmScalar.nt(m, n, k, alpha, sa, aOff, lda, sb, bOff, ldb, beta, sc, cOff, ldc);
                case TN -> GemmScalar.tn(m, n, k, alpha, sa, aOff, lda, sb, bOff, ldb, beta, sc, cOff, ldc);
            }
        }

        void gpu(Cuda cuda, int m, int n, int k, float alpha, DeviceBuffer a, int aOff, int lda, DeviceBuffer b, int bOff,
                 int ldb, float beta, DeviceBuffer c, int cOff, int ldc) {
            switch (this) {
                case NN -> GpuGemm.nn(cuda, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
                case NT -> GpuGemm.nt(cuda, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
                case TN -> GpuGemm.tn(cuda, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            }
        }
    }

    @Nested
    @Tag("gpu")
    @ExtendWith(RequiresGpu.class)
    class OnGpu {
        /** (m, n, k) shapes: empties, tiny, warp-edge, tile-edge, primes, k not a multiple of 8, deep k. */
        static final int[][] SHAPES = {
            {0, 5, 3}, {5, 0, 3}, {3, 4, 0}, {1, 1, 1}, {1, 33, 20}, {31, 32, 33}, {32, 31, 64}, {33, 33, 9},
            {127, 129, 8}, {128, 128, 16}, {129, 257, 20}, {1021, 37, 20}, {67, 1021, 64}, {40, 50, 300}, {300, 200, 1},
            // split-K (few output tiles, long k): GpuGemm.splitK > 1 for each of these
            {100, 64, 1500}, {300, 64, 1021}, {64, 130, 777},
        };

        @Test
        void allLayoutsMatchScalarOverShapesAndPlacements() {
            Cuda cuda = CudaProbe.cuda();
            long before = cuda.allocatedBytes();
            long seed = 1;
            for (Layout lay : Layout.values()) {
                for (int[] s : SHAPES) {
                    for (int placement = 0; placement < 3; placement++) {
                        check(cuda, lay, s[0], s[1], s[2], 1f, 0f, placement, seed++);
                        check(cuda, lay, s[0], s[1], s[2], 0.5f, -1.25f, placement, seed++);
                    }
                }
            }
            assertEquals(before, cuda.allocatedBytes(), "device memory leaked");
        }

        @Test
        void largeShapesMatchScalar() {
            Cuda cuda = CudaProbe.cuda();
            long before = cuda.allocatedBytes();
            check(cuda, Layout.NT, 1024, 1000, 64, 1f, 0f, 0, 101);    // kdrec's U . I^T shape, smaller n
            check(cuda, Layout.NN, 515, 777, 129, 1f, 1f, 1, 102);     // accumulate into C
            check(cuda, Layout.TN, 640, 513, 300, -2f, 0.5f, 2, 103);  // gradient-like A^T . B, odd placement
            check(cuda, Layout.NN, 1024, 64, 4000, 1f, 0f, 0, 104);    // kdrec's dU = G . I (split-K)
            check(cuda, Layout.TN, 4000, 64, 1024, 1f, 1f, 1, 105);    // kdrec's dI = G^T . U (split-K, accumulate)
            assertEquals(before, cuda.allocatedBytes(), "device memory leaked");
        }

        @Test
        void alphaZeroAndKZeroScaleC() {
            Cuda cuda = CudaProbe.cuda();
            for (Layout lay : Layout.values()) {
                check(cuda, lay, 45, 70, 0, 1f, 0.75f, 1, 201);  // k = 0: C = beta * C
                check(cuda, lay, 45, 70, 0, 1f, 0f, 2, 202);     // k = 0, beta = 0: C = 0 (NaN prefill must vanish)
                check(cuda, lay, 45, 70, 13, 0f, 2f, 0, 203);    // alpha = 0: C = beta * C
            }
        }
    }

    /**
     * One problem on both sides. placement 0: offsets 0, tight leading dims; 1: offsets and leading
     * dims multiples of 4 (float4 path); 2: odd offsets and leading dims (scalar path throughout).
     */
    static void check(Cuda cuda, Layout lay, int m, int n, int k, float alpha, float beta, int placement, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int aRows = lay.ta ? k : m, aCols = lay.ta ? m : k, bRows = lay.tb ? n : k, bCols = lay.tb ? k : n;
        int lda = ld(aCols, placement, r), ldb = ld(bCols, placement, r), ldc = ld(n, placement, r);
        int aOff = off(placement, r), bOff = off(placement, r), cOff = off(placement, r);
        float[] a = randn(r, aOff + aRows * lda + 3), b = randn(r, bOff + bRows * ldb + 3);
        float[] c0 = randn(r, cOff + m * ldc + 3);
        if (beta == 0f) java.util.Arrays.fill(c0, Float.NaN);  // must not be read
        float[] expected = c0.clone();
        lay.cpu(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, expected, cOff, ldc);
        float[] got;
        try (DeviceBuffer da = cuda.upload(a); DeviceBuffer db = cuda.upload(b); DeviceBuffer dc = cuda.upload(c0)) {
            lay.gpu(cuda, m, n, k, alpha, da, aOff, lda, db, bOff, ldb, beta, dc, cOff, ldc);
            got = cuda.downloadFloats(dc, c0.length);
        }
        String what = String.format("GpuGemm.%s m=%d n=%d k=%d alpha=%s beta=%s placement=%d (aOff=%d lda=%d bOff=%d ldb=%d "
                + "cOff=%d ldc=%d)", lay.name().toLowerCase(), m, n, k, alpha, beta, placement, aOff, lda, bOff, ldb, cOff, ldc);
        float[] e = new float[m * n], g = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                e[i * n + j] = expected[cOff + i * ldc + j];
                g[i * n + j] = got[cOff + i * ldc + j];
            }
        }
        GpuAssert.assertClose(e, g, what);
        for (int x = 0; x < c0.length; x++) {  // outside C (offset, row padding, tail) nothing may change
            boolean inside = ldc > 0 && x >= cOff && (x - cOff) / ldc < m && (x - cOff) % ldc < n;
            if (!inside && Float.floatToRawIntBits(got[x]) != Float.floatToRawIntBits(c0[x])) {
                fail(what + ": wrote outside C at float " + x + " (was " + c0[x] + ", now " + got[x] + ")");
            }
        }
    }

    private static int ld(int cols, int placement, SplittableRandom r) {
        return switch (placement) {
            case 0 -> cols;
            case 1 -> ((cols + 3) & ~3) + 4 * r.nextInt(3);
            default -> cols + 1 + 2 * r.nextInt(3);  // with the odd offsets below, never 16-byte aligned
        };
    }

    private static int off(int placement, SplittableRandom r) {
        return switch (placement) {
            case 0 -> 0;
            case 1 -> 4 * (1 + r.nextInt(4));
            default -> 1 + 2 * r.nextInt(4);
        };
    }

    static float[] randn(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double u1 = r.nextDouble(), u2 = r.nextDouble();
            x[i] = (float) (Math.sqrt(-2 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2));
        }
        return x;
    }
}
