package kdrec.gpu;

/**
 * Per-row top-K on the GPU, the device twin of {@link kdrec.cpu.TopKScalar} with the same signatures
 * (MemorySegment and host arrays become {@link DeviceBuffer}s holding the same contents) and the same
 * contract: descending score, equal scores -> lower item id first, NaN never selected, reported
 * scores are s + 0 (no -0), an optional per-row CSR of excluded item ids (any order, duplicates
 * allowed), and rows with fewer than k eligible items end with id -1 / score -Infinity.
 * {@link #scoreTopK} never materialises the m x n score matrix.
 *
 * <p>Kernels, two selections ({@link Selection}; both bit-identical in what they return): for k &lt;= 128
 * native/topk_small.cu ({@link Selection#WARP_ROWS}): a 128-thread block owns 32 rows, each warp 8 of
 * them; the items stream in tiles of 128, scored as an 8 x 4 register block per lane, and each warp
 * filters its rows' scores against their current k-th best and merges the survivors with shuffles into
 * lists in shared memory, with no block barrier between one warp's merges and another's work. For
 * larger k native/topk.cu ({@link Selection#BLOCK_MERGE}): a 256-thread block owns 32 rows and
 * streams tiles of 64; surviving scores go to per-row candidate buffers in shared memory, which the
 * whole block bitonic-sorts and merges by rank, row after row, into lists kept in the output. Each
 * fused score is an fmaf chain over d in increasing order from +0, bit-identical to the scalar twin's.
 * When there are too few row blocks to fill the GPU (fewer than {@value #TARGET_BLOCKS}), the items
 * are also split across blocks (grid y), each split writes its own sorted list to a scratch buffer and
 * kdrec_topk_merge combines them. Outputs are deterministic (everything is ordered by a total order).
 *
 * <p>Limits: k &lt;= {@value #MAX_K}. The exclusion CSR lives on the device, so only its buffer sizes
 * are checked here, not its contents (the CPU twin checks ids are in [0, n) and ptr is monotone):
 * ptr must be non-decreasing with ptr[m] &lt;= excludeIdx's length; ids outside [0, n) simply never
 * match. Excluded items are filtered when a score could enter the row's list (WARP_ROWS: as it
 * survives the threshold; BLOCK_MERGE: when its buffer is merged), at a cost that grows with the row's
 * exclusion count, so rows that exclude most items are slow (correct, but every score survives).
 */
public final class GpuTopK {
    private GpuTopK() {}

    /** Largest k the kernels support (a merge holds 4 list entries per thread of 256). */
    public static final int MAX_K = 1024;
    /** Largest k of {@link Selection#WARP_ROWS} (its per-row lists live in shared memory). */
    public static final int MAX_WARP_ROWS_K = 128;
    private static final int ROWS = 32, TILE = 64, THREADS = 256, WARP_ROWS_THREADS = 128;
    /** Blocks wanted in flight on an H100 (about 4 per SM; scaled by the SM count); below it the items are split across blocks. */
    static final int TARGET_BLOCKS = 528;
    private static final int MAX_SPLITS = 16, MIN_TILES_PER_SPLIT = 16;

    /** How the kernels select; both give the same lists, only their speed differs (see the class comment). */
    public enum Selection {
        /** native/topk_small.cu, k &lt;= {@value #MAX_WARP_ROWS_K}: warps own rows, lists in shared memory. */
        WARP_ROWS,
        /** native/topk.cu, any k &lt;= {@value #MAX_K}: block-wide candidate merges, lists in the output. */
        BLOCK_MERGE;

        /** What the plain entry points use: WARP_ROWS where k allows it. */
        public static Selection forK(int k) {
            return k <= MAX_WARP_ROWS_K ? WARP_ROWS : BLOCK_MERGE;
        }
    }

    /**
     * For each of the m rows of U (m x d, leading dim ldu) score all n items (n x d, leading dim ldi),
     * s = &lt;u, item&gt;, and write the k best per row to outIdx / outScore [r*k + j], j = 0..k-1.
     * excludePtr (m+1 ints) / excludeIdx: optional CSR of excluded item ids per row; both null = none.
     */
    public static void scoreTopK(Cuda cuda, int m, int n, int d, DeviceBuffer u, long uOff, int ldu,
                                 DeviceBuffer items, long iOff, int ldi, int k,
                                 DeviceBuffer excludePtr, DeviceBuffer excludeIdx, DeviceBuffer outIdx, DeviceBuffer outScore) {
        scoreTopK(cuda, m, n, d, u, uOff, ldu, items, iOff, ldi, k, excludePtr, excludeIdx, outIdx, outScore, Selection.forK(k));
    }

