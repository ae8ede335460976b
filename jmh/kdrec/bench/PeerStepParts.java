package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import kdrec.cpu.AdamSimd;
import kdrec.cpu.EmbeddingSimd;
import kdrec.cpu.GemmSimd;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.cpu.SoftmaxCeFused;
import kdrec.cpu.SoftmaxCeSimd;
import kdrec.cpu.TopKSimd;

/**
 * Where the peer step's time goes: each kernel of {@link PeerStep} timed alone on the same shapes
 * (median of repeated calls, ms). Usage: {@code java ... kdrec.bench.PeerStepParts [reps]}.
 */
public final class PeerStepParts {
    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int b = PeerStep.BATCH, n = PeerStep.ITEMS, d = PeerStep.DIM, users = PeerStep.USERS;
        Arena arena = Arena.ofShared();
        MemorySegment u = rand(arena, (long) b * d, 1), items = rand(arena, (long) n * d, 2), logits = arena.allocate((long) b * n * 4, 64);
        MemorySegment du = arena.allocate((long) b * d * 4, 64), di = arena.allocate((long) n * d * 4, 64);
        MemorySegment table = rand(arena, (long) users * d, 3), gt = arena.allocate((long) users * d * 4, 64);
        MemorySegment m1 = arena.allocate((long) users * d * 4, 64), v1 = arena.allocate((long) users * d * 4, 64);
        int[] target = new int[b], idx = new int[b];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < b; i++) { target[i] = r.nextInt(n); idx[i] = r.nextInt(users); }
        int[] topIds = new int[b * PeerStep.TOPK];
        float[] topScores = new float[b * PeerStep.TOPK], loss = new float[b];
        double gemmFlops = 2.0 * b * n * d;
        report("gemm NT scores (1024x4000x64)", reps, gemmFlops, () -> GemmSimd.nt(b, n, d, 1f, u, 0, d, items, 0, d, 0f, logits, 0, n));
        report("select top-50 (materialised)", reps, 0, () -> TopKSimd.selectTopK(b, n, logits, 0, n, PeerStep.TOPK, null, null, topIds, topScores));
        report("fused score->top-50", reps, gemmFlops, () -> TopKSimd.scoreTopK(b, n, d, u, 0, d, items, 0, d, PeerStep.TOPK, null, null, topIds, topScores));
        report("gemm NT + softmax CE rows in place", reps, 0, () -> {
            GemmSimd.nt(b, n, d, 1f, u, 0, d, items, 0, d, 0f, logits, 0, n);
            SoftmaxCeSimd.rowsInPlace(b, n, logits, 0, n, target, null, loss);
        });
        report("fused CE fwd: scores+top-50+softmax", reps, gemmFlops, () -> SoftmaxCeFused.forward(b, n, d, u, 0, d, items, 0, d, 1f,
                target, PeerStep.TOPK, topIds, topScores, logits, 0, n, loss));
        report("gemm NN dU = G.I (k=4000)", reps, gemmFlops, () -> GemmSimd.nn(b, d, n, 1f, logits, 0, n, items, 0, d, 0f, du, 0, d));
        report("gemm TN dI = G^T.U (k=1024)", reps, gemmFlops, () -> GemmSimd.tn(n, d, b, 1f, logits, 0, n, u, 0, d, 0f, di, 0, d));
        report("zero + scatter-add user grads", reps, 0, () -> {
            gt.fill((byte) 0);
            EmbeddingSimd.scatterAdd(b, d, idx, du, 0, d, gt, 0, d);
        });
        int[] step = {0};
        report("dense Adam, 640k params", reps, 0, () -> {
            step[0]++;
            AdamSimd.step((long) users * d, table, 0, gt, 0, m1, 0, v1, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, step[0]);
            AdamSimd.step((long) n * d, items, 0, di, 0, m1, 0, v1, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, step[0]);
        });
        System.out.println("threads " + Parallel.threads());
    }

    private static void report(String what, int reps, double flops, Runnable body) {
        for (int i = 0; i < Math.max(10, reps / 2); i++) body.run();
        double[] t = new double[reps], cpu = new double[reps];
        for (int i = 0; i < reps; i++) {
            long c0 = TopKRatio.totalCpu(MX), a = System.nanoTime();
            body.run();
            t[i] = (System.nanoTime() - a) / 1e6;
            cpu[i] = (TopKRatio.totalCpu(MX) - c0) / 1e6 / Parallel.threads();
        }
        Arrays.sort(t);
        Arrays.sort(cpu);
        double med = t[reps / 2];
        // cpu/thread: CPU time of all threads per call / thread count (the wall time an idle box would show, if balanced)
        System.out.printf("%-34s %8.2f ms (min %.2f)  cpu/thread %6.2f ms (min %.2f)%s%n", what, med, t[0], cpu[reps / 2], cpu[0],
                flops > 0 ? String.format("  %6.1f GFLOP/s (%6.1f per busy thread)", flops / med / 1e6, flops / cpu[reps / 2] / Parallel.threads() / 1e6) : "");
    }

    private static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();

    private static MemorySegment rand(Arena arena, long n, long seed) {
        MemorySegment s = arena.allocate(n * 4, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) Mem.set(s, i, (float) (r.nextGaussian() * 0.1));
        return s;
    }
}
