package kdrec.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * TopKSimd against its scalar twin: ids must match exactly (ties included) and scores bit for bit.
 * Small-integer embeddings make every dot product exact, so ties are plentiful and exact whatever the
 * summation order; Gaussian data is checked against a ScoreTile-scored reference (exact) and against
 * the scalar twin (scores within a tolerance, ids equal except at near-ties).
 */
@Tag("simd")
class TopKTest {
    private static final int L = Simd.LANES;

    /** Operands of one case, laid out with offsets and leading dims larger than the width. */
    private record Case(int m, int n, int d, int k, float[] u, int uOff, int ldu, float[] items, int iOff, int ldi,
                        int[] ptr, int[] idx) {}

    private static Case intCase(long seed, int m, int n, int d, int k, int range, double exclFrac, boolean padded) {
        SplittableRandom r = new SplittableRandom(seed);
        int uOff = padded ? 3 : 0, iOff = padded ? 5 : 0;
        int ldu = padded ? d + 2 : d, ldi = padded ? d + 1 : d;
        float[] u = new float[uOff + m * ldu + 1];
        float[] it = new float[iOff + n * ldi + 1];
        Arrays.fill(u, Float.NaN); // padding must never be read
        Arrays.fill(it, Float.NaN);
        for (int i = 0; i < m; i++) for (int t = 0; t < d; t++) u[uOff + i * ldu + t] = r.nextInt(-range, range + 1);
        for (int j = 0; j < n; j++) for (int t = 0; t < d; t++) it[iOff + j * ldi + t] = r.nextInt(-range, range + 1);
        int[][] ex = exclusions(r, m, n, exclFrac);
        return new Case(m, n, d, k, u, uOff, ldu, it, iOff, ldi, ex == null ? null : ex[0], ex == null ? null : ex[1]);
    }

    /** Random CSR exclusions: unsorted, with duplicates; row 0 (when m > 2) excludes everything. */
    private static int[][] exclusions(SplittableRandom r, int m, int n, double frac) {
        if (frac <= 0) return null;
        int[] ptr = new int[m + 1];
        int[] idx = new int[0];
        int nnz = 0;
        for (int i = 0; i < m; i++) {
            int cnt = (i == 0 && m > 2) ? n + n / 3 : (n == 0 ? 0 : r.nextInt((int) (frac * n) + 2));
            if (nnz + cnt > idx.length) idx = Arrays.copyOf(idx, Math.max(2 * idx.length, nnz + cnt));
            for (int e = 0; e < cnt; e++) idx[nnz++] = (i == 0 && m > 2 && e < n) ? n - 1 - e : r.nextInt(n);
            ptr[i + 1] = nnz;
        }
        return new int[][] {ptr, Arrays.copyOf(idx, nnz)};
    }

    private record Out(int[] idx, float[] score) {}

    private static Out fused(boolean simd, Case c, MemorySegment u, MemorySegment it) {
        int[] oi = new int[c.m * c.k];
        float[] os = new float[c.m * c.k];
        if (simd) {
            TopKSimd.scoreTopK(c.m, c.n, c.d, u, c.uOff, c.ldu, it, c.iOff, c.ldi, c.k, c.ptr, c.idx, oi, os);
        } else {
            TopKScalar.scoreTopK(c.m, c.n, c.d, u, c.uOff, c.ldu, it, c.iOff, c.ldi, c.k, c.ptr, c.idx, oi, os);
        }
        return new Out(oi, os);
    }

    private static Out select(boolean simd, int m, int n, MemorySegment s, long off, int lds, int k, int[] ptr, int[] idx) {
        int[] oi = new int[m * k];
        float[] os = new float[m * k];
        if (simd) TopKSimd.selectTopK(m, n, s, off, lds, k, ptr, idx, oi, os);
        else TopKScalar.selectTopK(m, n, s, off, lds, k, ptr, idx, oi, os);
        return new Out(oi, os);
    }

    private static void assertSame(String what, Out expected, Out actual) {
        assertArrayEquals(expected.idx, actual.idx, what + ": ids");
        KernelTestSupport.assertBitEqual(what + ": scores", expected.score, actual.score);
    }

