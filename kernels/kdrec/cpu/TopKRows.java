package kdrec.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Streaming per-row top-K state for {@link TopKSimd}: a vectorised threshold filter feeding a bounded
 * candidate buffer, for a block of rows at once (the fused kernel scans each row's slice of a score
 * tile, tile after tile). One instance is a thread's scratch; it is reused across calls.
 *
 * <p><b>Keys.</b> A candidate is one {@code long}: high word = order-reversed sortable bits of the
 * score ({@code s + 0f}, so -0 and +0 tie), low word = item id. Ascending key order is exactly the
 * output order (higher score first, ties: lower id first), so ties need no special case anywhere.
 *
 * <p><b>Exactness of the filter.</b> Items arrive in ascending id. The threshold thr is only ever the
 * score of a pivot key P with at least kEff buffered keys &lt;= P. A later item with score &lt;= thr has
 * a key &gt; P (equal score, higher id), so it cannot enter the top kEff and the strict filter
 * {@code s > thr} drops only losers. Until the first compaction the row is in "fill" mode and takes
 * every non-NaN score (so -Infinity scores are still returned when fewer than k others exist).
 *
 * <p><b>Per-candidate cost</b> (calibration section 2.3: it dominates, not the scan): four vectors are
 * compared at once and tested with one {@code anyTrue}; only a hit block extracts its lane bits into
 * one long (4 x vmovmskps) and walks them. The room check is done once per hit block (the buffer keeps
 * 4 vectors of headroom). Compaction is a pivot from a 32-key sample aimed at keeping 2 kEff keys, a
 * counting pass and a branch-free keep pass; an exact quickselect to kEff is the fallback when the
 * pivot keeps too few or too many.
 */
final class TopKRows {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    private static final int BLOCK = 4 * L;
    private static final int SAMPLE = 32;

    int kEff, cap;
    long[] keys = new long[0];
    int[] cnt = new int[0];
    float[] thr = new float[0];
    boolean[] fill = new boolean[0];
    /** Row's threshold is a sampled guess, not yet proven by a compaction (see {@link #guess}). */
    boolean[] guessed = new boolean[0];
    int[] ex = new int[0];
    int[] exStart = new int[0], exCur = new int[0], exEnd = new int[0];
    private float[] top = new float[0];
    private final long[] sample = new long[SAMPLE];
    /** Float scratch owned by the drivers (row block of U, score tile / row chunk, sample scores). */
    float[] a = new float[0], c = new float[0], samp = new float[0];

    /** Capacity of a row's buffer: 4 kEff (compaction keeps about half) plus one block of headroom. */
    static int capacity(int kEff) {
        return 4 * kEff + BLOCK;
    }

    void ensure(int rows, int kEff, int aLen, int cLen, int sLen) {
        if (samp.length < sLen) samp = new float[sLen];
        this.kEff = kEff;
        this.cap = capacity(kEff);
        if (keys.length < rows * cap) keys = new long[rows * cap];
        if (cnt.length < rows) {
            cnt = new int[rows];
            thr = new float[rows];
            fill = new boolean[rows];
            guessed = new boolean[rows];
            exStart = new int[rows];
            exCur = new int[rows];
            exEnd = new int[rows];
        }
        if (a.length < aLen) a = new float[aLen];
        if (c.length < cLen) c = new float[cLen];
    }

    /** Resets rows [0, rows) for matrix rows r0.. and sorts their exclusion lists into {@link #ex}. */
    void begin(int rows, int r0, int[] ptr, int[] idx) {
        int total = ptr == null ? 0 : ptr[r0 + rows] - ptr[r0];
        if (ex.length < total) ex = new int[total];
        int p = 0;
        for (int i = 0; i < rows; i++) {
            cnt[i] = 0;
            thr[i] = Float.NEGATIVE_INFINITY;
            fill[i] = true;
            guessed[i] = false;
            exStart[i] = p;
            exCur[i] = p;
            if (ptr != null) {
                int len = ptr[r0 + i + 1] - ptr[r0 + i];
                System.arraycopy(idx, ptr[r0 + i], ex, p, len);
                Arrays.sort(ex, p, p + len);
                p += len;
            }
            exEnd[i] = p;
        }
    }

    /** Puts row i back to its initial state (fill mode, exclusion cursor at the start) for a re-scan. */
    void restart(int i) {
        cnt[i] = 0;
        thr[i] = Float.NEGATIVE_INFINITY;
        fill[i] = true;
        guessed[i] = false;
        exCur[i] = exStart[i];
    }

