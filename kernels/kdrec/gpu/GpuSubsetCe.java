package kdrec.gpu;

import static kdrec.gpu.GpuCeArgs.WARP_BLOCK;
import static kdrec.gpu.GpuCeArgs.view;
import static kdrec.gpu.GpuCeArgs.warpGrid;

/**
 * CUDA twin of {@link kdrec.cpu.SubsetCeScalar}: soft-target cross-entropy on ragged per-row item
 * subsets (RCE-KD), kernels in native/subset_ce.cu. Same signatures with MemorySegment and host
 * arrays replaced by {@link DeviceBuffer}s holding the same contents; offsets are in elements.
 *
 * <p>Decomposition (see the .cu header): one warp per row, each lane owning the entries j with
 * j % 32 == lane, for their dots (whole, in the scalar twin's float order) and the softmax; the raw dots are parked in gradLogits between
 * the dot pass and the gradient pass, so nothing normalised is written to global memory and there is
 * no scratch allocation. Deterministic run to run, except the item gradients of {@link #gatherDotBackward}
 * and {@link #gatherDotBackwardRows}, which use float atomics (ids repeat across rows; the last bits may
 * differ between runs).
 *
 * <p>Checks: sizes are checked before {@code cuda} is used; the contents of ptr/idx are the caller's
 * contract unless {@code -Dkdrec.cuda.check=true} (see {@link GpuCeArgs}).
 */
public final class GpuSubsetCe {
    private GpuSubsetCe() {}

    /** out[j] = &lt;U[r], I[idx[j]]&gt; for every entry j of row r. */
    public static void gatherDot(Cuda cuda, int m, int d, DeviceBuffer u, long uOff, int ldu,
                                 DeviceBuffer items, long iOff, int ldi, DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer out) {
        gatherDot(cuda, "SubsetCe.gatherDot", m, d, null, u, uOff, ldu, items, iOff, ldi, ptr, idx, out);
    }

    /**
     * {@link #gatherDot} on table rows: row r's user is row {@code userIds[r]} of the user table
     * {@code users} (ids may repeat), read in place: no gathered copy of the users' rows.
     */
    public static void gatherDotRows(Cuda cuda, int m, int d, DeviceBuffer userIds, DeviceBuffer users, long uOff, int ldu,
                                     DeviceBuffer items, long iOff, int ldi, DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer out) {
        if (userIds == null) throw GpuCeArgs.bad("SubsetCe.gatherDotRows", "userIds is null");
        gatherDot(cuda, "SubsetCe.gatherDotRows", m, d, userIds, users, uOff, ldu, items, iOff, ldi, ptr, idx, out);
    }

    private static void gatherDot(Cuda cuda, String k, int m, int d, DeviceBuffer userIds, DeviceBuffer u, long uOff, int ldu,
                                  DeviceBuffer items, long iOff, int ldi, DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer out) {
        gather(k, m, d, userIds, u, uOff, ldu, items, iOff, ldi, ptr, idx);
        if (out == null) throw GpuCeArgs.bad(k, "out is null");
        if (m == 0) return;
        if (GpuCeArgs.checkContents) {
            int[] p = contents(cuda, k, m, d, userIds, u, uOff, ldu, items, iOff, ldi, ptr, idx);
            GpuCeArgs.length(k, "out", out, p[m]);
        }
        if (userIds == null) {
            cuda.launch(cuda.kernel("kdrec_subset_ce_gather_dot"), warpGrid(m), 1, 1, WARP_BLOCK, 1, 1, 0,
                    m, d, view(u, uOff), ldu, view(items, iOff), ldi, ptr, idx, out);
        } else {
            cuda.launch(cuda.kernel("kdrec_subset_ce_gather_dot_rows"), warpGrid(m), 1, 1, WARP_BLOCK, 1, 1, 0,
                    m, d, userIds, view(u, uOff), ldu, view(items, iOff), ldi, ptr, idx, out);
        }
    }

