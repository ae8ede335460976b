package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import kdrec.cpu.AdamScalar;
import kdrec.cpu.AdamSimd;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Fused Adam: {@code step_*} over 640 000 parameters (a 10 000 x 64 student table; memory bound,
 * ~18 MB moved per step), and {@code stepRows_*}, the lazy variant over 2048 distinct rows of a
 * 41 000 x 64 item table. The step counter advances every invocation (bias correction changes, the
 * work does not). Flops are not meaningful here (NaN): read the times against the 20 ms step budget.
 * Run: {@code java -jar target/benchmarks.jar AdamBench}.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xms2g", "-Xmx6g", "-XX:+UseParallelGC"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
public class AdamBench implements FlopCount {
    static final int TABLE_ROWS = 41_000, BATCH_ROWS = 2048;

    @Param({"640000"})
    public int n;
    @Param({"64"})
    public int d;
    @Param({"2", "1"})
    public int threads;

    private Arena arena;
    private MemorySegment p, g, m, v, tp, tg, tm, tv;
    private int[] rows;
    private int t;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        arena = Arena.ofShared();
        p = random(1, n);
        g = random(2, n);
        m = arena.allocate((long) n * Float.BYTES, 64);
        v = arena.allocate((long) n * Float.BYTES, 64);
        tp = random(3, (long) TABLE_ROWS * d);
        tg = random(4, (long) BATCH_ROWS * d);
        tm = arena.allocate((long) TABLE_ROWS * d * Float.BYTES, 64);
        tv = arena.allocate((long) TABLE_ROWS * d * Float.BYTES, 64);
        // 2048 distinct rows: a random permutation's prefix
        int[] perm = new int[TABLE_ROWS];
        for (int i = 0; i < TABLE_ROWS; i++) perm[i] = i;
        SplittableRandom r = new SplittableRandom(5);
        for (int i = TABLE_ROWS - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        rows = java.util.Arrays.copyOf(perm, BATCH_ROWS);
        t = 0;
    }

    private MemorySegment random(long seed, long len) {
        MemorySegment s = arena.allocate(len * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < len; i++) Mem.set(s, i, (float) (r.nextDouble() - 0.5));
        return s;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public MemorySegment step_simd() {
        AdamSimd.step(n, p, 0, g, 0, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, ++t);
        return p;
    }

    @Benchmark
    public MemorySegment step_scalar() {
        AdamScalar.step(n, p, 0, g, 0, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, ++t);
        return p;
    }

    @Benchmark
    public MemorySegment stepRows_simd() {
        AdamSimd.stepRows(BATCH_ROWS, rows, d, tp, 0, d, tg, 0, d, tm, 0, tv, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, ++t);
        return tp;
    }

    @Benchmark
    public MemorySegment stepRows_scalar() {
        AdamScalar.stepRows(BATCH_ROWS, rows, d, tp, 0, d, tg, 0, d, tm, 0, tv, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, ++t);
        return tp;
    }

    @Override
    public double flops(String method, Map<String, String> params) {
        return Double.NaN;
    }
}
