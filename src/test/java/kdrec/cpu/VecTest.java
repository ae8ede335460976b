package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.assertBitEqual;
import static kdrec.cpu.KernelTestSupport.randn;
import static kdrec.cpu.KernelTestSupport.sizes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** VecSimd against the VecScalar oracle: size sweep, heap and native segments, offsets, aliasing, threads. */
@Tag("simd")
class VecTest {
    private static final int OFF = 3; // a non-zero, non-vector-aligned element offset

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    /** Segment holding {@code OFF} pad floats, then data, then 5 more pad floats (guards overruns). */
    static MemorySegment seg(Arena arena, float[] data, int off) {
        float[] padded = new float[off + data.length + 5];
        Arrays.fill(padded, 777f);
        System.arraycopy(data, 0, padded, off, data.length);
        return arena == null ? KernelTestSupport.heap(padded) : KernelTestSupport.offHeap(arena, padded);
    }

    static float[] out(MemorySegment s) {
        return KernelTestSupport.toArray(s);
    }

    private interface Bin {
        void run(long n, MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment o, long oo);
    }

    private void checkBinary(String name, Bin scalar, Bin simd) {
        try (Arena arena = Arena.ofConfined()) {
            for (Arena ar : new Arena[] {null, arena}) {
                for (int n : sizes()) {
                    for (int off : new int[] {0, OFF}) {
                        float[] a = randn(n, n), b = randn(n + 1, n), y0 = randn(n + 2, n);
                        MemorySegment ys = seg(ar, y0, off), yv = seg(ar, y0, off + 1);
                        scalar.run(n, seg(ar, a, off), off, seg(ar, b, 0), 0, ys, off);
                        simd.run(n, seg(ar, a, off), off, seg(ar, b, 0), 0, yv, off + 1);
                        assertBitEqual(name + " n=" + n + " off=" + off + (ar == null ? " heap" : " native"),
                                Arrays.copyOfRange(out(ys), off, off + n + 5), Arrays.copyOfRange(out(yv), off + 1, off + n + 6));
                        // in place: out aliases a
                        MemorySegment as = seg(ar, a, off), av = seg(ar, a, off);
                        scalar.run(n, as, off, seg(ar, b, 0), 0, as, off);
                        simd.run(n, av, off, seg(ar, b, 0), 0, av, off);
                        assertBitEqual(name + " in-place n=" + n, out(as), out(av));
                    }
                }
            }
        }
    }

    @Test
    void elementwiseOpsMatchScalarBitForBit() {
        checkBinary("add", VecScalar::add, VecSimd::add);
        checkBinary("sub", VecScalar::sub, VecSimd::sub);
        checkBinary("mul", VecScalar::mul, VecSimd::mul);
        checkBinary("addMul", VecScalar::addMul, VecSimd::addMul);
        checkBinary("scale", (n, a, ao, b, bo, o, oo) -> VecScalar.scale(n, -1.7f, a, ao, o, oo),
                (n, a, ao, b, bo, o, oo) -> VecSimd.scale(n, -1.7f, a, ao, o, oo));
        checkBinary("axpy", (n, a, ao, b, bo, o, oo) -> VecScalar.axpy(n, 0.37f, a, ao, o, oo),
                (n, a, ao, b, bo, o, oo) -> VecSimd.axpy(n, 0.37f, a, ao, o, oo));
        checkBinary("copy", (n, a, ao, b, bo, o, oo) -> VecScalar.copy(n, a, ao, o, oo),
                (n, a, ao, b, bo, o, oo) -> VecSimd.copy(n, a, ao, o, oo));
        checkBinary("fill", (n, a, ao, b, bo, o, oo) -> VecScalar.fill(n, o, oo, 2.5f),
                (n, a, ao, b, bo, o, oo) -> VecSimd.fill(n, o, oo, 2.5f));
    }

