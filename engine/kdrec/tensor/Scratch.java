package kdrec.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-step scratch memory: a bump allocator over native chunks, reset at the start of every step.
 *
 * <p>Intermediates of one forward/backward pass are carved out of a chunk in allocation order and
 * all released at once by {@link #reset()}. When a step needs more than the current chunk, a new one
 * is added (half the capacity so far up to 64 MB, or the request if larger); the next reset folds all chunks into
 * one of the high-water mark plus 1/8 (steps whose closures vary a little fit), so after the first
 * step a training loop allocates nothing. Chunks are zero-filled when allocated, so the reservation is
 * resident memory: folding to the sum of the chunks instead, grown by doubling, kept up to twice the
 * high-water mark (FreqD at d_t = 2000: gigabytes). Segments handed out are valid until the next
 * reset: holding one longer is a bug (reads would see the next step's data).
 *
 * <p>Not thread-safe: one Scratch per training thread. Kernels may read and write its segments from
 * the kernel pool's threads (the pool's join orders those accesses).
 */
public final class Scratch implements AutoCloseable {
    private static final long ALIGN = 64;
    /**
     * Growth beyond which a new chunk is only as large as the request: a request that does not fit the
     * current chunk skips its remainder, so large chunks grown geometrically left large unused (but
     * zero-filled, resident) tails in a step of many big tensors.
     */
    private static final long MAX_GROWTH = 64L << 20;
    private final List<Arena> arenas = new ArrayList<>();
    private final List<MemorySegment> chunks = new ArrayList<>();
    private int current;
    private long offset;
    private long highWater;
    private long used;
    /** Counts resets, so a mark taken before one is recognised as stale. */
    private long epoch;

    public Scratch() {
        this(1 << 20);
    }

    /** @param initialBytes size of the first chunk */
    public Scratch(long initialBytes) {
        addChunk(Math.max(ALIGN, initialBytes));
    }

    private void addChunk(long bytes) {
        Arena arena = Arena.ofShared();
        arenas.add(arena);
        chunks.add(arena.allocate(bytes, ALIGN));
    }

    /** A zero-filled tensor valid until the next {@link #reset()}. */
    public Tensor zeros(int... shape) {
        Tensor t = uninitialized(shape);
        t.data().fill((byte) 0);
        return t;
    }

    /** A tensor with undefined contents (for outputs a kernel overwrites entirely). */
    public Tensor uninitialized(int... shape) {
        long bytes = Shapes.size(Shapes.check(shape)) * Float.BYTES;
        return Tensor.wrap(allocate(bytes), shape);
    }

    /** Raw bytes, 64-byte aligned, valid until the next reset. */
    public MemorySegment allocate(long bytes) {
        long need = (bytes + ALIGN - 1) / ALIGN * ALIGN;
        while (true) {
            MemorySegment chunk = chunks.get(current);
            if (offset + need <= chunk.byteSize()) {
                MemorySegment s = chunk.asSlice(offset, Math.max(bytes, 0));
                offset += need;
                used += need;
                highWater = Math.max(highWater, used);
                return s;
            }
            if (current + 1 < chunks.size()) {
                current++;
            } else {
                addChunk(Math.max(need, Math.min(capacity() / 2, MAX_GROWTH)));
                current = chunks.size() - 1;
            }
            offset = 0;
        }
    }

    /** A point {@link #release(Mark)} rolls the allocator back to; valid until the next reset. */
    public record Mark(long epoch, int chunk, long offset, long used) {}

    /**
     * The allocator's position now, for an op's temporaries: {@code mark(); ...; release(m)} frees
     * what was allocated in between (last in, first out), so an op can run in chunks whose scratch is
     * reused instead of keeping every intermediate until the step ends.
     */
    public Mark mark() {
        return new Mark(epoch, current, offset, used);
    }

    /**
     * Frees everything allocated since {@code m}: segments handed out since are invalid from now on,
     * whoever holds them (so nothing allocated after the mark may outlive this call). Marks nest: the
     * inner one is released first (releasing one twice is harmless).
     */
    public void release(Mark m) {
        if (m.epoch() != epoch || m.used() > used) throw new IllegalStateException("scratch: release of a stale mark (reset since, or an enclosing mark was released first)");
        current = m.chunk();
        offset = m.offset();
        used = m.used();
    }

    /** Releases everything allocated since the last reset; coalesces chunks when the step grew. */
    public void reset() {
        epoch++;
        if (chunks.size() > 1) {
            closeAll();
            addChunk((highWater + highWater / 8 + ALIGN - 1) / ALIGN * ALIGN);
        }
        current = 0;
        offset = 0;
        used = 0;
    }

    /** Bytes reserved across chunks. */
    public long capacity() {
        long total = 0;
        for (MemorySegment c : chunks) total += c.byteSize();
        return total;
    }

    /** Bytes in use now (allocated since the last reset, alignment included). */
    public long used() {
        return used;
    }

    /** Largest number of bytes in use at once since creation. */
    public long highWater() {
        return highWater;
    }

    private void closeAll() {
        for (Arena a : arenas) a.close();
        arenas.clear();
        chunks.clear();
    }

    @Override
    public void close() {
        closeAll();
    }
}
