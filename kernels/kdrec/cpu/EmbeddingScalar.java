package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Scalar reference for the embedding-table kernels: the test oracle and benchmark baseline of
 * {@link EmbeddingSimd}. Single-threaded plain loops in t order; rowDotBackward does all dA updates,
 * then all dB updates. Argument rules are those of {@link EmbeddingSimd}.
 */
public final class EmbeddingScalar {
    private EmbeddingScalar() {}

    /** out[t] = table[idx[t]] for t in [0, n). */
    public static void gather(int n, int d, int[] idx, MemorySegment table, long tOff, int ldt, MemorySegment out, long oOff, int ldo) {
        EmbeddingSimd.checkGather(n, d, idx, table, tOff, ldt, out, oOff, ldo);
        for (int t = 0; t < n; t++) {
            long so = tOff + (long) idx[t] * ldt, oo = oOff + (long) t * ldo;
            for (int c = 0; c < d; c++) Mem.set(out, oo + c, Mem.get(table, so + c));
        }
    }

    /** table[idx[t]] += src[t]; duplicates accumulate in t order. */
    public static void scatterAdd(int n, int d, int[] idx, MemorySegment src, long sOff, int lds, MemorySegment table, long tOff, int ldt) {
        EmbeddingSimd.checkScatterAdd(n, d, idx, src, sOff, lds, table, tOff, ldt);
        for (int t = 0; t < n; t++) {
            long so = sOff + (long) t * lds, oo = tOff + (long) idx[t] * ldt;
            for (int c = 0; c < d; c++) Mem.set(table, oo + c, Mem.get(table, oo + c) + Mem.get(src, so + c));
        }
    }

    /** out[t] = &lt;A[ia[t]], B[ib[t]]&gt; (ia or ib null = identity). */
    public static void rowDot(int n, int d, int[] ia, MemorySegment a, long aOff, int lda, int[] ib, MemorySegment b, long bOff, int ldb, float[] out) {
        EmbeddingSimd.checkRowDot("rowDot", n, d, ia, a, aOff, lda, ib, b, bOff, ldb);
        if (out == null || out.length < n) throw new IllegalArgumentException("rowDot: out needs " + n + " entries");
        for (int t = 0; t < n; t++) {
            long ao = aOff + (long) (ia == null ? t : ia[t]) * lda, bo = bOff + (long) (ib == null ? t : ib[t]) * ldb;
            float s = 0f;
            for (int c = 0; c < d; c++) s += Mem.get(a, ao + c) * Mem.get(b, bo + c);
            out[t] = s;
        }
    }

    /** Backward of rowDot: dA[ia[t]] += g[t] * B[ib[t]] ; dB[ib[t]] += g[t] * A[ia[t]] (either may be null). */
    public static void rowDotBackward(int n, int d, int[] ia, MemorySegment a, long aOff, int lda, int[] ib, MemorySegment b, long bOff, int ldb,
                                      float[] g, MemorySegment da, long daOff, int ldda, MemorySegment db, long dbOff, int lddb) {
        EmbeddingSimd.checkRowDotBackward(n, d, ia, a, aOff, lda, ib, b, bOff, ldb, g, da, daOff, ldda, db, dbOff, lddb);
        if (da != null) accumulate(n, d, ia, g, ib, b, bOff, ldb, da, daOff, ldda);
        if (db != null) accumulate(n, d, ib, g, ia, a, aOff, lda, db, dbOff, lddb);
    }

    /** out[dst[t]] += g[t] * src[srcIdx[t]] in t order (null index = identity). */
    private static void accumulate(int n, int d, int[] dst, float[] g, int[] srcIdx, MemorySegment src, long sOff, int lds,
                                   MemorySegment out, long oOff, int ldo) {
        for (int t = 0; t < n; t++) {
            long so = sOff + (long) (srcIdx == null ? t : srcIdx[t]) * lds;
            long oo = oOff + (long) (dst == null ? t : dst[t]) * ldo;
            for (int c = 0; c < d; c++) Mem.set(out, oo + c, Mem.get(out, oo + c) + g[t] * Mem.get(src, so + c));
        }
    }
}