    @Test
    void handValues() {
        MemorySegment a = Mem.of(new float[] {1, 2, 3, 4, 5}), b = Mem.of(new float[] {10, 20, 30, 40, 50});
        MemorySegment o = Mem.of(new float[5]);
        VecSimd.add(5, a, 0, b, 0, o, 0);
        assertBitEqual("add", new float[] {11, 22, 33, 44, 55}, out(o));
        VecSimd.sub(4, b, 1, a, 0, o, 1);
        assertBitEqual("sub", new float[] {11, 19, 28, 37, 46}, out(o));
        VecSimd.mul(5, a, 0, b, 0, o, 0);
        assertBitEqual("mul", new float[] {10, 40, 90, 160, 250}, out(o));
        VecSimd.axpy(5, 2f, a, 0, o, 0);
        assertBitEqual("axpy", new float[] {12, 44, 96, 168, 260}, out(o));
        VecSimd.addMul(5, a, 0, a, 0, o, 0);
        assertBitEqual("addMul", new float[] {13, 48, 105, 184, 285}, out(o));
        VecSimd.scale(5, 0.5f, o, 0, o, 0);
        assertBitEqual("scale", new float[] {6.5f, 24, 52.5f, 92, 142.5f}, out(o));
        VecSimd.fill(2, o, 3, -1f);
        assertBitEqual("fill", new float[] {6.5f, 24, 52.5f, -1, -1}, out(o));
        assertEquals(15.0, VecSimd.sum(5, a, 0));
        assertEquals(10 + 40 + 90 + 160 + 250, VecSimd.dot(5, a, 0, b, 0));
        assertEquals(0.0, VecSimd.sum(0, a, 5));
        assertEquals(0.0, VecSimd.dot(0, a, 0, b, 0));
    }

    @Test
    void sumAndDotExactOnIntegerDataAndCloseOnRandom() {
        try (Arena arena = Arena.ofConfined()) {
            for (Arena ar : new Arena[] {null, arena}) {
                for (int n : sizes()) {
                    // small integers: every float partial sum is exact, so any order must give the exact value
                    float[] ia = new float[n], ib = new float[n];
                    for (int i = 0; i < n; i++) {
                        ia[i] = (i * 7919 % 17) - 8;
                        ib[i] = (i * 104729 % 13) - 6;
                    }
                    MemorySegment sa = seg(ar, ia, OFF), sb = seg(ar, ib, 1);
                    assertEquals(VecScalar.sum(n, sa, OFF), VecSimd.sum(n, sa, OFF), "exact sum n=" + n);
                    assertEquals(VecScalar.dot(n, sa, OFF, sb, 1), VecSimd.dot(n, sa, OFF, sb, 1), "exact dot n=" + n);

                    float[] a = randn(10 + n, n), b = randn(20 + n, n);
                    MemorySegment ra = seg(ar, a, OFF), rb = seg(ar, b, 0);
                    double abs = 0, absDot = 0;
                    for (int i = 0; i < n; i++) {
                        abs += Math.abs(a[i]);
                        absDot += Math.abs((double) a[i] * b[i]);
                    }
                    // float lanes each sum UNIT/(4*lanes) terms of a block: |err| <= that * 2^-24 * sum|x|
                    double rel = (double) ElemChunks.UNIT / (4 * Simd.LANES) * 0x1p-24;
                    double es = VecScalar.sum(n, ra, OFF), ed = VecScalar.dot(n, ra, OFF, rb, 0);
                    assertEquals(es, VecSimd.sum(n, ra, OFF), rel * abs + 1e-12, "sum n=" + n);
                    assertEquals(ed, VecSimd.dot(n, ra, OFF, rb, 0), 2 * rel * absDot + 1e-12, "dot n=" + n);
                }
            }
        }
    }

