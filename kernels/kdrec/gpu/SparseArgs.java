package kdrec.gpu;

/**
 * Argument checks and launch helpers shared by {@link GpuSpmm}, {@link GpuEmbedding} and
 * {@link GpuAdam}. The checks see only what the host knows without a download: dimensions, leading
 * dims, offsets and buffer capacities. The contents of index buffers (CSR columns, gather indices,
 * Adam rows) are the caller's guarantee; the CPU twins check them on the host, and the GPU twin
 * would need a device-to-host copy per call to do the same.
 */
final class SparseArgs {
    private SparseArgs() {}

    /** Threads per block of every launch in this family (a multiple of each group width). */
    static final int BLOCK = 256;

    /**
     * A nullable buffer as a kernel argument: a null pointer is passed as a 64-bit zero, which the
     * kernel receives as {@code nullptr} (cuLaunchKernel copies each parameter's size, 8 bytes for a
     * pointer, from the address it is given; {@link Cuda#launch} does not accept null itself).
     */
    static Object orNull(DeviceBuffer b) {
        return b == null ? (Object) 0L : b;
    }

    /** Lanes per output row for the group kernels: d &lt;= 8 -&gt; 8, d &lt;= 16 -&gt; 16, else a warp. */
    static int group(int d) {
        return d <= 8 ? 8 : d <= 16 ? 16 : 32;
    }

    static void nonNegative(String op, String name, long value) {
        if (value < 0) throw new IllegalArgumentException(op + ": " + name + " = " + value + " < 0");
    }

    /**
     * A (rows x d, leading dim ld) float operand starting at element {@code off} of {@code b}:
     * non-null, off &gt;= 0, ld &gt;= d, and (rows &gt; 0, d &gt; 0) its last element inside the buffer.
     * rows = 0 checks only what can be checked without knowing the row count.
     */
    static void dense(String op, String what, DeviceBuffer b, long off, int ld, long rows, int d) {
        if (b == null) throw new IllegalArgumentException(op + ": " + what + " is null");
        if (off < 0) throw new IllegalArgumentException(op + ": " + what + " offset " + off + " < 0");
        if (ld < d || ld < 0) throw new IllegalArgumentException(op + ": leading dim of " + what + " " + ld + " < d = " + d);
        long have = b.elements();
        if (off > have) throw new IllegalArgumentException(op + ": " + what + " offset " + off + " beyond its " + have + " elements");
        if (rows > 0 && d > 0) {
            long need = off + (rows - 1) * ld + d;
            if (need > have) {
                throw new IllegalArgumentException(op + ": " + what + " (" + rows + " x " + d + ", ld " + ld + ", offset " + off
                        + ") needs " + need + " elements, the buffer holds " + have);
            }
        }
    }

    /** A buffer of at least {@code n} 4-byte elements (ints or floats), non-null. */
    static void elements(String op, String what, DeviceBuffer b, long n) {
        if (b == null) throw new IllegalArgumentException(op + ": " + what + " is null");
        if (b.elements() < n) throw new IllegalArgumentException(op + ": " + what + " needs " + n + " entries, has " + b.elements());
    }

    /** As {@link #elements}, but null is allowed (an identity index or an all-ones value array). */
    static void elementsOrNull(String op, String what, DeviceBuffer b, long n) {
        if (b != null) elements(op, what, b, n);
    }
}