    /**
     * Backward of gatherDot: du[r] += sum_j g[j] I[idx[j]] ; di[idx[j]] += g[j] U[r]. du or di may be
     * null (skipped). du accumulates in entry order; di uses float atomics (order not fixed).
     */
    public static void gatherDotBackward(Cuda cuda, int m, int d, DeviceBuffer u, long uOff, int ldu,
                                         DeviceBuffer items, long iOff, int ldi, DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer g,
                                         DeviceBuffer du, long duOff, int lddu, DeviceBuffer di, long diOff, int lddi) {
        String k = "SubsetCe.gatherDotBackward";
        gather(k, m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx);
        if (g == null) throw GpuCeArgs.bad(k, "g is null");
        if (du != null) GpuCeArgs.matrix(k, "du", du, duOff, m, d, lddu);
        if (di != null) GpuCeArgs.table(k, "di", di, diOff, d, lddi);
        if (m == 0 || d == 0 || (du == null && di == null)) return;
        if (GpuCeArgs.checkContents) {
            int[] p = contents(cuda, k, m, d, items, iOff, ldi, ptr, idx);
            GpuCeArgs.length(k, "g", g, p[m]);
            if (di != null) GpuCeArgs.ids(cuda, k, p, m, idx, GpuCeArgs.tableRows(di, diOff, d, lddi));
        }
        // An absent gradient is passed as a flag of 0 plus a dummy pointer (g) the kernel never touches.
        cuda.launch(cuda.kernel("kdrec_subset_ce_gather_dot_backward"), warpGrid(m), 1, 1, WARP_BLOCK, 1, 1, 0,
                m, d, view(u, uOff), ldu, view(items, iOff), ldi, ptr, idx, g,
                du == null ? g : view(du, duOff), lddu, du == null ? 0 : 1,
                di == null ? g : view(di, diOff), lddi, di == null ? 0 : 1);
    }

    /**
     * {@link #gatherDotBackward} on table rows: row r is user {@code userIds[r]} of the user table
     * {@code users} (ids distinct); {@code userGrad[userIds[r]] += sum_j g[j] I[idx[j]]} (entry order) and
     * {@code itemGrad[idx[j]] += g[j] users[userIds[r]]} (float atomics). One launch for what took three
     * (zero a scratch, the backward into it, scatter it into the model's gradient).
     */
    public static void gatherDotBackwardRows(Cuda cuda, int m, int d, DeviceBuffer userIds, DeviceBuffer users, long uOff, int ldu,
                                             DeviceBuffer items, long iOff, int ldi, DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer g,
                                             DeviceBuffer userGrad, long guOff, int ldgu, DeviceBuffer itemGrad, long giOff, int ldgi) {
        String k = "SubsetCe.gatherDotBackwardRows";
        GpuCeArgs.rowsForm(k, m, d, userIds, users, uOff, ldu, items, iOff, ldi, ptr, idx, userGrad, guOff, ldgu, itemGrad, giOff, ldgi);
        if (g == null) throw GpuCeArgs.bad(k, "g is null");
        if (m == 0 || d == 0) return;
        if (GpuCeArgs.checkContents) {
            int[] p = contents(cuda, k, m, d, items, iOff, ldi, ptr, idx);
            GpuCeArgs.length(k, "g", g, p[m]);
            GpuCeArgs.rowsFormContents(cuda, k, p, m, d, userIds, users, uOff, ldu, idx, userGrad, guOff, ldgu, itemGrad, giOff, ldgi);
        }
        cuda.launch(cuda.kernel("kdrec_subset_ce_gather_dot_backward_rows"), warpGrid(m), 1, 1, WARP_BLOCK, 1, 1, 0,
                m, d, userIds, view(users, uOff), ldu, view(items, iOff), ldi, ptr, idx, g, view(userGrad, guOff), ldgu,
                view(itemGrad, giOff), ldgi);
    }

    /**
     * Fused soft-target CE on each row's set A_r: s_j = &lt;U[r], I[idx[j]]&gt;, p = softmax(t/tau),
     * q = softmax(s/tau) over A_r, loss[r] = -sum_j p_j log q_j, gradLogits[j] = rowScale[r] (q_j - p_j)
     * / tau (rowScale null = 1). Empty set: loss 0. Writes s_j into studentLogits when non-null.
     */
    public static void softCe(Cuda cuda, int m, int d, DeviceBuffer u, long uOff, int ldu, DeviceBuffer items, long iOff, int ldi,
                              DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer teacherLogits, float tau, DeviceBuffer rowScale,
                              DeviceBuffer loss, DeviceBuffer gradLogits, DeviceBuffer studentLogits) {
        softCe(cuda, "SubsetCe.softCe", m, d, null, u, uOff, ldu, items, iOff, ldi, ptr, idx, teacherLogits, tau, rowScale, loss,
                gradLogits, studentLogits);
    }

    /**
     * {@link #softCe} on table rows: row r's user is row {@code userIds[r]} of the user table
     * {@code users} (ids may repeat), read in place: no gathered copy of the users' rows.
     */
    public static void softCeRows(Cuda cuda, int m, int d, DeviceBuffer userIds, DeviceBuffer users, long uOff, int ldu, DeviceBuffer items,
                                  long iOff, int ldi, DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer teacherLogits, float tau,
                                  DeviceBuffer rowScale, DeviceBuffer loss, DeviceBuffer gradLogits, DeviceBuffer studentLogits) {
        if (userIds == null) throw GpuCeArgs.bad("SubsetCe.softCeRows", "userIds is null");
        softCe(cuda, "SubsetCe.softCeRows", m, d, userIds, users, uOff, ldu, items, iOff, ldi, ptr, idx, teacherLogits, tau, rowScale, loss,
                gradLogits, studentLogits);
    }

