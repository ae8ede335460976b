package kdrec.cpu;

import static kdrec.cpu.ElemChunks.checkN;
import static kdrec.cpu.ElemChunks.checkSeg;

import java.lang.foreign.MemorySegment;

/**
 * Inverted dropout with a counter-based mask, plain scalar Java: the oracle and baseline for
 * {@link DropoutSimd} (identical signatures), and the definition of the mask.
 *
 * <p>The mask bit of element {@code i} (0-based within the op, independent of segment offsets) is a
 * pure function of (seed, i, p), so the scalar kernel, every vector width and every thread count draw
 * the same mask bit for bit, and backward re-derives it from the seed instead of storing it:
 * <pre>
 *   z  = splitmix64(seed);  k0 = (int) z;  k1 = (int) (z &gt;&gt;&gt; 32)
 *   hk = mix32(k1 ^ (int) (i &gt;&gt;&gt; 32) * 0x9E3779B9)          (one value per 2^32 elements)
 *   h  = mix32(mix32((int) i ^ k0) + hk)
 *   kept  iff  (h &gt;&gt;&gt; 8) * 2^-24  &gt;=  p   (a 24-bit uniform in [0,1); compared as integers
 *                                          against ceil(p * 2^24), which is the same test exactly)
 * </pre>
 * mix32 is Wellons' "lowbias32" integer finalizer (two xorshift-multiply rounds; a bijection with
 * low avalanche bias). Two rounds keyed by both seed halves keep masks of different seeds unrelated
 * (one keyed round would make them shifted copies). Only 32-bit integer ops: cheap in IntVector lanes
 * (AVX2 has vpmulld but no 64-bit lane multiply) and on a GPU.
 *
 * <p>Kept elements are scaled by {@code scale = 1f / (1f - p)} (a float, used in both directions so
 * that backward is the exact derivative of forward): forward {@code y = kept ? x * scale : 0},
 * backward {@code gx += kept ? gy * scale : 0}. p = 0 is the identity (forward copies, backward adds).
 * p must be in [0, 1). y may be the same range as x (in-place). Results match {@link DropoutSimd}
 * bit for bit.
 */
public final class DropoutScalar {
    private DropoutScalar() {}

    public static void forward(long n, MemorySegment x, long xOff, MemorySegment y, long yOff, float p, long seed) {
        check("DropoutScalar.forward", n, "x", x, xOff, "y", y, yOff, p);
        int k0 = key0(seed), k1 = key1(seed), thr = threshold(p);
        float scale = 1f / (1f - p);
        for (long i = 0; i < n; i++) {
            float v = Mem.get(x, xOff + i);
            Mem.set(y, yOff + i, p == 0f ? v : keptBits(k0, k1, i, thr) ? v * scale : 0f);
        }
    }

    public static void backward(long n, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff, float p, long seed) {
        check("DropoutScalar.backward", n, "gy", gy, gyOff, "gx", gx, gxOff, p);
        int k0 = key0(seed), k1 = key1(seed), thr = threshold(p);
        float scale = 1f / (1f - p);
        for (long i = 0; i < n; i++) {
            float g = Mem.get(gy, gyOff + i);
            float d = p == 0f ? g : keptBits(k0, k1, i, thr) ? g * scale : 0f;
            Mem.set(gx, gxOff + i, Mem.get(gx, gxOff + i) + d);
        }
    }

    /** The mask bit of element i: true when the element is kept. */
    public static boolean kept(long seed, long i, float p) {
        checkP("DropoutScalar.kept", p);
        return keptBits(key0(seed), key1(seed), i, threshold(p));
    }

    // ---- the hash (package-private: DropoutSimd derives its keys and threshold from these) ------

    static boolean keptBits(int k0, int k1, long i, int thr) {
        int h = mix32(mix32((int) i ^ k0) + hiKey(k1, i));
        return (h >>> 8) >= thr;
    }

    /** Key for the 2^32-element block holding element i. */
    static int hiKey(int k1, long i) {
        return mix32(k1 ^ (int) (i >>> 32) * 0x9E3779B9);
    }

    public static int key0(long seed) {
        return (int) splitmix64(seed);
    }

    public static int key1(long seed) {
        return (int) (splitmix64(seed) >>> 32);
    }

    /** Smallest 24-bit u with u * 2^-24 &gt;= p (p * 2^24 is exact in double). */
    public static int threshold(float p) {
        return (int) Math.ceil(p * 16777216.0);
    }

    static int mix32(int h) {
        h ^= h >>> 16;
        h *= 0x7feb352d;
        h ^= h >>> 15;
        h *= 0x846ca68b;
        h ^= h >>> 16;
        return h;
    }

    static long splitmix64(long seed) {
        long z = seed + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static void checkP(String k, float p) {
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException(k + ": p = " + p + " must be in [0, 1)");
    }

    static void check(String k, long n, String an, MemorySegment a, long aOff, String bn, MemorySegment b, long bOff, float p) {
        checkN(k, n);
        checkP(k, p);
        checkSeg(k, an, a, aOff, n);
        checkSeg(k, bn, b, bOff, n);
    }
}
