package kdrec.cpu;

import static jdk.incubator.vector.VectorOperators.LT;
import static kdrec.cpu.AttentionMapScalar.check;
import static kdrec.cpu.ElemChunks.checkSeg;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twin of {@link AttentionMapScalar}: one HSTU attention map's weights
 * {@code a = alpha * silu(z + bias)} on and below the diagonal, +0 above, and their backward, over the
 * lower triangle in whole vectors (only the diagonal blocks' lanes past the diagonal are evaluated and
 * discarded; z there gets bias entries added, which is why z above the diagonal is left undefined).
 * Each element takes the float operations of the panama ops this replaces: relativeBias's float add,
 * {@link ActivationSimd}'s silu ({@code x / (1 + e^-x)} with {@link CeMath#expFull}) and its backward,
 * {@link VecSimd}'s scale and axpy, the mask's add to +0. Vector lanes and the scalar row tails compute
 * the same bits (CeMath's scalar functions are op-for-op twins), so the results equal the composed
 * ops' whatever a row's length.
 * The vector math is written inline: a helper taking vectors risks C2 leaving it out of line and boxing.
 */
public final class AttentionMapSimd {
    private AttentionMapSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;

    /** See {@link AttentionMapScalar#forward}. */
    public static void forward(int n, MemorySegment z, long zOff, MemorySegment w, long wc, float alpha, MemorySegment a, long aOff) {
        check("AttentionMapSimd.forward", n, z, zOff, w, wc, "a", a, aOff);
        FloatVector one = FloatVector.broadcast(F, 1f), va = FloatVector.broadcast(F, alpha);
        int whole = F.loopBound(n);
        // column block by column block, down the rows whose lower part reaches it: long loops of
        // independent vectors (row by row, ~4 vectors a row, the exp/div chains' latency was exposed).
        // The diagonal block's lanes past the diagonal (their scores, and bias entries c + j - i > c,
        // read but never used) are overwritten by the row's zeros at the end.
        for (int j = 0; j < whole; j += L) {
            for (int i = j; i < n; i++) {
                long zi = zOff + (long) i * n + j;
                FloatVector v = FloatVector.fromMemorySegment(F, z, Mem.bytes(zi), Mem.ORDER);
                if (w != null) {
                    v = v.add(FloatVector.fromMemorySegment(F, w, Mem.bytes(wc - i + j), Mem.ORDER));
                    v.intoMemorySegment(z, Mem.bytes(zi), Mem.ORDER);
                }
                va.mul(v.div(one.add(CeMath.expFull(v.neg())))).intoMemorySegment(a, Mem.bytes(aOff + (long) i * n + j), Mem.ORDER);
            }
        }
        for (int i = 0; i < n; i++) {
            long zr = zOff + (long) i * n, ar = aOff + (long) i * n;
            for (int j = whole; j <= i; j++) { // the rows' part in n's last, partial vector
                float v = Mem.get(z, zr + j);
                if (w != null) {
                    v += Mem.get(w, wc - i + j);
                    Mem.set(z, zr + j, v);
                }
                Mem.set(a, ar + j, alpha * (v / (1f + CeMath.expFull(-v))));
            }
            zeroPast(a, ar, i + 1, n);
        }
    }

    /** See {@link AttentionMapScalar#backward}. */
    public static void backward(int n, MemorySegment z, long zOff, float alpha, MemorySegment g, long gOff, MemorySegment dz, long dzOff) {
        check("AttentionMapSimd.backward", n, z, zOff, null, 0, "g", g, gOff);
        checkSeg("AttentionMapSimd.backward", "dz", dz, dzOff, (long) n * n);
        FloatVector one = FloatVector.broadcast(F, 1f), zero = FloatVector.zero(F), va = FloatVector.broadcast(F, alpha);
        int whole = F.loopBound(n);
        for (int j = 0; j < whole; j += L) { // as forward: column blocks, then the rows' tails and zeros
            for (int i = j; i < n; i++) {
                long r = (long) i * n + j;
                // the mask's add to +0, the scale's axpy into +0, silu's backward into +0
                FloatVector gy = va.fma(FloatVector.fromMemorySegment(F, g, Mem.bytes(gOff + r), Mem.ORDER).add(0f), zero);
                FloatVector v = FloatVector.fromMemorySegment(F, z, Mem.bytes(zOff + r), Mem.ORDER);
                FloatVector e = CeMath.expFull(v.neg());
                FloatVector s = one.div(one.add(e));
                FloatVector oneMinusS = e.mul(s).blend(one.sub(s), v.compare(LT, zero));
                FloatVector d = s.mul(v.fma(oneMinusS, one));
                gy.fma(d, zero).intoMemorySegment(dz, Mem.bytes(dzOff + r), Mem.ORDER);
            }
        }
        for (int i = 0; i < n; i++) {
            long r = (long) i * n;
            for (int j = whole; j <= i; j++) {
                float gy = Math.fma(alpha, 0f + Mem.get(g, gOff + r + j), 0f);
                float v = Mem.get(z, zOff + r + j);
                float e = CeMath.expFull(-v);
                float s = 1f / (1f + e);
                float d = s * Math.fma(v, v < 0 ? 1f - s : e * s, 1f);
                Mem.set(dz, dzOff + r + j, Math.fma(gy, d, 0f));
            }
            zeroPast(dz, dzOff + r, i + 1, n);
        }
    }

    /**
     * row[from, n) = +0 with unaligned zero vectors, the last one ending at n (overlapping the one
     * before: zeros twice) when that stays within [from, n); no masks.
     */
    private static void zeroPast(MemorySegment m, long row, int from, int n) {
        if (from >= n) return;
        if (n < L) {
            for (int j = from; j < n; j++) Mem.set(m, row + j, 0f);
            return;
        }
        FloatVector zero = FloatVector.zero(F);
        int j = from;
        for (; j + L <= n; j += L) zero.intoMemorySegment(m, Mem.bytes(row + j), Mem.ORDER);
        if (j < n && n - L >= from) zero.intoMemorySegment(m, Mem.bytes(row + n - L), Mem.ORDER);
        else for (; j < n; j++) Mem.set(m, row + j, 0f); // fewer than L zeros, and the row's values right before them
    }
}
