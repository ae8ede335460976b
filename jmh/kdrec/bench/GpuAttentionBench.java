package kdrec.bench;

import java.util.Locale;
import java.util.SplittableRandom;
import kdrec.gpu.Cuda;
import kdrec.gpu.CudaProbe;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuAttention;

/**
 * HSTU's pointwise attention on the GPU (GpuAttention: qk + relative bias, SiLU, 1/n, causal mask, A.V;
 * and its backward to q, k, v and the bias table), on the shapes bench/torch_gpu_attention.py runs in
 * PyTorch so the two compare line by line: 128 sequences of n = 50 and 200, 1 and 2 heads, d = 64, and the
 * reference's CiteULike teacher block (n = 110, 4 heads, q/k rows 32 wide, v rows 64);
 * inputs uniform in [-1, 1) (seeded), the bias table 2n - 1 long. Each timed iteration ends with a
 * synchronize; medians over the iterations after warm-up.
 *
 * <p>Usage: {@code kdrec.bench.GpuAttentionBench [iters] [warmup] [b n h d [ldV [bias]]]} (a shape given: only
 * that one, e.g. a small one for the emulated driver; d is the q/k row width h * dhQk, ldV the v row width
 * h * dhV, d when left out; bias 0 for a chain without the position bias). Prints one line per shape,
 * {@code kdrec attention b=.. n=.. h=.. d=.. median_ms=<fwd+bwd> fwd_ms=.. bwd_ms=..} (with {@code ldV=..}
 * after d where the widths differ, {@code bias=off} without the bias), or one {@code kdrec attention n/a} line when there is no GPU.
 */
public final class GpuAttentionBench {
    /**
     * {b, n, h, d, ldV, bias (1/0)}; the last is the RCE-KD code's CiteULike teacher block as the code runs it
     * (its 128-user batch padded to max_len + max_output_len = 110, 4 heads, Q/K 8 and U/V 16 per head, no
     * position bias: DeviceHstu's zero table forward, no bias-gradient pass).
     */
    static final int[][] SHAPES = {{128, 50, 1, 64, 64, 1}, {128, 50, 2, 64, 64, 1}, {128, 200, 1, 64, 64, 1}, {128, 200, 2, 64, 64, 1},
        {128, 110, 4, 32, 64, 0}};

    public static void main(String[] args) {
        int iters = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        if (!CudaProbe.available()) {
            System.out.println("kdrec attention n/a (" + CudaProbe.status().description() + ")");
            return;
        }
        Cuda cuda = CudaProbe.cuda();
        int[][] shapes = args.length >= 6 ? new int[][] {{Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                Integer.parseInt(args[5]), Integer.parseInt(args.length >= 7 ? args[6] : args[5]), args.length >= 8 ? Integer.parseInt(args[7]) : 1}} : SHAPES;
        for (int[] s : shapes) run(cuda, s[0], s[1], s[2], s[3], s[4], s[5] != 0, iters, warmup);
    }

    /** d: the q/k row width, ldV: the v (and out) row width; without the bias a zero table goes in and no drab comes out. */
    private static void run(Cuda cuda, int b, int n, int h, int d, int ldV, boolean bias, int iters, int warmup) {
        SplittableRandom rnd = new SplittableRandom(7);
        long rows = (long) b * n * d, rowsV = (long) b * n * ldV, maps = (long) b * h * n * n;
        int rabLen = 2 * n - 1;
        float scale = 1f / n;
        try (DeviceBuffer q = cuda.upload(uniform(rnd, rows)); DeviceBuffer k = cuda.upload(uniform(rnd, rows));
             DeviceBuffer v = cuda.upload(uniform(rnd, rowsV)); DeviceBuffer rab = cuda.upload(bias ? uniform(rnd, rabLen) : new float[rabLen]);
             DeviceBuffer dOut = cuda.upload(uniform(rnd, rowsV)); DeviceBuffer pre = cuda.allocElements(maps);
             DeviceBuffer a = cuda.allocElements(maps); DeviceBuffer dPre = cuda.allocElements(maps); DeviceBuffer out = cuda.allocElements(rowsV);
             DeviceBuffer dq = cuda.allocElements(rows); DeviceBuffer dk = cuda.allocElements(rows); DeviceBuffer dv = cuda.allocElements(rowsV);
             DeviceBuffer drab = cuda.allocElements(rabLen)) {
            double[] fwd = new double[iters], bwd = new double[iters], all = new double[iters];
            for (int it = -warmup; it < iters; it++) {
                cuda.fill32(drab, rabLen, 0); // the bias gradient accumulates, as an optimiser step would zero it
                cuda.synchronize();
                long t0 = System.nanoTime();
                GpuAttention.forward(cuda, b, n, h, q, k, d, v, ldV, rab, rabLen, scale, pre, a, out);
                cuda.synchronize();
                long t1 = System.nanoTime();
                GpuAttention.backward(cuda, b, n, h, q, k, d, v, ldV, pre, a, scale, dOut, dPre, dq, dk, dv, bias ? drab : null, rabLen);
                cuda.synchronize();
                long t2 = System.nanoTime();
                if (it >= 0) {
                    fwd[it] = (t1 - t0) / 1e6;
                    bwd[it] = (t2 - t1) / 1e6;
                    all[it] = (t2 - t0) / 1e6;
                }
            }
            String widths = "d=" + d + (ldV != d ? " ldV=" + ldV : "") + (bias ? "" : " bias=off");
            System.out.println(String.format(Locale.ROOT, "kdrec attention b=%d n=%d h=%d %s median_ms=%.4f fwd_ms=%.4f bwd_ms=%.4f device=%s",
                    b, n, h, widths, GpuCeBench.median(all), GpuCeBench.median(fwd), GpuCeBench.median(bwd), cuda.describe()));
        }
    }

    private static float[] uniform(SplittableRandom r, long n) {
        float[] x = new float[Math.toIntExact(n)];
        for (int i = 0; i < x.length; i++) x[i] = (float) (2 * r.nextDouble() - 1);
        return x;
    }
}
