package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.function.Executable;

/** Helpers of SpmmGpuTest, EmbeddingGpuTest and AdamGpuTest. */
final class SparseGpuTestSupport {
    private SparseGpuTestSupport() {}

    /** Uniform values in [-1, 1) from a fixed seed. */
    static float[] uniform(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (2 * r.nextDouble() - 1);
        return a;
    }

    /** n random indices in [0, rows) (duplicates likely when n is near rows or above). */
    static int[] indices(long seed, int n, int rows) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = r.nextInt(rows);
        return a;
    }

    /** n distinct indices in [0, rows) in random order (n &lt;= rows). */
    static int[] distinct(long seed, int n, int rows) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] all = new int[rows];
        for (int i = 0; i < rows; i++) all[i] = i;
        for (int i = rows - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return java.util.Arrays.copyOf(all, n);
    }

    /** Elements a (rows x d, leading dim ld) operand at offset off needs (at least 1). */
    static int span(long off, int rows, int d, int ld) {
        return (int) Math.max(1, off + (rows == 0 || d == 0 ? 0 : (long) (rows - 1) * ld + d));
    }

    static MemorySegment seg(float[] a) {
        return MemorySegment.ofArray(a);
    }

    /**
     * The GPU result buffer against the CPU twin's: the (rows x d, ld) block at off within
     * {@link GpuAssert#FP32_REL} norm-wise, every element outside it bit-identical (the CPU did not
     * touch them, so this catches writes past a row's d columns or outside the operand).
     */
    static void assertBlock(String what, float[] expected, float[] actual, long off, int rows, int d, int ld) {
        assertBlock(what, expected, actual, off, rows, d, ld, GpuAssert.FP32_REL);
    }

    static void assertBlock(String what, float[] expected, float[] actual, long off, int rows, int d, int ld, double rel) {
        assertEquals(expected.length, actual.length, what + ": buffer length");
        float[] e = block(expected, off, rows, d, ld), a = block(actual, off, rows, d, ld);
        GpuAssert.assertClose(e, a, rel, what);
        boolean[] inside = new boolean[expected.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < d; c++) inside[(int) (off + (long) r * ld + c)] = true;
        for (int i = 0; i < expected.length; i++) {
            if (!inside[i] && Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + ": element " + i + " outside the " + rows + " x " + d + " block (offset " + off + ", ld " + ld
                        + ") changed: gpu " + actual[i] + ", should stay " + expected[i]);
            }
        }
    }

    static float[] block(float[] buf, long off, int rows, int d, int ld) {
        float[] out = new float[rows * d];
        for (int r = 0; r < rows; r++) System.arraycopy(buf, (int) (off + (long) r * ld), out, r * d, d);
        return out;
    }

    /** Bit-for-bit equality, naming the first difference (for the paths documented as exact). */
    static void assertBitEqual(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected exactly " + expected[i]
                        + " (this path is documented as bit-identical)");
            }
        }
    }

    /**
     * At most {@code maxUlps} units in the last place apart, elementwise; prints how many elements
     * were not bit-identical (the Adam kernels are meant to be exact).
     */
    static void assertUlps(String what, float[] expected, float[] actual, int maxUlps) {
        assertEquals(expected.length, actual.length, what + ": length");
        int differing = 0, worstAt = -1;
        long worst = 0;
        for (int i = 0; i < expected.length; i++) {
            int eb = Float.floatToRawIntBits(expected[i]), ab = Float.floatToRawIntBits(actual[i]);
            if (eb == ab) continue;
            differing++;
            // ordered integer view of floats: the difference counts representable floats between them
            long eo = eb < 0 ? (long) Integer.MIN_VALUE - eb : eb, ao = ab < 0 ? (long) Integer.MIN_VALUE - ab : ab;
            long ulps = Float.isNaN(expected[i]) || Float.isNaN(actual[i]) ? Long.MAX_VALUE : Math.abs(eo - ao);
            if (ulps > worst) {
                worst = ulps;
                worstAt = i;
            }
        }
        if (differing > 0) System.out.println(what + ": " + differing + " of " + expected.length + " elements not bit-identical (worst " + worst + " ulp)");
        if (worst > maxUlps) {
            fail(what + ": element " + worstAt + " is " + actual[worstAt] + ", expected " + expected[worstAt] + " (" + worst
                    + " ulp apart, at most " + maxUlps + " allowed; " + differing + " elements differ)");
        }
    }

    /** A device-buffer stand-in for the argument-check tests: no context, never passed to CUDA. */
    static DeviceBuffer fake(long elements) {
        return DeviceBuffer.detached(elements);
    }

    /** The call throws IllegalArgumentException whose message contains every fragment. */
    static void assertRejects(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message \"" + e.getMessage() + "\" should mention \"" + f + "\"");
        }
    }
}
