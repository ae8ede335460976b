package kdrec.gpu;

/**
 * GEMM on the GPU: C = alpha * op(A) . op(B) + beta * C for the layouts NN, NT and TN, the device
 * twin of {@link kdrec.cpu.GemmScalar} with the same signature (MemorySegment becomes
 * {@link DeviceBuffer}; offsets are in elements, leading dimensions in elements, row-major) and the
 * same contract: with {@code beta == 0} C is only written, never read.
 *
 * <p>Kernels: native/gemm.cu. One 256-thread block computes a 128 x 128 tile of C (grid = n/128
 * column tiles x m/128 row tiles; a 128 x 64 tile when n &lt;= {@value #NARROW}, as in kdrec's training
 * backward at d = 64), each thread an 8 x 8 (8 x 4) register tile, k walked in double-buffered
 * shared-memory slabs of 8; float4 global loads where the operand's pointer and leading dimension
 * allow, bounds-checked scalar loads elsewhere, so any m, n, k, offset and leading dim works. The sum
 * over k runs in another order than the CPU twin's (slab-wise FMA), so results agree to fp32 rounding,
 * not bitwise. Deterministic run to run (no atomics). Skinny problems with long k (few output tiles,
 * see {@link #splitK}) split k across blocks into a per-call workspace and reduce it in a fixed order.
 */
public final class GpuGemm {
    private GpuGemm() {}

    private static final int TILE = 128, THREADS = 256;
    /** Outputs at most this wide run the 128 x 64 tile (the *_n64 kernels: no zero columns computed). */
    static final int NARROW = 64;
    /** The grid's y dimension (row tiles) is limited to 65,535 blocks. */
    static final int MAX_M = 65_535 * TILE;

