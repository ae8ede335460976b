package kdrec.gpu;

/**
 * Embedding-table kernels on the GPU, the device twin of {@link kdrec.cpu.EmbeddingScalar}: row
 * gather, scatter-add, and the row-wise dot of gathered rows with its backward (BPR scores over a
 * batch of (user, item) pairs). Kernels in native/embedding.cu.
 *
 * <p>Decomposition: gather, scatterAdd and rowDotBackward run one thread per (t, c) element of the
 * n x d batch (grid-stride, consecutive threads on consecutive floats of a row). rowDot gives each t
 * to a group of 8, 16 or 32 lanes (by d) that sums its strided products and reduces through a fixed
 * shuffle tree (deterministic).
 *
 * <p>scatterAdd and rowDotBackward accumulate with float atomicAdd: duplicate destination indices
 * add up correctly, but their order varies run to run, so with duplicates the last bits may differ
 * between runs (and from the CPU's t order). Without duplicates each destination gets one addition
 * with the CPU's rounding, so those results equal the CPU twin bit for bit. dA and dB may be the same
 * table (atomics make the one-pass update safe); gradients must not overlap A or B.
 *
 * <p>Deterministic scatter-add: {@link ScatterPlan#of} sorts a batch's indices on the host (they come
 * from the host's sampler anyway; O(n log n), one upload) into unique destination rows, each with its
 * source positions in increasing t, and {@link #scatterAdd(Cuda, ScatterPlan, int, DeviceBuffer, long,
 * int, DeviceBuffer, long, int)} gives each (destination row, column) to one thread that adds the
 * contributions in t order onto the table value: bit-identical to EmbeddingScalar.scatterAdd,
 * duplicates included. Build the plan once per batch and reuse it for every table the batch scatters into.
 *
 * <p>Index arrays are device buffers holding the CPU's int[] contents (null = identity where the CPU
 * allows it); their values are not checked here (that needs a download): out-of-range indices are
 * the caller's error, as the CPU twin would have reported.
 */
public final class GpuEmbedding {
    private GpuEmbedding() {}

    /** out[t] = table[idx[t]] for t in [0, n). */
    public static void gather(Cuda cuda, int n, int d, DeviceBuffer idx, DeviceBuffer table, long tOff, int ldt,
                              DeviceBuffer out, long oOff, int ldo) {
        String op = "gather";
        dims(op, n, d);
        SparseArgs.elements(op, "idx", idx, n);
        SparseArgs.dense(op, "table", table, tOff, ldt, 0, d);
        SparseArgs.dense(op, "out", out, oOff, ldo, n, d);
        if (n == 0 || d == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_embedding_gather"), (long) n * d, SparseArgs.BLOCK, n, d, idx, table.at(tOff), ldt,
                out.at(oOff), ldo);
    }

