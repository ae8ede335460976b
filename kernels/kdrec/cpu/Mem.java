package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Element access to float32 {@link MemorySegment}s for the kernels. Offsets throughout the kernel
 * layer are in <em>elements</em> (floats), as {@code long}s; this class turns them into byte offsets.
 */
public final class Mem {
    private Mem() {}

    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
    public static final ByteOrder ORDER = ByteOrder.nativeOrder();

    public static float get(MemorySegment s, long i) {
        return s.getAtIndex(F32, i);
    }

    public static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(F32, i, v);
    }

    public static void add(MemorySegment s, long i, float v) {
        s.setAtIndex(F32, i, s.getAtIndex(F32, i) + v);
    }

    /** Byte offset of element {@code i}. */
    public static long bytes(long i) {
        return i * Float.BYTES;
    }

    /** Number of float elements in a segment. */
    public static long floats(MemorySegment s) {
        return s.byteSize() / Float.BYTES;
    }

    /** Copies {@code n} floats from a segment into an array. */
    public static void copyOut(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        MemorySegment.copy(src, F32, bytes(srcOff), dst, dstOff, n);
    }

    /** Copies {@code n} floats from an array into a segment. */
    public static void copyIn(float[] src, int srcOff, MemorySegment dst, long dstOff, int n) {
        MemorySegment.copy(src, srcOff, dst, F32, bytes(dstOff), n);
    }

    /** Wraps a float array as a heap segment (no copy). */
    public static MemorySegment of(float[] a) {
        return MemorySegment.ofArray(a);
    }

    /** Checks that [off, off+n) lies inside the segment; throws naming the operand otherwise. */
    public static void checkRange(String what, MemorySegment s, long off, long n) {
        if (off < 0 || n < 0 || off + n > floats(s)) {
            throw new IllegalArgumentException(what + ": range [" + off + ", " + (off + n) + ") outside a segment of "
                    + floats(s) + " floats");
        }
    }
}
