package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.assertBitEqual;
import static kdrec.cpu.KernelTestSupport.assertClose;
import static kdrec.cpu.KernelTestSupport.randn;
import static kdrec.cpu.VecTest.out;
import static kdrec.cpu.VecTest.seg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** LayerNormSimd against the LayerNormScalar oracle, normalisation properties, finite differences, threads. */
@Tag("simd")
class LayerNormTest {
    private static final float EPS = 1e-5f;

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    static int[] dims() {
        int l = Simd.LANES;
        int large = Simd.emulated() ? 1021 : 4096;
        return IntStream.of(1, 2, l - 1, l, l + 1, 2 * l + 1, 13, 31, 64, 97, large).filter(v -> v >= 1).distinct().sorted().toArray();
    }

    /** Rows with a non-zero mean (exercises the two-pass variance). */
    static float[] data(long seed, int n) {
        float[] x = randn(seed, n);
        for (int i = 0; i < n; i++) x[i] = 3 * x[i] + 5;
        return x;
    }

    /** Float error of sums over d terms, scaled to values of size ~1..3. */
    private static double tol(int d) {
        return 2e-6 * (4 + Math.sqrt(d));
    }

    @Test
    void forwardAndBackwardMatchScalar() {
        try (Arena arena = Arena.ofConfined()) {
            for (Arena ar : new Arena[] {null, arena}) {
                for (int rows : new int[] {0, 1, 3, 17}) {
                    for (int d : dims()) {
                        for (int affine = 0; affine < 4; affine++) {
                            check(ar, rows, d, (affine & 1) != 0, (affine & 2) != 0);
                        }
                    }
                }
            }
        }
    }

    private void check(Arena ar, int rows, int d, boolean withGamma, boolean withBeta) {
        int ldx = d + 3, ldy = d + 1, ldg = d + 2, lddx = d + 5;
        String what = "rows=" + rows + " d=" + d + " gamma=" + withGamma + " beta=" + withBeta + (ar == null ? " heap" : " native");
        float[] x = data(rows * 31L + d, rows * ldx), gam = data(d + 1, d), bet = randn(d + 2, d);
        MemorySegment xs = seg(ar, x, 2), g = withGamma ? seg(ar, gam, 1) : null, b = withBeta ? seg(ar, bet, 0) : null;
        MemorySegment ys = seg(ar, new float[rows * ldy], 0), yv = seg(ar, new float[rows * ldy], 0);
        float[] ms = new float[rows], rs = new float[rows], mv = new float[rows], rv = new float[rows];
        LayerNormScalar.forward(rows, d, xs, 2, ldx, g, 1, b, 0, EPS, ys, 0, ldy, ms, rs);
        LayerNormSimd.forward(rows, d, xs, 2, ldx, g, 1, b, 0, EPS, yv, 0, ldy, mv, rv);
        double t = tol(d);
        assertClose("y " + what, out(ys), out(yv), t * (withGamma ? 10 : 1), t);
        assertClose("mean " + what, ms, mv, t * 5, t);
        assertClose("rstd " + what, rs, rv, 0, t);

        float[] dy = randn(rows + 5L * d, rows * ldg), dx0 = randn(7, rows * lddx), dg0 = randn(8, d), db0 = randn(9, d);
        MemorySegment dys = seg(ar, dy, 3);
        MemorySegment dxs = seg(ar, dx0, 1), dxv = seg(ar, dx0, 1), dgs = seg(ar, dg0, 0), dgv = seg(ar, dg0, 0);
        MemorySegment dbs = seg(ar, db0, 4), dbv = seg(ar, db0, 4);
        LayerNormScalar.backward(rows, d, xs, 2, ldx, g, 1, mv, rv, dys, 3, ldg, dxs, 1, lddx, withGamma ? dgs : null, 0, dbs, 4);
        LayerNormSimd.backward(rows, d, xs, 2, ldx, g, 1, mv, rv, dys, 3, ldg, dxv, 1, lddx, withGamma ? dgv : null, 0, dbv, 4);
        assertClose("dx " + what, out(dxs), out(dxv), t * (withGamma ? 30 : 3), t);
        double tr = 2e-6 * (2 + rows) * 4;
        assertClose("dgamma " + what, out(dgs), out(dgv), tr, 1e-6);
        assertClose("dbeta " + what, out(dbs), out(dbv), tr, 1e-6);
        if (!withGamma) assertBitEqual("dgamma untouched when null", out(dgs), out(dgv));
    }

