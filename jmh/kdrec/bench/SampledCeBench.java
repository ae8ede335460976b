package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import kdrec.autograd.SampledCe;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.cpu.Parallel;
import kdrec.cpu.RowScatter;
import kdrec.cpu.SoftmaxCeSimd;
import kdrec.cpu.SubsetCeSimd;
import kdrec.tensor.Tensor;

/**
 * The HSTU loss's per-position sampled softmax ({@code negatives_per=position}) at {@code bench/hstu.sh}'s
 * batch shape: {@code rows} supervised positions (default 7,424: 128 sequences x 58), R negatives each
 * (512), d 64, an item table of {@code -Ditems=N} rows (3,000), native tables as training has them. Times
 * the whole op (forward, then backward, through the tape), as shipped and the old way in the same
 * rep (the backward drawing and gathering the negatives again, the table's gradient always bucketed),
 * then its kernels one by one on the same entries: the draw, the gathered dots, the sampled softmax,
 * the rows' gradient (du) and the table's (di, {@code RowScatter}'s two paths).
 * Usage: {@code java ... kdrec.bench.SampledCeBench [rows] [negatives] [d] [reps]}; {@code -DcpuTime=true}
 * with {@code -Dkdrec.threads=1} times this thread's CPU instead of wall. Prints medians and minimums
 * in ms per batch and ns per entry.
 */
