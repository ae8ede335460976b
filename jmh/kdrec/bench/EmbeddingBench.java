package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import kdrec.cpu.EmbeddingScalar;
import kdrec.cpu.EmbeddingSimd;
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
 * Embedding-table kernels at BPR batch shape: 2048 rows of d from a 30 000-user and a 41 000-item
 * table (native segments).
 *
 * <ul>
 *   <li>{@code gather_*}: 2048 item rows into a batch buffer.</li>
 *   <li>{@code scatterAdd_*}: 2048 batch rows added into the item table (duplicates included).</li>
 *   <li>{@code rowDot_*}: s_ui = &lt;e_u, e_i&gt; for the batch.</li>
 *   <li>{@code rowDotBackward_*}: its gradient into both tables.</li>
 * </ul>
 * scatterAdd and rowDotBackward keep accumulating into the tables across invocations; the values
 * stay small (gradients are 1e-6) and the work per call is the same.
 * Run: {@code java -jar target/benchmarks.jar EmbeddingBench}.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xms2g", "-Xmx6g", "-XX:+UseParallelGC"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class EmbeddingBench implements FlopCount {
    static final int USERS = 30_000, ITEMS = 41_000;

    @Param({"2048"})
    public int n;
    @Param({"64", "20"})
    public int d;
    @Param({"2", "1"})
    public int threads;

    private Arena arena;
    private MemorySegment users, items, gUsers, gItems, batch;
    private int[] iu, ii;
    private float[] g, out;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        arena = Arena.ofShared();
        users = random(1, (long) USERS * d, 0.1f);
        items = random(2, (long) ITEMS * d, 0.1f);
        gUsers = arena.allocate((long) USERS * d * Float.BYTES, 64);
        gItems = arena.allocate((long) ITEMS * d * Float.BYTES, 64);
        batch = random(3, (long) n * d, 1e-6f);
        SplittableRandom r = new SplittableRandom(4);
        iu = new int[n];
        ii = new int[n];
        g = new float[n];
        out = new float[n];
        for (int t = 0; t < n; t++) {
            iu[t] = r.nextInt(USERS);
            double q = r.nextDouble();
            ii[t] = (int) (ITEMS * q * q); // skewed popularity: duplicates in the batch
            g[t] = (float) ((r.nextDouble() - 0.5) * 1e-6);
        }
    }

    private MemorySegment random(long seed, long len, float scale) {
        MemorySegment s = arena.allocate(len * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < len; i++) Mem.set(s, i, (float) ((r.nextDouble() - 0.5) * scale));
        return s;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public MemorySegment gather_simd() {
        EmbeddingSimd.gather(n, d, ii, items, 0, d, batch, 0, d);
        return batch;
    }

    @Benchmark
    public MemorySegment gather_scalar() {
        EmbeddingScalar.gather(n, d, ii, items, 0, d, batch, 0, d);
        return batch;
    }

    @Benchmark
    public MemorySegment scatterAdd_simd() {
        EmbeddingSimd.scatterAdd(n, d, ii, batch, 0, d, gItems, 0, d);
        return gItems;
    }

    @Benchmark
    public MemorySegment scatterAdd_scalar() {
        EmbeddingScalar.scatterAdd(n, d, ii, batch, 0, d, gItems, 0, d);
        return gItems;
    }

    @Benchmark
    public float[] rowDot_simd() {
        EmbeddingSimd.rowDot(n, d, iu, users, 0, d, ii, items, 0, d, out);
        return out;
    }

    @Benchmark
    public float[] rowDot_scalar() {
        EmbeddingScalar.rowDot(n, d, iu, users, 0, d, ii, items, 0, d, out);
        return out;
    }

    @Benchmark
    public MemorySegment rowDotBackward_simd() {
        EmbeddingSimd.rowDotBackward(n, d, iu, users, 0, d, ii, items, 0, d, g, gUsers, 0, d, gItems, 0, d);
        return gItems;
    }

    @Benchmark
    public MemorySegment rowDotBackward_scalar() {
        EmbeddingScalar.rowDotBackward(n, d, iu, users, 0, d, ii, items, 0, d, g, gUsers, 0, d, gItems, 0, d);
        return gItems;
    }

    @Override
    public double flops(String method, Map<String, String> params) {
        double nd = Double.parseDouble(params.getOrDefault("n", "2048")) * Double.parseDouble(params.getOrDefault("d", "64"));
        if (method.startsWith("rowDotBackward")) return 4 * nd;
        if (method.startsWith("rowDot")) return 2 * nd;
        if (method.startsWith("scatterAdd")) return nd;
        return Double.NaN; // gather moves data only
    }
}
