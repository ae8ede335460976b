package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Embedding-table kernels on the Vector API: row gather, scatter-add, and the row-wise dot product
 * of gathered rows with its backward (BPR: s_ui = &lt;e_u, e_i&gt; over a batch of 2048 triples).
 *
 * <p>Vectorised over d (one row at a time; d = 64 is 8 AVX2 vectors). Threads split the batch for
 * gather and rowDot. Scatters (scatterAdd, rowDotBackward) split the <em>destination rows</em>
 * into contiguous value ranges: each thread scans the whole index list in t order and applies only
 * the entries it owns, so every destination row sums its contributions in t order on one thread.
 * All four are therefore bit-identical for any thread count. rowDotBackward does the whole dA pass,
 * then the whole dB pass (so dA and dB may be the same table); gradients must not overlap A or B.
 * scatterAdd equals {@link EmbeddingScalar#scatterAdd} bit for bit (adds are exact-order).
 */
public final class EmbeddingSimd {
    private EmbeddingSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Below this many floats touched a call runs on the caller alone (fork/join costs ~10 us). */
    private static final long SERIAL_WORK = 1L << 15;

    /** out[t] = table[idx[t]] for t in [0, n). */
    public static void gather(int n, int d, int[] idx, MemorySegment table, long tOff, int ldt, MemorySegment out, long oOff, int ldo) {
        checkGather(n, d, idx, table, tOff, ldt, out, oOff, ldo);
        if (n == 0 || d == 0) return;
        Parallel.forRange(n, 1, minPerTask(n, d), (t0, t1) -> {
            for (int t = t0; t < t1; t++) copyRow(d, table, tOff + (long) idx[t] * ldt, out, oOff + (long) t * ldo);
        });
    }

    /** table[idx[t]] += src[t]; duplicates accumulate in t order (deterministic for any thread count). */
    public static void scatterAdd(int n, int d, int[] idx, MemorySegment src, long sOff, int lds, MemorySegment table, long tOff, int ldt) {
        long range = checkScatterAdd(n, d, idx, src, sOff, lds, table, tOff, ldt);
        if (n == 0 || d == 0) return;
        scatter(n, d, idx, range, null, null, src, sOff, lds, table, tOff, ldt);
    }

    /** out[t] = &lt;A[ia[t]], B[ib[t]]&gt; (row-wise dot of gathered rows; ia or ib null = identity). */
    public static void rowDot(int n, int d, int[] ia, MemorySegment a, long aOff, int lda, int[] ib, MemorySegment b, long bOff, int ldb, float[] out) {
        checkRowDot("rowDot", n, d, ia, a, aOff, lda, ib, b, bOff, ldb);
        if (out == null || out.length < n) throw new IllegalArgumentException("rowDot: out needs " + n + " entries");
        if (n == 0) return;
        Parallel.forRange(n, 1, minPerTask(n, d), (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                long ao = aOff + (long) (ia == null ? t : ia[t]) * lda, bo = bOff + (long) (ib == null ? t : ib[t]) * ldb;
                out[t] = dot(d, a, ao, b, bo);
            }
        });
    }

    /** Backward of rowDot: dA[ia[t]] += g[t] * B[ib[t]] ; dB[ib[t]] += g[t] * A[ia[t]] (either may be null); deterministic. */
    public static void rowDotBackward(int n, int d, int[] ia, MemorySegment a, long aOff, int lda, int[] ib, MemorySegment b, long bOff, int ldb,
                                      float[] g, MemorySegment da, long daOff, int ldda, MemorySegment db, long dbOff, int lddb) {
        long[] ranges = checkRowDotBackward(n, d, ia, a, aOff, lda, ib, b, bOff, ldb, g, da, daOff, ldda, db, dbOff, lddb);
        if (n == 0 || d == 0) return;
        if (da != null) scatter(n, d, ia, ranges[0], g, ib, b, bOff, ldb, da, daOff, ldda);
        if (db != null) scatter(n, d, ib, ranges[1], g, ia, a, aOff, lda, db, dbOff, lddb);
    }

    // ---------------------------------------------------------------- drivers

    private static int minPerTask(int n, int d) {
        return (long) n * d < SERIAL_WORK ? n : Math.max(1, (int) (SERIAL_WORK / Math.max(1, d)));
    }

    /**
     * out[dst[t]] += g[t] * src[srcIdx[t]] for t in [0, n) (dst/srcIdx null: identity, g null: 1).
     * {@code range} packs the min (high) and max (low 32 bits) destination row.
     */
    private static void scatter(int n, int d, int[] dst, long range, float[] g, int[] srcIdx, MemorySegment src, long sOff,
                                int lds, MemorySegment out, long oOff, int ldo) {
        int lo = (int) (range >> 32), hi = (int) range;
        long span = (long) hi - lo + 1;
        int parts = (long) n * d < SERIAL_WORK ? 1 : (int) Math.min(Parallel.threads(), span);
        Parallel.forRange(parts, 1, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int r0 = (int) (lo + span * p / parts), r1 = (int) (lo + span * (p + 1) / parts);
                scatterPart(n, d, dst, r0, r1, g, srcIdx, src, sOff, lds, out, oOff, ldo);
            }
        });
    }

    /** The entries whose destination row lies in [r0, r1), in t order. */
    private static void scatterPart(int n, int d, int[] dst, int r0, int r1, float[] g, int[] srcIdx, MemorySegment src,
                                    long sOff, int lds, MemorySegment out, long oOff, int ldo) {
        // identity destinations: the owned entries are exactly t in [r0, r1)
        int t0 = dst == null ? r0 : 0, t1 = dst == null ? r1 : n;
        for (int t = t0; t < t1; t++) {
            int r = dst == null ? t : dst[t];
            if (r < r0 || r >= r1) continue;
            long so = sOff + (long) (srcIdx == null ? t : srcIdx[t]) * lds, oo = oOff + (long) r * ldo;
            if (g == null) addRow(d, src, so, out, oo); else axpyRow(d, g[t], src, so, out, oo);
        }
    }

    // ---------------------------------------------------------------- row kernels

    private static FloatVector load(MemorySegment s, long off) {
        return FloatVector.fromMemorySegment(F, s, Mem.bytes(off), Mem.ORDER);
    }

    static void copyRow(int d, MemorySegment s, long so, MemorySegment o, long oo) {
        int c = 0;
        for (int bound = F.loopBound(d); c < bound; c += L) load(s, so + c).intoMemorySegment(o, Mem.bytes(oo + c), Mem.ORDER);
        for (; c < d; c++) Mem.set(o, oo + c, Mem.get(s, so + c));
    }

    static void addRow(int d, MemorySegment s, long so, MemorySegment o, long oo) {
        int c = 0;
        for (int bound = F.loopBound(d); c < bound; c += L) {
            load(o, oo + c).add(load(s, so + c)).intoMemorySegment(o, Mem.bytes(oo + c), Mem.ORDER);
        }
        for (; c < d; c++) Mem.set(o, oo + c, Mem.get(o, oo + c) + Mem.get(s, so + c));
    }

    /** o += alpha * s, as fma per element (vector and tail alike). */
    static void axpyRow(int d, float alpha, MemorySegment s, long so, MemorySegment o, long oo) {
        FloatVector va = FloatVector.broadcast(F, alpha);
        int c = 0;
        for (int bound = F.loopBound(d); c < bound; c += L) {
            load(s, so + c).fma(va, load(o, oo + c)).intoMemorySegment(o, Mem.bytes(oo + c), Mem.ORDER);
        }
        for (; c < d; c++) Mem.set(o, oo + c, Math.fma(Mem.get(s, so + c), alpha, Mem.get(o, oo + c)));
    }

    /** Dot product: 4 accumulators over whole 4-vector blocks, then 1, one reduction, scalar tail. */
    static float dot(int d, MemorySegment a, long ao, MemorySegment b, long bo) {
        int c = 0;
        float s = 0f;
        if (d >= L) {
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int bound4 = d - d % (4 * L); c < bound4; c += 4 * L) {
                s0 = load(a, ao + c).fma(load(b, bo + c), s0);
                s1 = load(a, ao + c + L).fma(load(b, bo + c + L), s1);
                s2 = load(a, ao + c + 2 * L).fma(load(b, bo + c + 2 * L), s2);
                s3 = load(a, ao + c + 3 * L).fma(load(b, bo + c + 3 * L), s3);
            }
            for (int bound = F.loopBound(d); c < bound; c += L) s0 = load(a, ao + c).fma(load(b, bo + c), s0);
            s = CeMath.hsum(s0.add(s1).add(s2.add(s3))); // fixed lane order: reduceLanes(ADD) differs between JIT tiers
        }
        for (; c < d; c++) s = Math.fma(Mem.get(a, ao + c), Mem.get(b, bo + c), s);
        return s;
    }

    // ---------------------------------------------------------------- argument checks (shared with EmbeddingScalar)

    static int rowsAvailable(MemorySegment s, long off, int d, int ld) {
        if (d == 0) return Integer.MAX_VALUE;
        long room = Mem.floats(s) - off;
        if (room < d) return 0;
        return (int) Math.min(Integer.MAX_VALUE, (room - d) / ld + 1);
    }

    static void checkDense(String kernel, String what, MemorySegment s, long off, int ld, int d) {
        if (s == null) throw new IllegalArgumentException(kernel + ": " + what + " is null");
        if (off < 0) throw new IllegalArgumentException(kernel + ": " + what + " offset " + off + " < 0");
        if (ld < d) throw new IllegalArgumentException(kernel + ": leading dim of " + what + " " + ld + " < d = " + d);
    }

    /**
     * Checks that idx[0, n) (or the identity 0..n-1 when null) indexes rows of the operand; returns
     * the packed min/max index (0/-1 packed when n == 0).
     */
    static long checkIndex(String kernel, String what, int n, int[] idx, int rows) {
        if (n == 0) return 0xffffffffL;
        if (idx == null) {
            if (n > rows) throw new IllegalArgumentException(kernel + ": " + what + " needs " + n + " rows, has " + rows);
            return n - 1;
        }
        if (idx.length < n) throw new IllegalArgumentException(kernel + ": " + what + " index needs " + n + " entries, has " + idx.length);
        long mm = Csr.minMax(idx, 0, n);
        int lo = (int) (mm >> 32), hi = (int) mm;
        if (lo < 0 || hi >= rows) {
            throw new IllegalArgumentException(kernel + ": " + what + " index out of [0, " + rows + "): min " + lo + ", max " + hi);
        }
        return mm;
    }

    private static void checkDims(String kernel, int n, int d) {
        if (n < 0 || d < 0) throw new IllegalArgumentException(kernel + ": negative dims n = " + n + ", d = " + d);
    }

    static void checkGather(int n, int d, int[] idx, MemorySegment table, long tOff, int ldt, MemorySegment out, long oOff, int ldo) {
        checkDims("gather", n, d);
        checkDense("gather", "table", table, tOff, ldt, d);
        checkDense("gather", "out", out, oOff, ldo, d);
        checkIndex("gather", "table", n, idx, rowsAvailable(table, tOff, d, ldt));
        checkIndex("gather", "out", n, null, rowsAvailable(out, oOff, d, ldo));
    }

    static long checkScatterAdd(int n, int d, int[] idx, MemorySegment src, long sOff, int lds, MemorySegment table, long tOff, int ldt) {
        checkDims("scatterAdd", n, d);
        checkDense("scatterAdd", "src", src, sOff, lds, d);
        checkDense("scatterAdd", "table", table, tOff, ldt, d);
        checkIndex("scatterAdd", "src", n, null, rowsAvailable(src, sOff, d, lds));
        if (idx == null) throw new IllegalArgumentException("scatterAdd: idx is null");
        return checkIndex("scatterAdd", "table", n, idx, rowsAvailable(table, tOff, d, ldt));
    }

    static void checkRowDot(String kernel, int n, int d, int[] ia, MemorySegment a, long aOff, int lda, int[] ib,
                            MemorySegment b, long bOff, int ldb) {
        checkDims(kernel, n, d);
        checkDense(kernel, "a", a, aOff, lda, d);
        checkDense(kernel, "b", b, bOff, ldb, d);
        checkIndex(kernel, "a", n, ia, rowsAvailable(a, aOff, d, lda));
        checkIndex(kernel, "b", n, ib, rowsAvailable(b, bOff, d, ldb));
    }

    /** Returns the packed destination-row ranges of dA and dB. */
    static long[] checkRowDotBackward(int n, int d, int[] ia, MemorySegment a, long aOff, int lda, int[] ib, MemorySegment b,
                                      long bOff, int ldb, float[] g, MemorySegment da, long daOff, int ldda, MemorySegment db,
                                      long dbOff, int lddb) {
        String k = "rowDotBackward";
        checkRowDot(k, n, d, ia, a, aOff, lda, ib, b, bOff, ldb);
        if (g == null || g.length < n) throw new IllegalArgumentException(k + ": g needs " + n + " entries");
        long[] r = new long[2];
        if (da != null) {
            checkDense(k, "da", da, daOff, ldda, d);
            r[0] = checkIndex(k, "da", n, ia, rowsAvailable(da, daOff, d, ldda));
        }
        if (db != null) {
            checkDense(k, "db", db, dbOff, lddb, d);
            r[1] = checkIndex(k, "db", n, ib, rowsAvailable(db, dbOff, d, lddb));
        }
        return r;
    }
}
