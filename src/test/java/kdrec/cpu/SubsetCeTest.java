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

/** SubsetCeScalar vs SubsetCeSimd, hand-computed RCE-KD cases, finite differences, determinism. */
@Tag("simd")
class SubsetCeTest {

    /** A random CSR problem: m user rows of width d (ld ldu, offset uOff), nItems item rows (ldi, iOff). */
    static final class Problem {
        final int m, d, nItems, ldu, ldi;
        final long uOff, iOff;
        final float[] uData, iData, teacher;
        final int[] ptr, idx;

        Problem(long seed, int m, int d, int nItems, int maxRow, int pad, long off) {
            this.m = m; this.d = d; this.nItems = nItems;
            ldu = d + pad; ldi = d + pad; uOff = off; iOff = off + 1;
            SplittableRandom r = new SplittableRandom(seed);
            ptr = new int[m + 1];
            ptr[0] = (int) (off % 3); // a CSR that does not start at 0 is legal
            for (int i = 0; i < m; i++) ptr[i + 1] = ptr[i] + r.nextInt(maxRow + 1);
            idx = new int[ptr[m] + 2];
            for (int j = 0; j < idx.length; j++) idx[j] = r.nextInt(nItems); // duplicates allowed
            uData = randn(seed + 1, (int) uOff + m * ldu);
            iData = randn(seed + 2, (int) iOff + nItems * ldi);
            teacher = randn(seed + 3, idx.length);
            for (int j = 0; j < teacher.length; j++) teacher[j] *= 3f;
        }

        int slots() { return idx.length; }
    }

    @Test
    void gatherDotMatchesScalar() {
        try (Arena arena = Arena.ofConfined()) {
            for (int d : KernelTestSupport.sizes()) {
                int maxRow = d > 1000 ? 5 : 20;
                for (boolean nat : new boolean[] {false, true}) {
                    Problem p = new Problem(11 + d, 7, d, 50, maxRow, d % 3 + 1, 5);
                    MemorySegment u = nat ? offHeap(arena, p.uData) : heap(p.uData);
                    MemorySegment it = nat ? offHeap(arena, p.iData) : heap(p.iData);
                    float[] e = new float[p.slots()], a = new float[p.slots()];
                    SubsetCeScalar.gatherDot(p.m, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, e);
                    SubsetCeSimd.gatherDot(p.m, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, a);
                    assertClose("gatherDot d=" + d + " native=" + nat, e, a, 2e-6 * (d + 1), 1e-5);
                    // entries outside [ptr[0], ptr[m]) are not written
                    for (int j = 0; j < p.ptr[0]; j++) assertEquals(0f, a[j]);
                    for (int j = p.ptr[p.m]; j < a.length; j++) assertEquals(0f, a[j]);
                }
            }
        }
    }

    @Test
    void gatherDotExact() {
        // U = [1 2 3], items rows [1 0 0], [0 1 0], [1 1 1]; row 0 = {2, 0, 2}, row 1 empty
        float[] u = {1, 2, 3};
        float[] items = {1, 0, 0, 0, 1, 0, 1, 1, 1};
        int[] ptr = {0, 3, 3};
        float[] uu = new float[6];
        System.arraycopy(u, 0, uu, 0, 3);
        float[] out = new float[3];
        SubsetCeSimd.gatherDot(2, 3, Mem.of(uu), 0, 3, Mem.of(items), 0, 3, ptr, new int[] {2, 0, 2}, out);
        assertBitEqual("gatherDot exact", new float[] {6, 1, 6}, out);
    }

