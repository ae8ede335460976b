package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fused score -> per-row top-K (evaluation, teacher top-K, student top-M), SIMD twin of
 * {@link TopKScalar}: same signatures, same ids and scores, ties included.
 *
 * <p>{@link #scoreTopK} never materialises the m x n score matrix, not even a score tile. The items are
 * packed once per call into {@link ScoreTile} panels, one packed buffer per item tile of {@code NT}
 * columns. Rows go in blocks of {@code MB}; for each (row block, item tile) {@link TopKTile} runs the
 * micro-kernel panel by panel and compares the accumulators with each row's bound straight from the
 * registers, compress-storing the passing scores into the rows' candidate buffers ({@link TopKRows}).
 * Excluded items are purged from the buffers before anything is ranked.
 *
 * <p>Early bound: for large n each row first scores {@value #SAMPLES} evenly spaced items (one
 * extra packed ScoreTile panel set, ~2.5 % of the GEMM at n = 41 000) and starts with a guessed
 * bound (TopKRows.guess); a row whose guess keeps fewer than k items is re-scored and re-scanned
 * exactly (rare; guessing switches itself off for a thread when re-scans get frequent).
 *
 * <p>Threads take row blocks from a shared counter (not fixed halves), so a thread that loses its
 * core for a while on a shared box does not leave the other one idle at the end. Determinism: every
 * score is the same fma chain whatever the kernel shape or block, and selection is exact, so the output
 * is bit-identical for any thread count and any block-to-thread assignment. Scratch: thread-local,
 * reused across calls; the packed item tiles are kept per calling thread (about n*d floats).
 */
public final class TopKSimd {
    private TopKSimd() {}

    /**
     * Rows per block (a multiple of 6 and 3). Every block streams all n packed items once (10.5 MB at
     * 41 000 x 64) past its rows, so bigger blocks mean less L3/DRAM traffic per FMA: 48 rows measured
     * 1.42-1.44x the GEMM's CPU time, 96 rows 1.18-1.23x, 192 rows 1.17-1.19x. 96 keeps the block of U
     * (24 KB at d = 64) and one packed panel (12 KB) in the 48 KB L1 together.
     */
    static final int MB = 96;
    /** Row chunk scanned at a time by {@link #selectTopK} (rows longer than {@link #WHOLE_ROW}). */
    static final int SELECT_CHUNK = 2048;
    /** Rows up to this many floats (64 KB) are copied whole by {@link #selectTopK}. */
    static final int WHOLE_ROW = 16384;
    /** Items sampled per row to guess an early threshold (see {@link TopKRows#guess}). */
    static final int SAMPLES = 1024;

    private static final ThreadLocal<TopKRows> SCRATCH = ThreadLocal.withInitial(TopKRows::new);
    private static final ThreadLocal<float[][]> PACKED = ThreadLocal.withInitial(() -> new float[0][]);
    private static final ThreadLocal<float[]> PACKED_SAMPLE = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Rank r of the sampled guess from {@value #SAMPLES} samples (0: do not guess); the fused kernel's
     * rule, see {@link #guessRank(int, int, int)}. Small n (where scoring the samples would cost more
     * than 12 % of the GEMM): no guess.
     */
    static int guessRank(int n, int kEff) {
        return n < 8 * SAMPLES ? 0 : guessRank(n, kEff, SAMPLES);
    }

    /**
     * Rank r of the guess from s evenly spaced samples (0: do not guess). Items above the r-th best
     * sample number about r*n/s; r = max(8, 2.5 kEff s / n) aims at 2.5 kEff survivors, and r &gt;= 8
     * keeps the chance that fewer than kEff survive (a re-scan) below ~1 % for uniformly spread
     * scores. Large k/n, or small k (where the r &gt;= 8 floor would keep more than 4 kEff, measured no
     * faster than fill + compaction at k = 20): no guess.
     */
    static int guessRank(int n, int kEff, int s) {
        if (s < 64 || n < 2 * s) return 0;
        long r = Math.max(8, (5L * kEff * s + 2L * n - 1) / (2L * n));
        if (r > s / 4 || r * (n / s) > 4L * kEff) return 0;
        return (int) r;
    }

    /**
     * Samples a materialised row's guess reads: n/16, a multiple of 16, at most {@value #SAMPLES}.
     * Reading them is cheap next to the scan (unlike scoring them in the fused kernel), and so is a
     * re-scan of a row already in memory, so the guess can afford a few % failures: at n = 4000,
     * k = 50, 256 samples and rank 8 keep about 120 items (1.7 % re-scans), where n/8 samples needed
     * rank 16, whose lane-maxima pre-bound was weak (guessVector cost 5.5 % of the peer step).
     */
    static int selectSamples(int n) {
        return Math.min(SAMPLES, (n / 16) & ~15);
    }

    /**
     * Rows of the block starting at r0: MB, shrinking towards the end (at most 1/(2 threads) of what is
     * left, at least 12 rows) so that the threads finish together. A function of r0 alone.
     */
    static int blockRows(int r0, int m, int threads) {
        int left = m - r0, guided = (left / (2 * threads) + 5) / 6 * 6;
        return Math.min(left, Math.min(MB, Math.max(12, guided)));
    }

    /** Takes the next row block from the shared cursor; returns its first row (m when none is left). */
    private static int claim(AtomicInteger next, int m, int threads) {
        while (true) {
            int r0 = next.get();
            if (r0 >= m) return m;
            if (next.compareAndSet(r0, r0 + blockRows(r0, m, threads))) return r0;
        }
    }

    /**
     * Item tile width for depth d: about 24K packed floats (96 KB), a whole number of NR panels, at
     * most 768 columns. The tiles only bound the packing buffers and a re-scanned row's score chunk;
     * the kernel walks them panel by panel.
     */
    static int tileCols(int d) {
        int nr = ScoreTile.NR;
        int cols = 24576 / Math.max(1, d);
        cols = Math.min(cols, 768);
        return Math.max(1, cols / nr) * nr;
    }

    /**
     * For each of the m rows of U (m x d, leading dim ldu) score all n items (n x d, leading dim ldi):
     * s = &lt;u, item&gt;. Write the k best per row into outIdx[r*k + j] / outScore[r*k + j], j = 0..k-1,
     * descending score, ties broken by the lower item id. excludePtr (length m+1) / excludeIdx: optional
     * CSR of item ids to exclude per row (any order, duplicates allowed, ids in [0,n)); both null = none.
     * Rows with fewer than k eligible items: remaining slots get id -1 and score -Infinity.
     * NaN scores are never selected. Never allocates an m x n buffer: streams item tiles.
     */
    public static void scoreTopK(int m, int n, int d, MemorySegment u, long uOff, int ldu,
                                 MemorySegment items, long iOff, int ldi, int k,
                                 int[] excludePtr, int[] excludeIdx, int[] outIdx, float[] outScore) {
        String kernel = "TopKSimd.scoreTopK(m=" + m + ", n=" + n + ", d=" + d + ", k=" + k + ")";
        if (d < 0) throw new IllegalArgumentException(kernel + ": negative d");
        TopKArgs.checkCommon(kernel, m, n, k, excludePtr, excludeIdx, outIdx, outScore);
        TopKArgs.checkMatrix(kernel, "U", u, uOff, m, d, ldu);
        TopKArgs.checkMatrix(kernel, "items", items, iOff, n, d, ldi);
        if (m == 0 || k == 0) return;
        if (n == 0) {
            for (int r = 0; r < m; r++) TopKArgs.fillEmpty(outIdx, outScore, r, k, 0);
            return;
        }
        int nt = tileCols(d);
        int tiles = (n + nt - 1) / nt;
        float[][] packed = packedTiles(tiles, ScoreTile.packedSize(nt, d));
        Parallel.forRange(tiles, 1, 8, (lo, hi) -> packTiles(items, iOff, ldi, n, d, nt, packed, lo, hi));
        int kEff = Math.min(k, n), stride = n / SAMPLES;
        int rank = (long) ldi * stride <= Integer.MAX_VALUE ? guessRank(n, kEff) : 0;
        float[] sample = null;
        if (rank > 0) {
            // the samples q*stride + stride/2 are a strided matrix: leading dim ldi*stride
            sample = PACKED_SAMPLE.get();
            if (sample.length != ScoreTile.packedSize(SAMPLES, d)) {
                sample = new float[ScoreTile.packedSize(SAMPLES, d)];
                PACKED_SAMPLE.set(sample);
            }
            ScoreTile.packB(items, iOff + (long) (stride >> 1) * ldi, ldi * stride, 0, SAMPLES, d, sample);
        }
        Fused job = new Fused(m, n, d, u, uOff, ldu, k, kEff, nt, tiles, packed, sample, rank, stride, excludePtr,
                excludeIdx, outIdx, outScore, new AtomicInteger());
        int blocks = (m + MB - 1) / MB;
        Parallel.forChunks(Math.min(blocks, Parallel.threads()), 1, 1, (chunk, lo, hi) -> job.rows(Math.min(blocks, Parallel.threads())));
    }

    /** Same selection over a materialised score matrix (m x n, leading dim lds). */
    public static void selectTopK(int m, int n, MemorySegment scores, long sOff, int lds, int k,
                                  int[] excludePtr, int[] excludeIdx, int[] outIdx, float[] outScore) {
        String kernel = "TopKSimd.selectTopK(m=" + m + ", n=" + n + ", k=" + k + ")";
        TopKArgs.checkCommon(kernel, m, n, k, excludePtr, excludeIdx, outIdx, outScore);
        TopKArgs.checkMatrix(kernel, "scores", scores, sOff, m, n, lds);
        if (m == 0 || k == 0) return;
        if (n == 0) {
            for (int r = 0; r < m; r++) TopKArgs.fillEmpty(outIdx, outScore, r, k, 0);
            return;
        }
        Parallel.forRange(m, 1, 16, (lo, hi) -> selectRows(n, scores, sOff, lds, k, excludePtr, excludeIdx,
                outIdx, outScore, lo, hi));
    }

    private static float[][] packedTiles(int tiles, int size) {
        float[][] p = PACKED.get();
        if (p.length < tiles || (p.length > 0 && p[0].length != size)) {
            p = new float[tiles][size];
            PACKED.set(p);
        }
        return p;
    }

    private static void packTiles(MemorySegment items, long iOff, int ldi, int n, int d, int nt, float[][] packed,
                                  int lo, int hi) {
        for (int t = lo; t < hi; t++) {
            int j0 = t * nt;
            ScoreTile.packB(items, iOff, ldi, j0, Math.min(nt, n - j0), d, packed[t]);
        }
    }

    /**
     * One scoreTopK call's operands; {@link #rows} runs row blocks, taken from {@code next}, on one thread.
     * Guessing is switched off for the rest of a thread's blocks when re-scans become frequent (scores
     * that are not spread like the sample): results are exact either way, only the speed differs.
     */
    private record Fused(int m, int n, int d, MemorySegment u, long uOff, int ldu, int k, int kEff, int nt, int tiles,
                         float[][] packed, float[] sample, int rank, int stride, int[] ptr, int[] idx, int[] outIdx,
                         float[] outScore, AtomicInteger next) {
        void rows(int threads) {
            TopKRows s = SCRATCH.get();
            int lds = ((SAMPLES + ScoreTile.NR - 1) / ScoreTile.NR) * ScoreTile.NR;
            s.ensure(MB, kEff, MB * d, nt, rank > 0 ? MB * lds : 0);
            boolean guessing = rank > 0;
            int done = 0, rescans = 0;
            for (int r0 = claim(next, m, threads); r0 < m; r0 = claim(next, m, threads)) {
                int mb = blockRows(r0, m, threads);
                for (int i = 0; i < mb; i++) Mem.copyOut(u, uOff + (long) (r0 + i) * ldu, s.a, i * d, d);
                s.begin(mb, r0, ptr, idx);
                if (guessing) {
                    ScoreTile.tile(mb, SAMPLES, d, s.a, 0, d, sample, s.samp, lds);
                    for (int i = 0; i < mb; i++) s.guess(i, s.samp, i * lds, SAMPLES, stride, rank);
                }
                for (int t = 0; t < tiles; t++) {
                    int j0 = t * nt;
                    TopKTile.run(s, mb, Math.min(nt, n - j0), j0, d, s.a, d, packed[t]);
                }
                for (int i = 0; i < mb; i++) {
                    if (!s.finish(i, outIdx, outScore, r0 + i, k)) {
                        rescans++;
                        rescan(s, i);
                        s.finish(i, outIdx, outScore, r0 + i, k);
                    }
                }
                done += mb;
                if (guessing && 16 * rescans > done + 64) guessing = false;
            }
        }

        /**
         * Scores row i of the block again, tile by tile (one-row ScoreTile: the same fma chain, so the
         * same scores as in the block sweep) and feeds it from the initial state.
         */
        private void rescan(TopKRows s, int i) {
            s.restart(i);
            for (int t = 0; t < tiles; t++) {
                int j0 = t * nt, nb = Math.min(nt, n - j0);
                ScoreTile.tile(1, nb, d, s.a, i * d, d, packed[t], s.c, nt);
                s.scan(i, s.c, 0, nb, j0);
            }
        }
    }

    private static void selectRows(int n, MemorySegment scores, long sOff, int lds, int k, int[] ptr, int[] idx,
                                   int[] outIdx, float[] outScore, int lo, int hi) {
        TopKRows s = SCRATCH.get();
        RowSelect sel = new RowSelect(n, k);
        // rows up to WHOLE_ROW floats are copied once (one bulk copy) and sampled and scanned from the copy;
        // longer rows stream through the chunk buffer and read their samples from the segment
        boolean whole = n <= WHOLE_ROW;
        s.ensure(1, sel.kEff, 0, whole ? n : SELECT_CHUNK, sel.samples);
        for (int r = lo; r < hi; r++) {
            s.begin(1, r, ptr, idx);
            long rowOff = sOff + (long) r * lds;
            if (whole) {
                Mem.copyOut(scores, rowOff, s.c, 0, n);
                sel.row(s, s.c, 0, r, outIdx, outScore);
                continue;
            }
            sel.rows++;
            if (sel.guessing) {
                float[] v = s.samp;
                int q0 = sel.stride >> 1;
                for (int q = 0; q < sel.samples; q++) v[q] = Mem.get(scores, rowOff + (long) q * sel.stride + q0);
                s.guess(0, v, 0, sel.samples, sel.stride, sel.rank);
            }
            scanChunks(s, n, scores, rowOff);
            if (!s.finish(0, outIdx, outScore, r, k)) {
                s.restart(0);
                scanChunks(s, n, scores, rowOff);
                s.finish(0, outIdx, outScore, r, k);
                sel.rescanned();
            }
        }
    }

    private static void scanChunks(TopKRows s, int n, MemorySegment scores, long rowOff) {
        float[] c = s.c;
        for (int j0 = 0; j0 < n; j0 += SELECT_CHUNK) {
            int nb = Math.min(SELECT_CHUNK, n - j0);
            Mem.copyOut(scores, rowOff + j0, c, 0, nb);
            s.scan(0, c, 0, nb, j0);
        }
    }

    /**
     * Top-k selection of whole materialised rows (n scores in a float[]) on one thread, with the
     * sampled guess of {@link #selectSamples}/{@link #guessRank(int, int, int)} and its exact re-scan;
     * guessing switches itself off when re-scans get frequent. Row state: slot 0 of a TopKRows
     * prepared with {@code ensure(1, kEff, 0, .., samples)} and {@code begin(1, r, ptr, idx)}.
     */
    static final class RowSelect {
        final int n, k, kEff, samples, rank, stride;
        boolean guessing;
        int rows;
        private int rescans;

        RowSelect(int n, int k) {
            this.n = n;
            this.k = k;
            kEff = Math.min(k, n);
            int sm = selectSamples(n);
            rank = guessRank(n, kEff, sm);
            samples = rank > 0 ? sm : 0;
            stride = rank > 0 ? n / sm : 0;
            guessing = rank > 0;
        }

        /** Selects row r's top k from c[off .. off+n) into the output row r. */
        void row(TopKRows s, float[] c, int off, int r, int[] outIdx, float[] outScore) {
            rows++;
            if (guessing) {
                float[] v = s.samp;
                int q0 = off + (stride >> 1);
                for (int q = 0; q < samples; q++) v[q] = c[q0 + q * stride];
                s.guess(0, v, 0, samples, stride, rank);
            }
            s.scan(0, c, off, n, 0);
            if (!s.finish(0, outIdx, outScore, r, k)) {
                s.restart(0);
                s.scan(0, c, off, n, 0);
                s.finish(0, outIdx, outScore, r, k);
                rescanned();
            }
        }

        void rescanned() {
            rescans++;
            if (16 * rescans > rows + 64) guessing = false;
        }
    }
}
