package kdrec.autograd;

import java.lang.foreign.MemorySegment;
import kdrec.cpu.Parallel;
import kdrec.tensor.Backend;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * The ops of a sequential (HSTU) block over a batch of {@code b} padded sequences of length
 * {@code n} with {@code h} heads. Per-position rows are laid out [b*n, h*dh] (head hh owns columns
 * hh*dh..); attention maps are [b*h, n, n] (map r = b*h + hh). Every product is a GEMM on
 * strided views (no transposes or copies), one (sequence, head) pair per task. Hstu runs the maps'
 * chain (qk, relativeBias, silu, scale, causalMask, av) fused, {@link HstuAttention}; the separate ops
 * here are its finite-difference-checked reference, which it matches bit for bit.
 */
public final class Attention {
    private Attention() {}

    static void check(String op, Var x, int b, int n, int h) {
        Shapes.matrix(op, x.value);
        if (x.value.rows() != b * n || x.value.cols() % h != 0) {
            throw new IllegalArgumentException(op + ": " + Shapes.str(x.value.shape()) + " is not [" + b + "*" + n + ", " + h + "*dh]");
        }
    }

    private static void checkMaps(String op, Var a, int bh, int n) {
        if (a.value.rank() != 3 || a.value.dim(0) != bh || a.value.dim(1) != n || a.value.dim(2) != n) {
            throw new IllegalArgumentException(op + ": attention maps " + Shapes.str(a.value.shape()) + " are not [" + bh + ", " + n + ", " + n + "]");
        }
    }

