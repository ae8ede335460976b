package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import kdrec.cpu.Csr;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.cpu.SpmmScalar;
import kdrec.cpu.SpmmSimd;
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
 * CSR SpMM on a Gowalla-sized LightGCN adjacency: 30 000 users + 41 000 items, 810 000 random
 * interactions (item popularity skewed), symmetrised into a 71 000 x 71 000 matrix with 1.62M
 * entries and values 1/sqrt(deg_u deg_i).
 *
 * <ul>
 *   <li>{@code spmm_*}: one propagation layer, Y = A X.</li>
 *   <li>{@code spmmT_*}: Y = A^T X (SIMD: cached transpose; includes its per-call structure compare).</li>
 *   <li>{@code spmmRows_*}: the 2048 rows of a batch only.</li>
 * </ul>
 * Run: {@code java -jar target/benchmarks.jar SpmmBench}.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xms2g", "-Xmx6g", "-XX:+UseParallelGC"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
public class SpmmBench implements FlopCount {
    static final int USERS = 30_000, ITEMS = 41_000, EDGES = 810_000, BATCH = 2048;

    @Param({"64", "20", "300"})
    public int d;
    @Param({"2", "1"})
    public int threads;

    private Arena arena;
    private MemorySegment x, y;

    /** The graph is deterministic, built once per JVM (flops() needs it too). */
    static final class Graph {
        static final Csr A = build();
        static final int[] ROWS = batchRows();
        static final long ROWS_NNZ = rowsNnz();

        private static Csr build() {
            SplittableRandom r = new SplittableRandom(2024);
            int n = USERS + ITEMS;
            int[] eu = new int[EDGES], ei = new int[EDGES];
            int[] deg = new int[n];
            for (int e = 0; e < EDGES; e++) {
                eu[e] = r.nextInt(USERS);
                double q = r.nextDouble();
                ei[e] = USERS + (int) (ITEMS * q * q); // popular items: density ~ 1/sqrt
                deg[eu[e]]++;
                deg[ei[e]]++;
            }
            int[] ptr = new int[n + 1];
            for (int i = 0; i < n; i++) ptr[i + 1] = ptr[i] + deg[i];
            int[] fill = ptr.clone();
            int[] col = new int[2 * EDGES];
            float[] val = new float[2 * EDGES];
            for (int e = 0; e < EDGES; e++) {
                float w = (float) (1.0 / Math.sqrt((double) deg[eu[e]] * deg[ei[e]]));
                int a = fill[eu[e]]++, b = fill[ei[e]]++;
                col[a] = ei[e];
                val[a] = w;
                col[b] = eu[e];
                val[b] = w;
            }
            return new Csr(n, n, ptr, col, val);
        }

        private static int[] batchRows() {
            SplittableRandom r = new SplittableRandom(7);
            int[] rows = new int[BATCH];
            for (int t = 0; t < BATCH; t++) rows[t] = r.nextInt(USERS);
            return rows;
        }

        private static long rowsNnz() {
            long s = 0;
            for (int row : ROWS) s += A.ptr[row + 1] - A.ptr[row];
            return s;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        arena = Arena.ofShared();
        int n = USERS + ITEMS;
        x = arena.allocate((long) n * d * Float.BYTES, 64);
        y = arena.allocate((long) n * d * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(1);
        for (long i = 0; i < (long) n * d; i++) Mem.set(x, i, (float) (r.nextDouble() - 0.5));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        Csr.clearTransposeCache();
    }

    @Benchmark
    public MemorySegment spmm_simd() {
        Csr a = Graph.A;
        SpmmSimd.spmm(a.rows, d, a.ptr, a.col, a.val, x, 0, d, 0f, y, 0, d);
        return y;
    }

    @Benchmark
    public MemorySegment spmm_scalar() {
        Csr a = Graph.A;
        SpmmScalar.spmm(a.rows, d, a.ptr, a.col, a.val, x, 0, d, 0f, y, 0, d);
        return y;
    }

    @Benchmark
    public MemorySegment spmmT_simd() {
        Csr a = Graph.A;
        SpmmSimd.spmmT(a.rows, a.cols, d, a.ptr, a.col, a.val, x, 0, d, 0f, y, 0, d);
        return y;
    }

    @Benchmark
    public MemorySegment spmmT_scalar() {
        Csr a = Graph.A;
        SpmmScalar.spmmT(a.rows, a.cols, d, a.ptr, a.col, a.val, x, 0, d, 0f, y, 0, d);
        return y;
    }

    @Benchmark
    public MemorySegment spmmRows_simd() {
        Csr a = Graph.A;
        SpmmSimd.spmmRows(BATCH, Graph.ROWS, d, a.ptr, a.col, a.val, x, 0, d, 0f, y, 0, d);
        return y;
    }

    @Benchmark
    public MemorySegment spmmRows_scalar() {
        Csr a = Graph.A;
        SpmmScalar.spmmRows(BATCH, Graph.ROWS, d, a.ptr, a.col, a.val, x, 0, d, 0f, y, 0, d);
        return y;
    }

    @Override
    public double flops(String method, Map<String, String> params) {
        double dd = Double.parseDouble(params.getOrDefault("d", "64"));
        if (method.startsWith("spmmRows")) return 2.0 * Graph.ROWS_NNZ * dd;
        if (method.startsWith("spmm")) return 2.0 * 2 * EDGES * dd;
        return Double.NaN;
    }
}
