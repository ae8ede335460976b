package kdrec.gpu;

import kdrec.cpu.AdamSimd;

/**
 * Fused Adam update on the GPU, the device twin of {@link kdrec.cpu.AdamScalar}: torch.optim.Adam
 * (coupled L2 weight decay, bias correction, no amsgrad), its lazy row-sparse variant over compact
 * gradient rows, and the lazy update of rows marked in a flag array (the device training's lazy Adam). Kernels in
 * native/adam.cu.
 *
 * <p>Decomposition: one thread per parameter element, grid-stride (memory bound: 4 streams in, 3
 * out). The device arithmetic is AdamScalar's, operation for operation, with IEEE round-to-nearest
 * intrinsics that are never fused into fma, and the per-step scalars below are computed here in
 * double by {@code kdrec.cpu.AdamSimd.Hyper} itself ({@link #launchArgs}): the results should equal AdamScalar's bit for bit (the test allows
 * 1 ulp). p, g, m and v must not overlap. stepRows' rows must be distinct (the CPU checks that; here
 * it is the caller's guarantee, like the range of the row indices, which needs a download to check).
 */
public final class GpuAdam {
    private GpuAdam() {}

    /** Dense fused update of n parameters, step t &gt;= 1. */
    public static void step(Cuda cuda, long n, DeviceBuffer p, long pOff, DeviceBuffer g, long gOff, DeviceBuffer m, long mOff,
                            DeviceBuffer v, long vOff, float lr, float beta1, float beta2, float eps, float weightDecay, int t) {
        String op = "adam step";
        SparseArgs.nonNegative(op, "n", n);
        AdamSimd.checkHyper(op, lr, beta1, beta2, eps, weightDecay, t);
        SparseArgs.dense(op, "p", p, pOff, 1, n, 1);
        SparseArgs.dense(op, "g", g, gOff, 1, n, 1);
        SparseArgs.dense(op, "m", m, mOff, 1, n, 1);
        SparseArgs.dense(op, "v", v, vOff, 1, n, 1);
        if (n == 0) return;
        Object[] h = launchArgs(lr, beta1, beta2, eps, weightDecay, t);
        cuda.launch1d(cuda.kernel("kdrec_adam_step"), n, SparseArgs.BLOCK, n, p.at(pOff), g.at(gOff), m.at(mOff), v.at(vOff),
                h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
    }

    /**
     * Lazy row-sparse variant (see {@link kdrec.cpu.AdamSimd#stepRows}): rows[0..nRows) of a (rows x d)
     * table are updated with compact gradients g (nRows x d, leading dim ldg); m and v share p's layout
     * (leading dim ldp) from their own offsets. Untouched rows keep their moments; t is the global step.
     */
    public static void stepRows(Cuda cuda, int nRows, DeviceBuffer rows, int d, DeviceBuffer p, long pOff, int ldp,
                                DeviceBuffer g, long gOff, int ldg, DeviceBuffer m, long mOff, DeviceBuffer v, long vOff,
                                float lr, float beta1, float beta2, float eps, float weightDecay, int t) {
        String op = "adam stepRows";
        if (nRows < 0 || d < 0) throw new IllegalArgumentException(op + ": negative dims nRows = " + nRows + ", d = " + d);
        if (ldp < d || ldg < d) throw new IllegalArgumentException(op + ": leading dims " + ldp + ", " + ldg + " < d = " + d);
        AdamSimd.checkHyper(op, lr, beta1, beta2, eps, weightDecay, t);
        SparseArgs.elements(op, "rows", rows, nRows);
        SparseArgs.dense(op, "g", g, gOff, ldg, nRows, d);
        // The table's row count is the largest row index + 1, unknown without a download: only the
        // offsets are checked for p, m and v.
        SparseArgs.dense(op, "p", p, pOff, ldp, 0, d);
        SparseArgs.dense(op, "m", m, mOff, ldp, 0, d);
        SparseArgs.dense(op, "v", v, vOff, ldp, 0, d);
        if (nRows == 0 || d == 0) return;
        Object[] h = launchArgs(lr, beta1, beta2, eps, weightDecay, t);
        cuda.launch1d(cuda.kernel("kdrec_adam_step_rows"), (long) nRows * d, SparseArgs.BLOCK, nRows, d, rows, p.at(pOff), ldp,
                g.at(gOff), ldg, m.at(mOff), v.at(vOff), h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
    }

    /**
     * Marks rows idx[0..n) in {@code flags} (one int per table row, 1 = touched) for
     * {@link #stepMarked}; ids must lie inside the flags (the caller's guarantee, as for a scatter).
     */
    public static void markRows(Cuda cuda, int n, DeviceBuffer idx, DeviceBuffer flags) {
        String op = "adam markRows";
        if (n < 0) throw new IllegalArgumentException(op + ": negative n = " + n);
        SparseArgs.elements(op, "idx", idx, n);
        if (flags == null) throw new IllegalArgumentException(op + ": flags is null");
        if (n == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_adam_mark_rows"), n, SparseArgs.BLOCK, n, idx, flags);
    }

    /**
     * Lazy update of the marked rows of an nRows x d table (contiguous rows; p, g, m, v all in that
     * layout): row r is updated, from its own gradient row, where flags[r] != 0 and left alone (value and
     * moments) elsewhere, as kdrec.nn.Adam's lazy rows step. t is the global step.
     */
    public static void stepMarked(Cuda cuda, int nRows, int d, DeviceBuffer flags, DeviceBuffer p, long pOff, DeviceBuffer g, long gOff,
                                  DeviceBuffer m, long mOff, DeviceBuffer v, long vOff, float lr, float beta1, float beta2, float eps,
                                  float weightDecay, int t) {
        String op = "adam stepMarked";
        if (nRows < 0 || d < 0) throw new IllegalArgumentException(op + ": negative dims nRows = " + nRows + ", d = " + d);
        AdamSimd.checkHyper(op, lr, beta1, beta2, eps, weightDecay, t);
        SparseArgs.elements(op, "flags", flags, nRows);
        SparseArgs.dense(op, "p", p, pOff, d, nRows, d);
        SparseArgs.dense(op, "g", g, gOff, d, nRows, d);
        SparseArgs.dense(op, "m", m, mOff, d, nRows, d);
        SparseArgs.dense(op, "v", v, vOff, d, nRows, d);
        if (nRows == 0 || d == 0) return;
        Object[] h = launchArgs(lr, beta1, beta2, eps, weightDecay, t);
        cuda.launch1d(cuda.kernel("kdrec_adam_step_marked"), (long) nRows * d, SparseArgs.BLOCK, nRows, d, flags, p.at(pOff), g.at(gOff),
                m.at(mOff), v.at(vOff), h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
    }

    /** The kernels' trailing arguments (wd, w, small, beta2, omb2, bc2sqrt, eps, negStep): AdamSimd.Hyper's floats. */
    static Object[] launchArgs(float lr, float beta1, float beta2, float eps, float weightDecay, int t) {
        AdamSimd.Hyper h = new AdamSimd.Hyper(lr, beta1, beta2, eps, weightDecay, t);
        return new Object[] {h.wd(), h.w(), h.small() ? 1 : 0, h.beta2(), h.omb2(), h.bc2sqrt(), h.eps(), h.negStep()};
    }
}
