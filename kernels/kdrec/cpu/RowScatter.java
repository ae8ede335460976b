package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The item side of a gather-dot backward: {@code di[idx[j]] += g[j] * U[r]} for every entry j of
 * every CSR row r, multi-threaded and deterministic. Every di element is updated by one fma per
 * entry in increasing entry order, whatever the thread count (so the result equals one
 * single-threaded pass over the entries, bit for bit).
 *
 * <p>How: entries are first bucketed by item range (one radix pass: per row chunk a histogram, then
 * a scatter of (item, row, g) into the buckets, chunk by chunk, so each bucket lists its entries in
 * entry order); then threads own whole buckets and apply them. A bucket covers ~128 KB of di, which
 * stays in L2 while its entries land on it in random order. This replaced a full counting sort by
 * item that ran on one thread (a random write per entry into nnz-sized arrays plus a prefix over all
 * items).
 */
final class RowScatter {
    private RowScatter() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** 4-float species for the rest of a row after the full vectors (d = 20 at 16 lanes: 16 + 4). */
    private static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;

    /** Caller-thread scratch (the workers only write disjoint parts of it during one call). */
    private static final class Scratch {
        int[] item = new int[0], row = new int[0];
        float[] coef = new float[0];

        void fit(int nnz) {
            if (item.length < nnz) {
                int c = Math.max(nnz, item.length * 3 / 2);
                item = new int[c];
                row = new int[c];
                coef = new float[c];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * di[idx[j]] += g[j] * U[r] for j in [ptr[r], ptr[r+1]), r &lt; m; nItems = max id + 1. Arguments are
     * checked by the caller.
     */
    static void apply(int m, int d, MemorySegment u, long uOff, int ldu, int[] ptr, int[] idx, float[] g, int nItems,
                      MemorySegment di, long diOff, int lddi) {
        int nnz = ptr[m] - ptr[0];
        if (nnz == 0 || d == 0) return;
        int shift = 31 - Integer.numberOfLeadingZeros(Math.max(1, (128 * 1024 / Float.BYTES) / d));
        int buckets = ((nItems - 1) >>> shift) + 1;
        int chunks = Math.max(1, Math.min(Parallel.threads(), nnz / 16_384));
        // row chunks of about equal entry counts (fixed here, so passes 1 and 2 see the same chunks)
        int[] rows = new int[chunks + 1];
        for (int c = 1, r = 0; c < chunks; c++) {
            long want = ptr[0] + (long) nnz * c / chunks;
            while (r < m && ptr[r] < want) r++;
            rows[c] = r;
        }
        rows[chunks] = m;
        int[][] count = new int[chunks][buckets];
        // pass 1: per row chunk, entries per bucket
        Parallel.forRange(chunks, 1, 1, (lo, hi) -> {
            for (int c = lo; c < hi; c++) {
                int[] cnt = count[c];
                for (int j = ptr[rows[c]], e = ptr[rows[c + 1]]; j < e; j++) cnt[idx[j] >>> shift]++;
            }
        });
        // bucket b of chunk c starts after all earlier buckets and after bucket b of the earlier chunks
        int[] start = new int[buckets + 1];
        int[][] at = new int[chunks][buckets];
        int pos = 0;
        for (int b = 0; b < buckets; b++) {
            start[b] = pos;
            for (int c = 0; c < chunks; c++) {
                at[c][b] = pos;
                pos += count[c][b];
            }
        }
        start[buckets] = pos;
        Scratch sc = SCRATCH.get();
        sc.fit(nnz);
        int[] item = sc.item, row = sc.row;
        float[] coef = sc.coef;
        // pass 2: scatter (item, row, g) into the buckets, chunk by chunk in entry order
        Parallel.forRange(chunks, 1, 1, (lo, hi) -> {
            for (int c = lo; c < hi; c++) {
                int[] next = at[c];
                for (int r = rows[c]; r < rows[c + 1]; r++) {
                    for (int j = ptr[r], e = ptr[r + 1]; j < e; j++) {
                        int it = idx[j], p = next[it >>> shift]++;
                        item[p] = it;
                        row[p] = r;
                        coef[p] = g[j];
                    }
                }
            }
        });
        // pass 3: threads own contiguous bucket ranges of about equal entry counts
        int parts = Math.max(1, Math.min(chunks, buckets));
        int[] cut = new int[parts + 1];
        for (int t = 1, b = 0; t < parts; t++) {
            long want = (long) nnz * t / parts;
            while (b < buckets && start[b + 1] <= want) b++;
            cut[t] = Math.max(cut[t - 1], b);
        }
        cut[parts] = buckets;
        Parallel.forRange(parts, 1, 1, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                addRows(d, u, uOff, ldu, item, row, coef, start[cut[t]], start[cut[t + 1]], di, diOff, lddi);
            }
        });
    }

    /** di[item[p]] += coef[p] * U[row[p]] for p in [from, to), in p order. */
    private static void addRows(int d, MemorySegment u, long uOff, int ldu, int[] item, int[] row, float[] coef, int from, int to,
                                MemorySegment di, long diOff, int lddi) {
        int dv = F.loopBound(d), d4 = dv + ((d - dv) & ~3);
        long ub = Mem.bytes(uOff), ldub = Mem.bytes(ldu), db = Mem.bytes(diOff), lddb = Mem.bytes(lddi);
        for (int p = from; p < to; p++) {
            long us = ub + row[p] * ldub, ds = db + item[p] * lddb;
            float w = coef[p];
            FloatVector vw = FloatVector.broadcast(F, w);
            for (int k = 0; k < dv; k += L) {
                long kb = Mem.bytes(k);
                FloatVector.fromMemorySegment(F, u, us + kb, Mem.ORDER)
                        .fma(vw, FloatVector.fromMemorySegment(F, di, ds + kb, Mem.ORDER)).intoMemorySegment(di, ds + kb, Mem.ORDER);
            }
            if (d4 != dv) rest4(u, us, di, ds, w, dv, d4);
            for (int k = d4; k < d; k++) {
                long kb = Mem.bytes(k);
                di.set(Mem.F32, ds + kb, Math.fma(u.get(Mem.F32, us + kb), w, di.get(Mem.F32, ds + kb)));
            }
        }
    }

    private static void rest4(MemorySegment u, long us, MemorySegment di, long ds, float w, int from, int to) {
        FloatVector vw = FloatVector.broadcast(F4, w);
        for (int k = from; k < to; k += 4) {
            long kb = Mem.bytes(k);
            FloatVector.fromMemorySegment(F4, u, us + kb, Mem.ORDER)
                    .fma(vw, FloatVector.fromMemorySegment(F4, di, ds + kb, Mem.ORDER)).intoMemorySegment(di, ds + kb, Mem.ORDER);
        }
    }
}