    @Test
    void backwardMatchesScalarAndReference() {
        // plus the shapes whose item side pairs a full vector with a 4-float one (20 at 16 lanes), and those
        // whose rows' side runs four, two and one full chunks with or without the partial last one in a pass
        int l = Simd.LANES;
        int[] dims = java.util.stream.IntStream.concat(java.util.Arrays.stream(KernelTestSupport.sizes()),
                java.util.stream.IntStream.of(20, l + 4, l + 6, 2 * l + 4, 3 * l + 4, 3 * l + 7, 4 * l, 4 * l + 5, 5 * l + 3,
                        6 * l + 3, 7 * l + 1, 8 * l)).distinct().toArray();
        for (int d : dims) {
            if (d > 1100) continue;
            Problem p = new Problem(21 + d, 9, d, 13, 12, 2, 3);
            float[] g = randn(99 + d, p.slots());
            float[] du0 = randn(5, (int) p.uOff + p.m * p.ldu), di0 = randn(6, (int) p.iOff + p.nItems * p.ldi);
            MemorySegment u = heap(p.uData), it = heap(p.iData);
            MemorySegment duS = heap(du0), diS = heap(di0), duV = heap(du0), diV = heap(di0);
            SubsetCeScalar.gatherDotBackward(p.m, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, g,
                    duS, p.uOff, p.ldu, diS, p.iOff, p.ldi);
            SubsetCeSimd.gatherDotBackward(p.m, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, g,
                    duV, p.uOff, p.ldu, diV, p.iOff, p.ldi);
            // double reference
            double[] duR = new double[du0.length], diR = new double[di0.length];
            for (int i = 0; i < du0.length; i++) duR[i] = du0[i];
            for (int i = 0; i < di0.length; i++) diR[i] = di0[i];
            for (int r = 0; r < p.m; r++) {
                for (int j = p.ptr[r]; j < p.ptr[r + 1]; j++) {
                    for (int k = 0; k < d; k++) {
                        duR[(int) p.uOff + r * p.ldu + k] += (double) g[j] * p.iData[(int) p.iOff + p.idx[j] * p.ldi + k];
                        diR[(int) p.iOff + p.idx[j] * p.ldi + k] += (double) g[j] * p.uData[(int) p.uOff + r * p.ldu + k];
                    }
                }
            }
            double tol = 1e-5 * 12 * 4;
            assertClose("du scalar d=" + d, duR, toArray(duS), tol, 1e-5);
            assertClose("di scalar d=" + d, diR, toArray(diS), tol, 1e-5);
            assertClose("du simd d=" + d, toArray(duS), toArray(duV), tol, 1e-5);
            assertClose("di simd d=" + d, toArray(diS), toArray(diV), tol, 1e-5);
            // the item side's contract: every di element takes one fma per entry, in entry order
            float[] diSeq = di0.clone();
            for (int r = 0; r < p.m; r++) {
                for (int j = p.ptr[r]; j < p.ptr[r + 1]; j++) {
                    int at = (int) p.iOff + p.idx[j] * p.ldi;
                    for (int k = 0; k < d; k++) diSeq[at + k] = Math.fma(p.uData[(int) p.uOff + r * p.ldu + k], g[j], diSeq[at + k]);
                }
            }
            assertBitEqual("di simd = entry-order fmas d=" + d, diSeq, toArray(diV));
            // and the rows' side: every du element takes one fma per entry, in entry order
            float[] duSeq = du0.clone();
            for (int r = 0; r < p.m; r++) {
                for (int j = p.ptr[r]; j < p.ptr[r + 1]; j++) {
                    int at = (int) p.uOff + r * p.ldu;
                    for (int k = 0; k < d; k++) duSeq[at + k] = Math.fma(p.iData[(int) p.iOff + p.idx[j] * p.ldi + k], g[j], duSeq[at + k]);
                }
            }
            assertBitEqual("du simd = entry-order fmas d=" + d, duSeq, toArray(duV));
            // null du or di skips exactly that gradient
            MemorySegment diOnly = heap(di0);
            SubsetCeSimd.gatherDotBackward(p.m, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, g,
                    null, 0, p.ldu, diOnly, p.iOff, p.ldi);
            assertBitEqual("di alone d=" + d, toArray(diV), toArray(diOnly));
            MemorySegment duOnly = heap(du0);
            SubsetCeSimd.gatherDotBackward(p.m, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, g,
                    duOnly, p.uOff, p.ldu, null, 0, p.ldi);
            assertBitEqual("du alone d=" + d, toArray(duV), toArray(duOnly));
        }
    }

