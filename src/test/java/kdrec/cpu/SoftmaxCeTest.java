package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.assertBitEqual;
import static kdrec.cpu.KernelTestSupport.assertClose;
import static kdrec.cpu.KernelTestSupport.heap;
import static kdrec.cpu.KernelTestSupport.offHeap;
import static kdrec.cpu.KernelTestSupport.randn;
import static kdrec.cpu.KernelTestSupport.toArray;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** SoftmaxCeScalar vs SoftmaxCeSimd; online vs materialised; hand-computed cases; finite differences. */
@Tag("simd")
class SoftmaxCeTest {

    static int[] targets(long seed, int m, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[m];
        for (int i = 0; i < m; i++) t[i] = r.nextInt(n);
        return t;
    }

    /** U (m x d, ld d+pu, offset 3) and items (n x d, ld d+pi, offset 5). */
    static final class Dense {
        final int m, n, d, ldu, ldi;
        final long uOff = 3, iOff = 5;
        final float[] u, it;
        final int[] target;

        Dense(long seed, int m, int n, int d) {
            this.m = m; this.n = n; this.d = d;
            ldu = d + 2; ldi = d + 1;
            u = randn(seed, (int) uOff + m * ldu);
            it = randn(seed + 1, (int) iOff + n * ldi);
            target = targets(seed + 2, m, Math.max(1, n));
        }

        double dot(double[] uu, double[] ii, int r, int j) {
            double s = 0;
            for (int k = 0; k < d; k++) s += uu[(int) uOff + r * ldu + k] * ii[(int) iOff + j * ldi + k];
            return s;
        }
    }