    /**
     * The input rows of b padded sequences of length n, the twin of {@code kdrec.autograd.Attention.embed}:
     * x[s*n+p] = scale * table[ids[s*n+p]] + positions[p] for p &lt; len[s], a zero row for padding. All
     * rows are d wide (leading dim d); ids (b*n ints) and len (b ints) are device buffers.
     */
    public static void sequence(Cuda cuda, int b, int n, int d, DeviceBuffer ids, DeviceBuffer len, DeviceBuffer table,
                                DeviceBuffer positions, float scale, DeviceBuffer x) {
        String op = "sequence";
        if (b < 0 || n < 0) throw new IllegalArgumentException(op + ": negative b = " + b + " or n = " + n);
        dims(op, b * n, d);
        SparseArgs.elements(op, "ids", ids, (long) b * n);
        SparseArgs.elements(op, "len", len, b);
        SparseArgs.dense(op, "table", table, 0, d, 0, d);
        SparseArgs.dense(op, "positions", positions, 0, d, n, d);
        SparseArgs.dense(op, "x", x, 0, d, (long) b * n, d);
        if (!Float.isFinite(scale)) throw new IllegalArgumentException(op + ": scale must be finite, got " + scale);
        if ((long) b * n * d == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_embedding_sequence"), (long) b * n * d, SparseArgs.BLOCK, b, n, d, ids, len, table, positions, scale, x);
    }

    /** table[idx[t]] += src[t]; duplicates accumulate (float atomics: order varies, see class comment). */
    public static void scatterAdd(Cuda cuda, int n, int d, DeviceBuffer idx, DeviceBuffer src, long sOff, int lds,
                                  DeviceBuffer table, long tOff, int ldt) {
        String op = "scatterAdd";
        dims(op, n, d);
        SparseArgs.elements(op, "idx", idx, n);
        SparseArgs.dense(op, "src", src, sOff, lds, n, d);
        SparseArgs.dense(op, "table", table, tOff, ldt, 0, d);
        if (n == 0 || d == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_embedding_scatter_add"), (long) n * d, SparseArgs.BLOCK, n, d, idx, src.at(sOff), lds,
                table.at(tOff), ldt);
    }

    /**
     * table[plan.idx[t]] += src[t] for t in [0, plan.n): deterministic, in t order per destination row,
     * bit-identical to EmbeddingScalar.scatterAdd (see class comment). The table must have more than
     * the plan's largest index rows.
     */
    public static void scatterAdd(Cuda cuda, ScatterPlan plan, int d, DeviceBuffer src, long sOff, int lds,
                                  DeviceBuffer table, long tOff, int ldt) {
        String op = "scatterAdd";
        if (plan == null) throw new IllegalArgumentException(op + ": plan is null");
        if (plan.closed) throw new IllegalStateException(op + ": plan was closed");
        dims(op, plan.n, d);
        SparseArgs.dense(op, "src", src, sOff, lds, plan.n, d);
        SparseArgs.dense(op, "table", table, tOff, ldt, plan.maxIndex + 1L, d);
        if (plan.unique == 0 || d == 0) return;
        DeviceBuffer b = plan.packed;
        cuda.launch1d(cuda.kernel("kdrec_embedding_scatter_add_planned"), (long) plan.unique * d, SparseArgs.BLOCK, plan.unique, d,
                b, b.at(plan.unique), b.at(2L * plan.unique + 1), src.at(sOff), lds, table.at(tOff), ldt);
    }

    /**
     * The destinations of one batch of indices, sorted on the host for the deterministic
     * {@link #scatterAdd(Cuda, ScatterPlan, int, DeviceBuffer, long, int, DeviceBuffer, long, int)}:
     * unique rows in increasing order, and for each its source positions t in increasing order. Held
     * in one device buffer [rows (u) | ptr (u + 1) | perm (n)]; close it when the batch is done.
     */
    public static final class ScatterPlan implements AutoCloseable {
        /** Batch size, number of distinct indices, largest index (-1 when n == 0). */
        public final int n, unique, maxIndex;
        final DeviceBuffer packed;
        private final boolean owned;
        private boolean closed;

        private ScatterPlan(int n, int unique, int maxIndex, DeviceBuffer packed, boolean owned) {
            this.n = n;
            this.unique = unique;
            this.maxIndex = maxIndex;
            this.packed = packed;
            this.owned = owned;
        }

        /** Plans idx[0, n) (entries must be &gt;= 0): a sort of (index, t) pairs, then one upload. */
        public static ScatterPlan of(Cuda cuda, int n, int[] idx) {
            int[] packed = pack(n, idx);
            return over(packed, n, cuda.upload(packed), true);
        }

        /**
         * The host half of {@link #of}: the plan of idx[0, n) as the int array [rows | ptr | perm] the
         * device holds, for a caller that uploads it with other arrays ({@link #over} then views it).
         */
        public static int[] pack(int n, int[] idx) {
            String op = "ScatterPlan";
            if (n < 0) throw new IllegalArgumentException(op + ": n = " + n + " < 0");
            if (idx == null || idx.length < n) {
                throw new IllegalArgumentException(op + ": idx needs " + n + " entries, has " + (idx == null ? "null" : idx.length));
            }
            long[] keys = new long[n];
            for (int t = 0; t < n; t++) {
                if (idx[t] < 0) throw new IllegalArgumentException(op + ": idx[" + t + "] = " + idx[t] + " < 0");
                keys[t] = (long) idx[t] << 32 | t; // sorts by index, then by t: the CPU's order per row
            }
            java.util.Arrays.sort(keys);
            int unique = 0;
            for (int k = 0; k < n; k++) if (k == 0 || keys[k] >>> 32 != keys[k - 1] >>> 32) unique++;
            int[] packed = new int[2 * unique + 1 + n];
            int u = 0;
            for (int k = 0; k < n; k++) {
                int row = (int) (keys[k] >>> 32);
                if (k == 0 || row != (int) (keys[k - 1] >>> 32)) {
                    packed[u] = row;             // rows[u]
                    packed[unique + u] = k;      // ptr[u]
                    u++;
                }
                packed[2 * unique + 1 + k] = (int) keys[k]; // perm[k] = t
            }
            packed[2 * unique] = n;              // ptr[unique]
            return packed;
        }

        /**
         * A plan over {@code device}, which holds {@code packed} (from {@link #pack} for n indices),
         * uploaded by the caller and still owned by it: closing the plan leaves it alone.
         */
        public static ScatterPlan over(int[] packed, int n, DeviceBuffer device) {
            return over(packed, n, device, false);
        }

        private static ScatterPlan over(int[] packed, int n, DeviceBuffer device, boolean owned) {
            int unique = (packed.length - 1 - n) / 2;
            if (n < 0 || 2 * unique + 1 + n != packed.length) throw new IllegalArgumentException("ScatterPlan: " + packed.length + " packed ints do not plan " + n + " indices");
            if (device.elements() < packed.length) throw new IllegalArgumentException("ScatterPlan: the device buffer has " + device.elements() + " ints, the plan " + packed.length);
            return new ScatterPlan(n, unique, unique == 0 ? -1 : packed[unique - 1], device, owned);
        }

        /** Frees the device buffer when the plan owns it ({@link #of}; idempotent). */
        @Override
        public void close() {
            if (closed) return;
            closed = true;
            if (owned) packed.close();
        }
    }

    /** out[t] = &lt;A[ia[t]], B[ib[t]]&gt; (ia or ib null = identity); d == 0 writes zeros, as on the CPU. */
    public static void rowDot(Cuda cuda, int n, int d, DeviceBuffer ia, DeviceBuffer a, long aOff, int lda,
                              DeviceBuffer ib, DeviceBuffer b, long bOff, int ldb, DeviceBuffer out) {
        String op = "rowDot";
        checkRowDot(op, n, d, ia, a, aOff, lda, ib, b, bOff, ldb);
        SparseArgs.elements(op, "out", out, n);
        if (n == 0) return;
        int g = SparseArgs.group(d);
        Cuda.Kernel k = byGroup(cuda, g, "kdrec_embedding_row_dot_g8", "kdrec_embedding_row_dot_g16", "kdrec_embedding_row_dot_g32");
        cuda.launch1d(k, (long) n * g, SparseArgs.BLOCK, n, d, SparseArgs.orNull(ia), a.at(aOff), lda, SparseArgs.orNull(ib),
                b.at(bOff), ldb, out);
    }

    /**
     * Backward of rowDot: dA[ia[t]] += g[t] * B[ib[t]] ; dB[ib[t]] += g[t] * A[ia[t]] (da or db may be
     * null: that half is skipped). Float atomics (see class comment).
     */
    public static void rowDotBackward(Cuda cuda, int n, int d, DeviceBuffer ia, DeviceBuffer a, long aOff, int lda,
                                      DeviceBuffer ib, DeviceBuffer b, long bOff, int ldb, DeviceBuffer g,
                                      DeviceBuffer da, long daOff, int ldda, DeviceBuffer db, long dbOff, int lddb) {
        String op = "rowDotBackward";
        checkRowDot(op, n, d, ia, a, aOff, lda, ib, b, bOff, ldb);
        SparseArgs.elements(op, "g", g, n);
        if (da != null) SparseArgs.dense(op, "da", da, daOff, ldda, ia == null ? n : 0, d);
        if (db != null) SparseArgs.dense(op, "db", db, dbOff, lddb, ib == null ? n : 0, d);
        if (n == 0 || d == 0 || (da == null && db == null)) return;
        cuda.launch1d(cuda.kernel("kdrec_embedding_row_dot_backward"), (long) n * d, SparseArgs.BLOCK, n, d,
                SparseArgs.orNull(ia), a.at(aOff), lda, SparseArgs.orNull(ib), b.at(bOff), ldb, g,
                da == null ? (Object) 0L : da.at(daOff), ldda, db == null ? (Object) 0L : db.at(dbOff), lddb);
    }

    /**
     * BPR over n (user, positive, negative) triples in one launch: {@code logSig[t] = log sigmoid(s+ - s-)}
     * with {@code s+ = <U[users[t]], I[pos[t]]>}, {@code s- = <U[users[t]], I[neg[t]]>}, and the gradient
     * of {@code -sum_t logSig[t]} accumulated into dU and dI (float atomics). Every value equals the
     * unfused chain's (rowDot twice, sub, logSigmoid, its backward, scale, rowDotBackward twice); only
     * the order of the atomic additions differs. U, I, dU, dI: rows of width d, leading dim d; ids are the
     * caller's guarantee (as for rowDot).
     */
    public static void bprPairs(Cuda cuda, int n, int d, DeviceBuffer users, DeviceBuffer pos, DeviceBuffer neg, DeviceBuffer u,
                                DeviceBuffer i, DeviceBuffer logSig, DeviceBuffer du, DeviceBuffer di) {
        String op = "bprPairs";
        dims(op, n, d);
        SparseArgs.elements(op, "users", users, n);
        SparseArgs.elements(op, "pos", pos, n);
        SparseArgs.elements(op, "neg", neg, n);
        SparseArgs.elements(op, "logSig", logSig, n);
        SparseArgs.dense(op, "u", u, 0, d, 0, d);
        SparseArgs.dense(op, "i", i, 0, d, 0, d);
        SparseArgs.dense(op, "du", du, 0, d, 0, d);
        SparseArgs.dense(op, "di", di, 0, d, 0, d);
        if (n == 0) return;
        int g = SparseArgs.group(d);
        Cuda.Kernel k = byGroup(cuda, g, "kdrec_embedding_bpr_pairs_g8", "kdrec_embedding_bpr_pairs_g16", "kdrec_embedding_bpr_pairs_g32");
        cuda.launch1d(k, (long) n * g, SparseArgs.BLOCK, n, d, users, pos, neg, u, i, logSig, du, di);
    }

    /**
     * Ragged row gather: output row r is row {@code src[r]} of the CSR source (srcPtr, srcIdx, srcVal),
     * written from {@code dstPtr[r]} on; values times {@code rowScale[r]} (null: copied); srcVal and
     * dstVal both null: ids only. dstPtr (m + 1 entries) must hold the running sum of the source rows'
     * lengths (the caller builds it on the host, where it knows srcPtr); the source row ids and that
     * consistency are the caller's guarantee (a download per call would be needed to check them).
     */
    public static void gatherRagged(Cuda cuda, int m, DeviceBuffer src, DeviceBuffer srcPtr, DeviceBuffer srcIdx, DeviceBuffer srcVal,
                                    DeviceBuffer dstPtr, DeviceBuffer rowScale, DeviceBuffer dstIdx, DeviceBuffer dstVal) {
        String op = "gatherRagged";
        SparseArgs.nonNegative(op, "m", m);
        SparseArgs.elements(op, "src", src, m);
        SparseArgs.elements(op, "dstPtr", dstPtr, (long) m + 1);
        if (srcPtr == null || srcIdx == null || dstIdx == null) throw new IllegalArgumentException(op + ": srcPtr, srcIdx and dstIdx are required");
        if ((srcVal == null) != (dstVal == null)) throw new IllegalArgumentException(op + ": srcVal and dstVal must both be given or both be null");
        if (rowScale != null) SparseArgs.elements(op, "rowScale", rowScale, m);
        if (m == 0) return;
        cuda.launch1d(cuda.kernel("kdrec_embedding_gather_ragged"), (long) m * 32, SparseArgs.BLOCK, m, src, srcPtr, srcIdx,
                SparseArgs.orNull(srcVal), dstPtr, SparseArgs.orNull(rowScale), dstIdx, SparseArgs.orNull(dstVal));
    }

    /** The instantiation of a lane-group kernel for group width g (8, 16 or 32; names spelled out for CudaProbeTest's scan). */
    private static Cuda.Kernel byGroup(Cuda cuda, int g, String g8, String g16, String g32) {
        return cuda.kernel(g == 8 ? g8 : g == 16 ? g16 : g32);
    }

    private static void dims(String op, int n, int d) {
        if (n < 0 || d < 0) throw new IllegalArgumentException(op + ": negative dims n = " + n + ", d = " + d);
    }

    /** Operands of rowDot: an identity index (null) needs n rows of its table; an index array n entries. */
    private static void checkRowDot(String op, int n, int d, DeviceBuffer ia, DeviceBuffer a, long aOff, int lda,
                                    DeviceBuffer ib, DeviceBuffer b, long bOff, int ldb) {
        dims(op, n, d);
        SparseArgs.elementsOrNull(op, "ia", ia, n);
        SparseArgs.elementsOrNull(op, "ib", ib, n);
        SparseArgs.dense(op, "a", a, aOff, lda, ia == null ? n : 0, d);
        SparseArgs.dense(op, "b", b, bOff, ldb, ib == null ? n : 0, d);
    }
}
