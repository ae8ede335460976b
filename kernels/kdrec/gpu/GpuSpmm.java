package kdrec.gpu;

import kdrec.cpu.Csr;

/**
 * CSR sparse x dense products on the GPU, the device twin of {@link kdrec.cpu.SpmmScalar} (LightGCN
 * propagation over the normalised adjacency). Kernels in native/spmm.cu.
 *
 * <p>Decomposition: {@link #spmm} and {@link #spmmRows} give each output row to a group of 8, 16 or 32
 * lanes (by d, {@link SparseArgs#group}); lane l keeps columns l, l+G, ... (up to 4 per pass) in
 * registers while the row's entries stream by, broadcast through warp shuffles. Each output element
 * is summed by one lane in storage order: deterministic, though not the CPU's summation order.
 *
 * <p>Aᵀ·X comes two ways. The one to use in training is {@link #spmmT(Cuda, Transpose, int, DeviceBuffer,
 * DeviceBuffer, long, int, float, DeviceBuffer, long, int)}: the transposed structure is built once on
 * the host ({@link Transpose#of}, a stable counting sort, O(nnz + n)) and uploaded — graphs are fixed
 * during training — and the same gather kernel then runs over it, reading the values through the
 * transpose's permutation so that edge weights may change between calls. It is deterministic. The
 * signature twin of the CPU's {@code spmmT} ({@link #spmmT(Cuda, int, int, int, DeviceBuffer,
 * DeviceBuffer, DeviceBuffer, DeviceBuffer, long, int, float, DeviceBuffer, long, int)}) needs no
 * transpose: it scales Y by beta and then scatters with float atomicAdd, so the order of additions into
 * an output element varies run to run (last-bit differences; use it where that does not matter).
 *
 * <p>Argument rules are those of {@link kdrec.cpu.SpmmSimd}, as far as the host can see them without a
 * download: dims, leading dims, offsets and buffer capacities are checked here; the column indices
 * are not (the CSR is checked on the host by {@link Csr#check} when it is built, and {@link
 * Transpose#of} checks it again). beta == 0: Y is only written. X and Y must not overlap.
 */
public final class GpuSpmm {
    private GpuSpmm() {}

    /** Y (m x d) = A . X + beta * Y ; X is (ncols x d). beta == 0: Y not read. val null: all ones. */
    public static void spmm(Cuda cuda, int m, int d, DeviceBuffer ptr, DeviceBuffer col, DeviceBuffer val,
                            DeviceBuffer x, long xOff, int ldx, float beta, DeviceBuffer y, long yOff, int ldy) {
        String op = "spmm";
        SparseArgs.nonNegative(op, "m", m);
        SparseArgs.nonNegative(op, "d", d);
        SparseArgs.elements(op, "ptr", ptr, (long) m + 1);
        if (col == null) throw new IllegalArgumentException(op + ": col is null");
        SparseArgs.dense(op, "x", x, xOff, ldx, 0, d);
        SparseArgs.dense(op, "y", y, yOff, ldy, m, d);
        if (m == 0 || d == 0) return;
        gather(cuda, m, d, null, ptr, col, val, null, x.at(xOff), ldx, beta, y.at(yOff), ldy);
    }

    /** Row-restricted: Y[t] = (A . X)[rows[t]] + beta * Y[t] for t in [0, nRows) (Y is nRows x d). */
    public static void spmmRows(Cuda cuda, int nRows, DeviceBuffer rows, int d, DeviceBuffer ptr, DeviceBuffer col, DeviceBuffer val,
                                DeviceBuffer x, long xOff, int ldx, float beta, DeviceBuffer y, long yOff, int ldy) {
        String op = "spmmRows";
        SparseArgs.nonNegative(op, "nRows", nRows);
        SparseArgs.nonNegative(op, "d", d);
        SparseArgs.elements(op, "rows", rows, nRows);
        if (ptr == null || col == null) throw new IllegalArgumentException(op + ": ptr or col is null");
        SparseArgs.dense(op, "x", x, xOff, ldx, 0, d);
        SparseArgs.dense(op, "y", y, yOff, ldy, nRows, d);
        if (nRows == 0 || d == 0) return;
        gather(cuda, nRows, d, rows, ptr, col, val, null, x.at(xOff), ldx, beta, y.at(yOff), ldy);
    }

    /**
     * Y (n x d) = Aᵀ . X + beta * Y over a host-built {@link Transpose} of A (m x n): deterministic.
     * {@code val} is A's value array in A's own storage order (null: all ones), read through the
     * transpose's permutation, so it may change between calls; X is (m x d).
     */
    public static void spmmT(Cuda cuda, Transpose t, int d, DeviceBuffer val, DeviceBuffer x, long xOff, int ldx,
                             float beta, DeviceBuffer y, long yOff, int ldy) {
        String op = "spmmT";
        if (t == null) throw new IllegalArgumentException(op + ": transpose is null");
        if (t.closed) throw new IllegalStateException(op + ": transpose was closed");
        SparseArgs.nonNegative(op, "d", d);
        SparseArgs.elementsOrNull(op, "val", val, t.end);
        SparseArgs.dense(op, "x", x, xOff, ldx, t.m, d);
        SparseArgs.dense(op, "y", y, yOff, ldy, t.n, d);
        if (t.n == 0 || d == 0) return;
        gather(cuda, t.n, d, null, t.ptr, t.row, val, val == null ? null : t.src, x.at(xOff), ldx, beta, y.at(yOff), ldy);
    }