    private static void softCe(Cuda cuda, String k, int m, int d, DeviceBuffer userIds, DeviceBuffer u, long uOff, int ldu, DeviceBuffer items,
                               long iOff, int ldi, DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer teacherLogits, float tau,
                               DeviceBuffer rowScale, DeviceBuffer loss, DeviceBuffer gradLogits, DeviceBuffer studentLogits) {
        gather(k, m, d, userIds, u, uOff, ldu, items, iOff, ldi, ptr, idx);
        checkCe(k, m, teacherLogits, tau, rowScale, loss, gradLogits);
        if (m == 0) return;
        if (GpuCeArgs.checkContents) {
            int[] p = contents(cuda, k, m, d, userIds, u, uOff, ldu, items, iOff, ldi, ptr, idx);
            GpuCeArgs.length(k, "teacherLogits", teacherLogits, p[m]);
            GpuCeArgs.length(k, "gradLogits", gradLogits, p[m]);
            if (studentLogits != null) GpuCeArgs.length(k, "studentLogits", studentLogits, p[m]);
        }
        Object scale = rowScale == null ? loss : rowScale, student = studentLogits == null ? loss : studentLogits;
        int hasScale = rowScale == null ? 0 : 1, hasStudent = studentLogits == null ? 0 : 1;
        if (userIds == null) {
            cuda.launch(cuda.kernel("kdrec_subset_ce_soft_ce"), warpGrid(m), 1, 1, WARP_BLOCK, 1, 1, 0,
                    m, d, view(u, uOff), ldu, view(items, iOff), ldi, ptr, idx, teacherLogits, tau, scale, hasScale, loss, gradLogits,
                    student, hasStudent);
        } else {
            cuda.launch(cuda.kernel("kdrec_subset_ce_soft_ce_rows"), warpGrid(m), 1, 1, WARP_BLOCK, 1, 1, 0,
                    m, d, userIds, view(u, uOff), ldu, view(items, iOff), ldi, ptr, idx, teacherLogits, tau, scale, hasScale, loss,
                    gradLogits, student, hasStudent);
        }
    }

    /** Same as {@link #softCe} from given student logits (no dots). */
    public static void softCeLogits(Cuda cuda, int m, DeviceBuffer ptr, DeviceBuffer studentLogits, DeviceBuffer teacherLogits,
                                    float tau, DeviceBuffer rowScale, DeviceBuffer loss, DeviceBuffer gradLogits) {
        String k = "SubsetCe.softCeLogits";
        if (m < 0) throw GpuCeArgs.bad(k, "negative m=" + m);
        GpuCeArgs.length(k, "ptr", ptr, (long) m + 1);
        if (studentLogits == null) throw GpuCeArgs.bad(k, "studentLogits is null");
        checkCe(k, m, teacherLogits, tau, rowScale, loss, gradLogits);
        if (m == 0) return;
        if (GpuCeArgs.checkContents) {
            int[] p = GpuCeArgs.csr(cuda, k, m, ptr, Integer.MAX_VALUE);
            GpuCeArgs.length(k, "studentLogits", studentLogits, p[m]);
            GpuCeArgs.length(k, "teacherLogits", teacherLogits, p[m]);
            GpuCeArgs.length(k, "gradLogits", gradLogits, p[m]);
        }
        cuda.launch(cuda.kernel("kdrec_subset_ce_soft_ce_logits"), warpGrid(m), 1, 1, WARP_BLOCK, 1, 1, 0,
                m, ptr, studentLogits, teacherLogits, tau, rowScale == null ? loss : rowScale, rowScale == null ? 0 : 1,
                loss, gradLogits);
    }

