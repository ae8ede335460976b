package kdrec.device;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;

/**
 * Device buffers that per-step host arrays (a batch's ids, an epoch's lists) are uploaded into,
 * one named slot each, grown by a quarter when too small and never shrunk: a training step then
 * allocates nothing on the device (cuMemAlloc/cuMemFree synchronise the whole device).
 */
public final class UploadSlots implements AutoCloseable {
    private final Cuda cuda;
    private final Map<String, DeviceBuffer> slots = new HashMap<>();

    public UploadSlots(Cuda cuda) {
        this.cuda = cuda;
    }

    /** Slot {@code name} holding at least {@code n} elements (contents undefined after a growth). */
    public DeviceBuffer reserve(String name, long n) {
        DeviceBuffer b = slots.get(name);
        if (b != null && b.elements() >= Math.max(n, 1)) return b;
        if (b != null) b.close();
        long cap = Math.max(Math.max(n, 1), b == null ? 0 : b.elements() + b.elements() / 4);
        b = cuda.allocElements(cap);
        slots.put(name, b);
        return b;
    }

    /** The first n values of {@code values} in slot {@code name}. */
    public DeviceBuffer ints(String name, int[] values, int n) {
        DeviceBuffer b = reserve(name, n);
        if (n > 0) cuda.upload(MemorySegment.ofArray(values), 0, b, n * 4L);
        return b;
    }

    /** The first n values of {@code values} in slot {@code name}. */
    public DeviceBuffer floats(String name, float[] values, int n) {
        DeviceBuffer b = reserve(name, n);
        if (n > 0) cuda.upload(MemorySegment.ofArray(values), 0, b, n * 4L);
        return b;
    }

    @Override
    public void close() {
        for (DeviceBuffer b : slots.values()) b.close();
        slots.clear();
    }
}