    /**
     * Y (n x d) = Aᵀ . X + beta * Y ; A has m rows and n columns, X is (m x d): the CPU signature, by
     * float atomics (order of additions varies run to run; see the class comment).
     */
    public static void spmmT(Cuda cuda, int m, int n, int d, DeviceBuffer ptr, DeviceBuffer col, DeviceBuffer val,
                             DeviceBuffer x, long xOff, int ldx, float beta, DeviceBuffer y, long yOff, int ldy) {
        String op = "spmmT";
        SparseArgs.nonNegative(op, "m", m);
        SparseArgs.nonNegative(op, "n", n);
        SparseArgs.nonNegative(op, "d", d);
        SparseArgs.elements(op, "ptr", ptr, (long) m + 1);
        if (col == null) throw new IllegalArgumentException(op + ": col is null");
        SparseArgs.dense(op, "x", x, xOff, ldx, m, d);
        SparseArgs.dense(op, "y", y, yOff, ldy, n, d);
        if (n == 0 || d == 0) return;
        DeviceBuffer yv = y.at(yOff);
        // Y = beta Y first (also when m == 0: the CPU twin scales Y even with no rows to add).
        cuda.launch1d(cuda.kernel("kdrec_spmm_scale"), (long) n * d, SparseArgs.BLOCK, n, d, beta, yv, ldy);
        int g = SparseArgs.group(d);
        Cuda.Kernel k = switch (g) {
            case 8 -> cuda.kernel("kdrec_spmm_scatter_atomic_g8");
            case 16 -> cuda.kernel("kdrec_spmm_scatter_atomic_g16");
            default -> cuda.kernel("kdrec_spmm_scatter_atomic_g32");
        };
        cuda.launch1d(k, (long) m * g, SparseArgs.BLOCK, m, d, ptr, col, SparseArgs.orNull(val), x.at(xOff), ldx, yv, ldy);
    }

    private static void gather(Cuda cuda, int nOut, int d, DeviceBuffer rows, DeviceBuffer ptr, DeviceBuffer col,
                               DeviceBuffer val, DeviceBuffer perm, DeviceBuffer x, int ldx, float beta, DeviceBuffer y, int ldy) {
        int g = SparseArgs.group(d);
        Cuda.Kernel k = switch (g) {
            case 8 -> cuda.kernel("kdrec_spmm_gather_g8");
            case 16 -> cuda.kernel("kdrec_spmm_gather_g16");
            default -> cuda.kernel("kdrec_spmm_gather_g32");
        };
        // one group of g lanes per output row; the kernel loops grid-stride over rows past the grid cap
        cuda.launch1d(k, (long) nOut * g, SparseArgs.BLOCK, nOut, d, SparseArgs.orNull(rows), ptr, col,
                SparseArgs.orNull(val), SparseArgs.orNull(perm), x, ldx, beta, y, ldy);
    }

    /**
     * The transposed structure of an m x n CSR matrix A, on the device: transposed row j (a column of
     * A) lists its entries [ptr[j], ptr[j+1]) (ptr[0] = 0), in increasing source row and, within a
     * source row, in storage order (stable, as {@link Csr#transpose()}); row[k] is the source row and
     * src[k] the index of the entry in A's col/val arrays. Build it once per graph with {@link #of}
     * and close it when the graph is dropped.
     */
    public static final class Transpose implements AutoCloseable {
        /** A's dims (the transpose is n x m), and ptr[m] of A (val must hold that many entries). */
        public final int m, n, end;
        final DeviceBuffer ptr, row, src;
        private boolean closed;

        private Transpose(int m, int n, int end, DeviceBuffer ptr, DeviceBuffer row, DeviceBuffer src) {
            this.m = m;
            this.n = n;
            this.end = end;
            this.ptr = ptr;
            this.row = row;
            this.src = src;
        }

        /** Checks A's structure ({@link Csr#check}), transposes it on the host (O(nnz + n)) and uploads it. */
        public static Transpose of(Cuda cuda, int m, int n, int[] ptr, int[] col) {
            Csr.check("GpuSpmm.Transpose", m, n, ptr, col, null);
            int start = ptr[0], nnz = ptr[m] - start;
            int[] tp = new int[n + 1];
            for (int k = start; k < start + nnz; k++) tp[col[k] + 1]++;
            for (int j = 0; j < n; j++) tp[j + 1] += tp[j];
            int[] fill = java.util.Arrays.copyOf(tp, n);
            int[] row = new int[nnz], src = new int[nnz];
            for (int i = 0; i < m; i++) {
                for (int k = ptr[i]; k < ptr[i + 1]; k++) {
                    int at = fill[col[k]]++;
                    row[at] = i;
                    src[at] = k;
                }
            }
            DeviceBuffer dp = null, dr = null, ds = null;
            try {
                dp = cuda.upload(tp);
                dr = cuda.upload(row);
                ds = cuda.upload(src);
                return new Transpose(m, n, ptr[m], dp, dr, ds);
            } catch (RuntimeException e) {
                for (DeviceBuffer b : new DeviceBuffer[] {dp, dr, ds}) if (b != null) b.close();
                throw e;
            }
        }

        /** Frees the device arrays (idempotent). */
        @Override
        public void close() {
            if (closed) return;
            closed = true;
            ptr.close();
            row.close();
            src.close();
        }
    }
}
