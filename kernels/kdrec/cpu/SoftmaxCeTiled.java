package kdrec.cpu;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.MAX;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The online (tiled) full-catalogue softmax CE behind {@link SoftmaxCeSimd#forward} and
 * {@link SoftmaxCeSimd#backward}: logits are produced tile by tile with {@link ScoreTile} (items
 * packed NB at a time, user rows MB at a time) and consumed while the C tile is in L1/L2; no m x n
 * buffer exists. Forward keeps a running max/sum per row in the caller's lse/loss arrays (one exp per
 * logit). Backward recomputes the tiles: pass du (threads own rows) computes G and du += G.I, pass
 * di (threads own item tiles) recomputes G and di += G^T.U, so no float sum crosses threads. With both
 * gradients the backward costs about four GEMMs of the forward's size (two recomputes + two products).
 *
 * <p>Every per-element operation order is fixed by the tile grid (item tiles at multiples of NB, rows
 * in ascending order), not by the thread split: results are bit-identical for any thread count.
 */
final class SoftmaxCeTiled {
    private SoftmaxCeTiled() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Items per tile: 8 packed panels (192 at AVX2: 48 KB packed at d = 64, L2-resident). */
    static final int NB = 8 * ScoreTile.NR;
    /** User rows per block (a multiple of ScoreTile's MR, 3 or 6): the C tile MB x NB is 23 KB at AVX2. */
    static final int MB = 30;

    private static final class Scratch {
        float[] a = new float[0], bp = new float[0], c = new float[0], xt = new float[0], acc = new float[0], zt = new float[0];
        final float[] tmp = new float[L];

        static float[] grow(float[] x, int n) { return x.length >= n ? x : new float[n]; }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static int minRows(int n, int d) {
        // a thread packs all n items once: give it enough rows to amortise that (and the fork)
        return (int) Math.max(MB, 2_000_000L / ((long) n * (d + 8) + 1));
    }

    static void forward(int m, int n, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi,
                        float scale, int[] target, float[] loss, float[] lse) {
        Parallel.forRange(m, 1, minRows(n, d), (lo, hi) -> forwardRows(lo, hi, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, loss, lse));
    }

    private static void forwardRows(int lo, int hi, int n, int d, MemorySegment u, long uOff, int ldu,
                                    MemorySegment items, long iOff, int ldi, float scale, int[] target, float[] loss, float[] lse) {
        Scratch s = SCRATCH.get();
        float[] a = s.a = Scratch.grow(s.a, MB * d), bp = s.bp = Scratch.grow(s.bp, ScoreTile.packedSize(NB, d));
        float[] c = s.c = Scratch.grow(s.c, MB * NB), zt = s.zt = Scratch.grow(s.zt, hi - lo);
        float[] tmp = s.tmp;
        for (int r = lo; r < hi; r++) { lse[r] = Float.NEGATIVE_INFINITY; loss[r] = 0f; } // running max, running sum
        for (int j0 = 0; j0 < n; j0 += NB) {
            int nb = Math.min(NB, n - j0), w = roundUp(nb);
            ScoreTile.packB(items, iOff, ldi, j0, nb, d, bp);
            for (int r0 = lo; r0 < hi; r0 += MB) {
                int mb = Math.min(MB, hi - r0);
                loadRows(u, uOff, ldu, r0, mb, d, a);
                ScoreTile.tile(mb, nb, d, a, 0, d, bp, c, w);
                for (int i = 0; i < mb; i++) {
                    int r = r0 + i, co = i * w;
                    float tileMax = scaleMax(c, co, nb, w, scale);
                    int t = target[r] - j0;
                    if (t >= 0 && t < nb) zt[r - lo] = c[co + t];
                    float mOld = lse[r], mNew = tileMax > mOld ? tileMax : mOld;
                    loss[r] = loss[r] * CeMath.exp(mOld - mNew) + expSum(c, co, w, mNew, tmp);
                    lse[r] = mNew;
                }
            }
        }
        for (int r = lo; r < hi; r++) {
            double l = lse[r] + Math.log(loss[r]);
            lse[r] = (float) l;
            loss[r] = (float) (l - zt[r - lo]);
        }
    }

