package kdrec.cpu;

import static kdrec.cpu.ElemChunks.checkSeg;

import java.lang.foreign.MemorySegment;

/**
 * The pointwise part of one HSTU attention map (n x n, row-major), scalar twin of
 * {@link AttentionMapSimd}: the weights {@code a = alpha * silu(z + bias)} below and on the diagonal,
 * +0 above (the causal mask), and their backward. Each element takes exactly the float operations of
 * the ops this replaces on the scalar backend (relativeBias's float add, {@link ActivationScalar}'s
 * silu and its backward in double, {@link VecScalar}'s scale and axpy, the mask's add to a fresh +0),
 * so a fused attention gives the composed ops' bits.
 */
public final class AttentionMapScalar {
    private AttentionMapScalar() {}

    /**
     * For j &lt;= i: {@code z[i,j] += w[wc + j - i]} when w is not null (z keeps the biased scores, for
     * the backward), {@code a[i,j] = alpha * silu(z[i,j])}; a[i,j] = +0 for j &gt; i. z above the
     * diagonal is left undefined (this twin leaves it, the vector kernel adds bias entries there). wc is the element
     * offset of the bias table's centre (relative position 0) in w, which must hold n - 1 entries on
     * either side of it.
     */
    public static void forward(int n, MemorySegment z, long zOff, MemorySegment w, long wc, float alpha, MemorySegment a, long aOff) {
        check("AttentionMapScalar.forward", n, z, zOff, w, wc, "a", a, aOff);
        for (int i = 0; i < n; i++) {
            long zr = zOff + (long) i * n, ar = aOff + (long) i * n;
            for (int j = 0; j <= i; j++) {
                float v = Mem.get(z, zr + j);
                if (w != null) {
                    v += Mem.get(w, wc + j - i);
                    Mem.set(z, zr + j, v);
                }
                double x = v;
                Mem.set(a, ar + j, alpha * (float) (x * (1.0 / (1.0 + Math.exp(-x)))));
            }
            for (int j = i + 1; j < n; j++) Mem.set(a, ar + j, 0f);
        }
    }

    /**
     * The gradient at z from g = dL/da: for j &lt;= i, {@code dz = silu'(z) * fma(alpha, g, 0)} with
     * silu's backward accumulating into a fresh +0 as {@link ActivationScalar#siluBackward} does; +0
     * for j &gt; i. z holds the biased scores ({@link #forward} leaves them there).
     */
    public static void backward(int n, MemorySegment z, long zOff, float alpha, MemorySegment g, long gOff, MemorySegment dz, long dzOff) {
        check("AttentionMapScalar.backward", n, z, zOff, null, 0, "g", g, gOff);
        checkSeg("AttentionMapScalar.backward", "dz", dz, dzOff, (long) n * n);
        for (int i = 0; i < n; i++) {
            long r = (long) i * n;
            for (int j = 0; j <= i; j++) {
                float gy = Math.fma(alpha, 0f + Mem.get(g, gOff + r + j), 0f); // the mask's add to +0, the scale's axpy
                double v = Mem.get(z, zOff + r + j), s = 1.0 / (1.0 + Math.exp(-v));
                Mem.set(dz, dzOff + r + j, (float) (0f + gy * (s * (1 + v * (1 - s)))));
            }
            for (int j = i + 1; j < n; j++) Mem.set(dz, dzOff + r + j, 0f);
        }
    }

    /**
     * Checks a map operand pair and, when w is not null, the bias table's reach wc - (n - 1) .. wc +
     * (n - 1): the scalar kernel reads only up to the centre, the vector one reads past it in the lanes
     * beyond the diagonal (values it then discards).
     */
    static void check(String k, int n, MemorySegment z, long zOff, MemorySegment w, long wc, String yName, MemorySegment y, long yOff) {
        if (n < 0 || n > 46_340) throw new IllegalArgumentException(k + ": n = " + n + " out of range [0, 46340]");
        checkSeg(k, "z", z, zOff, (long) n * n);
        checkSeg(k, yName, y, yOff, (long) n * n);
        if (w != null && n > 0) checkSeg(k, "bias table", w, wc - (n - 1), 2L * n - 1);
    }
}