    @Test
    void resultsIndependentOfThreadCount() {
        int n = (int) Math.max(VecSimd.PAR_ELEMENTWISE, VecSimd.PAR_REDUCE) * 2 + 1234;
        float[] a = randn(5, n), b = randn(6, n);
        MemorySegment sa = Mem.of(a), sb = Mem.of(b);
        double sum1 = 0, dot1 = 0;
        float[] axpy1 = null;
        for (int t : new int[] {1, 2, 3, 7}) {
            Parallel.setThreads(t);
            double s = VecSimd.sum(n, sa, 0), d = VecSimd.dot(n, sa, 0, sb, 0);
            float[] y = b.clone();
            VecSimd.axpy(n, 0.3f, sa, 0, Mem.of(y), 0);
            if (t == 1) {
                sum1 = s;
                dot1 = d;
                axpy1 = y;
                float[] ys = b.clone();
                VecScalar.axpy(n, 0.3f, sa, 0, Mem.of(ys), 0);
                assertBitEqual("axpy threaded vs scalar", ys, y);
            } else {
                assertEquals(Double.doubleToRawLongBits(sum1), Double.doubleToRawLongBits(s), "sum with " + t + " threads");
                assertEquals(Double.doubleToRawLongBits(dot1), Double.doubleToRawLongBits(d), "dot with " + t + " threads");
                assertBitEqual("axpy with " + t + " threads", axpy1, y);
            }
        }
    }

    /** Confined-arena segments may not be touched by pool threads: the kernels must stay on the caller. */
    @Test
    void largeConfinedAndSharedSegmentsBothWork() {
        int n = (int) VecSimd.PAR_ELEMENTWISE * 2 + 5;
        float[] a = randn(1, n), b = randn(2, n);
        Parallel.setThreads(2);
        float[] want = null;
        double wantDot = 0;
        for (Arena arena : new Arena[] {Arena.ofConfined(), Arena.ofShared()}) {
            try (arena) {
                MemorySegment sa = KernelTestSupport.offHeap(arena, a), sb = KernelTestSupport.offHeap(arena, b);
                VecSimd.axpy(n, 2f, sa, 0, sb, 0);
                double dot = VecSimd.dot(n, sa, 0, sb, 0);
                assertTrue(VecSimd.allFinite(n, sb, 0));
                float[] got = Arrays.copyOf(out(sb), n);
                if (want == null) {
                    want = got;
                    wantDot = dot;
                } else {
                    assertBitEqual("confined vs shared", want, got);
                    assertEquals(wantDot, dot);
                }
            }
        }
    }

    @Test
    void allFiniteFindsNaNAndInfAnywhere() {
        int big = (int) VecSimd.PAR_REDUCE * 2 + 77;
        for (int n : new int[] {1, Simd.LANES - 1, Simd.LANES, 2 * Simd.LANES + 1, 1021, 10007, big}) {
            if (n < 1) continue;
            float[] a = randn(n, n);
            a[n / 2] = Float.MAX_VALUE;
            assertTrue(VecSimd.allFinite(n, Mem.of(a), 0), "finite n=" + n);
            for (int pos : new int[] {0, n / 3, n - 1}) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    float[] c = a.clone();
                    c[pos] = bad;
                    for (int t : new int[] {1, 2}) {
                        Parallel.setThreads(t);
                        assertFalse(VecSimd.allFinite(n, Mem.of(c), 0), bad + " at " + pos + " of " + n);
                        assertFalse(VecScalar.allFinite(n, Mem.of(c), 0));
                    }
                    // outside the checked range: not seen
                    if (pos == n - 1 && n > 1) assertTrue(VecSimd.allFinite(n - 1, Mem.of(c), 0));
                }
            }
        }
        assertTrue(VecSimd.allFinite(0, Mem.of(new float[] {Float.NaN}), 0));
    }

    @Test
    void badArgumentsAreRejected() {
        MemorySegment s = Mem.of(new float[10]);
        assertThrows(IllegalArgumentException.class, () -> VecSimd.add(-1, s, 0, s, 0, s, 0));
        assertThrows(IllegalArgumentException.class, () -> VecSimd.add(8, s, 3, s, 0, s, 0));
        assertThrows(IllegalArgumentException.class, () -> VecSimd.axpy(4, 1f, s, -1, s, 0));
        assertThrows(IllegalArgumentException.class, () -> VecSimd.sum(11, s, 0));
        assertThrows(IllegalArgumentException.class, () -> VecSimd.dot(2, s, 0, null, 0));
        assertThrows(IllegalArgumentException.class, () -> VecScalar.copy(5, s, 6, s, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VecSimd.fill(11, s, 0, 0f));
        assertTrue(e.getMessage().contains("VecSimd.fill"), e.getMessage());
        VecSimd.add(10, s, 0, s, 0, s, 0); // exactly fits: no throw
    }
}
