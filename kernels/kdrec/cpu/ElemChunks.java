package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Shared driver and argument checks for the length-{@code n} elementwise kernels (Vec*, Activation*,
 * Dropout*). A {@code long} length is cut into {@code int}-sized pieces so the vector loops index with
 * {@code int} (C2 handles int counted loops best); above a size where threads pay, the pieces are
 * spread over {@link Parallel} in units of {@link #UNIT} elements.
 *
 * <p>Pieces never straddle a multiple of {@link #PIECE} (a power of two), so a piece never crosses a
 * 2^32 boundary of the element index either: the dropout hash relies on that to split the index into
 * a per-piece high word and per-lane low words.
 *
 * <p>Segments of a confined arena can only be touched by their owner thread, so kernels pass their
 * thresholds through {@link #gate} and stay on the calling thread for such segments (slower for big
 * n, never wrong); use shared, global, auto or heap segments to get the threads.
 */
final class ElemChunks {
    private ElemChunks() {}

    /** Parallel work unit in elements; a multiple of every lane count (4..16) times 4 accumulators. */
    static final int UNIT = 4096;
    /** Largest piece handed to a kernel body, in elements (a power of two, a multiple of UNIT). */
    static final int PIECE = 1 << 20;
    /** Largest n accepted: keeps the unit count an int. */
    static final long MAX_N = (long) Integer.MAX_VALUE * UNIT;

    /** Processes elements [start, start+len) of the operation. */
    @FunctionalInterface
    interface Piece {
        void run(long start, int len);
    }

    /**
     * Runs {@code body} over [0, n): on the caller alone when {@code n < minParallel} or one thread is
     * configured, else over the pool with at least {@code minParallel/2} elements per task.
     */
    static void run(long n, long minParallel, Piece body) {
        if (n <= 0) return;
        if (n < minParallel || Parallel.threads() == 1) {
            serial(0, n, body);
            return;
        }
        int units = (int) ((n + UNIT - 1) / UNIT);
        int minUnits = (int) Math.max(1, minParallel / 2 / UNIT);
        Parallel.forRange(units, 1, minUnits, (from, to) -> serial((long) from * UNIT, Math.min(n, (long) to * UNIT), body));
    }

    static void serial(long s, long e, Piece body) {
        for (long p = s; p < e; ) {
            long next = Math.min(e, (p / PIECE + 1) * PIECE);
            body.run(p, (int) (next - p));
            p = next;
        }
    }

    /** A thread that is never started: only used to ask whether a segment is confined to its owner. */
    private static final Thread OTHER = Thread.ofPlatform().unstarted(() -> {});

    /**
     * {@code minParallel}, or {@link Long#MAX_VALUE} (stay on the caller) when a segment belongs to a
     * confined arena: pool threads may not touch it (WrongThreadException). Heap, global, auto and
     * shared segments are accessible from any thread. Null segments are ignored.
     */
    static long gate(long minParallel, MemorySegment a) {
        return a != null && !a.isAccessibleBy(OTHER) ? Long.MAX_VALUE : minParallel;
    }

    static long gate(long minParallel, MemorySegment a, MemorySegment b) {
        return gate(gate(minParallel, a), b);
    }

    static long gate(long minParallel, MemorySegment a, MemorySegment b, MemorySegment c) {
        return gate(gate(gate(minParallel, a), b), c);
    }

    /** Checks the length; throws naming the kernel. Allocation-free on the success path. */
    static void checkN(String kernel, long n) {
        if (n < 0 || n > MAX_N) throw new IllegalArgumentException(kernel + ": n = " + n + " out of range [0, " + MAX_N + "]");
    }

    /** Checks that operand {@code name} holds n floats from element offset {@code off}. */
    static void checkSeg(String kernel, String name, MemorySegment s, long off, long n) {
        if (s == null) throw new IllegalArgumentException(kernel + ": " + name + " is null");
        if (off < 0 || off > Mem.floats(s) - n) {
            throw new IllegalArgumentException(kernel + ": " + name + " range [" + off + ", " + (off + n)
                    + ") outside a segment of " + Mem.floats(s) + " floats");
        }
    }
}
