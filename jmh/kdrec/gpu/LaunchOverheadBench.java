package kdrec.gpu;

import java.util.Arrays;

/**
 * Host time of one kernel launch call, packed parameter buffer against one JCuda pointer per argument
 * (kdrec.gpu.LaunchParams), in the same process, for a 9-argument and a 21-argument kernel launched
 * with zero rows (the kernels return at once, so on a GPU the time is JCuda's marshalling plus the
 * driver's enqueue). It lives in package kdrec.gpu to switch the mode (Cuda.usePackedLaunches).
 * Usage: {@code java ... kdrec.gpu.LaunchOverheadBench [launches=20000] [rounds=7]}; prints the median
 * microseconds per call of each mode and their ratio. On the emulated driver (no GPU) every launch
 * also runs the emulator's empty grid, which both modes pay alike.
 */
public final class LaunchOverheadBench {
    public static void main(String[] args) {
        int launches = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        if (!CudaProbe.status().available()) {
            System.out.println("LaunchOverheadBench: no CUDA device (" + CudaProbe.status().description() + ")");
            return;
        }
        Cuda cuda = CudaProbe.cuda();
        System.out.println("device: " + cuda.describe());
        boolean saved = Cuda.packedLaunches();
        try (DeviceBuffer b = cuda.allocElements(64)) {
            Cuda.Kernel ragged = cuda.kernel("kdrec_embedding_gather_ragged"), pair = cuda.kernel("kdrec_subset_ce_pair_soft_ce_rows");
            // gather_ragged(int m, 8 pointers); pair_soft_ce_rows(int m, int d, 13 pointers and ints, float tau, ...): m = 0 rows
            Object[] raggedArgs = {0, b, b, b, b, b, b, b, b};
            Object[] pairArgs = {0, 20, b, b, 20, b, 20, b, b, b, b, b, b, b, 1f, b, b, b, 20, b, 20};
            for (Object[] a : new Object[][] {raggedArgs, pairArgs}) {
                Cuda.Kernel k = a == raggedArgs ? ragged : pair;
                double[][] us = new double[2][rounds];
                for (int r = 0; r < rounds; r++) {
                    for (int mode = 0; mode < 2; mode++) {
                        Cuda.usePackedLaunches(mode == 0);
                        long t0 = System.nanoTime();
                        for (int i = 0; i < launches; i++) cuda.launch(k, 1, 1, 1, 256, 1, 1, 0, a);
                        long t1 = System.nanoTime();
                        cuda.synchronize();
                        us[mode][r] = (t1 - t0) / 1e3 / launches;
                    }
                }
                double packed = median(us[0]), pointers = median(us[1]);
                System.out.printf("%s (%d arguments): packed %.2f us per launch call, pointers %.2f us (median of %d rounds of %d), pointers/packed %.2fx%n",
                        k.name(), a.length, packed, pointers, rounds, launches, pointers / packed);
            }
        } finally {
            Cuda.usePackedLaunches(saved);
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
