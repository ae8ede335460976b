package kdrec.cpu;

import java.util.Arrays;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * A compressed-sparse-row matrix as a plain data holder, plus the validation and transpose helpers
 * the SpMM kernels use.
 *
 * <p>Layout: row {@code i} owns entries {@code [ptr[i], ptr[i+1])} of {@code col} and {@code val};
 * {@code val == null} means every stored value is 1. Columns inside a row may be in any order and
 * may repeat (duplicates simply add up). {@code ptr[0]} need not be 0.
 *
 * <p>{@link #transpose()} is stable: row {@code j} of the transpose lists its entries in increasing
 * source row, and within a source row in storage order. {@link SpmmSimd#spmmT} relies on that, so
 * {@code spmm(transpose())} and {@code spmmT} are bit-identical.
 */
public final class Csr {
    public final int rows, cols;
    public final int[] ptr, col;
    /** Values, or null for an all-ones (pattern) matrix. */
    public final float[] val;

    /** Wraps the arrays (no copy) after {@link #check}. */
    public Csr(int rows, int cols, int[] ptr, int[] col, float[] val) {
        check("Csr", rows, cols, ptr, col, val);
        this.rows = rows;
        this.cols = cols;
        this.ptr = ptr;
        this.col = col;
        this.val = val;
    }

    /** Number of stored entries. */
    public int nnz() {
        return ptr[rows] - ptr[0];
    }

    /** The transpose (cols x rows), stable (see class comment); values carried, null stays null. */
    public Csr transpose() {
        Transposed t = Transposed.build(rows, cols, ptr, col);
        float[] tv = null;
        if (val != null) {
            tv = new float[t.src.length];
            for (int k = 0; k < tv.length; k++) tv[k] = val[t.src[k]];
        }
        return new Csr(cols, rows, t.ptr, t.row, tv);
    }

    /**
     * Checks a CSR operand once at a kernel's entry: ptr has m+1 non-decreasing entries starting at
     * >= 0, col and val (if non-null) cover ptr[m], and every column index lies in [0, cols).
     * Throws IllegalArgumentException naming {@code kernel}. The column scan is vectorised (one
     * min/max pass, about 0.1 ms per million entries).
     */
    public static void check(String kernel, int rows, int cols, int[] ptr, int[] col, float[] val) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException(kernel + ": negative dims " + rows + " x " + cols);
        if (ptr == null || ptr.length < rows + 1) {
            throw new IllegalArgumentException(kernel + ": ptr needs " + (rows + 1) + " entries, has "
                    + (ptr == null ? "null" : ptr.length));
        }
        if (ptr[0] < 0) throw new IllegalArgumentException(kernel + ": ptr[0] = " + ptr[0] + " < 0");
        for (int i = 0; i < rows; i++) {
            if (ptr[i + 1] < ptr[i]) {
                throw new IllegalArgumentException(kernel + ": ptr decreases at row " + i + " (" + ptr[i] + " > " + ptr[i + 1] + ")");
            }
        }
        int end = ptr[rows];
        if (col == null || col.length < end) {
            throw new IllegalArgumentException(kernel + ": col needs " + end + " entries, has " + (col == null ? "null" : col.length));
        }
        if (val != null && val.length < end) {
            throw new IllegalArgumentException(kernel + ": val needs " + end + " entries, has " + val.length);
        }
        int start = ptr[0];
        if (end > start) {
            long mm = minMax(col, start, end);
            int lo = (int) (mm >> 32), hi = (int) mm;
            if (lo < 0 || hi >= cols) {
                throw new IllegalArgumentException(kernel + ": column index out of [0, " + cols + "): min " + lo + ", max " + hi);
            }
        }
    }

    /** min in the high, max in the low 32 bits, over a[from, to), to > from. */
    static long minMax(int[] a, int from, int to) {
        int k = from;
        int lo = Integer.MAX_VALUE, hi = Integer.MIN_VALUE;
        int bound = from + Simd.I.loopBound(to - from);
        if (bound > from) {
            IntVector vmin = IntVector.broadcast(Simd.I, Integer.MAX_VALUE), vmax = IntVector.broadcast(Simd.I, Integer.MIN_VALUE);
            for (; k < bound; k += Simd.LANES) {
                IntVector x = IntVector.fromArray(Simd.I, a, k);
                vmin = vmin.min(x);
                vmax = vmax.max(x);
            }
            lo = vmin.reduceLanes(VectorOperators.MIN);
            hi = vmax.reduceLanes(VectorOperators.MAX);
        }
        for (; k < to; k++) {
            lo = Math.min(lo, a[k]);
            hi = Math.max(hi, a[k]);
        }
        return ((long) lo << 32) | (hi & 0xffffffffL);
    }

    /**
     * Structure of a transpose: transposed row j holds entries [ptr[j], ptr[j+1]) (ptr[0] = 0), whose
     * column (a source row) is row[k] and whose value is the source entry src[k].
     */
    static final class Transposed {
        final int m, n;
        final int[] ptr, row, src;
        final int maxRowLen;
        /** Copies of the source structure, to recognise it again by content. */
        final int[] srcPtr, srcCol;

        private Transposed(int m, int n, int[] ptr, int[] row, int[] src, int[] srcPtr, int[] srcCol) {
            this.m = m;
            this.n = n;
            this.ptr = ptr;
            this.row = row;
            this.src = src;
            this.srcPtr = srcPtr;
            this.srcCol = srcCol;
            int mx = 0;
            for (int j = 0; j < n; j++) mx = Math.max(mx, ptr[j + 1] - ptr[j]);
            this.maxRowLen = mx;
        }

        /** Stable counting sort by column: O(nnz + n). Inputs must already be checked. */
        static Transposed build(int m, int n, int[] ptr, int[] col) {
            int start = ptr[0], nnz = ptr[m] - start;
            int[] tp = new int[n + 1];
            for (int k = start; k < start + nnz; k++) tp[col[k] + 1]++;
            for (int j = 0; j < n; j++) tp[j + 1] += tp[j];
            int[] fill = Arrays.copyOf(tp, n);
            int[] row = new int[nnz], src = new int[nnz];
            for (int i = 0; i < m; i++) {
                for (int k = ptr[i]; k < ptr[i + 1]; k++) {
                    int at = fill[col[k]]++;
                    row[at] = i;
                    src[at] = k;
                }
            }
            return new Transposed(m, n, tp, row, src, Arrays.copyOf(ptr, m + 1), Arrays.copyOfRange(col, 0, ptr[m]));
        }

        boolean sameStructure(int m2, int n2, int[] ptr2, int[] col2) {
            // Arrays.equals/mismatch is a vectorised intrinsic: ~1 ms for Gowalla's 1.6M entries
            return m == m2 && n == n2 && Arrays.equals(srcPtr, 0, m + 1, ptr2, 0, m2 + 1)
                    && Arrays.equals(srcCol, 0, srcCol.length, col2, 0, srcCol.length);
        }
    }

    // A few recently used transposes. Found again by content (not identity), so editing ptr/col in
    // place between calls is safe; the price is one vectorised compare of the structure per call.
    private static final int CACHE_SIZE = 4;
    private static final Transposed[] CACHE = new Transposed[CACHE_SIZE];

    /** The transpose structure of a (checked) m x n CSR, from the cache or freshly built. */
    static Transposed cachedTranspose(int m, int n, int[] ptr, int[] col) {
        synchronized (CACHE) {
            for (int i = 0; i < CACHE_SIZE; i++) {
                Transposed t = CACHE[i];
                if (t != null && t.sameStructure(m, n, ptr, col)) {
                    // move to front: least recently used falls off the end
                    System.arraycopy(CACHE, 0, CACHE, 1, i);
                    CACHE[0] = t;
                    return t;
                }
            }
        }
        Transposed t = Transposed.build(m, n, ptr, col);
        synchronized (CACHE) {
            System.arraycopy(CACHE, 0, CACHE, 1, CACHE_SIZE - 1);
            CACHE[0] = t;
        }
        return t;
    }

    /** Drops the cached transposes of {@link SpmmSimd#spmmT} (frees their memory). */
    public static void clearTransposeCache() {
        synchronized (CACHE) {
            Arrays.fill(CACHE, null);
        }
    }
}
