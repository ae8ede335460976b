package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** AdamSimd against AdamScalar and against numbers computed in double from the Adam formula. */
@Tag("simd")
class AdamTest {
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(savedThreads);
    }

    static final float[] P0 = {0.5f, -1f, 2f, 0f, 1e-3f};
    static final float[][] GRADS = {{0.1f, -0.2f, 0.3f, 0f, 1f}, {-0.1f, 0.05f, 0.3f, 0.2f, -1f}, {0.2f, 0f, -0.3f, 0.1f, 0.5f}};

    // Computed in double (Python) from g' = g + wd p; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
    // p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps), with lr 0.01, b1 0.9, b2 0.999, eps 1e-8 (as floats).
    static final double[][] P_WD0 = {
        {0.4900000012235173, -0.9900000007235173, 1.9900000005568508, 0.0, -0.008999999628985135},
        {0.49052631708068317, -0.9853053195651378, 1.9800000011137016, -0.007441367660629764, -0.00847368372445083},
        {0.4855438960157485, -0.981676317543079, 1.9773800752421284, -0.015443780084760706, -0.010220938965137196}};
    static final double[] M_WD0 = {0.0191000046476722, -0.011700002224743232, 0.021300003921985285, 0.02800000661611555, 0.041000007867812716};
    static final double[] V_WD0 = {5.9969240083111284e-05, 4.2416996216236866e-05, 0.00026972664224182794, 4.995935878870294e-05, 0.0022469721093511382};
    // the same with weight decay 0.1
    static final double[][] P_WD = {
        {0.49000000089018403, -0.9900000005568508, 1.9900000004235174, 0.0, -0.008999999628995134},
        {0.48605287260429336, -0.9821870204980552, 1.9800005276925172, -0.007441367660629764, -0.008469685872181647},
        {0.4790255599266482, -0.9744747825198788, 1.9732639774904086, -0.015434382455765422, -0.010209778824202076}};
    static final double[] M_WD = {0.032420536424677814, -0.038531878566589926, 0.07521002152643065, 0.0279255929206588, 0.040842410974608875};
    static final double[] V_WD = {8.685689528313954e-05, 0.00010186429634036719, 0.0005086497307091407, 4.981108707956206e-05, 0.002248124462634248};

    @Test
    void handComputedThreeSteps() {
        for (float wd : new float[] {0f, 0.1f}) {
            for (int kind = 0; kind < 4; kind++) { // scalar/simd x step/stepRows
                boolean simd = kind % 2 == 1, rowsApi = kind >= 2;
                MemorySegment p = heap(P0), m = heap(new float[5]), v = heap(new float[5]);
                for (int t = 1; t <= 3; t++) {
                    MemorySegment g = heap(GRADS[t - 1]);
                    if (rowsApi) {
                        // 5 rows of d = 1, touched in reverse order
                        int[] rows = {4, 3, 2, 1, 0};
                        float[] gr = new float[5];
                        for (int i = 0; i < 5; i++) gr[i] = GRADS[t - 1][rows[i]];
                        if (simd) AdamSimd.stepRows(5, rows, 1, p, 0, 1, heap(gr), 0, 1, m, 0, v, 0, 0.01f, 0.9f, 0.999f, 1e-8f, wd, t);
                        else AdamScalar.stepRows(5, rows, 1, p, 0, 1, heap(gr), 0, 1, m, 0, v, 0, 0.01f, 0.9f, 0.999f, 1e-8f, wd, t);
                    } else if (simd) {
                        AdamSimd.step(5, p, 0, g, 0, m, 0, v, 0, 0.01f, 0.9f, 0.999f, 1e-8f, wd, t);
                    } else {
                        AdamScalar.step(5, p, 0, g, 0, m, 0, v, 0, 0.01f, 0.9f, 0.999f, 1e-8f, wd, t);
                    }
                    String what = "wd=" + wd + " simd=" + simd + " rows=" + rowsApi + " t=" + t;
                    assertClose(what + " p", wd == 0f ? P_WD0[t - 1] : P_WD[t - 1], toArray(p), 2e-6, 0);
                }
                String what = "wd=" + wd + " simd=" + simd + " rows=" + rowsApi;
                assertClose(what + " m", wd == 0f ? M_WD0 : M_WD, toArray(m), 1e-9, 1e-5);
                assertClose(what + " v", wd == 0f ? V_WD0 : V_WD, toArray(v), 1e-12, 1e-5);
            }
        }
    }

    @Test
    void simdMatchesScalarOverSizes() {
        try (Arena arena = Arena.ofShared()) {
            for (int n : sizes()) {
                for (float[] hp : new float[][] {{0.9f, 0f}, {0.9f, 0.01f}, {0.3f, 0.05f}}) { // beta1 0.3: the other lerp branch
                    for (boolean nat : new boolean[] {false, true}) {
                        float[] p0 = randn(n + 1, n + 3), m0 = randn(n + 2, n + 5), v0 = uniform(n + 3, n + 1, 0f, 2f);
                        MemorySegment[] ps = new MemorySegment[2], ms = new MemorySegment[2], vs = new MemorySegment[2];
                        for (int k = 0; k < 2; k++) {
                            ps[k] = nat ? offHeap(arena, p0) : heap(p0);
                            ms[k] = nat ? offHeap(arena, m0) : heap(m0);
                            vs[k] = nat ? offHeap(arena, v0) : heap(v0);
                        }
                        for (int t = 1; t <= 3; t++) {
                            MemorySegment g = heap(randn(n * 10L + t, n + 2));
                            AdamScalar.step(n, ps[0], 3, g, 2, ms[0], 5, vs[0], 1, 1e-2f, hp[0], 0.999f, 1e-8f, hp[1], t + 10);
                            AdamSimd.step(n, ps[1], 3, g, 2, ms[1], 5, vs[1], 1, 1e-2f, hp[0], 0.999f, 1e-8f, hp[1], t + 10);
                        }
                        String what = "n=" + n + " beta1=" + hp[0] + " wd=" + hp[1] + " native=" + nat;
                        float[] pe = toArray(ps[0]), pg = toArray(ps[1]);
                        assertClose(what + " p", pe, pg, 1e-6, 1e-5);
                        assertClose(what + " m", toArray(ms[0]), toArray(ms[1]), 1e-6, 1e-5);
                        assertClose(what + " v", toArray(vs[0]), toArray(vs[1]), 1e-7, 1e-5);
                        // the untouched prefix (offset) and suffix stay as they were
                        for (int i : new int[] {0, 1, 2}) assertEquals(p0[i], pg[i], what + " p prefix");
                        if (n > 0) assertNotEquals(p0[3], pg[3], what + " p[0] moved");
                    }
                }
            }
        }
    }

    /** One element as a vector lane computes it (AdamSimd's fma order), from AdamSimd.Hyper's floats. */
    private static void lane(AdamSimd.Hyper h, float[] p, float[] g, float[] m, float[] v, int i) {
        float coeff = h.small() ? h.w() : h.w() - 1f;
        float ge = h.wd() != 0f ? Math.fma(p[i], h.wd(), g[i]) : g[i];
        float me = Math.fma(ge - m[i], coeff, h.small() ? m[i] : ge);
        float ve = v[i] * h.beta2() + h.omb2() * ge * ge;
        float denom = (float) Math.sqrt(ve) / h.bc2sqrt() + h.eps();
        m[i] = me;
        v[i] = ve;
        p[i] = p[i] + h.negStep() * me / denom;
    }

    @Test
    void simdEqualsItsLaneArithmeticBitForBit() {
        // every split: whole vectors only, an overlapping last vector (n >= L, n % L != 0), a scalar tail (n < L),
        // several 2048-float blocks; both lerp branches, with and without weight decay
        int[] ns = new int[3 * Simd.LANES + 6];
        for (int i = 0; i < ns.length - 2; i++) ns[i] = i;
        ns[ns.length - 2] = 2048 + Simd.LANES + 3;
        ns[ns.length - 1] = 3 * 2048 - 1;
        for (int n : ns) {
            for (float[] hp : new float[][] {{0.9f, 0f}, {0.9f, 0.01f}, {0.3f, 0.05f}}) {
                float[] p = randn(n + 1, n), m = randn(n + 2, n), v = uniform(n + 3, n, 0f, 2f), g = randn(n + 4, n);
                MemorySegment ps = heap(p), ms = heap(m), vs = heap(v);
                for (int t = 1; t <= 3; t++) {
                    AdamSimd.step(n, ps, 0, heap(g), 0, ms, 0, vs, 0, 1e-2f, hp[0], 0.999f, 1e-8f, hp[1], t);
                    AdamSimd.Hyper h = new AdamSimd.Hyper(1e-2f, hp[0], 0.999f, 1e-8f, hp[1], t);
                    for (int i = 0; i < n; i++) lane(h, p, g, m, v, i);
                }
                String what = "n=" + n + " beta1=" + hp[0] + " wd=" + hp[1];
                assertBitEqual(what + " p", p, toArray(ps));
                assertBitEqual(what + " m", m, toArray(ms));
                assertBitEqual(what + " v", v, toArray(vs));
            }
        }
    }

    @Test
    void stepRowsOnAllRowsEqualsStep() {
        for (int d : new int[] {1, Simd.LANES - 1, Simd.LANES, Simd.LANES + 5, 20, 2 * Simd.LANES + 3, 64}) { // rows of d % L != 0 end in an overlapping vector
            if (d < 1) continue;
            int rows = 37, ldg = d + 3;
            float[] p0 = randn(d, rows * d), m0 = randn(d + 1, rows * d), v0 = uniform(d + 2, rows * d, 0f, 1f);
            float[] gDense = randn(d + 3, rows * d);
            int[] order = new int[rows];
            for (int i = 0; i < rows; i++) order[i] = (i * 11 + 5) % rows; // a permutation (11 and 37 coprime)
            float[] gCompact = new float[rows * ldg];
            for (int i = 0; i < rows; i++) System.arraycopy(gDense, order[i] * d, gCompact, i * ldg, d);
            for (boolean simd : new boolean[] {false, true}) {
                MemorySegment p1 = heap(p0), m1 = heap(m0), v1 = heap(v0), p2 = heap(p0), m2 = heap(m0), v2 = heap(v0);
                for (int t = 1; t <= 2; t++) {
                    if (simd) {
                        AdamSimd.step((long) rows * d, p1, 0, heap(gDense), 0, m1, 0, v1, 0, 3e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
                        AdamSimd.stepRows(rows, order, d, p2, 0, d, heap(gCompact), 0, ldg, m2, 0, v2, 0, 3e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
                    } else {
                        AdamScalar.step((long) rows * d, p1, 0, heap(gDense), 0, m1, 0, v1, 0, 3e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
                        AdamScalar.stepRows(rows, order, d, p2, 0, d, heap(gCompact), 0, ldg, m2, 0, v2, 0, 3e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
                    }
                }
                String what = "d=" + d + " simd=" + simd;
                assertBitEqual(what + " p", toArray(p1), toArray(p2));
                assertBitEqual(what + " m", toArray(m1), toArray(m2));
                assertBitEqual(what + " v", toArray(v1), toArray(v2));
            }
        }
    }

    @Test
    void stepRowsLeavesOtherRowsAndPaddingAlone() {
        int d = 2 * Simd.LANES + 1, ldp = d + 4, rows = 20;
        float[] p0 = randn(1, 2 + rows * ldp), m0 = randn(2, 2 + rows * ldp), v0 = uniform(3, 2 + rows * ldp, 0f, 1f);
        int[] touched = {7, 2, 19, 11};
        float[] g = randn(4, touched.length * d);
        MemorySegment p = heap(p0), m = heap(m0), v = heap(v0);
        AdamSimd.stepRows(touched.length, touched, d, p, 2, ldp, heap(g), 0, d, m, 2, v, 2, 1e-2f, 0.9f, 0.99f, 1e-8f, 0f, 5);
        float[] pa = toArray(p), ma = toArray(m), va = toArray(v);
        for (int i = 0; i < p0.length; i++) {
            long rel = i - 2;
            int r = (int) (rel / ldp);
            boolean isTouched = rel >= 0 && rel % ldp < d && (r == 7 || r == 2 || r == 19 || r == 11);
            if (isTouched) {
                assertNotEquals(p0[i], pa[i], "touched p " + i);
                assertNotEquals(v0[i], va[i], "touched v " + i);
            } else {
                assertEquals(p0[i], pa[i], "untouched p " + i);
                assertEquals(m0[i], ma[i], "untouched m " + i);
                assertEquals(v0[i], va[i], "untouched v " + i);
            }
        }
    }

    @Test
    void oneAndTwoThreadsBitIdentical() {
        int n = 200_003, d = 64, rows = 3000;
        float[] p0 = randn(1, n), g = randn(2, n), m0 = randn(3, n), v0 = uniform(4, n, 0f, 1f);
        int[] touched = new int[2000];
        for (int i = 0; i < touched.length; i++) touched[i] = (i * 7) % rows;
        float[][] out = new float[2][], outRows = new float[2][];
        for (int th = 1; th <= 2; th++) {
            Parallel.setThreads(th);
            MemorySegment p = heap(p0), m = heap(m0), v = heap(v0);
            AdamSimd.step(n, p, 0, heap(g), 0, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, 3);
            out[th - 1] = toArray(p);
            MemorySegment pr = heap(p0), mr = heap(m0), vr = heap(v0);
            AdamSimd.stepRows(touched.length, touched, d, pr, 0, d, heap(g), 0, d, mr, 0, vr, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, 3);
            outRows[th - 1] = toArray(vr);
        }
        assertBitEqual("step threads", out[0], out[1]);
        assertBitEqual("stepRows threads", outRows[0], outRows[1]);
    }

    @Test
    void badArgumentsAreRejected() {
        MemorySegment s = heap(new float[8]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AdamSimd.step(8, s, 0, s, 0, s, 0, s, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 0));
        assertTrue(e.getMessage().startsWith("adam step"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AdamSimd.step(9, s, 0, s, 0, s, 0, s, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1));
        assertThrows(IllegalArgumentException.class, () -> AdamSimd.step(8, s, 0, s, 0, s, 1, s, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1));
        assertThrows(IllegalArgumentException.class, () -> AdamScalar.step(8, s, 0, s, 0, s, 0, s, 0, 1e-3f, 1f, 0.999f, 1e-8f, 0f, 1));
        assertThrows(IllegalArgumentException.class, () -> AdamSimd.step(8, s, 0, s, 0, s, 0, s, 0, Float.NaN, 0.9f, 0.999f, 1e-8f, 0f, 1));
        assertThrows(IllegalArgumentException.class, () -> AdamSimd.step(8, s, 0, s, 0, s, 0, s, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, -1f, 1));
        MemorySegment p = heap(new float[8]), g = heap(new float[4]), m = heap(new float[8]), v = heap(new float[8]);
        e = assertThrows(IllegalArgumentException.class,
                () -> AdamSimd.stepRows(2, new int[] {3, 3}, 2, p, 0, 2, g, 0, 2, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1));
        assertTrue(e.getMessage().contains("more than once"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> AdamScalar.stepRows(2, new int[] {1, 4}, 2, p, 0, 2, g, 0, 2, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1));
        assertThrows(IllegalArgumentException.class,
                () -> AdamSimd.stepRows(2, new int[] {-1, 0}, 2, p, 0, 2, g, 0, 2, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1));
        assertThrows(IllegalArgumentException.class,
                () -> AdamSimd.stepRows(2, new int[] {0, 1}, 2, p, 0, 2, g, 0, 3, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1));
        // the duplicate check leaves no state behind: a valid call right after succeeds
        AdamSimd.stepRows(2, new int[] {3, 0}, 2, p, 0, 2, g, 0, 2, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1);
    }
}
