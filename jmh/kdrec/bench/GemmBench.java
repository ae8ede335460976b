package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import kdrec.cpu.GemmScalar;
import kdrec.cpu.GemmSimd;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import org.openjdk.jmh.annotations.*;

/**
 * GEMM at the shapes of one training step of a dot-product recommender, {@code shape = batch x items x d}:
 * <ul>
 *   <li>{@code nt}: scores S[batch x items] = U[batch x d] . I[items x d]^T (forward; m = batch, n = items, k = d)</li>
 *   <li>{@code nn}: dU[batch x d] = G[batch x items] . I[items x d] (backward; m = batch, n = d, k = items)</li>
 *   <li>{@code tn}: dI[items x d] = G[batch x items]^T . U[batch x d] (backward; m = items, n = d, k = batch)</li>
 * </ul>
 * {@code 100x100x16} is one HSTU attention map's products at the bench's shape (100 positions, a head
 * 16 wide): scores Q.K^T (nt), and the backward's dQ = G.K (nn) and dK = G^T.Q (tn).
 * {@code _simd} is GemmSimd on {@code threads} threads; {@code _scalar} is the single-threaded scalar twin.
 *
 * <p>The scalar twin runs at 1-3 GFLOP/s, so on 2048 x 41000 one call would take seconds. It
 * therefore computes only the first {@link #SCALAR_ROWS} rows of the same output (same operands, same
 * n and k), and {@link #flops} counts just those rows: the report's GFLOP/s and its simd/scalar ratio
 * (taken on GFLOP/s) stay fair, because the scalar loops have no blocking whose efficiency would
 * depend on the row count. The scalar time itself is therefore not the time of the full shape.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xms2g", "-Xmx6g", "-XX:+UseParallelGC"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class GemmBench implements FlopCount {
    /** Output rows the scalar twin computes (see the class comment). */
    public static final int SCALAR_ROWS = 128;

    @Param({"1024x4000x64", "2048x41000x64", "1024x4000x20", "1024x4000x300", "100x100x16"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    private int batch, items, d;
    private Arena arena;
    private MemorySegment u, it, g, s, du, di;

    static int[] parse(String shape) {
        String[] p = shape.split("x");
        return new int[]{Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])};
    }

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        int[] sh = parse(shape);
        batch = sh[0]; items = sh[1]; d = sh[2];
        arena = Arena.ofShared();
        u = random(arena, (long) batch * d, 1);
        it = random(arena, (long) items * d, 2);
        g = random(arena, (long) batch * items, 3);
        s = arena.allocate((long) batch * items * Float.BYTES, 64);
        du = arena.allocate((long) batch * d * Float.BYTES, 64);
        di = arena.allocate((long) items * d * Float.BYTES, 64);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    private static MemorySegment random(Arena arena, long n, long seed) {
        MemorySegment m = arena.allocate(n * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) Mem.set(m, i, (float) (r.nextDouble() - 0.5));
        return m;
    }

    @Benchmark
    public MemorySegment nt_simd() {
        GemmSimd.nt(batch, items, d, 1f, u, 0, d, it, 0, d, 0f, s, 0, items);
        return s;
    }

    @Benchmark
    public MemorySegment nt_scalar() {
        GemmScalar.nt(Math.min(batch, SCALAR_ROWS), items, d, 1f, u, 0, d, it, 0, d, 0f, s, 0, items);
        return s;
    }

    @Benchmark
    public MemorySegment nn_simd() {
        GemmSimd.nn(batch, d, items, 1f, g, 0, items, it, 0, d, 0f, du, 0, d);
        return du;
    }

    @Benchmark
    public MemorySegment nn_scalar() {
        GemmScalar.nn(Math.min(batch, SCALAR_ROWS), d, items, 1f, g, 0, items, it, 0, d, 0f, du, 0, d);
        return du;
    }

    @Benchmark
    public MemorySegment tn_simd() {
        GemmSimd.tn(items, d, batch, 1f, g, 0, items, u, 0, d, 0f, di, 0, d);
        return di;
    }

    @Benchmark
    public MemorySegment tn_scalar() {
        GemmScalar.tn(Math.min(items, SCALAR_ROWS), d, batch, 1f, g, 0, items, u, 0, d, 0f, di, 0, d);
        return di;
    }

    @Override
    public double flops(String method, Map<String, String> params) {
        String sh = params.get("shape");
        if (sh == null) return Double.NaN;
        int[] p = parse(sh);
        double b = p[0], n = p[1], dd = p[2];
        boolean scalar = method.endsWith("_scalar");
        return switch (method.substring(0, 2)) {
            case "nt", "nn" -> 2 * (scalar ? Math.min(b, SCALAR_ROWS) : b) * n * dd;
            case "tn" -> 2 * (scalar ? Math.min(n, SCALAR_ROWS) : n) * b * dd;
            default -> Double.NaN;
        };
    }
}
