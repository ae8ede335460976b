package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Test data and exact comparisons shared by the elementwise / layer-norm GPU tests. */
final class ElemGpuSupport {
    private ElemGpuSupport() {}

    /** The sweep the GPU issue asks for: empty, one, around a warp, a prime, and one large case. */
    static final int[] SIZES = {0, 1, 31, 32, 33, 1021, 1_000_003};

    /** Values that stress exactness: signed zeros, subnormals (no flush-to-zero on either side), huge. */
    private static final float[] SPECIAL = {0f, -0f, 1e-40f, -3e-39f, Float.MIN_VALUE, 1e-20f, 3e38f, -3e38f, 1e30f};

    /** Uniform in [lo, hi), seeded; every 97th element (when {@code specials}) one of {@link #SPECIAL}. */
    static float[] rand(long seed, int n, float lo, float hi, boolean specials) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.nextFloat();
        if (specials) for (int i = 5, k = 0; i < n; i += 97, k++) a[i] = SPECIAL[k % SPECIAL.length];
        return a;
    }

    static float[] rand(long seed, int n) {
        return rand(seed, n, -4f, 4f, false);
    }

    static MemorySegment seg(float[] a) {
        return MemorySegment.ofArray(a);
    }

    /** Bit-for-bit equality (NaNs compare equal whatever their payload), naming the first difference. */
    static void assertBits(float[] expected, float[] actual, String what) {
        if (expected.length != actual.length) fail(what + ": length " + actual.length + ", expected " + expected.length);
        int bad = 0, first = -1;
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                if (first < 0) first = i;
                bad++;
            }
        }
        if (bad > 0) {
            fail(String.format(java.util.Locale.ROOT, "%s: %d of %d elements differ from the CPU bit pattern; first at [%d]: gpu %s (0x%08x), cpu %s (0x%08x)",
                    what, bad, expected.length, first, actual[first], Float.floatToRawIntBits(actual[first]), expected[first],
                    Float.floatToRawIntBits(expected[first])));
        }
    }

    /** Elementwise: |actual - expected| &lt;= ulps * ulp(expected), equal infinities and NaNs allowed. */
    static void assertUlps(float[] expected, float[] actual, int ulps, String what) {
        if (expected.length != actual.length) fail(what + ": length " + actual.length + ", expected " + expected.length);
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            if (Float.isNaN(e) && Float.isNaN(a) || e == a) continue;
            if (!(Math.abs((double) a - e) <= ulps * (double) Math.ulp(e))) {
                fail(String.format(java.util.Locale.ROOT, "%s: [%d] gpu %s vs cpu %s differ by %.3g ulp (allowed %d)",
                        what, i, a, e, Math.abs((double) a - e) / Math.ulp(e), ulps));
            }
        }
    }

    /** A DeviceBuffer that belongs to no context, for argument checks that must fail before any CUDA call. */
    static DeviceBuffer fake(long elements) {
        return DeviceBuffer.detached(elements);
    }
}
