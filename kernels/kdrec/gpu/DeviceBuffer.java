package kdrec.gpu;

/**
 * A range of device memory: a view (byte offset, byte length) into one allocation made by
 * {@link Cuda#alloc}. Views share the allocation; only the root buffer frees it ({@link #close()}
 * on a view does nothing). The device pointer itself is an opaque handle that only {@link Cuda}
 * can read, so no JCuda type leaks out of that class.
 *
 * <p>Offsets taken by the kernel wrappers are in elements (4-byte floats or ints), as in the CPU
 * kernels; {@link #at(long)} turns them into a view.
 */
public final class DeviceBuffer implements AutoCloseable {
    final Cuda owner;
    final Object handle;   // jcuda.driver.CUdeviceptr of the whole allocation
    final long byteOffset;
    private final long bytes;
    private final DeviceBuffer root;   // the allocation this view belongs to (itself for a root)
    private volatile boolean freed;     // meaningful on the root only

    DeviceBuffer(Cuda owner, Object handle, long bytes) {
        this(owner, handle, 0, bytes, null);
    }

    private DeviceBuffer(Cuda owner, Object handle, long byteOffset, long bytes, DeviceBuffer root) {
        this.owner = owner;
        this.handle = handle;
        this.byteOffset = byteOffset;
        this.bytes = bytes;
        this.root = root == null ? this : root;
    }

    /**
     * A buffer of {@code elements} 4-byte elements with no context and no device memory behind it, for
     * tests of the wrappers' argument checks on machines without a GPU (any launch with it fails).
     */
    static DeviceBuffer detached(long elements) {
        return new DeviceBuffer(null, null, elements * 4);
    }

    /** Size of this view in bytes. */
    public long bytes() {
        return bytes;
    }

    /** Size of this view in 4-byte elements (floats or ints). */
    public long elements() {
        return bytes / 4;
    }

    /** A view from {@code byteOff} (relative to this view) of {@code len} bytes. */
    public DeviceBuffer slice(long byteOff, long len) {
        if (byteOff < 0 || len < 0 || byteOff + len > bytes) {
            throw new IndexOutOfBoundsException("DeviceBuffer.slice(" + byteOff + ", " + len + ") of a " + bytes + "-byte buffer");
        }
        return new DeviceBuffer(owner, handle, byteOffset + byteOff, len, root);
    }

    /** The view starting at 4-byte element {@code elementOffset} and running to the end of this view. */
    public DeviceBuffer at(long elementOffset) {
        return elementOffset == 0 ? this : slice(elementOffset * 4, bytes - elementOffset * 4);
    }

    /** Frees the allocation if this is the root buffer (idempotent); a view's close does nothing. */
    @Override
    public void close() {
        if (root == this && !freed) {
            freed = true;
            owner.free(this);
        }
    }

    /** True once the allocation is freed, for the root and every view of it. */
    boolean freed() {
        return root.freed;
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + bytes + " bytes at +" + byteOffset + (root == this ? "" : ", view") + "]";
    }
}
