package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.cpu.PairCeSimd;
import kdrec.cpu.SubsetCeSimd;

/**
 * One RCE-KD batch's KD kernels at the Gowalla shape, old layout against new, in one process:
 * {@code rows} distinct users (default 1950 of a 2048 batch), each with SK (100 items, drawn from a
 * popularity-skewed distribution like a student's top list) and J2 (50 of SK plus 100 uniform
 * "teacher" items), item table 41k x d (d = 20).
 * <ul>
 *   <li>old: two SubsetCe rows per user (250 entries: SK and J2 each with their own dots and
 *       teacher softmax), then gatherDotBackward into du and di;</li>
 *   <li>new: one PairCe row per user (200 entries, each item's dot once, teacher targets precomputed),
 *       the user gradient formed in the forward, then the item side alone.</li>
 * </ul>
 * Both layouts use the current item-side kernel (RowScatter); the difference is the layout and the
 * fused user gradient. Usage: {@code java ... kdrec.bench.PairCeBench [rows] [d] [reps]} ({@code -Devict=true}:
 * 32 MB written before each timed part, as a step's Adam pass does); prints
 * per-part medians and minimums in ms per batch; {@code -DcpuTime=true} with
 * {@code -Dkdrec.threads=1} times this thread's CPU instead of wall (the shared box preempts a lot).
 */
