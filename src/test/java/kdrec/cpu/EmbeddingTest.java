package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** EmbeddingSimd against EmbeddingScalar, double references and hand-computed numbers. */
@Tag("simd")
class EmbeddingTest {
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(savedThreads);
    }

    static int[] randomIdx(long seed, int n, int rows) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] idx = new int[n];
        for (int t = 0; t < n; t++) idx[t] = (t > 0 && t % 4 == 0) ? idx[t - 1] : r.nextInt(rows); // duplicates
        return idx;
    }

    static MemorySegment seg(Arena arena, boolean nat, float[] a) {
        return nat ? offHeap(arena, a) : heap(a);
    }

    @Test
    void gatherAndScatterAddMatchScalarBitForBit() {
        try (Arena arena = Arena.ofShared()) {
            for (int d : sizes()) {
                int n = d > 1000 ? 7 : 45, rows = d > 1000 ? 5 : 30;
                int ldt = d + 3, ldo = d + 1;
                int[] idx = randomIdx(d, n, rows);
                float[] table = randn(d + 1, 2 + rows * ldt), out0 = randn(d + 2, 4 + n * ldo);
                for (boolean nat : new boolean[] {false, true}) {
                    String what = "d=" + d + " native=" + nat;
                    MemorySegment o1 = seg(arena, nat, out0), o2 = seg(arena, nat, out0);
                    EmbeddingScalar.gather(n, d, idx, seg(arena, nat, table), 2, ldt, o1, 4, ldo);
                    EmbeddingSimd.gather(n, d, idx, seg(arena, nat, table), 2, ldt, o2, 4, ldo);
                    float[] g = toArray(o2);
                    assertBitEqual("gather " + what, toArray(o1), g);
                    for (int t = 0; t < n; t++) {
                        for (int c = 0; c < d; c++) assertEquals(table[2 + idx[t] * ldt + c], g[4 + t * ldo + c], "gather " + what);
                    }
                    SpmmTest.assertPadsUntouched("gather " + what, out0, g, 4, ldo, d, n);

                    MemorySegment t1 = seg(arena, nat, table), t2 = seg(arena, nat, table);
                    EmbeddingScalar.scatterAdd(n, d, idx, seg(arena, nat, out0), 4, ldo, t1, 2, ldt);
                    EmbeddingSimd.scatterAdd(n, d, idx, seg(arena, nat, out0), 4, ldo, t2, 2, ldt);
                    float[] s = toArray(t2);
                    assertBitEqual("scatterAdd " + what, toArray(t1), s);
                    double[] ref = new double[table.length];
                    for (int i = 0; i < ref.length; i++) ref[i] = table[i];
                    for (int t = 0; t < n; t++) for (int c = 0; c < d; c++) ref[2 + idx[t] * ldt + c] += out0[4 + t * ldo + c];
                    assertClose("scatterAdd vs double " + what, ref, s, 1e-5, 1e-5);
                    SpmmTest.assertPadsUntouched("scatterAdd " + what, table, s, 2, ldt, d, rows);
                }
            }
        }
    }

    @Test
    void rowDotMatchesScalarAndDouble() {
        try (Arena arena = Arena.ofShared()) {
            for (int d : sizes()) {
                int n = d > 1000 ? 6 : 40, ra = 17, rb = d > 1000 ? 9 : 50;
                int lda = d + 2, ldb = d + 5;
                float[] a = randn(d + 3, 1 + Math.max(ra, n) * lda), b = randn(d + 4, 3 + Math.max(rb, n) * ldb);
                for (int mode = 0; mode < 4; mode++) {
                    int[] ia = (mode & 1) == 0 ? randomIdx(d + 5, n, ra) : null;
                    int[] ib = (mode & 2) == 0 ? randomIdx(d + 6, n, rb) : null;
                    boolean nat = mode >= 2;
                    String what = "rowDot d=" + d + " mode=" + mode;
                    float[] e = new float[n], g = new float[n + 2];
                    g[n] = g[n + 1] = 42f;
                    EmbeddingScalar.rowDot(n, d, ia, seg(arena, nat, a), 1, lda, ib, seg(arena, nat, b), 3, ldb, e);
                    EmbeddingSimd.rowDot(n, d, ia, seg(arena, nat, a), 1, lda, ib, seg(arena, nat, b), 3, ldb, g);
                    assertEquals(42f, g[n], what + ": out past n written");
                    for (int t = 0; t < n; t++) {
                        int i = ia == null ? t : ia[t], j = ib == null ? t : ib[t];
                        double s = 0, mag = 0;
                        for (int c = 0; c < d; c++) {
                            double p = (double) a[1 + i * lda + c] * b[3 + j * ldb + c];
                            s += p;
                            mag += Math.abs(p);
                        }
                        double tol = 1.2e-7 * (d + 2) * mag + 1e-30;
                        assertTrue(Math.abs(s - g[t]) <= tol, what + " t=" + t + ": " + g[t] + " vs " + s);
                        assertTrue(Math.abs((double) e[t] - g[t]) <= 2 * tol, what + " t=" + t + ": simd " + g[t] + " vs scalar " + e[t]);
                    }
                }
            }
        }
    }

    @Test
    void rowDotBackwardMatchesScalar() {
        try (Arena arena = Arena.ofShared()) {
            for (int d : sizes()) {
                int n = d > 1000 ? 6 : 40, ra = 11, rb = d > 1000 ? 9 : 23;
                int ld = d + 1;
                float[] a = randn(d + 3, ra * ld), b = randn(d + 4, Math.max(rb, n) * ld);
                float[] gr = randn(d + 5, n), da0 = randn(d + 6, ra * ld), db0 = randn(d + 7, Math.max(rb, n) * ld);
                int[] ia = randomIdx(d + 8, n, ra);
                for (int mode = 0; mode < 4; mode++) {
                    boolean nat = mode % 2 == 1;
                    int[] ib = mode < 2 ? randomIdx(d + 9, n, rb) : null;
                    String what = "rowDotBackward d=" + d + " mode=" + mode;
                    MemorySegment dae = seg(arena, nat, da0), dbe = seg(arena, nat, db0);
                    MemorySegment dag = seg(arena, nat, da0), dbg = seg(arena, nat, db0);
                    MemorySegment as = seg(arena, nat, a), bs = seg(arena, nat, b);
                    // mode 2 updates only dA, mode 3 only dB
                    boolean doA = mode != 3, doB = mode != 2;
                    EmbeddingScalar.rowDotBackward(n, d, ia, as, 0, ld, ib, bs, 0, ld, gr, doA ? dae : null, 0, ld, doB ? dbe : null, 0, ld);
                    EmbeddingSimd.rowDotBackward(n, d, ia, as, 0, ld, ib, bs, 0, ld, gr, doA ? dag : null, 0, ld, doB ? dbg : null, 0, ld);
                    // per element: at most ~(n + 1) terms of size |g| * |x| ~ 3 * 3
                    assertClose(what + " dA", toArray(dae), toArray(dag), 1e-6 * (n + 2) * 10, 1e-6);
                    assertClose(what + " dB", toArray(dbe), toArray(dbg), 1e-6 * (n + 2) * 10, 1e-6);
                    if (!doA) assertBitEqual(what + " dA untouched", da0, toArray(dag));
                    if (!doB) assertBitEqual(what + " dB untouched", db0, toArray(dbg));
                }
            }
        }
    }

    @Test
    void oneAndTwoThreadsBitIdentical() {
        int n = 2048, d = 64, users = 500, items = 700;
        int[] iu = randomIdx(1, n, users), ii = randomIdx(2, n, items);
        float[] u = randn(3, users * d), it = randn(4, items * d), gr = randn(5, n);
        float[][] dots = new float[2][n], du = new float[2][], di = new float[2][], gath = new float[2][], sc = new float[2][];
        for (int th = 1; th <= 2; th++) {
            Parallel.setThreads(th);
            EmbeddingSimd.rowDot(n, d, iu, heap(u), 0, d, ii, heap(it), 0, d, dots[th - 1]);
            MemorySegment gu = heap(new float[users * d]), gi = heap(new float[items * d]);
            EmbeddingSimd.rowDotBackward(n, d, iu, heap(u), 0, d, ii, heap(it), 0, d, gr, gu, 0, d, gi, 0, d);
            du[th - 1] = toArray(gu);
            di[th - 1] = toArray(gi);
            MemorySegment out = heap(new float[n * d]);
            EmbeddingSimd.gather(n, d, ii, heap(it), 0, d, out, 0, d);
            gath[th - 1] = toArray(out);
            MemorySegment tab = heap(u);
            EmbeddingSimd.scatterAdd(n, d, iu, heap(gath[th - 1]), 0, d, tab, 0, d);
            sc[th - 1] = toArray(tab);
        }
        assertBitEqual("rowDot", dots[0], dots[1]);
        assertBitEqual("rowDotBackward dA", du[0], du[1]);
        assertBitEqual("rowDotBackward dB", di[0], di[1]);
        assertBitEqual("gather", gath[0], gath[1]);
        assertBitEqual("scatterAdd", sc[0], sc[1]);
    }

    @Test
    void sharedGradientTableForBothSides() {
        // LightGCN-style single table: users and items are rows of one table, dA and dB are the same buffer
        int n = 300, d = 2 * Simd.LANES + 3, rows = 60;
        float[] tab = randn(9, rows * d), gr = randn(10, n);
        int[] ia = randomIdx(11, n, rows), ib = randomIdx(12, n, rows);
        MemorySegment e = heap(new float[rows * d]), g = heap(new float[rows * d]);
        EmbeddingScalar.rowDotBackward(n, d, ia, heap(tab), 0, d, ib, heap(tab), 0, d, gr, e, 0, d, e, 0, d);
        EmbeddingSimd.rowDotBackward(n, d, ia, heap(tab), 0, d, ib, heap(tab), 0, d, gr, g, 0, d, g, 0, d);
        assertClose("shared gradient table", toArray(e), toArray(g), 1e-4, 1e-5);
    }

    @Test
    void handComputed() {
        float[] a = {1, 2, 3, 4, 5, 6};   // 3 rows of d = 2
        float[] b = {1, -1, 0.5f, 2};     // 2 rows
        int[] ia = {2, 0, 2}, ib = {1, 1, 0};
        for (boolean simd : new boolean[] {false, true}) {
            float[] out = new float[3];
            if (simd) EmbeddingSimd.rowDot(3, 2, ia, heap(a), 0, 2, ib, heap(b), 0, 2, out);
            else EmbeddingScalar.rowDot(3, 2, ia, heap(a), 0, 2, ib, heap(b), 0, 2, out);
            // <[5,6],[0.5,2]> = 14.5 ; <[1,2],[0.5,2]> = 4.5 ; <[5,6],[1,-1]> = -1
            assertBitEqual("rowDot simd=" + simd, new float[] {14.5f, 4.5f, -1f}, out);
            float[] g = {1f, 2f, -1f};
            MemorySegment da = heap(new float[6]), db = heap(new float[4]);
            if (simd) EmbeddingSimd.rowDotBackward(3, 2, ia, heap(a), 0, 2, ib, heap(b), 0, 2, g, da, 0, 2, db, 0, 2);
            else EmbeddingScalar.rowDotBackward(3, 2, ia, heap(a), 0, 2, ib, heap(b), 0, 2, g, da, 0, 2, db, 0, 2);
            // dA[2] = 1*[0.5,2] - 1*[1,-1] = [-0.5, 3] ; dA[0] = 2*[0.5,2] = [1, 4]
            assertBitEqual("dA simd=" + simd, new float[] {1f, 4f, 0f, 0f, -0.5f, 3f}, toArray(da));
            // dB[1] = 1*[5,6] + 2*[1,2] = [7, 10] ; dB[0] = -1*[5,6]
            assertBitEqual("dB simd=" + simd, new float[] {-5f, -6f, 7f, 10f}, toArray(db));
            MemorySegment tab = heap(new float[] {0, 0, 10, 10});
            float[] src = {1, 2, 3, 4, 5, 6};
            if (simd) EmbeddingSimd.scatterAdd(3, 2, new int[] {1, 0, 1}, heap(src), 0, 2, tab, 0, 2);
            else EmbeddingScalar.scatterAdd(3, 2, new int[] {1, 0, 1}, heap(src), 0, 2, tab, 0, 2);
            assertBitEqual("scatterAdd simd=" + simd, new float[] {3f, 4f, 16f, 18f}, toArray(tab));
        }
    }

    @Test
    void badArgumentsAreRejected() {
        MemorySegment t = heap(new float[8]), o = heap(new float[8]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EmbeddingSimd.gather(2, 4, new int[] {0, 2}, t, 0, 4, o, 0, 4));
        assertTrue(e.getMessage().startsWith("gather"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EmbeddingSimd.gather(3, 4, new int[] {0, 1, 1}, t, 0, 4, o, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> EmbeddingSimd.gather(2, 4, new int[] {0, 1}, t, 0, 3, o, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> EmbeddingScalar.gather(2, 4, new int[] {0}, t, 0, 4, o, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> EmbeddingSimd.scatterAdd(2, 4, new int[] {0, -1}, o, 0, 4, t, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> EmbeddingSimd.scatterAdd(1, 4, null, o, 0, 4, t, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> EmbeddingSimd.rowDot(3, 4, null, t, 0, 4, null, o, 0, 4, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> EmbeddingSimd.rowDot(2, 4, null, t, 0, 4, null, o, 0, 4, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> EmbeddingSimd.rowDotBackward(2, 4, null, t, 0, 4, null, o, 0, 4,
                new float[1], t, 0, 4, null, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> EmbeddingSimd.rowDotBackward(2, 4, new int[] {0, 1}, t, 0, 4, null, o, 0, 4,
                new float[2], heap(new float[4]), 0, 4, null, 0, 4));
        // a valid call for contrast: must not throw
        EmbeddingSimd.rowDotBackward(2, 4, new int[] {0, 1}, t, 0, 4, null, o, 0, 4, new float[2], heap(new float[8]), 0, 4, null, 0, 4);
    }
}
