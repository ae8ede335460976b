package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.cpu.ScoreTile;
import kdrec.cpu.SoftmaxCeScalar;
import kdrec.cpu.SoftmaxCeSimd;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Full-catalogue softmax CE at the training-step shape m x n x d = 1024 x 4000 x 64.
 *
 * <ul>
 *   <li>{@code forward_fused}: SoftmaxCeSimd.forward, online over ScoreTile tiles (no m x n buffer).</li>
 *   <li>{@code forward_unfused}: the materialised path, GEMM NT into an m x n logits matrix then
 *       rowsInPlace (which also leaves the gradient G in place).</li>
 *   <li>{@code step_fused}: online forward + backward into du and di (backward recomputes the tiles).</li>
 *   <li>{@code rowsInPlace_simd} / {@code rowsInPlace_scalar}: the materialised row pass alone (must be
 *       a small part of a 20 ms step). It runs again on its own output each invocation: the values
 *       stay finite, the work is the same.</li>
 *   <li>{@code sampled_simd} / {@code sampled_scalar}: sampled softmax, m rows x {@code negatives}.</li>
 *   <li>{@code forward_scalar}: SoftmaxCeScalar.forward on {@value #SCALAR_ROWS} rows, reported per row.</li>
 * </ul>
 *
 * <p>{@link #gemmNt} is a stand-in GEMM NT built on ScoreTile (tiles copied into C) until GemmSimd is
 * on this branch. Run: {@code java -jar target/benchmarks.jar SoftmaxCeBench}.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xms2g", "-Xmx6g", "-XX:+UseParallelGC"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
public class SoftmaxCeBench implements FlopCount {
    static final int SCALAR_ROWS = 8;

    @Param({"1024"})
    public int m;
    @Param({"4000"})
    public int n;
    @Param({"64"})
    public int d;
    @Param({"512"})
    public int negatives;
    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private MemorySegment u, items, logits, rowLogits, du, di;
    private int[] target, negPtr;
    private float[] loss, lse, gLoss, pos, neg, gPos, gNeg;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        arena = Arena.ofShared();
        u = gaussian(1, (long) m * d);
        items = gaussian(2, (long) n * d);
        logits = arena.allocate((long) m * n * Float.BYTES, 64);
        rowLogits = gaussian(3, (long) m * n);
        du = arena.allocate((long) m * d * Float.BYTES, 64);
        di = arena.allocate((long) n * d * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(4);
        target = new int[m];
        for (int i = 0; i < m; i++) target[i] = r.nextInt(n);
        loss = new float[m];
        lse = new float[m];
        gLoss = new float[m];
        java.util.Arrays.fill(gLoss, 1f / m);
        negPtr = new int[m + 1];
        for (int i = 0; i < m; i++) negPtr[i + 1] = negPtr[i] + negatives;
        pos = new float[m];
        neg = new float[m * negatives];
        for (int i = 0; i < m; i++) pos[i] = (float) (r.nextDouble() * 10);
        for (int j = 0; j < neg.length; j++) neg[j] = (float) (r.nextDouble() * 10 - 5);
        gPos = new float[m];
        gNeg = new float[neg.length];
        SoftmaxCeSimd.forward(m, n, d, u, 0, d, items, 0, d, 0.125f, target, loss, lse);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    private MemorySegment gaussian(long seed, long count) {
        MemorySegment s = arena.allocate(count * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < count; i++) Mem.set(s, i, (float) (r.nextDouble() * 2 - 1));
        return s;
    }

    @Benchmark
    public float[] forward_fused() {
        SoftmaxCeSimd.forward(m, n, d, u, 0, d, items, 0, d, 0.125f, target, loss, lse);
        return loss;
    }

    @Benchmark
    public float[] forward_unfused() {
        gemmNt(0.125f);
        SoftmaxCeSimd.rowsInPlace(m, n, logits, 0, n, target, null, loss);
        return loss;
    }

    @Benchmark
    public MemorySegment step_fused() {
        SoftmaxCeSimd.forward(m, n, d, u, 0, d, items, 0, d, 0.125f, target, loss, lse);
        SoftmaxCeSimd.backward(m, n, d, u, 0, d, items, 0, d, 0.125f, target, lse, gLoss, du, 0, d, di, 0, d);
        return di;
    }

    @Benchmark
    public float[] rowsInPlace_simd() {
        SoftmaxCeSimd.rowsInPlace(m, n, rowLogits, 0, n, target, null, loss);
        return loss;
    }

    @Benchmark
    public float[] rowsInPlace_scalar() {
        SoftmaxCeScalar.rowsInPlace(m, n, rowLogits, 0, n, target, null, loss);
        return loss;
    }

    @Benchmark
    public float[] sampled_simd() {
        SoftmaxCeSimd.sampled(m, pos, negPtr, neg, 1f, null, loss, gPos, gNeg);
        return gNeg;
    }

    @Benchmark
    public float[] sampled_scalar() {
        SoftmaxCeScalar.sampled(m, pos, negPtr, neg, 1f, null, loss, gPos, gNeg);
        return gNeg;
    }

    @Benchmark
    @OperationsPerInvocation(SCALAR_ROWS)
    public float[] forward_scalar() {
        SoftmaxCeScalar.forward(SCALAR_ROWS, n, d, u, 0, d, items, 0, d, 0.125f, target, loss, lse);
        return loss;
    }

    /** Stand-in GEMM NT (logits = alpha U I^T, dense, ld n) on ScoreTile, rows split over threads. */
    private void gemmNt(float alpha) {
        int nbMax = 384;
        Parallel.forRange(m, ScoreTile.MR, 3 * ScoreTile.MR, (lo, hi) -> {
            float[] a = new float[(hi - lo) * d], bp = new float[ScoreTile.packedSize(nbMax, d)];
            int mbMax = 16 * ScoreTile.MR;
            float[] c = new float[mbMax * nbMax];
            Mem.copyOut(u, (long) lo * d, a, 0, (hi - lo) * d);
            for (int j0 = 0; j0 < n; j0 += nbMax) {
                int nb = Math.min(nbMax, n - j0), w = (nb + ScoreTile.NR - 1) / ScoreTile.NR * ScoreTile.NR;
                ScoreTile.packB(items, 0, d, j0, nb, d, bp);
                for (int r0 = lo; r0 < hi; r0 += mbMax) {
                    int mb = Math.min(mbMax, hi - r0);
                    ScoreTile.tile(mb, nb, d, a, (r0 - lo) * d, d, bp, c, w);
                    for (int i = 0; i < mb; i++) {
                        for (int j = 0; j < nb; j++) c[i * w + j] *= alpha;
                        Mem.copyIn(c, i * w, logits, (long) (r0 + i) * n + j0, nb);
                    }
                }
            }
        });
    }

    @Override
    public double flops(String method, Map<String, String> params) {
        double mm = Double.parseDouble(params.get("m")), nn = Double.parseDouble(params.get("n"));
        double dd = Double.parseDouble(params.get("d"));
        return switch (method) {
            case "forward_fused", "forward_unfused" -> 2 * mm * nn * dd;
            case "step_fused" -> 6 * mm * nn * dd; // useful work: logits, G.I, G^T.U (recomputes not counted)
            case "forward_scalar" -> 2 * nn * dd; // per row (OperationsPerInvocation)
            default -> Double.NaN;
        };
    }
}
