package kdrec.gpu;

/**
 * Per-row top-K on the GPU, the device twin of {@link kdrec.cpu.TopKScalar} with the same signatures
 * (MemorySegment and host arrays become {@link DeviceBuffer}s holding the same contents) and the same
 * contract: descending score, equal scores -> lower item id first, NaN never selected, reported
 * scores are s + 0 (no -0), an optional per-row CSR of excluded item ids (any order, duplicates
 * allowed), and rows with fewer than k eligible items end with id -1 / score -Infinity.
 * {@link #scoreTopK} never materialises the m x n score matrix.
 *
 * <p>Kernels: native/topk.cu. A 256-thread block owns 32 rows and streams the items in tiles of 64;
 * each score (fused: an fmaf chain over d in increasing order from +0, bit-identical to the scalar
 * twin's) is checked against its row's current k-th best and, if it can still enter, appended to the
 * row's candidate buffer in shared memory; full buffers are bitonic-sorted and merged by rank into the
 * row's sorted list, which lives in the output itself. When there are too few row blocks to fill the
 * GPU (fewer than {@value #TARGET_BLOCKS}), the items are also split across blocks (grid y), each split
 * writes its own sorted list to a scratch buffer and kdrec_topk_merge combines them. Outputs are
 * deterministic (the candidate buffers are appended with shared atomics, but always sorted by a total
 * order before use).
 *
 * <p>Limits: k &lt;= {@value #MAX_K}. The exclusion CSR lives on the device, so only its buffer sizes
 * are checked here, not its contents (the CPU twin checks ids are in [0, n) and ptr is monotone):
 * ptr must be non-decreasing with ptr[m] &lt;= excludeIdx's length; ids outside [0, n) simply never
 * match. Excluded items are filtered when a buffer is merged, at a cost that grows with the row's
 * exclusion count, so rows that exclude most items are slow (correct, but merged every tile).
 */
public final class GpuTopK {
    private GpuTopK() {}

    /** Largest k the kernels support (a merge holds 4 list entries per thread of 256). */
    public static final int MAX_K = 1024;
    private static final int ROWS = 32, TILE = 64, THREADS = 256;
    /** Blocks wanted in flight on an H100 (about 4 per SM; scaled by the SM count); below it the items are split across blocks. */
    static final int TARGET_BLOCKS = 528;
    private static final int MAX_SPLITS = 16, MIN_TILES_PER_SPLIT = 16;

    /**
     * For each of the m rows of U (m x d, leading dim ldu) score all n items (n x d, leading dim ldi),
     * s = &lt;u, item&gt;, and write the k best per row to outIdx / outScore [r*k + j], j = 0..k-1.
     * excludePtr (m+1 ints) / excludeIdx: optional CSR of excluded item ids per row; both null = none.
     */
    public static void scoreTopK(Cuda cuda, int m, int n, int d, DeviceBuffer u, long uOff, int ldu,
                                 DeviceBuffer items, long iOff, int ldi, int k,
                                 DeviceBuffer excludePtr, DeviceBuffer excludeIdx, DeviceBuffer outIdx, DeviceBuffer outScore) {
        String kernel = "GpuTopK.scoreTopK(m=" + m + ", n=" + n + ", d=" + d + ", k=" + k + ")";
        if (d < 0) throw new IllegalArgumentException(kernel + ": negative d");
        checkCommon(kernel, m, n, k, excludePtr, excludeIdx, outIdx, outScore);
        checkMatrix(kernel, "U", u, uOff, m, d, ldu);
        checkMatrix(kernel, "items", items, iOff, n, d, ldi);
        if (m == 0 || k == 0) return;
        run(cuda, true, m, n, d, u.at(uOff), ldu, items.at(iOff), ldi, null, 0, k, excludePtr, excludeIdx, outIdx, outScore);
    }

    /** Same selection over a materialised score matrix (m x n, leading dim lds). */
    public static void selectTopK(Cuda cuda, int m, int n, DeviceBuffer scores, long sOff, int lds, int k,
                                  DeviceBuffer excludePtr, DeviceBuffer excludeIdx, DeviceBuffer outIdx, DeviceBuffer outScore) {
        String kernel = "GpuTopK.selectTopK(m=" + m + ", n=" + n + ", k=" + k + ")";
        checkCommon(kernel, m, n, k, excludePtr, excludeIdx, outIdx, outScore);
        checkMatrix(kernel, "scores", scores, sOff, m, n, lds);
        if (m == 0 || k == 0) return;
        run(cuda, false, m, n, 0, null, 0, null, 0, scores.at(sOff), lds, k, excludePtr, excludeIdx, outIdx, outScore);
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

    private static void run(Cuda cuda, boolean fused, int m, int n, int d, DeviceBuffer u, int ldu, DeviceBuffer items,
                            int ldi, DeviceBuffer scores, int lds, int k, DeviceBuffer excludePtr, DeviceBuffer excludeIdx,
                            DeviceBuffer outIdx, DeviceBuffer outScore) {
        int hasEx = excludePtr != null ? 1 : 0;
        // Cuda.launch takes no null pointers: without excludes the kernel gets (and ignores) the outputs.
        DeviceBuffer ptr = hasEx == 1 ? excludePtr : outIdx, idx = hasEx == 1 ? excludeIdx : outIdx;
        int rowBlocks = (int) ((m + ROWS - 1L) / ROWS), splits = splits(m, n, cuda.multiprocessors());
        Cuda.Kernel kernel = fused ? cuda.kernel("kdrec_topk_score") : cuda.kernel("kdrec_topk_select");
        if (splits == 1) {
            launchSelect(cuda, kernel, fused, rowBlocks, 1, m, n, d, u, ldu, items, ldi, scores, lds, k, ptr, idx, hasEx,
                    outScore, outIdx);
            return;
        }
        // Only for problems with few rows: each split needs its own k-list per row (scores then ids,
        // m * splits * k each, in the context's workspace) until kdrec_topk_merge combines them.
        long lists = (long) m * splits * k;
        try (Workspace.Lease lease = cuda.workspace().lease(2 * lists * 4)) {
            DeviceBuffer scratch = lease.buffer();
            DeviceBuffer sS = scratch, sI = scratch.at(lists);
            launchSelect(cuda, kernel, fused, rowBlocks, splits, m, n, d, u, ldu, items, ldi, scores, lds, k, ptr, idx, hasEx,
                    sS, sI);
            cuda.launch(cuda.kernel("kdrec_topk_merge"), m, 1, 1, THREADS, 1, 1, 0, m, k, splits, sS, sI, outScore, outIdx);
        }
    }

    private static void launchSelect(Cuda cuda, Cuda.Kernel kernel, boolean fused, int rowBlocks, int splits, int m, int n,
                                     int d, DeviceBuffer u, int ldu, DeviceBuffer items, int ldi, DeviceBuffer scores, int lds,
                                     int k, DeviceBuffer ptr, DeviceBuffer idx, int hasEx, DeviceBuffer dstS, DeviceBuffer dstI) {
        if (fused) {
            cuda.launch(kernel, rowBlocks, splits, 1, THREADS, 1, 1, 0,
                    m, n, d, u, ldu, items, ldi, k, ptr, idx, hasEx, splits, dstS, dstI);
        } else {
            cuda.launch(kernel, rowBlocks, splits, 1, THREADS, 1, 1, 0,
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