    @Test
    void softCeMatchesScalar() {
        try (Arena arena = Arena.ofConfined()) {
            for (int d : new int[] {1, Simd.LANES - 1, Simd.LANES, Simd.LANES + 3, 20, 64, 300}) {
                for (int rowLen : KernelTestSupport.sizes()) {
                    for (float tau : new float[] {1f, 0.5f, 3f}) {
                        boolean nat = (rowLen & 1) == 0;
                        Problem p = new Problem(31L * d + rowLen, 3, d, 41, rowLen, 1, 2);
                        float[] scale = {0.5f, 2f, -1f};
                        MemorySegment u = nat ? offHeap(arena, p.uData) : heap(p.uData);
                        MemorySegment it = nat ? offHeap(arena, p.iData) : heap(p.iData);
                        int n = p.slots();
                        float[] lossE = new float[3], gE = new float[n], sE = new float[n];
                        float[] lossA = new float[3], gA = new float[n], sA = new float[n];
                        SubsetCeScalar.softCe(3, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, p.teacher, tau, scale, lossE, gE, sE);
                        SubsetCeSimd.softCe(3, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, p.teacher, tau, scale, lossA, gA, sA);
                        String w = "softCe d=" + d + " len<=" + rowLen + " tau=" + tau;
                        double logitTol = 2e-6 * (d + 1) / tau;
                        assertClose(w + " logits", sE, sA, 2e-6 * (d + 1), 1e-5);
                        assertClose(w + " loss", lossE, lossA, 1e-4 + logitTol * 4, 1e-4);
                        assertClose(w + " grad", gE, gA, 1e-5 + logitTol, 1e-3);
                        // the same from the logits alone, bit for bit
                        float[] lossL = new float[3], gL = new float[n];
                        SubsetCeSimd.softCeLogits(3, p.ptr, sA, p.teacher, tau, scale, lossL, gL);
                        assertBitEqual(w + " logits-path loss", lossA, lossL);
                        assertBitEqual(w + " logits-path grad", gA, gL);
                        // null studentLogits gives the same numbers
                        float[] lossN = new float[3], gN = new float[n];
                        SubsetCeSimd.softCe(3, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, p.teacher, tau, scale, lossN, gN, null);
                        assertBitEqual(w + " no-logits loss", lossA, lossN);
                        assertBitEqual(w + " no-logits grad", gA, gN);
                    }
                }
            }
        }
    }

    /** Both twins, from logits: the hand-computed cases below run through this. */
    interface LogitsCe {
        void run(int m, int[] ptr, float[] s, float[] t, float tau, float[] rowScale, float[] loss, float[] grad);
    }

    static final LogitsCe[] BOTH = {SubsetCeScalar::softCeLogits, SubsetCeSimd::softCeLogits};

    @Test
    void uniformTeacher() {
        // p = 1/3: loss = log(1 + e + e^2) - 1 ; grad = q - 1/3
        for (LogitsCe ce : BOTH) {
            float[] loss = new float[1], g = new float[3];
            ce.run(1, new int[] {0, 3}, new float[] {0, 1, 2}, new float[] {5, 5, 5}, 1f, null, loss, g);
            assertEquals(1.4076059644443801, loss[0], 2e-6);
            assertClose("uniform grad", new double[] {-0.24330276016295285, -0.08860486227853567, 0.33190762244148847}, g, 1e-6, 0);
        }
    }

    @Test
    void rceKdWorkedExample() {
        // rce-kd-and-baselines.md 1.3: SK = {a, b, c}, J2 = {a, d, x}; student a=2 b=1 c=0 d=-1 x=0.5,
        // teacher a=1 b=3 c=0 d=2 x=4, tau = 2, beta = 3 -> overlap 1/3, w = exp(-1); rowScale = (1-w, w)
        double w = Math.exp(-1);
        float[] s = {2, 1, 0, 2, -1, 0.5f}, t = {1, 3, 0, 1, 2, 4};
        for (LogitsCe ce : BOTH) {
            float[] loss = new float[2], g = new float[6];
            ce.run(2, new int[] {0, 3, 6}, s, t, 2f, null, loss, g);
            assertEquals(1.1347799134137042, loss[0], 2e-6, "L1");
            assertEquals(1.3462103796973552, loss[1], 2e-6, "L2");
            float[] lossW = new float[2], gW = new float[6];
            ce.run(2, new int[] {0, 3, 6}, s, t, 2f, new float[] {(float) (1 - w), (float) w}, lossW, gW);
            assertEquals(1.2125608351967512, (1 - w) * lossW[0] + w * lossW[1], 2e-6, "kd");
            assertClose("kd grad", new double[] {0.08699764422518819, -0.10156149331970121, 0.014563849094513037,
                    0.08269070480185813, -0.018324488916535406, -0.06436621588532274}, gW, 1e-6, 0);
            // item a is in both sets: its total gradient is the sum of both entries
            assertEquals(0.08699764422518819 + 0.08269070480185813, gW[0] + gW[3], 2e-6);
        }
    }

