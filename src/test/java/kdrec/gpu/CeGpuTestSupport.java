package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Data for the CE GPU tests (SubsetCeGpuTest, PairCeGpuTest, SoftmaxCeGpuTest): seeded random
 * matrices laid out with an element offset and a padded leading dimension whose offset and padding
 * cells are ZERO (so comparing whole arrays catches a kernel writing outside its rows, and the padding
 * does not inflate the norm-wise tolerance scale), ragged CSR sets with the awkward row lengths
 * (0, 1, 31, 32, 33) mixed in, and fake device buffers for the argument tests that need no GPU.
 */
final class CeGpuTestSupport {
    private CeGpuTestSupport() {}

    static float[] randn(long seed, int n, double sd) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (sd * gaussian(r));
        return a;
    }

    static float[] uniform(long seed, int n, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return a;
    }

    private static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** rows x cols N(0, sd) values at element offset off, leading dim ld, zeros elsewhere; 3 spare zeros at the end. */
    static float[] matrix(long seed, long off, int rows, int cols, int ld, double sd) {
        float[] a = new float[(int) (off + (long) rows * ld + 3)];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < cols; c++) a[(int) (off + (long) i * ld + c)] = (float) (sd * gaussian(r));
        }
        return a;
    }

    /**
     * A CSR row pointer over m rows starting at ptr0: row lengths cycle through 1, 0, 31, 32, 33 and
     * random lengths in [0, maxLen] (each capped at maxLen), so empty rows and warp-edge rows always occur.
     */
    static int[] ptr(long seed, int m, int ptr0, int maxLen) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] special = {1, 0, 31, 32, 33};  // row 0 has one entry, so m = 1 is not just an empty row
        int[] p = new int[m + 1];
        p[0] = ptr0;
        for (int i = 0; i < m; i++) {
            int len = i % 3 == 0 ? special[(i / 3) % special.length] : r.nextInt(maxLen + 1);
            p[i + 1] = p[i] + Math.min(len, maxLen);
        }
        return p;
    }

    /** len ids in [0, nItems) (repeats allowed, as in the CPU contract); the first ptr0 are junk that must be ignored. */
    static int[] ids(long seed, int len, int nItems) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] a = new int[len];
        for (int i = 0; i < len; i++) a[i] = r.nextInt(nItems);
        return a;
    }

    /** m targets in [0, n). */
    static int[] targets(long seed, int m, int n) {
        return ids(seed, m, n);
    }

    static MemorySegment seg(float[] a) {
        return MemorySegment.ofArray(a);
    }

    /** The whole buffer back as floats (same length as the host array it came from). */
    static float[] down(Cuda cuda, DeviceBuffer b, int n) {
        return cuda.downloadFloats(b, n);
    }

    /** A device buffer of {@code elements} 4-byte elements that no CUDA call may touch (argument tests). */
    static DeviceBuffer fake(long elements) {
        return DeviceBuffer.detached(elements);
    }

    /** Exact equality of two runs (the kernels claim run-to-run determinism). */
    static void assertSameBits(float[] first, float[] second, String what) {
        assertEquals(first.length, second.length, what + ": lengths");
        int[] a = new int[first.length], b = new int[second.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = Float.floatToRawIntBits(first[i]);
            b[i] = Float.floatToRawIntBits(second[i]);
        }
        assertArrayEquals(a, b, what + ": two runs on the same input differ (the kernel should be deterministic)");
    }

    /** The allocation count is back where the test started (no leaked DeviceBuffers). */
    static void assertNoLeak(Cuda cuda, long before, String test) {
        assertEquals(before, cuda.allocatedBytes(), test + ": device bytes allocated before and after differ (leak)");
    }

    /** Uploads that are all freed together (try-with-resources over a whole test case). */
    static final class Bufs implements AutoCloseable {
        private final Cuda cuda;
        private final java.util.ArrayList<DeviceBuffer> all = new java.util.ArrayList<>();

        Bufs(Cuda cuda) {
            this.cuda = cuda;
        }

        DeviceBuffer f(float[] a) {
            DeviceBuffer b = cuda.upload(a);
            all.add(b);
            return b;
        }

        DeviceBuffer i(int[] a) {
            DeviceBuffer b = cuda.upload(a);
            all.add(b);
            return b;
        }

        /** A zero-filled buffer of n floats. */
        DeviceBuffer zeros(long n) {
            DeviceBuffer b = cuda.allocElements(n);
            all.add(b);
            return b;
        }

        @Override
        public void close() {
            for (DeviceBuffer b : all) b.close();
        }
    }
}