    /**
     * Seeds row i's threshold from sampled scores: v[off + q] is the score of item q*stride + stride/2,
     * q in [0, count). The guess g is the r-th best eligible sample (excluded and NaN samples skipped);
     * the filter becomes s &gt;= g (as s &gt; nextDown(g)), so until a compaction proves a threshold the
     * buffer holds every eligible item scoring &gt;= g. If at least kEff of them exist the answer is
     * exact; otherwise {@link #finish} reports failure and the row is re-scanned from {@link #restart}.
     * Must be called before the row's first {@link #scan}.
     */
    void guess(int i, float[] v, int off, int count, int stride, int r) {
        if (top.length < r) top = new float[r];
        float[] tp = top;
        int have = 0, ep = exStart[i], end = exEnd[i];
        for (int q = 0; q < count; q++) {
            float x = v[off + q];
            if (!(x > (have < r ? Float.NEGATIVE_INFINITY : tp[r - 1]))) continue; // NaN, -Inf, or not better
            int id = q * stride + (stride >> 1);
            while (ep < end && ex[ep] < id) ep++;
            if (ep < end && ex[ep] == id) continue;
            int j = have < r ? have++ : r - 1;
            while (j > 0 && tp[j - 1] < x) {
                tp[j] = tp[j - 1];
                j--;
            }
            tp[j] = x;
        }
        if (have < r) return;
        thr[i] = Math.nextDown(tp[r - 1]);
        fill[i] = false;
        guessed[i] = true;
    }

    /** Sets the scores of row i's excluded items in [j0, j0+nb) to NaN (never selected). */
    void maskExcluded(int i, float[] s, int off, int j0, int nb) {
        int cur = exCur[i], end = exEnd[i], lim = j0 + nb;
        while (cur < end && ex[cur] < lim) s[off + ex[cur++] - j0] = Float.NaN;
        exCur[i] = cur;
    }

    static long key(float s, int id) {
        int b = Float.floatToRawIntBits(s + 0f);
        int o = b ^ ((b >> 31) & 0x7fffffff);
        return ((long) ~o << 32) | id;
    }

    static float score(long key) {
        int o = ~(int) (key >> 32);
        return Float.intBitsToFloat(o ^ ((o >> 31) & 0x7fffffff));
    }

    /** Feeds scores s[off .. off+nb) of items j0 .. j0+nb-1 to row i. */
    void scan(int i, float[] s, int off, int nb, int j0) {
        int t = 0;
        if (fill[i]) {
            t = fillScan(i, s, off, nb, j0);
            if (t == nb) return;
        }
        int base = i * cap, limit = cap - BLOCK;
        while (true) {
            long st = strictScan(keys, base, cnt[i], limit, thr[i], s, off, t, nb, j0);
            t = (int) (st >>> 32);
            cnt[i] = (int) st;
            if (t == nb) return;
            cnt[i] = compact(i, cnt[i]);
        }
    }

    /** Fill mode: append every non-NaN score until the buffer is full; returns where it stopped. */
    private int fillScan(int i, float[] s, int off, int nb, int j0) {
        long[] kb = keys;
        int base = i * cap, n = cnt[i], full = cap;
        for (int t = 0; t < nb; t++) {
            if (n == full) {
                cnt[i] = compact(i, n);
                return t;
            }
            float v = s[off + t];
            kb[base + n] = key(v, j0 + t);
            n += v == v ? 1 : 0;
        }
        cnt[i] = n;
        return nb;
    }

    /**
     * Appends every score &gt; th from position t on. Stops before a hit block that might not fit
     * (count &gt; limit), so the loop holds no call (vectors and masks stay in registers); the caller
     * compacts and resumes there. Returns (position &lt;&lt; 32) | count.
     */
    private static long strictScan(long[] kb, int base, int n, int limit, float th, float[] s, int off, int t, int nb,
                                   int j0) {
        FloatVector tv = FloatVector.broadcast(F, th);
        for (; t <= nb - BLOCK; t += BLOCK) {
            int o = off + t;
            VectorMask<Float> m0 = FloatVector.fromArray(F, s, o).compare(VectorOperators.GT, tv);
            VectorMask<Float> m1 = FloatVector.fromArray(F, s, o + L).compare(VectorOperators.GT, tv);
            VectorMask<Float> m2 = FloatVector.fromArray(F, s, o + 2 * L).compare(VectorOperators.GT, tv);
            VectorMask<Float> m3 = FloatVector.fromArray(F, s, o + 3 * L).compare(VectorOperators.GT, tv);
            if (m0.or(m1).or(m2).or(m3).anyTrue()) {
                if (n > limit) return ((long) t << 32) | n;
                long bits = m0.toLong() | (m1.toLong() << L) | (m2.toLong() << (2 * L)) | (m3.toLong() << (3 * L));
                n = append(kb, base, n, s, o, j0 + t, bits);
            }
        }
        for (; t <= nb - L; t += L) {
            VectorMask<Float> m0 = FloatVector.fromArray(F, s, off + t).compare(VectorOperators.GT, tv);
            if (m0.anyTrue()) {
                if (n > limit) return ((long) t << 32) | n;
                n = append(kb, base, n, s, off + t, j0 + t, m0.toLong());
            }
        }
        for (; t < nb; t++) {
            float v = s[off + t];
            if (v > th) {
                if (n > limit) return ((long) t << 32) | n;
                kb[base + n++] = key(v, j0 + t);
            }
        }
        return ((long) nb << 32) | n;
    }

