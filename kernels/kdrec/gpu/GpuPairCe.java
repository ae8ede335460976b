package kdrec.gpu;

import static kdrec.gpu.GpuCeArgs.WARP_BLOCK;
import static kdrec.gpu.GpuCeArgs.view;
import static kdrec.gpu.GpuCeArgs.warpGrid;

/**
 * CUDA twin of {@link kdrec.cpu.PairCeScalar}: soft-target CE on two overlapping sets per row that
 * share one entry list (RCE-KD: the student's top-K and J2 over their union; set A = the first a[r]
 * entries, set B = the entries from b[r] on). Kernels in native/pair_ce.cu
 * ({@code kdrec_subset_ce_pair_*}).
 *
 * <p>Decomposition: one warp per row. {@link #softCe}: the warp computes the row's dots (lanes over
 * d), parks them in grad, runs two online log-sum-exps (A and B) with lane j % 32 owning entry j, writes
 * the gradient, then computes gu[r] = sum_j grad[j] I[idx[j]] with lanes over d in entry order. No
 * atomics, no scratch: deterministic run to run. The log-sum-exps and the cross term are in double
 * (loss = value - cross cancels when logits/tau are large). {@link #softCeRows} is the device step's
 * form: rows are user ids into the model's tables, and both gradients go straight into the model's.
 */
public final class GpuPairCe {
    private GpuPairCe() {}

    /**
     * target[j] = wA[r] softmax_A(tl/tau)_j [j &lt; a] + wB[r] softmax_B(tl/tau)_j [j &gt;= b] for the
     * entries of every row, from teacher logits tl aligned with the entries.
     */
    public static void targets(Cuda cuda, int m, DeviceBuffer ptr, DeviceBuffer a, DeviceBuffer b, DeviceBuffer teacherLogits,
                               float tau, DeviceBuffer wA, DeviceBuffer wB, DeviceBuffer target) {
        String k = "PairCe.targets";
        if (m < 0) throw GpuCeArgs.bad(k, "negative m=" + m);
        GpuCeArgs.length(k, "ptr", ptr, (long) m + 1);
        split(k, m, a, b);
        GpuCeArgs.tau(k, tau);
        if (teacherLogits == null) throw GpuCeArgs.bad(k, "teacherLogits is null");
        GpuCeArgs.length(k, "wA", wA, m);
        GpuCeArgs.length(k, "wB", wB, m);
        if (target == null) throw GpuCeArgs.bad(k, "target is null");
        if (m == 0) return;
        if (GpuCeArgs.checkContents) {
            int[] p = GpuCeArgs.csr(cuda, k, m, ptr, Integer.MAX_VALUE);
            splitContents(cuda, k, m, p, a, b);
            GpuCeArgs.length(k, "teacherLogits", teacherLogits, p[m]);
            GpuCeArgs.length(k, "target", target, p[m]);
        }
        cuda.launch(cuda.kernel("kdrec_subset_ce_pair_targets"), warpGrid(m), 1, 1, WARP_BLOCK, 1, 1, 0,
                m, ptr, a, b, teacherLogits, tau, wA, wB, target);
    }

    /**
     * The fused forward (see {@link kdrec.cpu.PairCeScalar}): loss[r], grad[j] = dloss_r/ds_j and,
     * when gu is non-null, gu[r] = sum_j grad[j] I[idx[j]] (m x d, leading dim ldgu, overwritten).
     */
    public static void softCe(Cuda cuda, int m, int d, DeviceBuffer u, long uOff, int ldu, DeviceBuffer items, long iOff, int ldi,
                              DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer a, DeviceBuffer b, DeviceBuffer target,
                              DeviceBuffer wA, DeviceBuffer wB, float tau, DeviceBuffer loss, DeviceBuffer grad,
                              DeviceBuffer gu, long guOff, int ldgu) {
        String k = "PairCe.softCe";
        GpuSubsetCe.gather(k, m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx);
        rowArgs(k, m, a, b, tau, target, wA, wB, loss, grad);
        if (gu != null) GpuCeArgs.matrix(k, "gu", gu, guOff, m, d, ldgu);
        if (m == 0) return;
        if (GpuCeArgs.checkContents) {
            int[] p = GpuSubsetCe.contents(cuda, k, m, d, items, iOff, ldi, ptr, idx);
            entryContents(cuda, k, m, p, a, b, target, grad);
        }
        // No gu: flag 0 and a dummy pointer (loss) that the kernel never touches.
        cuda.launch(cuda.kernel("kdrec_subset_ce_pair_soft_ce"), warpGrid(m), 1, 1, WARP_BLOCK, 1, 1, 0,
                m, d, view(u, uOff), ldu, view(items, iOff), ldi, ptr, idx, a, b, target, wA, wB, tau, loss, grad,
                gu == null ? loss : view(gu, guOff), ldgu, gu == null ? 0 : 1);
    }