    static void backward(int m, int n, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi,
                         float scale, int[] target, float[] lse, float[] gLoss,
                         MemorySegment du, long duOff, int lddu, MemorySegment di, long diOff, int lddi) {
        if (m == 0 || n == 0 || d == 0) return;
        if (du != null) {
            Parallel.forRange(m, 1, minRows(n, d), (lo, hi) -> backwardDu(lo, hi, n, d, u, uOff, ldu, items, iOff, ldi,
                    scale, target, lse, gLoss, du, duOff, lddu));
        }
        if (di != null) {
            int tiles = (n + NB - 1) / NB;
            int minTiles = (int) Math.max(1, 2_000_000L / ((long) m * NB * (d + 8) + 1));
            Parallel.forRange(tiles, 1, minTiles, (t0, t1) -> backwardDi(t0, t1, m, n, d, u, uOff, ldu, items, iOff, ldi,
                    scale, target, lse, gLoss, di, diOff, lddi));
        }
    }

    /** du rows [lo, hi): all item tiles in order, each row's gradient accumulated in a row-major scratch. */
    private static void backwardDu(int lo, int hi, int n, int d, MemorySegment u, long uOff, int ldu,
                                   MemorySegment items, long iOff, int ldi, float scale, int[] target, float[] lse, float[] gLoss,
                                   MemorySegment du, long duOff, int lddu) {
        Scratch s = SCRATCH.get();
        float[] a = s.a = Scratch.grow(s.a, MB * d), bp = s.bp = Scratch.grow(s.bp, ScoreTile.packedSize(NB, d));
        float[] c = s.c = Scratch.grow(s.c, MB * NB), xt = s.xt = Scratch.grow(s.xt, NB * d);
        float[] acc = s.acc = Scratch.grow(s.acc, (hi - lo) * d);
        loadRows(du, duOff, lddu, lo, hi - lo, d, acc);
        for (int j0 = 0; j0 < n; j0 += NB) {
            int nb = Math.min(NB, n - j0), w = roundUp(nb);
            ScoreTile.packB(items, iOff, ldi, j0, nb, d, bp);
            loadRows(items, iOff, ldi, j0, nb, d, xt);
            for (int r0 = lo; r0 < hi; r0 += MB) {
                int mb = Math.min(MB, hi - r0);
                loadRows(u, uOff, ldu, r0, mb, d, a);
                ScoreTile.tile(mb, nb, d, a, 0, d, bp, c, w);
                gradTile(c, mb, nb, w, r0, j0, scale, target, lse, gLoss);
                accRows(mb, nb, d, c, w, 1, xt, acc, (r0 - lo) * d);
            }
        }
        storeRows(acc, du, duOff, lddu, lo, hi - lo, d);
    }

    /** di item tiles [t0, t1): every row block in order for each tile. */
    private static void backwardDi(int t0, int t1, int m, int n, int d, MemorySegment u, long uOff, int ldu,
                                   MemorySegment items, long iOff, int ldi, float scale, int[] target, float[] lse, float[] gLoss,
                                   MemorySegment di, long diOff, int lddi) {
        Scratch s = SCRATCH.get();
        float[] a = s.a = Scratch.grow(s.a, MB * d), bp = s.bp = Scratch.grow(s.bp, ScoreTile.packedSize(NB, d));
        float[] c = s.c = Scratch.grow(s.c, MB * NB), acc = s.acc = Scratch.grow(s.acc, NB * d);
        for (int t = t0; t < t1; t++) {
            int j0 = t * NB, nb = Math.min(NB, n - j0), w = roundUp(nb);
            ScoreTile.packB(items, iOff, ldi, j0, nb, d, bp);
            loadRows(di, diOff, lddi, j0, nb, d, acc);
            for (int r0 = 0; r0 < m; r0 += MB) {
                int mb = Math.min(MB, m - r0);
                loadRows(u, uOff, ldu, r0, mb, d, a);
                ScoreTile.tile(mb, nb, d, a, 0, d, bp, c, w);
                gradTile(c, mb, nb, w, r0, j0, scale, target, lse, gLoss);
                accRows(nb, mb, d, c, 1, w, a, acc, 0);
            }
            storeRows(acc, di, diOff, lddi, j0, nb, d);
        }
    }