    private static int append(long[] kb, int base, int n, float[] s, int o, int id0, long bits) {
        do {
            int z = Long.numberOfTrailingZeros(bits);
            kb[base + n++] = key(s[o + z], id0 + z);
            bits &= bits - 1;
        } while (bits != 0);
        return n;
    }

    /** Shrinks row i's buffer of n keys, raises its threshold and leaves fill mode; returns the new count. */
    int compact(int i, int n) {
        long[] kb = keys;
        int base = i * cap, k = kEff;
        fill[i] = false;
        guessed[i] = false; // the pivot below is a buffered key: the new threshold is proven
        for (int t = 0; t < SAMPLE; t++) sample[t] = kb[base + (int) ((long) t * n / SAMPLE)];
        insertionSort(sample, 0, SAMPLE - 1);
        int rank = (int) Math.min(SAMPLE - 1, (long) 2 * k * SAMPLE / n);
        long pivot = sample[rank];
        int c = 0;
        for (int t = base; t < base + n; t++) c += kb[t] <= pivot ? 1 : 0;
        // keep the pivot only if it makes real progress and leaves a block of headroom
        if (c >= k && c <= Math.min(n - (n >> 2), cap - BLOCK)) {
            int w = base;
            for (int t = base; t < base + n; t++) {
                long x = kb[t];
                kb[w] = x;
                w += x <= pivot ? 1 : 0;
            }
            thr[i] = score(pivot);
            return c;
        }
        quickselect(kb, base, base + n - 1, base + k - 1);
        thr[i] = score(kb[base + k - 1]);
        return k;
    }

    /**
     * Writes row i's best min(kEff, count) keys, ordered, to output row r; pads with (-1, -Inf).
     * Returns false, writing nothing, when a guessed threshold kept fewer than kEff items: the caller
     * must {@link #restart} the row and scan it again.
     */
    boolean finish(int i, int[] outIdx, float[] outScore, int r, int k) {
        int base = i * cap, n = cnt[i];
        if (guessed[i] && n < kEff) return false;
        if (n > kEff) {
            quickselect(keys, base, base + n - 1, base + kEff - 1);
            n = kEff;
        }
        Arrays.sort(keys, base, base + n);
        for (int j = 0; j < n; j++) {
            long x = keys[base + j];
            outIdx[r * k + j] = (int) x;
            outScore[r * k + j] = score(x);
        }
        TopKArgs.fillEmpty(outIdx, outScore, r, k, n);
        return true;
    }

    /** Rearranges a[lo..hi] so that a[kth] holds the value of that rank, smaller keys before it. */
    static void quickselect(long[] a, int lo, int hi, int kth) {
        while (hi - lo > 16) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] < a[lo]) swap(a, mid, lo);
            if (a[hi] < a[lo]) swap(a, hi, lo);
            if (a[hi] < a[mid]) swap(a, hi, mid);
            long p = a[mid];
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < p) i++;
                while (a[j] > p) j--;
                if (i <= j) swap(a, i++, j--);
            }
            if (kth <= j) hi = j;
            else if (kth >= i) lo = i;
            else return;
        }
        insertionSort(a, lo, hi);
    }

    static void insertionSort(long[] a, int lo, int hi) {
        for (int i = lo + 1; i <= hi; i++) {
            long x = a[i];
            int j = i - 1;
            while (j >= lo && a[j] > x) {
                a[j + 1] = a[j];
                j--;
            }
            a[j + 1] = x;
        }
    }

    private static void swap(long[] a, int i, int j) {
        long t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
