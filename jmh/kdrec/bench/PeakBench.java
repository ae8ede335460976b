package kdrec.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import kdrec.cpu.Parallel;
import kdrec.cpu.Simd;
import org.openjdk.jmh.annotations.*;

/**
 * Register-only FP32 FMA probe: the machine's reachable FMA peak from Java, the denominator of the
 * report's "% of peak" column. Each thread runs 10 independent chains {@code acc_i = x.fma(y, acc_i)}
 * (no memory traffic): 10 chains cover FMA latency x throughput (4 cycles x 2 per cycle on Zen 3) with
 * room to spare, and keep all chains in registers. Accumulator as the addend gives an in-place
 * vfmadd231ps (reference/vector-api-calibration.md 4.3). The chains run in a small static method so
 * it gets compiled hot on the pool threads too (calibration 4.8).
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xms2g", "-Xmx6g", "-XX:+UseParallelGC"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PeakBench implements FlopCount {
    /** Iterations per thread per call: 10 M vector FMAs, a few ms, so the fork/join cost is noise. */
    static final int ITERS = 1 << 20;
    static final int CHAINS = 10;

    @Param({"1", "2"})
    public int threads;

    /** Kept in fields so C2 cannot fold the chains. */
    public float x = 0.999f, y = 1e-4f;
    private final float[] sink = new float[64];

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
    }

    @Benchmark
    public float peak() {
        final float fx = x, fy = y;
        Parallel.forChunks(threads, 1, 1, (c, from, to) -> sink[c] = chains(ITERS, fx, fy));
        float s = 0;
        for (int t = 0; t < threads; t++) s += sink[t];
        return s;
    }

    static float chains(int iters, float xs, float ys) {
        FloatVector x = FloatVector.broadcast(Simd.F, xs), y = FloatVector.broadcast(Simd.F, ys);
        FloatVector a0 = FloatVector.zero(Simd.F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
        for (int i = 0; i < iters; i++) {
            a0 = x.fma(y, a0); a1 = x.fma(y, a1); a2 = x.fma(y, a2); a3 = x.fma(y, a3); a4 = x.fma(y, a4);
            a5 = x.fma(y, a5); a6 = x.fma(y, a6); a7 = x.fma(y, a7); a8 = x.fma(y, a8); a9 = x.fma(y, a9);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    @Override
    public double flops(String method, Map<String, String> params) {
        if (!method.equals("peak")) return Double.NaN;
        int t = Integer.parseInt(params.getOrDefault("threads", "1"));
        return 2.0 * t * (double) ITERS * CHAINS * Simd.LANES;
    }
}
