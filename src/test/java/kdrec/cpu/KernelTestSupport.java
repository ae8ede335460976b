package kdrec.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Shared helpers for kernel tests: the size sweep every SIMD kernel is checked over, seeded random
 * data on heap and native segments, and tolerance-aware comparisons that name the first mismatch.
 */
public final class KernelTestSupport {
    private KernelTestSupport() {}

    /**
     * Sizes every SIMD kernel is swept over: 0, 1, lanes-1, lanes, lanes+1, 2*lanes+1, primes and a
     * large size. Under an emulated (wider than hardware) width the large size is kept moderate.
     */
    public static int[] sizes() {
        int l = Simd.LANES;
        int large = Simd.emulated() ? 2053 : 10007;
        return IntStream.of(0, 1, l - 1, l, l + 1, 2 * l + 1, 4 * l - 1, 13, 31, 97, 1021, large)
                .filter(n -> n >= 0).distinct().sorted().toArray();
    }

    /** Small sizes only (for kernels whose cost is quadratic or worse in the size). */
    public static int[] smallSizes() {
        int l = Simd.LANES;
        return IntStream.of(0, 1, l - 1, l, l + 1, 2 * l + 1, 13, 31, 97).filter(n -> n >= 0).distinct().sorted().toArray();
    }

    public static float[] randn(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) gaussian(r);
        return a;
    }

    public static float[] uniform(long seed, int n, float lo, float hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return a;
    }

    static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** A heap segment holding a copy of {@code a}. */
    public static MemorySegment heap(float[] a) {
        return MemorySegment.ofArray(a.clone());
    }

    /** A native segment (from {@code arena}) holding a copy of {@code a}. */
    public static MemorySegment offHeap(Arena arena, float[] a) {
        MemorySegment s = arena.allocate((long) Math.max(1, a.length) * Float.BYTES, 64);
        MemorySegment.copy(a, 0, s, Mem.F32, 0, a.length);
        return s;
    }

    public static float[] toArray(MemorySegment s) {
        return s.toArray(Mem.F32);
    }

    /** Asserts |e-a| <= atol + rtol*|e| elementwise; names the first mismatch. */
    public static void assertClose(String what, float[] expected, float[] actual, double atol, double rtol) {
        if (expected.length != actual.length) fail(what + ": length " + actual.length + " != expected " + expected.length);
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            if (Double.isNaN(e) && Double.isNaN(a)) continue;
            if (!(Math.abs(e - a) <= atol + rtol * Math.abs(e))) {
                fail(what + ": element " + i + " is " + a + ", expected " + e + " (atol " + atol + ", rtol " + rtol + ")");
            }
        }
    }

    public static void assertClose(String what, double[] expected, float[] actual, double atol, double rtol) {
        if (expected.length != actual.length) fail(what + ": length " + actual.length + " != expected " + expected.length);
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            if (!(Math.abs(e - a) <= atol + rtol * Math.abs(e))) {
                fail(what + ": element " + i + " is " + a + ", expected " + e + " (atol " + atol + ", rtol " + rtol + ")");
            }
        }
    }

    public static void assertBitEqual(String what, float[] expected, float[] actual) {
        if (expected.length != actual.length) fail(what + ": length " + actual.length + " != expected " + expected.length);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected exactly " + expected[i]);
            }
        }
    }
}
