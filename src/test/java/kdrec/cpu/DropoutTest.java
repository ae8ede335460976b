package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.assertBitEqual;
import static kdrec.cpu.KernelTestSupport.randn;
import static kdrec.cpu.KernelTestSupport.sizes;
import static kdrec.cpu.VecTest.out;
import static kdrec.cpu.VecTest.seg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Dropout: bit-identical masks scalar/SIMD/threads, mask statistics, p = 0 identity, backward = mask. */
@Tag("simd")
class DropoutTest {
    private static final float[] PS = {0f, 0.1f, 0.5f, 0.9f, 0.999f};

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void simdMatchesScalarBitForBit() {
        try (Arena arena = Arena.ofConfined()) {
            for (Arena ar : new Arena[] {null, arena}) {
                for (int n : sizes()) {
                    for (float p : PS) {
                        long seed = 31L * n + (long) (p * 1000);
                        float[] x = randn(n, n), g0 = randn(n + 1, n);
                        MemorySegment ys = seg(ar, new float[n], 0), yv = seg(ar, new float[n], 3);
                        DropoutScalar.forward(n, seg(ar, x, 1), 1, ys, 0, p, seed);
                        DropoutSimd.forward(n, seg(ar, x, 2), 2, yv, 3, p, seed);
                        float[] y = Arrays.copyOfRange(out(yv), 3, n + 3);
                        String what = "n=" + n + " p=" + p + (ar == null ? " heap" : " native");
                        assertBitEqual("forward " + what, Arrays.copyOfRange(out(ys), 0, n + 5), Arrays.copyOfRange(out(yv), 3, n + 8));
                        float scale = 1f / (1f - p);
                        for (int i = 0; i < n; i++) {
                            float want = DropoutScalar.kept(seed, i, p) ? x[i] * scale : 0f;
                            if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(y[i])) {
                                throw new AssertionError(what + ": element " + i + " is " + y[i] + ", mask says " + want);
                            }
                        }
                        MemorySegment gs = seg(ar, g0, 0), gv = seg(ar, g0, 4);
                        DropoutScalar.backward(n, seg(ar, x, 0), 0, gs, 0, p, seed);
                        DropoutSimd.backward(n, seg(ar, x, 5), 5, gv, 4, p, seed);
                        assertBitEqual("backward " + what, Arrays.copyOfRange(out(gs), 0, n + 5), Arrays.copyOfRange(out(gv), 4, n + 9));
                        // in place
                        MemorySegment ip = seg(ar, x, 1);
                        DropoutSimd.forward(n, ip, 1, ip, 1, p, seed);
                        assertBitEqual("in-place " + what, y, Arrays.copyOfRange(out(ip), 1, n + 1));
                    }
                }
            }
        }
    }

    @Test
    void backwardAppliesTheForwardMask() {
        int n = 4099;
        float[] gy = randn(1, n), fwd = new float[n], gx = new float[n];
        Arrays.fill(gx, 0f);
        DropoutSimd.forward(n, Mem.of(gy), 0, Mem.of(fwd), 0, 0.3f, 42);
        DropoutSimd.backward(n, Mem.of(gy), 0, Mem.of(gx), 0, 0.3f, 42);
        for (int i = 0; i < n; i++) if (fwd[i] == 0f) fwd[i] = 0f; // -0*0 vs 0+0 sign: compare values
        assertBitEqual("backward(gy) on zero gx = forward(gy)", fwd, gx);
    }

    @Test
    void pZeroIsIdentity() {
        float[] x = randn(7, 1000);
        x[3] = Float.NaN;
        x[4] = -0f;
        x[5] = Float.NEGATIVE_INFINITY;
        for (boolean simd : new boolean[] {false, true}) {
            float[] y = new float[1000], g = randn(8, 1000), want = g.clone();
            for (int i = 0; i < 1000; i++) want[i] += x[i];
            if (simd) {
                DropoutSimd.forward(1000, Mem.of(x), 0, Mem.of(y), 0, 0f, 9);
                DropoutSimd.backward(1000, Mem.of(x), 0, Mem.of(g), 0, 0f, 9);
            } else {
                DropoutScalar.forward(1000, Mem.of(x), 0, Mem.of(y), 0, 0f, 9);
                DropoutScalar.backward(1000, Mem.of(x), 0, Mem.of(g), 0, 0f, 9);
            }
            assertBitEqual("p=0 forward", x, y);
            assertBitEqual("p=0 backward", want, g);
        }
        assertTrue(DropoutScalar.kept(123, 456, 0f));
    }

    @Test
    void keepRateAndIndependenceWithinStatisticalBounds() {
        int n = Simd.emulated() ? 1 << 18 : 1 << 20;
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        for (float p : new float[] {0.05f, 0.2f, 0.5f, 0.8f}) {
            float[] y = new float[n], y2 = new float[n];
            DropoutSimd.forward(n, Mem.of(ones), 0, Mem.of(y), 0, p, 2024);
            DropoutSimd.forward(n, Mem.of(ones), 0, Mem.of(y2), 0, p, 2025);
            long kept = 0, sameSeedNeighbours = 0, acrossSeeds = 0;
            for (int i = 0; i < n; i++) {
                boolean k = y[i] != 0f;
                if (k) kept++;
                if (i > 0 && k == (y[i - 1] != 0f)) sameSeedNeighbours++;
                if (k == (y2[i] != 0f)) acrossSeeds++;
            }
            double q = 1 - p, sd = Math.sqrt(p * q / n);
            assertEquals(q, (double) kept / n, 6 * sd, "keep rate p=" + p);
            // agreement of two independent Bernoulli(q) bits: q^2 + p^2
            double agree = q * q + (double) p * p, sdA = Math.sqrt(agree * (1 - agree) / n);
            assertEquals(agree, (double) sameSeedNeighbours / (n - 1), 6 * sdA, "neighbour agreement p=" + p);
            assertEquals(agree, (double) acrossSeeds / n, 6 * sdA, "agreement across seeds p=" + p);
        }
    }

    @Test
    void masksIdenticalForAnyThreadCount() {
        int n = (int) VecSimd.PAR_ELEMENTWISE * 3 + 17;
        float[] x = randn(11, n), ref = null, refB = null;
        for (int t : new int[] {1, 2, 3, 5}) {
            Parallel.setThreads(t);
            float[] y = new float[n], g = x.clone();
            DropoutSimd.forward(n, Mem.of(x), 0, Mem.of(y), 0, 0.25f, -77);
            DropoutSimd.backward(n, Mem.of(x), 0, Mem.of(g), 0, 0.25f, -77);
            if (ref == null) {
                ref = y;
                refB = g;
                float[] ys = new float[n];
                DropoutScalar.forward(n, Mem.of(x), 0, Mem.of(ys), 0, 0.25f, -77);
                assertBitEqual("threaded SIMD vs scalar", ys, y);
            } else {
                assertBitEqual("forward threads=" + t, ref, y);
                assertBitEqual("backward threads=" + t, refB, g);
            }
        }
    }

    @Test
    void indicesPast2To32UseTheHighWord() {
        long base = (1L << 32) - 2L * Simd.LANES - 3;
        List<long[]> pieces = new ArrayList<>();
        ElemChunks.serial(base, base + 4L * Simd.LANES + 9, (s, len) -> pieces.add(new long[] {s, len}));
        for (long[] pc : pieces) assertEquals(pc[0] >>> 32, (pc[0] + pc[1] - 1) >>> 32, "piece straddles 2^32");
        assertTrue(pieces.size() >= 2);
        long seed = 5;
        float p = 0.5f;
        int k0 = DropoutScalar.key0(seed), k1 = DropoutScalar.key1(seed), thr = DropoutScalar.threshold(p);
        for (long[] pc : pieces) {
            int len = (int) pc[1];
            float[] ones = new float[len], y = new float[len];
            Arrays.fill(ones, 1f);
            DropoutSimd.forwardK(len, pc[0], Mem.of(ones), 0, Mem.of(y), 0, k0, DropoutScalar.hiKey(k1, pc[0]), k1, thr, 2f);
            for (int i = 0; i < len; i++) {
                assertEquals(DropoutScalar.kept(seed, pc[0] + i, p) ? 2f : 0f, y[i], "element " + (pc[0] + i));
            }
        }
        // the high word matters: element i and i + 2^32 get unrelated bits
        int differ = 0;
        for (long i = 0; i < 4096; i++) if (DropoutScalar.kept(seed, i, p) != DropoutScalar.kept(seed, i + (1L << 32), p)) differ++;
        assertEquals(2048, differ, 6 * Math.sqrt(1024.0));
    }

    @Test
    void thresholdMatchesFloatComparison() {
        for (float p : new float[] {0f, 1e-9f, 0.1f, 0.5f, 0.3333333f, 0.99999994f}) {
            int thr = DropoutScalar.threshold(p);
            for (int u : new int[] {thr - 1, thr, thr + 1}) {
                if (u < 0 || u >= 1 << 24) continue;
                assertEquals(u * 0x1p-24f >= p, u >= thr, "p=" + p + " u=" + u);
            }
        }
    }

    @Test
    void badArgumentsAreRejected() {
        MemorySegment s = Mem.of(new float[8]);
        assertThrows(IllegalArgumentException.class, () -> DropoutSimd.forward(8, s, 0, s, 0, 1f, 1));
        assertThrows(IllegalArgumentException.class, () -> DropoutSimd.forward(8, s, 0, s, 0, -0.1f, 1));
        assertThrows(IllegalArgumentException.class, () -> DropoutScalar.backward(8, s, 0, s, 0, Float.NaN, 1));
        assertThrows(IllegalArgumentException.class, () -> DropoutSimd.backward(9, s, 0, s, 0, 0.5f, 1));
        assertThrows(IllegalArgumentException.class, () -> DropoutSimd.kept(1, 2, 1.5f));
        assertFalse(DropoutSimd.kept(1, 2, 0.9999999f) && DropoutSimd.kept(1, 3, 0.9999999f) && DropoutSimd.kept(1, 4, 0.9999999f));
    }
}
