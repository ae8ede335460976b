package kdrec.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Long-lived memory owned by a model: parameters, their gradients and optimizer state. One shared
 * arena (any thread may read it), freed when the model is closed; tensors from a closed store throw
 * {@link IllegalStateException} on access.
 */
public final class ParamStore implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private long bytes;

    /** A zero-filled tensor that lives as long as this store. */
    public Tensor zeros(int... shape) {
        long n = Shapes.size(Shapes.check(shape)) * Float.BYTES;
        MemorySegment s = arena.allocate(Math.max(n, 1), 64); // allocate() zero-fills
        bytes += n;
        return Tensor.wrap(s, shape);
    }

    /** A copy of {@code src} that lives as long as this store. */
    public Tensor copyOf(Tensor src) {
        Tensor t = zeros(src.shape());
        src.copyTo(t);
        return t;
    }

    /** Bytes allocated so far. */
    public long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        arena.close();
    }
}