    /** Fused and select paths, heap and native segments, all equal to the scalar twin. */
    private static void checkCase(String what, Case c) {
        Out ref = fused(false, c, MemorySegment.ofArray(c.u), MemorySegment.ofArray(c.items));
        assertSame(what + " heap", ref, fused(true, c, KernelTestSupport.heap(c.u), KernelTestSupport.heap(c.items)));
        try (Arena arena = Arena.ofShared()) { // shared: worker threads read it
            assertSame(what + " native", ref,
                    fused(true, c, KernelTestSupport.offHeap(arena, c.u), KernelTestSupport.offHeap(arena, c.items)));
        }
        // the materialised scores give the same answer through selectTopK (integers: exact scores)
        int lds = c.n + 3;
        float[] s = new float[2 + c.m * lds];
        Arrays.fill(s, Float.POSITIVE_INFINITY); // padding must never be selected
        for (int i = 0; i < c.m; i++) {
            for (int j = 0; j < c.n; j++) {
                float acc = 0f;
                for (int t = 0; t < c.d; t++) acc = Math.fma(c.u[c.uOff + i * c.ldu + t], c.items[c.iOff + j * c.ldi + t], acc);
                s[2 + i * lds + j] = acc;
            }
        }
        MemorySegment seg = MemorySegment.ofArray(s);
        assertSame(what + " select scalar", ref, select(false, c.m, c.n, seg, 2, lds, c.k, c.ptr, c.idx));
        assertSame(what + " select simd", ref, select(true, c.m, c.n, seg, 2, lds, c.k, c.ptr, c.idx));
    }

    @Test
    void handComputedSmallCase() {
        // items (d = 2): scores for u0 = (1, 2): 5, 4, 5, -1, 5 ; for u1 = (0, 1): 2, 1, 2, 0, 2 ... see below
        float[] u = {1, 2, 0, 1};
        float[] it = {1, 2, 2, 1, 3, 1, 1, -1, -1, 3};
        // u0: 1+4=5, 2+2=4, 3+2=5, 1-2=-1, -1+6=5   u1: 2, 1, 1, -1, 3
        int[] ptr = {0, 1, 3};
        int[] idx = {2, 4, 4}; // row 0 drops item 2; row 1 drops item 4 (twice)
        for (boolean simd : new boolean[] {false, true}) {
            Case c = new Case(2, 5, 2, 6, u, 0, 2, it, 0, 2, ptr, idx);
            Out o = fused(simd, c, MemorySegment.ofArray(u), MemorySegment.ofArray(it));
            assertArrayEquals(new int[] {0, 4, 1, 3, -1, -1, 0, 1, 2, 3, -1, -1}, o.idx, "simd=" + simd);
            float ni = Float.NEGATIVE_INFINITY;
            assertArrayEquals(new float[] {5, 5, 4, -1, ni, ni, 2, 1, 1, -1, ni, ni}, o.score, "simd=" + simd);
            Case c2 = new Case(2, 5, 2, 2, u, 0, 2, it, 0, 2, null, null);
            Out o2 = fused(simd, c2, MemorySegment.ofArray(u), MemorySegment.ofArray(it));
            assertArrayEquals(new int[] {0, 2, 4, 0}, o2.idx, "no exclusions, simd=" + simd);
            assertArrayEquals(new float[] {5, 5, 3, 2}, o2.score, "no exclusions, simd=" + simd);
        }
    }

    @Test
    void integerTiesSweep() {
        int[] ds = {1, 2, L - 1, L, L + 1, 20, 64};
        int[] ms = {1, 4, TopKSimd.MB + 5};
        long seed = 11;
        for (int n : KernelTestSupport.sizes()) {
            for (int d : ds) {
                if (d < 1) continue;
                for (int m : ms) {
                    if ((long) m * n * d > 4_000_000L) continue;
                    for (int k : new int[] {1, 7, 100}) {
                        Case c = intCase(seed++, m, n, d, k, 2, (seed % 3 == 0) ? 0 : 0.05, seed % 2 == 0);
                        checkCase("n=" + n + " d=" + d + " m=" + m + " k=" + k, c);
                    }
                }
            }
        }
    }

    @Test
    void largeKAndKBeyondN() {
        int n = 1021, d = 13;
        for (int k : new int[] {n - 1, n, n + 17, 500, 200}) {
            checkCase("k=" + k, intCase(100 + k, 9, n, d, k, 1, 0.1, true));
        }
        checkCase("k=500 n=10007", intCase(7, 5, KernelTestSupport.sizes()[KernelTestSupport.sizes().length - 1], 3, 500,
                1, 0.02, false));
    }

