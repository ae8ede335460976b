package kdrec.cpu;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.MAX;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twin of {@link PairCeScalar}: soft CE on two overlapping sets per row over one shared
 * item list (RCE-KD's SK and J2), fused: one pass per row computes the dots (once per distinct item),
 * both softmax CEs, the per-entry gradient and the user-row gradient while the row's item rows are
 * still in L1. Multi-threaded over rows; every output belongs to one row, so results are
 * bit-identical for any thread count.
 *
 * <p>Dots are {@link SubsetCeSimd#dots} (four rows in flight, one fixed-order horizontal sum per
 * item), so the logits equal {@link SubsetCeSimd#gatherDot}'s bit for bit. Reducing 16 dots at once
 * with a butterfly of blends and lane swaps (a quarter of the shuffles) was tried: on the AVX-512 box
 * the dots alone were 5-10 % slower, the whole forward ~2 % (the gathers, not the reductions, bound it).
 */
public final class PairCeSimd {
    private PairCeSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;

    /** Per-thread scratch, grown on demand and reused (these kernels run every step). */
    private static final class Scratch {
        float[] ub = new float[0], s = new float[0], ea = new float[0], eb = new float[0];
        final float[] lanes = new float[4 * L];

        void fit(int d, int n) {
            if (ub.length < d + L) ub = new float[d + L];
            if (s.length < n + L) {
                int c = Math.max(n + L, s.length * 3 / 2);
                s = new float[c];
                ea = new float[c];
                eb = new float[c];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static int minRows(int m, int nnz, int d) {
        long perRow = Math.max(1L, (long) nnz / Math.max(1, m) * (d + 24L));
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, 200_000L / perRow));
    }

    /** See {@link PairCeScalar#targets}. */
    public static void targets(int m, int[] ptr, int[] a, int[] b, float[] teacherLogits, float tau, float[] wA, float[] wB, float[] target) {
        int nnz = PairCeScalar.checkTargets("PairCe.targets", m, ptr, a, b, teacherLogits, tau, wA, wB, target);
        int maxRow = CeArgs.maxRow(m, ptr);
        Parallel.forRange(m, 1, minRows(m, nnz - ptr[0], 0), (lo, hi) -> {
            Scratch sc = SCRATCH.get();
            sc.fit(0, maxRow);
            for (int r = lo; r < hi; r++) {
                int o = ptr[r], n = ptr[r + 1] - o;
                System.arraycopy(teacherLogits, o, sc.s, 0, n);
                float it = 1f / tau;
                float ca = softmaxPart(sc.s, 0, a[r], it, sc.ea, n, sc.lanes, 0), cb = softmaxPart(sc.s, b[r], n, it, sc.eb, n, sc.lanes, 1);
                mix(n, a[r] > 0 ? wA[r] / ca : 0f, sc.ea, b[r] < n ? wB[r] / cb : 0f, sc.eb, target, o);
            }
        });
    }

    /** See {@link PairCeScalar#softCe}. */
    public static void softCe(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi,
                              int[] ptr, int[] idx, int[] a, int[] b, float[] target, float[] wA, float[] wB, float tau,
                              float[] loss, float[] grad, MemorySegment gu, long guOff, int ldgu) {
        String k = "PairCe.softCe";
        int nnz = CeArgs.gather(k, m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx);
        PairCeScalar.checkForward(k, m, d, nnz, ptr, a, b, target, wA, wB, tau, loss, grad, gu, guOff, ldgu);
        int maxRow = CeArgs.maxRow(m, ptr);
        Parallel.forRange(m, 1, minRows(m, nnz - ptr[0], d), (lo, hi) -> {
            Scratch sc = SCRATCH.get();
            sc.fit(d, maxRow);
            for (int r = lo; r < hi; r++) {
                int o = ptr[r], n = ptr[r + 1] - o;
                SubsetCeSimd.loadUser(d, u, uOff + (long) r * ldu, sc.ub);
                SubsetCeSimd.dots(d, sc.ub, items, iOff, ldi, idx, o, o + n, sc.s, -o);
                loss[r] = row(sc, n, a[r], b[r], target, o, wA[r], wB[r], 1f / tau, grad);
                if (gu != null) userGrad(d, items, iOff, ldi, idx, o, n, grad, gu, guOff + (long) r * ldgu);
            }
        });
    }

    /**
     * Loss of one row from its logits sc.s[0, n); writes grad[o, o+n). Shifts: each set's softmax by its
     * own max (so neither underflows), the cross term by the larger one: with t summing to wA over A and
     * wB over B, sum_A wA pA (s-mA) + sum_B wB pB (s-mB) = sum t (s-mU) + wA (mU-mA) + wB (mU-mB).
     */
    private static float row(Scratch sc, int n, int a, int b, float[] t, int o, float wA, float wB, float it, float[] grad) {
        if (n == 0) return 0f;
        boolean hasA = a > 0, hasB = b < n;
        float sa = softmaxPart(sc.s, 0, a, it, sc.ea, n, sc.lanes, 0), sb = softmaxPart(sc.s, b, n, it, sc.eb, n, sc.lanes, 1);
        float ma = sc.lanes[3 * L], mb = sc.lanes[3 * L + 1];
        float mu = !hasA ? mb : !hasB ? ma : Math.max(ma, mb);
        float cross = cross(sc.s, t, o, n, mu, sc.lanes);
        double value = 0;
        if (hasA) value += wA * (Math.log(sa) - (double) (mu - ma) * it);
        if (hasB) value += wB * (Math.log(sb) - (double) (mu - mb) * it);
        gradPass(n, hasA ? wA / sa : 0f, sc.ea, hasB ? wB / sb : 0f, sc.eb, t, o, it, grad);
        return (float) (value - (double) cross * it);
    }

    /**
     * e[j] = exp((x[j] - max) it) for j in [from, to) and 0 for the rest of [0, n); returns the sum
     * of e (0 for an empty range) and stores the range's max at lanes[3L + slot].
     */
    private static float softmaxPart(float[] x, int from, int to, float it, float[] e, int n, float[] lanes, int slot) {
        java.util.Arrays.fill(e, 0, n, 0f);
        if (from >= to) {
            lanes[3 * L + slot] = 0f;
            return 0f;
        }
        float mx = rangeMax(x, from, to);
        lanes[3 * L + slot] = mx;
        int nv = from + F.loopBound(to - from);
        expBody(x, from, nv, mx, it, e, lanes);
        float sum = CeMath.sumLanes(lanes, 0);
        for (int j = nv; j < to; j++) sum += e[j] = CeMath.exp((x[j] - mx) * it);
        return sum;
    }

    private static float rangeMax(float[] x, int from, int to) {
        int nv = from + F.loopBound(to - from);
        FloatVector v = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = from; j < nv; j += L) {
            FloatVector y = FloatVector.fromArray(F, x, j);
            v = v.blend(y, y.compare(GT, v));
        }
        float m = v.reduceLanes(MAX); // max is exact in any order
        for (int j = nv; j < to; j++) if (x[j] > m) m = x[j];
        return m;
    }

    /** Vector part of {@link #softmaxPart}: its lanes of the sum go to lanes[0, L). */
    private static void expBody(float[] x, int from, int nv, float mx, float it, float[] e, float[] lanes) {
        FloatVector vit = FloatVector.broadcast(F, it), vm = FloatVector.broadcast(F, mx), acc = FloatVector.zero(F);
        for (int j = from; j < nv; j += L) {
            FloatVector ev = CeMath.exp(FloatVector.fromArray(F, x, j).sub(vm).mul(vit));
            acc = acc.add(ev);
            ev.intoArray(e, j);
        }
        acc.intoArray(lanes, 0);
    }

    /** sum_j t[o+j] (s[j] - mu) over [0, n): vector lanes in order, then the tail. */
    private static float cross(float[] s, float[] t, int o, int n, float mu, float[] lanes) {
        int nv = F.loopBound(n);
        FloatVector vm = FloatVector.broadcast(F, mu), acc = FloatVector.zero(F);
        for (int j = 0; j < nv; j += L) acc = FloatVector.fromArray(F, t, o + j).fma(FloatVector.fromArray(F, s, j).sub(vm), acc);
        acc.intoArray(lanes, L);
        float c = CeMath.sumLanes(lanes, L);
        for (int j = nv; j < n; j++) c = Math.fma(t[o + j], s[j] - mu, c);
        return c;
    }

    /** grad[o+j] = (ga ea[j] + gb eb[j] - t[o+j]) it. */
    private static void gradPass(int n, float ga, float[] ea, float gb, float[] eb, float[] t, int o, float it, float[] grad) {
        int nv = F.loopBound(n);
        FloatVector va = FloatVector.broadcast(F, ga), vb = FloatVector.broadcast(F, gb), vit = FloatVector.broadcast(F, it);
        for (int j = 0; j < nv; j += L) {
            FloatVector q = FloatVector.fromArray(F, ea, j).mul(va).add(FloatVector.fromArray(F, eb, j).mul(vb));
            q.sub(FloatVector.fromArray(F, t, o + j)).mul(vit).intoArray(grad, o + j);
        }
        for (int j = nv; j < n; j++) grad[o + j] = (ea[j] * ga + eb[j] * gb - t[o + j]) * it;
    }

    /** target[o+j] = ea[j] ca + eb[j] cb. */
    private static void mix(int n, float ca, float[] ea, float cb, float[] eb, float[] target, int o) {
        int nv = F.loopBound(n);
        FloatVector va = FloatVector.broadcast(F, ca), vb = FloatVector.broadcast(F, cb);
        for (int j = 0; j < nv; j += L) {
            FloatVector.fromArray(F, ea, j).mul(va).add(FloatVector.fromArray(F, eb, j).mul(vb)).intoArray(target, o + j);
        }
        for (int j = nv; j < n; j++) target[o + j] = ea[j] * ca + eb[j] * cb;
    }

    /**
     * gu[0, d) = sum_j grad[o+j] I[idx[o+j]] (d &gt;= L: per vector chunk of d, four interleaved
     * accumulators; the partial last chunk overlaps the previous one and keeps only its new lanes).
     */
    static void userGrad(int d, MemorySegment items, long iOff, int ldi, int[] idx, int o, int n, float[] grad,
                         MemorySegment gu, long gr) {
        if (d < L) {
            for (int k = 0; k < d; k++) {
                float acc = 0f;
                for (int j = 0; j < n; j++) acc = Math.fma(grad[o + j], Mem.get(items, iOff + (long) idx[o + j] * ldi + k), acc);
                Mem.set(gu, gr + k, acc);
            }
            return;
        }
        int dv = F.loopBound(d);
        for (int k = 0; k < dv; k += L) chunk(items, iOff + k, ldi, idx, o, n, grad, gu, gr + k, null);
        if (dv != d) chunk(items, iOff + d - L, ldi, idx, o, n, grad, gu, gr + d - L, TAIL[d - dv]);
    }

    private static final VectorMask<Float>[] TAIL = tails();

    @SuppressWarnings("unchecked")
    private static VectorMask<Float>[] tails() {
        VectorMask<Float>[] m = new VectorMask[L];
        for (int rem = 0; rem < L; rem++) m[rem] = VectorMask.fromLong(F, ((1L << rem) - 1) << (L - rem));
        return m;
    }

    private static void chunk(MemorySegment src, long srcOff, int ld, int[] idx, int o, int n, float[] g,
                              MemorySegment dst, long dstOff, VectorMask<Float> keep) {
        long sb = Mem.bytes(srcOff), rowBytes = Mem.bytes(ld), db = Mem.bytes(dstOff);
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int j = o, e = o + n;
        for (; j + 4 <= e; j += 4) {
            a0 = FloatVector.fromMemorySegment(F, src, sb + idx[j] * rowBytes, Mem.ORDER).fma(FloatVector.broadcast(F, g[j]), a0);
            a1 = FloatVector.fromMemorySegment(F, src, sb + idx[j + 1] * rowBytes, Mem.ORDER).fma(FloatVector.broadcast(F, g[j + 1]), a1);
            a2 = FloatVector.fromMemorySegment(F, src, sb + idx[j + 2] * rowBytes, Mem.ORDER).fma(FloatVector.broadcast(F, g[j + 2]), a2);
            a3 = FloatVector.fromMemorySegment(F, src, sb + idx[j + 3] * rowBytes, Mem.ORDER).fma(FloatVector.broadcast(F, g[j + 3]), a3);
        }
        for (; j < e; j++) a0 = FloatVector.fromMemorySegment(F, src, sb + idx[j] * rowBytes, Mem.ORDER).fma(FloatVector.broadcast(F, g[j]), a0);
        FloatVector sum = a0.add(a1).add(a2.add(a3));
        if (keep != null) sum = FloatVector.fromMemorySegment(F, dst, db, Mem.ORDER).blend(sum, keep);
        sum.intoMemorySegment(dst, db, Mem.ORDER);
    }
}
