package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.assertBitEqual;
import static kdrec.cpu.KernelTestSupport.randn;
import static kdrec.cpu.KernelTestSupport.sizes;
import static kdrec.cpu.VecTest.out;
import static kdrec.cpu.VecTest.seg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** ActivationSimd against the ActivationScalar oracle, hand values, and backward vs finite differences. */
@Tag("simd")
class ActivationTest {
    /** SIMD vs double-evaluated oracle: ~8 ulps relative (4 ulps, 4.8e-7, passed on AVX2 at 128/256/512 bits), plus slack for results that underflow. */
    private static final double RTOL = 1e-6, ATOL = 1e-37;

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    private interface Fwd {
        void run(long n, MemorySegment x, long xo, MemorySegment y, long yo);
    }

    private interface Bwd {
        void run(long n, MemorySegment x, long xo, MemorySegment gy, long go, MemorySegment gx, long gxo);
    }

    /** Gaussian inputs scaled by 6 with extreme values sprinkled in (overflow paths of exp). */
    static float[] inputs(long seed, int n) {
        float[] x = randn(seed, n);
        float[] special = {0f, -0f, 100f, -100f, 30f, -30f, 88.5f, -88.5f, 1e-30f, -1e-30f, 1e30f, -1e30f, 17f, -17f};
        for (int i = 0; i < n; i++) x[i] = i % 5 == 4 ? special[(i / 5) % special.length] : 6 * x[i];
        return x;
    }

    private static void assertNear(String what, float[] e, float[] a, float[] slack) {
        for (int i = 0; i < e.length; i++) {
            double tol = ATOL + RTOL * (Math.abs(e[i]) + (slack == null ? 0 : Math.abs(slack[i])));
            if (Float.isNaN(e[i]) != Float.isNaN(a[i]) || Math.abs(e[i] - a[i]) > tol) {
                fail(what + ": element " + i + " is " + a[i] + ", expected " + e[i] + " (tol " + tol + ")");
            }
        }
    }

    private void sweepForward(String name, Fwd scalar, Fwd simd, boolean exact) {
        try (Arena arena = Arena.ofConfined()) {
            for (Arena ar : new Arena[] {null, arena}) {
                for (int n : sizes()) {
                    float[] x = inputs(n, n);
                    MemorySegment ys = seg(ar, new float[n], 2), yv = seg(ar, new float[n], 5);
                    scalar.run(n, seg(ar, x, 1), 1, ys, 2);
                    simd.run(n, seg(ar, x, 1), 1, yv, 5);
                    float[] e = Arrays.copyOfRange(out(ys), 2, n + 2 + 5), a = Arrays.copyOfRange(out(yv), 5, n + 5 + 5);
                    String what = name + " n=" + n + (ar == null ? " heap" : " native");
                    if (exact) assertBitEqual(what, e, a); else assertNear(what, e, a, null);
                    MemorySegment inPlace = seg(ar, x, 3); // y aliases x
                    simd.run(n, inPlace, 3, inPlace, 3);
                    // bit-equal only for exact ops: lanewise EXP may differ by an ulp between JIT tiers
                    // (interpreted fallback vs compiled stub), and the two calls may run in different tiers
                    float[] ip = Arrays.copyOfRange(out(inPlace), 3, n + 3 + 5);
                    if (exact) assertBitEqual(what + " in-place", a, ip); else assertNear(what + " in-place", a, ip, null);
                }
            }
        }
    }

    private void sweepBackward(String name, Bwd scalar, Bwd simd, boolean exact, boolean xIsSigmoidOutput) {
        try (Arena arena = Arena.ofConfined()) {
            for (Arena ar : new Arena[] {null, arena}) {
                for (int n : sizes()) {
                    float[] x = inputs(n, n);
                    if (xIsSigmoidOutput) for (int i = 0; i < n; i++) x[i] = (float) (1 / (1 + Math.exp(-x[i])));
                    float[] gy = randn(n + 7, n), gx0 = randn(n + 8, n);
                    MemorySegment gs = seg(ar, gx0, 0), gv = seg(ar, gx0, 4);
                    scalar.run(n, seg(ar, x, 1), 1, seg(ar, gy, 2), 2, gs, 0);
                    simd.run(n, seg(ar, x, 1), 1, seg(ar, gy, 2), 2, gv, 4);
                    float[] e = Arrays.copyOfRange(out(gs), 0, n + 5), a = Arrays.copyOfRange(out(gv), 4, n + 4 + 5);
                    String what = name + " n=" + n + (ar == null ? " heap" : " native");
                    float[] slack = Arrays.copyOf(gy, n + 5);
                    if (exact) assertBitEqual(what, e, a); else assertNear(what, e, a, slack);
                }
            }
        }
    }

