package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused Adam update on the Vector API, with torch.optim.Adam semantics (coupled L2 weight decay,
 * bias correction, no amsgrad), in the operation order of PyTorch's single-tensor CPU path with
 * its vectorised ATen kernels:
 * <pre>
 *   g' = fma(p, wd, g)                        grad.add(param, alpha=wd)  (ATen: vec::fmadd)
 *   m  = fma(w, g' - m, m), w = 1 - beta1     exp_avg.lerp_(g', w)       (weight &lt; 0.5; else
 *                                             g' - (g' - m)(1 - w) as fma, like ATen's lerp_vec)
 *   v  = v * beta2 + ((1 - beta2) * g') * g'  mul_(beta2).addcmul_(g', g', value=1-beta2)
 *   denom = sqrt(v) / sqrt(bc2) + eps         (sqrt(bc2) and lr/bc1 in double, then float)
 *   p  = p + (-(lr / bc1) * m) / denom        param.addcdiv_(m, denom, value=-lr/bc1)
 * </pre>
 * One pass over p, g, m, v (4 streams in, 3 out; the step is memory bound: 640k parameters move
 * about 18 MB). The scalar tail repeats a vector lane's arithmetic exactly (Math.fma where the lanes
 * fuse), so every element's result is independent of where vectors and threads split the range:
 * results are bit-identical for any thread count, and stepRows on all rows equals step.
 * p, g, m and v must not overlap.
 */
public final class AdamSimd {
    private AdamSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Work unit of the thread split (floats; a multiple of every lane count). */
    private static final int BLOCK = 2048;
    /** Fewer parameters than this per task is not worth a fork (~10 us). */
    private static final int MIN_BLOCKS_PER_TASK = 16;

    /** Dense fused update of n parameters, step t >= 1. */
    public static void step(long n, MemorySegment p, long pOff, MemorySegment g, long gOff, MemorySegment m, long mOff,
                            MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps, float weightDecay, int t) {
        checkStep(n, p, pOff, g, gOff, m, mOff, v, vOff, lr, beta1, beta2, eps, weightDecay, t);
        if (n == 0) return;
        Hyper h = new Hyper(lr, beta1, beta2, eps, weightDecay, t);
        long blocks = (n + BLOCK - 1) / BLOCK;
        if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException("adam step: n = " + n + " too large");
        Parallel.forRange((int) blocks, 1, MIN_BLOCKS_PER_TASK, (b0, b1) -> {
            long from = (long) b0 * BLOCK, to = Math.min(n, (long) b1 * BLOCK);
            for (long s = from; s < to; s += 1 << 30) {
                int len = (int) Math.min(to - s, 1 << 30);
                update(len, p, pOff + s, g, gOff + s, m, mOff + s, v, vOff + s,
                        h.wd, h.w, h.small, h.beta2, h.omb2, h.bc2sqrt, h.eps, h.negStep);
            }
        });
    }

    /**
     * Lazy row-sparse variant: only rows[0..nRows) of a (rows x d) table are updated, grads given
     * compactly (nRows x d, leading dim ldg); untouched rows keep their moments (no decay), as
     * torch.optim.SparseAdam does but with the same coupled weight decay on the touched rows; t is
     * the global step. Rows must be distinct (checked). m and v share p's layout (leading dim ldp).
     */
    public static void stepRows(int nRows, int[] rows, int d, MemorySegment p, long pOff, int ldp, MemorySegment g, long gOff, int ldg,
                                MemorySegment m, long mOff, MemorySegment v, long vOff, float lr, float beta1, float beta2,
                                float eps, float weightDecay, int t) {
        checkStepRows(nRows, rows, d, p, pOff, ldp, g, gOff, ldg, m, mOff, v, vOff, lr, beta1, beta2, eps, weightDecay, t);
        if (nRows == 0 || d == 0) return;
        Hyper h = new Hyper(lr, beta1, beta2, eps, weightDecay, t);
        int minRows = Math.max(1, MIN_BLOCKS_PER_TASK * BLOCK / d);
        Parallel.forRange(nRows, 1, minRows, (t0, t1) -> {
            for (int i = t0; i < t1; i++) {
                long ro = (long) rows[i] * ldp;
                update(d, p, pOff + ro, g, gOff + (long) i * ldg, m, mOff + ro, v, vOff + ro,
                        h.wd, h.w, h.small, h.beta2, h.omb2, h.bc2sqrt, h.eps, h.negStep);
            }
        });
    }