    /**
     * Soft-label binary cross-entropy on each row's entries (CD), from given logits: per entry
     * {@code l_j = -(y_j log(sigmoid(x_j) + eps) + (1 - y_j) log(1 - sigmoid(x_j) + eps))} (1 - sigmoid
     * as sigmoid(-x)), loss[r] = sum of the row's l_j, grad[j] = rowScale[r] (null = 1) times
     * dl_j/dx_j: {@code kdrec.autograd.PointwiseLoss.softBce}'s values and derivatives, in its double
     * arithmetic and roundings (CUDA's double exp and log may differ from Java's in the last bit).
     */
    public static void softBce(Cuda cuda, int m, DeviceBuffer ptr, DeviceBuffer logits, DeviceBuffer labels, float eps,
                               DeviceBuffer rowScale, DeviceBuffer loss, DeviceBuffer grad) {
        String k = "SubsetCe.softBce";
        if (m < 0) throw GpuCeArgs.bad(k, "negative m=" + m);
        if (!(eps >= 0) || Float.isInfinite(eps)) throw GpuCeArgs.bad(k, "eps must be finite and >= 0, got " + eps);
        GpuCeArgs.length(k, "ptr", ptr, (long) m + 1);
        if (logits == null || labels == null || grad == null) throw GpuCeArgs.bad(k, "logits, labels and grad are required");
        GpuCeArgs.optional(k, "rowScale", rowScale, m);
        GpuCeArgs.length(k, "loss", loss, m);
        if (m == 0) return;
        if (GpuCeArgs.checkContents) {
            int[] p = GpuCeArgs.csr(cuda, k, m, ptr, Integer.MAX_VALUE);
            GpuCeArgs.length(k, "logits", logits, p[m]);
            GpuCeArgs.length(k, "labels", labels, p[m]);
            GpuCeArgs.length(k, "grad", grad, p[m]);
        }
        cuda.launch(cuda.kernel("kdrec_subset_ce_soft_bce"), warpGrid(m), 1, 1, WARP_BLOCK, 1, 1, 0,
                m, ptr, logits, labels, eps, rowScale == null ? loss : rowScale, rowScale == null ? 0 : 1, loss, grad);
    }

    /** The size checks of the gatherDot-shaped kernels (user rows u, item table indexed by idx). */
    static void gather(String k, int m, int d, DeviceBuffer u, long uOff, int ldu, DeviceBuffer items, long iOff, int ldi,
                       DeviceBuffer ptr, DeviceBuffer idx) {
        gather(k, m, d, null, u, uOff, ldu, items, iOff, ldi, ptr, idx);
    }

    /** userIds null: u holds the m rows; else m ids into the user table u (its row count known from the ids only). */
    private static void gather(String k, int m, int d, DeviceBuffer userIds, DeviceBuffer u, long uOff, int ldu, DeviceBuffer items,
                               long iOff, int ldi, DeviceBuffer ptr, DeviceBuffer idx) {
        GpuCeArgs.dims(k, m, d);
        if (idx == null) throw GpuCeArgs.bad(k, "idx is null");
        GpuCeArgs.length(k, "ptr", ptr, (long) m + 1);
        if (userIds == null) {
            GpuCeArgs.matrix(k, "u", u, uOff, m, d, ldu);
        } else {
            GpuCeArgs.length(k, "userIds", userIds, m);
            GpuCeArgs.table(k, "users", u, uOff, d, ldu);
        }
        GpuCeArgs.table(k, "items", items, iOff, d, ldi);
    }

    static void checkCe(String k, int m, DeviceBuffer teacherLogits, float tau, DeviceBuffer rowScale, DeviceBuffer loss,
                        DeviceBuffer gradLogits) {
        GpuCeArgs.tau(k, tau);
        if (teacherLogits == null) throw GpuCeArgs.bad(k, "teacherLogits is null");
        GpuCeArgs.optional(k, "rowScale", rowScale, m);
        GpuCeArgs.length(k, "loss", loss, m);
        if (gradLogits == null) throw GpuCeArgs.bad(k, "gradLogits is null");
    }

    /** Content checks of ptr and idx (debug mode); returns the host ptr. */
    static int[] contents(Cuda cuda, String k, int m, int d, DeviceBuffer items, long iOff, int ldi, DeviceBuffer ptr, DeviceBuffer idx) {
        int[] p = GpuCeArgs.csr(cuda, k, m, ptr, idx.elements());
        GpuCeArgs.ids(cuda, k, p, m, idx, GpuCeArgs.tableRows(items, iOff, d, ldi));
        return p;
    }

    /** {@link #contents}, and with userIds the ids inside the user table (repeats allowed: the forward only reads). */
    private static int[] contents(Cuda cuda, String k, int m, int d, DeviceBuffer userIds, DeviceBuffer users, long uOff, int ldu,
                                  DeviceBuffer items, long iOff, int ldi, DeviceBuffer ptr, DeviceBuffer idx) {
        int[] p = contents(cuda, k, m, d, items, iOff, ldi, ptr, idx);
        if (userIds != null) GpuCeArgs.userIds(cuda, k, m, userIds, false, GpuCeArgs.tableRows(users, uOff, d, ldu));
        return p;
    }
}
