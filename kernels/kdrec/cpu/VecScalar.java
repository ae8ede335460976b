package kdrec.cpu;

import static kdrec.cpu.ElemChunks.checkN;
import static kdrec.cpu.ElemChunks.checkSeg;

import java.lang.foreign.MemorySegment;

/**
 * BLAS-1 style vector ops used by the autodiff engine, plain scalar Java: the test oracle and benchmark
 * baseline for {@link VecSimd} (identical signatures). Single-threaded.
 *
 * <p>Every op works on {@code n} floats of float32 segments starting at element offsets. An output may
 * be the very same range as an input (in-place); partially overlapping ranges are not supported.
 * Fused multiply-adds use {@link Math#fma} so that the elementwise ops here round exactly like the
 * SIMD twin (one rounding per fma): add, sub, mul, scale, axpy, addMul, fill and copy match
 * {@link VecSimd} bit for bit. {@link #sum} and {@link #dot} accumulate sequentially in double (the
 * most accurate simple order); the SIMD twin sums in float lanes, so those two agree to a tolerance.
 */
public final class VecScalar {
    private VecScalar() {}

    /** y[i] = v. */
    public static void fill(long n, MemorySegment y, long yOff, float v) {
        checkN("VecScalar.fill", n);
        checkSeg("VecScalar.fill", "y", y, yOff, n);
        for (long i = 0; i < n; i++) Mem.set(y, yOff + i, v);
    }

    /** y[i] = x[i]. */
    public static void copy(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        checkN("VecScalar.copy", n);
        checkSeg("VecScalar.copy", "x", x, xOff, n);
        checkSeg("VecScalar.copy", "y", y, yOff, n);
        for (long i = 0; i < n; i++) Mem.set(y, yOff + i, Mem.get(x, xOff + i));
    }

    /** out = a + b. */
    public static void add(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment out, long oOff) {
        check3("VecScalar.add", n, a, aOff, b, bOff, out, oOff);
        for (long i = 0; i < n; i++) Mem.set(out, oOff + i, Mem.get(a, aOff + i) + Mem.get(b, bOff + i));
    }

    /** out = a - b. */
    public static void sub(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment out, long oOff) {
        check3("VecScalar.sub", n, a, aOff, b, bOff, out, oOff);
        for (long i = 0; i < n; i++) Mem.set(out, oOff + i, Mem.get(a, aOff + i) - Mem.get(b, bOff + i));
    }

    /** out = a * b (elementwise). */
    public static void mul(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment out, long oOff) {
        check3("VecScalar.mul", n, a, aOff, b, bOff, out, oOff);
        for (long i = 0; i < n; i++) Mem.set(out, oOff + i, Mem.get(a, aOff + i) * Mem.get(b, bOff + i));
    }

    /** out = alpha * x. */
    public static void scale(long n, float alpha, MemorySegment x, long xOff, MemorySegment out, long oOff) {
        checkN("VecScalar.scale", n);
        checkSeg("VecScalar.scale", "x", x, xOff, n);
        checkSeg("VecScalar.scale", "out", out, oOff, n);
        for (long i = 0; i < n; i++) Mem.set(out, oOff + i, alpha * Mem.get(x, xOff + i));
    }

    /** y += alpha * x (one rounding: fma). */
    public static void axpy(long n, float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        checkN("VecScalar.axpy", n);
        checkSeg("VecScalar.axpy", "x", x, xOff, n);
        checkSeg("VecScalar.axpy", "y", y, yOff, n);
        for (long i = 0; i < n; i++) Mem.set(y, yOff + i, Math.fma(alpha, Mem.get(x, xOff + i), Mem.get(y, yOff + i)));
    }

    /** y += a * b (elementwise, one rounding: fma). */
    public static void addMul(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment y, long yOff) {
        check3("VecScalar.addMul", n, a, aOff, b, bOff, y, yOff);
        for (long i = 0; i < n; i++) {
            Mem.set(y, yOff + i, Math.fma(Mem.get(a, aOff + i), Mem.get(b, bOff + i), Mem.get(y, yOff + i)));
        }
    }

    /** Sum of x, accumulated sequentially in double. */
    public static double sum(long n, MemorySegment x, long xOff) {
        checkN("VecScalar.sum", n);
        checkSeg("VecScalar.sum", "x", x, xOff, n);
        double s = 0;
        for (long i = 0; i < n; i++) s += Mem.get(x, xOff + i);
        return s;
    }

    /** Dot product of a and b, accumulated sequentially in double (products are exact in double). */
    public static double dot(long n, MemorySegment a, long aOff, MemorySegment b, long bOff) {
        checkN("VecScalar.dot", n);
        checkSeg("VecScalar.dot", "a", a, aOff, n);
        checkSeg("VecScalar.dot", "b", b, bOff, n);
        double s = 0;
        for (long i = 0; i < n; i++) s += (double) Mem.get(a, aOff + i) * Mem.get(b, bOff + i);
        return s;
    }

    /** True when no element is NaN or infinite (true for n = 0). */
    public static boolean allFinite(long n, MemorySegment x, long xOff) {
        checkN("VecScalar.allFinite", n);
        checkSeg("VecScalar.allFinite", "x", x, xOff, n);
        for (long i = 0; i < n; i++) if (!Float.isFinite(Mem.get(x, xOff + i))) return false;
        return true;
    }

    private static void check3(String k, long n, MemorySegment a, long aOff, MemorySegment b, long bOff,
                               MemorySegment o, long oOff) {
        checkN(k, n);
        checkSeg(k, "a", a, aOff, n);
        checkSeg(k, "b", b, bOff, n);
        checkSeg(k, "out", o, oOff, n);
    }
}
