package kdrec.gpu;

/**
 * Argument checks shared by the elementwise GPU wrappers ({@link GpuVec}, {@link GpuActivation},
 * {@link GpuDropout}, {@link GpuLayerNorm}): the device-buffer counterparts of the CPU kernels' checks
 * (kdrec.cpu.ElemChunks and LayerNormScalar keep theirs package-private and typed on MemorySegment),
 * with the same messages. They never touch the {@link Cuda} context, so a wrapper validates all of its
 * arguments before its first CUDA call (the no-GPU argument test relies on that).
 */
final class GpuElemArgs {
    private GpuElemArgs() {}

    /** The CPU's bound on n (kdrec.cpu.ElemChunks.MAX_N), kept so that both sides reject the same n. */
    static final long MAX_N = (long) Integer.MAX_VALUE * 4096;

    static void checkN(String kernel, long n) {
        if (n < 0 || n > MAX_N) throw new IllegalArgumentException(kernel + ": n = " + n + " out of range [0, " + MAX_N + "]");
    }

    /** Operand {@code name} must hold n elements from element offset {@code off}. */
    static void checkBuf(String kernel, String name, DeviceBuffer b, long off, long n) {
        if (b == null) throw new IllegalArgumentException(kernel + ": " + name + " is null");
        if (off < 0 || off > b.elements() - n) {
            throw new IllegalArgumentException(kernel + ": " + name + " range [" + off + ", " + (off + n)
                    + ") outside a device buffer of " + b.elements() + " elements");
        }
    }

    /** A rows x d matrix with leading dimension ld from element offset off (LayerNormScalar's check). */
    static void checkMatrix(String kernel, String name, DeviceBuffer b, long off, int ld, int rows, int d) {
        if (b == null) throw new IllegalArgumentException(kernel + ": " + name + " is null");
        if (ld < d) throw new IllegalArgumentException(kernel + ": leading dimension of " + name + " = " + ld + " < d = " + d);
        if (rows == 0) return;
        long span = (long) (rows - 1) * ld + d;
        if (off < 0 || off > b.elements() - span) {
            throw new IllegalArgumentException(kernel + ": " + name + " (" + rows + " x " + d + ", ld " + ld + ") at offset " + off
                    + " does not fit a device buffer of " + b.elements() + " elements");
        }
    }
}
