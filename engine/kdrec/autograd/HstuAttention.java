package kdrec.autograd;

import java.lang.foreign.MemorySegment;
import kdrec.cpu.Parallel;
import kdrec.tensor.Backend;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * An HSTU block's whole pointwise attention as one op, map by map:
 * {@code out = av(causalMask(alpha * silu(relativeBias(qk(q, k), w))), v)} (w may be null: no bias).
 *
 * <p>Why: composed of {@link Attention}'s ops, every step wrote a [b*h, n, n] tensor (20 MB per block
 * at the bench's 128 sequences x 4 heads x 100 positions), and the backward as many gradients, each
 * streamed through memory once or twice. Here each (sequence, head) map lives in three n x n buffers
 * of its thread (native, in the tape's scratch; in L2) from its scores to its product with v: one GEMM
 * for the scores, one backend call for bias, silu, scale and mask over the lower triangle only
 * ({@link Backend#attentionMapForward}), one GEMM with v. The backward recomputes the scores (one more
 * small GEMM per map) instead of keeping them. Only the bias table's gradient needs every map's dZ at
 * once (its sum per table entry runs over all maps in a fixed order), kept in one scratch tensor.
 *
 * <p>Numerics: the same GEMMs and, per element, the same float operations as the composed ops, in the
 * same order (gradients that the composed ops accumulate into fresh zeros are formed from +0 the same
 * way; see kdrec.cpu.AttentionMapScalar), so forward and gradients are bit-identical to them on either
 * CPU backend and for any thread count ({@code HstuAttentionTest}). The composed ops stay: they are the
 * reference, and the device path (DeviceHstu) has kernels of its own.
 */
public final class HstuAttention {
    private HstuAttention() {}

    /**
     * q, k: [b*n, h*dh]; v: [b*n, h*dv]; w: the relative bias table (length 2N-1, N >= n) or null;
     * alpha: the attention's scale. Returns [b*n, h*dv].
     */
    public static Var attend(Tape t, Var q, Var k, Var v, Var w, float alpha, int b, int n, int h) {
        Attention.check("hstu attention", q, b, n, h);
        Attention.check("hstu attention", k, b, n, h);
        Attention.check("hstu attention", v, b, n, h);
        if (q.value.cols() != k.value.cols()) throw Shapes.mismatch("hstu attention", "q and k widths differ", q.value, k.value);
        Dims sh = new Dims(n, h, q.value.cols(), v.value.cols(), alpha, w == null ? 0 : Attention.biasCentre("hstu attention", w, n));
        Backend be = t.backend();
        MemorySegment qd = q.value.data(), kd = k.value.data(), vd = v.value.data(), wd = w == null ? null : w.value.data();
        Var out = t.output("hstuAttention", t.needsGrad(q, k, v, w), b * n, v.value.cols());
        MemorySegment od = out.value.data();
        MemorySegment maps = mapBuffers(t, n);
        Parallel.forChunks(b * h, 1, 1, (chunk, lo, hi) -> {
            long z = (long) chunk * 3 * n * n, a = z + (long) n * n;
            for (int r = lo; r < hi; r++) {
                weights(be, sh, qd, kd, wd, maps, z, a, sh.qk(r));
                be.gemmNN(n, sh.dv(), n, 1f, maps, a, n, vd, sh.vo(r), sh.ldv(), 0f, od, sh.vo(r), sh.ldv());
            }
        });
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            Tensor gq = q.requiresGrad ? t.gradOf(q) : null, gk = k.requiresGrad ? t.gradOf(k) : null;
            Tensor gv = v.requiresGrad ? t.gradOf(v) : null;
            boolean biasGrad = w != null && w.requiresGrad;
            // every map's dZ, for the table's gradient: its entries sum over all maps in one order
            Tensor dzAll = biasGrad ? t.scratch().uninitialized(b * h, n, n) : null;
            boolean throughScores = gq != null || gk != null || biasGrad;
            MemorySegment gd = g.data(), bufs = mapBuffers(t, n);
            Parallel.forChunks(b * h, 1, 1, (chunk, lo, hi) -> {
                long z = (long) chunk * 3 * n * n, a = z + (long) n * n, da = a + (long) n * n;
                for (int r = lo; r < hi; r++) {
                    long qo = sh.qk(r), vo = sh.vo(r);
                    weights(be, sh, qd, kd, wd, bufs, z, a, qo);
                    if (gv != null) be.gemmTN(n, sh.dv(), n, 1f, bufs, a, n, gd, vo, sh.ldv(), 1f, gv.data(), vo, sh.ldv());
                    if (!throughScores) continue;
                    be.gemmNT(n, n, sh.dv(), 1f, gd, vo, sh.ldv(), vd, vo, sh.ldv(), 0f, bufs, da, n); // dA
                    // dZ: into the table gradient's map when there is one, else over A (spent)
                    MemorySegment dzSeg = dzAll != null ? dzAll.data() : bufs;
                    long dz = dzAll != null ? (long) r * n * n : a;
                    be.attentionMapBackward(n, bufs, z, sh.alpha(), bufs, da, dzSeg, dz);
                    if (gq != null) be.gemmNN(n, sh.dh(), n, 1f, dzSeg, dz, n, kd, qo, sh.ld(), 1f, gq.data(), qo, sh.ld());
                    if (gk != null) be.gemmTN(n, sh.dh(), n, 1f, dzSeg, dz, n, qd, qo, sh.ld(), 1f, gk.data(), qo, sh.ld());
                }
            });
            if (biasGrad) Attention.addBiasGradient(dzAll, b * h, n, t.gradOf(w), true); // dZ is +0 above the diagonals
        });
        return out;
    }

    /** Three n x n maps (Z, A, dA) per kernel thread, in the tape's scratch: chunk c's start at 3c n^2. */
    private static MemorySegment mapBuffers(Tape t, int n) {
        return t.scratch().allocate(Float.BYTES * 3L * n * n * Parallel.threads());
    }

    /** Z = q.k^T, then the biased scores into Z and A = the weights (mask, scale, silu): one backend call. */
    private static void weights(Backend be, Dims sh, MemorySegment qd, MemorySegment kd, MemorySegment wd, MemorySegment bufs, long z, long a, long qo) {
        int n = sh.n();
        be.gemmNT(n, n, sh.dh(), 1f, qd, qo, sh.ld(), kd, qo, sh.ld(), 0f, bufs, z, n);
        be.attentionMapForward(n, bufs, z, wd, sh.centre(), sh.alpha(), bufs, a);
    }

    /** The op's dimensions and constants; per map r (= sequence * h + head) the offsets of its rows' head slices. */
    private record Dims(int n, int h, int ld, int ldv, float alpha, int centre) {
        int dh() { return ld / h; }
        int dv() { return ldv / h; }
        long qk(int r) { return (long) (r / h) * n * ld + (long) (r % h) * dh(); }
        long vo(int r) { return (long) (r / h) * n * ldv + (long) (r % h) * dv(); }
    }
}
