package kdrec.cpu;

import static kdrec.cpu.ActivationScalar.check2;
import static kdrec.cpu.ActivationScalar.check3;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pointwise activations (sigmoid, logSigmoid, relu, silu) and their backward passes on the Vector
 * API; {@link ActivationScalar} is the oracle (identical signatures and conventions, see there).
 * Backward accumulates into gx. y may be the same range as x (in-place).
 *
 * <p>Accuracy: exp and log1p are {@link CeMath#expFull} and {@link CeMath#log1pUnit} (Cephes
 * polynomials, about 1 ulp), then a couple of float roundings (add, div, fma). The tests compare
 * with the double-evaluated scalar oracle at 1e-6 (~8 ulps) relative, for backward relative to
 * |gx| + |gy|, plus 1e-37 absolute for outputs that underflow (e.g. sigmoid(-100) is 0 here, 3.7e-44
 * exactly). relu and reluBackward match the scalar twin bit for bit.
 *
 * <p>Determinism: each output depends only on its own inputs, so results do not depend on the thread
 * count; and no lanewise(EXP/LOG1P) is used, because C2's SVML stubs and the interpreter's Math
 * fallback differ in the last ulp: a model's outputs changed bits once its activations got compiled
 * (seen as a flaky HSTU checkpoint round trip). The scalar tails use the CeMath twins too.
 *
 * <p>Numerics: silu' uses 1 - s = e*s (e = exp(-x)) for x &gt;= 0, where 1 - s would cancel, and
 * 1 - s for x &lt; 0, where e may be +Inf (e*s would be Inf*0 = NaN).
 */
public final class ActivationSimd {
    private ActivationSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Below this many elements the kernels stay on the calling thread (exp-bound, ~1 ns/element). */
    static final long PAR = 1 << 15;

    public static void sigmoid(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        check2("ActivationSimd.sigmoid", n, "x", x, xOff, "y", y, yOff);
        ElemChunks.run(n, ElemChunks.gate(PAR, x, y), (s, len) -> sigmoidK(len, x, xOff + s, y, yOff + s));
    }

    public static void sigmoidBackward(long n, MemorySegment y, long yOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff) {
        check3("ActivationSimd.sigmoidBackward", n, "y", y, yOff, gy, gyOff, gx, gxOff);
        ElemChunks.run(n, ElemChunks.gate(VecSimd.PAR_ELEMENTWISE, y, gy, gx), (s, len) -> sigmoidBackK(len, y, yOff + s, gy, gyOff + s, gx, gxOff + s));
    }

    public static void logSigmoid(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        check2("ActivationSimd.logSigmoid", n, "x", x, xOff, "y", y, yOff);
        ElemChunks.run(n, ElemChunks.gate(PAR, x, y), (s, len) -> logSigmoidK(len, x, xOff + s, y, yOff + s));
    }

    public static void logSigmoidBackward(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff) {
        check3("ActivationSimd.logSigmoidBackward", n, "x", x, xOff, gy, gyOff, gx, gxOff);
        ElemChunks.run(n, ElemChunks.gate(PAR, x, gy, gx), (s, len) -> logSigmoidBackK(len, x, xOff + s, gy, gyOff + s, gx, gxOff + s));
    }

    public static void relu(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        check2("ActivationSimd.relu", n, "x", x, xOff, "y", y, yOff);
        ElemChunks.run(n, ElemChunks.gate(VecSimd.PAR_ELEMENTWISE, x, y), (s, len) -> reluK(len, x, xOff + s, y, yOff + s));
    }

    public static void reluBackward(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff) {
        check3("ActivationSimd.reluBackward", n, "x", x, xOff, gy, gyOff, gx, gxOff);
        ElemChunks.run(n, ElemChunks.gate(VecSimd.PAR_ELEMENTWISE, x, gy, gx), (s, len) -> reluBackK(len, x, xOff + s, gy, gyOff + s, gx, gxOff + s));
    }

    public static void silu(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        check2("ActivationSimd.silu", n, "x", x, xOff, "y", y, yOff);
        ElemChunks.run(n, ElemChunks.gate(PAR, x, y), (s, len) -> siluK(len, x, xOff + s, y, yOff + s));
    }

    public static void siluBackward(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff) {
        check3("ActivationSimd.siluBackward", n, "x", x, xOff, gy, gyOff, gx, gxOff);
        ElemChunks.run(n, ElemChunks.gate(PAR, x, gy, gx), (s, len) -> siluBackK(len, x, xOff + s, gy, gyOff + s, gx, gxOff + s));
    }

    // ---- vector kernels; scalar tails evaluate the same float formulas as the lanes -------------
    // Loads and stores are the Vector API's own calls, not helpers of ours: C2 stops inlining plain
    // methods once a compile reaches its node cutoff (NodeCountInliningCutoff), and the inlined exp/log
    // polynomials get close to it; a helper left out of line then boxes every vector it takes or
    // returns (siluBackK allocated ~290 bytes a vector and ran 4x slower, JMH -prof gc). The JDK's
    // calls are @ForceInline and are inlined past the cutoff.