    @Test
    void forwardMatchesScalar() {
        sweepForward("sigmoid", ActivationScalar::sigmoid, ActivationSimd::sigmoid, false);
        sweepForward("logSigmoid", ActivationScalar::logSigmoid, ActivationSimd::logSigmoid, false);
        sweepForward("silu", ActivationScalar::silu, ActivationSimd::silu, false);
        sweepForward("relu", ActivationScalar::relu, ActivationSimd::relu, true);
    }

    @Test
    void backwardMatchesScalar() {
        sweepBackward("sigmoidBackward", ActivationScalar::sigmoidBackward, ActivationSimd::sigmoidBackward, false, true);
        sweepBackward("logSigmoidBackward", ActivationScalar::logSigmoidBackward, ActivationSimd::logSigmoidBackward, false, false);
        sweepBackward("siluBackward", ActivationScalar::siluBackward, ActivationSimd::siluBackward, false, false);
        sweepBackward("reluBackward", ActivationScalar::reluBackward, ActivationSimd::reluBackward, true, false);
    }

    private static float[] fwd(Fwd f, float... x) {
        float[] y = new float[x.length];
        f.run(x.length, Mem.of(x), 0, Mem.of(y), 0);
        return y;
    }

    @Test
    void handValues() {
        for (Fwd sig : new Fwd[] {ActivationScalar::sigmoid, ActivationSimd::sigmoid}) {
            float[] y = fwd(sig, 0f, 100f, -100f, 1e30f, -1e30f, 2f);
            assertEquals(0.5f, y[0]);
            assertEquals(1f, y[1]);
            assertEquals(0f, y[2], 1e-40);
            assertEquals(1f, y[3]);
            assertEquals(0f, y[4]);
            assertEquals(0.880797078, y[5], 1e-7);
        }
        for (Fwd ls : new Fwd[] {ActivationScalar::logSigmoid, ActivationSimd::logSigmoid}) {
            float[] y = fwd(ls, -100f, 100f, 0f, -1e30f, 1e30f, 1f);
            assertEquals(-100f, y[0]);
            assertEquals(0f, y[1], 1e-40);
            assertEquals((float) -Math.log(2), y[2], 1e-7);
            assertEquals(-1e30f, y[3]);
            assertEquals(0f, y[4]);
            assertEquals(-0.313261687518, y[5], 1e-7);
        }
        for (Fwd relu : new Fwd[] {ActivationScalar::relu, ActivationSimd::relu}) {
            float[] y = fwd(relu, 0f, -2f, 3f, Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 1e-40f);
            assertBitEqual("relu", new float[] {0f, 0f, 3f, Float.NaN, 0f, Float.POSITIVE_INFINITY, -0f, 1e-40f}, y);
        }
        for (Fwd silu : new Fwd[] {ActivationScalar::silu, ActivationSimd::silu}) {
            float[] y = fwd(silu, 0f, 100f, -100f, 1f, -1e30f);
            assertEquals(0f, y[0]);
            assertEquals(100f, y[1]);
            assertEquals(0f, y[2], 1e-40);
            assertEquals(0.731058578630, y[3], 1e-7);
            assertEquals(0f, y[4], 1e-40); // -0: x / +Inf
        }
        for (Bwd rb : new Bwd[] {ActivationScalar::reluBackward, ActivationSimd::reluBackward}) {
            float[] gx = {1f, 1f, 1f, 1f};
            rb.run(4, Mem.of(new float[] {0f, -1f, 2f, -0f}), 0, Mem.of(new float[] {5f, 5f, 5f, 5f}), 0, Mem.of(gx), 0);
            assertBitEqual("relu' at 0 is 0, accumulates", new float[] {1f, 1f, 6f, 1f}, gx);
        }
        for (Bwd lb : new Bwd[] {ActivationScalar::logSigmoidBackward, ActivationSimd::logSigmoidBackward}) {
            float[] gx = new float[4];
            lb.run(4, Mem.of(new float[] {1000f, -1000f, 0f, -1e30f}), 0, Mem.of(new float[] {1f, 1f, 1f, 2f}), 0, Mem.of(gx), 0);
            assertBitEqual("logSigmoid' tails", new float[] {0f, 1f, 0.5f, 2f}, gx);
        }
    }