    /** {@link #scoreTopK} with the selection named (benchmarks and tests compare the two). */
    public static void scoreTopK(Cuda cuda, int m, int n, int d, DeviceBuffer u, long uOff, int ldu,
                                 DeviceBuffer items, long iOff, int ldi, int k,
                                 DeviceBuffer excludePtr, DeviceBuffer excludeIdx, DeviceBuffer outIdx, DeviceBuffer outScore,
                                 Selection selection) {
        String kernel = "GpuTopK.scoreTopK(m=" + m + ", n=" + n + ", d=" + d + ", k=" + k + ")";
        if (d < 0) throw new IllegalArgumentException(kernel + ": negative d");
        checkCommon(kernel, m, n, k, excludePtr, excludeIdx, outIdx, outScore);
        checkSelection(kernel, k, selection);
        checkMatrix(kernel, "U", u, uOff, m, d, ldu);
        checkMatrix(kernel, "items", items, iOff, n, d, ldi);
        if (m == 0 || k == 0) return;
        run(cuda, selection, true, m, n, d, u.at(uOff), ldu, items.at(iOff), ldi, null, 0, k, excludePtr, excludeIdx, outIdx, outScore);
    }

    /** Same selection over a materialised score matrix (m x n, leading dim lds). */
    public static void selectTopK(Cuda cuda, int m, int n, DeviceBuffer scores, long sOff, int lds, int k,
                                  DeviceBuffer excludePtr, DeviceBuffer excludeIdx, DeviceBuffer outIdx, DeviceBuffer outScore) {
        selectTopK(cuda, m, n, scores, sOff, lds, k, excludePtr, excludeIdx, outIdx, outScore, Selection.forK(k));
    }

    /** {@link #selectTopK} with the selection named. */
    public static void selectTopK(Cuda cuda, int m, int n, DeviceBuffer scores, long sOff, int lds, int k,
                                  DeviceBuffer excludePtr, DeviceBuffer excludeIdx, DeviceBuffer outIdx, DeviceBuffer outScore,
                                  Selection selection) {
        String kernel = "GpuTopK.selectTopK(m=" + m + ", n=" + n + ", k=" + k + ")";
        checkCommon(kernel, m, n, k, excludePtr, excludeIdx, outIdx, outScore);
        checkSelection(kernel, k, selection);
        checkMatrix(kernel, "scores", scores, sOff, m, n, lds);
        if (m == 0 || k == 0) return;
        run(cuda, selection, false, m, n, 0, null, 0, null, 0, scores.at(sOff), lds, k, excludePtr, excludeIdx, outIdx, outScore);
    }

    private static void checkSelection(String kernel, int k, Selection selection) {
        if (selection == null) throw new IllegalArgumentException(kernel + ": selection is null");
        if (selection == Selection.WARP_ROWS && k > MAX_WARP_ROWS_K) {
            throw new IllegalArgumentException(kernel + ": k=" + k + " > " + MAX_WARP_ROWS_K + ", the WARP_ROWS limit; use BLOCK_MERGE");
        }
    }

    /** {@link #splits(int, int, int)} for an H100 (132 SMs). */
    public static int splits(int m, int n) {
        return splits(m, n, 132);
    }

    /**
     * How many item splits a problem gets on a GPU with {@code sms} multiprocessors: enough blocks to
     * fill it (about 4 per SM), but at least 16 item tiles (1,024 items) each.
     */
    public static int splits(int m, int n, int sms) {
        long target = (long) TARGET_BLOCKS * Math.max(1, sms) / 132;
        long rowBlocks = (m + ROWS - 1L) / ROWS;
        if (rowBlocks == 0 || rowBlocks >= target) return 1;
        long tiles = (n + TILE - 1L) / TILE;
        long wanted = (target + rowBlocks - 1) / rowBlocks;
        return (int) Math.max(1, Math.min(Math.min(wanted, MAX_SPLITS), tiles / MIN_TILES_PER_SPLIT));
    }

    private static void run(Cuda cuda, Selection selection, boolean fused, int m, int n, int d, DeviceBuffer u, int ldu,
                            DeviceBuffer items, int ldi, DeviceBuffer scores, int lds, int k, DeviceBuffer excludePtr,
                            DeviceBuffer excludeIdx, DeviceBuffer outIdx, DeviceBuffer outScore) {
        int hasEx = excludePtr != null ? 1 : 0;
        // Cuda.launch takes no null pointers: without excludes the kernel gets (and ignores) the outputs.
        DeviceBuffer ptr = hasEx == 1 ? excludePtr : outIdx, idx = hasEx == 1 ? excludeIdx : outIdx;
        int rowBlocks = (int) ((m + ROWS - 1L) / ROWS), splits = splits(m, n, cuda.multiprocessors());
        Cuda.Kernel kernel = kernel(cuda, selection, fused, k);
        int threads = selection == Selection.WARP_ROWS ? WARP_ROWS_THREADS : THREADS;
        if (splits == 1) {
            launchSelect(cuda, kernel, threads, fused, rowBlocks, 1, m, n, d, u, ldu, items, ldi, scores, lds, k, ptr, idx, hasEx,
                    outScore, outIdx);
            return;
        }
        // Only for problems with few rows: each split needs its own k-list per row (scores then ids,
        // m * splits * k each, in the context's workspace) until kdrec_topk_merge combines them.
        long lists = (long) m * splits * k;
        try (Workspace.Lease lease = cuda.workspace().lease(2 * lists * 4)) {
            DeviceBuffer scratch = lease.buffer();
            DeviceBuffer sS = scratch, sI = scratch.at(lists);
            launchSelect(cuda, kernel, threads, fused, rowBlocks, splits, m, n, d, u, ldu, items, ldi, scores, lds, k, ptr, idx, hasEx,
                    sS, sI);
            cuda.launch(cuda.kernel("kdrec_topk_merge"), m, 1, 1, THREADS, 1, 1, 0, m, k, splits, sS, sI, outScore, outIdx);
        }
    }

