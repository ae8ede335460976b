package kdrec.gpu;

import static kdrec.gpu.GpuElemArgs.checkBuf;
import static kdrec.gpu.GpuElemArgs.checkN;

import java.lang.foreign.MemorySegment;

/**
 * BLAS-1 style vector ops on the GPU: the CUDA twin of {@link kdrec.cpu.VecScalar} (same signatures
 * with {@link DeviceBuffer} for MemorySegment and a leading {@link Cuda}; offsets in elements).
 * Kernels: native/elementwise.cu, {@code kdrec_vec_*}.
 *
 * <p>Decomposition: the elementwise ops are one grid-stride launch of {@link #BLOCK}-thread blocks,
 * one element per thread per step. {@link #sum} and {@link #dot} accumulate in double in two passes:
 * {@code partialBlocks(n)} blocks of {@link #REDUCE_THREADS} threads each reduce their grid-stride
 * share to one double (fixed tree), then one block sums those partials (fixed tree). The block count
 * depends only on n, so both are deterministic run to run (no atomics). {@link #allFinite} sets a
 * device flag.
 *
 * <p>Numerics: fill, copy, add, sub, mul, scale, axpy and addMul match VecScalar bit for bit (single
 * IEEE operations; axpy/addMul one fma each, like Math.fma). sum and dot agree with the CPU's
 * sequential double sum to double rounding (a different order, same precision). In-place (output the
 * same range as an input) is allowed; partial overlap is not.
 *
 * <p>sum, dot and allFinite return a host value, so they synchronise. They allocate a small device
 * scratch (at most 8 KiB) per call and free it: the download that returns the value synchronises
 * anyway, and a scratch kept per context would have to be guarded against concurrent callers.
 */
public final class GpuVec {
    private GpuVec() {}

    /** Threads per block of the elementwise kernels. */
    static final int BLOCK = 256;
    /** Threads per block of the partial-sum pass (the kernels are compiled with this launch bound). */
    static final int REDUCE_THREADS = 256;
    /** Most partial sums: about one resident wave of 256-thread blocks on an H100 (132 SMs x 8). */
    static final int MAX_PARTIALS = 1024;

