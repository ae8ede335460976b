package kdrec.gpu;

import static kdrec.gpu.GpuElemArgs.checkBuf;
import static kdrec.gpu.GpuElemArgs.checkN;

import kdrec.cpu.DropoutScalar;

/**
 * Inverted dropout on the GPU with the CPU's counter-based mask: the CUDA twin of
 * {@link kdrec.cpu.DropoutScalar} (same signatures with {@link DeviceBuffer} for MemorySegment and a
 * leading {@link Cuda}). Kernels: native/elementwise.cu, {@code kdrec_dropout_*}.
 *
 * <p>The mask bit of element i is the pure function of (seed, i, p) that DropoutScalar's header
 * defines (splitmix64 keys, two lowbias32 rounds, a 24-bit threshold), so the GPU keeps exactly the
 * elements the CPU keeps and forward/backward match DropoutScalar bit for bit. The keys k0/k1, the
 * threshold ceil(p * 2^24) come from DropoutScalar itself and the scale 1f / (1f - p) is its
 * expression; they are passed to the kernel; the kernel only hashes the element index.
 *
 * <p>Decomposition: one grid-stride launch of {@link GpuVec#BLOCK}-thread blocks, one element per
 * thread per step; no mask is stored (backward re-derives it from the seed).
 */
public final class GpuDropout {
    private GpuDropout() {}

    /** y = kept ? x * scale : 0 (y = x when p = 0); y may be the same range as x. */
    public static void forward(Cuda cuda, long n, DeviceBuffer x, long xOff, DeviceBuffer y, long yOff, float p, long seed) {
        forwardAt(cuda, n, 0L, x, xOff, y, yOff, p, seed);
    }

    /** gx += kept ? gy * scale : 0 (gx += gy when p = 0). */
    public static void backward(Cuda cuda, long n, DeviceBuffer gy, long gyOff, DeviceBuffer gx, long gxOff, float p, long seed) {
        backwardAt(cuda, n, 0L, gy, gyOff, gx, gxOff, p, seed);
    }

    /**
     * {@link #forward} for elements [base, base + n) of a longer operation: element j of the range uses
     * mask index base + j. The public API always passes base = 0; the tests use a large base to check
     * the mask past 2^31 and 2^32 (where the hash's high-word key changes) with a small buffer.
     */
    static void forwardAt(Cuda cuda, long n, long base, DeviceBuffer x, long xOff, DeviceBuffer y, long yOff, float p, long seed) {
        check("GpuDropout.forward", n, base, "x", x, xOff, "y", y, yOff, p);
        if (n == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_dropout_forward"), n, GpuVec.BLOCK, n, base, x.at(xOff), y.at(yOff),
                DropoutScalar.key0(seed), DropoutScalar.key1(seed), DropoutScalar.threshold(p), 1f / (1f - p), p == 0f ? 1 : 0);
    }

    /** {@link #backward} with mask indices base + j (see {@link #forwardAt}). */
    static void backwardAt(Cuda cuda, long n, long base, DeviceBuffer gy, long gyOff, DeviceBuffer gx, long gxOff, float p, long seed) {
        check("GpuDropout.backward", n, base, "gy", gy, gyOff, "gx", gx, gxOff, p);
        if (n == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_dropout_backward"), n, GpuVec.BLOCK, n, base, gy.at(gyOff), gx.at(gxOff),
                DropoutScalar.key0(seed), DropoutScalar.key1(seed), DropoutScalar.threshold(p), 1f / (1f - p), p == 0f ? 1 : 0);
    }

    private static void check(String k, long n, long base, String an, DeviceBuffer a, long aOff, String bn, DeviceBuffer b, long bOff, float p) {
        checkN(k, n);
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException(k + ": p = " + p + " must be in [0, 1)");
        if (base < 0 || base > Long.MAX_VALUE - n) throw new IllegalArgumentException(k + ": base index " + base + " out of range for n = " + n);
        checkBuf(k, an, a, aOff, n);
        checkBuf(k, bn, b, bOff, n);
    }
}
