package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import kdrec.cpu.ActivationScalar;
import kdrec.cpu.ActivationSimd;
import kdrec.cpu.DropoutScalar;
import kdrec.cpu.DropoutSimd;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.cpu.VecScalar;
import kdrec.cpu.VecSimd;
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
 * Vector ops, activations and dropout over n floats (native segments from a shared arena, so the
 * SIMD kernels may use the pool): each {@code <op>_simd} next to its {@code <op>_scalar} oracle.
 * Most of these are memory-bound at n = 1M (12 MB for a binary op), so expect SIMD/scalar ratios of a
 * few x for add/axpy and larger ones for the exp-bound activations. Backward ops accumulate into gx
 * every invocation (values drift, timing does not: no NaN/Inf can arise from |gy| &lt;= 1 over the run).
 * Run: {@code java -jar target/benchmarks.jar ElementwiseBench}.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xms2g", "-Xmx6g", "-XX:+UseParallelGC"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class ElementwiseBench implements FlopCount {
    @Param({"1048576"})
    public int n;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private MemorySegment a, b, y, gx;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        arena = Arena.ofShared();
        a = fill(1, -4, 4);
        b = fill(2, -1, 1);
        y = fill(3, -1, 1);
        gx = fill(4, -1, 1);
    }

    private MemorySegment fill(long seed, double lo, double hi) {
        MemorySegment s = arena.allocate((long) n * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) Mem.set(s, i, (float) (lo + (hi - lo) * r.nextDouble()));
        return s;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark public MemorySegment add_simd() { VecSimd.add(n, a, 0, b, 0, y, 0); return y; }
    @Benchmark public MemorySegment add_scalar() { VecScalar.add(n, a, 0, b, 0, y, 0); return y; }

    @Benchmark public MemorySegment axpy_simd() { VecSimd.axpy(n, 1e-7f, b, 0, y, 0); return y; }
    @Benchmark public MemorySegment axpy_scalar() { VecScalar.axpy(n, 1e-7f, b, 0, y, 0); return y; }

    @Benchmark public double sum_simd() { return VecSimd.sum(n, a, 0); }
    @Benchmark public double sum_scalar() { return VecScalar.sum(n, a, 0); }

    @Benchmark public double dot_simd() { return VecSimd.dot(n, a, 0, b, 0); }
    @Benchmark public double dot_scalar() { return VecScalar.dot(n, a, 0, b, 0); }

    @Benchmark public boolean allFinite_simd() { return VecSimd.allFinite(n, a, 0); }
    @Benchmark public boolean allFinite_scalar() { return VecScalar.allFinite(n, a, 0); }

    @Benchmark public MemorySegment sigmoid_simd() { ActivationSimd.sigmoid(n, a, 0, y, 0); return y; }
    @Benchmark public MemorySegment sigmoid_scalar() { ActivationScalar.sigmoid(n, a, 0, y, 0); return y; }

    @Benchmark public MemorySegment logSigmoid_simd() { ActivationSimd.logSigmoid(n, a, 0, y, 0); return y; }
    @Benchmark public MemorySegment logSigmoid_scalar() { ActivationScalar.logSigmoid(n, a, 0, y, 0); return y; }

    @Benchmark public MemorySegment logSigmoidBackward_simd() { ActivationSimd.logSigmoidBackward(n, a, 0, b, 0, gx, 0); return gx; }
    @Benchmark public MemorySegment logSigmoidBackward_scalar() { ActivationScalar.logSigmoidBackward(n, a, 0, b, 0, gx, 0); return gx; }

    @Benchmark public MemorySegment silu_simd() { ActivationSimd.silu(n, a, 0, y, 0); return y; }
    @Benchmark public MemorySegment silu_scalar() { ActivationScalar.silu(n, a, 0, y, 0); return y; }

    @Benchmark public MemorySegment siluBackward_simd() { ActivationSimd.siluBackward(n, a, 0, b, 0, gx, 0); return gx; }
    @Benchmark public MemorySegment siluBackward_scalar() { ActivationScalar.siluBackward(n, a, 0, b, 0, gx, 0); return gx; }

    @Benchmark public MemorySegment relu_simd() { ActivationSimd.relu(n, a, 0, y, 0); return y; }
    @Benchmark public MemorySegment relu_scalar() { ActivationScalar.relu(n, a, 0, y, 0); return y; }

    @Benchmark public MemorySegment dropout_simd() { DropoutSimd.forward(n, a, 0, y, 0, 0.1f, 12345L); return y; }
    @Benchmark public MemorySegment dropout_scalar() { DropoutScalar.forward(n, a, 0, y, 0, 0.1f, 12345L); return y; }

    @Benchmark public MemorySegment dropoutBackward_simd() { DropoutSimd.backward(n, b, 0, gx, 0, 0.1f, 12345L); return gx; }
    @Benchmark public MemorySegment dropoutBackward_scalar() { DropoutScalar.backward(n, b, 0, gx, 0, 0.1f, 12345L); return gx; }

    /** Arithmetic flops for the BLAS-1 ops (an fma counts 2); NaN for activations/dropout (transcendental or bit work). */
    @Override
    public double flops(String method, Map<String, String> params) {
        double len = Double.parseDouble(params.getOrDefault("n", "1048576"));
        String op = method.substring(0, method.lastIndexOf('_'));
        return switch (op) {
            case "add", "sum" -> len;
            case "axpy", "dot" -> 2 * len;
            default -> Double.NaN;
        };
    }
}