    @Test
    void gaussianDataMatchesScoreTileReferenceExactly() {
        for (int[] shape : new int[][] {{37, 1021, 64, 100}, {7, 2 * L + 1, L + 1, 5}, {50, 4001, 20, 20},
                {6, 997, 300, 50}, {3, KernelTestSupport.sizes()[KernelTestSupport.sizes().length - 1], 31, 200}}) {
            int m = shape[0], n = shape[1], d = shape[2], k = shape[3];
            float[] u = KernelTestSupport.randn(m * 31L + n, m * d);
            float[] it = KernelTestSupport.randn(n * 17L + d, n * d);
            int[][] ex = exclusions(new SplittableRandom(n), m, n, 0.02);
            // reference scores from ScoreTile itself, the arithmetic the fused kernel uses
            int ldc = ((n + ScoreTile.NR - 1) / ScoreTile.NR) * ScoreTile.NR;
            float[] bp = new float[ScoreTile.packedSize(n, d)];
            ScoreTile.packB(MemorySegment.ofArray(it), 0, d, 0, n, d, bp);
            float[] sc = new float[m * ldc];
            ScoreTile.tile(m, n, d, u, 0, d, bp, sc, ldc);
            Out ref = select(false, m, n, MemorySegment.ofArray(sc), 0, ldc, k, ex[0], ex[1]);
            Case c = new Case(m, n, d, k, u, 0, d, it, 0, d, ex[0], ex[1]);
            String what = "gaussian m=" + m + " n=" + n + " d=" + d + " k=" + k;
            Out simd = fused(true, c, KernelTestSupport.heap(u), KernelTestSupport.heap(it));
            assertSame(what, ref, simd);
            assertSame(what + " select", ref, select(true, m, n, MemorySegment.ofArray(sc), 0, ldc, k, ex[0], ex[1]));
            // the scalar twin's sequential dot agrees to rounding; ids may differ only at near-ties
            Out scalar = fused(false, c, MemorySegment.ofArray(u), MemorySegment.ofArray(it));
            double tol = 1e-5 * d;
            for (int p = 0; p < m * k; p++) {
                float e = scalar.score[p], a = simd.score[p];
                if (e != a && !(Math.abs(e - a) <= tol * (1 + Math.abs(e)))) {
                    fail(what + ": score at " + p + " is " + a + ", scalar twin has " + e);
                }
            }
            for (int p = 0; p < m * k; p++) {
                if (scalar.idx[p] == simd.idx[p]) continue;
                float s = scalar.score[p];
                boolean nearTie = (p % k > 0 && Math.abs(scalar.score[p - 1] - s) <= 2 * tol * (1 + Math.abs(s)))
                        || (p % k < k - 1 && Math.abs(scalar.score[p + 1] - s) <= 2 * tol * (1 + Math.abs(s)))
                        || (p % k == k - 1);
                if (!nearTie) fail(what + ": id at " + p + " is " + simd.idx[p] + ", scalar twin has " + scalar.idx[p]);
            }
        }
    }

    @Test
    void nanAndInfinityInEmbeddings() {
        for (int trial = 0; trial < 6; trial++) {
            Case c = intCase(500 + trial, 11, 400 + trial * 37, 9, 30, 3, 0.05, trial % 2 == 0);
            SplittableRandom r = new SplittableRandom(trial);
            float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
            for (int e = 0; e < 25; e++) {
                int j = r.nextInt(c.n), t = r.nextInt(c.d);
                c.items[c.iOff + j * c.ldi + t] = specials[r.nextInt(3)];
            }
            c.u[c.uOff + 3 * c.ldu + 1] = Float.POSITIVE_INFINITY; // row 3: many +-Inf and NaN scores
            Arrays.fill(c.u, c.uOff + 5 * c.ldu, c.uOff + 5 * c.ldu + c.d, Float.NaN); // row 5: all NaN
            checkCase("specials trial " + trial, c);
            Out o = fused(true, c, MemorySegment.ofArray(c.u), MemorySegment.ofArray(c.items));
            for (int j = 0; j < c.k; j++) {
                assertEquals(-1, o.idx[5 * c.k + j], "all-NaN row selects nothing");
                assertTrue(!Float.isNaN(o.score[3 * c.k + j]), "NaN never selected");
            }
        }
    }

