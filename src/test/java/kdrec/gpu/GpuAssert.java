package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.fail;

/** Comparisons of GPU results with the Java reference kernels. */
final class GpuAssert {
    private GpuAssert() {}

    /** fp32 tolerance the GPU issue sets: relative error at most 1e-5. */
    static final double FP32_REL = 1e-5;

    /**
     * Norm-wise relative error: max |actual - expected| over max |expected| (1 when expected is all
     * zeros) must be at most {@code rel}. Norm-wise because a GPU sums in another order than the CPU,
     * so an element that cancels to near zero has a large elementwise relative error that means nothing.
     * NaN or infinity where the reference is finite fails.
     */
    static void assertClose(float[] expected, float[] actual, double rel, String what) {
        if (expected.length != actual.length) fail(what + ": length " + actual.length + ", expected " + expected.length);
        double scale = 0, worst = 0;
        int worstAt = -1;
        for (float e : expected) scale = Math.max(scale, Math.abs(e));
        if (scale == 0) scale = 1;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) actual[i] - expected[i]);
            if (!Double.isFinite(actual[i]) && Double.isFinite(expected[i])) err = Double.POSITIVE_INFINITY;
            if (!(err <= worst)) {
                worst = err;
                worstAt = i;
            }
        }
        if (worst / scale > rel) {
            fail(String.format(java.util.Locale.ROOT, "%s: relative error %.3g > %.1g at [%d] (gpu %s, reference %s, scale %.4g, n=%d)",
                    what, worst / scale, rel, worstAt, actual[worstAt], expected[worstAt], scale, expected.length));
        }
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertClose(expected, actual, FP32_REL, what);
    }
}
