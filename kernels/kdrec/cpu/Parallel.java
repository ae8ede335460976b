package kdrec.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * The kernels' thread pool: deterministic static partitioning of an index range over a fixed number
 * of threads ({@code -Dkdrec.threads=N}, default: all available processors).
 *
 * <p>Every kernel partitions so that each output element is computed by exactly one task with a
 * fixed summation order: results are bit-for-bit identical for a given seed, and as far as each
 * kernel documents, independent of the thread count too. Chunk 0 runs on the calling thread.
 */
public final class Parallel {
    private Parallel() {}

    private static volatile int threads = defaultThreads();
    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, Runtime.getRuntime().availableProcessors()),
            pool -> {
                var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("kdrec-worker-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            }, null, false);

    private static int defaultThreads() {
        String p = System.getProperty("kdrec.threads");
        int n = Runtime.getRuntime().availableProcessors();
        if (p != null && !p.isBlank()) {
            try {
                n = Integer.parseInt(p.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("kdrec.threads must be a positive integer, got '" + p + "'");
            }
            if (n < 1) throw new IllegalArgumentException("kdrec.threads must be a positive integer, got " + n);
        }
        return n;
    }

    /** Number of threads kernels use. */
    public static int threads() {
        return threads;
    }

    /** Sets the number of threads kernels use (at least 1). Intended for benchmarks and tests. */
    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        threads = n;
    }

    /** A body that processes the half-open range [from, to). */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /** A body that processes chunk {@code chunk} of {@code chunks} (for per-thread scratch). */
    @FunctionalInterface
    public interface Chunk {
        void run(int chunk, int from, int to);
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@link #threads()} contiguous chunks whose
     * boundaries are multiples of {@code align} (except the end). Ranges smaller than
     * {@code minPerTask} per task run on the caller alone.
     */
    public static void forRange(int n, int align, int minPerTask, Range body) {
        forChunks(n, align, minPerTask, (c, from, to) -> body.run(from, to));
    }

    /** Like {@link #forRange} but tells the body which chunk it is (0-based). */
    public static void forChunks(int n, int align, int minPerTask, Chunk body) {
        if (n <= 0) return;
        int a = Math.max(1, align);
        int units = (n + a - 1) / a;
        int tasks = Math.min(threads, Math.max(1, n / Math.max(1, minPerTask)));
        tasks = Math.min(tasks, units);
        if (tasks <= 1) {
            body.run(0, 0, n);
            return;
        }
        int[] bounds = new int[tasks + 1];
        for (int t = 0; t <= tasks; t++) bounds[t] = Math.min(n, (int) ((long) units * t / tasks) * a);
        bounds[tasks] = n;
        ForkJoinTask<?>[] forked = new ForkJoinTask<?>[tasks - 1];
        for (int t = 1; t < tasks; t++) {
            final int ci = t, lo = bounds[t], hi = bounds[t + 1];
            forked[t - 1] = POOL.submit(new RecursiveAction() {
                @Override
                protected void compute() {
                    body.run(ci, lo, hi);
                }
            });
        }
        Throwable failure = null;
        try {
            body.run(0, bounds[0], bounds[1]);
        } catch (Throwable e) {
            failure = e;
        }
        for (ForkJoinTask<?> f : forked) {
            try {
                f.join();
            } catch (Throwable e) {
                if (failure == null) failure = e; else failure.addSuppressed(e);
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new RuntimeException(failure);
    }
}
