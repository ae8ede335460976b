package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.cpu.SubsetCeScalar;
import kdrec.cpu.SubsetCeSimd;
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
 * Subset soft-CE (RCE-KD) at the calibration shape: {@value #ROWS} user rows x {@code perRow} random
 * items (duplicates possible) of a {@code nItems}-row table, d = 20 (table L3-resident) and 300
 * (table in DRAM). Scores are <b>microseconds per user row</b> (OperationsPerInvocation), so
 * rows/s = 1e6 / score; targets (vector-api-calibration.md 3): softCe_simd &lt;= 1.5 us/row at d = 20
 * and &lt;= 15 at d = 300 on one thread. Scalar twins run {@value #SCALAR_ROWS} rows (also per row).
 *
 * <ul>
 *   <li>{@code softCe}: fused dots + both softmaxes + loss + gradient.</li>
 *   <li>{@code gatherDot}: the dots alone.</li>
 *   <li>{@code backward}: gatherDotBackward into du and di (incl. the di counting sort).</li>
 * </ul>
 * Run: {@code java -jar target/benchmarks.jar SubsetCeBench}.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xms2g", "-Xmx6g", "-XX:+UseParallelGC"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class SubsetCeBench implements FlopCount {
    static final int ROWS = 2048, SCALAR_ROWS = 256;

    @Param({"20", "300"})
    public int d;
    @Param({"41000"})
    public int nItems;
    @Param({"150"})
    public int perRow;
    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private MemorySegment u, items, du, di;
    private int[] ptr, idx, ptrScalar;
    private float[] teacher, loss, grad, logits;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        arena = Arena.ofShared();
        u = gaussian(1, (long) ROWS * d);
        items = gaussian(2, (long) nItems * d);
        du = arena.allocate((long) ROWS * d * Float.BYTES, 64);
        di = arena.allocate((long) nItems * d * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(3);
        ptr = new int[ROWS + 1];
        for (int i = 0; i < ROWS; i++) ptr[i + 1] = ptr[i] + perRow;
        ptrScalar = java.util.Arrays.copyOf(ptr, SCALAR_ROWS + 1);
        idx = new int[ROWS * perRow];
        for (int j = 0; j < idx.length; j++) idx[j] = r.nextInt(nItems);
        teacher = new float[idx.length];
        for (int j = 0; j < teacher.length; j++) teacher[j] = (float) (4 * r.nextDouble() - 2);
        loss = new float[ROWS];
        grad = new float[idx.length];
        for (int j = 0; j < grad.length; j++) grad[j] = (float) (1e-3 * (r.nextDouble() - 0.5));
        logits = new float[idx.length];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    private MemorySegment gaussian(long seed, long n) {
        MemorySegment s = arena.allocate(n * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) Mem.set(s, i, (float) (r.nextDouble() * 2 - 1) * 0.3f);
        return s;
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public float[] softCe_simd() {
        SubsetCeSimd.softCe(ROWS, d, u, 0, d, items, 0, d, ptr, idx, teacher, 1f, null, loss, grad, logits);
        return loss;
    }

    @Benchmark
    @OperationsPerInvocation(SCALAR_ROWS)
    public float[] softCe_scalar() {
        SubsetCeScalar.softCe(SCALAR_ROWS, d, u, 0, d, items, 0, d, ptrScalar, idx, teacher, 1f, null, loss, grad, logits);
        return loss;
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public float[] gatherDot_simd() {
        SubsetCeSimd.gatherDot(ROWS, d, u, 0, d, items, 0, d, ptr, idx, logits);
        return logits;
    }

    @Benchmark
    @OperationsPerInvocation(SCALAR_ROWS)
    public float[] gatherDot_scalar() {
        SubsetCeScalar.gatherDot(SCALAR_ROWS, d, u, 0, d, items, 0, d, ptrScalar, idx, logits);
        return logits;
    }

    // gradients accumulate into du/di across invocations: values drift but stay finite (small g)
    @Benchmark
    @OperationsPerInvocation(ROWS)
    public MemorySegment backward_simd() {
        SubsetCeSimd.gatherDotBackward(ROWS, d, u, 0, d, items, 0, d, ptr, idx, grad, du, 0, d, di, 0, d);
        return di;
    }

    @Benchmark
    @OperationsPerInvocation(SCALAR_ROWS)
    public MemorySegment backward_scalar() {
        SubsetCeScalar.gatherDotBackward(SCALAR_ROWS, d, u, 0, d, items, 0, d, ptrScalar, idx, grad, du, 0, d, di, 0, d);
        return di;
    }

    /** Per user row: the dots (2 d per entry); backward: two axpys per entry. The softmax part is not counted. */
    @Override
    public double flops(String method, Map<String, String> params) {
        double dd = Double.parseDouble(params.get("d")), per = Double.parseDouble(params.get("perRow"));
        return switch (method) {
            case "softCe_simd", "softCe_scalar", "gatherDot_simd", "gatherDot_scalar" -> 2 * dd * per;
            case "backward_simd", "backward_scalar" -> 4 * dd * per;
            default -> Double.NaN;
        };
    }
}
