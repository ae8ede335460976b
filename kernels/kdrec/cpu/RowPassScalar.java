package kdrec.cpu;

/**
 * Single passes over one float row, the building blocks of the whole-catalogue listwise losses
 * (HetComp: per user and term, a max, a sum of exponentials and a gradient over ~all items), plain
 * scalar Java: the test oracle and benchmark baseline for {@link RowPassSimd} (identical signatures).
 * Single-threaded: the callers run rows in parallel.
 *
 * <p>Exponentials are {@link CeMath#exp(float)} of the float difference {@code x - shift} (the float32
 * arithmetic of the authors' torch code), with bits that do not depend on the JIT tier or the vector
 * width; an entry of -Inf contributes 0 (callers mask items out that way). {@link #max}, {@link #clamp},
 * {@link #expAxpy} and {@link #zeroOutside} match the SIMD twin bit for bit; {@link #expSum} and
 * {@link #dot} add sequentially in double here and in float lanes there, so the two agree to a tolerance.
 */
public final class RowPassScalar {
    private RowPassScalar() {}

    /** max of x[off, off+n) (Math.max: NaN wins, +0 above -0); -Inf for n = 0. */
    public static float max(int n, float[] x, int off) {
        check("RowPass.max", "x", n, x, off);
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    /** x[i] = max(-clip, min(clip, x[i])) in place (NaN stays NaN); clip must be positive. */
    public static void clamp(int n, float[] x, int off, float clip) {
        checkClip("RowPass.clamp", n, x, off, clip);
        for (int i = off; i < off + n; i++) x[i] = Math.max(-clip, Math.min(clip, x[i]));
    }

    /** sum of e^(x[i] - shift) over x[off, off+n), in double. Callers pass shift >= max(x): every exponent <= 0. */
    public static double expSum(int n, float[] x, int off, float shift) {
        check("RowPass.expSum", "x", n, x, off);
        double s = 0;
        for (int i = off; i < off + n; i++) s += CeMath.exp(x[i] - shift);
        return s;
    }

    /** sum of a[aOff + i] * b[bOff + i] over i in [0, n), in double (each product exact in double). */
    public static double dot(int n, float[] a, int aOff, float[] b, int bOff) {
        check("RowPass.dot", "a", n, a, aOff);
        check("RowPass.dot", "b", n, b, bOff);
        return VecScalar.dot(n, java.lang.foreign.MemorySegment.ofArray(a), aOff, java.lang.foreign.MemorySegment.ofArray(b), bOff);
    }

    /** y[yOff + i] = fma(alpha, e^(x[off + i] - shift), y[yOff + i]) for i in [0, n); shift as in {@link #expSum}. */
    public static void expAxpy(int n, float alpha, float[] x, int off, float shift, float[] y, int yOff) {
        check("RowPass.expAxpy", "x", n, x, off);
        check("RowPass.expAxpy", "y", n, y, yOff);
        for (int i = 0; i < n; i++) y[yOff + i] = Math.fma(alpha, CeMath.exp(x[off + i] - shift), y[yOff + i]);
    }

    /**
     * y[yOff + i] = 0 where raw[off + i] lies outside [-clip, clip] (where a clamp passes no gradient,
     * as torch.clamp: the bounds themselves pass it; NaN is not outside), for i in [0, n).
     */
    public static void zeroOutside(int n, float[] raw, int off, float clip, float[] y, int yOff) {
        checkClip("RowPass.zeroOutside", n, raw, off, clip);
        check("RowPass.zeroOutside", "y", n, y, yOff);
        for (int i = 0; i < n; i++) {
            float v = raw[off + i];
            if (v < -clip || v > clip) y[yOff + i] = 0f;
        }
    }

    static void checkClip(String k, int n, float[] x, int off, float clip) {
        check(k, "x", n, x, off);
        if (!(clip > 0)) throw new IllegalArgumentException(k + ": clip must be positive, got " + clip);
    }

    /** Checks that {@code name} holds n floats from {@code off}; throws naming the kernel. */
    static void check(String k, String name, int n, float[] a, int off) {
        if (a == null) throw new IllegalArgumentException(k + ": " + name + " is null");
        if (n < 0 || off < 0 || off > a.length - n) {
            throw new IllegalArgumentException(k + ": " + name + " range [" + off + ", " + ((long) off + n) + ") outside an array of " + a.length);
        }
    }
}
