package kdrec.gpu;

import static kdrec.gpu.GpuCeArgs.WARP_BLOCK;
import static kdrec.gpu.GpuCeArgs.view;
import static kdrec.gpu.GpuCeArgs.warpGrid;

/**
 * CUDA twin of {@link kdrec.cpu.SoftmaxCeScalar}: full-catalogue softmax CE with an online
 * log-sum-exp (never an m x n buffer), its recomputing backward, the materialised in-place variant and
 * sampled softmax. Kernels in native/softmax_ce.cu.
 *
 * <p>Decomposition (details in the .cu header): forward and dU run over 64-row tiles times S
 * contiguous ranges ("splits") of 64-item tiles, each tile's scores from a register-blocked SGEMM tile;
 * partial results of the splits are merged by a second kernel in split order. dI is item-tile-major: a
 * block owns 64 items and loops over every row tile, so it needs neither atomics nor a workspace.
 * The split counts depend only on (m, n, d), so every result is deterministic run to run.
 *
 * <p>Workspace: forward needs {@link #forwardWorkspaceFloats} floats, backward
 * {@link #backwardWorkspaceFloats}. The overloads that take a {@code workspace} allocate nothing; the
 * ones that mirror the CPU signature allocate it per call (the CPU signature has no place for scratch)
 * and synchronise before freeing it, so hot paths should pass a workspace.
 */
public final class GpuSoftmaxCe {
    private GpuSoftmaxCe() {}

    private static final int TILE = 64, THREADS = 256;
    /** Blocks to aim for (about two waves of resident blocks on a 132-SM H100). */
    private static final int FORWARD_BLOCKS = 1024, DU_BLOCKS = 512;

    /** The split of ceil(n/64) item tiles into at most about want/rowBlocks ranges: {splits, tilesPerSplit}. */
    static int[] split(int rowBlocks, int n, int want) {
        int tiles = (n + TILE - 1) / TILE;
        if (tiles == 0) return new int[] {1, 1};
        rowBlocks = Math.max(1, rowBlocks);  // m = 0: the workspace size is 0 anyway
        int splits = (int) Math.max(1, Math.min(tiles, (want + (long) rowBlocks - 1) / rowBlocks));
        int per = (tiles + splits - 1) / splits;
        return new int[] {(tiles + per - 1) / per, per};
    }

    /** Floats of workspace {@link #forward} needs: a (max, sum) pair per row and split. */
    public static long forwardWorkspaceFloats(int m, int n) {
        return 2L * split((m + TILE - 1) / TILE, n, FORWARD_BLOCKS)[0] * m;
    }

    /** Floats of workspace {@link #backward} needs: S partial m x d copies of dU when S &gt; 1, else 0. */
    public static long backwardWorkspaceFloats(int m, int n, int d) {
        int chunks = Math.max(1, (d + TILE - 1) / TILE);
        int s = split((m + TILE - 1) / TILE * chunks, n, DU_BLOCKS)[0];
        return s > 1 ? (long) s * m * d : 0;
    }

