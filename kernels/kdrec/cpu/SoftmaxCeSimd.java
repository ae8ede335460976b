package kdrec.cpu;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.MAX;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twin of {@link SoftmaxCeScalar}: full-catalogue softmax CE, online (tiled through
 * ScoreTile, no m x n buffer; implementation in SoftmaxCeTiled) or over materialised logits, and
 * sampled softmax. Multi-threaded over rows (di of the online backward: over item tiles); each output
 * is produced by one task in a fixed order, so results are bit-identical for any thread count.
 *
 * <p>exp is {@link CeMath#exp} and lane sums {@link CeMath#sumLanes}, not lanewise(EXP)/reduceLanes(ADD):
 * those give different bits before and after C2 compiles the method (see CeMath). rowsInPlace does
 * one exp per element: the exps overwrite the logits, then one multiply normalises them.
 */
public final class SoftmaxCeSimd {
    private SoftmaxCeSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;

    /** See {@link SoftmaxCeScalar#forward}; streams item tiles through ScoreTile with an online max/sum. */
    public static void forward(int m, int n, int d, MemorySegment u, long uOff, int ldu,
                               MemorySegment items, long iOff, int ldi, float scale, int[] target, float[] loss, float[] lse) {
        SoftmaxCeScalar.checkForward("SoftmaxCe.forward", m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, loss, lse);
        SoftmaxCeTiled.forward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, loss, lse);
    }

    /** See {@link SoftmaxCeScalar#backward}; recomputes the tiles, du by row, di by item tile. */
    public static void backward(int m, int n, int d, MemorySegment u, long uOff, int ldu,
                                MemorySegment items, long iOff, int ldi, float scale, int[] target, float[] lse, float[] gLoss,
                                MemorySegment du, long duOff, int lddu, MemorySegment di, long diOff, int lddi) {
        SoftmaxCeScalar.checkBackward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, lse, gLoss, du, duOff, lddu, di, diOff, lddi);
        SoftmaxCeTiled.backward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, lse, gLoss, du, duOff, lddu, di, diOff, lddi);
    }

    /** See {@link SoftmaxCeScalar#rowsInPlace}. Three passes per row (max, exp+sum, normalise), rows split over threads. */
    public static void rowsInPlace(int m, int n, MemorySegment logits, long off, int ld, int[] target,
                                   float[] gradScale, float[] loss) {
        SoftmaxCeScalar.checkRows(m, n, logits, off, ld, target, gradScale, loss);
        Parallel.forRange(m, 1, Math.max(1, 32768 / Math.max(1, n)), (lo, hi) -> {
            float[] tmp = new float[L];
            for (int r = lo; r < hi; r++) {
                loss[r] = row(logits, off + (long) r * ld, n, target[r], gradScale == null ? 1f : gradScale[r], tmp);
            }
        });
    }

    /** See {@link SoftmaxCeScalar#sampled}. */
    public static void sampled(int m, float[] pos, int[] negPtr, float[] neg, float negScale, float[] rowScale,
                               float[] loss, float[] gPos, float[] gNeg) {
        SoftmaxCeScalar.checkSampled(m, pos, negPtr, neg, negScale, rowScale, loss, gPos, gNeg);
        int avg = m == 0 ? 1 : Math.max(1, (negPtr[m] - negPtr[0]) / m);
        Parallel.forRange(m, 1, Math.max(1, 32768 / avg), (lo, hi) -> {
            float[] tmp = new float[L];
            for (int r = lo; r < hi; r++) {
                float rs = rowScale == null ? 1f : rowScale[r];
                loss[r] = sampledRow(pos[r], neg, negPtr[r], negPtr[r + 1] - negPtr[r], negScale, rs, gNeg, gPos, r, tmp);
            }
        });
    }

    /**
     * One materialised row at element offset o: returns the loss, leaves the scaled gradient in place.
     * The vector passes are separate small methods, one exp call site each, so C2 inlines all of
     * CeMath.exp (see CeMath.sumLanes); tmp holds L floats for the lane sum.
     */
    static float row(MemorySegment z, long o, int n, int t, float gs, float[] tmp) {
        long ob = Mem.bytes(o);
        int nv = F.loopBound(n);
        float mx = rowMax(z, ob, nv);
        for (int j = nv; j < n; j++) {
            float v = Mem.get(z, o + j);
            if (v > mx) mx = v;
        }
        float zt = Mem.get(z, o + t);
        rowExp(z, ob, nv, mx, tmp);
        float sum = CeMath.sumLanes(tmp, 0);
        for (int j = nv; j < n; j++) {
            float e = CeMath.exp(Mem.get(z, o + j) - mx);
            Mem.set(z, o + j, e);
            sum += e;
        }
        float a = gs / sum;
        rowScale(z, ob, nv, a);
        for (int j = nv; j < n; j++) Mem.set(z, o + j, Mem.get(z, o + j) * a);
        Mem.set(z, o + t, Mem.get(z, o + t) - gs);
        return (float) ((double) mx + Math.log(sum) - zt);
    }

    /** Max over the first nv (a multiple of L) elements: four compare+blend chains (~4 cycles latency each). */
    private static float rowMax(MemorySegment z, long ob, int nv) {
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
        int j = 0;
        for (; j + 4 * L <= nv; j += 4 * L) {
            FloatVector x0 = load(z, ob, j), x1 = load(z, ob, j + L), x2 = load(z, ob, j + 2 * L), x3 = load(z, ob, j + 3 * L);
            m0 = m0.blend(x0, x0.compare(GT, m0));
            m1 = m1.blend(x1, x1.compare(GT, m1));
            m2 = m2.blend(x2, x2.compare(GT, m2));
            m3 = m3.blend(x3, x3.compare(GT, m3));
        }
        for (; j < nv; j += L) {
            FloatVector x0 = load(z, ob, j);
            m0 = m0.blend(x0, x0.compare(GT, m0));
        }
        m0 = m0.blend(m1, m1.compare(GT, m0));
        m2 = m2.blend(m3, m3.compare(GT, m2));
        m0 = m0.blend(m2, m2.compare(GT, m0));
        return m0.reduceLanes(MAX); // exact in any order
    }

    /** z = exp(z - mx) in place over the first nv elements; the lanes of their sum go to tmp. */
    private static void rowExp(MemorySegment z, long ob, int nv, float mx, float[] tmp) {
        FloatVector bm = FloatVector.broadcast(F, mx), s0 = FloatVector.zero(F);
        for (int j = 0; j < nv; j += L) {
            FloatVector e = CeMath.exp(load(z, ob, j).sub(bm));
            e.intoMemorySegment(z, ob + Mem.bytes(j), Mem.ORDER);
            s0 = s0.add(e);
        }
        s0.intoArray(tmp, 0);
    }

    private static void rowScale(MemorySegment z, long ob, int nv, float a) {
        FloatVector va = FloatVector.broadcast(F, a);
        for (int j = 0; j < nv; j += L) load(z, ob, j).mul(va).intoMemorySegment(z, ob + Mem.bytes(j), Mem.ORDER);
    }

    private static FloatVector load(MemorySegment z, long ob, int j) {
        return FloatVector.fromMemorySegment(F, z, ob + Mem.bytes(j), Mem.ORDER);
    }

    /** One sampled-softmax row: negatives neg[o, o+n); writes gNeg[o, o+n) and gPos[r], returns the loss. */
    static float sampledRow(float p, float[] neg, int o, int n, float negScale, float rs, float[] gNeg, float[] gPos, int r, float[] tmp) {
        int nv = F.loopBound(n);
        float mx = negMax(p, neg, o, nv);
        for (int j = nv; j < n; j++) if (neg[o + j] > mx) mx = neg[o + j];
        negExp(neg, o, nv, mx, gNeg, tmp);
        float sn = CeMath.sumLanes(tmp, 0);
        for (int j = nv; j < n; j++) {
            float e = CeMath.exp(neg[o + j] - mx);
            gNeg[o + j] = e;
            sn += e;
        }
        float ep = CeMath.exp(p - mx), zsum = ep + negScale * sn;
        float a = rs * negScale / zsum;
        FloatVector va = FloatVector.broadcast(F, a);
        for (int j = 0; j < nv; j += L) FloatVector.fromArray(F, gNeg, o + j).mul(va).intoArray(gNeg, o + j);
        for (int j = nv; j < n; j++) gNeg[o + j] *= a;
        gPos[r] = rs * (ep / zsum - 1f);
        return (float) ((double) mx + Math.log(zsum) - p);
    }

    private static float negMax(float p, float[] neg, int o, int nv) {
        FloatVector vm = FloatVector.broadcast(F, p);
        for (int j = 0; j < nv; j += L) {
            FloatVector x = FloatVector.fromArray(F, neg, o + j);
            vm = vm.blend(x, x.compare(GT, vm));
        }
        return vm.reduceLanes(MAX);
    }

    private static void negExp(float[] neg, int o, int nv, float mx, float[] gNeg, float[] tmp) {
        FloatVector bm = FloatVector.broadcast(F, mx), s = FloatVector.zero(F);
        for (int j = 0; j < nv; j += L) {
            FloatVector e = CeMath.exp(FloatVector.fromArray(F, neg, o + j).sub(bm));
            e.intoArray(gNeg, o + j);
            s = s.add(e);
        }
        s.intoArray(tmp, 0);
    }
}
