package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API GEMM, same contract as {@link GemmScalar}: C = alpha * op(A) . op(B) + beta * C over
 * row-major float32 segments (heap or native), element offsets, leading dimensions. beta == 0 never
 * reads C; k == 0 gives C = beta * C.
 *
 * <p>Structure (reference/vector-api-calibration.md section 1): B is packed per (k block, column block)
 * into k-major panels of NR columns (a transposing copy for NT, a vector copy for NN and TN); A is never
 * packed: the micro-kernels ({@link GemmKernels}) broadcast it in place, with strides that cover both
 * row-major A (NN, NT) and transposed A (TN). Loop nest per thread: column block (packed B about
 * 384 KB, L2) -> k block (at most {@link #KC} deep) -> MR-row panel (its slice of A stays in L1) -> NR
 * panel. Walking C row panel by row panel writes it row-sequentially, which the calibration found
 * 20-30 % faster than the BLIS order because the stream prefetcher then covers C's write-allocates.
 * k blocks after the first accumulate into C (beta taken as 1), so a long k (the backward shapes,
 * k = 4000) keeps its B block in L2.
 *
 * <p>Shape choice: 3 x (3 vectors) by default; 4 x (2 vectors) when n pads to 2-vector panels with
 * at least 5 % less waste (n = 64: 64 columns instead of 72).
 *
 * <p>Threads ({@link Parallel}): the output is split into contiguous MR-aligned row ranges, or
 * NR-aligned column ranges when n >= m (then each thread packs only its own part of B). k is never
 * split. Every output element is computed by one fused-multiply-add chain over k in a fixed order,
 * with k block boundaries that depend only on k, so <b>results are bit-identical for any thread count</b>
 * (and for any tiling). Scratch: one packed-B buffer and one tile per thread, kept in a ThreadLocal.
 * Native segments must be readable from the pool threads (global, auto or shared arenas) unless
 * {@link Parallel#threads()} is 1.
 */
public final class GemmSimd {
    private GemmSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Deepest k block; k is cut into equal blocks no deeper than this. */
    static final int KC = 384;
    /** Packed B block budget in floats (384 KB: fits Zen 3's 512 KB L2 next to A and C lines). */
    private static final int B_BLOCK_FLOATS = 96 * 1024;
    /** Work (multiply-adds) below which a task is not worth forking. */
    private static final long MIN_TASK_FMAS = 1L << 18;

    private static final class Scratch {
        float[] bp = new float[0];
        final float[] tile = new float[16 * L];
        final MemorySegment tileSeg = MemorySegment.ofArray(tile);
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** C = alpha * A . B + beta * C ; A m x k, B k x n (row-major). */
    public static void nn(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                          MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        GemmArgs.check("GemmSimd.nn", false, false, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        run(m, n, k, alpha, a, aOff, lda, 1, b, bOff, ldb, false, beta, c, cOff, ldc);
    }

    /** C = alpha * A . B^T + beta * C ; A m x k, B n x k. */
    public static void nt(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                          MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        GemmArgs.check("GemmSimd.nt", false, true, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        run(m, n, k, alpha, a, aOff, lda, 1, b, bOff, ldb, true, beta, c, cOff, ldc);
    }

    /** C = alpha * A^T . B + beta * C ; A k x m, B k x n. */
    public static void tn(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                          MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        GemmArgs.check("GemmSimd.tn", true, false, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        run(m, n, k, alpha, a, aOff, 1, lda, b, bOff, ldb, false, beta, c, cOff, ldc);
    }

    /** The blocking plan of one call; immutable, shared by the threads. */
    private record Plan(int m, int n, int k, float alpha, float beta, MemorySegment a, long aOff, long rs, long ks,
                        MemorySegment b, long bOff, int ldb, boolean bTrans, MemorySegment c, long cOff, int ldc,
                        boolean four, int mr, int nr, int kc, int nc) {}

    /** True when 4 x (2 vectors) wastes at least 5 % fewer padded columns than 3 x (3 vectors). */
    static boolean useFourRows(int n) {
        long p2 = (long) ((n + 2 * L - 1) / (2 * L)) * 2 * L, p3 = (long) ((n + 3 * L - 1) / (3 * L)) * 3 * L;
        return p2 * 20 <= p3 * 19;
    }

    private static void run(int m, int n, int k, float alpha, MemorySegment a, long aOff, long rs, long ks,
                            MemorySegment b, long bOff, int ldb, boolean bTrans, float beta,
                            MemorySegment c, long cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            scale(m, n, beta, c, cOff, ldc);
            return;
        }
        boolean four = useFourRows(n);
        int mr = four ? 4 : 3, nr = four ? 2 * L : 3 * L;
        int kb = (k + KC - 1) / KC, kc = (k + kb - 1) / kb;
        int nc = Math.max(nr, B_BLOCK_FLOATS / kc / nr * nr);
        Plan pl = new Plan(m, n, k, alpha, beta, a, aOff, rs, ks, b, bOff, ldb, bTrans, c, cOff, ldc, four, mr, nr, kc, nc);
        if (n >= m) {
            int min = (int) Math.min(n, Math.max(1, MIN_TASK_FMAS / ((long) m * k)));
            Parallel.forRange(n, nr, min, (j0, j1) -> block(pl, 0, m, j0, j1));
        } else {
            int min = (int) Math.min(m, Math.max(1, MIN_TASK_FMAS / ((long) n * k)));
            Parallel.forRange(m, mr, min, (i0, i1) -> block(pl, i0, i1, 0, n));
        }
    }

    /** Computes C[i0..i1) x [j0..j1) (i0 a multiple of MR, j0 of NR). */
    private static void block(Plan p, int i0, int i1, int j0, int j1) {
        Scratch s = SCRATCH.get();
        int need = p.kc * Math.min(p.nc, (j1 - j0 + p.nr - 1) / p.nr * p.nr);
        if (s.bp.length < need) s.bp = new float[need];
        float[] bp = s.bp;
        for (int jc = j0; jc < j1; jc += p.nc) {
            int nb = Math.min(p.nc, j1 - jc);
            for (int pc = 0; pc < p.k; pc += p.kc) {
                int kcur = Math.min(p.kc, p.k - pc);
                float beta = pc == 0 ? p.beta : 1f;
                if (p.bTrans) packT(p.b, p.bOff, p.ldb, pc, kcur, jc, nb, p.nr, bp);
                else packN(p.b, p.bOff, p.ldb, pc, kcur, jc, nb, p.nr, bp);
                rowPanels(p, s, i0, i1, jc, nb, pc, kcur, beta);
            }
        }
    }

    /** All row panels of rows [i0, i1) against the packed block (columns jc..jc+nb, depth pc..pc+kcur). */
    private static void rowPanels(Plan p, Scratch s, int i0, int i1, int jc, int nb, int pc, int kcur, float beta) {
        int panels = (nb + p.nr - 1) / p.nr;
        long aK = p.aOff + pc * p.ks;
        for (int i = i0; i < i1; ) {
            int rows = Math.min(p.mr, i1 - i);
            long ao = aK + i * p.rs;
            for (int q = 0; q < panels; q++) {
                int j = jc + q * p.nr, w = Math.min(p.nr, jc + nb - j), bo = q * kcur * p.nr;
                long co = p.cOff + (long) i * p.ldc + j;
                if (w == p.nr) {
                    tile(p, rows, kcur, ao, s.bp, bo, p.c, co, p.ldc, p.alpha, beta);
                } else {
                    // partial panel: compute the whole padded tile into scratch, copy the valid columns
                    tile(p, rows, kcur, ao, s.bp, bo, s.tileSeg, 0, p.nr, 1f, 0f);
                    edge(s.tile, p.nr, rows, w, p.c, co, p.ldc, p.alpha, beta);
                }
            }
            i += rows;
        }
    }

    /** One rows x NR tile: the full-height kernel, or one-row kernels for a row tail. */
    private static void tile(Plan p, int rows, int kcur, long ao, float[] bp, int bo,
                             MemorySegment c, long co, long ldc, float alpha, float beta) {
        if (rows == p.mr) {
            if (p.four) GemmKernels.k4x2(kcur, p.a, ao, p.rs, p.ks, bp, bo, c, co, ldc, alpha, beta);
            else GemmKernels.k3x3(kcur, p.a, ao, p.rs, p.ks, bp, bo, c, co, ldc, alpha, beta);
            return;
        }
        for (int r = 0; r < rows; r++) {
            if (p.four) GemmKernels.k1x2(kcur, p.a, ao + r * p.rs, p.ks, bp, bo, c, co + r * ldc, alpha, beta);
            else GemmKernels.k1x3(kcur, p.a, ao + r * p.rs, p.ks, bp, bo, c, co + r * ldc, alpha, beta);
        }
    }

    /** Copies the first w columns of a raw tile into C with alpha/beta, rounding exactly like the kernels' stores. */
    private static void edge(float[] t, int ldt, int rows, int w, MemorySegment c, long co, long ldc, float alpha, float beta) {
        for (int r = 0; r < rows; r++) {
            long o = co + r * ldc;
            for (int x = 0; x < w; x++) {
                float v = t[r * ldt + x];
                Mem.set(c, o + x, beta == 0f ? v * alpha : Math.fma(v, alpha, Mem.get(c, o + x) * beta));
            }
        }
    }

    /** k == 0: C = beta * C (beta == 0 writes zeros without reading C). */
    private static void scale(int m, int n, float beta, MemorySegment c, long cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            long o = cOff + (long) i * ldc;
            for (int j = 0; j < n; j++) Mem.set(c, o + j, beta == 0f ? 0f : Mem.get(c, o + j) * beta);
        }
    }

    /**
     * Packs B^T block for NT (B is n x k): columns jc..jc+nb of the output = rows of B, depth pc..pc+kc,
     * into panels {@code bp[q*kc*nr + kk*nr + x]}, zero past nb. Reads each B row contiguously.
     */
    static void packT(MemorySegment b, long bOff, int ldb, int pc, int kc, int jc, int nb, int nr, float[] bp) {
        int panels = (nb + nr - 1) / nr;
        for (int q = 0; q < panels; q++) {
            int base = q * kc * nr;
            for (int x = 0; x < nr; x++) {
                int j = q * nr + x;
                if (j < nb) {
                    long src = bOff + (long) (jc + j) * ldb + pc;
                    for (int kk = 0; kk < kc; kk++) bp[base + kk * nr + x] = Mem.get(b, src + kk);
                } else {
                    for (int kk = 0; kk < kc; kk++) bp[base + kk * nr + x] = 0f;
                }
            }
        }
    }

    /** Packs a B block for NN/TN (B is k x n): a vector copy of each row slice, zero past nb. */
    static void packN(MemorySegment b, long bOff, int ldb, int pc, int kc, int jc, int nb, int nr, float[] bp) {
        int panels = (nb + nr - 1) / nr;
        for (int q = 0; q < panels; q++) {
            int base = q * kc * nr, j = jc + q * nr, w = Math.min(nr, nb - q * nr);
            for (int kk = 0; kk < kc; kk++) {
                long src = bOff + (long) (pc + kk) * ldb + j;
                int dst = base + kk * nr;
                if (w == nr) {
                    for (int x = 0; x < nr; x += L) {
                        FloatVector.fromMemorySegment(F, b, Mem.bytes(src + x), Mem.ORDER).intoArray(bp, dst + x);
                    }
                } else {
                    for (int x = 0; x < w; x++) bp[dst + x] = Mem.get(b, src + x);
                    for (int x = w; x < nr; x++) bp[dst + x] = 0f;
                }
            }
        }
    }
}
