package kdrec.gpu;

import static kdrec.gpu.GpuElemArgs.checkMatrix;

/**
 * Row normalisations on the GPU. Layer normalisation over the last dimension: the CUDA twin of
 * {@link kdrec.cpu.LayerNormScalar} (same signatures with {@link DeviceBuffer} for MemorySegment and
 * for the saved per-row statistics {@code float[] mean, rstd}, which live on the device here, starting
 * at element 0 like the CPU's arrays). Kernels: native/layernorm.cu, {@code kdrec_layernorm_*}.
 *
 * <p>Math, as on the CPU: y = (x - mean) * rstd * gamma + beta with the biased variance and
 * rstd = 1 / sqrt(var + eps), statistics in double (two passes), outputs rounded once to float;
 * gamma/beta may be null (no affine). Backward accumulates: dx += rstd * (g - mean(g) - xhat *
 * mean(g * xhat)) with g = dy * gamma, dgamma += sum_rows dy * xhat, dbeta += sum_rows dy; any of dx,
 * dgamma, dbeta may be null (not computed).
 *
 * <p>Decomposition: forward and the dx part of backward use one block per row ({@link #rowThreads}
 * threads, a multiple of 32 up to 512, each thread striding over the row's columns; row sums by a
 * fixed block tree). dgamma/dbeta use blocks of tile x (1024 / tile) threads, each block owning
 * {@code tile} columns: its row stripes sum in double and are combined in a fixed order. Everything is deterministic (no
 * atomics). The column pass has only ceil(d / tile) blocks ({@link #paramsTile}), so for small d and
 * many rows it uses a few SMs; splitting the rows over more blocks too would need a device scratch for
 * the partial sums (an allocation per call, or a cached one guarded against concurrent callers).
 */
public final class GpuLayerNorm {
    private GpuLayerNorm() {}

    /** Most threads per row block (kernels are compiled with __launch_bounds__(512)). */
    static final int MAX_ROW_THREADS = 512;

    /** y = (x - mean) * rstd * gamma + beta per row; gamma/beta may be null (no affine). Saves mean and rstd per row. */
    public static void forward(Cuda cuda, int rows, int d, DeviceBuffer x, long xOff, int ldx, DeviceBuffer gamma, long gOff,
                               DeviceBuffer beta, long bOff, float eps, DeviceBuffer y, long yOff, int ldy,
                               DeviceBuffer mean, DeviceBuffer rstd) {
        String k = "GpuLayerNorm.forward";
        checkDims(k, rows, d);
        if (!(eps >= 0f) || Float.isInfinite(eps)) throw new IllegalArgumentException(k + ": eps = " + eps + " must be finite and >= 0");
        checkMatrix(k, "x", x, xOff, ldx, rows, d);
        checkMatrix(k, "y", y, yOff, ldy, rows, d);
        if (gamma != null) checkMatrix(k, "gamma", gamma, gOff, d, 1, d);
        if (beta != null) checkMatrix(k, "beta", beta, bOff, d, 1, d);
        checkStats(k, mean, rstd, rows);
        if (rows == 0) return;
        DeviceBuffer xv = x.at(xOff);
        // A kernel parameter cannot be null (Cuda.launch): an absent gamma/beta is passed as x, with its flag 0.
        cuda.launch(cuda.kernel("kdrec_layernorm_forward"), rows, 1, 1, rowThreads(d), 1, 1, 0,
                d, xv, ldx, gamma == null ? xv : gamma.at(gOff), gamma == null ? 0 : 1, beta == null ? xv : beta.at(bOff),
                beta == null ? 0 : 1, eps, y.at(yOff), ldy, mean, rstd);
    }

    /** Accumulates dx (+=), dgamma (+=), dbeta (+=) (any may be null) from dy, using the saved mean and rstd. */
    public static void backward(Cuda cuda, int rows, int d, DeviceBuffer x, long xOff, int ldx, DeviceBuffer gamma, long gOff,
                                DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy, long dyOff, int lddy,
                                DeviceBuffer dx, long dxOff, int lddx, DeviceBuffer dgamma, long dgOff, DeviceBuffer dbeta, long dbOff) {
        String k = "GpuLayerNorm.backward";
        checkDims(k, rows, d);
        checkMatrix(k, "x", x, xOff, ldx, rows, d);
        checkMatrix(k, "dy", dy, dyOff, lddy, rows, d);
        if (gamma != null) checkMatrix(k, "gamma", gamma, gOff, d, 1, d);
        if (dx != null) checkMatrix(k, "dx", dx, dxOff, lddx, rows, d);
        if (dgamma != null) checkMatrix(k, "dgamma", dgamma, dgOff, d, 1, d);
        if (dbeta != null) checkMatrix(k, "dbeta", dbeta, dbOff, d, 1, d);
        checkStats(k, mean, rstd, rows);
        if (rows == 0) return;
        DeviceBuffer xv = x.at(xOff), dyv = dy.at(dyOff);
        if (dx != null) {
            cuda.launch(cuda.kernel("kdrec_layernorm_backward_dx"), rows, 1, 1, rowThreads(d), 1, 1, 0,
                    d, xv, ldx, gamma == null ? xv : gamma.at(gOff), gamma == null ? 0 : 1, mean, rstd, dyv, lddy, dx.at(dxOff), lddx);
        }
        if (dgamma != null || dbeta != null) {
            // An absent output is passed as the other one (never written: its flag is 0).
            DeviceBuffer dg = dgamma != null ? dgamma.at(dgOff) : dbeta.at(dbOff);
            DeviceBuffer db = dbeta != null ? dbeta.at(dbOff) : dg;
            int tile = paramsTile(d);
            cuda.launch(cuda.kernel("kdrec_layernorm_backward_params"), (int) ((d + tile - 1L) / tile), 1, 1, tile, 1024 / tile, 1, 0,
                    rows, d, xv, ldx, mean, rstd, dyv, lddy, dg, dgamma != null ? 1 : 0, db, dbeta != null ? 1 : 0);
        }
    }

