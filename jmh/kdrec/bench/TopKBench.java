package kdrec.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import kdrec.cpu.GemmSimd;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.cpu.ScoreTile;
import kdrec.cpu.TopKScalar;
import kdrec.cpu.TopKSimd;
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
 * Fused score -> top-K (evaluation shape: 2048 users x 41 000 items, k = 100) against its parts.
 *
 * <ul>
 *   <li>{@code topk_fused}: TopKSimd.scoreTopK, the kernel under test.</li>
 *   <li>{@code topk_gemmOnly}: the full m x n score matrix alone (the target is fused &lt;= 1.3x this).</li>
 *   <li>{@code topk_unfused}: the same GEMM, then TopKSimd.selectTopK on the materialised matrix.</li>
 *   <li>{@code topk_tilesOnly}: the same scores with no selection (ScoreTile into a 48-row L2 tile,
 *       no C written): roughly the arithmetic floor of the fused kernel, which itself filters in the
 *       micro-kernel's epilogue and never stores a tile.</li>
 *   <li>{@code topk_scalar}: TopKScalar.scoreTopK on {@value #SCALAR_ROWS} rows, reported per row.</li>
 *   <li>{@code select_simd} / {@code select_scalar}: selection alone on a precomputed score matrix.</li>
 * </ul>
 *
 * Run: {@code java -jar target/benchmarks.jar TopKBench}. On a shared box, {@link TopKRatio} gives the
 * steadier fused/GEMM ratio (interleaved in one process, ratio per round, CPU time per thread).
 */
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Xms2g", "-Xmx6g", "-XX:+UseParallelGC"})
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
public class TopKBench implements FlopCount {
    static final int SCALAR_ROWS = 16;

    @Param({"2048"})
    public int m;
    @Param({"41000"})
    public int n;
    @Param({"64", "20"})
    public int d;
    @Param({"100"})
    public int k;
    @Param({"2"})
    public int threads;

    private Arena arena;
    private MemorySegment u, items, c, scores;
    private int[] outIdx;
    private float[] outScore;
    private float[][] packed;

    @Setup(Level.Trial)
    public void setup() {
        Parallel.setThreads(threads);
        arena = Arena.ofShared();
        u = gaussian(1, (long) m * d);
        items = gaussian(2, (long) n * d);
        c = arena.allocate((long) m * n * Float.BYTES, 64);
        scores = arena.allocate((long) m * n * Float.BYTES, 64);
        gemmNt(m, n, d, 1f, u, 0, d, items, 0, d, 0f, scores, 0, n);
        outIdx = new int[m * k];
        outScore = new float[m * k];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    private MemorySegment gaussian(long seed, long len) {
        MemorySegment s = arena.allocate(Math.max(1, len) * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < len; i++) {
            double g = Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
            Mem.set(s, i, (float) (g / Math.sqrt(d)));
        }
        return s;
    }

    @Benchmark
    public int[] topk_fused() {
        TopKSimd.scoreTopK(m, n, d, u, 0, d, items, 0, d, k, null, null, outIdx, outScore);
        return outIdx;
    }

    @Benchmark
    public MemorySegment topk_gemmOnly() {
        gemmNt(m, n, d, 1f, u, 0, d, items, 0, d, 0f, c, 0, n);
        return c;
    }

    @Benchmark
    public int[] topk_unfused() {
        gemmNt(m, n, d, 1f, u, 0, d, items, 0, d, 0f, c, 0, n);
        TopKSimd.selectTopK(m, n, c, 0, n, k, null, null, outIdx, outScore);
        return outIdx;
    }

    @Benchmark
    public float topk_tilesOnly() {
        // same tile width as TopKSimd.tileCols(d): ~24K packed floats, whole NR panels, <= 768 columns
        int nt = Math.max(1, Math.min(24576 / Math.max(1, d), 768) / ScoreTile.NR) * ScoreTile.NR;
        return tiles(null, nt);
    }

    @Benchmark
    @OperationsPerInvocation(SCALAR_ROWS)
    public int[] topk_scalar() {
        TopKScalar.scoreTopK(SCALAR_ROWS, n, d, u, 0, d, items, 0, d, k, null, null, outIdx, outScore);
        return outIdx;
    }

    @Benchmark
    public int[] select_simd() {
        TopKSimd.selectTopK(m, n, scores, 0, n, k, null, null, outIdx, outScore);
        return outIdx;
    }

    @Benchmark
    public int[] select_scalar() {
        TopKScalar.selectTopK(m, n, scores, 0, n, k, null, null, outIdx, outScore);
        return outIdx;
    }

    /** The real GEMM NT: the baseline the fused kernel is judged against. */
    private void gemmNt(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda, MemorySegment b,
                        long bOff, int ldb, float beta, MemorySegment cc, long cOff, int ldc) {
        GemmSimd.nt(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, cc, cOff, ldc);
    }

    /** ScoreTile over all (row block, item tile) pairs like the fused kernel; copies tiles to out if set. */
    private float tiles(MemorySegment out, int nt) {
        int mb = 48, tilesN = (n + nt - 1) / nt;
        if (packed == null || packed.length != tilesN || packed[0].length != ScoreTile.packedSize(nt, d)) {
            packed = new float[tilesN][ScoreTile.packedSize(nt, d)];
        }
        float[][] p = packed;
        Parallel.forRange(tilesN, 1, 8, (lo, hi) -> {
            for (int t = lo; t < hi; t++) ScoreTile.packB(items, 0, d, t * nt, Math.min(nt, n - t * nt), d, p[t]);
        });
        float[] sink = new float[Parallel.threads() + 1];
        Parallel.forChunks(m, mb, mb, (chunk, lo, hi) -> sink[chunk] = tileRows(out, p, nt, mb, lo, hi));
        float s = 0;
        for (float v : sink) s += v;
        return s;
    }

    private float tileRows(MemorySegment out, float[][] p, int nt, int mbMax, int lo, int hi) {
        float[] a = new float[mbMax * d], cb = new float[mbMax * nt];
        float sink = 0;
        for (int r0 = lo; r0 < hi; r0 += mbMax) {
            int mb = Math.min(mbMax, hi - r0);
            Mem.copyOut(u, (long) r0 * d, a, 0, mb * d);
            for (int t = 0; t < p.length; t++) {
                int j0 = t * nt, nb = Math.min(nt, n - j0);
                ScoreTile.tile(mb, nb, d, a, 0, d, p[t], cb, nt);
                if (out != null) {
                    for (int i = 0; i < mb; i++) Mem.copyIn(cb, i * nt, out, (long) (r0 + i) * n + j0, nb);
                } else {
                    sink += cb[(t * 7) % (mb * nt)];
                }
            }
        }
        return sink;
    }

    @Override
    public double flops(String method, Map<String, String> params) {
        double mm = Double.parseDouble(params.get("m")), nn = Double.parseDouble(params.get("n"));
        double dd = Double.parseDouble(params.get("d"));
        return switch (method) {
            case "topk_fused", "topk_gemmOnly", "topk_unfused", "topk_tilesOnly" -> 2 * mm * nn * dd;
            case "topk_scalar" -> 2 * nn * dd; // reported per row (OperationsPerInvocation)
            default -> Double.NaN;
        };
    }
}