    @Test
    void rowsAreNormalisedAndInPlaceWorks() {
        int rows = 5;
        for (int d : dims()) {
            if (d < 2) continue;
            float[] x = data(d, rows * d);
            float[] y = new float[rows * d], mean = new float[rows], rstd = new float[rows];
            LayerNormSimd.forward(rows, d, Mem.of(x), 0, d, null, 0, null, 0, 0f, Mem.of(y), 0, d, mean, rstd);
            for (int r = 0; r < rows; r++) {
                double s = 0, ss = 0, mx = 0;
                for (int j = 0; j < d; j++) mx += x[r * d + j];
                mx /= d;
                for (int j = 0; j < d; j++) {
                    s += y[r * d + j];
                    ss += (double) y[r * d + j] * y[r * d + j];
                }
                assertEquals(0, s / d, 1e-5, "row mean, d=" + d);
                assertEquals(1, ss / d, 1e-4, "row variance, d=" + d);
                assertEquals(mx, mean[r], 1e-5 * Math.abs(mx), "saved mean, d=" + d);
            }
            float[] xi = x.clone();
            LayerNormSimd.forward(rows, d, Mem.of(xi), 0, d, null, 0, null, 0, 0f, Mem.of(xi), 0, d, new float[rows], new float[rows]);
            assertBitEqual("in-place d=" + d, y, xi);
        }
    }

    @Test
    void handValues() {
        for (boolean simd : new boolean[] {false, true}) {
            float[] x = {1, 2, 3, 4}, y = new float[4], mean = new float[1], rstd = new float[1];
            MemorySegment g = Mem.of(new float[] {2, 2, 2, 2}), b = Mem.of(new float[] {1, 1, 1, 1});
            if (simd) LayerNormSimd.forward(1, 4, Mem.of(x), 0, 4, g, 0, b, 0, 0f, Mem.of(y), 0, 4, mean, rstd);
            else LayerNormScalar.forward(1, 4, Mem.of(x), 0, 4, g, 0, b, 0, 0f, Mem.of(y), 0, 4, mean, rstd);
            double r = 1 / Math.sqrt(1.25);
            assertEquals(2.5f, mean[0]);
            assertEquals(r, rstd[0], 1e-7);
            for (int j = 0; j < 4; j++) assertEquals((x[j] - 2.5) * r * 2 + 1, y[j], 1e-6, "y[" + j + "]");
            // constant row: zero variance, eps keeps it finite; output is beta
            float[] c = {7, 7, 7}, yc = new float[3];
            if (simd) LayerNormSimd.forward(1, 3, Mem.of(c), 0, 3, null, 0, b, 0, 1e-5f, Mem.of(yc), 0, 3, mean, rstd);
            else LayerNormScalar.forward(1, 3, Mem.of(c), 0, 3, null, 0, b, 0, 1e-5f, Mem.of(yc), 0, 3, mean, rstd);
            assertBitEqual("constant row", new float[] {1, 1, 1}, yc);
        }
    }

