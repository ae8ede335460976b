package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import kdrec.cpu.LayerNormScalar;
import kdrec.cpu.LayerNormSimd;
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
 * Layer norm forward and backward (dx, dgamma, dbeta) over rows x d = 1M floats, with affine
 * gamma/beta, SIMD vs the scalar oracle. "16384x64" is the embedding-sized case (short rows: per-row
 * overhead and lane combining matter), "1024x1024" the long-row case. Backward accumulates into
 * dx/dgamma/dbeta on every invocation (values drift, timing does not).
 * Run: {@code java -jar target/benchmarks.jar LayerNormBench}.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xms2g", "-Xmx6g", "-XX:+UseParallelGC"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class LayerNormBench implements FlopCount {
    @Param({"16384x64", "1024x1024"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    private int rows, d;
    private Arena arena;
    private MemorySegment x, gamma, beta, y, dy, dx, dgamma, dbeta;
    private float[] mean, rstd;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        String[] p = shape.split("x");
        rows = Integer.parseInt(p[0]);
        d = Integer.parseInt(p[1]);
        arena = Arena.ofShared();
        long n = (long) rows * d;
        x = fill(1, n, 2, 3);
        y = fill(2, n, 0, 0);
        dy = fill(3, n, -1, 1);
        dx = fill(4, n, 0, 0);
        gamma = fill(5, d, 0.5, 1.5);
        beta = fill(6, d, -0.5, 0.5);
        dgamma = fill(7, d, 0, 0);
        dbeta = fill(8, d, 0, 0);
        mean = new float[rows];
        rstd = new float[rows];
        LayerNormScalar.forward(rows, d, x, 0, d, gamma, 0, beta, 0, 1e-5f, y, 0, d, mean, rstd);
    }

    private MemorySegment fill(long seed, long n, double lo, double hi) {
        MemorySegment s = arena.allocate(n * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) Mem.set(s, i, (float) (lo + (hi - lo) * r.nextDouble()));
        return s;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] forward_simd() {
        LayerNormSimd.forward(rows, d, x, 0, d, gamma, 0, beta, 0, 1e-5f, y, 0, d, mean, rstd);
        return rstd;
    }

    @Benchmark
    public float[] forward_scalar() {
        LayerNormScalar.forward(rows, d, x, 0, d, gamma, 0, beta, 0, 1e-5f, y, 0, d, mean, rstd);
        return rstd;
    }

    @Benchmark
    public MemorySegment backward_simd() {
        LayerNormSimd.backward(rows, d, x, 0, d, gamma, 0, mean, rstd, dy, 0, d, dx, 0, d, dgamma, 0, dbeta, 0);
        return dx;
    }

    @Benchmark
    public MemorySegment backward_scalar() {
        LayerNormScalar.backward(rows, d, x, 0, d, gamma, 0, mean, rstd, dy, 0, d, dx, 0, d, dgamma, 0, dbeta, 0);
        return dx;
    }

    /** Memory-bound normalisation: a flop count would not say anything useful. */
    @Override
    public double flops(String method, Map<String, String> params) {
        return Double.NaN;
    }
}