    @Test
    void identicalTeacherAndStudentGiveEntropyAndZeroGradient() {
        float[] s = randn(7, 37);
        for (LogitsCe ce : BOTH) {
            for (float tau : new float[] {1f, 0.7f}) {
                float[] loss = new float[1], g = new float[37];
                ce.run(1, new int[] {0, 37}, s, s.clone(), tau, null, loss, g);
                double max = Double.NEGATIVE_INFINITY, z = 0, h = 0;
                for (float v : s) max = Math.max(max, v / tau);
                for (float v : s) z += Math.exp(v / tau - max);
                for (float v : s) { double q = Math.exp(v / tau - max) / z; h -= q * Math.log(q); }
                assertEquals(h, loss[0], 1e-5, "entropy");
                for (float v : g) assertEquals(0f, v, 1e-7f);
            }
        }
    }

    @Test
    void largeLogitsDoNotOverflow() {
        for (LogitsCe ce : BOTH) {
            float[] loss = new float[1], g = new float[3];
            ce.run(1, new int[] {0, 3}, new float[] {80, -80, 79}, new float[] {-80, 80, 0}, 0.5f, null, loss, g);
            assertEquals(320.126928011043, loss[0], 320.126928011043 * 2e-6);
            assertClose("big grad", new double[] {1.7615941559557646, -2.0, 0.2384058440442351}, g, 2e-6, 0);
        }
    }

    @Test
    void emptySetsAndSingletons() {
        for (LogitsCe ce : BOTH) {
            float[] loss = {9, 9, 9}, g = {7, 7};
            ce.run(3, new int[] {0, 0, 1, 1}, new float[] {3}, new float[] {-2}, 1f, null, loss, g);
            assertEquals(0f, loss[0]);
            assertEquals(0f, loss[1], 0f); // one item: p = q = 1
            assertEquals(0f, loss[2]);
            assertEquals(0f, g[0], 0f);
            assertEquals(7f, g[1]); // not an entry: untouched
            ce.run(0, new int[] {0}, new float[0], new float[0], 1f, null, new float[0], new float[0]);
        }
    }

    @Test
    void nanLogitGivesNanLoss() {
        for (LogitsCe ce : BOTH) {
            float[] s = randn(3, 20), t = randn(4, 20), loss = new float[1], g = new float[20];
            s[13] = Float.NaN;
            ce.run(1, new int[] {0, 20}, s, t, 1f, null, loss, g);
            assertTrue(Float.isNaN(loss[0]));
        }
    }