    static void sigmoidK(int len, MemorySegment x, long xo, MemorySegment y, long yo) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) one.div(one.add(CeMath.expFull(FloatVector.fromMemorySegment(F, x, Mem.bytes(xo + i), Mem.ORDER).neg()))).intoMemorySegment(y, Mem.bytes(yo + i), Mem.ORDER);
        for (; i < len; i++) Mem.set(y, yo + i, 1f / (1f + CeMath.expFull(-Mem.get(x, xo + i))));
    }

    static void sigmoidBackK(int len, MemorySegment y, long yo, MemorySegment gy, long go, MemorySegment gx, long xo) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) {
            FloatVector s = FloatVector.fromMemorySegment(F, y, Mem.bytes(yo + i), Mem.ORDER);
            FloatVector.fromMemorySegment(F, gy, Mem.bytes(go + i), Mem.ORDER).fma(s.mul(one.sub(s)), FloatVector.fromMemorySegment(F, gx, Mem.bytes(xo + i), Mem.ORDER)).intoMemorySegment(gx, Mem.bytes(xo + i), Mem.ORDER);
        }
        for (; i < len; i++) {
            float s = Mem.get(y, yo + i);
            Mem.set(gx, xo + i, Math.fma(Mem.get(gy, go + i), s * (1f - s), Mem.get(gx, xo + i)));
        }
    }

    static void logSigmoidK(int len, MemorySegment x, long xo, MemorySegment y, long yo) {
        FloatVector zero = FloatVector.zero(F);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, Mem.bytes(xo + i), Mem.ORDER);
            // min(v, 0) by compare+blend: FloatVector.min costs extra blends for its NaN/-0 rules
            FloatVector m = v.blend(zero, v.compare(GT, zero));
            m.sub(CeMath.log1pUnit(CeMath.exp(v.abs().neg()))).intoMemorySegment(y, Mem.bytes(yo + i), Mem.ORDER);
        }
        for (; i < len; i++) {
            float v = Mem.get(x, xo + i);
            Mem.set(y, yo + i, (v > 0 ? 0f : v) - CeMath.log1pUnit(CeMath.exp(-Math.abs(v))));
        }
    }

    static void logSigmoidBackK(int len, MemorySegment x, long xo, MemorySegment gy, long go, MemorySegment gx, long gxo) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) {
            // sigmoid(-x) = 1 / (1 + exp(x)): exp overflow gives 0, the right limit
            FloatVector d = one.div(one.add(CeMath.expFull(FloatVector.fromMemorySegment(F, x, Mem.bytes(xo + i), Mem.ORDER))));
            FloatVector.fromMemorySegment(F, gy, Mem.bytes(go + i), Mem.ORDER).fma(d, FloatVector.fromMemorySegment(F, gx, Mem.bytes(gxo + i), Mem.ORDER)).intoMemorySegment(gx, Mem.bytes(gxo + i), Mem.ORDER);
        }
        for (; i < len; i++) {
            float d = 1f / (1f + CeMath.expFull(Mem.get(x, xo + i)));
            Mem.set(gx, gxo + i, Math.fma(Mem.get(gy, go + i), d, Mem.get(gx, gxo + i)));
        }
    }

    static void reluK(int len, MemorySegment x, long xo, MemorySegment y, long yo) {
        FloatVector zero = FloatVector.zero(F);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, Mem.bytes(xo + i), Mem.ORDER);
            v.blend(zero, v.compare(LT, zero)).intoMemorySegment(y, Mem.bytes(yo + i), Mem.ORDER);
        }
        for (; i < len; i++) {
            float v = Mem.get(x, xo + i);
            Mem.set(y, yo + i, v < 0 ? 0f : v);
        }
    }

    static void reluBackK(int len, MemorySegment x, long xo, MemorySegment gy, long go, MemorySegment gx, long gxo) {
        FloatVector zero = FloatVector.zero(F);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) {
            FloatVector g = zero.blend(FloatVector.fromMemorySegment(F, gy, Mem.bytes(go + i), Mem.ORDER), FloatVector.fromMemorySegment(F, x, Mem.bytes(xo + i), Mem.ORDER).compare(GT, zero));
            FloatVector.fromMemorySegment(F, gx, Mem.bytes(gxo + i), Mem.ORDER).add(g).intoMemorySegment(gx, Mem.bytes(gxo + i), Mem.ORDER);
        }
        for (; i < len; i++) {
            float g = Mem.get(x, xo + i) > 0 ? Mem.get(gy, go + i) : 0f;
            Mem.set(gx, gxo + i, Mem.get(gx, gxo + i) + g);
        }
    }

    static void siluK(int len, MemorySegment x, long xo, MemorySegment y, long yo) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, Mem.bytes(xo + i), Mem.ORDER);
            v.div(one.add(CeMath.expFull(v.neg()))).intoMemorySegment(y, Mem.bytes(yo + i), Mem.ORDER); // x / (1 + e^-x): -0 when e^-x overflows
        }
        for (; i < len; i++) {
            float v = Mem.get(x, xo + i);
            Mem.set(y, yo + i, v / (1f + CeMath.expFull(-v)));
        }
    }

    static void siluBackK(int len, MemorySegment x, long xo, MemorySegment gy, long go, MemorySegment gx, long gxo) {
        FloatVector one = FloatVector.broadcast(F, 1f), zero = FloatVector.zero(F);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, Mem.bytes(xo + i), Mem.ORDER);
            FloatVector e = CeMath.expFull(v.neg());
            FloatVector s = one.div(one.add(e));
            FloatVector oneMinusS = e.mul(s).blend(one.sub(s), v.compare(LT, zero));
            FloatVector d = s.mul(v.fma(oneMinusS, one));
            FloatVector.fromMemorySegment(F, gy, Mem.bytes(go + i), Mem.ORDER).fma(d, FloatVector.fromMemorySegment(F, gx, Mem.bytes(gxo + i), Mem.ORDER)).intoMemorySegment(gx, Mem.bytes(gxo + i), Mem.ORDER);
        }
        for (; i < len; i++) {
            float v = Mem.get(x, xo + i);
            float e = CeMath.expFull(-v);
            float s = 1f / (1f + e);
            float d = s * Math.fma(v, v < 0 ? 1f - s : e * s, 1f);
            Mem.set(gx, gxo + i, Math.fma(Mem.get(gy, go + i), d, Mem.get(gx, gxo + i)));
        }
    }
}