    /**
     * Per-step scalars, derived in double as PyTorch's Python side does, then rounded to float. Public
     * so that the GPU Adam (kdrec.gpu.GpuAdam) feeds its kernels the very same floats.
     */
    public record Hyper(float wd, float w, boolean small, float beta2, float omb2, float bc2sqrt, float eps, float negStep) {
        public Hyper(float lr, float beta1, float beta2, float eps, float weightDecay, int t) {
            this(weightDecay, (float) (1.0 - beta1), Math.abs((float) (1.0 - beta1)) < 0.5f, beta2, (float) (1.0 - beta2),
                    (float) Math.sqrt(1.0 - Math.pow(beta2, t)), eps, (float) -(lr / (1.0 - Math.pow(beta1, t))));
        }
    }

    /**
     * The update over len consecutive elements of each stream. When len is at least one vector but not a
     * multiple of it, the last vector ends at len and overlaps the one before: it is loaded and computed
     * before the loop, from the elements' original values, and stored after it, so the lanes it shares
     * with the loop's last vector are written twice with the same bits (the update of an element depends
     * only on that element). A lazy step calls this once per short row (d = 20: 16 + 4), where the scalar
     * tail made a row ~5x slower (AdamBench stepRows_simd, d = 20: 0.345 -> 0.063 ms for 2,048 rows). Two
     * alternatives measured slower: a mask blend of the overlapping vector (not intrinsified here) and
     * staging it in a heap segment (update() then sees two segment types and its loads go generic).
     */
    static void update(int len, MemorySegment p, long po, MemorySegment g, long go, MemorySegment m, long mo,
                       MemorySegment v, long vo, float wd, float w, boolean small, float beta2, float omb2,
                       float bc2sqrt, float eps, float negStep) {
        // lerp as one fma: small weight: m + w (g - m); else g + (w - 1)(g - m)   (ATen lerp_vec)
        float coeff = small ? w : w - 1f;
        FloatVector vwd = FloatVector.broadcast(F, wd), vcoeff = FloatVector.broadcast(F, coeff);
        FloatVector vb2 = FloatVector.broadcast(F, beta2), vomb2 = FloatVector.broadcast(F, omb2);
        FloatVector vbc = FloatVector.broadcast(F, bc2sqrt), veps = FloatVector.broadcast(F, eps);
        FloatVector vstep = FloatVector.broadcast(F, negStep);
        boolean decay = wd != 0f;
        int bound = F.loopBound(len);
        boolean overlap = bound < len && len >= L;
        // the overlapping last vector [len - L, len), computed from the original values
        FloatVector lastP = null, lastM = null, lastV = null;
        if (overlap) {
            int at = len - L;
            FloatVector pv = FloatVector.fromMemorySegment(F, p, Mem.bytes(po + at), Mem.ORDER);
            FloatVector gv = FloatVector.fromMemorySegment(F, g, Mem.bytes(go + at), Mem.ORDER);
            FloatVector mv = FloatVector.fromMemorySegment(F, m, Mem.bytes(mo + at), Mem.ORDER);
            FloatVector vv = FloatVector.fromMemorySegment(F, v, Mem.bytes(vo + at), Mem.ORDER);
            if (decay) gv = pv.fma(vwd, gv);
            lastM = gv.sub(mv).fma(vcoeff, small ? mv : gv);
            lastV = vv.mul(vb2).add(vomb2.mul(gv).mul(gv));
            lastP = pv.add(vstep.mul(lastM).div(lastV.lanewise(VectorOperators.SQRT).div(vbc).add(veps)));
        }
        for (int i = 0; i < bound; i += L) {
            long pb = Mem.bytes(po + i), gb = Mem.bytes(go + i), mb = Mem.bytes(mo + i), vb = Mem.bytes(vo + i);
            FloatVector pv = FloatVector.fromMemorySegment(F, p, pb, Mem.ORDER);
            FloatVector gv = FloatVector.fromMemorySegment(F, g, gb, Mem.ORDER);
            FloatVector mv = FloatVector.fromMemorySegment(F, m, mb, Mem.ORDER);
            FloatVector vv = FloatVector.fromMemorySegment(F, v, vb, Mem.ORDER);
            if (decay) gv = pv.fma(vwd, gv);
            mv = gv.sub(mv).fma(vcoeff, small ? mv : gv);
            vv = vv.mul(vb2).add(vomb2.mul(gv).mul(gv));
            pv = pv.add(vstep.mul(mv).div(vv.lanewise(VectorOperators.SQRT).div(vbc).add(veps)));
            mv.intoMemorySegment(m, mb, Mem.ORDER);
            vv.intoMemorySegment(v, vb, Mem.ORDER);
            pv.intoMemorySegment(p, pb, Mem.ORDER);
        }
        if (overlap) {
            int at = len - L;
            lastM.intoMemorySegment(m, Mem.bytes(mo + at), Mem.ORDER);
            lastV.intoMemorySegment(v, Mem.bytes(vo + at), Mem.ORDER);
            lastP.intoMemorySegment(p, Mem.bytes(po + at), Mem.ORDER);
            return;
        }
        for (int i = bound; i < len; i++) {
            float pe = Mem.get(p, po + i), ge = Mem.get(g, go + i), me = Mem.get(m, mo + i), ve = Mem.get(v, vo + i);
            if (decay) ge = Math.fma(pe, wd, ge);
            me = Math.fma(ge - me, coeff, small ? me : ge);
            ve = ve * beta2 + omb2 * ge * ge;
            float denom = (float) Math.sqrt(ve) / bc2sqrt + eps;
            Mem.set(m, mo + i, me);
            Mem.set(v, vo + i, ve);
            Mem.set(p, po + i, pe + negStep * me / denom);
        }
    }

