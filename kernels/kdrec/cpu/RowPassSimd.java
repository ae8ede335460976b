package kdrec.cpu;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;
import static kdrec.cpu.RowPassScalar.check;
import static kdrec.cpu.RowPassScalar.checkClip;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twin of {@link RowPassScalar} (identical signatures and conventions, see there): the
 * per-row passes of the whole-catalogue listwise losses. They replaced scalar double loops (a
 * {@code Math.exp} per item and term, twice more in the backward), which took a Gowalla-sized HetComp
 * epoch (2 threads) from 800 to 218 CPU-seconds; the score GEMMs are most of what remains.
 *
 * <p>{@link #expSum} keeps one float accumulator: the exponential's ~20 vector operations per
 * iteration, not the add's latency, bound the loop, and a second inlined exp would cost C2's
 * inlining budget (see {@link CeMath#exp(FloatVector)}). The accumulator is emptied into a double
 * every {@link #BLOCK} floats (its lanes added in lane order), so each float lane sums at most
 * BLOCK / lanes terms: the float rounding stays near that of the double sum of the scalar twin.
 */
public final class RowPassSimd {
    private RowPassSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Floats per float-accumulated block of {@link #expSum}. */
    static final int BLOCK = 1024;

    public static float max(int n, float[] x, int off) {
        check("RowPass.max", "x", n, x, off);
        FloatVector a0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), a1 = a0;
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            a0 = a0.max(FloatVector.fromArray(F, x, off + i));
            a1 = a1.max(FloatVector.fromArray(F, x, off + i + L));
        }
        if (i + L <= n) {
            a0 = a0.max(FloatVector.fromArray(F, x, off + i));
            i += L;
        }
        a0 = a0.max(a1);
        // Math.max over the lanes, so NaN and signed zeros resolve exactly as in the scalar twin
        float m = Float.NEGATIVE_INFINITY;
        for (int l = 0; l < L; l++) m = Math.max(m, a0.lane(l));
        for (; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    public static void clamp(int n, float[] x, int off, float clip) {
        checkClip("RowPass.clamp", n, x, off, clip);
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, off + i).min(clip).max(-clip).intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] = Math.max(-clip, Math.min(clip, x[off + i]));
    }

    public static double expSum(int n, float[] x, int off, float shift) {
        check("RowPass.expSum", "x", n, x, off);
        double s = 0;
        int i = 0, vectorEnd = F.loopBound(n);
        while (i < vectorEnd) {
            int end = Math.min(vectorEnd, i + BLOCK);
            FloatVector acc = FloatVector.zero(F);
            for (; i < end; i += L) acc = acc.add(CeMath.exp(FloatVector.fromArray(F, x, off + i).sub(shift)));
            for (int l = 0; l < L; l++) s += acc.lane(l);
        }
        for (; i < n; i++) s += CeMath.exp(x[off + i] - shift);
        return s;
    }

    /** VecSimd's blocked dot (float lanes, double between blocks) on the two arrays, on this thread. */
    public static double dot(int n, float[] a, int aOff, float[] b, int bOff) {
        check("RowPass.dot", "a", n, a, aOff);
        check("RowPass.dot", "b", n, b, bOff);
        java.lang.foreign.MemorySegment sa = java.lang.foreign.MemorySegment.ofArray(a), sb = java.lang.foreign.MemorySegment.ofArray(b);
        double s = 0;
        for (int o = 0; o < n; o += BLOCK) s += VecSimd.dotBlock(Math.min(BLOCK, n - o), sa, aOff + o, sb, bOff + o);
        return s;
    }

    public static void expAxpy(int n, float alpha, float[] x, int off, float shift, float[] y, int yOff) {
        check("RowPass.expAxpy", "x", n, x, off);
        check("RowPass.expAxpy", "y", n, y, yOff);
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector e = CeMath.exp(FloatVector.fromArray(F, x, off + i).sub(shift));
            e.fma(FloatVector.broadcast(F, alpha), FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] = Math.fma(alpha, CeMath.exp(x[off + i] - shift), y[yOff + i]);
    }

    public static void zeroOutside(int n, float[] raw, int off, float clip, float[] y, int yOff) {
        checkClip("RowPass.zeroOutside", n, raw, off, clip);
        check("RowPass.zeroOutside", "y", n, y, yOff);
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector r = FloatVector.fromArray(F, raw, off + i);
            VectorMask<Float> outside = r.compare(LT, -clip).or(r.compare(GT, clip));
            FloatVector.fromArray(F, y, yOff + i).blend(0f, outside).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            float v = raw[off + i];
            if (v < -clip || v > clip) y[yOff + i] = 0f;
        }
    }
}
