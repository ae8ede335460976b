package kdrec.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import kdrec.gpu.Cuda;
import kdrec.gpu.CudaProbe;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuSoftmaxCe;

/**
 * Full-softmax CE forward + backward on the GPU, defined like bench/torch_gpu_ce.py so the two can be
 * compared line by line: U 2048 x 64, I 41,000 x 64 (N(0, 0.1^2), seeded), one target per row,
 * loss = mean over rows of CE(U I^T) (so gLoss = 1/m), forward (online lse, no m x n buffer) then
 * backward (dU and dI, recomputing the scores). Caller-owned workspace: no allocation in the loop.
 *
 * <p>Usage: {@code java --enable-native-access=ALL-UNNAMED -cp "target/benchmarks.jar:target/lib/*"
 * kdrec.bench.GpuCeBench [iters] [warmup] [m] [n] [d]}. Prints
 * {@code ce_fwd_bwd_ms kdrec=<median> fwd=<median> bwd=<median> ...} and exits 0 with an
 * {@code kdrec=n/a} line when there is no GPU. Each timed iteration ends with a synchronize.
 */
public final class GpuCeBench {
    public static void main(String[] args) {
        int iters = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int m = args.length > 2 ? Integer.parseInt(args[2]) : 2048;
        int n = args.length > 3 ? Integer.parseInt(args[3]) : 41_000;
        int d = args.length > 4 ? Integer.parseInt(args[4]) : 64;
        if (!CudaProbe.available()) {
            System.out.println("ce_fwd_bwd_ms kdrec=n/a (" + CudaProbe.status().description() + ")");
            return;
        }
        Cuda cuda = CudaProbe.cuda();
        SplittableRandom rnd = new SplittableRandom(42);
        float[] u = gaussian(rnd, (long) m * d, 0.1f), items = gaussian(rnd, (long) n * d, 0.1f);
        int[] target = new int[m];
        for (int r = 0; r < m; r++) target[r] = rnd.nextInt(n);
        float[] gl = new float[m];
        Arrays.fill(gl, 1f / m);
        long ws = Math.max(1, Math.max(GpuSoftmaxCe.forwardWorkspaceFloats(m, n), GpuSoftmaxCe.backwardWorkspaceFloats(m, n, d)));
        try (DeviceBuffer gu = cuda.upload(u); DeviceBuffer gi = cuda.upload(items); DeviceBuffer gt = cuda.upload(target);
             DeviceBuffer gLoss = cuda.upload(gl); DeviceBuffer loss = cuda.allocElements(m); DeviceBuffer lse = cuda.allocElements(m);
             DeviceBuffer du = cuda.allocElements((long) m * d); DeviceBuffer di = cuda.allocElements((long) n * d);
             DeviceBuffer work = cuda.allocElements(ws)) {
            double[] fwd = new double[iters], bwd = new double[iters], all = new double[iters];
            for (int it = -warmup; it < iters; it++) {
                // Gradients accumulate (+=) like the CPU kernels; zero them as an optimizer step would.
                cuda.fill32(du, (long) m * d, 0);
                cuda.fill32(di, (long) n * d, 0);
                cuda.synchronize();
                long t0 = System.nanoTime();
                GpuSoftmaxCe.forward(cuda, m, n, d, gu, 0, d, gi, 0, d, 1f, gt, loss, lse, work);
                cuda.synchronize();
                long t1 = System.nanoTime();
                GpuSoftmaxCe.backward(cuda, m, n, d, gu, 0, d, gi, 0, d, 1f, gt, lse, gLoss, du, 0, d, di, 0, d, work);
                cuda.synchronize();
                long t2 = System.nanoTime();
                if (it >= 0) {
                    fwd[it] = (t1 - t0) / 1e6;
                    bwd[it] = (t2 - t1) / 1e6;
                    all[it] = (t2 - t0) / 1e6;
                }
            }
            float[] l = cuda.downloadFloats(loss, m);
            double mean = 0;
            for (float v : l) mean += v;
            mean /= m;
            double flop = 2.0 * m * n * d * 5;  // forward scores + backward: scores twice, dU, dI
            double med = median(all);
            System.out.println(String.format(Locale.ROOT,
                    "ce_fwd_bwd_ms kdrec=%.3f fwd=%.3f bwd=%.3f min=%.3f m=%d n=%d d=%d iters=%d mean_loss=%.5f tflops=%.1f device=%s",
                    med, median(fwd), median(bwd), Arrays.stream(all).min().orElse(0), m, n, d, iters, mean,
                    flop / (med * 1e-3) / 1e12, cuda.describe()));
        }
    }

    private static float[] gaussian(SplittableRandom r, long n, float sd) {
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) {
            double u1 = r.nextDouble(), u2 = r.nextDouble();
            a[i] = (float) (sd * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        return a;
    }

    /** Median of all of {@code a} (no warm-up element dropped: the callers time after their warm-up). */
    static double median(double[] a) {
        if (a.length == 0) return Double.NaN;
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
