package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API GEMM, same contract as {@link GemmScalar}: C = alpha * op(A) . op(B) + beta * C over
 * row-major float32 segments (heap or native), element offsets, leading dimensions. beta == 0 never
 * reads C; k == 0 gives C = beta * C.
 *
 * <p>Structure (reference/vector-api-calibration.md section 1): B is packed per (k block, column block)
 * into k-major panels of NR columns (a transposing copy for NT, a vector copy for NN and TN). A is only
 * staged, not repacked: its row slices (NN, NT) or an MC-column block of its rows (TN) are bulk-copied
 * into a per-thread float[] that the micro-kernels ({@link GemmKernels}) broadcast from with strides,
 * because broadcasting straight from a MemorySegment ran about 5x slower. Loop nest per thread: column
 * block (packed B about 384 KB, L2) -> k block -> MR-row panel (its A slice stays in L1) -> NR panel.
 * Walking C row panel by row panel writes it row-sequentially, which the calibration found 20-30 %
 * faster than the BLIS order because the stream prefetcher then covers C's write-allocates. k blocks
 * after the first accumulate into C (beta taken as 1), so a long k keeps its B block in L2; blocks are
 * at most {@link #KC} deep, or up to {@link #KC_NARROW} for narrow outputs with row-major A (n = 20..64,
 * k = 4000 in the backward pass), where fewer, longer A row copies measured 1.7x faster at n = 20.
 *
 * <p>Tiles are MR rows (6 with native 512-bit vectors, else 3; see {@link GemmKernels}) by panels of
 * 3 vectors, or of 2 vectors when that pads at least 1/16 less (n = 64 at 16 lanes: 32 + 32 instead
 * of 48 + 48, where a third of the FMAs went to zero columns; n = 100: 128 instead of 144). Outputs
 * at most one vector wide (HSTU's per-head products at dh = 16) take one-vector panels of 2 MR rows
 * ({@link GemmKernelsNarrow}): the attention's NN and TN products at 100 x 16 x 100 went from 8.8 and
 * 9.3 to 6.2 and 6.5 us on one core, where two-vector panels had spent half their FMAs on zeros.
 * A whole panel with beta == 0 is stored by the kernel itself; a partial panel, or beta != 0, goes
 * through a raw tile and {@link #store}. On the Zen 5 box the 6-row kernels made the backward shapes
 * of the peer step 1.5-2x faster (NN 1024x64x4000: 4.4-6.6 to 2.4-3.0 ms CPU per thread; TN
 * 4000x64x1024: 5.8-8.6 to 3.1-3.3).
 *
 * <p>Threads ({@link Parallel}): the output is split into contiguous row ranges aligned to the row
 * panel, or NR-aligned column ranges when n >= m (then each thread packs only its own part of B). k is never
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
    /** Rows per micro-tile (6 with native 512-bit vectors, else 3: see {@link GemmKernels}). */
    static final int MR = ScoreTile.MR;
    /** Widest panel: 3 vectors. */
    static final int NR = 3 * L;
    /** Deepest k block; k is cut into equal blocks no deeper than this. */
    static final int KC = 384;
    /** Deepest k block for narrow outputs with row-major A. */
    static final int KC_NARROW = 4096;
    /** Packed B block budget in floats (384 KB: fits Zen 3's 512 KB L2 next to A and C lines). */
    private static final int B_BLOCK_FLOATS = 96 * 1024;
    /** Work (multiply-adds) below which a task is not worth forking. */
    private static final long MIN_TASK_FMAS = 1L << 18;

    /** TN stages A in blocks of {@link GemmKernels#TS} columns (16 row panels), at that constant row stride. */
    private static final int MC = GemmKernels.TS;

    /** Per-thread buffers, grown on demand and kept: packed B block, staged A, one B row, the raw tile. */
    private static final class Scratch {
        float[] bp = new float[0], ap = new float[0], row = new float[0];
        /** Gather offsets for {@link #packT}: lane x reads the slice of panel row x. */
        final int[] lanes = new int[L];
        final float[] tile = new float[Math.max(GemmKernels.TILE, GemmKernelsNarrow.MR * GemmKernels.NR)];

        void ensure(int bpLen, int apLen, int rowLen) {
            if (bp.length < bpLen) bp = new float[bpLen];
            if (ap.length < apLen) ap = new float[apLen];
            if (row.length < rowLen) row = new float[rowLen];
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** C = alpha * A . B + beta * C ; A m x k, B k x n (row-major). */
    public static void nn(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                          MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        GemmArgs.check("GemmSimd.nn", false, false, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        run(m, n, k, alpha, a, aOff, lda, false, b, bOff, ldb, false, beta, c, cOff, ldc);
    }

    /** C = alpha * A . B^T + beta * C ; A m x k, B n x k. */
    public static void nt(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                          MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        GemmArgs.check("GemmSimd.nt", false, true, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        run(m, n, k, alpha, a, aOff, lda, false, b, bOff, ldb, true, beta, c, cOff, ldc);
    }

    /** C = alpha * A^T . B + beta * C ; A k x m, B k x n. */
    public static void tn(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                          MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        GemmArgs.check("GemmSimd.tn", true, false, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        run(m, n, k, alpha, a, aOff, lda, true, b, bOff, ldb, false, beta, c, cOff, ldc);
    }

    /** n rounded up to whole panels of nr columns. */
    private static int padded(int n, int nr) {
        return (n + nr - 1) / nr * nr;
    }

    /** Depth of the equal k blocks, at most kcMax deep, that k (> 0) is cut into. */
    private static int depth(int k, int kcMax) {
        int kb = (k + kcMax - 1) / kcMax;
        return (k + kb - 1) / kb;
    }

    /**
     * The k block depth of a TN product over k rows ({@link #tn}; it does not depend on m or n): TN calls
     * over consecutive k ranges of this many rows (the last one shorter) accumulating with beta = 1 give
     * C bit for bit as one call with beta = 1, since every output is one fma chain per block, blocks in
     * order, each added to C with the same rounding. A fused op can so reduce over row chunks of its own.
     */
    public static int tnBlock(int k) {
        return k <= 0 ? 0 : depth(k, KC);
    }

    /** The blocking plan of one call; immutable, shared by the threads. */
    private record Plan(int m, int n, int k, float alpha, float beta, MemorySegment a, long aOff, int lda, boolean aTrans,
                        MemorySegment b, long bOff, int ldb, boolean bTrans, MemorySegment c, long cOff, int ldc,
                        int mr, int nr, int kc, int nc, int mc) {}

    private static void run(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda, boolean aTrans,
                            MemorySegment b, long bOff, int ldb, boolean bTrans, float beta,
                            MemorySegment c, long cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            scale(m, n, beta, c, cOff, ldc);
            return;
        }
        // panels of 3 vectors, or of 2 when that pads at least 1/16 less (n = 64 at 16 lanes: 32 + 32
        // instead of 48 + 48, a third of the FMAs wasted on zero columns; n = 100: 128 columns instead
        // of 144). Both kernels run at the same FMA rate in cache; the 3-vector one loads less of B
        // per FMA, so it keeps the wide outputs, where padding is a rounding error.
        int mr = MR, nr = NR;
        if ((long) padded(n, 2 * L) * 16 < (long) padded(n, NR) * 15) nr = 2 * L;
        // one vector wide (the attention's per-head products at dh = 16): one-vector panels of twice
        // the rows, so that no FMA goes to padding and enough independent chains stay in flight
        if (n <= L) {
            nr = L;
            mr = GemmKernelsNarrow.MR;
        }
        // narrow outputs (the backward shapes, n = 20..64, k = 4000) take deeper k blocks while the packed
        // B block stays within budget: fewer passes over C and longer, prefetch-friendly A row copies.
        // Not for TN, whose staged A block (k block x MC columns) grows with the depth.
        int npad = (n + nr - 1) / nr * nr;
        int kc = depth(k, aTrans ? KC : Math.max(KC, Math.min(KC_NARROW, B_BLOCK_FLOATS / npad)));
        int nc = Math.max(nr, B_BLOCK_FLOATS / kc / nr * nr);
        Plan pl = new Plan(m, n, k, alpha, beta, a, aOff, lda, aTrans, b, bOff, ldb, bTrans, c, cOff, ldc,
                mr, nr, kc, nc, MC);
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
        s.ensure(p.kc * Math.min(p.nc, (j1 - j0 + p.nr - 1) / p.nr * p.nr), p.kc * (p.aTrans ? p.mc : p.mr),
                Math.max(p.kc * (p.bTrans ? p.nr : 1), Math.min(p.nc, j1 - j0)));
        for (int jc = j0; jc < j1; jc += p.nc) {
            int nb = Math.min(p.nc, j1 - jc);
            for (int pc = 0; pc < p.k; pc += p.kc) {
                int kcur = Math.min(p.kc, p.k - pc);
                float beta = pc == 0 ? p.beta : 1f;
                if (p.bTrans) packT(p.b, p.bOff, p.ldb, pc, kcur, jc, nb, p.nr, s.bp, s.row, s.lanes);
                else packN(p.b, p.bOff, p.ldb, pc, kcur, jc, nb, p.nr, s.bp, s.row);
                if (p.aTrans) transposedA(p, s, i0, i1, jc, nb, pc, kcur, beta);
                else rowMajorA(p, s, i0, i1, jc, nb, pc, kcur, beta);
            }
        }
    }

    /** NN, NT: per row panel, stage its MR row slices A[i+r, pc..pc+kcur) (bulk copies), then sweep. */
    private static void rowMajorA(Plan p, Scratch s, int i0, int i1, int jc, int nb, int pc, int kcur, float beta) {
        for (int i = i0; i < i1; ) {
            int rows = Math.min(p.mr, i1 - i);
            for (int r = 0; r < rows; r++) {
                MemorySegment.copy(p.a, Mem.F32, Mem.bytes(p.aOff + (long) (i + r) * p.lda + pc), s.ap, r * kcur, kcur);
            }
            sweep(p, s, i, rows, 0, kcur, 1, jc, nb, kcur, beta);
            i += rows;
        }
    }

    /**
     * TN: stage an MC-column block of A (k x m), rows pc..pc+kcur, as {@code ap[kk*MC + x]} (one bulk
     * copy per k row; the stride is MC even for a narrower last block, see {@link GemmKernels#TS}), then sweep its row panels with stride mc. Packing A into MR-interleaved
     * micro-panels instead would be a scalar transpose of all of A (4 M elements in the backward shape).
     */
    private static void transposedA(Plan p, Scratch s, int i0, int i1, int jc, int nb, int pc, int kcur, float beta) {
        for (int ic = i0; ic < i1; ic += p.mc) {
            int mcur = Math.min(p.mc, i1 - ic);
            for (int kk = 0; kk < kcur; kk++) {
                MemorySegment.copy(p.a, Mem.F32, Mem.bytes(p.aOff + (long) (pc + kk) * p.lda + ic), s.ap, kk * MC, mcur);
            }
            for (int i = ic; i < ic + mcur; ) {
                int rows = Math.min(p.mr, ic + mcur - i);
                sweep(p, s, i, rows, i - ic, 1, MC, jc, nb, kcur, beta);
                i += rows;
            }
        }
    }

    /**
     * Rows [i, i+rows) (A staged in s.ap at aOff with strides rs, ks) against every panel of the packed
     * block. A whole panel with beta == 0 is stored by the kernel itself (alpha * acc straight into C);
     * a partial panel or beta != 0 goes through the raw tile and {@link #store}. One-vector panels are
     * computed for all p.mr rows (see {@link GemmKernelsNarrow}), so a partial row panel goes through
     * the raw tile too.
     */
    private static void sweep(Plan p, Scratch s, int i, int rows, int aOff, int rs, int ks, int jc, int nb, int kcur, float beta) {
        int nr = p.nr, panels = (nb + nr - 1) / nr;
        for (int q = 0; q < panels; q++) {
            int j = jc + q * nr, w = Math.min(nr, jc + nb - j);
            long co = p.cOff + (long) i * p.ldc + j;
            if (beta == 0f && w == nr && (nr != L || rows == p.mr)) {
                tile(rows, nr, kcur, s.ap, aOff, rs, ks, s.bp, q * kcur * nr, s.tile, p.c, co, p.ldc, p.alpha);
            } else {
                tile(rows, nr, kcur, s.ap, aOff, rs, ks, s.bp, q * kcur * nr, s.tile, null, 0, 0, 0f);
                store(s.tile, rows, w, p.c, co, p.ldc, p.alpha, beta);
            }
        }
    }

    /**
     * One rows x (3, 2 or 1 vectors) tile: the MR-row kernel, or for a row tail the 3-row kernel (on
     * 512-bit) and one-row kernels; one-vector panels always run their whole row panel. ks is 1 (row
     * slices: NN, NT) or MC (TN staging); each has its own kernels with a constant stride. c == null:
     * raw accumulators into t; else alpha * acc into C at co.
     */
    private static void tile(int rows, int nr, int kcur, float[] a, int aOff, int rs, int ks, float[] bp, int bo, float[] t,
                             MemorySegment c, long co, long ldc, float alpha) {
        if (nr == L) {
            boolean twelve = GemmKernelsNarrow.MR == 12;
            if (ks == 1) {
                if (twelve) GemmKernelsNarrow.k12x1(kcur, a, aOff, rs, bp, bo, t, c, co, ldc, alpha);
                else GemmKernelsNarrow.k6x1(kcur, a, aOff, rs, bp, bo, t, c, co, ldc, alpha);
            } else {
                if (twelve) GemmKernelsNarrow.k12x1t(kcur, a, aOff, bp, bo, t, c, co, ldc, alpha);
                else GemmKernelsNarrow.k6x1t(kcur, a, aOff, bp, bo, t, c, co, ldc, alpha);
            }
            return;
        }
        boolean wide = nr == NR;
        int r = 0;
        if (rows == 6) {
            if (ks == 1) {
                if (wide) GemmKernels.k6x3(kcur, a, aOff, rs, bp, bo, t, c, co, ldc, alpha);
                else GemmKernels.k6x2(kcur, a, aOff, rs, bp, bo, t, c, co, ldc, alpha);
            } else {
                if (wide) GemmKernelsT.k6x3t(kcur, a, aOff, bp, bo, t, c, co, ldc, alpha);
                else GemmKernelsT.k6x2t(kcur, a, aOff, bp, bo, t, c, co, ldc, alpha);
            }
            return;
        }
        if (rows >= 3) {
            if (ks == 1) {
                if (wide) GemmKernels.k3x3(kcur, a, aOff, rs, bp, bo, t, c, co, ldc, alpha);
                else GemmKernels.k3x2(kcur, a, aOff, rs, bp, bo, t, c, co, ldc, alpha);
            } else {
                if (wide) GemmKernelsT.k3x3t(kcur, a, aOff, bp, bo, t, c, co, ldc, alpha);
                else GemmKernelsT.k3x2t(kcur, a, aOff, bp, bo, t, c, co, ldc, alpha);
            }
            r = 3;
        }
        for (; r < rows; r++) {
            long cr = co + r * ldc;
            if (wide) GemmKernels.k1x3(kcur, a, aOff + r * rs, ks, bp, bo, t, r * GemmKernels.NR, c, cr, ldc, alpha);
            else GemmKernels.k1x2(kcur, a, aOff + r * rs, ks, bp, bo, t, r * GemmKernels.NR, c, cr, ldc, alpha);
        }
    }

    /**
     * C[r][0..w) = alpha * t[r][0..w) (+ beta * C, fused: {@code fma(acc, alpha, beta * c)}) for the
     * tile's rows; beta == 0 never reads C. Whole vectors, then one masked vector for a partial panel.
     */
    private static void store(float[] t, int rows, int w, MemorySegment c, long co, long ldc, float alpha, float beta) {
        FloatVector av = FloatVector.broadcast(F, alpha);
        for (int r = 0; r < rows; r++) {
            long o = Mem.bytes(co + r * ldc);
            int tr = r * GemmKernels.NR, x = 0;
            for (; x <= w - L; x += L) {
                FloatVector acc = FloatVector.fromArray(F, t, tr + x);
                FloatVector v = beta == 0f ? acc.mul(av)
                        : acc.fma(av, FloatVector.fromMemorySegment(F, c, o + Mem.bytes(x), Mem.ORDER).mul(beta));
                v.intoMemorySegment(c, o + Mem.bytes(x), Mem.ORDER);
            }
            if (x < w) {
                VectorMask<Float> m = F.indexInRange(x, w);
                FloatVector acc = FloatVector.fromArray(F, t, tr + x);
                FloatVector v = beta == 0f ? acc.mul(av)
                        : acc.fma(av, FloatVector.fromMemorySegment(F, c, o + Mem.bytes(x), Mem.ORDER, m).mul(beta));
                v.intoMemorySegment(c, o + Mem.bytes(x), Mem.ORDER, m);
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
     * Packs a B^T block for NT (B is n x k): output columns jc..jc+nb are rows of B, depth pc..pc+kc,
     * into panels {@code bp[q*kc*nr + kk*nr + x]}, zero past nb. A panel's nr row slices are
     * bulk-copied into {@code rows} ({@code rows[x*kc + kk]}; per-element segment reads are slow, see
     * {@link GemmKernels}), zero past nb, then each depth kk of the panel is gathered a vector at a time
     * (lane x from row slice x) and stored whole. A scalar transposing copy spent about 1 ns an element
     * on its strided stores: a fifth of HSTU's 100 x 100 x 16 attention scores.
     */
    static void packT(MemorySegment b, long bOff, int ldb, int pc, int kc, int jc, int nb, int nr, float[] bp, float[] rows, int[] lanes) {
        for (int x = 0; x < L; x++) lanes[x] = x * kc;
        int panels = (nb + nr - 1) / nr;
        for (int q = 0; q < panels; q++) {
            int base = q * kc * nr, w = Math.min(nr, nb - q * nr);
            for (int x = 0; x < w; x++) {
                MemorySegment.copy(b, Mem.F32, Mem.bytes(bOff + (long) (jc + q * nr + x) * ldb + pc), rows, x * kc, kc);
            }
            if (w < nr) java.util.Arrays.fill(rows, w * kc, nr * kc, 0f);
            for (int kk = 0; kk < kc; kk++) {
                for (int v = 0; v < nr; v += L) {
                    FloatVector.fromArray(F, rows, v * kc + kk, lanes, 0).intoArray(bp, base + kk * nr + v);
                }
            }
        }
    }

    /** Packs a B block for NN/TN (B is k x n): bulk-copy each row slice, then vector-copy it into the panels. */
    static void packN(MemorySegment b, long bOff, int ldb, int pc, int kc, int jc, int nb, int nr, float[] bp, float[] row) {
        if (nb == nr) { // one whole panel (the one-vector panels): its row slices are the panel's rows
            for (int kk = 0; kk < kc; kk++) MemorySegment.copy(b, Mem.F32, Mem.bytes(bOff + (long) (pc + kk) * ldb + jc), bp, kk * nr, nr);
            return;
        }
        int panels = (nb + nr - 1) / nr;
        for (int kk = 0; kk < kc; kk++) {
            MemorySegment.copy(b, Mem.F32, Mem.bytes(bOff + (long) (pc + kk) * ldb + jc), row, 0, nb);
            for (int q = 0; q < panels; q++) {
                int dst = q * kc * nr + kk * nr, src = q * nr, w = Math.min(nr, nb - src);
                if (w == nr) {
                    for (int x = 0; x < nr; x += L) FloatVector.fromArray(F, row, src + x).intoArray(bp, dst + x);
                } else {
                    for (int x = 0; x < w; x++) bp[dst + x] = row[src + x];
                    for (int x = w; x < nr; x++) bp[dst + x] = 0f;
                }
            }
        }
    }
}
