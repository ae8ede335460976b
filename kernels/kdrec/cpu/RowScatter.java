package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * The item side of a gather-dot backward: {@code di[idx[j]] += g[j] * U[r]} for every entry j of
 * every CSR row r, multi-threaded and deterministic. Every di element is updated by one fma per
 * entry in increasing entry order, whatever the thread count (so the result equals one
 * single-threaded pass over the entries, bit for bit).
 *
 * <p>How: a two-level counting sort by item. First entries are bucketed by item range (per row chunk
 * a histogram, then a scatter of (item, row, g) into the buckets, chunk by chunk, so each bucket lists
 * its entries in entry order); then threads own whole buckets, sort each bucket's entries by item with
 * a bucket-local (L1-sized) counting sort, and accumulate each item's entries in registers: one load
 * and one store of its di row, U rows from the batch's user rows. A bucket covers ~128 KB of di.
 * Measured at the RCE-KD shape (390k entries, 41k items, d = 20, one thread): 25-45 % less time than
 * read-modify-writing di once per entry, and it replaced a full counting sort by item that ran on one
 * thread (a random write per entry into nnz-sized arrays plus a prefix over all items).
 *
 * <p>When each thread's share of di fits its L2 (a small item table: HSTU's sampled softmax over a few
 * thousand items), the sort costs more than it saves and the direct path runs instead: threads own
 * item ranges and read-modify-write di once per entry, in entry order (same bits; {@link #direct}).
 */
public final class RowScatter {
    private RowScatter() {}

    /**
     * Per-thread scratch: the caller's holds the bucketed entries (the workers write disjoint parts of
     * it during one call); every thread's holds its bucket-local sort.
     */
    private static final class Scratch {
        int[] item = new int[0], row = new int[0], count = new int[0], next = new int[0], sortedRow = new int[0];
        float[] coef = new float[0], sortedCoef = new float[0];

        void fit(int nnz) {
            if (item.length < nnz) {
                int c = Math.max(nnz, item.length * 3 / 2);
                item = new int[c];
                row = new int[c];
                coef = new float[c];
            }
        }

        void fitLocal(int items, int n) {
            if (count.length < items + 1) {
                count = new int[items + 1];
                next = new int[items];
            }
            if (sortedRow.length < n) {
                int c = Math.max(n, sortedRow.length * 3 / 2);
                sortedRow = new int[c];
                sortedCoef = new float[c];
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
        if (direct(nnz, nItems, d)) {
            applyDirect(m, d, u, uOff, ldu, ptr, idx, g, nItems, di, diOff, lddi);
            return;
        }
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
        int per = 1 << shift;
        Parallel.forRange(parts, 1, 1, (lo, hi) -> {
            Scratch local = SCRATCH.get();
            for (int t = lo; t < hi; t++) {
                for (int bk = cut[t]; bk < cut[t + 1]; bk++) {
                    int from = start[bk], to = start[bk + 1];
                    if (from == to) continue;
                    local.fitLocal(per, to - from);
                    applyBucket(d, u, uOff, ldu, item, row, coef, from, to, bk << shift, Math.min(per, nItems - (bk << shift)),
                            local, di, diOff, lddi);
                }
            }
        });
    }

    /** Which way {@link #apply} goes: chosen by the shape ({@code AUTO}), or forced (tests, benchmarks). */
    public enum Path { AUTO, DIRECT, BUCKETED }

    private static volatile Path path = Path.AUTO;

    /** Forces a path for every later call ({@code AUTO}: by the shape). Intended for tests and benchmarks. */
    public static void setPath(Path p) {
        path = java.util.Objects.requireNonNull(p);
    }

    /**
     * Bytes of di a thread may own on the direct path: each entry's read-modify-write of a di row must
     * hit a private cache. Measured on the 2-core AVX-512 box (1 MB L2 a core; SampledCeBench, d 64,
     * 3.8 M entries, native tables): direct 17-22 % faster with 0.4-0.8 MB a thread, 3-10 % slower
     * at 1.5 MB, 18 % slower at 3 MB; at RCE-KD's item side (41,000 x 20 floats, 1.6 MB a thread)
     * 40-75 % slower (PairCeBench).
     */
    private static final long DIRECT_BYTES = 1L << 20;

    /** Whether the direct path serves this shape: see {@link #applyDirect}. */
    static boolean direct(int nnz, int nItems, int d) {
        Path p = path;
        if (p != Path.AUTO) return p == Path.DIRECT;
        return (long) nItems * d * Float.BYTES <= DIRECT_BYTES * directParts(nnz);
    }

    private static int directParts(int nnz) {
        return Math.max(1, Math.min(Parallel.threads(), nnz / 16_384));
    }

    /**
     * The direct path: threads own item ranges of about equal entry counts, and each walks every row in
     * order and applies its range's entries straight to di (one read-modify-write of a di row per
     * entry, the batch's U row hot in L1). No bucketing and no sort; every di element still takes one
     * fma per entry in entry order, so the bits equal the bucketed path's. Each thread reads all of idx
     * (a branch-free filter into a row-long list).
     */
    private static void applyDirect(int m, int d, MemorySegment u, long uOff, int ldu, int[] ptr, int[] idx, float[] g, int nItems,
                                    MemorySegment di, long diOff, int lddi) {
        int parts = directParts(ptr[m] - ptr[0]);
        int[] cut = parts == 1 ? new int[] {0, nItems} : itemCuts(m, ptr, idx, nItems, parts);
        int maxRow = 0;
        for (int r = 0; r < m; r++) maxRow = Math.max(maxRow, ptr[r + 1] - ptr[r]);
        int longest = maxRow;
        Parallel.forRange(parts, 1, 1, (lo, hi) -> {
            Scratch sc = SCRATCH.get();
            sc.fitLocal(0, longest);
            int[] list = sc.sortedRow;
            for (int t = lo; t < hi; t++) {
                int a = cut[t];
                long span = cut[t + 1] - a;
                if (span == 0) continue;
                for (int r = 0; r < m; r++) {
                    int from = ptr[r], to = ptr[r + 1];
                    if (from == to) continue;
                    long ur = uOff + (long) r * ldu;
                    if (parts == 1) {
                        for (int j = from; j < to; j++) EmbeddingSimd.axpyRow(d, g[j], u, ur, di, diOff + (long) idx[j] * lddi);
                        continue;
                    }
                    int n = 0;
                    for (int j = from; j < to; j++) { // keep j when idx[j] - a, unsigned, is below span
                        list[n] = j;
                        n += (int) ((((idx[j] - a) & 0xFFFF_FFFFL) - span) >>> 63);
                    }
                    for (int q = 0; q < n; q++) {
                        int j = list[q];
                        EmbeddingSimd.axpyRow(d, g[j], u, ur, di, diOff + (long) idx[j] * lddi);
                    }
                }
            }
        });
    }

    /**
     * Item cuts [0 = c0 &lt; ... &lt; c_parts = nItems) giving each part about the same number of entries,
     * from a strided sample of the entries (the cuts only balance the work: any cuts give the same bits).
     */
    private static int[] itemCuts(int m, int[] ptr, int[] idx, int nItems, int parts) {
        int from = ptr[0], nnz = ptr[m] - from, buckets = Math.min(nItems, 4096);
        int stride = Math.max(1, nnz / 65_536);
        long[] count = new long[buckets + 1];
        for (int j = from; j < from + nnz; j += stride) count[(int) ((long) idx[j] * buckets / nItems) + 1]++;
        for (int b = 0; b < buckets; b++) count[b + 1] += count[b];
        int[] cut = new int[parts + 1];
        for (int t = 1, b = 0; t < parts; t++) {
            long want = count[buckets] * t / parts;
            while (b < buckets && count[b + 1] <= want) b++;
            cut[t] = Math.max(cut[t - 1], (int) (((long) b * nItems + buckets - 1) / buckets)); // first item of bucket b
        }
        cut[parts] = nItems;
        return cut;
    }

    /**
     * One bucket (items [base, base+items)): a stable counting sort of its entries by item, then each
     * item's entries accumulated into its di row in registers.
     */
    private static void applyBucket(int d, MemorySegment u, long uOff, int ldu, int[] item, int[] row, float[] coef, int from, int to,
                                    int base, int items, Scratch sc, MemorySegment di, long diOff, int lddi) {
        int[] cnt = sc.count, next = sc.next, sRow = sc.sortedRow;
        float[] sCoef = sc.sortedCoef;
        java.util.Arrays.fill(cnt, 0, items + 1, 0);
        for (int p = from; p < to; p++) cnt[item[p] - base + 1]++;
        for (int i = 0; i < items; i++) cnt[i + 1] += cnt[i];
        System.arraycopy(cnt, 0, next, 0, items);
        for (int p = from; p < to; p++) {
            int q = next[item[p] - base]++;
            sRow[q] = row[p];
            sCoef[q] = coef[p];
        }
        for (int i = 0; i < items; i++) {
            if (cnt[i] != cnt[i + 1]) RowAccumulate.add(d, u, uOff, ldu, sRow, sCoef, cnt[i], cnt[i + 1], di, diOff + (long) (base + i) * lddi);
        }
    }
}
