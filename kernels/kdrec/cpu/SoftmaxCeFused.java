package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The materialised full-softmax CE forward in one pass over the logits: for each block of
 * {@value #MB} user rows the scores scale * U.I^T are computed into an L2-resident block buffer
 * ({@link ScoreTile}, items packed once per call), each row's top-k is selected from the buffer
 * ({@link TopKSimd.RowSelect}), and the row is copied into the caller's logits matrix and turned into
 * its CE gradient in place ({@link SoftmaxCeSimd#row}, while it is still in L1). Same results, bit for
 * bit, as {@link GemmSimd#nt} + {@link TopKSimd#selectTopK} + {@link SoftmaxCeSimd#rowsInPlace}, which
 * it replaces in the training step: the m x n matrix goes to memory once (written) instead of four
 * times (written by the GEMM, read by the selection, read and written by the softmax); at the peer
 * step's shape (1024 x 4000) that is 48 MB less memory traffic per step.
 *
 * <p>The score of one (row, item) is ScoreTile's fma chain over d from +0 times scale, which is what
 * GemmSimd's NT computes as long as d fits one k block ({@link GemmSimd#KC}); deeper d takes the
 * three-kernel path. Rows go to threads a block at a time from a shared counter; every output depends
 * only on its own row, so results do not depend on the thread count.
 */
public final class SoftmaxCeFused {
    private SoftmaxCeFused() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    private static final int NR = ScoreTile.NR;
    /** Rows per block: the block buffer is MB x n floats (750 KB at n = 4000), a multiple of 6 and 3. */
    static final int MB = 48;

    private static final class Scratch {
        float[] a = new float[0], buf = new float[0];
        final float[] tmp = new float[L];
        final TopKRows rows = new TopKRows();
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    private static final ThreadLocal<float[]> PACKED = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * logits[r][j] = scale * &lt;U[r], I[j]&gt; (m x n at off, leading dim ld); when k &gt; 0, each row's
     * top-k items by logit into topIds/topScores (as {@link TopKSimd#selectTopK}); then the softmax CE
     * of each row with target[r]: loss[r], and the gradient softmax - onehot left in logits (as
     * {@link SoftmaxCeSimd#rowsInPlace} with no gradScale).
     */
    public static void forward(int m, int n, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff,
                               int ldi, float scale, int[] target, int k, int[] topIds, float[] topScores,
                               MemorySegment logits, long off, int ld, float[] loss) {
        GemmArgs.check("SoftmaxCeFused.forward", false, true, m, n, d, u, uOff, ldu, items, iOff, ldi, logits, off, ld);
        SoftmaxCeScalar.checkRows(m, n, logits, off, ld, target, null, loss);
        if (k < 0) throw new IllegalArgumentException("SoftmaxCeFused.forward: negative k=" + k);
        if (k > 0) TopKArgs.checkCommon("SoftmaxCeFused.forward", m, n, k, null, null, topIds, topScores);
        if (d > GemmSimd.KC || m == 0 || n == 0 || d == 0) {
            GemmSimd.nt(m, n, d, scale, u, uOff, ldu, items, iOff, ldi, 0f, logits, off, ld);
            if (k > 0) TopKSimd.selectTopK(m, n, logits, off, ld, k, null, null, topIds, topScores);
            SoftmaxCeSimd.rowsInPlace(m, n, logits, off, ld, target, null, loss);
            return;
        }
        int panels = (n + NR - 1) / NR, ps = d * NR;
        float[] bp = PACKED.get();
        if (bp.length < panels * ps) {
            bp = new float[panels * ps];
            PACKED.set(bp);
        }
        float[] packed = bp;
        // pack in parallel, whole panels per task
        Parallel.forRange(panels, 1, 16, (p0, p1) ->
                ScoreTile.packB(items, iOff + (long) p0 * NR * ldi, ldi, 0, Math.min(n, p1 * NR) - p0 * NR, d,
                        packed, p0 * ps));
        int blocks = (m + MB - 1) / MB;
        AtomicInteger next = new AtomicInteger();
        Parallel.forChunks(Math.min(blocks, Parallel.threads()), 1, 1, (chunk, lo, hi) -> {
            Scratch s = SCRATCH.get();
            int ldb = panels * NR;
            if (s.a.length < MB * d) s.a = new float[MB * d];
            if (s.buf.length < MB * ldb) s.buf = new float[MB * ldb];
            TopKSimd.RowSelect sel = k > 0 ? new TopKSimd.RowSelect(n, k) : null;
            if (sel != null) s.rows.ensure(1, sel.kEff, 0, 0, sel.samples);
            for (int b = next.getAndIncrement(); b < blocks; b = next.getAndIncrement()) {
                block(s, sel, b * MB, Math.min(MB, m - b * MB), n, d, u, uOff, ldu, packed, scale, target, topIds,
                        topScores, logits, off, ld, loss);
            }
        });
    }

    private static void block(Scratch s, TopKSimd.RowSelect sel, int r0, int mb, int n, int d, MemorySegment u, long uOff,
                              int ldu, float[] bp, float scale, int[] target, int[] topIds, float[] topScores,
                              MemorySegment logits, long off, int ld, float[] loss) {
        float[] a = s.a, c = s.buf;
        for (int i = 0; i < mb; i++) Mem.copyOut(u, uOff + (long) (r0 + i) * ldu, a, i * d, d);
        int panels = (n + NR - 1) / NR, ldb = panels * NR;
        // panel-outer: each packed panel (d x NR) stays in L1 while every row group of the block uses it
        for (int p = 0; p < panels; p++) {
            int bo = p * d * NR, co = p * NR, i = 0;
            if (ScoreTile.WIDE) for (; i + 6 <= mb; i += 6) ScoreTile.kernel6(d, a, i * d, d, bp, bo, c, i * ldb + co, ldb);
            for (; i + 3 <= mb; i += 3) ScoreTile.kernel3(d, a, i * d, d, bp, bo, c, i * ldb + co, ldb);
            for (; i < mb; i++) ScoreTile.kernel1(d, a, i * d, bp, bo, c, i * ldb + co);
        }
        for (int i = 0; i < mb; i++) {
            int r = r0 + i, ro = i * ldb;
            if (scale != 1f) scaleRow(c, ro, n, scale); // GemmSimd's NT stores acc * alpha
            if (sel != null) {
                s.rows.begin(1, r, null, null);
                sel.row(s.rows, c, ro, r, topIds, topScores);
            }
            long lo = off + (long) r * ld;
            Mem.copyIn(c, ro, logits, lo, n);
            loss[r] = SoftmaxCeSimd.row(logits, lo, n, target[r], 1f, s.tmp);
        }
    }

    private static void scaleRow(float[] c, int o, int n, float scale) {
        FloatVector sv = FloatVector.broadcast(F, scale);
        int j = 0;
        for (; j <= n - L; j += L) FloatVector.fromArray(F, c, o + j).mul(sv).intoArray(c, o + j);
        for (; j < n; j++) c[o + j] *= scale;
    }
}
