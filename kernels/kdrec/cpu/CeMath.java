package kdrec.cpu;

import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp and horizontal sum for the cross-entropy kernels, with bits that do not depend on the JIT tier.
 *
 * <p>Why not {@code reduceLanes(ADD)}: the interpreter adds the lanes in order while C2 emits a tree
 * (checked on JDK 25: different bits for the same vector), so a reduction's result depends on whether
 * its method was compiled yet. {@link #hsum} fixes the tree explicitly with rearranges.
 *
 * <p>Why not {@code lanewise(EXP)}: C2 compiles it to the SVML stub but the interpreter and C1 fall
 * back to {@code Math.exp} per lane, and the two differ in the last ulp. A softmax row computed
 * before and after its method got hot then differs (seen in SubsetCeTest), which breaks the kernels'
 * bit-for-bit determinism. This version uses only IEEE add/mul/fma and integer bit operations, so
 * every JIT tier, every vector width and the scalar tail give identical bits, on any CPU.
 *
 * <p>Algorithm: Cephes expf (about 1 ulp). n = round(x log2 e) by the 1.5*2^23 "magic" addition,
 * whose low mantissa bits then hold n; r = x - n ln2 in two parts (Cody-Waite); degree-5 polynomial;
 * scale by 2^n built directly in the exponent field. Valid for x <= 88 (the kernels only call it on
 * max-subtracted, i.e. non-positive, arguments); x below -87.33 (incl. -Inf) gives 0, NaN gives NaN.
 * {@link #expFull} extends it to every x (+Inf above ln(FLT_MAX)), and
 * {@link #log1pUnit} gives log(1 + u) on [0, 1] the same way, for the activations (sigmoid, SiLU,
 * log-sigmoid) that must not change bits when their method gets compiled either.
 */
final class CeMath {
    private CeMath() {}

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: x + MAGIC rounds x to an integer held in the low mantissa bits. */
    private static final float MAGIC = 12582912f;
    private static final int MAGIC_BITS = Float.floatToRawIntBits(MAGIC);
    /** exp(x) < 2^-126 (smallest normal) below this: flushed to 0. */
    private static final float UNDERFLOW = -87.33654f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /** Above this, round(x log2 e) = 128 and 2^n is no longer a float; above MAXLOG e^x is. */
    private static final float OVERFLOW = 88.37626f, MAXLOG = 88.72284f;
    private static final float SQRT2 = 1.41421356f;
    /** Cephes logf: log(1 + f) = f - f^2/2 + f^3 Q(f) for f in [sqrt(1/2) - 1, sqrt(2) - 1]. */
    private static final float Q0 = 7.0376836292e-2f, Q1 = -1.1514610310e-1f, Q2 = 1.1676998740e-1f, Q3 = -1.2420140846e-1f,
            Q4 = 1.4249322787e-1f, Q5 = -1.6668057665e-1f, Q6 = 2.0000714765e-1f, Q7 = -2.4999993993e-1f, Q8 = 3.3333331174e-1f;

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Lane i takes lane (i + s) mod L: the rotations of the fixed reduction tree. */
    private static final VectorShuffle<Float> R8 = rot(8), R4 = rot(4), R2 = rot(2), R1 = rot(1);

    private static VectorShuffle<Float> rot(int s) {
        return VectorShuffle.fromOp(F, i -> (i + s) % L);
    }

    /**
     * Sum of the lanes in a fixed order (halving tree: rotate by L/2, add; ... ; rotate by 1, add),
     * identical in every JIT tier. Costs about what C2's own reduction does (log2 L shuffles + adds).
     */
    static float hsum(FloatVector v) {
        if (L >= 16) v = v.add(v.rearrange(R8));
        if (L >= 8) v = v.add(v.rearrange(R4));
        if (L >= 4) v = v.add(v.rearrange(R2));
        v = v.add(v.rearrange(R1));
        return v.lane(0);
    }

    /**
     * Sum of the L lanes stored at a[o, o+L), in lane order: the scalar way to finish a reduction in
     * a method that already inlines {@link #exp(FloatVector)}. Such a method is near C2's inlining
     * node budget, and a vector passed to a call that is not inlined gets boxed (measured 5x slower).
     */
    static float sumLanes(float[] a, int o) {
        float s = a[o];
        for (int l = 1; l < L; l++) s += a[o + l];
        return s;
    }

    /**
     * e^x lanewise; see the class comment for range and accuracy. Inlines to ~20 vector ops: keep
     * one call site per method where possible (C2's inlining node budget, see {@link #sumLanes}).
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> under = x.compare(LT, UNDERFLOW);
        FloatVector k = x.fma(LOG2E, MAGIC);
        FloatVector n = k.sub(MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector z = r.mul(r);
        FloatVector y = r.fma(P0, P1);
        y = y.fma(r, FloatVector.broadcast(F, P2));
        y = y.fma(r, FloatVector.broadcast(F, P3));
        y = y.fma(r, FloatVector.broadcast(F, P4));
        y = y.fma(r, FloatVector.broadcast(F, P5));
        y = y.fma(z, r).add(1f);
        FloatVector pow2 = ((IntVector) k.reinterpretAsInts()).add(127 - MAGIC_BITS).lanewise(LSHL, 23).reinterpretAsFloats();
        return y.mul(pow2).blend(0f, under);
    }

    /** The scalar twin of {@link #exp(FloatVector)}: the same operations in the same order. */
    static float exp(float x) {
        if (x < UNDERFLOW) return 0f;
        float k = Math.fma(x, LOG2E, MAGIC);
        float n = k - MAGIC;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float z = r * r;
        float y = Math.fma(r, P0, P1);
        y = Math.fma(y, r, P2);
        y = Math.fma(y, r, P3);
        y = Math.fma(y, r, P4);
        y = Math.fma(y, r, P5);
        y = Math.fma(y, z, r) + 1f;
        return y * Float.intBitsToFloat((Float.floatToRawIntBits(k) + 127 - MAGIC_BITS) << 23);
    }

    /**
     * e^x for every float x, NaN stays NaN. Above {@link #OVERFLOW} (where 2^n would leave the float
     * range) it is 2 e^(x - ln 2): x - LN2_HI is exact there but subtracting LN2_LO rounds, so these
     * last 0.35 of the range are good to ~4e-6 relative rather than 1 ulp; above ln(FLT_MAX), +Inf.
     */
    static FloatVector expFull(FloatVector x) {
        VectorMask<Float> high = x.compare(GT, OVERFLOW);
        FloatVector shifted = x.blend(x.sub(LN2_HI).sub(LN2_LO), high);
        return exp(shifted).mul(FloatVector.broadcast(F, 1f).blend(2f, high)).blend(Float.POSITIVE_INFINITY, x.compare(GT, MAXLOG));
    }

    /** The scalar twin of {@link #expFull(FloatVector)}. */
    static float expFull(float x) {
        if (x > MAXLOG) return Float.POSITIVE_INFINITY;
        return x > OVERFLOW ? exp(x - LN2_HI - LN2_LO) * 2f : exp(x);
    }

    /**
     * log(1 + u) for u in [0, 1] (what log-sigmoid needs: u = e^-|x|), about 1 ulp: w = 1 + u is
     * rounded, so the result is log(w) plus the rounding error's first-order term (u - (w - 1)) / w
     * (w - 1 is exact by Sterbenz), which keeps tiny u accurate (log1p(u) = u when w rounds to 1).
     * log(w), w in [1, 2]: Cephes logf with frexp done by hand, w = 2^e m, e = 1 when w >= sqrt 2.
     */
    static FloatVector log1pUnit(FloatVector u) {
        FloatVector w = u.add(1f);
        VectorMask<Float> high = w.compare(GE, SQRT2);
        FloatVector f = w.mul(FloatVector.broadcast(F, 1f).blend(0.5f, high)).sub(1f);
        FloatVector e = FloatVector.zero(F).blend(1f, high);
        FloatVector z = f.mul(f);
        FloatVector q = f.fma(Q0, Q1);
        q = q.fma(f, FloatVector.broadcast(F, Q2));
        q = q.fma(f, FloatVector.broadcast(F, Q3));
        q = q.fma(f, FloatVector.broadcast(F, Q4));
        q = q.fma(f, FloatVector.broadcast(F, Q5));
        q = q.fma(f, FloatVector.broadcast(F, Q6));
        q = q.fma(f, FloatVector.broadcast(F, Q7));
        q = q.fma(f, FloatVector.broadcast(F, Q8));
        FloatVector y = q.mul(f).mul(z);
        y = e.fma(FloatVector.broadcast(F, LN2_LO), y);
        y = z.fma(FloatVector.broadcast(F, -0.5f), y);
        FloatVector logW = e.fma(FloatVector.broadcast(F, LN2_HI), f.add(y));
        return u.sub(w.sub(1f)).div(w).add(logW);
    }

    /** The scalar twin of {@link #log1pUnit(FloatVector)}: the same operations in the same order. */
    static float log1pUnit(float u) {
        float w = u + 1f;
        boolean high = w >= SQRT2;
        float f = w * (high ? 0.5f : 1f) - 1f;
        float e = high ? 1f : 0f;
        float z = f * f;
        float q = Math.fma(f, Q0, Q1);
        q = Math.fma(q, f, Q2);
        q = Math.fma(q, f, Q3);
        q = Math.fma(q, f, Q4);
        q = Math.fma(q, f, Q5);
        q = Math.fma(q, f, Q6);
        q = Math.fma(q, f, Q7);
        q = Math.fma(q, f, Q8);
        float y = q * f * z;
        y = Math.fma(e, LN2_LO, y);
        y = Math.fma(z, -0.5f, y);
        float logW = Math.fma(e, LN2_HI, f + y);
        return (u - (w - 1f)) / w + logW;
    }
}
