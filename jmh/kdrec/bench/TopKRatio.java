package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.SplittableRandom;
import kdrec.cpu.GemmSimd;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.cpu.ScoreTile;
import kdrec.cpu.TopKSimd;

/**
 * Fused score -> top-K against GEMM NT alone and GEMM + select, interleaved in one process (the box
 * is shared and noisy, so the ratio is taken per round, variants in rotating order, and reported as a
 * median next to each variant's median and min). Same operands as {@link TopKBench}
 * (2048 x 41 000 x 64 Gaussian, k = 100). Besides the wall time it prints the process CPU time per
 * call divided by the thread count (what the wall time would be on an idle box, if balanced).
 *
 * <p>Usage: {@code bench/topk_ratio.sh [rounds] [threads] [m] [n] [d] [k]}.
 */
public final class TopKRatio {
    public static void main(String[] args) {
        BenchArgs a = new BenchArgs("bench/topk_ratio.sh [rounds=15] [threads=2] [m=2048] [n=41000] [d=64] [k=100]", args);
        int rounds = a.integer(0, "rounds", 15, 1);
        int threads = a.integer(1, "threads", 2, 1);
        int m = a.integer(2, "m", 2048, 1);
        int n = a.integer(3, "n", 41000, 1);
        int d = a.integer(4, "d", 64, 1);
        int k = a.integer(5, "k", 100, 1);
        if (k > n) throw a.fail("k must be <= n, got k " + k + ", n " + n);
        Parallel.setThreads(threads);
        Arena arena = Arena.ofShared();
        MemorySegment u = gaussian(arena, 1, (long) m * d, d), items = gaussian(arena, 2, (long) n * d, d);
        MemorySegment c = arena.allocate((long) m * n * Float.BYTES, 64);
        int[] outIdx = new int[m * k];
        float[] outScore = new float[m * k];
        String[] names = {"gemmOnly", "fused", "unfused", "tilesOnly"};
        int nt = Math.max(1, Math.min(24576 / Math.max(1, d), 768) / ScoreTile.NR) * ScoreTile.NR;
        int tilesN = (n + nt - 1) / nt;
        float[][] packed = new float[tilesN][ScoreTile.packedSize(nt, d)];
        Runnable[] bodies = {
            () -> GemmSimd.nt(m, n, d, 1f, u, 0, d, items, 0, d, 0f, c, 0, n),
            () -> TopKSimd.scoreTopK(m, n, d, u, 0, d, items, 0, d, k, null, null, outIdx, outScore),
            () -> {
                GemmSimd.nt(m, n, d, 1f, u, 0, d, items, 0, d, 0f, c, 0, n);
                TopKSimd.selectTopK(m, n, c, 0, n, k, null, null, outIdx, outScore);
            },
            () -> tiles(u, items, m, n, d, nt, packed),
        };
        String only = System.getProperty("kdrec.bench.only");
        if (only != null) {
            // profiling aid: run one variant in a loop (e.g. under perf record)
            int v = Arrays.asList(names).indexOf(only);
            for (int r = 0; r < 4 + rounds; r++) bodies[v].run();
            return;
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (int w = 0; w < 4; w++) for (Runnable b : bodies) b.run();
        double[][] wall = new double[names.length][rounds], cpu = new double[names.length][rounds];
        double[] ratio = new double[rounds], ratioCpu = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            for (int q = 0; q < names.length; q++) {
                int v = (q + r) % names.length;
                long c0 = totalCpu(mx), t0 = System.nanoTime();
                bodies[v].run();
                long t1 = System.nanoTime(), c1 = totalCpu(mx);
                wall[v][r] = (t1 - t0) / 1e6;
                cpu[v][r] = (c1 - c0) / 1e6 / threads;
            }
            ratio[r] = wall[1][r] / wall[0][r];
            ratioCpu[r] = cpu[1][r] / cpu[0][r];
        }
        double flops = 2.0 * m * n * d;
        System.out.printf("m=%d n=%d d=%d k=%d threads=%d rounds=%d%n", m, n, d, k, threads, rounds);
        for (int v = 0; v < names.length; v++) {
            double med = median(wall[v]);
            System.out.printf("%-9s wall median %7.2f ms (min %7.2f)  cpu/thread median %7.2f ms (min %7.2f)  %6.1f GFLOP/s%n",
                    names[v], med, min(wall[v]), median(cpu[v]), min(cpu[v]), flops / med / 1e6);
        }
        System.out.printf("fused/gemmOnly: wall %.3f (ratio of medians %.3f, of mins %.3f), cpu %.3f%n",
                median(ratio), median(wall[1]) / median(wall[0]), min(wall[1]) / min(wall[0]), median(ratioCpu));
        System.out.printf("fused/unfused: wall %.3f (ratio of mins %.3f)%n", median(wall[1]) / median(wall[2]),
                min(wall[1]) / min(wall[2]));
        arena.close();
    }

    /** The fused kernel's tile computation alone (ScoreTile into an L2 tile, no selection): its floor. */
    static float tiles(MemorySegment u, MemorySegment items, int m, int n, int d, int nt, float[][] p) {
        Parallel.forRange(p.length, 1, 8, (lo, hi) -> {
            for (int t = lo; t < hi; t++) ScoreTile.packB(items, 0, d, t * nt, Math.min(nt, n - t * nt), d, p[t]);
        });
        int mbMax = 48;
        float[] sink = new float[Parallel.threads() + 1];
        Parallel.forChunks(m, mbMax, mbMax, (chunk, lo, hi) -> {
            float[] a = new float[mbMax * d], cb = new float[mbMax * nt];
            float sk = 0;
            for (int r0 = lo; r0 < hi; r0 += mbMax) {
                int mb = Math.min(mbMax, hi - r0);
                Mem.copyOut(u, (long) r0 * d, a, 0, mb * d);
                for (int t = 0; t < p.length; t++) {
                    ScoreTile.tile(mb, Math.min(nt, n - t * nt), d, a, 0, d, p[t], cb, nt);
                    sk += cb[(t * 7) % (mb * nt)];
                }
            }
            sink[chunk] = sk;
        });
        float s = 0;
        for (float v : sink) s += v;
        return s;
    }

    /** CPU time of every live thread of this JVM (pool workers included). */
    static long totalCpu(ThreadMXBean mx) {
        long s = 0;
        for (long id : mx.getAllThreadIds()) {
            long t = mx.getThreadCpuTime(id);
            if (t > 0) s += t;
        }
        return s;
    }

    static double median(double[] x) {
        double[] y = x.clone();
        Arrays.sort(y);
        return y[y.length / 2];
    }

    static double min(double[] x) {
        return Arrays.stream(x).min().orElse(Double.NaN);
    }

    static MemorySegment gaussian(Arena arena, long seed, long len, int d) {
        MemorySegment s = arena.allocate(Math.max(1, len) * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < len; i++) {
            double g = Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
            Mem.set(s, i, (float) (g / Math.sqrt(d)));
        }
        return s;
    }
}