    /** Loss in double of one row (the finite-difference target). */
    static double ceDouble(double[] s, float[] t, int o, int n, double tau) {
        double ms = Double.NEGATIVE_INFINITY, mt = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) { ms = Math.max(ms, s[j]); mt = Math.max(mt, t[o + j]); }
        double zs = 0, zt = 0;
        for (int j = 0; j < n; j++) { zs += Math.exp((s[j] - ms) / tau); zt += Math.exp((t[o + j] - mt) / tau); }
        double l = 0;
        for (int j = 0; j < n; j++) l -= Math.exp((t[o + j] - mt) / tau) / zt * ((s[j] - ms) / tau - Math.log(zs));
        return l;
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        // end to end: loss(U, I) -> dloss/ds from softCe -> du, di from gatherDotBackward, vs central
        // differences in double of the loss as a function of every U and I entry
        int d = Simd.LANES + 3;
        Problem p = new Problem(77, 3, d, 6, 9, 1, 0);
        float tau = 0.8f;
        float[] scale = {1f, 0.25f, 2f};
        int n = p.slots();
        for (boolean simd : new boolean[] {false, true}) {
            float[] loss = new float[3], g = new float[n];
            MemorySegment u = heap(p.uData), it = heap(p.iData);
            if (simd) SubsetCeSimd.softCe(3, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, p.teacher, tau, scale, loss, g, null);
            else SubsetCeScalar.softCe(3, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, p.teacher, tau, scale, loss, g, null);
            MemorySegment du = heap(new float[p.uData.length]), di = heap(new float[p.iData.length]);
            if (simd) SubsetCeSimd.gatherDotBackward(3, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, g, du, p.uOff, p.ldu, di, p.iOff, p.ldi);
            else SubsetCeScalar.gatherDotBackward(3, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, g, du, p.uOff, p.ldu, di, p.iOff, p.ldi);
            double[] uD = toDouble(p.uData), iD = toDouble(p.iData);
            double base = total(p, uD, iD, tau, scale);
            assertEquals(base, loss[0] * scale[0] + loss[1] * scale[1] + loss[2] * scale[2], 1e-4, "loss");
            double h = 1e-4;
            float[] duA = toArray(du), diA = toArray(di);
            for (int k = 0; k < uD.length; k++) {
                double keep = uD[k];
                uD[k] = keep + h; double lp = total(p, uD, iD, tau, scale);
                uD[k] = keep - h; double lm = total(p, uD, iD, tau, scale);
                uD[k] = keep;
                assertEquals((lp - lm) / (2 * h), duA[k], 2e-4, "du[" + k + "] simd=" + simd);
            }
            for (int k = 0; k < iD.length; k++) {
                double keep = iD[k];
                iD[k] = keep + h; double lp = total(p, uD, iD, tau, scale);
                iD[k] = keep - h; double lm = total(p, uD, iD, tau, scale);
                iD[k] = keep;
                assertEquals((lp - lm) / (2 * h), diA[k], 2e-4, "di[" + k + "] simd=" + simd);
            }
        }
    }

    static double[] toDouble(float[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i];
        return r;
    }

    /** sum_r rowScale[r] * CE_r in double. */
    static double total(Problem p, double[] u, double[] it, double tau, float[] scale) {
        double sum = 0;
        for (int r = 0; r < p.m; r++) {
            int o = p.ptr[r], n = p.ptr[r + 1] - o;
            double[] s = new double[n];
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < p.d; k++) s[j] += u[(int) p.uOff + r * p.ldu + k] * it[(int) p.iOff + p.idx[o + j] * p.ldi + k];
            }
            if (n > 0) sum += scale[r] * ceDouble(s, p.teacher, o, n, tau);
        }
        return sum;
    }

    @Test
    void bitIdenticalForOneAndTwoThreads() {
        int saved = Parallel.threads();
        try {
            for (int d : new int[] {20, 64}) {
                Problem p = new Problem(5 + d, 300, d, 500, 150, 3, 1);
                int n = p.slots();
                float[][] loss = new float[2][3 * 100], grad = new float[2][n];
                float[][] du = new float[2][], di = new float[2][];
                for (int t = 1; t <= 2; t++) {
                    Parallel.setThreads(t);
                    float[] l = new float[p.m], g = new float[n];
                    MemorySegment u = heap(p.uData), it = heap(p.iData);
                    SubsetCeSimd.softCe(p.m, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, p.teacher, 1.5f, null, l, g, null);
                    MemorySegment dus = heap(new float[p.uData.length]), dis = heap(new float[p.iData.length]);
                    SubsetCeSimd.gatherDotBackward(p.m, d, u, p.uOff, p.ldu, it, p.iOff, p.ldi, p.ptr, p.idx, g, dus, p.uOff, p.ldu, dis, p.iOff, p.ldi);
                    loss[t - 1] = l; grad[t - 1] = g; du[t - 1] = toArray(dus); di[t - 1] = toArray(dis);
                }
                assertBitEqual("loss 1 vs 2 threads d=" + d, loss[0], loss[1]);
                assertBitEqual("grad 1 vs 2 threads d=" + d, grad[0], grad[1]);
                assertBitEqual("du 1 vs 2 threads d=" + d, du[0], du[1]);
                assertBitEqual("di 1 vs 2 threads d=" + d, di[0], di[1]);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void ceMathExpIsAccurateAndLaneConsistent() {
        // the vector exp and its scalar twin give identical bits, within ~1 ulp of Math.exp
        int n = 64 * Simd.LANES;
        float[] x = KernelTestSupport.uniform(3, n, -90f, 0f), v = new float[n];
        x[0] = 0f; x[1] = Float.NEGATIVE_INFINITY; x[2] = Float.NaN; x[3] = -87.3f; x[4] = -1e-30f; x[5] = 88f;
        for (int i = 0; i < n; i += Simd.LANES) CeMath.exp(jdk.incubator.vector.FloatVector.fromArray(Simd.F, x, i)).intoArray(v, i);
        for (int i = 0; i < n; i++) {
            float sc = CeMath.exp(x[i]);
            assertEquals(Float.floatToRawIntBits(sc), Float.floatToRawIntBits(v[i]), "lane vs scalar at x=" + x[i]);
            double ref = Math.exp(x[i]);
            if (Float.isNaN(x[i])) assertTrue(Float.isNaN(sc));
            else if (ref < 1.2e-38) assertEquals(0f, sc, 1.2e-38f, "underflow at " + x[i]);
            else assertEquals(ref, sc, 2 * Math.ulp((float) ref), "exp(" + x[i] + ")");
        }
        assertEquals(1f, CeMath.exp(0f));
        assertEquals(0f, CeMath.exp(Float.NEGATIVE_INFINITY));
        // lane sums: exact on integers, same value for the tree and the scalar order
        float[] lanes = new float[Simd.LANES];
        for (int l = 0; l < lanes.length; l++) lanes[l] = l + 1;
        float expect = Simd.LANES * (Simd.LANES + 1) / 2f;
        assertEquals(expect, CeMath.hsum(jdk.incubator.vector.FloatVector.fromArray(Simd.F, lanes, 0)));
        assertEquals(expect, CeMath.sumLanes(lanes, 0));
    }

    /** Every array argument of both twins is refused by name when short (one row of two entries, d = 4). */
    @Test
    void everyArrayArgumentIsCheckedByName() {
        MemorySegment u = heap(new float[8]), it = heap(new float[8]);
        int[] ptr = {0, 1, 2}, idx = {0, 1};
        for (boolean simd : new boolean[] {false, true}) {
            for (String shortOne : new String[] {"teacherLogits", "rowScale", "loss", "gradLogits", "studentLogits", "out", "g"}) {
                float[] tl = arr(shortOne, "teacherLogits"), rs = arr(shortOne, "rowScale"), loss = arr(shortOne, "loss");
                float[] gl = arr(shortOne, "gradLogits"), sl = arr(shortOne, "studentLogits"), out = arr(shortOne, "out"), g = arr(shortOne, "g");
                Runnable call = switch (shortOne) {
                    case "out" -> simd ? () -> SubsetCeSimd.gatherDot(2, 4, u, 0, 4, it, 0, 4, ptr, idx, out)
                            : () -> SubsetCeScalar.gatherDot(2, 4, u, 0, 4, it, 0, 4, ptr, idx, out);
                    case "g" -> simd ? () -> SubsetCeSimd.gatherDotBackward(2, 4, u, 0, 4, it, 0, 4, ptr, idx, g, heap(new float[8]), 0, 4, null, 0, 4)
                            : () -> SubsetCeScalar.gatherDotBackward(2, 4, u, 0, 4, it, 0, 4, ptr, idx, g, heap(new float[8]), 0, 4, null, 0, 4);
                    default -> simd ? () -> SubsetCeSimd.softCe(2, 4, u, 0, 4, it, 0, 4, ptr, idx, tl, 1f, rs, loss, gl, sl)
                            : () -> SubsetCeScalar.softCe(2, 4, u, 0, 4, it, 0, 4, ptr, idx, tl, 1f, rs, loss, gl, sl);
                };
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run, "simd=" + simd + ", short " + shortOne);
                assertTrue(e.getMessage().contains(shortOne), "simd=" + simd + ": " + e.getMessage());
                if (shortOne.equals("out") || shortOne.equals("g")) continue;
                // the same checks from given logits (no dots), where the student logits are an input
                Runnable logits = simd ? () -> SubsetCeSimd.softCeLogits(2, ptr, sl, tl, 1f, rs, loss, gl)
                        : () -> SubsetCeScalar.softCeLogits(2, ptr, sl, tl, 1f, rs, loss, gl);
                e = assertThrows(IllegalArgumentException.class, logits::run, "softCeLogits simd=" + simd + ", short " + shortOne);
                assertTrue(e.getMessage().contains(shortOne), "simd=" + simd + ": " + e.getMessage());
            }
        }
    }

    /** An array of the right length (2) unless it is the one meant to be short (1). */
    private static float[] arr(String shortOne, String name) {
        return new float[shortOne.equals(name) ? 1 : 2];
    }

    @Test
    void badArguments() {
        MemorySegment u = heap(new float[20]), it = heap(new float[20]);
        float[] out = new float[4], l = new float[2];
        // negative dims, ld < d
        assertThrows(IllegalArgumentException.class, () -> SubsetCeSimd.gatherDot(-1, 2, u, 0, 2, it, 0, 2, new int[] {0}, new int[0], out));
        assertThrows(IllegalArgumentException.class, () -> SubsetCeScalar.gatherDot(1, 4, u, 0, 3, it, 0, 4, new int[] {0, 1}, new int[] {0}, out));
        // decreasing ptr, ptr past idx, negative id, id past the table
        assertThrows(IllegalArgumentException.class, () -> SubsetCeSimd.gatherDot(2, 2, u, 0, 2, it, 0, 2, new int[] {0, 2, 1}, new int[] {0, 0}, out));
        assertThrows(IllegalArgumentException.class, () -> SubsetCeSimd.gatherDot(1, 2, u, 0, 2, it, 0, 2, new int[] {0, 3}, new int[] {0, 0}, out));
        assertThrows(IllegalArgumentException.class, () -> SubsetCeSimd.gatherDot(1, 2, u, 0, 2, it, 0, 2, new int[] {0, 1}, new int[] {-1}, out));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SubsetCeSimd.gatherDot(1, 2, u, 0, 2, it, 0, 2, new int[] {0, 1}, new int[] {10}, out));
        assertTrue(e.getMessage().contains("SubsetCe.gatherDot") && e.getMessage().contains("items"), e.getMessage());
        // short out, tau <= 0, NaN tau, short loss
        assertThrows(IllegalArgumentException.class, () -> SubsetCeSimd.gatherDot(1, 2, u, 0, 2, it, 0, 2, new int[] {0, 5}, new int[5], new float[4]));
        assertThrows(IllegalArgumentException.class, () -> SubsetCeSimd.softCeLogits(1, new int[] {0, 2}, out, out, 0f, null, l, out));
        assertThrows(IllegalArgumentException.class, () -> SubsetCeScalar.softCeLogits(1, new int[] {0, 2}, out, out, Float.NaN, null, l, out));
        assertThrows(IllegalArgumentException.class, () -> SubsetCeSimd.softCeLogits(3, new int[] {0, 1, 2, 2}, out, out, 1f, null, l, out));
        assertThrows(IllegalArgumentException.class, () -> SubsetCeSimd.softCe(1, 2, u, 0, 2, it, 0, 2, new int[] {0, 2}, new int[2], out, 1f, new float[0], l, out, null));
        // du too small for m rows
        assertThrows(IllegalArgumentException.class, () -> SubsetCeSimd.gatherDotBackward(2, 4, u, 0, 4, it, 0, 4, new int[] {0, 1, 2}, new int[2], out,
                heap(new float[5]), 0, 4, null, 0, 4));
    }
}