    /**
     * {@link #softCe} on table rows, fused with the backward: row r is user {@code userIds[r]} of the
     * user table {@code users} (ids distinct), {@code userGrad[userIds[r]] += sum_j grad[j] I[idx[j]]}
     * and {@code itemGrad[idx[j]] += grad[j] users[userIds[r]]} (float atomics, as
     * {@link GpuSubsetCe#gatherDotBackward}: the order of a row's additions varies run to run). loss
     * and grad as softCe. One launch for what took four (gather, softCe, scatter, gather-dot backward).
     */
    public static void softCeRows(Cuda cuda, int m, int d, DeviceBuffer userIds, DeviceBuffer users, long uOff, int ldu,
                                  DeviceBuffer items, long iOff, int ldi, DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer a,
                                  DeviceBuffer b, DeviceBuffer target, DeviceBuffer wA, DeviceBuffer wB, float tau, DeviceBuffer loss,
                                  DeviceBuffer grad, DeviceBuffer userGrad, long guOff, int ldgu, DeviceBuffer itemGrad, long giOff,
                                  int ldgi) {
        String k = "PairCe.softCeRows";
        GpuCeArgs.rowsForm(k, m, d, userIds, users, uOff, ldu, items, iOff, ldi, ptr, idx, userGrad, guOff, ldgu, itemGrad, giOff, ldgi);
        rowArgs(k, m, a, b, tau, target, wA, wB, loss, grad);
        if (m == 0) return;
        if (GpuCeArgs.checkContents) {
            int[] p = GpuSubsetCe.contents(cuda, k, m, d, items, iOff, ldi, ptr, idx);
            entryContents(cuda, k, m, p, a, b, target, grad);
            GpuCeArgs.rowsFormContents(cuda, k, p, m, d, userIds, users, uOff, ldu, idx, userGrad, guOff, ldgu, itemGrad, giOff, ldgi);
        }
        cuda.launch(cuda.kernel("kdrec_subset_ce_pair_soft_ce_rows"), warpGrid(m), 1, 1, WARP_BLOCK, 1, 1, 0,
                m, d, userIds, view(users, uOff), ldu, view(items, iOff), ldi, ptr, idx, a, b, target, wA, wB, tau, loss, grad,
                view(userGrad, guOff), ldgu, view(itemGrad, giOff), ldgi);
    }

    /** The pair forward's per-row and per-entry operands (both forms): split points, tau, targets, weights, outputs. */
    private static void rowArgs(String k, int m, DeviceBuffer a, DeviceBuffer b, float tau, DeviceBuffer target, DeviceBuffer wA,
                                DeviceBuffer wB, DeviceBuffer loss, DeviceBuffer grad) {
        split(k, m, a, b);
        GpuCeArgs.tau(k, tau);
        if (target == null) throw GpuCeArgs.bad(k, "target is null");
        GpuCeArgs.length(k, "wA", wA, m);
        GpuCeArgs.length(k, "wB", wB, m);
        GpuCeArgs.length(k, "loss", loss, m);
        if (grad == null) throw GpuCeArgs.bad(k, "grad is null");
    }

    /** Debug mode: split points inside each row, and targets and grad as long as the entries (p = the downloaded ptr). */
    private static void entryContents(Cuda cuda, String k, int m, int[] p, DeviceBuffer a, DeviceBuffer b, DeviceBuffer target,
                                      DeviceBuffer grad) {
        splitContents(cuda, k, m, p, a, b);
        GpuCeArgs.length(k, "target", target, p[m]);
        GpuCeArgs.length(k, "grad", grad, p[m]);
    }

    private static void split(String k, int m, DeviceBuffer a, DeviceBuffer b) {
        GpuCeArgs.length(k, "a", a, m);
        GpuCeArgs.length(k, "b", b, m);
    }

    /** 0 &lt;= a[r] &lt;= n and 0 &lt;= b[r] &lt;= n for every row (debug mode), as the CPU checks. */
    private static void splitContents(Cuda cuda, String k, int m, int[] p, DeviceBuffer a, DeviceBuffer b) {
        int[] ah = cuda.downloadInts(a, m), bh = cuda.downloadInts(b, m);
        for (int r = 0; r < m; r++) {
            int n = p[r + 1] - p[r];
            if (ah[r] < 0 || ah[r] > n || bh[r] < 0 || bh[r] > n) {
                throw GpuCeArgs.bad(k, "row " + r + " of " + n + " entries: set A = [0, " + ah[r] + "), set B = [" + bh[r] + ", " + n + ") out of range");
            }
        }
    }
}