    @Test
    void forwardMatchesScalar() {
        try (Arena arena = Arena.ofConfined()) {
            for (int n : KernelTestSupport.sizes()) {
                if (n == 0) continue;
                for (int d : new int[] {1, Simd.LANES - 1, Simd.LANES + 1, 20, 64}) {
                    if (d == 0) continue;
                    int m = n > 2000 ? 4 : 7;
                    Dense p = new Dense(n * 31L + d, m, n, d);
                    boolean nat = (n + d) % 2 == 0;
                    MemorySegment u = nat ? offHeap(arena, p.u) : heap(p.u), it = nat ? offHeap(arena, p.it) : heap(p.it);
                    float scale = (float) (2 / Math.sqrt(d));
                    float[] lossE = new float[m], lseE = new float[m], lossA = new float[m], lseA = new float[m];
                    SoftmaxCeScalar.forward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, lossE, lseE);
                    SoftmaxCeSimd.forward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, lossA, lseA);
                    String w = "forward n=" + n + " d=" + d;
                    double tol = 1e-6 * (d + 1) * scale * 4 + 1e-5;
                    assertClose(w + " lse", lseE, lseA, tol, 1e-5);
                    assertClose(w + " loss", lossE, lossA, tol, 1e-5);
                }
            }
        }
    }

    @Test
    void backwardMatchesScalar() {
        try (Arena arena = Arena.ofConfined()) {
            for (int n : KernelTestSupport.sizes()) {
                if (n == 0 || n > 2100) continue;
                for (int d : new int[] {1, Simd.LANES + 1, 4 * Simd.LANES + 3, 64}) {
                    int m = 5;
                    Dense p = new Dense(n * 17L + d, m, n, d);
                    boolean nat = (n + d) % 2 == 1;
                    MemorySegment u = nat ? offHeap(arena, p.u) : heap(p.u), it = nat ? offHeap(arena, p.it) : heap(p.it);
                    float scale = (float) (1.5 / Math.sqrt(d));
                    float[] loss = new float[m], lse = new float[m], gLoss = {1f, 0.5f, -2f, 0f, 3f};
                    SoftmaxCeScalar.forward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, loss, lse);
                    float[] du0 = randn(8, p.u.length), di0 = randn(9, p.it.length);
                    MemorySegment duE = heap(du0), diE = heap(di0), duA = heap(du0), diA = heap(di0);
                    SoftmaxCeScalar.backward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, lse, gLoss, duE, p.uOff, p.ldu, diE, p.iOff, p.ldi);
                    SoftmaxCeSimd.backward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, lse, gLoss, duA, p.uOff, p.ldu, diA, p.iOff, p.ldi);
                    String w = "backward n=" + n + " d=" + d;
                    assertClose(w + " du", toArray(duE), toArray(duA), 2e-5 * Math.sqrt(d + 1) * 3, 1e-4);
                    assertClose(w + " di", toArray(diE), toArray(diA), 2e-5 * Math.sqrt(d + 1) * 3, 1e-4);
                    // one gradient alone gives the same bits as with both
                    MemorySegment duOnly = heap(du0);
                    SoftmaxCeSimd.backward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, lse, gLoss, duOnly, p.uOff, p.ldu, null, 0, 0);
                    assertBitEqual(w + " du alone", toArray(duA), toArray(duOnly));
                    MemorySegment diOnly = heap(di0);
                    SoftmaxCeSimd.backward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, lse, gLoss, null, 0, 0, diOnly, p.iOff, p.ldi);
                    assertBitEqual(w + " di alone", toArray(diA), toArray(diOnly));
                }
            }
        }
    }

    @Test
    void onlineMatchesMaterialised() {
        // materialised: logits = scale * U I^T, rowsInPlace with gradScale = gLoss * scale gives G;
        // du = G I, di = G^T U in double; the online kernels must agree
        int m = 37, n = 1021, d = 64;
        Dense p = new Dense(123, m, n, d);
        float scale = 0.2f;
        MemorySegment u = heap(p.u), it = heap(p.it);
        int ld = n + 3;
        float[] logits = new float[m * ld];
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int k = 0; k < d; k++) s = Math.fma(p.u[(int) p.uOff + r * p.ldu + k], p.it[(int) p.iOff + j * p.ldi + k], s);
                logits[r * ld + j] = scale * s;
            }
        }
        float[] gLoss = randn(4, m), gs = new float[m];
        for (int r = 0; r < m; r++) gs[r] = gLoss[r] * scale;
        MemorySegment g = heap(logits);
        float[] lossM = new float[m];
        SoftmaxCeSimd.rowsInPlace(m, n, g, 0, ld, p.target, gs, lossM);
        float[] lossO = new float[m], lse = new float[m];
        SoftmaxCeSimd.forward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, lossO, lse);
        assertClose("online vs materialised loss", lossM, lossO, 2e-5, 1e-5);
        MemorySegment du = heap(new float[p.u.length]), di = heap(new float[p.it.length]);
        SoftmaxCeSimd.backward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, lse, gLoss, du, p.uOff, p.ldu, di, p.iOff, p.ldi);
        float[] gm = toArray(g);
        double[] duR = new double[p.u.length], diR = new double[p.it.length];
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < n; j++) {
                double gv = gm[r * ld + j];
                for (int k = 0; k < d; k++) {
                    duR[(int) p.uOff + r * p.ldu + k] += gv * p.it[(int) p.iOff + j * p.ldi + k];
                    diR[(int) p.iOff + j * p.ldi + k] += gv * p.u[(int) p.uOff + r * p.ldu + k];
                }
            }
        }
        assertClose("online vs materialised du", duR, toArray(du), 2e-5, 1e-4);
        assertClose("online vs materialised di", diR, toArray(di), 2e-5, 1e-4);
    }

    @Test
    void rowsInPlaceMatchesScalar() {
        try (Arena arena = Arena.ofConfined()) {
            for (int n : KernelTestSupport.sizes()) {
                if (n == 0) continue;
                int m = 6, ld = n + 5;
                float[] z = randn(n, 7 + m * ld);
                for (int i = 0; i < z.length; i++) z[i] *= 4f;
                int[] t = targets(n + 1, m, n);
                for (float[] gs : new float[][] {null, {1f, 2f, -0.5f, 0f, 3f, 1e-3f}}) {
                    MemorySegment e = heap(z), a = (n & 1) == 0 ? offHeap(arena, z) : heap(z);
                    float[] lossE = new float[m], lossA = new float[m];
                    SoftmaxCeScalar.rowsInPlace(m, n, e, 7, ld, t, gs, lossE);
                    SoftmaxCeSimd.rowsInPlace(m, n, a, 7, ld, t, gs, lossA);
                    assertClose("rowsInPlace loss n=" + n, lossE, lossA, 1e-5, 2e-6);
                    float[] ge = toArray(e), ga = toArray(a);
                    assertClose("rowsInPlace grad n=" + n, ge, ga, 1e-6, 1e-5);
                    // padding between rows and before the matrix untouched
                    for (int r = 0; r < m; r++) for (int j = n; j < ld && 7 + r * ld + j < z.length; j++) assertEquals(z[7 + r * ld + j], ga[7 + r * ld + j]);
                    for (int i = 0; i < 7; i++) assertEquals(z[i], ga[i]);
                }
            }
        }
    }

    @Test
    void sampledMatchesScalar() {
        for (int len : KernelTestSupport.sizes()) {
            int m = 5;
            int[] ptr = new int[m + 1];
            SplittableRandom r = new SplittableRandom(len);
            ptr[0] = 1;
            for (int i = 0; i < m; i++) ptr[i + 1] = ptr[i] + (i == 2 ? 0 : len - r.nextInt(Math.max(1, len / 3 + 1)));
            float[] neg = randn(len + 1, ptr[m] + 1), pos = randn(len + 2, m);
            for (float negScale : new float[] {1f, 7.5f}) {
                float[] rs = {1f, 0.5f, 2f, -1f, 0f};
                float[] lE = new float[m], gpE = new float[m], gnE = new float[neg.length];
                float[] lA = new float[m], gpA = new float[m], gnA = new float[neg.length];
                SoftmaxCeScalar.sampled(m, pos, ptr, neg, negScale, rs, lE, gpE, gnE);
                SoftmaxCeSimd.sampled(m, pos, ptr, neg, negScale, rs, lA, gpA, gnA);
                String w = "sampled len=" + len + " negScale=" + negScale;
                assertClose(w + " loss", lE, lA, 1e-5, 2e-6);
                assertClose(w + " gPos", gpE, gpA, 1e-6, 1e-5);
                assertClose(w + " gNeg", gnE, gnA, 1e-7, 1e-5);
                assertEquals(0f, gnA[0]); // before ptr[0]: untouched
            }
        }
    }

    @Test
    void handComputed() {
        // logits [1 2 3], target 0: lse = log(e + e^2 + e^3), loss = lse - 1, grad = softmax - [1 0 0]
        double[] sm = {0.09003057317038048, 0.2447284710547977, 0.665240955774822};
        for (boolean simd : new boolean[] {false, true}) {
            MemorySegment z = heap(new float[] {1, 2, 3});
            float[] loss = new float[1];
            if (simd) SoftmaxCeSimd.rowsInPlace(1, 3, z, 0, 3, new int[] {0}, null, loss);
            else SoftmaxCeScalar.rowsInPlace(1, 3, z, 0, 3, new int[] {0}, null, loss);
            assertEquals(2.40760596444438, loss[0], 2e-6);
            assertClose("hand grad", new double[] {sm[0] - 1, sm[1], sm[2]}, toArray(z), 1e-6, 0);
            // the same through the online forward: u = [1], items = [1], [2], [3], scale 1
            float[] l2 = new float[1], lse = new float[1];
            MemorySegment u = heap(new float[] {1}), it = heap(new float[] {1, 2, 3});
            if (simd) SoftmaxCeSimd.forward(1, 3, 1, u, 0, 1, it, 0, 1, 1f, new int[] {0}, l2, lse);
            else SoftmaxCeScalar.forward(1, 3, 1, u, 0, 1, it, 0, 1, 1f, new int[] {0}, l2, lse);
            assertEquals(3.40760596444438, lse[0], 2e-6);
            assertEquals(2.40760596444438, l2[0], 2e-6);
            // sampled: pos 2, negatives {0, 1}; negScale 1 and 3
            float[] sl = new float[1], gp = new float[1], gn = new float[2];
            float[] neg = {0, 1};
            if (simd) SoftmaxCeSimd.sampled(1, new float[] {2}, new int[] {0, 2}, neg, 1f, null, sl, gp, gn);
            else SoftmaxCeScalar.sampled(1, new float[] {2}, new int[] {0, 2}, neg, 1f, null, sl, gp, gn);
            assertEquals(0.40760596444438013, sl[0], 1e-6);
            assertClose("sampled grad", new double[] {sm[0], sm[1]}, gn, 1e-6, 0);
            assertEquals(sm[2] - 1, gp[0], 1e-6);
            if (simd) SoftmaxCeSimd.sampled(1, new float[] {2}, new int[] {0, 2}, neg, 3f, null, sl, gp, gn);
            else SoftmaxCeScalar.sampled(1, new float[] {2}, new int[] {0, 2}, neg, 3f, null, sl, gp, gn);
            assertEquals(0.9201409794385644, sl[0], 1e-6);
            assertEquals(-0.601537137946018, gp[0], 1e-6);
            assertClose("scaled sampled grad", new double[] {0.16177825288604092, 0.4397588850599771}, gn, 1e-6, 0);
        }
    }

    @Test
    void largeLogitsDoNotOverflow() {
        // [80, -80, 79], target 1: lse = 80 + log(1 + e^-1 + e^-160)
        for (boolean simd : new boolean[] {false, true}) {
            MemorySegment z = heap(new float[] {80, -80, 79});
            float[] loss = new float[1];
            if (simd) SoftmaxCeSimd.rowsInPlace(1, 3, z, 0, 3, new int[] {1}, null, loss);
            else SoftmaxCeScalar.rowsInPlace(1, 3, z, 0, 3, new int[] {1}, null, loss);
            assertEquals(160.3132616875182, loss[0], 1e-4);
            assertClose("big grad", new double[] {0.7310585786300063, -1, 0.26894142136999566}, toArray(z), 1e-6, 0);
            float[] l2 = new float[1], lse = new float[1];
            MemorySegment u = heap(new float[] {40}), it = heap(new float[] {2, -2, 1.975f});
            if (simd) SoftmaxCeSimd.forward(1, 3, 1, u, 0, 1, it, 0, 1, 1f, new int[] {1}, l2, lse);
            else SoftmaxCeScalar.forward(1, 3, 1, u, 0, 1, it, 0, 1, 1f, new int[] {1}, l2, lse);
            assertEquals(80.31326168751822, lse[0], 1e-4);
            float[] sl = new float[1], gp = new float[1], gn = new float[2];
            if (simd) SoftmaxCeSimd.sampled(1, new float[] {-80}, new int[] {0, 2}, new float[] {80, 79}, 1f, null, sl, gp, gn);
            else SoftmaxCeScalar.sampled(1, new float[] {-80}, new int[] {0, 2}, new float[] {80, 79}, 1f, null, sl, gp, gn);
            assertEquals(160.3132616875182, sl[0], 1e-4);
            assertTrue(Float.isFinite(gp[0]) && Float.isFinite(gn[0]));
        }
    }

    @Test
    void emptyAndDegenerate() {
        for (boolean simd : new boolean[] {false, true}) {
            MemorySegment none = heap(new float[0]);
            float[] l = {5, 5}, gp = {5, 5}, gn = new float[0];
            if (simd) SoftmaxCeSimd.sampled(2, new float[] {1, -3}, new int[] {0, 0, 0}, gn, 2f, null, l, gp, gn);
            else SoftmaxCeScalar.sampled(2, new float[] {1, -3}, new int[] {0, 0, 0}, gn, 2f, null, l, gp, gn);
            assertBitEqual("no negatives: loss", new float[] {0, 0}, l);
            assertBitEqual("no negatives: gPos", new float[] {0, 0}, gp);
            // m = 0 anywhere is a no-op
            if (simd) {
                SoftmaxCeSimd.forward(0, 0, 4, none, 0, 4, none, 0, 4, 1f, new int[0], new float[0], new float[0]);
                SoftmaxCeSimd.backward(0, 3, 4, none, 0, 4, heap(new float[12]), 0, 4, 1f, new int[0], new float[0], new float[0], null, 0, 4, heap(new float[12]), 0, 4);
                SoftmaxCeSimd.rowsInPlace(0, 5, none, 0, 5, new int[0], null, new float[0]);
            }
            // one item: loss 0, gradient 0
            MemorySegment one = heap(new float[] {3.5f});
            float[] loss = {9};
            if (simd) SoftmaxCeSimd.rowsInPlace(1, 1, one, 0, 1, new int[] {0}, null, loss);
            else SoftmaxCeScalar.rowsInPlace(1, 1, one, 0, 1, new int[] {0}, null, loss);
            assertEquals(0f, loss[0], 0f);
            assertEquals(0f, toArray(one)[0], 0f);
            // NaN logit: NaN loss
            MemorySegment nan = heap(new float[] {1, Float.NaN, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
            if (simd) SoftmaxCeSimd.rowsInPlace(1, 18, nan, 0, 18, new int[] {0}, null, loss);
            else SoftmaxCeScalar.rowsInPlace(1, 18, nan, 0, 18, new int[] {0}, null, loss);
            assertTrue(Float.isNaN(loss[0]));
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        int m = 4, n = 2 * SoftmaxCeTiled.NB + 5, d = Simd.LANES + 2; // several item tiles
        Dense p = new Dense(55, m, n, d);
        float scale = 0.7f;
        float[] gLoss = {1f, -0.5f, 2f, 0.25f};
        for (boolean simd : new boolean[] {false, true}) {
            MemorySegment u = heap(p.u), it = heap(p.it);
            float[] loss = new float[m], lse = new float[m];
            MemorySegment du = heap(new float[p.u.length]), di = heap(new float[p.it.length]);
            if (simd) {
                SoftmaxCeSimd.forward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, loss, lse);
                SoftmaxCeSimd.backward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, lse, gLoss, du, p.uOff, p.ldu, di, p.iOff, p.ldi);
            } else {
                SoftmaxCeScalar.forward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, loss, lse);
                SoftmaxCeScalar.backward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, scale, p.target, lse, gLoss, du, p.uOff, p.ldu, di, p.iOff, p.ldi);
            }
            double[] uD = SubsetCeTest.toDouble(p.u), iD = SubsetCeTest.toDouble(p.it);
            double base = total(p, uD, iD, scale, gLoss);
            double sum = 0;
            for (int r = 0; r < m; r++) sum += gLoss[r] * loss[r];
            assertEquals(base, sum, 1e-4, "loss");
            double h = 1e-3;
            float[] duA = toArray(du), diA = toArray(di);
            for (int k = 0; k < uD.length; k++) {
                double keep = uD[k];
                uD[k] = keep + h; double lp = total(p, uD, iD, scale, gLoss);
                uD[k] = keep - h; double lm = total(p, uD, iD, scale, gLoss);
                uD[k] = keep;
                assertEquals((lp - lm) / (2 * h), duA[k], 2e-4, "du[" + k + "] simd=" + simd);
            }
            for (int k = 0; k < iD.length; k += 3) {
                double keep = iD[k];
                iD[k] = keep + h; double lp = total(p, uD, iD, scale, gLoss);
                iD[k] = keep - h; double lm = total(p, uD, iD, scale, gLoss);
                iD[k] = keep;
                assertEquals((lp - lm) / (2 * h), diA[k], 2e-4, "di[" + k + "] simd=" + simd);
            }
        }
    }

    /** sum_r gLoss[r] * (lse_r - z_r,target) in double. */
    static double total(Dense p, double[] u, double[] it, double scale, float[] gLoss) {
        double s = 0;
        for (int r = 0; r < p.m; r++) {
            double mx = Double.NEGATIVE_INFINITY;
            double[] z = new double[p.n];
            for (int j = 0; j < p.n; j++) { z[j] = scale * p.dot(u, it, r, j); mx = Math.max(mx, z[j]); }
            double e = 0;
            for (int j = 0; j < p.n; j++) e += Math.exp(z[j] - mx);
            s += gLoss[r] * (mx + Math.log(e) - z[p.target[r]]);
        }
        return s;
    }

    @Test
    void sampledGradientMatchesFiniteDifferences() {
        float[] pos = {0.3f, -1f}, neg = randn(3, 11);
        int[] ptr = {0, 6, 11};
        for (boolean simd : new boolean[] {false, true}) {
            float[] loss = new float[2], gp = new float[2], gn = new float[11], rs = {1f, 0.5f};
            if (simd) SoftmaxCeSimd.sampled(2, pos, ptr, neg, 4f, rs, loss, gp, gn);
            else SoftmaxCeScalar.sampled(2, pos, ptr, neg, 4f, rs, loss, gp, gn);
            double h = 1e-4;
            for (int r = 0; r < 2; r++) {
                double fd = (sampledD(pos[r] + h, neg, ptr[r], ptr[r + 1], 4) - sampledD(pos[r] - h, neg, ptr[r], ptr[r + 1], 4)) / (2 * h);
                assertEquals(rs[r] * fd, gp[r], 1e-5, "gPos " + r);
                for (int j = ptr[r]; j < ptr[r + 1]; j++) {
                    double[] nn = SubsetCeTest.toDouble(neg);
                    nn[j] += h; double lp = sampledD(pos[r], nn, ptr[r], ptr[r + 1], 4);
                    nn[j] -= 2 * h; double lm = sampledD(pos[r], nn, ptr[r], ptr[r + 1], 4);
                    assertEquals(rs[r] * (lp - lm) / (2 * h), gn[j], 1e-5, "gNeg " + j);
                }
            }
        }
    }

    static double sampledD(double p, float[] neg, int a, int b, double ns) {
        return sampledD(p, SubsetCeTest.toDouble(neg), a, b, ns);
    }

    static double sampledD(double p, double[] neg, int a, int b, double ns) {
        double s = 0;
        for (int j = a; j < b; j++) s += Math.exp(neg[j]);
        return -p + Math.log(Math.exp(p) + ns * s);
    }

    @Test
    void bitIdenticalForOneAndTwoThreads() {
        int saved = Parallel.threads();
        try {
            int m = 400, n = 500, d = 16;
            Dense p = new Dense(99, m, n, d);
            float[] gLoss = randn(5, m);
            float[][] out = new float[2][];
            float[][] du = new float[2][], di = new float[2][], rows = new float[2][], samp = new float[2][];
            for (int t = 1; t <= 2; t++) {
                Parallel.setThreads(t);
                MemorySegment u = heap(p.u), it = heap(p.it);
                float[] loss = new float[m], lse = new float[m];
                SoftmaxCeSimd.forward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, 0.3f, p.target, loss, lse);
                MemorySegment dus = heap(new float[p.u.length]), dis = heap(new float[p.it.length]);
                SoftmaxCeSimd.backward(m, n, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, 0.3f, p.target, lse, gLoss, dus, p.uOff, p.ldu, dis, p.iOff, p.ldi);
                float[] both = new float[2 * m];
                System.arraycopy(loss, 0, both, 0, m);
                System.arraycopy(lse, 0, both, m, m);
                out[t - 1] = both; du[t - 1] = toArray(dus); di[t - 1] = toArray(dis);
                MemorySegment z = heap(randn(7, m * n));
                float[] rl = new float[m];
                SoftmaxCeSimd.rowsInPlace(m, n, z, 0, n, p.target, gLoss, rl);
                float[] zz = toArray(z), r2 = new float[zz.length + m];
                System.arraycopy(zz, 0, r2, 0, zz.length);
                System.arraycopy(rl, 0, r2, zz.length, m);
                rows[t - 1] = r2;
                int sm = 800, per = 100;
                int[] ptr = new int[sm + 1];
                for (int i = 0; i < sm; i++) ptr[i + 1] = ptr[i] + per;
                float[] neg = randn(11, sm * per), sl = new float[sm], gp = new float[sm], gn = new float[sm * per];
                SoftmaxCeSimd.sampled(sm, randn(12, sm), ptr, neg, 2f, null, sl, gp, gn);
                float[] s3 = new float[2 * sm + gn.length];
                System.arraycopy(sl, 0, s3, 0, sm);
                System.arraycopy(gp, 0, s3, sm, sm);
                System.arraycopy(gn, 0, s3, 2 * sm, gn.length);
                samp[t - 1] = s3;
            }
            assertBitEqual("forward 1 vs 2 threads", out[0], out[1]);
            assertBitEqual("du 1 vs 2 threads", du[0], du[1]);
            assertBitEqual("di 1 vs 2 threads", di[0], di[1]);
            assertBitEqual("rowsInPlace 1 vs 2 threads", rows[0], rows[1]);
            assertBitEqual("sampled 1 vs 2 threads", samp[0], samp[1]);
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void badArguments() {
        MemorySegment u = heap(new float[8]), it = heap(new float[12]);
        float[] two = new float[2];
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.forward(2, 3, 4, u, 0, 4, it, 0, 4, 1f, new int[] {0, 3}, two, two));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.forward(2, 3, 4, u, 0, 4, it, 0, 4, 1f, new int[] {0, -1}, two, two));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeScalar.forward(2, 3, 4, u, 0, 4, it, 0, 4, Float.NaN, new int[] {0, 0}, two, two));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.forward(2, 4, 4, u, 0, 4, it, 0, 4, 1f, new int[] {0, 0}, two, two));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.forward(2, 3, 4, u, 0, 3, it, 0, 4, 1f, new int[] {0, 0}, two, two));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.forward(2, 3, 4, u, 1, 4, it, 0, 4, 1f, new int[] {0, 0}, two, two));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.forward(-1, 3, 4, u, 0, 4, it, 0, 4, 1f, new int[0], two, two));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.forward(2, 3, 4, u, 0, 4, it, 0, 4, 1f, new int[] {0, 0}, new float[1], two));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.backward(2, 3, 4, u, 0, 4, it, 0, 4, 1f, new int[] {0, 0}, two, two,
                heap(new float[7]), 0, 4, null, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.backward(2, 3, 4, u, 0, 4, it, 0, 4, 1f, new int[] {0, 0}, two, new float[1],
                null, 0, 4, null, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.rowsInPlace(2, 5, it, 0, 4, new int[] {0, 0}, null, two));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.rowsInPlace(2, 4, it, 0, 4, new int[] {0, 0}, new float[1], two));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SoftmaxCeSimd.rowsInPlace(2, 6, it, 0, 6, new int[] {0, 6}, null, two));
        assertTrue(e.getMessage().contains("SoftmaxCe.rowsInPlace") && e.getMessage().contains("target"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.sampled(1, two, new int[] {0, 3}, two, 1f, null, two, two, two));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.sampled(1, two, new int[] {0, 2}, two, -1f, null, two, two, two));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeScalar.sampled(1, two, new int[] {0, 2}, two, Float.NaN, null, two, two, two));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCeSimd.sampled(1, two, new int[] {0, 2}, two, 1f, null, two, two, new float[1]));
    }
}
