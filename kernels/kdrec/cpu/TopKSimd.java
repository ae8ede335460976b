package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Fused score -> per-row top-K (evaluation, teacher top-K, student top-M), SIMD twin of
 * {@link TopKScalar}: same signatures, same ids and scores, ties included.
 *
 * <p>{@link #scoreTopK} never materialises the m x n score matrix. The items are packed once per call
 * into {@link ScoreTile} panels, one packed buffer per item tile of {@code NT} columns (NT ~ 96 KB of
 * packed items, so a tile stays in L2 while a row block sweeps it). Rows are split over threads in
 * blocks of {@code MB}; for each (row block, item tile) ScoreTile writes an MB x NT score tile into a
 * thread-local buffer, excluded items are overwritten with NaN there, and each row's slice goes
 * through {@link TopKRows}' threshold filter and candidate buffer.
 *
 * <p>Determinism: every row's scores come from the same ScoreTile arithmetic whatever the block
 * (blocks start at multiples of MB for any thread count), and selection is exact, so the output is
 * bit-identical for any thread count. Scratch: thread-local, reused across calls; the packed item
 * tiles are kept per calling thread (about n*d floats).
 */
public final class TopKSimd {
    private TopKSimd() {}

    /** Rows per block: a multiple of the micro-kernel's MR. */
    static final int MB = Math.max(1, 48 / ScoreTile.MR) * ScoreTile.MR;
    /** Row chunk scanned at a time by {@link #selectTopK}. */
    static final int SELECT_CHUNK = 2048;

    private static final ThreadLocal<TopKRows> SCRATCH = ThreadLocal.withInitial(TopKRows::new);
    private static final ThreadLocal<float[][]> PACKED = ThreadLocal.withInitial(() -> new float[0][]);

    /**
     * Item tile width for depth d: about 24K packed floats (96 KB, L2-resident with the score tile),
     * a whole number of NR panels, at most 768 columns (so the MB x NT score tile stays <= 144 KB).
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
        Fused job = new Fused(n, d, u, uOff, ldu, k, Math.min(k, n), nt, tiles, packed, excludePtr, excludeIdx,
                outIdx, outScore);
        Parallel.forRange(m, MB, MB, job::rows);
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

    /** One scoreTopK call's operands; {@link #rows} runs a contiguous range of rows on one thread. */
    private record Fused(int n, int d, MemorySegment u, long uOff, int ldu, int k, int kEff, int nt, int tiles,
                         float[][] packed, int[] ptr, int[] idx, int[] outIdx, float[] outScore) {
        void rows(int lo, int hi) {
            TopKRows s = SCRATCH.get();
            s.ensure(MB, kEff, MB * d, MB * nt);
            for (int r0 = lo; r0 < hi; r0 += MB) {
                int mb = Math.min(MB, hi - r0);
                for (int i = 0; i < mb; i++) Mem.copyOut(u, uOff + (long) (r0 + i) * ldu, s.a, i * d, d);
                s.begin(mb, r0, ptr, idx);
                for (int t = 0; t < tiles; t++) {
                    int j0 = t * nt, nb = Math.min(nt, n - j0);
                    ScoreTile.tile(mb, nb, d, s.a, 0, d, packed[t], s.c, nt);
                    scanTile(s, mb, nb, j0, nt);
                }
                for (int i = 0; i < mb; i++) s.finish(i, outIdx, outScore, r0 + i, k);
            }
        }
    }

    private static void scanTile(TopKRows s, int mb, int nb, int j0, int ldc) {
        float[] c = s.c;
        for (int i = 0; i < mb; i++) {
            s.maskExcluded(i, c, i * ldc, j0, nb);
            s.scan(i, c, i * ldc, nb, j0);
        }
    }

    private static void selectRows(int n, MemorySegment scores, long sOff, int lds, int k, int[] ptr, int[] idx,
                                   int[] outIdx, float[] outScore, int lo, int hi) {
        TopKRows s = SCRATCH.get();
        s.ensure(1, Math.min(k, n), 0, SELECT_CHUNK);
        float[] c = s.c;
        for (int r = lo; r < hi; r++) {
            s.begin(1, r, ptr, idx);
            long rowOff = sOff + (long) r * lds;
            for (int j0 = 0; j0 < n; j0 += SELECT_CHUNK) {
                int nb = Math.min(SELECT_CHUNK, n - j0);
                Mem.copyOut(scores, rowOff + j0, c, 0, nb);
                s.maskExcluded(0, c, 0, j0, nb);
                s.scan(0, c, 0, nb, j0);
            }
            s.finish(0, outIdx, outScore, r, k);
        }
    }
}