public final class SampledCeBench {
    public static void main(String[] args) {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 7424;
        int negatives = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        int d = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        int reps = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        int nItems = Integer.getInteger("items", 3000);
        SplittableRandom r = new SplittableRandom(11);
        long seed = 0x5EEDL;
        int[] pos = new int[rows];
        for (int i = 0; i < rows; i++) pos[i] = r.nextInt(nItems);
        java.util.function.IntBinaryOperator negativeOf = (row, j) -> draw(seed, row * (long) negatives + j, nItems);
        try (Arena arena = Arena.ofShared()) {
            Tensor sT = unitRows(arena, r, rows, d), tableT = unitRows(arena, r, nItems, d);
            MemorySegment s = sT.data(), table = tableT.data();
            MemorySegment ds = arena.allocate((long) rows * d * 4, 64), dt = arena.allocate((long) nItems * d * 4, 64);
            int n = rows * negatives;
            int[] ptr = new int[rows + 1], idx = new int[n];
            float[] p = new float[rows], neg = new float[n], loss = new float[rows], gPos = new float[rows], gNeg = new float[n];
            float[] scale = new float[rows];
            Arrays.fill(scale, 1f / rows);
            String[] names = {"op forward (tape)", "op backward (tape)", "op forward, old way", "op backward, old way", "draw ids", "gathered dots", "sampled softmax",
                    "rows' gradient (du)", "table's gradient (di), bucketed", "table's gradient (di), direct"};
            double[][] t = new double[names.length][reps];
            for (int rep = 0; rep < reps; rep++) {
                long[] op = new long[6];
                for (int way = 0; way < 2; way++) { // 0: as shipped; 1: the old way (backward draws and gathers again, bucketed item side)
                    SampledCe.setPerRowKeep(way == 0 ? SampledCe.PER_ROW_KEEP : 0);
                    RowScatter.setPath(way == 0 ? RowScatter.Path.AUTO : RowScatter.Path.BUCKETED);
                    Tape tape = new Tape();
                    Var sv = Var.leaf("s", sT), tv = Var.leaf("table", tableT);
                    op[3 * way] = now();
                    Var out = SampledCe.perRow(tape, sv, tv, pos, negatives, negativeOf, 0.05f, 1f);
                    op[3 * way + 1] = now();
                    tape.backward(kdrec.autograd.Arith.mean(tape, out));
                    op[3 * way + 2] = now();
                }
                SampledCe.setPerRowKeep(SampledCe.PER_ROW_KEEP);
                long t2 = now();
                for (int i = 0, q = 0; i < rows; i++) {
                    for (int j = 0; j < negatives; j++) {
                        int id = negativeOf.applyAsInt(i, j);
                        if (id != pos[i]) idx[q++] = id;
                    }
                    ptr[i + 1] = q;
                }
                long t3 = now();
                SubsetCeSimd.gatherDot(rows, d, s, 0, d, table, 0, d, ptr, idx, neg);
                long t4 = now();
                SoftmaxCeSimd.sampled(rows, p, ptr, neg, 1f, scale, loss, gPos, gNeg);
                long t5 = now();
                SubsetCeSimd.gatherDotBackward(rows, d, s, 0, d, table, 0, d, ptr, idx, gNeg, ds, 0, d, null, 0, d);
                long t6 = now();
                RowScatter.setPath(RowScatter.Path.BUCKETED);
                SubsetCeSimd.gatherDotBackward(rows, d, s, 0, d, table, 0, d, ptr, idx, gNeg, null, 0, d, dt, 0, d);
                long t7 = now();
                RowScatter.setPath(RowScatter.Path.DIRECT);
                SubsetCeSimd.gatherDotBackward(rows, d, s, 0, d, table, 0, d, ptr, idx, gNeg, null, 0, d, dt, 0, d);
                long t8 = now();
                RowScatter.setPath(RowScatter.Path.AUTO);
                long[] marks = {t2, t3, t4, t5, t6, t7, t8};
                for (int way = 0; way < 2; way++) {
                    t[2 * way][rep] = (op[3 * way + 1] - op[3 * way]) / 1e6;
                    t[2 * way + 1][rep] = (op[3 * way + 2] - op[3 * way + 1]) / 1e6;
                }
                for (int k = 4; k < names.length; k++) t[k][rep] = (marks[k - 3] - marks[k - 4]) / 1e6;
            }
            System.out.printf("rows %d, negatives %d, d %d, items %d, %d threads, %d entries%n", rows, negatives, d, nItems,
                    Parallel.threads(), n);
            for (int i = 0; i < names.length; i++) {
                double[] v = Arrays.copyOfRange(t[i], reps / 4, reps);
                Arrays.sort(v);
                System.out.printf("  %-34s median %8.2f ms (%5.2f ns/entry), min %8.2f ms%n", names[i], v[v.length / 2],
                        v[v.length / 2] * 1e6 / n, v[0]);
            }
            double[] ratio = new double[reps - reps / 4];
            for (int rep = reps / 4; rep < reps; rep++) ratio[rep - reps / 4] = (t[0][rep] + t[1][rep]) / (t[2][rep] + t[3][rep]);
            Arrays.sort(ratio);
            System.out.printf("  op forward + backward, as shipped / old way: median %.2f (per-rep ratios)%n", ratio[ratio.length / 2]);
        }
    }

    /** SequenceLoss's draw: a SplitMix64 finaliser, reduced by a multiply-shift. */
    private static int draw(long seed, long k, int items) {
        long z = seed + k * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (int) (((z >>> 32) * items) >>> 32);
    }

    /** Rows of unit length in native memory, 64-byte aligned (as ParamStore and Scratch allocate). */
    private static Tensor unitRows(Arena arena, SplittableRandom r, int rows, int d) {
        Tensor x = Tensor.wrap(arena.allocate((long) rows * d * Float.BYTES, 64), rows, d);
        for (int i = 0; i < rows; i++) {
            double norm = 0;
            float[] row = new float[d];
            for (int k = 0; k < d; k++) {
                row[k] = (float) r.nextGaussian();
                norm += row[k] * row[k];
            }
            for (int k = 0; k < d; k++) x.set(i * d + k, (float) (row[k] / Math.sqrt(norm)));
        }
        return x;
    }

    private static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();
    private static final boolean CPU = Boolean.getBoolean("cpuTime");

    private static long now() {
        return CPU ? MX.getCurrentThreadCpuTime() : System.nanoTime();
    }
}
