package kdrec.gpu;

import java.util.concurrent.locks.ReentrantLock;

/**
 * A context's scratch memory for the kernel wrappers that need some for the length of one call (GEMM's
 * split-K partial sums, top-K's per-split lists, softmax-CE's partial log-sum-exps, the reductions'
 * partials): one grow-only allocation reused by every call. A per-call cuMemAlloc/cuMemFree pair
 * synchronises the whole device each time and costs tens of microseconds, as much as the kernels of a
 * small call themselves (PyTorch keeps a caching allocator for the same reason).
 *
 * <p>A call holds a {@link Lease} until it has launched its last kernel on the scratch (and, where it
 * reads a result back, downloaded it). Launches are stream-ordered, so the next lease may reuse the
 * memory at once; a grow frees the old block, and cuMemFree waits for the kernels still reading it.
 * Leases are exclusive: another thread waits, and a nested lease on the same thread is a bug (the inner
 * grow would free the outer call's scratch), refused with an IllegalStateException. The scratch is the
 * context's cache, not a leak: {@link Cuda#allocatedBytes} leaves it out.
 */
public final class Workspace {
    private final Cuda cuda;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile DeviceBuffer block; // read without the lock by heldBytes (the leak count)

    Workspace(Cuda cuda) {
        this.cuda = cuda;
    }

    /** At least {@code bytes} of device scratch, contents undefined, until the lease is closed. */
    public Lease lease(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("Workspace.lease: negative size " + bytes);
        if (lock.isHeldByCurrentThread()) throw new IllegalStateException("Workspace.lease: nested lease on one thread");
        lock.lock();
        try {
            if (block == null || block.bytes() < bytes) {
                long grown = Math.max(bytes, block == null ? 0 : block.bytes() + block.bytes() / 2);
                if (block != null) block.close();
                block = null;
                try {
                    block = cuda.alloc(grown);
                } catch (CudaException e) { // no room for the headroom: exactly what this call needs
                    if (grown == bytes) throw e;
                    block = cuda.alloc(bytes);
                }
            }
            return new Lease(block.slice(0, bytes));
        } catch (RuntimeException e) {
            lock.unlock();
            throw e;
        }
    }

    /** Bytes the cache holds now (left out of the context's allocation count). */
    long heldBytes() {
        return block == null ? 0 : Math.max(4, (block.bytes() + 3) & ~3L);
    }

    /** One call's use of the scratch. */
    public final class Lease implements AutoCloseable {
        private final DeviceBuffer buffer;
        private boolean closed;

        private Lease(DeviceBuffer buffer) {
            this.buffer = buffer;
        }

        /** The scratch: exactly the bytes asked for. */
        public DeviceBuffer buffer() {
            if (closed) throw new IllegalStateException("Workspace lease used after close");
            return buffer;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            lock.unlock();
        }
    }
}