    /** y[i] = v. */
    public static void fill(Cuda cuda, long n, DeviceBuffer y, long yOff, float v) {
        checkN("GpuVec.fill", n);
        checkBuf("GpuVec.fill", "y", y, yOff, n);
        if (n == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_vec_fill"), n, BLOCK, n, y.at(yOff), v);
    }

    /** y[i] = x[i]. */
    public static void copy(Cuda cuda, long n, DeviceBuffer x, long xOff, DeviceBuffer y, long yOff) {
        checkN("GpuVec.copy", n);
        checkBuf("GpuVec.copy", "x", x, xOff, n);
        checkBuf("GpuVec.copy", "y", y, yOff, n);
        if (n == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_vec_copy"), n, BLOCK, n, x.at(xOff), y.at(yOff));
    }

    /** out = a + b. */
    public static void add(Cuda cuda, long n, DeviceBuffer a, long aOff, DeviceBuffer b, long bOff, DeviceBuffer out, long oOff) {
        check3("GpuVec.add", n, a, aOff, b, bOff, out, oOff);
        if (n == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_vec_add"), n, BLOCK, n, a.at(aOff), b.at(bOff), out.at(oOff));
    }

    /** out = a - b. */
    public static void sub(Cuda cuda, long n, DeviceBuffer a, long aOff, DeviceBuffer b, long bOff, DeviceBuffer out, long oOff) {
        check3("GpuVec.sub", n, a, aOff, b, bOff, out, oOff);
        if (n == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_vec_sub"), n, BLOCK, n, a.at(aOff), b.at(bOff), out.at(oOff));
    }

    /** out = a * b (elementwise). */
    public static void mul(Cuda cuda, long n, DeviceBuffer a, long aOff, DeviceBuffer b, long bOff, DeviceBuffer out, long oOff) {
        check3("GpuVec.mul", n, a, aOff, b, bOff, out, oOff);
        if (n == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_vec_mul"), n, BLOCK, n, a.at(aOff), b.at(bOff), out.at(oOff));
    }

    /** out = alpha * x. */
    public static void scale(Cuda cuda, long n, float alpha, DeviceBuffer x, long xOff, DeviceBuffer out, long oOff) {
        checkN("GpuVec.scale", n);
        checkBuf("GpuVec.scale", "x", x, xOff, n);
        checkBuf("GpuVec.scale", "out", out, oOff, n);
        if (n == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_vec_scale"), n, BLOCK, n, alpha, x.at(xOff), out.at(oOff));
    }

    /** y += alpha * x (one rounding: fma). */
    public static void axpy(Cuda cuda, long n, float alpha, DeviceBuffer x, long xOff, DeviceBuffer y, long yOff) {
        checkN("GpuVec.axpy", n);
        checkBuf("GpuVec.axpy", "x", x, xOff, n);
        checkBuf("GpuVec.axpy", "y", y, yOff, n);
        if (n == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_vec_axpy"), n, BLOCK, n, alpha, x.at(xOff), y.at(yOff));
    }

    /** y += a * b (elementwise, one rounding: fma). */
    public static void addMul(Cuda cuda, long n, DeviceBuffer a, long aOff, DeviceBuffer b, long bOff, DeviceBuffer y, long yOff) {
        check3("GpuVec.addMul", n, a, aOff, b, bOff, y, yOff);
        if (n == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_vec_add_mul"), n, BLOCK, n, a.at(aOff), b.at(bOff), y.at(yOff));
    }

    /** Sum of x, accumulated in double (two-pass fixed-tree reduction: deterministic). */
    public static double sum(Cuda cuda, long n, DeviceBuffer x, long xOff) {
        checkN("GpuVec.sum", n);
        checkBuf("GpuVec.sum", "x", x, xOff, n);
        if (n == 0) return 0.0;
        int blocks = partialBlocks(n);
        try (Workspace.Lease lease = cuda.workspace().lease((blocks + 1) * 8L)) {
            DeviceBuffer scratch = lease.buffer(), partial = scratch.slice(0, blocks * 8L);
            cuda.launch(cuda.kernel("kdrec_vec_sum_partial"), blocks, 1, 1, REDUCE_THREADS, 1, 1, 0, n, x.at(xOff), partial);
            return finish(cuda, scratch, blocks);
        }
    }

    /** Dot product of a and b, accumulated in double (products exact; deterministic). */
    public static double dot(Cuda cuda, long n, DeviceBuffer a, long aOff, DeviceBuffer b, long bOff) {
        checkN("GpuVec.dot", n);
        checkBuf("GpuVec.dot", "a", a, aOff, n);
        checkBuf("GpuVec.dot", "b", b, bOff, n);
        if (n == 0) return 0.0;
        int blocks = partialBlocks(n);
        try (Workspace.Lease lease = cuda.workspace().lease((blocks + 1) * 8L)) {
            DeviceBuffer scratch = lease.buffer(), partial = scratch.slice(0, blocks * 8L);
            cuda.launch(cuda.kernel("kdrec_vec_dot_partial"), blocks, 1, 1, REDUCE_THREADS, 1, 1, 0, n, a.at(aOff), b.at(bOff), partial);
            return finish(cuda, scratch, blocks);
        }
    }

    /** True when no element is NaN or infinite (true for n = 0). */
    public static boolean allFinite(Cuda cuda, long n, DeviceBuffer x, long xOff) {
        checkN("GpuVec.allFinite", n);
        checkBuf("GpuVec.allFinite", "x", x, xOff, n);
        if (n == 0) return true;
        try (Workspace.Lease lease = cuda.workspace().lease(4)) {
            DeviceBuffer flag = lease.buffer();
            cuda.fill32(flag, 1, 0); // 0 = no bad element seen
            cuda.launch1d(cuda.kernel("kdrec_vec_all_finite"), n, BLOCK, n, x.at(xOff), flag);
            return cuda.downloadInts(flag, 1)[0] == 0;
        }
    }

    /** Blocks of the partial pass: enough for one element per thread, at most {@link #MAX_PARTIALS}. */
    static int partialBlocks(long n) {
        return (int) Math.min((n + REDUCE_THREADS - 1) / REDUCE_THREADS, MAX_PARTIALS);
    }

    /** Pass 2: scratch holds {@code blocks} partials then one double for the result; returns it. */
    private static double finish(Cuda cuda, DeviceBuffer scratch, int blocks) {
        DeviceBuffer partial = scratch.slice(0, blocks * 8L), out = scratch.slice(blocks * 8L, 8);
        cuda.launch(cuda.kernel("kdrec_vec_reduce_partials"), 1, 1, 1, REDUCE_THREADS, 1, 1, 0, partial, blocks, out);
        double[] v = new double[1];
        cuda.download(out, MemorySegment.ofArray(v), 0, 8);
        return v[0];
    }

    private static void check3(String k, long n, DeviceBuffer a, long aOff, DeviceBuffer b, long bOff, DeviceBuffer o, long oOff) {
        checkN(k, n);
        checkBuf(k, "a", a, aOff, n);
        checkBuf(k, "b", b, bOff, n);
        checkBuf(k, "out", o, oOff, n);
    }
}
