package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sparse (CSR) x dense products on the Vector API: LightGCN propagation over the normalised
 * bipartite adjacency (Gowalla: 71k nodes, 1.6M entries, d = 20..300) and graph filters.
 *
 * <p>Each output row is a weighted sum of gathered X rows. The kernel vectorises over d: a block of
 * up to 4 vectors of the output row stays in registers while the row's entries stream by (4
 * accumulators + 4 X loads + 1 broadcast, no spills), then the block is written once. A ragged
 * tail of d (d % lanes != 0, d >= lanes) is done as one overlapping vector ending at d, computed
 * before the main blocks overwrite Y and stored after them: the overlapped lanes get bit-identical
 * values, so no masked (AVX2-emulated) accesses are needed. d < lanes runs scalar (Math.fma, the
 * same arithmetic as a vector lane).
 *
 * <p>Threads split the output rows into contiguous ranges of equal (entries + rows) weight. Each
 * output row is computed by one thread in a fixed order, so results are bit-identical for any thread
 * count. {@link #spmmT} builds the transpose structure once (stable counting sort, cached by
 * content in {@link Csr}, see there) and then runs the same gather kernel over it: it partitions by
 * output row, its values are read through the transpose's permutation on every call (so val may
 * change between calls), and it equals {@code spmm} over {@link Csr#transpose()} bit for bit.
 *
 * <p>X and Y must not overlap. beta == 0 means Y is only written (NaN in Y does not propagate).
 */
public final class SpmmSimd {
    private SpmmSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Below this many multiply-adds a call runs on the caller alone. */
    private static final long SERIAL_WORK = 1L << 15;
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[256]);

    /** Y (m x d) = A . X + beta * Y ; X is (ncols x d). beta == 0: Y not read. */
    public static void spmm(int m, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff, int ldx,
                            float beta, MemorySegment y, long yOff, int ldy) {
        checkSpmm("spmm", m, d, ptr, col, val, x, xOff, ldx, y, yOff, ldy);
        if (m == 0 || d == 0) return;
        int parts = parts((long) (ptr[m] - ptr[0] + m) * d, m);
        Parallel.forRange(parts, 1, 1, (p0, p1) -> {
            int r0 = split(ptr, m, p0, parts), r1 = split(ptr, m, p1, parts);
            float[] tailBuf = new float[L];
            for (int i = r0; i < r1; i++) {
                row(ptr[i], ptr[i + 1], col, val, 0, d, x, xOff, ldx, beta, y, yOff + (long) i * ldy, tailBuf);
            }
        });
    }

    /**
     * Y (n x d) = A^T . X + beta * Y ; A has m rows and n columns, X is (m x d). Deterministic and
     * independent of the thread count: uses the cached transpose structure and partitions by output
     * row (see class comment).
     */
    public static void spmmT(int m, int n, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff, int ldx,
                             float beta, MemorySegment y, long yOff, int ldy) {
        checkSpmmT(m, n, d, ptr, col, val, x, xOff, ldx, y, yOff, ldy);
        if (n == 0 || d == 0) return;
        Csr.Transposed t = Csr.cachedTranspose(m, n, ptr, col);
        int[] tp = t.ptr, tr = t.row, src = t.src;
        int parts = parts((long) (tp[n] + n) * d, n);
        Parallel.forRange(parts, 1, 1, (p0, p1) -> {
            int r0 = split(tp, n, p0, parts), r1 = split(tp, n, p1, parts);
            float[] tailBuf = new float[L];
            float[] vals = null;
            if (val != null) {
                vals = SCRATCH.get();
                if (vals.length < t.maxRowLen) SCRATCH.set(vals = new float[t.maxRowLen]);
            }
            for (int j = r0; j < r1; j++) {
                int k0 = tp[j], k1 = tp[j + 1];
                if (vals != null) gatherValues(val, src, k0, k1, vals);
                row(k0, k1, tr, vals, -k0, d, x, xOff, ldx, beta, y, yOff + (long) j * ldy, tailBuf);
            }
        });
    }

    /** Row-restricted: Y[t] = (A . X)[rows[t]] + beta * Y[t] for t in [0, nRows) (Y is nRows x d). */
    public static void spmmRows(int nRows, int[] rows, int d, int[] ptr, int[] col, float[] val,
                                MemorySegment x, long xOff, int ldx, float beta, MemorySegment y, long yOff, int ldy) {
        checkSpmmRows(nRows, rows, d, ptr, col, val, x, xOff, ldx, y, yOff, ldy);
        if (nRows == 0 || d == 0) return;
        long entries = nRows;
        for (int t = 0; t < nRows; t++) entries += ptr[rows[t] + 1] - ptr[rows[t]];
        int parts = parts(entries * d, nRows);
        Parallel.forRange(nRows, 1, Math.max(1, nRows / parts), (t0, t1) -> {
            float[] tailBuf = new float[L];
            for (int t = t0; t < t1; t++) {
                int i = rows[t];
                row(ptr[i], ptr[i + 1], col, val, 0, d, x, xOff, ldx, beta, y, yOff + (long) t * ldy, tailBuf);
            }
        });
    }

    // ---------------------------------------------------------------- partitioning

    private static int parts(long work, int rows) {
        if (work < SERIAL_WORK) return 1;
        return Math.max(1, Math.min(Parallel.threads(), rows));
    }

    /** First row of part p of parts, by equal weight w(i) = (ptr[i] - ptr[0]) + i (strictly increasing). */
    private static int split(int[] ptr, int m, int p, int parts) {
        if (p <= 0) return 0;
        if (p >= parts) return m;
        long total = (long) ptr[m] - ptr[0] + m;
        long target = total * p / parts;
        int lo = 0, hi = m; // smallest i with w(i) >= target
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if ((long) ptr[mid] - ptr[0] + mid < target) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    private static void gatherValues(float[] val, int[] src, int k0, int k1, float[] out) {
        for (int k = k0; k < k1; k++) out[k - k0] = val[src[k]];
    }

    // ---------------------------------------------------------------- row kernel

    /**
     * One output row: Y[yo .. yo+d) = sum_{k in [k0,k1)} v_k X[idx[k]] + beta * Y, where
     * v_k = vals[vOff + k], or 1 when vals is null.
     */
    static void row(int k0, int k1, int[] idx, float[] vals, int vOff, int d, MemorySegment x, long xOff, int ldx,
                    float beta, MemorySegment y, long yo, float[] tailBuf) {
        if (d < L) {
            rowScalar(k0, k1, idx, vals, vOff, 0, d, x, xOff, ldx, beta, y, yo);
            return;
        }
        int full = F.loopBound(d);
        boolean ragged = full != d;
        if (ragged) block1(k0, k1, idx, vals, vOff, d - L, x, xOff, ldx, beta, y, yo, tailBuf);
        int c = 0;
        for (; c + 4 * L <= full; c += 4 * L) block4(k0, k1, idx, vals, vOff, c, x, xOff, ldx, beta, y, yo);
        if (c + 2 * L <= full) {
            block2(k0, k1, idx, vals, vOff, c, x, xOff, ldx, beta, y, yo);
            c += 2 * L;
        }
        if (c < full) block1(k0, k1, idx, vals, vOff, c, x, xOff, ldx, beta, y, yo, null);
        if (ragged) FloatVector.fromArray(F, tailBuf, 0).intoMemorySegment(y, Mem.bytes(yo + d - L), Mem.ORDER);
    }

    private static FloatVector load(MemorySegment s, long off) {
        return FloatVector.fromMemorySegment(F, s, Mem.bytes(off), Mem.ORDER);
    }

    private static FloatVector finish(FloatVector acc, float beta, MemorySegment y, long off) {
        return beta == 0f ? acc : load(y, off).fma(FloatVector.broadcast(F, beta), acc);
    }

    private static void block4(int k0, int k1, int[] idx, float[] vals, int vOff, int c, MemorySegment x, long xOff,
                               int ldx, float beta, MemorySegment y, long yo) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        long xc = xOff + c;
        for (int k = k0; k < k1; k++) {
            FloatVector v = FloatVector.broadcast(F, vals == null ? 1f : vals[vOff + k]);
            long xo = xc + (long) idx[k] * ldx;
            a0 = load(x, xo).fma(v, a0);
            a1 = load(x, xo + L).fma(v, a1);
            a2 = load(x, xo + 2 * L).fma(v, a2);
            a3 = load(x, xo + 3 * L).fma(v, a3);
        }
        long o = yo + c;
        finish(a0, beta, y, o).intoMemorySegment(y, Mem.bytes(o), Mem.ORDER);
        finish(a1, beta, y, o + L).intoMemorySegment(y, Mem.bytes(o + L), Mem.ORDER);
        finish(a2, beta, y, o + 2 * L).intoMemorySegment(y, Mem.bytes(o + 2 * L), Mem.ORDER);
        finish(a3, beta, y, o + 3 * L).intoMemorySegment(y, Mem.bytes(o + 3 * L), Mem.ORDER);
    }

    private static void block2(int k0, int k1, int[] idx, float[] vals, int vOff, int c, MemorySegment x, long xOff,
                               int ldx, float beta, MemorySegment y, long yo) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        long xc = xOff + c;
        for (int k = k0; k < k1; k++) {
            FloatVector v = FloatVector.broadcast(F, vals == null ? 1f : vals[vOff + k]);
            long xo = xc + (long) idx[k] * ldx;
            a0 = load(x, xo).fma(v, a0);
            a1 = load(x, xo + L).fma(v, a1);
        }
        long o = yo + c;
        finish(a0, beta, y, o).intoMemorySegment(y, Mem.bytes(o), Mem.ORDER);
        finish(a1, beta, y, o + L).intoMemorySegment(y, Mem.bytes(o + L), Mem.ORDER);
    }

    /** One vector at column c; into Y, or into {@code buf} (the ragged tail, stored later) when non-null. */
    private static void block1(int k0, int k1, int[] idx, float[] vals, int vOff, int c, MemorySegment x, long xOff,
                               int ldx, float beta, MemorySegment y, long yo, float[] buf) {
        FloatVector a0 = FloatVector.zero(F);
        long xc = xOff + c;
        for (int k = k0; k < k1; k++) {
            FloatVector v = FloatVector.broadcast(F, vals == null ? 1f : vals[vOff + k]);
            a0 = load(x, xc + (long) idx[k] * ldx).fma(v, a0);
        }
        FloatVector r = finish(a0, beta, y, yo + c);
        if (buf != null) r.intoArray(buf, 0); else r.intoMemorySegment(y, Mem.bytes(yo + c), Mem.ORDER);
    }

    /** Columns [c0, c1) one at a time, with the arithmetic of a vector lane (fma chain, fma with beta). */
    private static void rowScalar(int k0, int k1, int[] idx, float[] vals, int vOff, int c0, int c1, MemorySegment x,
                                  long xOff, int ldx, float beta, MemorySegment y, long yo) {
        for (int c = c0; c < c1; c++) {
            float s = 0f;
            for (int k = k0; k < k1; k++) {
                float v = vals == null ? 1f : vals[vOff + k];
                s = Math.fma(Mem.get(x, xOff + (long) idx[k] * ldx + c), v, s);
            }
            Mem.set(y, yo + c, beta == 0f ? s : Math.fma(Mem.get(y, yo + c), beta, s));
        }
    }

    // ---------------------------------------------------------------- argument checks (shared with SpmmScalar)

    /** Rows of a (rows x d, leading dim ld) operand that fit in the segment from off. */
    private static int rowsAvailable(MemorySegment s, long off, int d, int ld) {
        if (d == 0) return Integer.MAX_VALUE;
        long room = Mem.floats(s) - off;
        if (room < d) return 0;
        return (int) Math.min(Integer.MAX_VALUE, (room - d) / ld + 1);
    }

    private static void checkDense(String kernel, String what, MemorySegment s, long off, int ld, int rows, int d) {
        if (s == null) throw new IllegalArgumentException(kernel + ": " + what + " is null");
        if (off < 0) throw new IllegalArgumentException(kernel + ": " + what + " offset " + off + " < 0");
        if (ld < d || ld < 0) throw new IllegalArgumentException(kernel + ": leading dim of " + what + " " + ld + " < d = " + d);
        if (rows > 0 && d > 0) Mem.checkRange(kernel + ": " + what + " (" + rows + " x " + d + ", ld " + ld + ")", s, off, (long) (rows - 1) * ld + d);
    }

    static void checkSpmm(String kernel, int m, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff,
                          int ldx, MemorySegment y, long yOff, int ldy) {
        if (m < 0 || d < 0) throw new IllegalArgumentException(kernel + ": negative dims m = " + m + ", d = " + d);
        checkDense(kernel, "x", x, xOff, ldx, 0, d);
        checkDense(kernel, "y", y, yOff, ldy, m, d);
        Csr.check(kernel, m, rowsAvailable(x, xOff, d, ldx), ptr, col, val);
    }

    static void checkSpmmT(int m, int n, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff, int ldx,
                           MemorySegment y, long yOff, int ldy) {
        if (m < 0 || n < 0 || d < 0) throw new IllegalArgumentException("spmmT: negative dims m = " + m + ", n = " + n + ", d = " + d);
        checkDense("spmmT", "x", x, xOff, ldx, m, d);
        checkDense("spmmT", "y", y, yOff, ldy, n, d);
        Csr.check("spmmT", m, n, ptr, col, val);
    }

    static void checkSpmmRows(int nRows, int[] rows, int d, int[] ptr, int[] col, float[] val, MemorySegment x,
                              long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        if (nRows < 0 || d < 0) throw new IllegalArgumentException("spmmRows: negative dims nRows = " + nRows + ", d = " + d);
        if (rows == null || rows.length < nRows) throw new IllegalArgumentException("spmmRows: rows needs " + nRows + " entries");
        if (ptr == null || col == null) throw new IllegalArgumentException("spmmRows: ptr or col is null");
        checkDense("spmmRows", "x", x, xOff, ldx, 0, d);
        checkDense("spmmRows", "y", y, yOff, ldy, nRows, d);
        // only the requested rows are read, so only they are checked (O(their entries), not O(nnz))
        int xRows = rowsAvailable(x, xOff, d, ldx);
        for (int t = 0; t < nRows; t++) {
            int r = rows[t];
            if (r < 0 || r >= ptr.length - 1) throw new IllegalArgumentException("spmmRows: rows[" + t + "] = " + r + " outside [0, " + (ptr.length - 1) + ")");
            int a = ptr[r], b = ptr[r + 1];
            if (a < 0 || b < a || b > col.length || (val != null && b > val.length)) {
                throw new IllegalArgumentException("spmmRows: bad ptr range [" + a + ", " + b + ") for row " + r);
            }
            if (b > a) {
                long mm = Csr.minMax(col, a, b);
                if ((int) (mm >> 32) < 0 || (int) mm >= xRows) {
                    throw new IllegalArgumentException("spmmRows: row " + r + " has a column outside [0, " + xRows + ")");
                }
            }
        }
    }
}
