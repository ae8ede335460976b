package kdrec.cpu;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.MAX;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twin of {@link SubsetCeScalar}: soft-target CE on ragged per-row item subsets (RCE-KD),
 * its gather-dot and the gather-dot backward. Multi-threaded over rows (forward, du) and over item
 * ids (di); every output is produced by one task in a fixed order, so results are bit-identical for
 * any thread count.
 *
 * <p>Dots use the "over4" layout of vector-api-calibration.md 3.1: four gathered item rows in flight
 * per pass, one horizontal sum per item (CeMath.hsum, fixed order). The calibration's tail trick (read whole vectors past d into
 * the next item row, multiplied by zeros) reads past the end of the table for its last row and turns
 * a non-finite neighbour into NaN, so it is not used. Instead the tail is one <em>overlapping</em>
 * vector ending exactly at d, multiplied by a copy of the user row whose lanes already counted are
 * zero: every load stays inside the item row and there is no scalar tail (d >= LANES; smaller d runs
 * scalar dots). Consequence: a non-finite value in the first d - d%LANES.. lanes of the tail window
 * would meet a 0 (NaN instead of +-Inf); the row's dot is non-finite in either case.
 *
 * <p>The softmax part is vectorised with {@link CeMath#exp} (a polynomial exp whose bits do not depend
 * on the JIT tier, unlike lanewise(EXP); see CeMath): two exps per entry (teacher and student), max
 * via compare(GT)+blend (not max(), calibration 4.4).
 */
public final class SubsetCeSimd {
    private SubsetCeSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;

    /** Per-thread scratch, grown on demand and reused across calls (these kernels run every step). */
    private static final class Scratch {
        float[] ub = new float[0], s = new float[0], et = new float[0];