public final class PairCeBench {
    public static void main(String[] args) {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1950;
        int d = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 60;
        int nItems = Integer.getInteger("items", 41_000), k = 100, l = 50; // -Ditems=N: a smaller table (cache-resident rows)
        SplittableRandom r = new SplittableRandom(7);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment u = gaussian(arena, r, (long) rows * d), items = gaussian(arena, r, (long) nItems * d);
            MemorySegment du = arena.allocate((long) rows * d * 4, 64), di = arena.allocate((long) nItems * d * 4, 64);
            // new layout: [SK \ P | SK ∩ P | QT rest] with a = k, b = k - l
            int[] ptr = new int[rows + 1], a = new int[rows], b = new int[rows];
            int[] idx = new int[rows * (2 * k)];
            int[] oldPtr = new int[2 * rows + 1], oldIdx = new int[rows * (2 * k + l)];
            for (int i = 0; i < rows; i++) {
                int o = i * 2 * k;
                for (int j = 0; j < k; j++) idx[o + j] = popular(r, nItems);
                for (int j = k; j < 2 * k; j++) idx[o + j] = r.nextInt(nItems);
                ptr[i + 1] = o + 2 * k;
                a[i] = k;
                b[i] = k - l;
                int p = oldPtr[2 * i];
                System.arraycopy(idx, o, oldIdx, p, k);
                oldPtr[2 * i + 1] = p + k;
                System.arraycopy(idx, o + k - l, oldIdx, p + k, k + l);
                oldPtr[2 * i + 2] = p + 2 * k + l;
            }
            float[] teacher = new float[idx.length], oldTeacher = new float[oldIdx.length], wA = new float[rows], wB = new float[rows];
            for (int j = 0; j < teacher.length; j++) teacher[j] = (float) (4 * r.nextDouble() - 2);
            for (int j = 0; j < oldTeacher.length; j++) oldTeacher[j] = (float) (4 * r.nextDouble() - 2);
            Arrays.fill(wA, 0.4f);
            Arrays.fill(wB, 0.6f);
            float[] target = new float[idx.length];
            PairCeSimd.targets(rows, ptr, a, b, teacher, 1f, wA, wB, target);
            float[] loss = new float[rows], grad = new float[idx.length], oldLoss = new float[2 * rows], oldGrad = new float[oldIdx.length];
            float[] oldScale = new float[2 * rows];
            Arrays.fill(oldScale, 0.5f);
            double[][] t = new double[5][reps];
            for (int rep = 0; rep < reps; rep++) {
                evict();
                long t0 = now();
                SubsetCeSimd.softCe(2 * rows, d, dup(u, rows, d), 0, d, items, 0, d, oldPtr, oldIdx, oldTeacher, 1f, oldScale, oldLoss, oldGrad, null);
                long t1 = now();
                evict();
                long t1b = now();
                SubsetCeSimd.gatherDotBackward(2 * rows, d, dup(u, rows, d), 0, d, items, 0, d, oldPtr, oldIdx, oldGrad, null, 0, d, di, 0, d);
                long t2 = now();
                evict();
                long t2b = now();
                PairCeSimd.softCe(rows, d, u, 0, d, items, 0, d, ptr, idx, a, b, target, wA, wB, 1f, loss, grad, du, 0, d);
                long t3 = now();
                evict();
                long t3b = now();
                SubsetCeSimd.gatherDotBackward(rows, d, u, 0, d, items, 0, d, ptr, idx, grad, null, 0, d, di, 0, d);
                long t4 = now();
                evict();
                long t4b = now();
                SubsetCeSimd.gatherDotBackward(2 * rows, d, dup(u, rows, d), 0, d, items, 0, d, oldPtr, oldIdx, oldGrad, dup(du, rows, d), 0, d, null, 0, d);
                long t5 = now();
                t[0][rep] = (t1 - t0) / 1e6;
                t[1][rep] = (t2 - t1b) / 1e6;
                t[2][rep] = (t3 - t2b) / 1e6;
                t[3][rep] = (t4 - t3b) / 1e6;
                t[4][rep] = (t5 - t4b) / 1e6;
            }
            String[] names = {"old forward (SubsetCe.softCe, 2 rows/user)", "old item side (gatherDotBackward di)",
                    "new forward (PairCe.softCe incl. user grad)", "new item side (gatherDotBackward di)", "old user side (gatherDotBackward du)"};
            System.out.printf("rows %d, d %d, %d threads, %d entries new / %d old%n", rows, d, Parallel.threads(), idx.length, oldIdx.length);
            for (int i = 0; i < names.length; i++) {
                double[] s = Arrays.copyOfRange(t[i], reps / 4, reps);
                Arrays.sort(s);
                System.out.printf("  %-48s median %6.3f ms, min %6.3f ms%n", names[i], s[s.length / 2], s[0]);
            }
            double[] oldSum = new double[reps - reps / 4], newSum = new double[reps - reps / 4];
            for (int rep = reps / 4; rep < reps; rep++) {
                oldSum[rep - reps / 4] = t[0][rep] + t[1][rep] + t[4][rep];
                newSum[rep - reps / 4] = t[2][rep] + t[3][rep];
            }
            Arrays.sort(oldSum);
            Arrays.sort(newSum);
            System.out.printf("  per batch: old %.3f ms, new %.3f ms (medians of the per-rep sums), new/old %.2f%n",
                    oldSum[oldSum.length / 2], newSum[newSum.length / 2], newSum[newSum.length / 2] / oldSum[oldSum.length / 2]);
        }
    }

    private static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();
    private static final boolean CPU = Boolean.getBoolean("cpuTime");

    /** Wall time, or with -DcpuTime=true this thread's CPU time (1-thread runs on a shared box: preemption excluded). */
    private static long now() {
        return CPU ? MX.getCurrentThreadCpuTime() : System.nanoTime();
    }

    private static final boolean EVICT = Boolean.getBoolean("evict");
    private static final float[] JUNK = new float[EVICT ? 8 << 20 : 0];

    /**
     * With -Devict=true: writes 32 MB before each timed part, as a training step's Adam pass over every
     * table does between two KD batches (the item table then starts in L3 or memory, not L2).
     */
    private static void evict() {
        for (int i = 0; i < JUNK.length; i++) JUNK[i] += 1f;
    }

    private static final java.util.Map<Long, MemorySegment> DUPS = new java.util.HashMap<>();

    /** A 2*rows table whose rows 2i and 2i+1 both hold row i (the old layout's user rows), cached. */
    private static MemorySegment dup(MemorySegment s, int rows, int d) {
        return DUPS.computeIfAbsent(s.address() * 31 + rows, key -> {
            MemorySegment t = Arena.ofAuto().allocate((long) 2 * rows * d * 4, 64);
            for (int i = 0; i < rows; i++) {
                MemorySegment.copy(s, (long) i * d * 4, t, (long) 2 * i * d * 4, (long) d * 4);
                MemorySegment.copy(s, (long) i * d * 4, t, (long) (2 * i + 1) * d * 4, (long) d * 4);
            }
            return t;
        });
    }

    /** Item ids skewed to small ids (a student's top lists favour popular items). */
    private static int popular(SplittableRandom r, int n) {
        double x = r.nextDouble();
        return (int) Math.min(n - 1, (long) (n * x * x * x));
    }

    private static MemorySegment gaussian(Arena arena, SplittableRandom r, long n) {
        MemorySegment s = arena.allocate(n * Float.BYTES, 64);
        for (long i = 0; i < n; i++) Mem.set(s, i, (float) (r.nextDouble() * 2 - 1) * 0.3f);
        return s;
    }
}
