package kdrec.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import kdrec.gpu.Cuda;
import kdrec.gpu.CudaProbe;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuGemm;
import kdrec.gpu.GpuTopK;

/**
 * The CUDA kernels on the shapes bench/torch_gpu.py times with PyTorch (bench/gpu_bench.sh runs both
 * and prints the ratios): GEMM NN/NT/TN at 4096^3, 1024x4000x64 and 2048x41000x64 (GFLOP/s), fused
 * score -> top-100 at 2048 x 41,000 (d = 64), 30,000 x 41,000 (d = 20: RCE-KD's per-epoch student top-M
 * on the Gowalla-sized set) and 30,000 x 41,000 (d = 300), each with the selection GpuTopK uses for k = 100
 * (WARP_ROWS) and again with BLOCK_MERGE (the baseline in the same process, line prefix
 * {@code kdrec topk_block}), and, for reference, our own unfused GEMM NT + selectTopK (both selections)
 * at 2048 x 41,000. A plain main, not JMH: each case is warmed up, then timed {@code reps} times with
 * cuda.synchronize() before and after each rep; the median is printed.
 *
 * <p>Usage: {@code java ... kdrec.bench.GpuBench [reps] [warmup]}. Output lines (same format as
 * torch_gpu.py, prefix "kdrec"): {@code kdrec gemm NT 1024x4000x64 median_ms=... gflops=...} and
 * {@code kdrec topk 2048x41000x64 k=100 median_ms=...}. Without a GPU it prints one line and exits 0.
 */
public final class GpuBench {
    // m x n x k; the last four are kdrec's training backward shapes dU = G . I and dI = G^T . U (split-K)
    static final int[][] GEMM_SHAPES = {{4096, 4096, 4096}, {1024, 4000, 64}, {2048, 41_000, 64},
        {1024, 64, 4000}, {4000, 64, 1024}, {2048, 64, 41_000}, {41_000, 64, 2048}};
    static final int[][] TOPK_SHAPES = {{2048, 41_000, 64}, {30_000, 41_000, 20}, {30_000, 41_000, 300}};
    static final int K = 100;

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        if (!CudaProbe.available()) {
            System.out.println("kdrec gpu_bench: no GPU: " + CudaProbe.status().description());
            return;
        }
        Cuda cuda = CudaProbe.cuda();
        System.out.println("kdrec device " + cuda.describe());
        for (int[] s : GEMM_SHAPES) {
            int m = s[0], n = s[1], k = s[2];
            for (String lay : new String[] {"NN", "NT", "TN"}) {
                // A is m x k (NN, NT) or k x m (TN); B is k x n (NN, TN) or n x k (NT): same element counts
                try (DeviceBuffer a = random(cuda, (long) m * k, 1); DeviceBuffer b = random(cuda, (long) k * n, 2);
                     DeviceBuffer c = cuda.allocElements((long) m * n)) {
                    Runnable op = switch (lay) {
                        case "NN" -> () -> GpuGemm.nn(cuda, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
                        case "NT" -> () -> GpuGemm.nt(cuda, m, n, k, 1f, a, 0, k, b, 0, k, 0f, c, 0, n);
                        default -> () -> GpuGemm.tn(cuda, m, n, k, 1f, a, 0, m, b, 0, n, 0f, c, 0, n);
                    };
                    double ms = median(cuda, op, reps, warmup);
                    System.out.printf(Locale.ROOT, "kdrec gemm %s %dx%dx%d median_ms=%.4f gflops=%.1f%n", lay, m, n, k, ms,
                            2.0 * m * n * k / (ms * 1e6));
                }
            }
        }
        for (int[] s : TOPK_SHAPES) {
            int m = s[0], n = s[1], d = s[2];
            try (DeviceBuffer u = random(cuda, (long) m * d, 3); DeviceBuffer items = random(cuda, (long) n * d, 4);
                 DeviceBuffer oi = cuda.allocElements((long) m * K); DeviceBuffer os = cuda.allocElements((long) m * K)) {
                for (GpuTopK.Selection sel : new GpuTopK.Selection[] {GpuTopK.Selection.forK(K), GpuTopK.Selection.BLOCK_MERGE}) {
                    double ms = median(cuda, () -> GpuTopK.scoreTopK(cuda, m, n, d, u, 0, d, items, 0, d, K, null, null, oi, os, sel),
                            reps, warmup);
                    String what = sel == GpuTopK.Selection.forK(K) ? "topk" : "topk_block";
                    System.out.printf(Locale.ROOT, "kdrec %s %dx%dx%d k=%d median_ms=%.4f splits=%d selection=%s%n", what, m, n, d, K,
                            ms, GpuTopK.splits(m, n), sel);
                }
                if (m <= 4096) {  // the unfused path, for reference: GEMM NT into an m x n matrix, then select
                    try (DeviceBuffer scores = cuda.allocElements((long) m * n)) {
                        for (GpuTopK.Selection sel : GpuTopK.Selection.values()) {
                            double ms2 = median(cuda, () -> {
                                GpuGemm.nt(cuda, m, n, d, 1f, u, 0, d, items, 0, d, 0f, scores, 0, n);
                                GpuTopK.selectTopK(cuda, m, n, scores, 0, n, K, null, null, oi, os, sel);
                            }, reps, warmup);
                            System.out.printf(Locale.ROOT, "kdrec gemm+select %dx%dx%d k=%d median_ms=%.4f selection=%s%n", m, n, d, K,
                                    ms2, sel);
                        }
                    }
                }
            }
        }
    }

    static DeviceBuffer random(Cuda cuda, long n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[Math.toIntExact(n)];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return cuda.upload(x);
    }

    static double median(Cuda cuda, Runnable op, int reps, int warmup) {
        for (int i = 0; i < warmup; i++) op.run();
        double[] ms = new double[reps];
        for (int i = 0; i < reps; i++) {
            cuda.synchronize();
            long t0 = System.nanoTime();
            op.run();
            cuda.synchronize();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[reps / 2];
    }
}