        float[] ub(int n) { return ub.length >= n ? ub : (ub = new float[n]); }
        float[] s(int n) { return s.length >= n ? s : (s = new float[n]); }
        float[] et(int n) { return et.length >= n ? et : (et = new float[n]); }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Rows per task so that a task carries at least ~200k multiply-adds (else threads cost more than they save). */
    private static int minRows(int m, int nnz, int d) {
        long perRow = Math.max(1L, (long) nnz / Math.max(1, m) * (d + 24L));
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, 200_000L / perRow));
    }

    /** out[j] = &lt;U[r], I[idx[j]]&gt; for every entry j of row r. */
    public static void gatherDot(int m, int d, MemorySegment u, long uOff, int ldu,
                                 MemorySegment items, long iOff, int ldi, int[] ptr, int[] idx, float[] out) {
        int nnz = CeArgs.gather("SubsetCe.gatherDot", m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx);
        CeArgs.length("SubsetCe.gatherDot", "out", out, nnz);
        Parallel.forRange(m, 1, minRows(m, nnz - ptr[0], d), (lo, hi) -> {
            float[] ub = SCRATCH.get().ub(d + L);
            for (int r = lo; r < hi; r++) {
                loadUser(d, u, uOff + (long) r * ldu, ub);
                dots(d, ub, items, iOff, ldi, idx, ptr[r], ptr[r + 1], out, 0);
            }
        });
    }

    /**
     * Backward of gatherDot: du[r] += sum_j g[j] * I[idx[j]] ; di[idx[j]] += g[j] * U[r]. du or di may
     * be null. du is partitioned by rows; di goes through {@link RowScatter} (bucketed by item range),
     * so each di row accumulates in entry order whatever the thread count.
     */
    public static void gatherDotBackward(int m, int d, MemorySegment u, long uOff, int ldu,
                                         MemorySegment items, long iOff, int ldi, int[] ptr, int[] idx, float[] g,
                                         MemorySegment du, long duOff, int lddu, MemorySegment di, long diOff, int lddi) {
        int nItems = SubsetCeScalar.checkBackward(m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx, g,
                du, duOff, lddu, di, diOff, lddi);
        if (nItems < 0) return;
        int nnz = ptr[m] - ptr[0];
        if (du != null) {
            Parallel.forRange(m, 1, minRows(m, nnz, d), (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    if (ptr[r] == ptr[r + 1]) continue;
                    RowAccumulate.add(d, items, iOff, ldi, idx, g, ptr[r], ptr[r + 1], du, duOff + (long) r * lddu);
                }
            });
        }
        if (di != null) RowScatter.apply(m, d, u, uOff, ldu, ptr, idx, g, nItems, di, diOff, lddi);
    }

    /**
     * Fused soft-target CE on each row's set A_r (see {@link SubsetCeScalar#softCe}): dots, both
     * softmaxes, loss and scaled gradient in one pass per row; student logits also written to
     * studentLogits when non-null.
     */
    public static void softCe(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi,
                              int[] ptr, int[] idx, float[] teacherLogits, float tau, float[] rowScale,
                              float[] loss, float[] gradLogits, float[] studentLogits) {
        String k = "SubsetCe.softCe";
        int nnz = CeArgs.gather(k, m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx);
        SubsetCeScalar.checkCe(k, m, nnz, teacherLogits, tau, rowScale, loss, gradLogits);
        if (studentLogits != null) CeArgs.length(k, "studentLogits", studentLogits, nnz);
        int maxRow = CeArgs.maxRow(m, ptr);
        Parallel.forRange(m, 1, minRows(m, nnz - ptr[0], d), (lo, hi) -> {
            Scratch sc = SCRATCH.get();
            float[] ub = sc.ub(d + L), et = sc.et(maxRow + 3 * L);
            float[] s = studentLogits != null ? studentLogits : sc.s(maxRow);
            for (int r = lo; r < hi; r++) {
                int o = ptr[r], n = ptr[r + 1] - o;
                int so = studentLogits != null ? o : 0;
                loadUser(d, u, uOff + (long) r * ldu, ub);
                dots(d, ub, items, iOff, ldi, idx, o, o + n, s, so - o);
                loss[r] = row(s, so, teacherLogits, o, n, tau, rowScale == null ? 1f : rowScale[r], gradLogits, o, et);
            }
        });
    }

    /** Same as {@link #softCe} from given student logits (no dots). */
    public static void softCeLogits(int m, int[] ptr, float[] studentLogits, float[] teacherLogits, float tau,
                                    float[] rowScale, float[] loss, float[] gradLogits) {
        String k = "SubsetCe.softCeLogits";
        int nnz = CeArgs.csr(k, m, ptr, Integer.MAX_VALUE);
        CeArgs.length(k, "studentLogits", studentLogits, nnz);
        SubsetCeScalar.checkCe(k, m, nnz, teacherLogits, tau, rowScale, loss, gradLogits);
        int maxRow = CeArgs.maxRow(m, ptr);
        Parallel.forRange(m, 1, minRows(m, nnz - ptr[0], 0), (lo, hi) -> {
            float[] et = SCRATCH.get().et(maxRow + 3 * L);
            for (int r = lo; r < hi; r++) {
                int o = ptr[r];
                loss[r] = row(studentLogits, o, teacherLogits, o, ptr[r + 1] - o, tau,
                        rowScale == null ? 1f : rowScale[r], gradLogits, o, et);
            }
        });
    }

    /**
     * Copies user row u[ur..ur+d) into ub for {@link #dots}: ub[0, dv) holds its whole vectors
     * (dv = loopBound(d)); when d has a remainder, ub[dv, dv+L) holds the overlapping tail vector
     * u[d-L, d) with the lanes below dv zeroed (they are counted by the main loop). For d < L, ub[0, d)
     * is the plain row.
     */
    static void loadUser(int d, MemorySegment u, long ur, float[] ub) {
        int dv = F.loopBound(d), rem = d - dv;
        if (d < L || rem == 0) {
            Mem.copyOut(u, ur, ub, 0, d);
            return;
        }
        Mem.copyOut(u, ur, ub, 0, dv);
        for (int l = 0; l < L; l++) ub[dv + l] = l < L - rem ? 0f : Mem.get(u, ur + d - L + l);
    }

    /**
     * out[j + shift] = &lt;ub, I[idx[j]]&gt; for j in [from, to), four item rows per pass. The passes
     * are separate small methods on purpose: in one big method C2 hits its inlining node budget and
     * leaves CeMath.hsum out of line, which boxes the vector argument on every call (5x slower).
     */
    static void dots(int d, float[] ub, MemorySegment items, long iOff, int ldi, int[] idx, int from, int to,
                     float[] out, int shift) {
        if (d < L) {
            for (int j = from; j < to; j++) out[j + shift] = dotShort(d, ub, items, iOff + (long) idx[j] * ldi);
            return;
        }
        int j = from;
        for (; j + 4 <= to; j += 4) {
            dot4(d, ub, items, Mem.bytes(iOff + (long) idx[j] * ldi), Mem.bytes(iOff + (long) idx[j + 1] * ldi),
                    Mem.bytes(iOff + (long) idx[j + 2] * ldi), Mem.bytes(iOff + (long) idx[j + 3] * ldi), out, j + shift);
        }
        for (; j < to; j++) out[j + shift] = dot1(d, ub, items, Mem.bytes(iOff + (long) idx[j] * ldi));
    }

    /** Four dots against item rows at byte offsets b0..b3 (d >= L), into out[o..o+4). */
    private static void dot4(int d, float[] ub, MemorySegment items, long b0, long b1, long b2, long b3, float[] out, int o) {
        int dv = F.loopBound(d);
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < dv; k += L) {
            FloatVector x = FloatVector.fromArray(F, ub, k);
            long kb = Mem.bytes(k);
            a0 = FloatVector.fromMemorySegment(F, items, b0 + kb, Mem.ORDER).fma(x, a0);
            a1 = FloatVector.fromMemorySegment(F, items, b1 + kb, Mem.ORDER).fma(x, a1);
            a2 = FloatVector.fromMemorySegment(F, items, b2 + kb, Mem.ORDER).fma(x, a2);
            a3 = FloatVector.fromMemorySegment(F, items, b3 + kb, Mem.ORDER).fma(x, a3);
        }
        if (dv != d) {
            FloatVector x = FloatVector.fromArray(F, ub, dv);
            long tb = Mem.bytes(d - L);
            a0 = FloatVector.fromMemorySegment(F, items, b0 + tb, Mem.ORDER).fma(x, a0);
            a1 = FloatVector.fromMemorySegment(F, items, b1 + tb, Mem.ORDER).fma(x, a1);
            a2 = FloatVector.fromMemorySegment(F, items, b2 + tb, Mem.ORDER).fma(x, a2);
            a3 = FloatVector.fromMemorySegment(F, items, b3 + tb, Mem.ORDER).fma(x, a3);
        }
        out[o] = CeMath.hsum(a0);
        out[o + 1] = CeMath.hsum(a1);
        out[o + 2] = CeMath.hsum(a2);
        out[o + 3] = CeMath.hsum(a3);
    }

    /** One dot against the item row at byte offset b0 (d >= L). */
    private static float dot1(int d, float[] ub, MemorySegment items, long b0) {
        int dv = F.loopBound(d);
        FloatVector a0 = FloatVector.zero(F);
        for (int k = 0; k < dv; k += L) {
            a0 = FloatVector.fromMemorySegment(F, items, b0 + Mem.bytes(k), Mem.ORDER).fma(FloatVector.fromArray(F, ub, k), a0);
        }
        if (dv != d) a0 = FloatVector.fromMemorySegment(F, items, b0 + Mem.bytes(d - L), Mem.ORDER).fma(FloatVector.fromArray(F, ub, dv), a0);
        return CeMath.hsum(a0);
    }

    private static float dotShort(int d, float[] ub, MemorySegment items, long io) {
        float acc = 0f;
        for (int k = 0; k < d; k++) acc = Math.fma(ub[k], Mem.get(items, io + k), acc);
        return acc;
    }

    /**
     * One row's soft CE: s[so..so+n) student, t[to..to+n) teacher logits; writes grad[go..go+n) and
     * returns the loss. loss = log S_s - sum_j p_j z_j with z_j = (s_j - max s)/tau, which needs one
     * exp per logit of each side; the teacher exps wait in et between the passes. et needs n + 3 L
     * floats (the pass-2 accumulators are stored at et[n..)). Vector passes are small separate methods
     * so that C2 inlines CeMath.exp into each without running out of node budget (see CeMath.sumLanes).
     */
    static float row(float[] s, int so, float[] t, int to, int n, float tau, float scale, float[] grad, int go, float[] et) {
        if (n == 0) return 0f;
        float ms = rowMax(s, so, n), mt = rowMax(t, to, n);
        float it = 1f / tau;
        int nv = F.loopBound(n);
        rowExp(s, so, t, to, nv, n, ms, mt, it, grad, go, et);
        float sumS = CeMath.sumLanes(et, n), sumT = CeMath.sumLanes(et, n + L), cross = CeMath.sumLanes(et, n + 2 * L);
        for (int j = nv; j < n; j++) {
            float zs = (s[so + j] - ms) * it, es = CeMath.exp(zs);
            float ev = CeMath.exp((t[to + j] - mt) * it);
            sumS += es;
            sumT += ev;
            cross = Math.fma(ev, zs, cross);
            grad[go + j] = es;
            et[j] = ev;
        }
        rowGrad(n, scale / (sumS * tau), scale / (sumT * tau), grad, go, et);
        return (float) (Math.log(sumS) - (double) cross / sumT);
    }

    /** max of x[o, o+n) by compare+blend (NaN ignored). */
    private static float rowMax(float[] x, int o, int n) {
        int nv = F.loopBound(n);
        FloatVector v = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < nv; j += L) {
            FloatVector y = FloatVector.fromArray(F, x, o + j);
            v = v.blend(y, y.compare(GT, v));
        }
        float m = v.reduceLanes(MAX); // max is exact in any order
        for (int j = nv; j < n; j++) if (x[o + j] > m) m = x[o + j];
        return m;
    }

    /**
     * Vector part j < nv: grad[go+j] = exp(zs_j), et[j] = exp(zt_j); the lanes of sum exp zs,
     * sum exp zt and sum exp(zt) zs go to et[n, n+3L).
     */
    private static void rowExp(float[] s, int so, float[] t, int to, int nv, int n, float ms, float mt, float it,
                               float[] grad, int go, float[] et) {
        FloatVector vit = FloatVector.broadcast(F, it), bs = FloatVector.broadcast(F, ms), bt = FloatVector.broadcast(F, mt);
        FloatVector ss = FloatVector.zero(F), st = ss, cr = ss;
        for (int j = 0; j < nv; j += L) {
            FloatVector zs = FloatVector.fromArray(F, s, so + j).sub(bs).mul(vit);
            FloatVector es = CeMath.exp(zs);
            FloatVector ev = CeMath.exp(FloatVector.fromArray(F, t, to + j).sub(bt).mul(vit));
            ss = ss.add(es);
            st = st.add(ev);
            cr = ev.fma(zs, cr);
            es.intoArray(grad, go + j);
            ev.intoArray(et, j);
        }
        ss.intoArray(et, n);
        st.intoArray(et, n + L);
        cr.intoArray(et, n + 2 * L);
    }

    /** grad = grad * a - et * b (mul-sub, not fma: identical teacher and student give exactly zero). */
    private static void rowGrad(int n, float a, float b, float[] grad, int go, float[] et) {
        int nv = F.loopBound(n);
        FloatVector va = FloatVector.broadcast(F, a), vb = FloatVector.broadcast(F, b);
        for (int j = 0; j < nv; j += L) {
            FloatVector.fromArray(F, grad, go + j).mul(va).sub(FloatVector.fromArray(F, et, j).mul(vb)).intoArray(grad, go + j);
        }
        for (int j = nv; j < n; j++) grad[go + j] = grad[go + j] * a - et[j] * b;
    }
}
