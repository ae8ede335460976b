package kdrec.autograd;

import kdrec.tensor.Backend;
import kdrec.tensor.IndexSets;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * Embedding access: gather rows (row-sparse gradient into parameter tables), row-wise dot of
 * gathered rows (the BPR score), and dots over ragged per-row item sets (KD logits).
 */
public final class Gather {
    private Gather() {}

    private static void checkIds(String op, int[] idx, int n) {
        for (int t = 0; t < idx.length; t++) {
            if (idx[t] < 0 || idx[t] >= n) throw new IllegalArgumentException(op + ": index " + idx[t] + " at " + t + " outside [0, " + n + ")");
        }
    }

    /**
     * out[t] = table[idx[t]]. The table's gradient is row-sparse when the table is a leaf (a
     * parameter): the rows and out's gradient are kept as a part for the optimizer (lazy Adam) or
     * {@link Var#densify}; for an intermediate table it is scatter-added densely.
     */
    public static Var rows(Tape t, Var table, int[] idx) {
        Shapes.matrix("gather rows", table.value);
        int n = idx.length, d = table.value.cols();
        checkIds("gather rows", idx, table.value.rows());
        Backend be = t.backend();
        Var out = t.output("gather", t.needsGrad(table), n, d);
        be.gather(n, d, idx, table.value.data(), 0, d, out.value.data(), 0, d);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            if (table.isLeaf()) t.addSparse(table, idx, g);
            else be.scatterAdd(n, d, idx, g.data(), 0, d, t.gradOf(table).data(), 0, d);
        });
        return out;
    }

    /** out[t] = &lt;A[ia[t]], B[ib[t]]&gt;; ia or ib null means the identity (row t). */
    public static Var rowDot(Tape t, Var a, int[] ia, Var b, int[] ib) {
        Shapes.matrix("rowDot", a.value);
        Shapes.matrix("rowDot", b.value);
        int d = a.value.cols();
        if (b.value.cols() != d) throw Shapes.mismatch("rowDot", "row widths differ", a.value, b.value);
        int n = ia != null ? ia.length : ib != null ? ib.length : a.value.rows();
        if (ia != null) checkIds("rowDot (a)", ia, a.value.rows()); else if (a.value.rows() != n) throw Shapes.mismatch("rowDot", "row counts differ", a.value, b.value);
        if (ib != null) checkIds("rowDot (b)", ib, b.value.rows()); else if (b.value.rows() != n) throw Shapes.mismatch("rowDot", "row counts differ", a.value, b.value);
        if (ia != null && ib != null && ia.length != ib.length) throw new IllegalArgumentException("rowDot: index lists of " + ia.length + " and " + ib.length);
        Backend be = t.backend();
        Var out = t.output("rowDot", t.needsGrad(a, b), n);
        float[] s = new float[n];
        be.rowDot(n, d, ia, a.value.data(), 0, d, ib, b.value.data(), 0, d, s);
        kdrec.cpu.Mem.copyIn(s, 0, out.value.data(), 0, n);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            float[] gs = g.toArray();
            be.rowDotBackward(n, d, ia, a.value.data(), 0, d, ib, b.value.data(), 0, d, gs,
                    a.requiresGrad ? t.gradOfRows(a, ia, 0, n).data() : null, 0, d, b.requiresGrad ? t.gradOfRows(b, ib, 0, n).data() : null, 0, d);
        });
        return out;
    }

    /** out[j] = &lt;U[r], I[sets.idx[j]]&gt; for every entry j of row r; a rank-1 tensor of sets.size() logits. */
    public static Var setDots(Tape t, Var u, Var items, IndexSets sets) {
        Shapes.matrix("setDots", u.value);
        Shapes.matrix("setDots", items.value);
        int d = u.value.cols(), m = u.value.rows();
        if (items.value.cols() != d) throw Shapes.mismatch("setDots", "row widths differ", u.value, items.value);
        if (sets.rows() != m) throw new IllegalArgumentException("setDots: " + sets.rows() + " index sets for " + m + " rows");
        sets.checkIds("setDots", items.value.rows());
        Backend be = t.backend();
        Var out = t.output("setDots", t.needsGrad(u, items), sets.size());
        float[] s = new float[sets.size()];
        be.gatherDot(m, d, u.value.data(), 0, d, items.value.data(), 0, d, sets.ptr(), sets.idx(), s);
        kdrec.cpu.Mem.copyIn(s, 0, out.value.data(), 0, s.length);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            be.gatherDotBackward(m, d, u.value.data(), 0, d, items.value.data(), 0, d, sets.ptr(), sets.idx(), g.toArray(),
                    u.requiresGrad ? t.gradOf(u).data() : null, 0, d, items.requiresGrad ? t.gradOfRows(items, sets.idx(), 0, sets.size()).data() : null, 0, d);
        });
        return out;
    }

    /**
     * The inverse of {@link #rows}: a zero [nRows, d] table whose row idx[r] is src[r] (idx
     * distinct). A per-batch encoder (HSTU) places its batch users' rows in a users x d table with
     * it, so code that indexes user rows by user id reads them unchanged; the gradient of src is
     * the gather of those rows.
     */
    public static Var scatterRows(Tape t, Var src, int[] idx, int nRows) {
        Shapes.matrix("scatter rows", src.value);
        int n = idx.length, d = src.value.cols();
        if (src.value.rows() != n) throw new IllegalArgumentException("scatter rows: " + n + " indices for " + src.value.rows() + " rows");
        checkIds("scatter rows", idx, nRows);
        boolean[] seen = new boolean[nRows];
        for (int r = 0; r < n; r++) {
            if (seen[idx[r]]) throw new IllegalArgumentException("scatter rows: index " + idx[r] + " appears twice");
            seen[idx[r]] = true;
        }
        Backend be = t.backend();
        Var out = t.output("scatterRows", t.needsGrad(src), nRows, d);
        out.value.fill(0f);
        be.scatterAdd(n, d, idx, src.value.data(), 0, d, out.value.data(), 0, d);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            Tensor gs = t.scratch().uninitialized(n, d);
            be.gather(n, d, idx, g.data(), 0, d, gs.data(), 0, d);
            be.axpy((long) n * d, 1f, gs.data(), 0, t.gradOf(src).data(), 0);
        });
        return out;
    }
}
