package kdrec.cpu;

import static kdrec.cpu.ElemChunks.checkN;
import static kdrec.cpu.ElemChunks.checkSeg;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * BLAS-1 style vector ops used by the autodiff engine, on the Vector API; {@link VecScalar} is the
 * oracle (identical signatures and semantics).
 *
 * <p>An output may be the very same range as an input (in-place); partially overlapping ranges are
 * not supported. The elementwise ops (fill, copy, add, sub, mul, scale, axpy, addMul) match
 * {@link VecScalar} bit for bit: each element sees the same IEEE operations (fma where the scalar
 * twin uses {@link Math#fma}). They are memory-bound, so they only go parallel above
 * {@link #PAR_ELEMENTWISE} elements, where the second core's share of DRAM/L3 bandwidth pays for the
 * fork/join.
 *
 * <p>{@link #sum} and {@link #dot} use a fixed block structure: blocks of {@link ElemChunks#UNIT}
 * elements, each summed in four float vector accumulators (per lane), whose lanes are then added in
 * double in lane order; block partials are added in double in block order. Threads only compute
 * whole blocks, so the result is bit-identical for any thread count (and across JIT tiers: lane
 * extraction in a fixed order is used instead of {@code reduceLanes}, whose order is unspecified).
 * It does depend on the vector width (lanes per accumulator). Relative error vs the double oracle is
 * about (UNIT / (4 * lanes)) * 2^-24 per block, i.e. ~1e-5 of sum|x| at worst, far less typically.
 *
 * <p>{@link #allFinite} multiplies every element by zero into an accumulator: finite values give
 * +-0, NaN and +-Inf give NaN, which then sticks; one NaN test per block.
 */
public final class VecSimd {
    private VecSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    private static final int B = ElemChunks.UNIT;
    /** Below this many elements the elementwise ops stay on the calling thread. */
    static final long PAR_ELEMENTWISE = 1 << 17;
    /** Below this many elements sum, dot and allFinite stay on the calling thread. */
    static final long PAR_REDUCE = 1 << 16;

    /** Per-caller scratch for block partials of sum/dot (grown on demand, never shrunk). */
    private static final ThreadLocal<double[]> PARTIALS = ThreadLocal.withInitial(() -> new double[256]);

    public static void fill(long n, MemorySegment y, long yOff, float v) {
        checkN("VecSimd.fill", n);
        checkSeg("VecSimd.fill", "y", y, yOff, n);
        ElemChunks.run(n, ElemChunks.gate(PAR_ELEMENTWISE, y), (s, len) -> fillK(len, y, yOff + s, v));
    }

    public static void copy(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        checkN("VecSimd.copy", n);
        checkSeg("VecSimd.copy", "x", x, xOff, n);
        checkSeg("VecSimd.copy", "y", y, yOff, n);
        // a bulk copy is already a vectorised memmove; threads help only on large copies
        ElemChunks.run(n, ElemChunks.gate(PAR_ELEMENTWISE, x, y), (s, len) -> MemorySegment.copy(x, Mem.bytes(xOff + s), y, Mem.bytes(yOff + s), Mem.bytes(len)));
    }

    public static void add(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment out, long oOff) {
        check3("VecSimd.add", n, a, aOff, b, bOff, out, oOff);
        ElemChunks.run(n, ElemChunks.gate(PAR_ELEMENTWISE, a, b, out), (s, len) -> addK(len, a, aOff + s, b, bOff + s, out, oOff + s));
    }

    public static void sub(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment out, long oOff) {
        check3("VecSimd.sub", n, a, aOff, b, bOff, out, oOff);
        ElemChunks.run(n, ElemChunks.gate(PAR_ELEMENTWISE, a, b, out), (s, len) -> subK(len, a, aOff + s, b, bOff + s, out, oOff + s));
    }

    public static void mul(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment out, long oOff) {
        check3("VecSimd.mul", n, a, aOff, b, bOff, out, oOff);
        ElemChunks.run(n, ElemChunks.gate(PAR_ELEMENTWISE, a, b, out), (s, len) -> mulK(len, a, aOff + s, b, bOff + s, out, oOff + s));
    }

    public static void scale(long n, float alpha, MemorySegment x, long xOff, MemorySegment out, long oOff) {
        checkN("VecSimd.scale", n);
        checkSeg("VecSimd.scale", "x", x, xOff, n);
        checkSeg("VecSimd.scale", "out", out, oOff, n);
        ElemChunks.run(n, ElemChunks.gate(PAR_ELEMENTWISE, x, out), (s, len) -> scaleK(len, alpha, x, xOff + s, out, oOff + s));
    }

    public static void axpy(long n, float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        checkN("VecSimd.axpy", n);
        checkSeg("VecSimd.axpy", "x", x, xOff, n);
        checkSeg("VecSimd.axpy", "y", y, yOff, n);
        ElemChunks.run(n, ElemChunks.gate(PAR_ELEMENTWISE, x, y), (s, len) -> axpyK(len, alpha, x, xOff + s, y, yOff + s));
    }

    public static void addMul(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment y, long yOff) {
        check3("VecSimd.addMul", n, a, aOff, b, bOff, y, yOff);
        ElemChunks.run(n, ElemChunks.gate(PAR_ELEMENTWISE, a, b, y), (s, len) -> addMulK(len, a, aOff + s, b, bOff + s, y, yOff + s));
    }

    public static double sum(long n, MemorySegment x, long xOff) {
        checkN("VecSimd.sum", n);
        checkSeg("VecSimd.sum", "x", x, xOff, n);
        return reduce(n, x, xOff, null, 0);
    }

    public static double dot(long n, MemorySegment a, long aOff, MemorySegment b, long bOff) {
        checkN("VecSimd.dot", n);
        checkSeg("VecSimd.dot", "a", a, aOff, n);
        checkSeg("VecSimd.dot", "b", b, bOff, n);
        return reduce(n, a, aOff, b, bOff);
    }

    public static boolean allFinite(long n, MemorySegment x, long xOff) {
        checkN("VecSimd.allFinite", n);
        checkSeg("VecSimd.allFinite", "x", x, xOff, n);
        int blocks = (int) ((n + B - 1) / B);
        if (n < ElemChunks.gate(PAR_REDUCE, x) || Parallel.threads() == 1) {
            for (int k = 0; k < blocks; k++) if (!finiteBlock(x, xOff + (long) k * B, blockLen(n, k))) return false;
            return true;
        }
        boolean[] bad = new boolean[1]; // written only false->true; join orders it before the read
        Parallel.forRange(blocks, 1, (int) (PAR_REDUCE / 2 / B), (from, to) -> {
            for (int k = from; k < to && !bad[0]; k++) if (!finiteBlock(x, xOff + (long) k * B, blockLen(n, k))) bad[0] = true;
        });
        return !bad[0];
    }

    // ---- drivers -------------------------------------------------------------------------------

    /** sum (b == null) or dot over fixed blocks; block partials added in block order. */
    private static double reduce(long n, MemorySegment a, long aOff, MemorySegment b, long bOff) {
        int blocks = (int) ((n + B - 1) / B);
        double s = 0;
        if (n < ElemChunks.gate(PAR_REDUCE, a, b) || Parallel.threads() == 1) {
            for (int k = 0; k < blocks; k++) s += block(a, aOff, b, bOff, n, k);
            return s;
        }
        double[] part = PARTIALS.get();
        if (part.length < blocks) PARTIALS.set(part = new double[Math.max(blocks, 2 * part.length)]);
        double[] p = part;
        Parallel.forRange(blocks, 1, (int) (PAR_REDUCE / 2 / B), (from, to) -> {
            for (int k = from; k < to; k++) p[k] = block(a, aOff, b, bOff, n, k);
        });
        for (int k = 0; k < blocks; k++) s += p[k];
        return s;
    }

    private static double block(MemorySegment a, long aOff, MemorySegment b, long bOff, long n, int k) {
        long o = (long) k * B;
        int len = blockLen(n, k);
        return b == null ? sumBlock(len, a, aOff + o) : dotBlock(len, a, aOff + o, b, bOff + o);
    }

    private static int blockLen(long n, int k) {
        return (int) Math.min(B, n - (long) k * B);
    }

    private static void check3(String k, long n, MemorySegment a, long aOff, MemorySegment b, long bOff,
                               MemorySegment o, long oOff) {
        checkN(k, n);
        checkSeg(k, "a", a, aOff, n);
        checkSeg(k, "b", b, bOff, n);
        checkSeg(k, "out", o, oOff, n);
    }

    // ---- vector kernels (small static methods: compiled hot by invocation, see calibration 4.8) ----

    private static FloatVector ld(MemorySegment s, long off) {
        return FloatVector.fromMemorySegment(F, s, Mem.bytes(off), Mem.ORDER);
    }

    static void fillK(int len, MemorySegment y, long yo, float v) {
        FloatVector vv = FloatVector.broadcast(F, v);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) vv.intoMemorySegment(y, Mem.bytes(yo + i), Mem.ORDER);
        for (; i < len; i++) Mem.set(y, yo + i, v);
    }

    static void addK(int len, MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment o, long oo) {
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) ld(a, ao + i).add(ld(b, bo + i)).intoMemorySegment(o, Mem.bytes(oo + i), Mem.ORDER);
        for (; i < len; i++) Mem.set(o, oo + i, Mem.get(a, ao + i) + Mem.get(b, bo + i));
    }

    static void subK(int len, MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment o, long oo) {
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) ld(a, ao + i).sub(ld(b, bo + i)).intoMemorySegment(o, Mem.bytes(oo + i), Mem.ORDER);
        for (; i < len; i++) Mem.set(o, oo + i, Mem.get(a, ao + i) - Mem.get(b, bo + i));
    }

    static void mulK(int len, MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment o, long oo) {
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) ld(a, ao + i).mul(ld(b, bo + i)).intoMemorySegment(o, Mem.bytes(oo + i), Mem.ORDER);
        for (; i < len; i++) Mem.set(o, oo + i, Mem.get(a, ao + i) * Mem.get(b, bo + i));
    }

    static void scaleK(int len, float alpha, MemorySegment x, long xo, MemorySegment o, long oo) {
        FloatVector va = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) va.mul(ld(x, xo + i)).intoMemorySegment(o, Mem.bytes(oo + i), Mem.ORDER);
        for (; i < len; i++) Mem.set(o, oo + i, alpha * Mem.get(x, xo + i));
    }

    static void axpyK(int len, float alpha, MemorySegment x, long xo, MemorySegment y, long yo) {
        FloatVector va = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) {
            va.fma(ld(x, xo + i), ld(y, yo + i)).intoMemorySegment(y, Mem.bytes(yo + i), Mem.ORDER);
        }
        for (; i < len; i++) Mem.set(y, yo + i, Math.fma(alpha, Mem.get(x, xo + i), Mem.get(y, yo + i)));
    }

    static void addMulK(int len, MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment y, long yo) {
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L) {
            ld(a, ao + i).fma(ld(b, bo + i), ld(y, yo + i)).intoMemorySegment(y, Mem.bytes(yo + i), Mem.ORDER);
        }
        for (; i < len; i++) Mem.set(y, yo + i, Math.fma(Mem.get(a, ao + i), Mem.get(b, bo + i), Mem.get(y, yo + i)));
    }

    /** One block of sum: 4 float accumulators (add latency, not bandwidth, bounds one chain). */
    static double sumBlock(int len, MemorySegment x, long xo) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * L <= len; i += 4 * L) {
            a0 = a0.add(ld(x, xo + i));
            a1 = a1.add(ld(x, xo + i + L));
            a2 = a2.add(ld(x, xo + i + 2 * L));
            a3 = a3.add(ld(x, xo + i + 3 * L));
        }
        for (; i + L <= len; i += L) a0 = a0.add(ld(x, xo + i));
        double s = lanes(a0) + lanes(a1) + lanes(a2) + lanes(a3);
        for (; i < len; i++) s += Mem.get(x, xo + i);
        return s;
    }

    /** One block of dot: 4 float fma accumulators (accumulator as the addend: in-place vfmadd231ps). */
    static double dotBlock(int len, MemorySegment a, long ao, MemorySegment b, long bo) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 4 * L <= len; i += 4 * L) {
            a0 = ld(a, ao + i).fma(ld(b, bo + i), a0);
            a1 = ld(a, ao + i + L).fma(ld(b, bo + i + L), a1);
            a2 = ld(a, ao + i + 2 * L).fma(ld(b, bo + i + 2 * L), a2);
            a3 = ld(a, ao + i + 3 * L).fma(ld(b, bo + i + 3 * L), a3);
        }
        for (; i + L <= len; i += L) a0 = ld(a, ao + i).fma(ld(b, bo + i), a0);
        double s = lanes(a0) + lanes(a1) + lanes(a2) + lanes(a3);
        for (; i < len; i++) s += (double) Mem.get(a, ao + i) * Mem.get(b, bo + i);
        return s;
    }

    /** Lanes added in double in lane order (deterministic, unlike reduceLanes whose order is free). */
    private static double lanes(FloatVector v) {
        double s = 0;
        for (int l = 0; l < L; l++) s += v.lane(l);
        return s;
    }

    static boolean finiteBlock(MemorySegment x, long xo, int len) {
        FloatVector zero = FloatVector.zero(F), a0 = zero, a1 = zero;
        int i = 0;
        for (; i + 2 * L <= len; i += 2 * L) {
            a0 = ld(x, xo + i).fma(zero, a0);
            a1 = ld(x, xo + i + L).fma(zero, a1);
        }
        for (; i + L <= len; i += L) a0 = ld(x, xo + i).fma(zero, a0);
        if (a0.add(a1).test(VectorOperators.IS_NAN).anyTrue()) return false;
        for (; i < len; i++) if (!Float.isFinite(Mem.get(x, xo + i))) return false;
        return true;
    }
}
