package kdrec.gpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A launch's arguments laid out as the CUDA driver reads a kernel's parameter buffer
 * ({@code CU_LAUNCH_PARAM_BUFFER_POINTER}): each argument at the next offset aligned to its own size
 * (pointers, long long and double 8 bytes; int and float 4), in order, no padding after the last.
 * This is the layout of the driver API samples (vectorAddDrv) and of the C ABI for the parameter list.
 *
 * <p>Why: passed as one pointer per argument, each launch cost JCuda's JNI layer about 0.5 µs per
 * argument on this machine (a Java array pinned and released per argument; 21 arguments 11.5 µs per
 * call, measured against the emulated driver returning at once), while one packed buffer costs the
 * same ~1.5 µs whatever the argument count. A device step makes tens of launches.
 *
 * <p>One instance per thread (the driver copies the buffer before cuLaunchKernel returns, so it is
 * reused at once); {@link Cuda} wraps {@link #buffer()} and {@link #sizeBuffer()} in the launch's
 * {@code extra} list. No JCuda type appears here.
 */
final class LaunchParams {
    /** The driver's limit on a kernel's parameters before CUDA 12.1 (4 KiB); kdrec's kernels take under 256 bytes. */
    static final int CAPACITY = 4096;

    private final ByteBuffer buffer = ByteBuffer.allocateDirect(CAPACITY).order(ByteOrder.nativeOrder());
    private final ByteBuffer size = ByteBuffer.allocateDirect(Long.BYTES).order(ByteOrder.nativeOrder());
    private int end; // bytes packed so far by the current pack()

    /** Device address of a buffer argument (its view's first byte); kernel and argument name it in errors. */
    @FunctionalInterface
    interface Addresses {
        long of(DeviceBuffer b, String kernel, int argument);
    }

    ByteBuffer buffer() {
        return buffer;
    }

    /** Holds the packed size as a size_t, as CU_LAUNCH_PARAM_BUFFER_SIZE points to. */
    ByteBuffer sizeBuffer() {
        return size;
    }

    /**
     * Packs {@code args} (DeviceBuffer, Integer, Long, Float or Double, as {@link Cuda#launch} takes
     * them) and stores the packed size; returns it.
     */
    long pack(String kernel, Object[] args, Addresses addresses) {
        end = 0;
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) throw new NullPointerException("kernel " + kernel + ": argument " + i + " is null");
            switch (a) {
                case DeviceBuffer b -> buffer.putLong(slot(8, kernel), addresses.of(b, kernel, i));
                case Integer v -> buffer.putInt(slot(4, kernel), v);
                case Long v -> buffer.putLong(slot(8, kernel), v);
                case Float v -> buffer.putFloat(slot(4, kernel), v);
                case Double v -> buffer.putDouble(slot(8, kernel), v);
                default -> throw unsupported(kernel, i, a);
            }
        }
        size.putLong(0, end);
        return end;
    }

    /** The offset of the next {@code bytes}-byte argument (the end so far, aligned to its size); moves the end past it. */
    private int slot(int bytes, String kernel) {
        int at = (end + bytes - 1) & -bytes;
        if (at + bytes > CAPACITY) throw new IllegalArgumentException("kernel " + kernel + ": arguments take over " + CAPACITY + " bytes");
        end = at + bytes;
        return at;
    }

    /** The error for an argument of a type no kernel parameter has (both launch paths use it). */
    static IllegalArgumentException unsupported(String kernel, int i, Object a) {
        return new IllegalArgumentException("kernel " + kernel + ": argument " + i + " has unsupported type "
                + a.getClass().getName() + " (use DeviceBuffer, Integer, Long, Float or Double)");
    }
}