    @Test
    void specialScoresInMaterialisedMatrix() {
        float[] pool = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, 1f, -1f, 2f};
        for (int n : new int[] {1, L - 1, L + 1, 4 * L + 3, 301, 1021}) {
            int m = 9, k = Math.max(1, n / 3), lds = n + 1;
            SplittableRandom r = new SplittableRandom(n);
            float[] s = new float[m * lds];
            for (int i = 0; i < s.length; i++) s[i] = pool[r.nextInt(pool.length)];
            Arrays.fill(s, 2 * lds, 2 * lds + n, Float.NEGATIVE_INFINITY); // a row of -Inf only
            Arrays.fill(s, 4 * lds, 4 * lds + n, Float.NaN); // a row of NaN only
            int[][] ex = exclusions(r, m, n, 0.1);
            MemorySegment seg = MemorySegment.ofArray(s);
            Out ref = select(false, m, n, seg, 0, lds, k, ex[0], ex[1]);
            assertSame("specials n=" + n, ref, select(true, m, n, seg, 0, lds, k, ex[0], ex[1]));
            boolean[] dropped = new boolean[n];
            for (int e = ex[0][2]; e < ex[0][3]; e++) dropped[ex[1][e]] = true;
            int next = 0;
            for (int j = 0; j < k; j++) {
                while (next < n && dropped[next]) next++;
                assertEquals(next < n ? next++ : -1, ref.idx[2 * k + j], "-Inf scores are eligible, lowest ids first");
                assertEquals(-1, ref.idx[4 * k + j], "NaN scores are never selected");
            }
            for (float v : ref.score) assertTrue(Float.floatToRawIntBits(v) != Float.floatToRawIntBits(-0f), "-0 reported as 0");
        }
    }

    @Test
    void monotoneScoreOrdersStressTheBuffer() {
        // ascending scores: every item beats all earlier ones (many appends and compactions)
        int n = 20011, k = 100;
        float[] up = new float[n], down = new float[n], flat = new float[n];
        for (int j = 0; j < n; j++) {
            up[j] = j;
            down[j] = -j;
        }
        int[] oi = new int[k];
        float[] os = new float[k];
        TopKSimd.selectTopK(1, n, MemorySegment.ofArray(up), 0, n, k, null, null, oi, os);
        for (int j = 0; j < k; j++) {
            assertEquals(n - 1 - j, oi[j]);
            assertEquals(n - 1 - j, os[j]);
        }
        TopKSimd.selectTopK(1, n, MemorySegment.ofArray(down), 0, n, k, null, null, oi, os);
        for (int j = 0; j < k; j++) assertEquals(j, oi[j]);
        TopKSimd.selectTopK(1, n, MemorySegment.ofArray(flat), 0, n, k, new int[] {0, 2}, new int[] {5, 0}, oi, os);
        for (int j = 0; j < k; j++) assertEquals(j < 4 ? j + 1 : j + 2, oi[j], "all tied: lowest ids, exclusions skipped");
    }

    @Test
    void sampledGuessThatKeepsTooFewItemsFallsBackExactly() {
        // d = 1, u = 1: score = item value. 40 sampled items (q*stride + stride/2) score 10, more than the
        // guess rank but fewer than k, so a guessed threshold keeps fewer than k
        // and the row must be re-scanned; then scores that favour unsampled items, and a flat tail.
        int n = 8 * TopKSimd.SAMPLES + 37, k = 100, stride = n / TopKSimd.SAMPLES;
        assertTrue(TopKSimd.guessRank(n, k) > 0 && TopKSimd.guessRank(n, k) <= 40, "the case must exercise guessing");
        int m = 3 * TopKSimd.MB + 2;
        float[] it = new float[n];
        for (int j = 0; j < n; j++) it[j] = (j % 7 == 0) ? 3 : 1;
        for (int q = 0; q < 40; q++) it[q * 25 * stride + (stride >> 1)] = 10; // 40 sampled items score 10
        float[] u = new float[m];
        for (int i = 0; i < m; i++) u[i] = (i % 5 == 4) ? -1 : 1; // every fifth row prefers the low scores
        SplittableRandom r = new SplittableRandom(9);
        int[][] ex = exclusions(r, m, n, 0.01);
        Case c = new Case(m, n, 1, k, u, 0, 1, it, 0, 1, ex[0], ex[1]);
        checkCase("forced re-scans", c);
        Case noEx = new Case(m, n, 1, k, u, 0, 1, it, 0, 1, null, null);
        checkCase("forced re-scans, no exclusions", noEx);
        Out o = fused(true, noEx, MemorySegment.ofArray(u), MemorySegment.ofArray(it));
        for (int q = 0; q < 40; q++) assertEquals(q * 25 * stride + (stride >> 1), o.idx[q], "the 40 tens first");
        assertEquals(0, o.idx[40], "then the threes by id");
        // Gaussian rows with the same sampling: guesses hold, results equal the scalar twin
        float[] g = KernelTestSupport.randn(4, n * 8);
        float[] ug = KernelTestSupport.randn(5, 40 * 8);
        checkCaseApprox(new Case(40, n, 8, 50, ug, 0, 8, g, 0, 8, null, null));
    }

    /** Gaussian data: SIMD fused and select equal selectTopK over ScoreTile scores exactly. */
    private static void checkCaseApprox(Case c) {
        int ldc = ((c.n + ScoreTile.NR - 1) / ScoreTile.NR) * ScoreTile.NR;
        float[] bp = new float[ScoreTile.packedSize(c.n, c.d)];
        ScoreTile.packB(MemorySegment.ofArray(c.items), 0, c.d, 0, c.n, c.d, bp);
        float[] sc = new float[c.m * ldc];
        ScoreTile.tile(c.m, c.n, c.d, c.u, 0, c.d, bp, sc, ldc);
        Out ref = select(false, c.m, c.n, MemorySegment.ofArray(sc), 0, ldc, c.k, c.ptr, c.idx);
        assertSame("gaussian fused", ref, fused(true, c, MemorySegment.ofArray(c.u), MemorySegment.ofArray(c.items)));
        assertSame("gaussian select", ref, select(true, c.m, c.n, MemorySegment.ofArray(sc), 0, ldc, c.k, c.ptr, c.idx));
    }

    @Test
    void zeroEmbeddingsAllTie() {
        Case c = new Case(5, 777, 8, 50, new float[5 * 8], 0, 8, new float[777 * 8], 0, 8, null, null);
        for (boolean simd : new boolean[] {false, true}) {
            Out o = fused(simd, c, MemorySegment.ofArray(c.u), MemorySegment.ofArray(c.items));
            for (int r = 0; r < 5; r++) for (int j = 0; j < 50; j++) assertEquals(j, o.idx[r * 50 + j]);
        }
    }

    @Test
    void emptyShapes() {
        float[] u = {1, 2, 3, 4};
        float[] it = {1, 1, 2, 2, 3, 3};
        for (boolean simd : new boolean[] {false, true}) {
            // k = 0: nothing written
            int[] oi = {42};
            float[] os = {42f};
            Case k0 = new Case(2, 3, 2, 0, u, 0, 2, it, 0, 2, null, null);
            if (simd) TopKSimd.scoreTopK(2, 3, 2, Mem.of(u), 0, 2, Mem.of(it), 0, 2, 0, null, null, oi, os);
            else TopKScalar.scoreTopK(2, 3, 2, Mem.of(u), 0, 2, Mem.of(it), 0, 2, 0, null, null, oi, os);
            assertEquals(42, oi[0]);
            assertEquals(0, fused(simd, k0, Mem.of(u), Mem.of(it)).idx.length);
            // n = 0: all padding
            Out o = fused(simd, new Case(2, 0, 2, 3, u, 0, 2, new float[0], 0, 2, null, null), Mem.of(u), Mem.of(new float[0]));
            assertArrayEquals(new int[] {-1, -1, -1, -1, -1, -1}, o.idx);
            for (float v : o.score) assertEquals(Float.NEGATIVE_INFINITY, v);
            // m = 0
            assertEquals(0, fused(simd, new Case(0, 3, 2, 2, new float[0], 0, 2, it, 0, 2, null, null),
                    Mem.of(new float[0]), Mem.of(it)).idx.length);
            // d = 0: every score is 0, lowest ids win
            Out z = fused(simd, new Case(1, 3, 0, 2, new float[0], 0, 0, new float[0], 0, 0, null, null),
                    Mem.of(new float[0]), Mem.of(new float[0]));
            assertArrayEquals(new int[] {0, 1}, z.idx);
            assertArrayEquals(new float[] {0f, 0f}, z.score);
            // everything excluded
            Out e = fused(simd, new Case(1, 3, 2, 2, u, 0, 2, it, 0, 2, new int[] {0, 4}, new int[] {2, 0, 1, 0}),
                    Mem.of(u), Mem.of(it));
            assertArrayEquals(new int[] {-1, -1}, e.idx);
        }
    }

    @Test
    void threadCountDoesNotChangeResults() {
        int saved = Parallel.threads();
        try {
            Case c = intCase(77, 3 * TopKSimd.MB + 7, 3001, 17, 40, 2, 0.05, true);
            float[] g = KernelTestSupport.randn(5, c.u.length);
            for (int i = 0; i < g.length; i++) if (!Float.isNaN(c.u[i])) c.u[i] = g[i];
            Out[] outs = new Out[3];
            Out[] sel = new Out[3];
            int[] threads = {1, 2, 3};
            float[] s = new float[c.m * c.n];
            for (int i = 0; i < s.length; i++) s[i] = (float) Math.floor(g[i % g.length] * 4);
            for (int t = 0; t < threads.length; t++) {
                Parallel.setThreads(threads[t]);
                outs[t] = fused(true, c, MemorySegment.ofArray(c.u), MemorySegment.ofArray(c.items));
                sel[t] = select(true, c.m, c.n, MemorySegment.ofArray(s), 0, c.n, c.k, c.ptr, c.idx);
            }
            for (int t = 1; t < threads.length; t++) {
                assertSame("fused threads=" + threads[t], outs[0], outs[t]);
                assertSame("select threads=" + threads[t], sel[0], sel[t]);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void badArgumentsAreRejectedByBothTwins() {
        MemorySegment u = Mem.of(new float[8]), it = Mem.of(new float[12]);
        int[] oi = new int[8];
        float[] os = new float[8];
        for (boolean simd : new boolean[] {false, true}) {
            Fn f = simd ? TopKSimd::scoreTopK : TopKScalar::scoreTopK;
            expectBad(() -> f.run(-1, 3, 4, u, 0, 4, it, 0, 4, 2, null, null, oi, os), "negative");
            expectBad(() -> f.run(2, 3, 4, u, 0, 3, it, 0, 4, 2, null, null, oi, os), "leading dimension");
            expectBad(() -> f.run(2, 3, 4, u, 1, 4, it, 0, 4, 2, null, null, oi, os), "outside");
            expectBad(() -> f.run(2, 4, 4, u, 0, 4, it, 0, 4, 2, null, null, oi, os), "outside");
            expectBad(() -> f.run(2, 3, 4, u, 0, 4, it, 0, 4, 5, null, null, oi, os), "need m*k");
            expectBad(() -> f.run(2, 3, 4, u, 0, 4, it, 0, 4, 2, new int[] {0, 0, 0}, null, oi, os), "both");
            expectBad(() -> f.run(2, 3, 4, u, 0, 4, it, 0, 4, 2, new int[] {0, 1}, new int[] {0}, oi, os), "m+1");
            expectBad(() -> f.run(2, 3, 4, u, 0, 4, it, 0, 4, 2, new int[] {0, 1, 1}, new int[] {3}, oi, os), "outside [0");
            expectBad(() -> f.run(2, 3, 4, u, 0, 4, it, 0, 4, 2, new int[] {0, 2, 1}, new int[] {0, 1}, oi, os), "decreases");
            expectBad(() -> f.run(2, 3, 4, u, 0, 4, it, 0, 4, 2, new int[] {0, 1, 3}, new int[] {0, 1}, oi, os), "excludeIdx.length");
            String name = simd ? "TopKSimd.selectTopK" : "TopKScalar.selectTopK";
            Sel s = simd ? TopKSimd::selectTopK : TopKScalar::selectTopK;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.run(3, 5, it, 0, 5, 2, null, null, oi, os));
            assertTrue(e.getMessage().startsWith(name) && e.getMessage().contains("outside"), e.getMessage());
            expectBad(() -> s.run(2, 5, it, 0, 4, 2, null, null, oi, os), "leading dimension");
            // the checks shared with scoreTopK: output size and the exclusion CSR
            expectBad(() -> s.run(2, 5, it, 0, 5, 5, null, null, oi, os), "need m*k");
            expectBad(() -> s.run(2, 5, it, 0, 5, 2, new int[] {0, 2, 1}, new int[] {0, 1}, oi, os), "decreases");
        }
    }

    private interface Fn {
        void run(int m, int n, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi, int k,
                 int[] ptr, int[] idx, int[] oi, float[] os);
    }

    private interface Sel {
        void run(int m, int n, MemorySegment s, long off, int lds, int k, int[] ptr, int[] idx, int[] oi, float[] os);
    }

    private static void expectBad(org.junit.jupiter.api.function.Executable call, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains("TopK") && e.getMessage().contains(fragment), e.getMessage());
    }
}