    /** C = alpha * A . B + beta * C ; A m x k, B k x n (row-major). */
    public static void nn(Cuda cuda, int m, int n, int k, float alpha, DeviceBuffer a, long aOff, int lda,
                          DeviceBuffer b, long bOff, int ldb, float beta, DeviceBuffer c, long cOff, int ldc) {
        check("GpuGemm.nn", false, false, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        launch(cuda, n <= NARROW ? cuda.kernel("kdrec_gemm_nn_n64") : cuda.kernel("kdrec_gemm_nn"),
                n <= NARROW ? cuda.kernel("kdrec_gemm_nn_n64_splitk") : cuda.kernel("kdrec_gemm_nn_splitk"), m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** C = alpha * A . B^T + beta * C ; A m x k, B n x k. */
    public static void nt(Cuda cuda, int m, int n, int k, float alpha, DeviceBuffer a, long aOff, int lda,
                          DeviceBuffer b, long bOff, int ldb, float beta, DeviceBuffer c, long cOff, int ldc) {
        check("GpuGemm.nt", false, true, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        launch(cuda, n <= NARROW ? cuda.kernel("kdrec_gemm_nt_n64") : cuda.kernel("kdrec_gemm_nt"),
                n <= NARROW ? cuda.kernel("kdrec_gemm_nt_n64_splitk") : cuda.kernel("kdrec_gemm_nt_splitk"), m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** C = alpha * A^T . B + beta * C ; A k x m, B k x n. */
    public static void tn(Cuda cuda, int m, int n, int k, float alpha, DeviceBuffer a, long aOff, int lda,
                          DeviceBuffer b, long bOff, int ldb, float beta, DeviceBuffer c, long cOff, int ldc) {
        check("GpuGemm.tn", true, false, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        launch(cuda, n <= NARROW ? cuda.kernel("kdrec_gemm_tn_n64") : cuda.kernel("kdrec_gemm_tn"),
                n <= NARROW ? cuda.kernel("kdrec_gemm_tn_n64_splitk") : cuda.kernel("kdrec_gemm_tn_splitk"), m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    private static void launch(Cuda cuda, Cuda.Kernel kernel, Cuda.Kernel splitKernel, int m, int n, int k, float alpha,
                               DeviceBuffer a, long aOff, int lda, DeviceBuffer b, long bOff, int ldb, float beta,
                               DeviceBuffer c, long cOff, int ldc) {
        int tileN = n <= NARROW ? NARROW : TILE;
        int gx = (int) ((n + tileN - 1L) / tileN), gy = (int) ((m + TILE - 1L) / TILE);
        int splits = splitK(m, n, k, cuda.multiprocessors());
        if (splits == 1) {
            // the element offsets become views, so the kernel sees each operand's first element
            cuda.launch(kernel, gx, gy, 1, THREADS, 1, 1, 0, m, n, k, alpha, a.at(aOff), lda, b.at(bOff), ldb, beta, c.at(cOff), ldc);
            return;
        }
        int chunk = chunk(k, splits);
        splits = (k + chunk - 1) / chunk;  // no empty split
        // Split-K: each split's raw sums go to its own m x n slice, then one fixed-order reduction applies
        // alpha/beta (deterministic, unlike atomics). The partial sums live in the context's workspace: they
        // exist only for skinny problems (few output tiles), at most ~2 x 132 tiles of 128 x 128 floats.
        try (Workspace.Lease lease = cuda.workspace().lease((long) splits * m * n * 4)) {
            DeviceBuffer w = lease.buffer();
            cuda.launch(splitKernel, gx, gy, splits, THREADS, 1, 1, 0, m, n, k, a.at(aOff), lda, b.at(bOff), ldb, w, chunk);
            cuda.launch1d(cuda.kernel("kdrec_gemm_splitk_reduce"), (long) m * n, THREADS, m, n, splits, w, alpha, beta,
                    c.at(cOff), ldc);
        }
    }

    /** Output tiles wanted in flight (two blocks per SM of an H100) before k is split. */
    static final int SPLITK_TILES = 264;
    /** Smallest k range a split gets. */
    static final int SPLITK_MIN_K = 128;

    /**
     * Split-K factor: 1 unless the output has fewer than {@value #SPLITK_TILES} 128 x 128 tiles and k is
     * long (kdrec's dU = G . I is 1024 x 64 with k = 4,000: 8 tiles for 132 SMs without it).
     */
    public static int splitK(int m, int n, int k) {
        return splitK(m, n, k, 132);
    }

    /** {@link #splitK(int, int, int)} on a GPU with {@code sms} multiprocessors (two tiles in flight per SM). */
    public static int splitK(int m, int n, int k, int sms) {
        long target = (long) SPLITK_TILES * Math.max(1, sms) / 132;
        long tiles = ((m + TILE - 1L) / TILE) * ((n + TILE - 1L) / TILE);
        if (tiles == 0 || tiles >= target || k < 2 * SPLITK_MIN_K) return 1;
        long s = Math.min((target + tiles - 1) / tiles, k / SPLITK_MIN_K);
        return (int) Math.max(1, Math.min(s, 64));
    }

    /** The k range per split: k / splits rounded up to the slab size 8 (keeps float4 alignment). */
    static int chunk(int k, int splits) {
        return (int) (((k + splits - 1L) / splits + 7) / 8 * 8);
    }

    /**
     * The checks of kdrec.cpu.GemmArgs (package-private there, and it takes MemorySegments), with the
     * device buffers' sizes; runs before the context is touched, so a bad call never reaches CUDA.
     */
    static void check(String kernel, boolean ta, boolean tb, int m, int n, int k, DeviceBuffer a, long aOff, int lda,
                      DeviceBuffer b, long bOff, int ldb, DeviceBuffer c, long cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(kernel + ": negative dims m=" + m + " n=" + n + " k=" + k);
        }
        if (m > MAX_M) throw new IllegalArgumentException(kernel + ": m=" + m + " > " + MAX_M + " (grid limit)");
        if (a == null || b == null || c == null) throw new IllegalArgumentException(kernel + ": null buffer");
        matrix(kernel, "A", ta ? "k x m" : "m x k", a, aOff, ta ? k : m, ta ? m : k, lda, m, n, k);
        matrix(kernel, "B", tb ? "n x k" : "k x n", b, bOff, tb ? n : k, tb ? k : n, ldb, m, n, k);
        matrix(kernel, "C", "m x n", c, cOff, m, n, ldc, m, n, k);
    }

    private static void matrix(String kernel, String name, String shape, DeviceBuffer s, long off, int rows, int cols,
                               int ld, int m, int n, int k) {
        if (ld < cols || ld < 0) {
            throw new IllegalArgumentException(kernel + ": ld" + name.toLowerCase() + "=" + ld + " < " + cols
                    + " columns of " + name + " (" + shape + ", m=" + m + " n=" + n + " k=" + k + ")");
        }
        if (off < 0) throw new IllegalArgumentException(kernel + ": negative offset " + off + " of " + name);
        long extent = rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
        if (off + extent > s.elements()) {
            throw new IllegalArgumentException(kernel + ": " + name + " (" + shape + ", m=" + m + " n=" + n + " k=" + k
                    + ", ld " + ld + ", offset " + off + ") needs " + (off + extent) + " floats, buffer has " + s.elements());
        }
    }
}