    /** Double-precision forward used for finite differences: loss = sum w * y. */
    private static double loss(int rows, int d, double[] x, double[] g, double[] b, float[] w) {
        double l = 0;
        for (int r = 0; r < rows; r++) {
            double mu = 0, var = 0;
            for (int j = 0; j < d; j++) mu += x[r * d + j];
            mu /= d;
            for (int j = 0; j < d; j++) var += (x[r * d + j] - mu) * (x[r * d + j] - mu);
            double rs = 1 / Math.sqrt(var / d + EPS);
            for (int j = 0; j < d; j++) l += w[r * d + j] * ((x[r * d + j] - mu) * rs * g[j] + b[j]);
        }
        return l;
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        int rows = 3, d = Simd.LANES + 3;
        float[] x = randn(1, rows * d), gam = data(2, d), bet = randn(3, d), w = randn(4, rows * d);
        double[] xd = new double[x.length], gd = new double[d], bd = new double[d];
        for (int i = 0; i < x.length; i++) xd[i] = x[i];
        for (int j = 0; j < d; j++) {
            gd[j] = gam[j];
            bd[j] = bet[j];
        }
        double h = 1e-4;
        for (boolean simd : new boolean[] {false, true}) {
            float[] y = new float[rows * d], mean = new float[rows], rstd = new float[rows];
            float[] dx = new float[rows * d], dg = new float[d], db = new float[d];
            if (simd) {
                LayerNormSimd.forward(rows, d, Mem.of(x), 0, d, Mem.of(gam), 0, Mem.of(bet), 0, EPS, Mem.of(y), 0, d, mean, rstd);
                LayerNormSimd.backward(rows, d, Mem.of(x), 0, d, Mem.of(gam), 0, mean, rstd, Mem.of(w), 0, d, Mem.of(dx), 0, d,
                        Mem.of(dg), 0, Mem.of(db), 0);
            } else {
                LayerNormScalar.forward(rows, d, Mem.of(x), 0, d, Mem.of(gam), 0, Mem.of(bet), 0, EPS, Mem.of(y), 0, d, mean, rstd);
                LayerNormScalar.backward(rows, d, Mem.of(x), 0, d, Mem.of(gam), 0, mean, rstd, Mem.of(w), 0, d, Mem.of(dx), 0, d,
                        Mem.of(dg), 0, Mem.of(db), 0);
            }
            for (double[] v : new double[][] {xd, gd, bd}) {
                float[] grad = v == xd ? dx : v == gd ? dg : db;
                String name = v == xd ? "dx" : v == gd ? "dgamma" : "dbeta";
                for (int i = 0; i < v.length; i++) {
                    double keep = v[i];
                    v[i] = keep + h;
                    double lp = loss(rows, d, xd, gd, bd, w);
                    v[i] = keep - h;
                    double lm = loss(rows, d, xd, gd, bd, w);
                    v[i] = keep;
                    double fd = (lp - lm) / (2 * h);
                    assertEquals(fd, grad[i], 2e-4 * (1 + Math.abs(fd)), (simd ? "simd " : "scalar ") + name + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void bitIdenticalForAnyThreadCount() {
        int rows = 301, d = 257;
        float[] x = data(5, rows * d), gam = data(6, d), bet = randn(7, d), dy = randn(8, rows * d);
        float[] y1 = null, m1 = null, r1 = null, dx1 = null, dg1 = null, db1 = null;
        for (int t : new int[] {1, 2, 3}) {
            Parallel.setThreads(t);
            float[] y = new float[rows * d], m = new float[rows], r = new float[rows];
            float[] dx = new float[rows * d], dg = new float[d], db = new float[d];
            LayerNormSimd.forward(rows, d, Mem.of(x), 0, d, Mem.of(gam), 0, Mem.of(bet), 0, EPS, Mem.of(y), 0, d, m, r);
            LayerNormSimd.backward(rows, d, Mem.of(x), 0, d, Mem.of(gam), 0, m, r, Mem.of(dy), 0, d, Mem.of(dx), 0, d,
                    Mem.of(dg), 0, Mem.of(db), 0);
            if (t == 1) {
                y1 = y; m1 = m; r1 = r; dx1 = dx; dg1 = dg; db1 = db;
            } else {
                assertBitEqual("y threads=" + t, y1, y);
                assertBitEqual("mean threads=" + t, m1, m);
                assertBitEqual("rstd threads=" + t, r1, r);
                assertBitEqual("dx threads=" + t, dx1, dx);
                assertBitEqual("dgamma threads=" + t, dg1, dg);
                assertBitEqual("dbeta threads=" + t, db1, db);
            }
        }
    }

    @Test
    void badArgumentsAreRejected() {
        MemorySegment s = Mem.of(new float[64]);
        float[] st = new float[8];
        assertThrows(IllegalArgumentException.class, () -> LayerNormSimd.forward(2, 0, s, 0, 0, null, 0, null, 0, EPS, s, 0, 0, st, st));
        assertThrows(IllegalArgumentException.class, () -> LayerNormSimd.forward(2, 8, s, 0, 7, null, 0, null, 0, EPS, s, 0, 8, st, st));
        assertThrows(IllegalArgumentException.class, () -> LayerNormSimd.forward(9, 8, s, 0, 8, null, 0, null, 0, EPS, s, 0, 8, st, st));
        assertThrows(IllegalArgumentException.class, () -> LayerNormSimd.forward(8, 8, s, 1, 8, null, 0, null, 0, EPS, s, 0, 8, st, st));
        assertThrows(IllegalArgumentException.class, () -> LayerNormSimd.forward(2, 8, s, 0, 8, null, 0, null, 0, -1f, s, 0, 8, st, st));
        assertThrows(IllegalArgumentException.class, () -> LayerNormSimd.forward(2, 8, s, 0, 8, s, 60, null, 0, EPS, s, 0, 8, st, st));
        assertThrows(IllegalArgumentException.class, () -> LayerNormScalar.forward(2, 8, s, 0, 8, null, 0, null, 0, EPS, s, 0, 8, new float[1], st));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LayerNormSimd.backward(2, 8, s, 0, 8, null, 0,
                st, st, s, 0, 8, s, 60, 8, null, 0, null, 0));
        assertTrue(e.getMessage().contains("LayerNormSimd.backward") && e.getMessage().contains("dx"), e.getMessage());
        // rows = 0 is a no-op, even with tiny segments
        LayerNormSimd.forward(0, 8, Mem.of(new float[1]), 0, 8, null, 0, null, 0, EPS, Mem.of(new float[1]), 0, 8, new float[0], new float[0]);
    }
}