    /** Central differences in double on the exact function vs the kernels' gradient (gy = 1, gx = 0). */
    @Test
    void backwardMatchesFiniteDifferences() {
        DoubleUnaryOperator sig = v -> 1 / (1 + Math.exp(-v));
        DoubleUnaryOperator logSig = v -> Math.min(v, 0) - Math.log1p(Math.exp(-Math.abs(v)));
        DoubleUnaryOperator silu = v -> v * sig.applyAsDouble(v);
        DoubleUnaryOperator relu = v -> Math.max(v, 0);
        float[] x = randn(99, 257);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 5;
            if (Math.abs(x[i]) < 1e-3f) x[i] = 0.5f; // relu kink
        }
        float[] sigY = fwd(ActivationScalar::sigmoid, x);
        for (boolean simd : new boolean[] {false, true}) {
            checkFd("sigmoid", sig, x, simd ? ActivationSimd::sigmoidBackward : ActivationScalar::sigmoidBackward, sigY);
            checkFd("logSigmoid", logSig, x, simd ? ActivationSimd::logSigmoidBackward : ActivationScalar::logSigmoidBackward, x);
            checkFd("silu", silu, x, simd ? ActivationSimd::siluBackward : ActivationScalar::siluBackward, x);
            checkFd("relu", relu, x, simd ? ActivationSimd::reluBackward : ActivationScalar::reluBackward, x);
        }
    }

    private static void checkFd(String name, DoubleUnaryOperator f, float[] x, Bwd bwd, float[] bwdInput) {
        int n = x.length;
        float[] ones = new float[n], gx = new float[n];
        Arrays.fill(ones, 1f);
        bwd.run(n, Mem.of(bwdInput), 0, Mem.of(ones), 0, Mem.of(gx), 0);
        double h = 1e-5;
        for (int i = 0; i < n; i++) {
            double fd = (f.applyAsDouble(x[i] + h) - f.applyAsDouble(x[i] - h)) / (2 * h);
            assertEquals(fd, gx[i], 1e-5 + 1e-5 * Math.abs(fd), name + "' at x=" + x[i]);
        }
    }

    @Test
    void threadCountDoesNotChangeResults() {
        int n = (int) VecSimd.PAR_ELEMENTWISE * 2 + 111;
        float[] x = inputs(3, n), gy = randn(4, n);
        float[] ref = new float[n], refRelu = new float[n], g1 = new float[n];
        ActivationScalar.silu(n, Mem.of(x), 0, Mem.of(ref), 0);
        ActivationScalar.relu(n, Mem.of(x), 0, Mem.of(refRelu), 0);
        ActivationScalar.logSigmoidBackward(n, Mem.of(x), 0, Mem.of(gy), 0, Mem.of(g1), 0);
        for (int t : new int[] {1, 2, 3}) {
            Parallel.setThreads(t);
            float[] y = new float[n], r = new float[n], g = new float[n];
            ActivationSimd.silu(n, Mem.of(x), 0, Mem.of(y), 0);
            ActivationSimd.relu(n, Mem.of(x), 0, Mem.of(r), 0);
            ActivationSimd.logSigmoidBackward(n, Mem.of(x), 0, Mem.of(gy), 0, Mem.of(g), 0);
            assertNear("silu threads=" + t, ref, y, null);
            assertBitEqual("relu threads=" + t, refRelu, r);
            assertNear("logSigmoidBackward threads=" + t, g1, g, gy);
        }
    }

    @Test
    void badArgumentsAreRejected() {
        MemorySegment s = Mem.of(new float[8]);
        assertThrows(IllegalArgumentException.class, () -> ActivationSimd.sigmoid(9, s, 0, s, 0));
        assertThrows(IllegalArgumentException.class, () -> ActivationSimd.siluBackward(4, s, 0, s, 5, s, 0));
        assertThrows(IllegalArgumentException.class, () -> ActivationScalar.relu(-1, s, 0, s, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ActivationSimd.logSigmoidBackward(2, s, 0, s, 0, null, 0));
        assertTrue(e.getMessage().contains("ActivationSimd.logSigmoidBackward") && e.getMessage().contains("gx"), e.getMessage());
    }
}
