package kdrec.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The sampled guesses of TopKSimd against the scalar twin, in the cases that take their fallbacks:
 * the vector guess whose best samples are all excluded (falls back to the plain scan), guesses that
 * keep too few items (re-scans) in the materialised path, and the peer step's shape (n = 4000,
 * k = 50) where the materialised path guesses from n/16 samples; guesses of a large rank (UnKD's
 * k = 1000 lists), which select instead of inserting.
 */
@Tag("simd")
class TopKGuessTest {
    private static void assertSameAsScalar(String what, int m, int n, int d, int k, float[] u, float[] it, int[] ptr,
                                           int[] idx) {
        int[] ei = new int[m * k], ai = new int[m * k];
        float[] es = new float[m * k], as = new float[m * k];
        TopKScalar.scoreTopK(m, n, d, Mem.of(u), 0, d, Mem.of(it), 0, d, k, ptr, idx, ei, es);
        TopKSimd.scoreTopK(m, n, d, Mem.of(u), 0, d, Mem.of(it), 0, d, k, ptr, idx, ai, as);
        assertArrayEquals(ei, ai, what + ": fused ids");
        KernelTestSupport.assertBitEqual(what + ": fused scores", es, as);
        // d = 1 (exact scores): the materialised path sees the same scores
        float[] s = new float[m * n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) s[i * n + j] = Math.fma(u[i], it[j], 0f);
        MemorySegment seg = MemorySegment.ofArray(s);
        TopKScalar.selectTopK(m, n, seg, 0, n, k, ptr, idx, ei, es);
        TopKSimd.selectTopK(m, n, seg, 0, n, k, ptr, idx, ai, as);
        assertArrayEquals(ei, ai, what + ": select ids");
        KernelTestSupport.assertBitEqual(what + ": select scores", es, as);
    }

    @Test
    void excludedBestSamplesFallBackToTheScan() {
        // d = 1, u = 1: score = item value. The sampled items (q*stride + stride/2) score highest and
        // are excluded in every other row, so the lane-maxima pre-bound only finds excluded samples
        int n = 8 * TopKSimd.SAMPLES + 37, k = 100, stride = n / TopKSimd.SAMPLES, m = 7;
        assertTrue(TopKSimd.guessRank(n, k) > 0, "the case must exercise guessing");
        float[] it = new float[n];
        for (int j = 0; j < n; j++) it[j] = (j * 7919) % 1000;
        int[] sampled = new int[TopKSimd.SAMPLES];
        for (int q = 0; q < sampled.length; q++) {
            sampled[q] = q * stride + (stride >> 1);
            it[sampled[q]] = 2000 + q % 50;
        }
        float[] u = new float[m];
        Arrays.fill(u, 1f);
        int[] ptr = new int[m + 1];
        int[] idx = new int[(m / 2 + 1) * sampled.length];
        int nnz = 0;
        for (int i = 0; i < m; i++) {
            if (i % 2 == 0) for (int q = sampled.length - 1; q >= 0; q--) idx[nnz++] = sampled[q];
            ptr[i + 1] = nnz;
        }
        assertSameAsScalar("excluded samples", m, n, 1, k, u, it, ptr, Arrays.copyOf(idx, nnz));
    }

    @Test
    void materialisedGuessesAndRescans() {
        // rows whose sampled items (every 16th-ish) are the only high ones: the guess keeps too few
        for (int n : new int[] {1021, 4000, 9001}) {
            int k = 50, m = 9;
            float[] it = new float[n];
            for (int j = 0; j < n; j++) it[j] = (j * 31) % 97;
            int samples = TopKSimd.selectSamples(n), stride = samples > 0 ? n / samples : 1;
            for (int q = 0; q < samples; q += 3) it[q * stride + (stride >> 1)] = 500 + q;
            float[] u = new float[m];
            for (int i = 0; i < m; i++) u[i] = i % 3 == 2 ? -1f : 1f;
            assertSameAsScalar("n=" + n, m, n, 1, k, u, it, null, null);
        }
    }

    @Test
    void peerStepShapeGaussian() {
        int m = 40, n = 4000, d = 16, k = 50;
        assertTrue(TopKSimd.guessRank(n, k, TopKSimd.selectSamples(n)) > 0, "the select path must guess");
        float[] u = KernelTestSupport.randn(21, m * d), it = KernelTestSupport.randn(22, n * d);
        // reference: ScoreTile scores (the fused kernel's arithmetic), selected by the scalar twin
        int ldc = (n + ScoreTile.NR - 1) / ScoreTile.NR * ScoreTile.NR;
        float[] bp = new float[ScoreTile.packedSize(n, d)];
        ScoreTile.packB(MemorySegment.ofArray(it), 0, d, 0, n, d, bp);
        float[] sc = new float[m * ldc];
        ScoreTile.tile(m, n, d, u, 0, d, bp, sc, ldc);
        int[] ei = new int[m * k], ai = new int[m * k];
        float[] es = new float[m * k], as = new float[m * k];
        TopKScalar.selectTopK(m, n, MemorySegment.ofArray(sc), 0, ldc, k, null, null, ei, es);
        TopKSimd.selectTopK(m, n, MemorySegment.ofArray(sc), 0, ldc, k, null, null, ai, as);
        assertArrayEquals(ei, ai, "select ids");
        KernelTestSupport.assertBitEqual("select scores", es, as);
        TopKSimd.scoreTopK(m, n, d, Mem.of(u), 0, d, Mem.of(it), 0, d, k, null, null, ai, as);
        assertArrayEquals(ei, ai, "fused ids");
        KernelTestSupport.assertBitEqual("fused scores", es, as);
    }

    @Test
    void largeRankGuessesSelectTheSameBound() {
        // k = 1000 of ~10,000 items guesses from rank ~256 of the 1,024 samples: the quickselect path. Scores with
        // many ties, NaN and -Inf among them, and exclusions (every third row) that hit sampled items
        int n = 10_007, k = 1000, m = 7;
        int rank = TopKSimd.guessRank(n, k);
        assertTrue(rank > 32, "the case must take the large-rank guess, rank " + rank);
        float[] it = new float[n];
        for (int j = 0; j < n; j++) it[j] = j % 101 == 0 ? Float.NaN : j % 103 == 0 ? Float.NEGATIVE_INFINITY : (j * 7919) % 613;
        float[] u = new float[m];
        for (int i = 0; i < m; i++) u[i] = i % 2 == 0 ? 1f : -1f;
        int[] ptr = new int[m + 1];
        int[] idx = new int[m * 600];
        int nnz = 0;
        for (int i = 0; i < m; i++) {
            if (i % 3 == 0) for (int j = i; j < n; j += 17) if (nnz < idx.length) idx[nnz++] = j;
            ptr[i + 1] = nnz;
        }
        assertSameAsScalar("large rank", m, n, 1, k, u, it, ptr, Arrays.copyOf(idx, nnz));
    }

    @Test
    void kthLargestMatchesASort() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int n : new int[] {1, 2, 3, 17, 256, 1024}) {
            float[] a = new float[n];
            for (int rep = 0; rep < 20; rep++) {
                for (int j = 0; j < n; j++) a[j] = rep % 2 == 0 ? r.nextInt(5) : (float) r.nextGaussian(); // ties / distinct
                float[] sorted = a.clone();
                Arrays.sort(sorted);
                for (int kth : new int[] {0, n / 3, n / 2, n - 1}) {
                    float[] work = a.clone();
                    assertEquals(sorted[n - 1 - kth], TopKGuess.kthLargest(work, n, kth), "n " + n + ", kth " + kth);
                }
            }
        }
    }
}
