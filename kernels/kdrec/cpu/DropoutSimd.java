package kdrec.cpu;

import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.XOR;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Inverted dropout on the Vector API; the mask definition and the oracle are in {@link DropoutScalar}
 * (identical signatures; results match it bit for bit for any vector width and thread count, since
 * the mask is a pure function of (seed, element index, p) and the float ops are the same).
 *
 * <p>The hash is vectorised in {@link IntVector} lanes (same lane count as the float species): a lane
 * holds the low 32 bits of its element index, the high word's key is a per-piece scalar (pieces never
 * straddle a 2^32 boundary, see {@link ElemChunks}). Two lowbias32 rounds are ~14 int ops per vector
 * (vpmulld, shifts, xors), cheap next to the load/store, so dropout runs near copy speed; a 64-bit
 * SplitMix per lane would need 64-bit lane multiplies, which AVX2 lacks.
 */
public final class DropoutSimd {
    private DropoutSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final VectorSpecies<Integer> I = Simd.I;
    private static final int L = Simd.LANES;

    public static void forward(long n, MemorySegment x, long xOff, MemorySegment y, long yOff, float p, long seed) {
        DropoutScalar.check("DropoutSimd.forward", n, "x", x, xOff, "y", y, yOff, p);
        if (p == 0f) {
            VecSimd.copy(n, x, xOff, y, yOff);
            return;
        }
        int k0 = DropoutScalar.key0(seed), k1 = DropoutScalar.key1(seed), thr = DropoutScalar.threshold(p);
        float scale = 1f / (1f - p);
        ElemChunks.run(n, ElemChunks.gate(VecSimd.PAR_ELEMENTWISE, x, y),
                (s, len) -> forwardK(len, s, x, xOff + s, y, yOff + s, k0, DropoutScalar.hiKey(k1, s), k1, thr, scale));
    }

    public static void backward(long n, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff, float p, long seed) {
        DropoutScalar.check("DropoutSimd.backward", n, "gy", gy, gyOff, "gx", gx, gxOff, p);
        if (p == 0f) {
            VecSimd.add(n, gx, gxOff, gy, gyOff, gx, gxOff);
            return;
        }
        int k0 = DropoutScalar.key0(seed), k1 = DropoutScalar.key1(seed), thr = DropoutScalar.threshold(p);
        float scale = 1f / (1f - p);
        ElemChunks.run(n, ElemChunks.gate(VecSimd.PAR_ELEMENTWISE, gy, gx),
                (s, len) -> backwardK(len, s, gy, gyOff + s, gx, gxOff + s, k0, DropoutScalar.hiKey(k1, s), k1, thr, scale));
    }

    /** The mask bit of element i (same function as {@link DropoutScalar#kept}). */
    public static boolean kept(long seed, long i, float p) {
        DropoutScalar.checkP("DropoutSimd.kept", p);
        return DropoutScalar.kept(seed, i, p);
    }

    // ---- vector kernels: [start, start+len) lies within one 2^32 block, so hk is constant --------

    private static IntVector mix32(IntVector h) {
        h = h.lanewise(XOR, h.lanewise(LSHR, 16)).mul(0x7feb352d);
        h = h.lanewise(XOR, h.lanewise(LSHR, 15)).mul(0x846ca68b);
        return h.lanewise(XOR, h.lanewise(LSHR, 16));
    }

    private static VectorMask<Float> keep(IntVector lo, int k0, int hk, int thr) {
        IntVector h = mix32(mix32(lo.lanewise(XOR, k0)).add(hk));
        return h.lanewise(LSHR, 8).compare(GE, thr).cast(F);
    }

    static void forwardK(int len, long start, MemorySegment x, long xo, MemorySegment y, long yo,
                         int k0, int hk, int k1, int thr, float scale) {
        IntVector lo = IntVector.zero(I).addIndex(1).add((int) start);
        IntVector step = IntVector.broadcast(I, L);
        FloatVector zero = FloatVector.zero(F), sc = FloatVector.broadcast(F, scale);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L, lo = lo.add(step)) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, Mem.bytes(xo + i), Mem.ORDER).mul(sc);
            zero.blend(v, keep(lo, k0, hk, thr)).intoMemorySegment(y, Mem.bytes(yo + i), Mem.ORDER);
        }
        for (; i < len; i++) {
            float v = Mem.get(x, xo + i);
            Mem.set(y, yo + i, DropoutScalar.keptBits(k0, k1, start + i, thr) ? v * scale : 0f);
        }
    }

    static void backwardK(int len, long start, MemorySegment gy, long go, MemorySegment gx, long gxo,
                          int k0, int hk, int k1, int thr, float scale) {
        IntVector lo = IntVector.zero(I).addIndex(1).add((int) start);
        IntVector step = IntVector.broadcast(I, L);
        FloatVector zero = FloatVector.zero(F), sc = FloatVector.broadcast(F, scale);
        int i = 0;
        for (int ub = F.loopBound(len); i < ub; i += L, lo = lo.add(step)) {
            FloatVector g = FloatVector.fromMemorySegment(F, gy, Mem.bytes(go + i), Mem.ORDER).mul(sc);
            FloatVector acc = FloatVector.fromMemorySegment(F, gx, Mem.bytes(gxo + i), Mem.ORDER);
            acc.add(zero.blend(g, keep(lo, k0, hk, thr))).intoMemorySegment(gx, Mem.bytes(gxo + i), Mem.ORDER);
        }
        for (; i < len; i++) {
            float g = DropoutScalar.keptBits(k0, k1, start + i, thr) ? Mem.get(gy, go + i) * scale : 0f;
            Mem.set(gx, gxo + i, Mem.get(gx, gxo + i) + g);
        }
    }
}