    private static int roundUp(int nb) {
        return (nb + ScoreTile.NR - 1) / ScoreTile.NR * ScoreTile.NR;
    }

    static void loadRows(MemorySegment s, long off, int ld, int r0, int rows, int d, float[] dst) {
        for (int i = 0; i < rows; i++) Mem.copyOut(s, off + (long) (r0 + i) * ld, dst, i * d, d);
    }

    static void storeRows(float[] src, MemorySegment s, long off, int ld, int r0, int rows, int d) {
        for (int i = 0; i < rows; i++) Mem.copyIn(src, i * d, s, off + (long) (r0 + i) * ld, d);
    }

    /** c[co, co+w) *= scale; pad columns [nb, w) := -Inf; returns max over [0, nb) (NaN ignored). */
    static float scaleMax(float[] c, int co, int nb, int w, float scale) {
        FloatVector vs = FloatVector.broadcast(F, scale), mx = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int nv = F.loopBound(nb), j = 0;
        for (; j < nv; j += L) {
            FloatVector z = FloatVector.fromArray(F, c, co + j).mul(vs);
            z.intoArray(c, co + j);
            mx = mx.blend(z, z.compare(GT, mx));
        }
        float m = mx.reduceLanes(MAX); // max is exact in any order
        for (; j < nb; j++) {
            float z = c[co + j] * scale;
            c[co + j] = z;
            if (z > m) m = z;
        }
        for (; j < w; j++) c[co + j] = Float.NEGATIVE_INFINITY;
        return m;
    }

    /**
     * sum over [co, co+w) of exp(c - mx), w a multiple of L (pads are -Inf: exp gives 0). One exp
     * call site and a scalar lane sum through tmp (L floats): see CeMath.sumLanes for why.
     */
    static float expSum(float[] c, int co, int w, float mx, float[] tmp) {
        FloatVector bm = FloatVector.broadcast(F, mx), s0 = FloatVector.zero(F);
        for (int j = 0; j < w; j += L) s0 = s0.add(CeMath.exp(FloatVector.fromArray(F, c, co + j).sub(bm)));
        s0.intoArray(tmp, 0);
        return CeMath.sumLanes(tmp, 0);
    }

    /** Turns the raw dot tile into G: G_ij = gLoss*scale*exp(scale*c - lse) minus gLoss*scale at the target. */
    static void gradTile(float[] c, int mb, int nb, int w, int r0, int j0, float scale, int[] target, float[] lse, float[] gLoss) {
        FloatVector vs = FloatVector.broadcast(F, scale);
        for (int i = 0; i < mb; i++) {
            int r = r0 + i, co = i * w;
            float gs = gLoss[r] * scale;
            FloatVector bl = FloatVector.broadcast(F, lse[r]), bg = FloatVector.broadcast(F, gs);
            for (int j = 0; j < w; j += L) {
                FloatVector z = FloatVector.fromArray(F, c, co + j).mul(vs);
                CeMath.exp(z.sub(bl)).mul(bg).intoArray(c, co + j);
            }
            int t = target[r] - j0;
            if (t >= 0 && t < nb) c[co + t] -= gs;
        }
    }

    /**
     * out[oo + p*d + k] += sum_q g[p*sp + q*sq] * x[q*d + k] for p < np, q < nq, k < d: du (p = row,
     * q = item) and di (p = item, q = row) with the same kernel. Two output rows x four vectors in
     * registers (8 accumulators + 4 x + 2 broadcasts: spill-free, calibration 4.1). Each element sums
     * over q in order with one fma per term, whichever block it falls in.
     */
    static void accRows(int np, int nq, int d, float[] g, int sp, int sq, float[] x, float[] out, int oo) {
        int k = 0;
        for (; k + 4 * L <= d; k += 4 * L) acc4(np, nq, d, g, sp, sq, x, out, oo, k);
        for (; k + L <= d; k += L) acc1(np, nq, d, g, sp, sq, x, out, oo, k);
        for (; k < d; k++) {
            for (int p = 0; p < np; p++) {
                int o = oo + p * d + k;
                float v = out[o];
                for (int q = 0; q < nq; q++) v = Math.fma(x[q * d + k], g[p * sp + q * sq], v);
                out[o] = v;
            }
        }
    }