    // ---------------------------------------------------------------- argument checks (shared with AdamScalar)

    private static final ThreadLocal<long[]> SEEN = ThreadLocal.withInitial(() -> new long[1024]);

    public static void checkHyper(String k, float lr, float beta1, float beta2, float eps, float weightDecay, int t) {
        if (t < 1) throw new IllegalArgumentException(k + ": step t must be >= 1, got " + t);
        if (!(lr >= 0f)) throw new IllegalArgumentException(k + ": invalid lr " + lr);
        if (!(beta1 >= 0f && beta1 < 1f)) throw new IllegalArgumentException(k + ": beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0f && beta2 < 1f)) throw new IllegalArgumentException(k + ": beta2 must be in [0, 1), got " + beta2);
        if (!(eps >= 0f)) throw new IllegalArgumentException(k + ": invalid eps " + eps);
        if (!(weightDecay >= 0f)) throw new IllegalArgumentException(k + ": invalid weight decay " + weightDecay);
    }

    static void checkStep(long n, MemorySegment p, long pOff, MemorySegment g, long gOff, MemorySegment m, long mOff,
                          MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps, float weightDecay, int t) {
        String k = "adam step";
        if (n < 0) throw new IllegalArgumentException(k + ": n = " + n + " < 0");
        checkHyper(k, lr, beta1, beta2, eps, weightDecay, t);
        checkSeg(k, "p", p, pOff, n);
        checkSeg(k, "g", g, gOff, n);
        checkSeg(k, "m", m, mOff, n);
        checkSeg(k, "v", v, vOff, n);
    }

    private static void checkSeg(String k, String what, MemorySegment s, long off, long n) {
        if (s == null) throw new IllegalArgumentException(k + ": " + what + " is null");
        Mem.checkRange(k + ": " + what, s, off, n);
    }

    static void checkStepRows(int nRows, int[] rows, int d, MemorySegment p, long pOff, int ldp, MemorySegment g, long gOff,
                              int ldg, MemorySegment m, long mOff, MemorySegment v, long vOff, float lr, float beta1,
                              float beta2, float eps, float weightDecay, int t) {
        String k = "adam stepRows";
        if (nRows < 0 || d < 0) throw new IllegalArgumentException(k + ": negative dims nRows = " + nRows + ", d = " + d);
        if (ldp < d || ldg < d) throw new IllegalArgumentException(k + ": leading dims " + ldp + ", " + ldg + " < d = " + d);
        checkHyper(k, lr, beta1, beta2, eps, weightDecay, t);
        if (rows == null || rows.length < nRows) throw new IllegalArgumentException(k + ": rows needs " + nRows + " entries");
        if (p == null || g == null || m == null || v == null) throw new IllegalArgumentException(k + ": a segment is null");
        if (nRows == 0 || d == 0) return;
        checkSeg(k, "g", g, gOff, (long) (nRows - 1) * ldg + d);
        long mm = Csr.minMax(rows, 0, nRows);
        int lo = (int) (mm >> 32), hi = (int) mm;
        if (lo < 0) throw new IllegalArgumentException(k + ": negative row index " + lo);
        long span = (long) hi * ldp + d;
        checkSeg(k, "p", p, pOff, span);
        checkSeg(k, "m", m, mOff, span);
        checkSeg(k, "v", v, vOff, span);
        long[] seen = SEEN.get();
        int words = (hi >>> 6) + 1;
        if (seen.length < words) SEEN.set(seen = new long[words]);
        int dup = -1;
        for (int i = 0; i < nRows; i++) {
            int r = rows[i];
            long bit = 1L << r;
            if ((seen[r >>> 6] & bit) != 0) {
                dup = r;
                break;
            }
            seen[r >>> 6] |= bit;
        }
        for (int i = 0; i < nRows; i++) seen[rows[i] >>> 6] = 0; // leave the scratch clean
        if (dup >= 0) throw new IllegalArgumentException(k + ": row " + dup + " appears more than once");
    }
}
