package kdrec.cpu;

import static kdrec.cpu.ElemChunks.checkN;
import static kdrec.cpu.ElemChunks.checkSeg;

import java.lang.foreign.MemorySegment;

/**
 * Pointwise activations and their backward passes, plain scalar Java: the oracle and baseline for
 * {@link ActivationSimd} (identical signatures). Single-threaded.
 *
 * <p>Forward: {@code y = f(x)}; backward accumulates {@code gx += gy * f'(.)}. The transcendental
 * ones (sigmoid, logSigmoid, silu) are evaluated in double and rounded once to float, so they are
 * within half an ulp of the exact value and make a sharp oracle. relu is exact and matches the SIMD
 * twin bit for bit. y may be the same range as x (in-place); gx may not overlap gy or x/y.
 *
 * <p>Conventions: relu(x) = (x &lt; 0 ? 0 : x), so NaN propagates (a NaN check can stop the run) and
 * relu(-0) = -0; relu'(x) = (x &gt; 0 ? 1 : 0), so the gradient at 0 is 0.
 */
public final class ActivationScalar {
    private ActivationScalar() {}

    public static void sigmoid(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        check2("ActivationScalar.sigmoid", n, "x", x, xOff, "y", y, yOff);
        for (long i = 0; i < n; i++) Mem.set(y, yOff + i, (float) sigmoid(Mem.get(x, xOff + i)));
    }

    /** gx += gy * y * (1 - y), from the forward output y. */
    public static void sigmoidBackward(long n, MemorySegment y, long yOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff) {
        check3("ActivationScalar.sigmoidBackward", n, "y", y, yOff, gy, gyOff, gx, gxOff);
        for (long i = 0; i < n; i++) {
            double s = Mem.get(y, yOff + i);
            Mem.set(gx, gxOff + i, (float) (Mem.get(gx, gxOff + i) + Mem.get(gy, gyOff + i) * (s * (1 - s))));
        }
    }

    /** y = log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)) (no overflow for any x). */
    public static void logSigmoid(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        check2("ActivationScalar.logSigmoid", n, "x", x, xOff, "y", y, yOff);
        for (long i = 0; i < n; i++) {
            double v = Mem.get(x, xOff + i);
            Mem.set(y, yOff + i, (float) (Math.min(v, 0) - Math.log1p(Math.exp(-Math.abs(v)))));
        }
    }

    /** gx += gy * sigmoid(-x). */
    public static void logSigmoidBackward(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff) {
        check3("ActivationScalar.logSigmoidBackward", n, "x", x, xOff, gy, gyOff, gx, gxOff);
        for (long i = 0; i < n; i++) {
            double d = sigmoid(-Mem.get(x, xOff + i));
            Mem.set(gx, gxOff + i, (float) (Mem.get(gx, gxOff + i) + Mem.get(gy, gyOff + i) * d));
        }
    }

    public static void relu(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        check2("ActivationScalar.relu", n, "x", x, xOff, "y", y, yOff);
        for (long i = 0; i < n; i++) {
            float v = Mem.get(x, xOff + i);
            Mem.set(y, yOff + i, v < 0 ? 0f : v);
        }
    }

    /** gx += (x &gt; 0 ? gy : 0). */
    public static void reluBackward(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff) {
        check3("ActivationScalar.reluBackward", n, "x", x, xOff, gy, gyOff, gx, gxOff);
        for (long i = 0; i < n; i++) {
            float g = Mem.get(x, xOff + i) > 0 ? Mem.get(gy, gyOff + i) : 0f;
            Mem.set(gx, gxOff + i, Mem.get(gx, gxOff + i) + g);
        }
    }

    /** y = x * sigmoid(x). */
    public static void silu(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        check2("ActivationScalar.silu", n, "x", x, xOff, "y", y, yOff);
        for (long i = 0; i < n; i++) {
            double v = Mem.get(x, xOff + i);
            Mem.set(y, yOff + i, (float) (v * sigmoid(v)));
        }
    }

    /** gx += gy * s * (1 + x * (1 - s)), s = sigmoid(x). */
    public static void siluBackward(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff) {
        check3("ActivationScalar.siluBackward", n, "x", x, xOff, gy, gyOff, gx, gxOff);
        for (long i = 0; i < n; i++) {
            double v = Mem.get(x, xOff + i);
            double s = sigmoid(v);
            Mem.set(gx, gxOff + i, (float) (Mem.get(gx, gxOff + i) + Mem.get(gy, gyOff + i) * (s * (1 + v * (1 - s)))));
        }
    }

    private static double sigmoid(double v) {
        return 1.0 / (1.0 + Math.exp(-v));
    }

    static void check2(String k, long n, String xn, MemorySegment x, long xOff, String yn, MemorySegment y, long yOff) {
        checkN(k, n);
        checkSeg(k, xn, x, xOff, n);
        checkSeg(k, yn, y, yOff, n);
    }

    static void check3(String k, long n, String xn, MemorySegment x, long xOff, MemorySegment gy, long gyOff,
                       MemorySegment gx, long gxOff) {
        checkN(k, n);
        checkSeg(k, xn, x, xOff, n);
        checkSeg(k, "gy", gy, gyOff, n);
        checkSeg(k, "gx", gx, gxOff, n);
    }
}
