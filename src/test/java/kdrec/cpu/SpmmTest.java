package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** SpmmSimd against SpmmScalar, a dense double reference and hand-computed numbers. */
@Tag("simd")
class SpmmTest {
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(savedThreads);
    }

    /** Random CSR with ~25% empty rows, forced duplicate columns, optional null values. */
    static Csr randomCsr(long seed, int m, int n, int maxPerRow, boolean ones) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ptr = new int[m + 1];
        int[] col = new int[Math.max(1, m * maxPerRow)];
        int nnz = 0;
        for (int i = 0; i < m; i++) {
            int len = (n == 0 || r.nextInt(4) == 0) ? 0 : r.nextInt(maxPerRow + 1);
            for (int k = 0; k < len; k++) {
                // every third entry repeats the previous column when it can
                col[nnz] = (k > 0 && k % 3 == 0) ? col[nnz - 1] : r.nextInt(n);
                nnz++;
            }
            ptr[i + 1] = nnz;
        }
        float[] val = ones ? null : uniform(seed + 1, nnz, -1f, 1f);
        return new Csr(m, n, ptr, java.util.Arrays.copyOf(col, nnz), val);
    }

    static Csr abs(Csr a) {
        float[] v = a.val == null ? null : a.val.clone();
        if (v != null) for (int k = 0; k < v.length; k++) v[k] = Math.abs(v[k]);
        return new Csr(a.rows, a.cols, a.ptr, a.col, v);
    }

    static float[] absArray(float[] a) {
        float[] b = a.clone();
        for (int i = 0; i < b.length; i++) b[i] = Math.abs(b[i]);
        return b;
    }

    static int maxRow(Csr a) {
        int mx = 0;
        for (int i = 0; i < a.rows; i++) mx = Math.max(mx, a.ptr[i + 1] - a.ptr[i]);
        return mx;
    }

    /** |e - a| <= tolScale * mag elementwise (mag: the same product on absolute values). */
    static void assertWithin(String what, float[] e, float[] a, float[] mag, double tolScale) {
        assertEquals(e.length, a.length, what + ": length");
        for (int i = 0; i < e.length; i++) {
            double tol = tolScale * mag[i] + 1e-30;
            if (!(Math.abs((double) e[i] - a[i]) <= tol)) {
                fail(what + ": element " + i + " is " + a[i] + ", expected " + e[i] + " (tol " + tol + ")");
            }
        }
    }

    static MemorySegment seg(Arena arena, boolean nativeSeg, float[] a) {
        return nativeSeg ? offHeap(arena, a) : heap(a);
    }

    @Test
    void simdMatchesScalarOverSizes() {
        try (Arena arena = Arena.ofShared()) {
            for (int d : sizes()) {
                int m = d > 1000 ? 9 : 37, n = 23;
                for (boolean ones : new boolean[] {false, true}) {
                    Csr a = randomCsr(d * 31L + (ones ? 1 : 0), m, n, 12, ones);
                    for (boolean nat : new boolean[] {false, true}) {
                        for (float beta : new float[] {0f, 0.5f}) {
                            int ldx = d + 5, ldy = d + 2;
                            long xOff = 3, yOff = 7;
                            float[] xs = randn(d + 11, (int) xOff + n * ldx);
                            float[] ys = randn(d + 12, (int) yOff + m * ldy);
                            String what = "spmm d=" + d + " ones=" + ones + " native=" + nat + " beta=" + beta;

                            MemorySegment x = seg(arena, nat, xs), yRef = seg(arena, nat, ys), y = seg(arena, nat, ys);
                            SpmmScalar.spmm(m, d, a.ptr, a.col, a.val, x, xOff, ldx, beta, yRef, yOff, ldy);
                            SpmmSimd.spmm(m, d, a.ptr, a.col, a.val, x, xOff, ldx, beta, y, yOff, ldy);
                            MemorySegment mag = heap(absArray(ys));
                            Csr aa = abs(a);
                            SpmmScalar.spmm(m, d, aa.ptr, aa.col, aa.val, heap(absArray(xs)), xOff, ldx, beta, mag, yOff, ldy);
                            float[] expect = toArray(yRef), got = toArray(y);
                            assertWithin(what, expect, got, toArray(mag), 2.4e-7 * (maxRow(a) + 2));
                            assertPadsUntouched(what, ys, got, yOff, ldy, d, m);
                        }
                    }
                }
            }
        }
    }

    /** Elements outside the m x d window (offset prefix, ld padding) keep their values. */
    static void assertPadsUntouched(String what, float[] before, float[] after, long off, int ld, int d, int rows) {
        for (int i = 0; i < before.length; i++) {
            long rel = i - off;
            boolean inside = rel >= 0 && rel / ld < rows && rel % ld < d;
            if (!inside && Float.floatToRawIntBits(before[i]) != Float.floatToRawIntBits(after[i])) {
                fail(what + ": element " + i + " outside the output window was changed");
            }
        }
    }

    @Test
    void spmmTMatchesDenseTransposeAndSpmmOfTranspose() {
        try (Arena arena = Arena.ofShared()) {
            for (int d : sizes()) {
                int m = d > 1000 ? 11 : 41, n = d > 1000 ? 7 : 29;
                for (boolean ones : new boolean[] {false, true}) {
                    for (boolean nat : new boolean[] {false, true}) {
                        Csr a = randomCsr(d * 7L + (ones ? 3 : 0), m, n, 10, ones);
                        float beta = nat ? 0f : -0.75f;
                        int ldx = d + 1, ldy = d + 3;
                        float[] xs = randn(d + 21, 2 + m * ldx), ys = randn(d + 22, 5 + n * ldy);
                        MemorySegment x = seg(arena, nat, xs);
                        String what = "spmmT d=" + d + " ones=" + ones + " native=" + nat;

                        // dense double reference: Y = A^T X + beta Y
                        double[] ref = new double[ys.length];
                        double[] mag = new double[ys.length];
                        for (int i = 0; i < ys.length; i++) {
                            ref[i] = ys[i];
                            mag[i] = Math.abs(ys[i]);
                        }
                        double[][] at = new double[n][m], atAbs = new double[n][m];
                        for (int i = 0; i < m; i++) {
                            for (int k = a.ptr[i]; k < a.ptr[i + 1]; k++) {
                                at[a.col[k]][i] += a.val == null ? 1 : a.val[k];
                                atAbs[a.col[k]][i] += a.val == null ? 1 : Math.abs(a.val[k]);
                            }
                        }
                        for (int j = 0; j < n; j++) {
                            for (int c = 0; c < d; c++) {
                                double s = 0, s2 = 0;
                                for (int i = 0; i < m; i++) {
                                    s += at[j][i] * xs[2 + i * ldx + c];
                                    s2 += atAbs[j][i] * Math.abs(xs[2 + i * ldx + c]);
                                }
                                int o = 5 + j * ldy + c;
                                ref[o] = s + beta * ys[o];
                                mag[o] = s2 + Math.abs(beta * ys[o]);
                            }
                        }
                        int maxCol = maxRow(a.transpose());
                        for (boolean simd : new boolean[] {false, true}) {
                            MemorySegment y = seg(arena, nat, ys);
                            if (simd) SpmmSimd.spmmT(m, n, d, a.ptr, a.col, a.val, x, 2, ldx, beta, y, 5, ldy);
                            else SpmmScalar.spmmT(m, n, d, a.ptr, a.col, a.val, x, 2, ldx, beta, y, 5, ldy);
                            float[] got = toArray(y);
                            for (int i = 0; i < got.length; i++) {
                                double tol = 2.4e-7 * (maxCol + 2) * mag[i] + 1e-30;
                                if (!(Math.abs(ref[i] - got[i]) <= tol)) {
                                    fail(what + " simd=" + simd + ": element " + i + " is " + got[i] + ", expected " + ref[i]);
                                }
                            }
                            assertPadsUntouched(what, ys, got, 5, ldy, d, n);
                        }
                        // the SIMD transpose path is exactly spmm over Csr.transpose()
                        Csr t = a.transpose();
                        MemorySegment y1 = seg(arena, nat, ys), y2 = seg(arena, nat, ys);
                        SpmmSimd.spmmT(m, n, d, a.ptr, a.col, a.val, x, 2, ldx, beta, y1, 5, ldy);
                        SpmmSimd.spmm(n, d, t.ptr, t.col, t.val, x, 2, ldx, beta, y2, 5, ldy);
                        assertBitEqual(what + " vs spmm(transpose)", toArray(y2), toArray(y1));
                    }
                }
            }
        }
    }

    @Test
    void spmmTSeesChangedValuesAndStructure() {
        Csr a = randomCsr(5, 30, 20, 6, false);
        int d = 2 * Simd.LANES + 3;
        float[] xs = randn(6, 30 * d);
        MemorySegment y1 = heap(new float[20 * d]), y2 = heap(new float[20 * d]);
        SpmmSimd.spmmT(30, 20, d, a.ptr, a.col, a.val, heap(xs), 0, d, 0f, y1, 0, d);
        // edit values and structure in place: the cached transpose must not be reused stale
        for (int k = 0; k < a.val.length; k++) a.val[k] *= -2f;
        for (int k = 0; k < a.col.length; k++) a.col[k] = (a.col[k] + 1) % 20;
        SpmmSimd.spmmT(30, 20, d, a.ptr, a.col, a.val, heap(xs), 0, d, 0f, y1, 0, d);
        SpmmScalar.spmmT(30, 20, d, a.ptr, a.col, a.val, heap(xs), 0, d, 0f, y2, 0, d);
        assertClose("spmmT after in-place edit", toArray(y2), toArray(y1), 1e-5, 1e-5);
        Csr.clearTransposeCache();
    }

    @Test
    void spmmRowsMatchesSpmm() {
        for (int d : sizes()) {
            int m = 50, n = 40;
            Csr a = randomCsr(d + 99L, m, n, 9, d % 2 == 0);
            float[] xs = randn(d + 3, n * d + 4);
            int[] rows = {3, 0, 49, 3, 17, 22, 8, 8, 41, 30, 1};
            float[] full = new float[m * d];
            float[] y0 = randn(d + 5, rows.length * (d + 1));
            for (boolean simd : new boolean[] {false, true}) {
                MemorySegment yFull = heap(full), yRows = heap(y0);
                if (simd) {
                    SpmmSimd.spmm(m, d, a.ptr, a.col, a.val, heap(xs), 4, d, 0f, yFull, 0, d);
                    SpmmSimd.spmmRows(rows.length, rows, d, a.ptr, a.col, a.val, heap(xs), 4, d, 0f, yRows, 0, d + 1);
                } else {
                    SpmmScalar.spmm(m, d, a.ptr, a.col, a.val, heap(xs), 4, d, 0f, yFull, 0, d);
                    SpmmScalar.spmmRows(rows.length, rows, d, a.ptr, a.col, a.val, heap(xs), 4, d, 0f, yRows, 0, d + 1);
                }
                float[] f = toArray(yFull), r = toArray(yRows);
                for (int t = 0; t < rows.length; t++) {
                    float[] e = java.util.Arrays.copyOfRange(f, rows[t] * d, rows[t] * d + d);
                    float[] g = java.util.Arrays.copyOfRange(r, t * (d + 1), t * (d + 1) + d);
                    assertBitEqual("spmmRows d=" + d + " simd=" + simd + " t=" + t, e, g);
                }
                assertPadsUntouched("spmmRows d=" + d, y0, r, 0, d + 1, d, rows.length);
            }
        }
    }

    @Test
    void oneAndTwoThreadsBitIdentical() {
        int m = 700, n = 500;
        Csr a = randomCsr(77, m, n, 40, false);
        int[] rows = new int[300];
        for (int t = 0; t < rows.length; t++) rows[t] = (t * 7) % m;
        for (int d : new int[] {20, 64, 3 * Simd.LANES + 1}) {
            float[] xs = randn(d, Math.max(m, n) * d), ys = randn(d + 1, Math.max(m, n) * d);
            float[][] out = new float[2][];
            float[][] outT = new float[2][];
            float[][] outR = new float[2][];
            for (int th = 1; th <= 2; th++) {
                Parallel.setThreads(th);
                MemorySegment y = heap(ys), yt = heap(ys), yr = heap(ys);
                SpmmSimd.spmm(m, d, a.ptr, a.col, a.val, heap(xs), 0, d, 0.25f, y, 0, d);
                SpmmSimd.spmmT(n, m, d, a.transpose().ptr, a.transpose().col, a.transpose().val, heap(xs), 0, d, 0.25f, yt, 0, d);
                SpmmSimd.spmmRows(rows.length, rows, d, a.ptr, a.col, a.val, heap(xs), 0, d, 0.25f, yr, 0, d);
                out[th - 1] = toArray(y);
                outT[th - 1] = toArray(yt);
                outR[th - 1] = toArray(yr);
            }
            assertBitEqual("spmm threads d=" + d, out[0], out[1]);
            assertBitEqual("spmmT threads d=" + d, outT[0], outT[1]);
            assertBitEqual("spmmRows threads d=" + d, outR[0], outR[1]);
        }
    }

    @Test
    void handComputed() {
        // A (3 x 3): row 0 = {c0: 1, c2: 2, c0: 0.5 (duplicate)}, row 1 empty, row 2 = {c1: 3}
        int[] ptr = {0, 3, 3, 4};
        int[] col = {0, 2, 0, 1};
        float[] val = {1f, 2f, 0.5f, 3f};
        // X (3 x 2) rows: [1, 2], [3, 4], [5, 6]
        float[] x = {1, 2, 3, 4, 5, 6};
        float[] y0 = {1, 1, Float.NaN, 2, 3, 3};
        // A X = [1.5*[1,2] + 2*[5,6], 0, 3*[3,4]] = [11.5, 15], [0, 0], [9, 12]
        float[] expectBeta0 = {11.5f, 15f, 0f, 0f, 9f, 12f};
        // A^T X: col0 <- 1.5*x0 = [1.5, 3]; col1 <- 3*x2 = [15, 18]; col2 <- 2*x0 = [2, 4]
        // plus beta = 2 times y = [1, 1], [0, 0], [3, 3]
        float[] expectT = {1.5f + 2f, 3f + 2f, 15f, 18f, 2f + 6f, 4f + 6f};
        for (boolean simd : new boolean[] {false, true}) {
            MemorySegment y = heap(y0);
            if (simd) SpmmSimd.spmm(3, 2, ptr, col, val, heap(x), 0, 2, 0f, y, 0, 2);
            else SpmmScalar.spmm(3, 2, ptr, col, val, heap(x), 0, 2, 0f, y, 0, 2);
            assertBitEqual("spmm beta 0 (NaN in y ignored) simd=" + simd, expectBeta0, toArray(y));
            float[] yb = {1, 1, 0, 0, 3, 3};
            MemorySegment y2 = heap(yb);
            if (simd) SpmmSimd.spmmT(3, 3, 2, ptr, col, val, heap(x), 0, 2, 2f, y2, 0, 2);
            else SpmmScalar.spmmT(3, 3, 2, ptr, col, val, heap(x), 0, 2, 2f, y2, 0, 2);
            assertBitEqual("spmmT beta 2 simd=" + simd, expectT, toArray(y2));
            MemorySegment y3 = heap(new float[] {10, 20});
            if (simd) SpmmSimd.spmmRows(1, new int[] {2}, 2, ptr, col, null, heap(x), 0, 2, -1f, y3, 0, 2);
            else SpmmScalar.spmmRows(1, new int[] {2}, 2, ptr, col, null, heap(x), 0, 2, -1f, y3, 0, 2);
            assertBitEqual("spmmRows null val simd=" + simd, new float[] {3f - 10f, 4f - 20f}, toArray(y3));
        }
    }

    @Test
    void emptyShapesDoNothing() {
        MemorySegment y = heap(new float[] {7f});
        SpmmSimd.spmm(0, 4, new int[] {0}, new int[0], null, heap(new float[0]), 0, 4, 0f, y, 0, 4);
        SpmmSimd.spmm(1, 0, new int[] {0, 0}, new int[0], null, heap(new float[0]), 0, 1, 0f, y, 0, 1);
        SpmmSimd.spmmT(1, 0, 1, new int[] {0, 0}, new int[0], null, heap(new float[1]), 0, 1, 0f, y, 0, 1);
        SpmmSimd.spmmRows(0, new int[0], 1, new int[] {0}, new int[0], null, heap(new float[1]), 0, 1, 0f, y, 0, 1);
        assertEquals(7f, toArray(y)[0]);
    }

    @Test
    void badArgumentsAreRejected() {
        int[] ptr = {0, 2, 3};
        int[] col = {0, 1, 1};
        MemorySegment x = heap(new float[8]), y = heap(new float[8]);
        // column 1 needs two rows of X (d = 4): X has exactly 2
        SpmmSimd.spmm(2, 4, ptr, col, null, x, 0, 4, 0f, y, 0, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SpmmSimd.spmm(2, 4, ptr, col, null, x, 1, 4, 0f, y, 0, 4));
        assertTrue(e.getMessage().startsWith("spmm"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SpmmSimd.spmm(2, 4, new int[] {0, 2, 1}, col, null, x, 0, 4, 0f, y, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SpmmSimd.spmm(2, 4, ptr, new int[] {0, -1, 1}, null, x, 0, 4, 0f, y, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SpmmSimd.spmm(2, 4, ptr, col, new float[2], x, 0, 4, 0f, y, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SpmmSimd.spmm(2, 4, ptr, col, null, x, 0, 3, 0f, y, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SpmmSimd.spmm(3, 4, ptr, col, null, x, 0, 4, 0f, y, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SpmmScalar.spmm(2, 4, ptr, col, null, x, 0, 4, 0f, y, 1, 4));
        assertThrows(IllegalArgumentException.class, () -> SpmmSimd.spmmT(2, 1, 4, ptr, col, null, x, 0, 4, 0f, y, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SpmmSimd.spmmT(3, 2, 2, ptr, col, null, x, 0, 4, 0f, y, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SpmmSimd.spmmRows(1, new int[] {2}, 4, ptr, col, null, x, 0, 4, 0f, y, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SpmmScalar.spmmRows(1, new int[] {-1}, 4, ptr, col, null, x, 0, 4, 0f, y, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SpmmSimd.spmmRows(1, new int[] {1}, 4, ptr, new int[] {0, 0, 2}, null, x, 0, 4, 0f, y, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> new Csr(2, 1, ptr, col, null));
    }
}
