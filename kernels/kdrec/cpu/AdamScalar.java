package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Scalar reference for the fused Adam update: the test oracle and benchmark baseline of
 * {@link AdamSimd}. Same semantics and operation order (PyTorch's single-tensor Adam, as its scalar
 * ATen loops compute it: plain multiply and add, no fma). Single-threaded. Argument rules are those
 * of {@link AdamSimd}.
 */
public final class AdamScalar {
    private AdamScalar() {}

    /** Dense fused update of n parameters, step t >= 1. */
    public static void step(long n, MemorySegment p, long pOff, MemorySegment g, long gOff, MemorySegment m, long mOff,
                            MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps, float weightDecay, int t) {
        AdamSimd.checkStep(n, p, pOff, g, gOff, m, mOff, v, vOff, lr, beta1, beta2, eps, weightDecay, t);
        AdamSimd.Hyper h = new AdamSimd.Hyper(lr, beta1, beta2, eps, weightDecay, t);
        for (long i = 0; i < n; i++) element(h, p, pOff + i, g, gOff + i, m, mOff + i, v, vOff + i);
    }

    /** Lazy row-sparse variant (see {@link AdamSimd#stepRows}). */
    public static void stepRows(int nRows, int[] rows, int d, MemorySegment p, long pOff, int ldp, MemorySegment g, long gOff, int ldg,
                                MemorySegment m, long mOff, MemorySegment v, long vOff, float lr, float beta1, float beta2,
                                float eps, float weightDecay, int t) {
        AdamSimd.checkStepRows(nRows, rows, d, p, pOff, ldp, g, gOff, ldg, m, mOff, v, vOff, lr, beta1, beta2, eps, weightDecay, t);
        AdamSimd.Hyper h = new AdamSimd.Hyper(lr, beta1, beta2, eps, weightDecay, t);
        for (int r = 0; r < nRows; r++) {
            long ro = (long) rows[r] * ldp, go = gOff + (long) r * ldg;
            for (int c = 0; c < d; c++) element(h, p, pOff + ro + c, g, go + c, m, mOff + ro + c, v, vOff + ro + c);
        }
    }

    private static void element(AdamSimd.Hyper h, MemorySegment p, long pi, MemorySegment g, long gi, MemorySegment m, long mi,
                                MemorySegment v, long vi) {
        float pe = Mem.get(p, pi), ge = Mem.get(g, gi), me = Mem.get(m, mi), ve = Mem.get(v, vi);
        if (h.wd() != 0f) ge = ge + h.wd() * pe;
        // torch lerp: start + w (end - start) for |w| < 0.5, else end - (end - start)(1 - w)
        me = h.small() ? me + h.w() * (ge - me) : ge - (ge - me) * (1f - h.w());
        ve = ve * h.beta2() + h.omb2() * ge * ge;
        float denom = (float) Math.sqrt(ve) / h.bc2sqrt() + h.eps();
        Mem.set(m, mi, me);
        Mem.set(v, vi, ve);
        Mem.set(p, pi, pe + h.negStep() * me / denom);
    }
}
