package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import kdrec.cpu.FftScalar;
import kdrec.cpu.FftSimd;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import org.openjdk.jmh.annotations.*;

/**
 * Batched real FFTs, standalone: {@code batch} signals of length {@code n} (1024: radix-2; 1000:
 * Bluestein through 2048-point complex FFTs). {@code rfft} forward, {@code irfft} inverse,
 * {@code dct1} the DCT-I of length n+1 (one real FFT of length 2n). {@code _simd} is FftSimd on
 * {@code threads} threads; {@code _scalar} the single-threaded scalar twin.
 *
 * <p>Flops are the conventional 5 N log2 N / 2 per real transform of length N (N = n, or 2n for the
 * DCT-I), whatever the algorithm does (a Bluestein length does about 4x that).
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xms2g", "-Xmx6g", "-XX:+UseParallelGC"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class FftBench implements FlopCount {
    @Param({"1024", "1000"})
    public int n;

    @Param({"256"})
    public int batch;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private MemorySegment x, spec, back, y;
    private int ldSpec;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        ldSpec = 2 * (n / 2 + 1);
        arena = Arena.ofShared();
        x = arena.allocate((long) batch * (n + 1) * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(42);
        for (long i = 0; i < (long) batch * (n + 1); i++) Mem.set(x, i, (float) (r.nextDouble() - 0.5));
        spec = arena.allocate((long) batch * ldSpec * Float.BYTES, 64);
        back = arena.allocate((long) batch * n * Float.BYTES, 64);
        y = arena.allocate((long) batch * (n + 1) * Float.BYTES, 64);
        FftScalar.rfft(batch, n, x, 0, n, spec, 0, ldSpec); // a valid spectrum for the inverse
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public MemorySegment rfft_simd() {
        FftSimd.rfft(batch, n, x, 0, n, spec, 0, ldSpec);
        return spec;
    }

    @Benchmark
    public MemorySegment rfft_scalar() {
        FftScalar.rfft(batch, n, x, 0, n, spec, 0, ldSpec);
        return spec;
    }

    @Benchmark
    public MemorySegment irfft_simd() {
        FftSimd.irfft(batch, n, spec, 0, ldSpec, back, 0, n);
        return back;
    }

    @Benchmark
    public MemorySegment irfft_scalar() {
        FftScalar.irfft(batch, n, spec, 0, ldSpec, back, 0, n);
        return back;
    }

    @Benchmark
    public MemorySegment dct1_simd() {
        FftSimd.dct1(batch, n, x, 0, n + 1, y, 0, n + 1);
        return y;
    }

    @Benchmark
    public MemorySegment dct1_scalar() {
        FftScalar.dct1(batch, n, x, 0, n + 1, y, 0, n + 1);
        return y;
    }

    @Override
    public double flops(String method, Map<String, String> params) {
        int len = Integer.parseInt(params.get("n"));
        int b = Integer.parseInt(params.get("batch"));
        int fftLen = method.startsWith("dct1") ? 2 * len : len;
        return b * 5.0 * fftLen * (Math.log(fftLen) / Math.log(2)) / 2;
    }
}