    /** out[b*h+hh, i, j] = &lt;q[b, i, head hh], k[b, j, head hh]&gt; (unscaled). */
    public static Var qk(Tape t, Var q, Var k, int b, int n, int h) {
        check("attention qk", q, b, n, h);
        check("attention qk", k, b, n, h);
        if (q.value.cols() != k.value.cols()) throw Shapes.mismatch("attention qk", "q and k widths differ", q.value, k.value);
        int ld = q.value.cols(), dh = ld / h;
        Backend be = t.backend();
        Var out = t.output("attention_qk", t.needsGrad(q, k), b * h, n, n);
        Parallel.forRange(b * h, 1, 1, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                long in = (long) (r / h) * n * ld + (long) (r % h) * dh, o = (long) r * n * n;
                be.gemmNT(n, n, dh, 1f, q.value.data(), in, ld, k.value.data(), in, ld, 0f, out.value.data(), o, n);
            }
        });
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            Tensor gq = q.requiresGrad ? t.gradOf(q) : null, gk = k.requiresGrad ? t.gradOf(k) : null;
            Parallel.forRange(b * h, 1, 1, (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    long in = (long) (r / h) * n * ld + (long) (r % h) * dh, o = (long) r * n * n;
                    if (gq != null) be.gemmNN(n, dh, n, 1f, g.data(), o, n, k.value.data(), in, ld, 1f, gq.data(), in, ld);
                    if (gk != null) be.gemmTN(n, dh, n, 1f, g.data(), o, n, q.value.data(), in, ld, 1f, gk.data(), in, ld);
                }
            });
        });
        return out;
    }

    /** out[b, i, head hh] = sum_j a[b*h+hh, i, j] v[b, j, head hh]; v is [b*n, h*dv], out likewise. */
    public static Var av(Tape t, Var a, Var v, int b, int n, int h) {
        checkMaps("attention av", a, b * h, n);
        check("attention av", v, b, n, h);
        int ld = v.value.cols(), dv = ld / h;
        Backend be = t.backend();
        Var out = t.output("attention_av", t.needsGrad(a, v), b * n, ld);
        Parallel.forRange(b * h, 1, 1, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                long in = (long) (r / h) * n * ld + (long) (r % h) * dv, o = (long) r * n * n;
                be.gemmNN(n, dv, n, 1f, a.value.data(), o, n, v.value.data(), in, ld, 0f, out.value.data(), in, ld);
            }
        });
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            Tensor ga = a.requiresGrad ? t.gradOf(a) : null, gv = v.requiresGrad ? t.gradOf(v) : null;
            Parallel.forRange(b * h, 1, 1, (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    long in = (long) (r / h) * n * ld + (long) (r % h) * dv, o = (long) r * n * n;
                    if (ga != null) be.gemmNT(n, n, dv, 1f, g.data(), in, ld, v.value.data(), in, ld, 1f, ga.data(), o, n);
                    if (gv != null) be.gemmTN(n, dv, n, 1f, a.value.data(), o, n, g.data(), in, ld, 1f, gv.data(), in, ld);
                }
            });
        });
        return out;
    }

    /**
     * s[r, i, j] + w[c + j - i] with c = (len(w) - 1) / 2: a learned bias per relative position,
     * shared by heads and sequences (the reference's RelativePositionalBias: a table of 2N-1
     * entries for sequences up to N). The gradient of w sums over every (r, i, j) that reads it.
     */
    public static Var relativeBias(Tape t, Var s, Var w) {
        int bh = s.value.dim(0), n = s.value.dim(-1);
        checkMaps("relativeBias", s, bh, n);
        int c = biasCentre("relativeBias", w, n);
        float[] wv = w.value.toArray();
        Var out = t.output("relativeBias", t.needsGrad(s, w), bh, n, n);
        Tensor sv = s.value, ov = out.value;
        Parallel.forRange(bh, 1, mapsPerTask(n), (r0, r1) -> { // maps are independent
            float[] row = new float[n];
            for (int r = r0; r < r1; r++) {
                for (int i = 0; i < n; i++) {
                    long off = ((long) r * n + i) * n;
                    kdrec.cpu.Mem.copyOut(sv.data(), off, row, 0, n);
                    for (int j = 0; j < n; j++) row[j] += wv[c + j - i];
                    kdrec.cpu.Mem.copyIn(row, 0, ov.data(), off, n);
                }
            }
        });
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            if (s.requiresGrad) t.backend().axpy(g.size(), 1f, g.data(), 0, t.gradOf(s).data(), 0);
            if (w.requiresGrad) addBiasGradient(g, bh, n, t.gradOf(w), false);
        });
        return out;
    }

    /** The bias table's entries for length n: checked as {@link #relativeBias} needs them; returns the centre c. */
    static int biasCentre(String op, Var w, int n) {
        int len = (int) w.value.size(), c = (len - 1) / 2;
        if (w.value.rank() != 1 || len % 2 != 1 || c + 1 < n) {
            throw new IllegalArgumentException(op + ": a table of " + len + " entries (need odd, >= " + (2 * n - 1) + ") for length " + n);
        }
        return c;
    }

    /**
     * gw[e] += the sum of g[r, i, j] over every (r, i, j) with c + j - i = e, in double, in the serial
     * (r, i, j) order: threads own ranges of the table's entries and each sums its entries over the maps
     * and rows in that order, so the bits do not depend on the thread count. lowerOnly: g is +0 above
     * every map's diagonal (a masked gradient) and only j &lt;= i is read; adding +0 to the double sums
     * changes nothing, so the result is the same.
     */
    static void addBiasGradient(Tensor g, int bh, int n, Tensor gw, boolean lowerOnly) {
        int len = (int) gw.size(), c = (len - 1) / 2, parts = Parallel.threads();
        // entry ranges of equal work: entry e reads the n - |c - e| elements of its diagonal (none past
        // the centre when lowerOnly), so equal-width ranges would leave one thread most of it
        long[] work = new long[len + 1];
        for (int e = 0; e < len; e++) {
            int off = Math.abs(c - e);
            work[e + 1] = work[e] + (off < n && (!lowerOnly || e <= c) ? n - off : 0);
        }
        int[] cut = new int[parts + 1];
        for (int p = 1, e = 0; p < parts; p++) {
            while (e < len && work[e] * parts < work[len] * p) e++;
            cut[p] = e;
        }
        cut[parts] = len;
        double[] acc = new double[len];
        Parallel.forChunks(parts, 1, 1, (chunk, lo, hi) -> {
            float[] gr = new float[n];
            for (int part = lo; part < hi; part++) {
                int e0 = cut[part], e1 = cut[part + 1];
                if (e0 >= e1) continue;
                for (int r = 0; r < bh; r++) {
                    for (int i = 0; i < n; i++) {
                        int j0 = Math.max(0, e0 - c + i), j1 = Math.min(lowerOnly ? i + 1 : n, e1 - c + i);
                        if (j0 >= j1) continue;
                        kdrec.cpu.Mem.copyOut(g.data(), ((long) r * n + i) * n + j0, gr, 0, j1 - j0);
                        for (int j = j0; j < j1; j++) acc[c + j - i] += gr[j - j0];
                    }
                }
            }
        });
        for (int e = 0; e < len; e++) gw.set(e, gw.get(e) + (float) acc[e]);
    }

    /** Maps (n x n each) per task of the element-wise map loops: at least ~64k elements. */
    private static int mapsPerTask(int n) {
        return Math.max(1, (1 << 16) / Math.max(1, n * n));
    }

    /** Zeroes every j &gt; i of each map (a position sees itself and its past); the gradient is masked alike. */
    public static Var causalMask(Tape t, Var s) {
        int bh = s.value.dim(0), n = s.value.dim(-1);
        checkMaps("causalMask", s, bh, n);
        Var out = t.output("causalMask", t.needsGrad(s), bh, n, n);
        // maps in parallel, rows by plain copies and stores: a backend call per row (copy, fill; axpy
        // below) cost more than the row (~3 % of an HSTU run's CPU samples)
        MemorySegment sd = s.value.data(), od = out.value.data();
        Parallel.forRange(bh, 1, mapsPerTask(n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int i = 0; i < n; i++) {
                    long off = ((long) r * n + i) * n;
                    MemorySegment.copy(sd, kdrec.cpu.Mem.bytes(off), od, kdrec.cpu.Mem.bytes(off), kdrec.cpu.Mem.bytes(i + 1));
                    for (int j = i + 1; j < n; j++) kdrec.cpu.Mem.set(od, off + j, 0f);
                }
            }
        });
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            MemorySegment gd = g.data(), gs = t.gradOf(s).data();
            Parallel.forRange(bh, 1, mapsPerTask(n), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    for (int i = 0; i < n; i++) {
                        long off = ((long) r * n + i) * n;
                        // gs += g: the bits of the backend's axpy with alpha 1 (fma(1, g, gs) rounds g + gs once)
                        for (int j = 0; j <= i; j++) kdrec.cpu.Mem.set(gs, off + j, kdrec.cpu.Mem.get(gs, off + j) + kdrec.cpu.Mem.get(gd, off + j));
                    }
                }
            });
        });
        return out;
    }

    /**
     * The input rows of a batch of sequences: x[s, p] = scale * E[ids[s*n+p]] + P[p] for p &lt;
     * len[s], zero rows for padding (ids there are ignored). E's gradient is row-sparse when E is a
     * parameter (only the batch's items), P's dense.
     */
    public static Var embed(Tape t, Var table, Var positions, int[] ids, int[] len, int n, float scale) {
        Shapes.matrix("sequence embed", table.value);
        Shapes.matrix("sequence embed", positions.value);
        int b = len.length, d = table.value.cols();
        if (positions.value.cols() != d || positions.value.rows() < n) {
            throw Shapes.mismatch("sequence embed", "positions must be [>= " + n + ", " + d + "]", table.value, positions.value);
        }
        if (ids.length != b * n) throw new IllegalArgumentException("sequence embed: " + ids.length + " ids for " + b + " sequences of " + n);
        int count = 0;
        for (int s = 0; s < b; s++) {
            if (len[s] < 0 || len[s] > n) throw new IllegalArgumentException("sequence embed: length " + len[s] + " outside [0, " + n + "]");
            for (int p = 0; p < len[s]; p++) {
                int id = ids[s * n + p];
                if (id < 0 || id >= table.value.rows()) throw new IllegalArgumentException("sequence embed: item " + id + " outside [0, " + table.value.rows() + ")");
            }
            count += len[s];
        }
        final int valid = count;
        int[] rows = new int[valid], at = new int[valid], pos = new int[valid];
        for (int s = 0, e = 0; s < b; s++) {
            for (int p = 0; p < len[s]; p++, e++) {
                rows[e] = ids[s * n + p];
                at[e] = s * n + p;
                pos[e] = p;
            }
        }
        Backend be = t.backend();
        Var out = t.output("sequenceEmbed", t.needsGrad(table, positions), b * n, d);
        out.value.fill(0f);
        for (int e = 0; e < valid; e++) {
            long o = (long) at[e] * d;
            be.scale(d, scale, table.value.data(), (long) rows[e] * d, out.value.data(), o);
            be.axpy(d, 1f, positions.value.data(), (long) pos[e] * d, out.value.data(), o);
        }
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            if (table.requiresGrad && valid > 0) {
                Tensor compact = t.scratch().uninitialized(Math.max(valid, 1), d);
                be.gather(valid, d, at, g.data(), 0, d, compact.data(), 0, d);
                be.scale((long) valid * d, scale, compact.data(), 0, compact.data(), 0);
                if (table.isLeaf()) t.addSparse(table, rows, compact.rowRange(0, valid));
                else be.scatterAdd(valid, d, rows, compact.data(), 0, d, t.gradOf(table).data(), 0, d);
            }
            if (positions.requiresGrad) {
                Tensor gp = t.gradOf(positions);
                for (int e = 0; e < valid; e++) be.axpy(d, 1f, g.data(), (long) at[e] * d, gp.data(), (long) pos[e] * d);
            }
        });
        return out;
    }
}