    /**
     * L2 row normalisation, the twin of {@code kdrec.autograd.Norm.l2Rows}: y = x * (1 / max(|x|, eps))
     * per row (|x|^2 summed in double); {@code norm} (rows floats) keeps max(|x|, eps) for the backward.
     */
    public static void l2Rows(Cuda cuda, int rows, int d, DeviceBuffer x, long xOff, int ldx, float eps, DeviceBuffer y, long yOff,
                              int ldy, DeviceBuffer norm) {
        String k = "GpuLayerNorm.l2Rows";
        checkDims(k, rows, d);
        if (!(eps > 0f) || Float.isInfinite(eps)) throw new IllegalArgumentException(k + ": eps = " + eps + " must be finite and > 0");
        checkMatrix(k, "x", x, xOff, ldx, rows, d);
        checkMatrix(k, "y", y, yOff, ldy, rows, d);
        checkNorms(k, norm, rows);
        if (rows == 0) return;
        cuda.launch(cuda.kernel("kdrec_l2_rows_forward"), rows, 1, 1, rowThreads(d), 1, 1, 0, d, x.at(xOff), ldx, eps, y.at(yOff), ldy, norm);
    }

    /**
     * Accumulates dx += (dy - &lt;y, dy&gt; y) / norm per row from the forward's x, y and norm; where the
     * norm was clamped at eps the projection is dropped (the norm is a constant there), as on the CPU.
     */
    public static void l2RowsBackward(Cuda cuda, int rows, int d, DeviceBuffer x, long xOff, int ldx, DeviceBuffer y, long yOff, int ldy,
                                      DeviceBuffer norm, float eps, DeviceBuffer dy, long dyOff, int lddy, DeviceBuffer dx, long dxOff, int lddx) {
        String k = "GpuLayerNorm.l2RowsBackward";
        checkDims(k, rows, d);
        if (!(eps > 0f) || Float.isInfinite(eps)) throw new IllegalArgumentException(k + ": eps = " + eps + " must be finite and > 0");
        checkMatrix(k, "x", x, xOff, ldx, rows, d);
        checkMatrix(k, "y", y, yOff, ldy, rows, d);
        checkMatrix(k, "dy", dy, dyOff, lddy, rows, d);
        checkMatrix(k, "dx", dx, dxOff, lddx, rows, d);
        checkNorms(k, norm, rows);
        if (rows == 0) return;
        cuda.launch(cuda.kernel("kdrec_l2_rows_backward"), rows, 1, 1, rowThreads(d), 1, 1, 0, d, x.at(xOff), ldx, y.at(yOff), ldy, norm, eps,
                dy.at(dyOff), lddy, dx.at(dxOff), lddx);
    }

    private static void checkNorms(String k, DeviceBuffer norm, int rows) {
        if (norm == null || norm.elements() < rows) {
            throw new IllegalArgumentException(k + ": norm needs at least rows = " + rows + " entries, got " + (norm == null ? "null" : norm.elements()));
        }
    }

    /**
     * Columns per block of the dgamma/dbeta pass (blocks are tile x 1024/tile threads): 8 (a warp reads
     * 4 rows x 32 bytes, whole sectors) gives small d 4x the blocks of 32; from d = 2048 there are
     * enough blocks anyway and 32 (128 contiguous bytes per row) wastes less on unaligned rows.
     */
    static int paramsTile(int d) {
        return d >= 2048 ? 32 : 8;
    }

    /** Threads per row block: d rounded up to a warp multiple, in [32, 512] (more columns: each thread strides). */
    static int rowThreads(int d) {
        return d >= MAX_ROW_THREADS ? MAX_ROW_THREADS : Math.max(32, (d + 31) / 32 * 32);
    }

    private static void checkDims(String k, int rows, int d) {
        if (rows < 0 || d < 1) throw new IllegalArgumentException(k + ": rows = " + rows + ", d = " + d + " (need rows >= 0, d >= 1)");
    }

    private static void checkStats(String k, DeviceBuffer mean, DeviceBuffer rstd, int rows) {
        if (mean == null || rstd == null || mean.elements() < rows || rstd.elements() < rows) {
            throw new IllegalArgumentException(k + ": mean and rstd need at least rows = " + rows + " entries, got "
                    + (mean == null ? "null" : mean.elements()) + " and " + (rstd == null ? "null" : rstd.elements()));
        }
    }
}