    private static void acc4(int np, int nq, int d, float[] g, int sp, int sq, float[] x, float[] out, int oo, int k) {
        int p = 0;
        for (; p + 2 <= np; p += 2) {
            int o0 = oo + p * d + k, o1 = o0 + d, g0 = p * sp, g1 = g0 + sp;
            FloatVector a00 = FloatVector.fromArray(F, out, o0), a01 = FloatVector.fromArray(F, out, o0 + L);
            FloatVector a02 = FloatVector.fromArray(F, out, o0 + 2 * L), a03 = FloatVector.fromArray(F, out, o0 + 3 * L);
            FloatVector a10 = FloatVector.fromArray(F, out, o1), a11 = FloatVector.fromArray(F, out, o1 + L);
            FloatVector a12 = FloatVector.fromArray(F, out, o1 + 2 * L), a13 = FloatVector.fromArray(F, out, o1 + 3 * L);
            for (int q = 0; q < nq; q++) {
                int xo = q * d + k;
                FloatVector x0 = FloatVector.fromArray(F, x, xo), x1 = FloatVector.fromArray(F, x, xo + L);
                FloatVector x2 = FloatVector.fromArray(F, x, xo + 2 * L), x3 = FloatVector.fromArray(F, x, xo + 3 * L);
                FloatVector w0 = FloatVector.broadcast(F, g[g0 + q * sq]);
                a00 = x0.fma(w0, a00); a01 = x1.fma(w0, a01); a02 = x2.fma(w0, a02); a03 = x3.fma(w0, a03);
                FloatVector w1 = FloatVector.broadcast(F, g[g1 + q * sq]);
                a10 = x0.fma(w1, a10); a11 = x1.fma(w1, a11); a12 = x2.fma(w1, a12); a13 = x3.fma(w1, a13);
            }
            a00.intoArray(out, o0); a01.intoArray(out, o0 + L); a02.intoArray(out, o0 + 2 * L); a03.intoArray(out, o0 + 3 * L);
            a10.intoArray(out, o1); a11.intoArray(out, o1 + L); a12.intoArray(out, o1 + 2 * L); a13.intoArray(out, o1 + 3 * L);
        }
        for (; p < np; p++) {
            int o0 = oo + p * d + k, g0 = p * sp;
            FloatVector a00 = FloatVector.fromArray(F, out, o0), a01 = FloatVector.fromArray(F, out, o0 + L);
            FloatVector a02 = FloatVector.fromArray(F, out, o0 + 2 * L), a03 = FloatVector.fromArray(F, out, o0 + 3 * L);
            for (int q = 0; q < nq; q++) {
                int xo = q * d + k;
                FloatVector w0 = FloatVector.broadcast(F, g[g0 + q * sq]);
                a00 = FloatVector.fromArray(F, x, xo).fma(w0, a00);
                a01 = FloatVector.fromArray(F, x, xo + L).fma(w0, a01);
                a02 = FloatVector.fromArray(F, x, xo + 2 * L).fma(w0, a02);
                a03 = FloatVector.fromArray(F, x, xo + 3 * L).fma(w0, a03);
            }
            a00.intoArray(out, o0); a01.intoArray(out, o0 + L); a02.intoArray(out, o0 + 2 * L); a03.intoArray(out, o0 + 3 * L);
        }
    }

    private static void acc1(int np, int nq, int d, float[] g, int sp, int sq, float[] x, float[] out, int oo, int k) {
        for (int p = 0; p < np; p++) {
            int o0 = oo + p * d + k, g0 = p * sp;
            FloatVector a0 = FloatVector.fromArray(F, out, o0);
            for (int q = 0; q < nq; q++) a0 = FloatVector.fromArray(F, x, q * d + k).fma(FloatVector.broadcast(F, g[g0 + q * sq]), a0);
            a0.intoArray(out, o0);
        }
    }
}