    /** The kernel of a selection: WARP_ROWS has list capacities of 32 and 128 slots per row (the smaller one holds more blocks per SM). */
    private static Cuda.Kernel kernel(Cuda cuda, Selection selection, boolean fused, int k) {
        if (selection == Selection.BLOCK_MERGE) return fused ? cuda.kernel("kdrec_topk_score") : cuda.kernel("kdrec_topk_select");
        if (k <= 32) return fused ? cuda.kernel("kdrec_topk_small_score32") : cuda.kernel("kdrec_topk_small_select32");
        return fused ? cuda.kernel("kdrec_topk_small_score128") : cuda.kernel("kdrec_topk_small_select128");
    }

    private static void launchSelect(Cuda cuda, Cuda.Kernel kernel, int threads, boolean fused, int rowBlocks, int splits, int m,
                                     int n, int d, DeviceBuffer u, int ldu, DeviceBuffer items, int ldi, DeviceBuffer scores, int lds,
                                     int k, DeviceBuffer ptr, DeviceBuffer idx, int hasEx, DeviceBuffer dstS, DeviceBuffer dstI) {
        if (fused) {
            cuda.launch(kernel, rowBlocks, splits, 1, threads, 1, 1, 0,
                    m, n, d, u, ldu, items, ldi, k, ptr, idx, hasEx, splits, dstS, dstI);
        } else {
            cuda.launch(kernel, rowBlocks, splits, 1, threads, 1, 1, 0,
                    m, n, scores, lds, k, ptr, idx, hasEx, splits, dstS, dstI);
        }
    }

    /** Dims, k limit, outputs and the exclusion CSR's buffer sizes; before the context is touched. */
    static void checkCommon(String kernel, int m, int n, int k, DeviceBuffer excludePtr, DeviceBuffer excludeIdx,
                            DeviceBuffer outIdx, DeviceBuffer outScore) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(kernel + ": negative dims m=" + m + ", n=" + n + ", k=" + k);
        }
        if (k > MAX_K) throw new IllegalArgumentException(kernel + ": k=" + k + " > " + MAX_K + ", the GPU top-K limit");
        long slots = (long) m * k;
        if (slots > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(kernel + ": m*k = " + slots + " too large");
        if (outIdx == null || outScore == null) throw new IllegalArgumentException(kernel + ": output buffers are null");
        if (outIdx.elements() < slots || outScore.elements() < slots) {
            throw new IllegalArgumentException(kernel + ": outputs hold " + outIdx.elements() + " ids / " + outScore.elements()
                    + " scores, need m*k = " + slots + " (m=" + m + ", k=" + k + ")");
        }
        if ((excludePtr == null) != (excludeIdx == null)) {
            throw new IllegalArgumentException(kernel + ": excludePtr and excludeIdx must both be null or both be set");
        }
        if (excludePtr != null && excludePtr.elements() < m + 1L) {
            throw new IllegalArgumentException(kernel + ": excludePtr has " + excludePtr.elements() + " ints, need m+1 = " + (m + 1L));
        }
    }

    /** A dense row-major operand of rows x cols with leading dimension ld inside its buffer. */
    static void checkMatrix(String kernel, String what, DeviceBuffer s, long off, int rows, int cols, int ld) {
        if (s == null) throw new IllegalArgumentException(kernel + ": " + what + " buffer is null");
        if (off < 0) throw new IllegalArgumentException(kernel + ": " + what + " offset " + off + " < 0");
        if (ld < cols) {
            throw new IllegalArgumentException(kernel + ": " + what + " leading dimension " + ld + " < width " + cols);
        }
        long extent = rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
        if (off + extent > s.elements()) {
            throw new IllegalArgumentException(kernel + ": " + what + " (" + rows + " x " + cols + ", ld " + ld + ", offset "
                    + off + ") needs " + (off + extent) + " floats, buffer has " + s.elements());
        }
    }
}