    /** Online forward: lse[r] = log sum_j exp(scale &lt;U[r], I[j]&gt;), loss[r] = lse[r] - z_r,target[r]. */
    public static void forward(Cuda cuda, int m, int n, int d, DeviceBuffer u, long uOff, int ldu,
                               DeviceBuffer items, long iOff, int ldi, float scale, DeviceBuffer target, DeviceBuffer loss, DeviceBuffer lse) {
        checkForward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, loss, lse);
        if (m == 0) return;
        try (Workspace.Lease ws = cuda.workspace().lease(forwardWorkspaceFloats(m, n) * 4)) {
            forward(cuda, m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, loss, lse, ws.buffer());
        }
    }

    /** {@link #forward} with caller-owned scratch of at least {@link #forwardWorkspaceFloats} floats. */
    public static void forward(Cuda cuda, int m, int n, int d, DeviceBuffer u, long uOff, int ldu,
                               DeviceBuffer items, long iOff, int ldi, float scale, DeviceBuffer target, DeviceBuffer loss, DeviceBuffer lse,
                               DeviceBuffer workspace) {
        String k = "SoftmaxCe.forward";
        checkForward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, loss, lse);
        GpuCeArgs.length(k, "workspace", workspace, forwardWorkspaceFloats(m, n));
        if (m == 0) return;
        if (GpuCeArgs.checkContents) GpuCeArgs.targets(cuda, k, m, n, target);
        int rowBlocks = (m + TILE - 1) / TILE;
        int[] s = split(rowBlocks, n, FORWARD_BLOCKS);
        DeviceBuffer uv = view(u, uOff), iv = view(items, iOff);
        cuda.launch(cuda.kernel("kdrec_softmax_ce_forward_partial"), rowBlocks, s[0], 1, THREADS, 1, 1, 0,
                m, n, d, uv, ldu, iv, ldi, scale, s[1], workspace);
        cuda.launch1d(cuda.kernel("kdrec_softmax_ce_forward_combine"), m, 128,
                m, d, uv, ldu, iv, ldi, scale, target, s[0], workspace, loss, lse);
    }

    /**
     * Online backward, recomputing the logits: G_rj = gLoss[r] scale (exp(z_rj - lse[r]) - [j ==
     * target[r]]); du += G I ; di += G^T U (either may be null).
     */
    public static void backward(Cuda cuda, int m, int n, int d, DeviceBuffer u, long uOff, int ldu,
                                DeviceBuffer items, long iOff, int ldi, float scale, DeviceBuffer target, DeviceBuffer lse, DeviceBuffer gLoss,
                                DeviceBuffer du, long duOff, int lddu, DeviceBuffer di, long diOff, int lddi) {
        checkBackward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, lse, gLoss, du, duOff, lddu, di, diOff, lddi);
        long need = du == null ? 0 : backwardWorkspaceFloats(m, n, d);
        if (need == 0 || m == 0 || d == 0) {
            backward(cuda, m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, lse, gLoss, du, duOff, lddu, di, diOff, lddi, null);
            return;
        }
        try (Workspace.Lease ws = cuda.workspace().lease(need * 4)) {
            backward(cuda, m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, lse, gLoss, du, duOff, lddu, di, diOff, lddi, ws.buffer());
        }
    }

    /** {@link #backward} with caller-owned scratch of at least {@link #backwardWorkspaceFloats} floats (null when that is 0). */
    public static void backward(Cuda cuda, int m, int n, int d, DeviceBuffer u, long uOff, int ldu,
                                DeviceBuffer items, long iOff, int ldi, float scale, DeviceBuffer target, DeviceBuffer lse, DeviceBuffer gLoss,
                                DeviceBuffer du, long duOff, int lddu, DeviceBuffer di, long diOff, int lddi, DeviceBuffer workspace) {
        String k = "SoftmaxCe.backward";
        checkBackward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, lse, gLoss, du, duOff, lddu, di, diOff, lddi);
        if (m == 0 || n == 0 || d == 0 || (du == null && di == null)) return;
        long need = du == null ? 0 : backwardWorkspaceFloats(m, n, d);
        if (need > 0) GpuCeArgs.length(k, "workspace", workspace, need);
        if (GpuCeArgs.checkContents) GpuCeArgs.targets(cuda, k, m, n, target);
        int rowBlocks = (m + TILE - 1) / TILE, chunks = (d + TILE - 1) / TILE;
        DeviceBuffer uv = view(u, uOff), iv = view(items, iOff);
        if (du != null) {
            int[] s = split(rowBlocks * chunks, n, DU_BLOCKS);
            boolean direct = s[0] == 1;
            // S = 1: add straight into du; S > 1: partials into the workspace, then a fixed-order reduce.
            cuda.launch(cuda.kernel("kdrec_softmax_ce_backward_du"), rowBlocks, s[0] * chunks, 1, THREADS, 1, 1, 0,
                    m, n, d, uv, ldu, iv, ldi, scale, target, lse, gLoss, s[1],
                    direct ? view(du, duOff) : workspace, direct ? lddu : d, direct ? 0L : (long) m * d, direct ? 1 : 0);
            if (!direct) {
                cuda.launch1d(cuda.kernel("kdrec_softmax_ce_backward_du_reduce"), (long) m * d, THREADS,
                        m, d, s[0], workspace, view(du, duOff), lddu);
            }
        }
        if (di != null) {
            cuda.launch(cuda.kernel("kdrec_softmax_ce_backward_di"), (n + TILE - 1) / TILE, chunks, 1, THREADS, 1, 1, 0,
                    m, n, d, uv, ldu, iv, ldi, scale, target, lse, gLoss, view(di, diOff), lddi);
        }
    }

    /**
     * Materialised path: loss[r] = lse_r - z_r,target from the m x n logits (leading dim ld), then the
     * logits are overwritten with gradScale[r] (softmax_rj - [j == target[r]]) (gradScale null = 1).
     */
    public static void rowsInPlace(Cuda cuda, int m, int n, DeviceBuffer logits, long off, int ld, DeviceBuffer target,
                                   DeviceBuffer gradScale, DeviceBuffer loss) {
        String k = "SoftmaxCe.rowsInPlace";
        if (m < 0 || n < 0) throw GpuCeArgs.bad(k, "negative dims m=" + m + ", n=" + n);
        GpuCeArgs.matrix(k, "logits", logits, off, m, n, ld);
        targetsSize(k, m, n, target);
        GpuCeArgs.optional(k, "gradScale", gradScale, m);
        GpuCeArgs.length(k, "loss", loss, m);
        if (m == 0) return;
        if (GpuCeArgs.checkContents) GpuCeArgs.targets(cuda, k, m, n, target);
        cuda.launch(cuda.kernel("kdrec_softmax_ce_rows_in_place"), Math.min(m, 65_536), 1, 1, THREADS, 1, 1, 0,
                m, n, view(logits, off), ld, target, gradScale == null ? loss : gradScale, gradScale == null ? 0 : 1, loss);
    }

    /**
     * Sampled softmax from given logits: loss[r] = -pos[r] + log(exp(pos[r]) + negScale sum_j
     * exp(neg_j)) over j in [negPtr[r], negPtr[r+1]); gPos[r], gNeg[j] = dloss_r/dlogit (times
     * rowScale[r] when non-null). Max-subtracted.
     */
    public static void sampled(Cuda cuda, int m, DeviceBuffer pos, DeviceBuffer negPtr, DeviceBuffer neg, float negScale,
                               DeviceBuffer rowScale, DeviceBuffer loss, DeviceBuffer gPos, DeviceBuffer gNeg) {
        String k = "SoftmaxCe.sampled";
        if (neg == null) throw GpuCeArgs.bad(k, "neg is null");
        if (m < 0) throw GpuCeArgs.bad(k, "negative m=" + m);
        GpuCeArgs.length(k, "negPtr", negPtr, (long) m + 1);
        if (!(negScale >= 0f) || Float.isInfinite(negScale)) throw GpuCeArgs.bad(k, "negScale must be finite and >= 0, got " + negScale);
        GpuCeArgs.length(k, "pos", pos, m);
        GpuCeArgs.optional(k, "rowScale", rowScale, m);
        GpuCeArgs.length(k, "loss", loss, m);
        GpuCeArgs.length(k, "gPos", gPos, m);
        if (gNeg == null) throw GpuCeArgs.bad(k, "gNeg is null");
        if (m == 0) return;
        if (GpuCeArgs.checkContents) {
            int[] p = GpuCeArgs.csr(cuda, k, m, negPtr, neg.elements());
            GpuCeArgs.length(k, "gNeg", gNeg, p[m]);
        }
        cuda.launch(cuda.kernel("kdrec_softmax_ce_sampled"), warpGrid(m), 1, 1, WARP_BLOCK, 1, 1, 0,
                m, pos, negPtr, neg, negScale, rowScale == null ? loss : rowScale, rowScale == null ? 0 : 1, loss, gPos, gNeg);
    }

    // ---- size checks (the CPU twin's, minus the target contents: see GpuCeArgs) ----

    static void checkForward(int m, int n, int d, DeviceBuffer u, long uOff, int ldu, DeviceBuffer items, long iOff, int ldi,
                             float scale, DeviceBuffer target, DeviceBuffer loss, DeviceBuffer lse) {
        String k = "SoftmaxCe.forward";
        common(k, m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target);
        GpuCeArgs.length(k, "loss", loss, m);
        GpuCeArgs.length(k, "lse", lse, m);
    }

    static void checkBackward(int m, int n, int d, DeviceBuffer u, long uOff, int ldu, DeviceBuffer items, long iOff, int ldi,
                              float scale, DeviceBuffer target, DeviceBuffer lse, DeviceBuffer gLoss,
                              DeviceBuffer du, long duOff, int lddu, DeviceBuffer di, long diOff, int lddi) {
        String k = "SoftmaxCe.backward";
        common(k, m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target);
        GpuCeArgs.length(k, "lse", lse, m);
        GpuCeArgs.length(k, "gLoss", gLoss, m);
        if (du != null) GpuCeArgs.matrix(k, "du", du, duOff, m, d, lddu);
        if (di != null) GpuCeArgs.matrix(k, "di", di, diOff, n, d, lddi);
    }

    private static void common(String k, int m, int n, int d, DeviceBuffer u, long uOff, int ldu, DeviceBuffer items, long iOff,
                               int ldi, float scale, DeviceBuffer target) {
        if (m < 0 || n < 0 || d < 0) throw GpuCeArgs.bad(k, "negative dims m=" + m + ", n=" + n + ", d=" + d);
        if (!Float.isFinite(scale)) throw GpuCeArgs.bad(k, "scale must be finite, got " + scale);
        GpuCeArgs.matrix(k, "u", u, uOff, m, d, ldu);
        GpuCeArgs.matrix(k, "items", items, iOff, n, d, ldi);
        targetsSize(k, m, n, target);
    }

    /** target needs m entries, and with n = 0 no row can have a target in [0, n). */
    private static void targetsSize(String k, int m, int n, DeviceBuffer target) {
        GpuCeArgs.length(k, "target", target, m);
        if (n == 0 && m > 0) throw GpuCeArgs.bad(k, "target[0] outside [0, 0): n = 0 with m = " + m + " rows");
    }
}
