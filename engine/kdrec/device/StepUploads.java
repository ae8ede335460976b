package kdrec.device;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;

/**
 * A training step's host-to-device uploads, packed into one copy. Each array is copied into one host
 * buffer when it is staged; {@link #flush} moves them all with one synchronous copy into one device
 * arena, and each {@link Staged} is then a view of its part. A synchronous copy waits for the stream to
 * drain, so a step that uploaded its arrays one by one between its launches made the host and the GPU
 * take turns (a KD step made ten such copies); staged, a step waits once for its uploads, before its
 * first launch, and once for its losses, after its last.
 *
 * <p>Order of use per step: {@link #begin}, stage, {@link #flush}, then launch with {@link Staged#get}.
 * The arena is overwritten by the next flush, which the stream orders after every kernel launched
 * before it, so a view is good for the launches of its own step. The arena only grows (a cuMemFree or
 * cuMemAlloc synchronises the device): a warm step allocates nothing.
 */
public final class StepUploads implements AutoCloseable {
    /** Every part starts on a 256-byte boundary, as a fresh allocation would (vector loads stay aligned). */
    private static final long ALIGN = 256;

    private final Cuda cuda;
    private MemorySegment host = MemorySegment.ofArray(new long[1 << 13]); // 64 KiB; 8-byte aligned heap memory
    private long used;
    private DeviceBuffer arena;
    private boolean flushed;
    private long step;

    public StepUploads(Cuda cuda) {
        this.cuda = cuda;
    }

    /** Starts a step: earlier views are no longer valid. */
    public void begin() {
        step++;
        used = 0;
        flushed = false;
    }

    /** The first n values of {@code values}, uploaded at the next {@link #flush}. */
    public Staged ints(int[] values, int n) {
        return stage(MemorySegment.ofArray(values), n);
    }

    /** The first n values of {@code values}, uploaded at the next {@link #flush}. */
    public Staged floats(float[] values, int n) {
        return stage(MemorySegment.ofArray(values), n);
    }

    private Staged stage(MemorySegment src, int n) {
        if (flushed) throw new IllegalStateException("step uploads: staged after flush (call begin() first)");
        if (n < 0 || (long) n * 4 > src.byteSize()) throw new IllegalArgumentException("step uploads: " + n + " values of an array of " + src.byteSize() / 4);
        long bytes = (long) n * 4, off = used;
        long next = off + Math.max(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
        if (next > host.byteSize()) {
            MemorySegment bigger = MemorySegment.ofArray(new long[Math.toIntExact(Math.max(next, host.byteSize() * 3 / 2) / 8 + 1)]);
            MemorySegment.copy(host, 0, bigger, 0, used);
            host = bigger;
        }
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, 0, host, ValueLayout.JAVA_BYTE, off, bytes);
        used = next;
        return new Staged(off, bytes, step);
    }

    /** Uploads everything staged since {@link #begin} with one copy; the views are valid from here on. */
    public void flush() {
        if (flushed) throw new IllegalStateException("step uploads: flushed twice (call begin() first)");
        if (arena == null || arena.bytes() < used) {
            if (arena != null) arena.close();
            arena = null;
            arena = cuda.alloc(Math.max(used + used / 4, 64 * 1024));
        }
        if (used > 0) cuda.upload(host, 0, arena, used);
        flushed = true;
    }

    @Override
    public void close() {
        if (arena != null) arena.close();
        arena = null;
    }

    /** One staged array: its device view once flushed. */
    public final class Staged {
        private final long off, bytes, stagedIn;

        private Staged(long off, long bytes, long stagedIn) {
            this.off = off;
            this.bytes = bytes;
            this.stagedIn = stagedIn;
        }

        /** The array on the device (its n values); only between this step's flush and the next begin. */
        public DeviceBuffer get() {
            if (stagedIn != step) throw new IllegalStateException("step uploads: a view of an earlier step");
            if (!flushed) throw new IllegalStateException("step uploads: used before flush");
            return arena.slice(off, bytes);
        }
    }
}
