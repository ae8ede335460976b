package kdrec.bench;

import java.util.Arrays;
import java.util.SplittableRandom;
import kdrec.autograd.Arith;
import kdrec.autograd.CrossEntropy;
import kdrec.autograd.Gather;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.cpu.Parallel;
import kdrec.nn.Adam;
import kdrec.nn.Params;
import kdrec.tensor.Backends;

/**
 * One training step, defined identically to bench/torch_step.py so the two can be compared in one
 * run (bench/peer_step.sh): user table 6000x64, item table 4000x64, a batch of 1024 users with one
 * target item each, full-softmax CE over all items (mean over the batch), top-50 items per row,
 * backward, dense Adam (PyTorch semantics) over both tables.
 *
 * <p>Usage: {@code java ... kdrec.bench.PeerStep [steps] [warmup] [threads]}; prints one line
 * {@code kdrec_step_ms median=... min=... max=...} plus the loss trajectory's first/last values.
 */
public final class PeerStep {
    static final int USERS = 6000, ITEMS = 4000, DIM = 64, BATCH = 1024, TOPK = 50;

    public static void main(String[] args) {
        BenchArgs b = new BenchArgs("bench/peer_step.sh [steps=60] [warmup=40] [threads]", args);
        int steps = b.integer(0, "steps", 60, 1);
        int warmup = b.integer(1, "warmup", 40, 0);
        if (b.str(2, null) != null) Parallel.setThreads(b.integer(2, "threads", 0, 1));
        double[][] r = run(steps, warmup, true);
        double[] ms = r[0], cpu = r[1];
        Arrays.sort(ms);
        Arrays.sort(cpu);
        System.out.printf("kdrec_step_ms median=%.2f min=%.2f max=%.2f steps=%d threads=%d backend=%s%n",
                ms[ms.length / 2], ms[0], ms[ms.length - 1], steps, Parallel.threads(), Backends.get().name());
        // CPU time of all threads per step / thread count: what the wall time would be on an idle box if the
        // threads were perfectly balanced (the shared box's other jobs inflate the wall time, not this)
        System.out.printf("kdrec_step_cpu_ms median=%.2f min=%.2f (per thread)%n", cpu[cpu.length / 2], cpu[0]);
    }

    /** Runs warmup + steps training steps; returns the wall time and the CPU time per thread of each timed step in ms. */
    static double[][] run(int steps, int warmup, boolean print) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        SplittableRandom rnd = new SplittableRandom(42);
        try (Params params = new Params(); Tape tape = new Tape()) {
            Var users = params.normal("user", 0.1f, 1, USERS, DIM);
            Var items = params.normal("item", 0.1f, 2, ITEMS, DIM);
            Adam adam = new Adam(params, 1e-3f, 0f, false);
            CrossEntropy.TopK top = CrossEntropy.TopK.of(BATCH, TOPK);
            int[] batch = new int[BATCH], target = new int[BATCH];
            double[] times = new double[steps], cpu = new double[steps];
            float first = Float.NaN, last = Float.NaN;
            for (int s = 0; s < warmup + steps; s++) {
                for (int b = 0; b < BATCH; b++) {
                    batch[b] = rnd.nextInt(USERS);
                    target[b] = rnd.nextInt(ITEMS);
                }
                long c0 = TopKRatio.totalCpu(mx), t0 = System.nanoTime();
                tape.reset();
                params.zeroGrad();
                Var eu = Gather.rows(tape, users, batch);
                Var perRow = CrossEntropy.fullSoftmaxCe(tape, eu, items, target, 1f, false, top);
                Var loss = Arith.mean(tape, perRow);
                tape.backward(loss);
                adam.step(tape);
                long t1 = System.nanoTime(), c1 = TopKRatio.totalCpu(mx);
                if (s >= warmup) {
                    times[s - warmup] = (t1 - t0) / 1e6;
                    cpu[s - warmup] = (c1 - c0) / 1e6 / Parallel.threads();
                }
                if (s == 0) first = loss.value().get(0);
                last = loss.value().get(0);
            }
            if (print) System.out.printf("kdrec_loss first=%.5f last=%.5f%n", first, last);
            return new double[][] {times, cpu};
        }
    }
}
