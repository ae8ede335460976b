package kdrec.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Streaming per-row top-K state for {@link TopKSimd}: per row an inclusive lower bound {@code lo} and a
 * bounded candidate buffer (scores and item ids, side by side), for a block of rows at once. The fused
 * kernel appends the lanes its epilogue marked ({@link TopKTile}); a materialised score slice goes
 * through {@link #scan}: a vector compare against {@code lo} and a compress-store of the passing
 * scores and their ids ({@link #append}), branch-free. One instance is a thread's scratch, reused
 * across calls.
 *
 * <p><b>Keys.</b> The final ranking uses one {@code long} per candidate: high word = order-reversed
 * sortable bits of the score ({@code s + 0f}, so -0 and +0 tie), low word = item id. Ascending key
 * order is exactly the output order (higher score first, ties: lower id first).
 *
 * <p><b>Exactness of the filter.</b> Items arrive in ascending id. The bound is -Infinity at first
 * (every non-NaN score enters, so -Infinity scores are still returned when fewer than k others exist),
 * a sampled guess g ({@link #guess}: the row keeps every item scoring &gt;= g and is re-scanned if
 * fewer than kEff did), or nextUp(v) once at least kEff buffered eligible entries score &gt;= v
 * ({@link #compact}). A later item scoring &lt;= v is beaten by all of those (equal scores: they have
 * lower ids), so it cannot enter the top kEff: the filter {@code s >= lo} drops only losers. NaN fails
 * every compare and is never selected.
 *
 * <p><b>Exclusions</b> are not tested per item: excluded items may enter the buffer and are purged
 * at each compaction and at the end, before anything is ranked ({@link #purge}). The entries appended
 * since the last purge are in ascending id order, so one merge walk against the row's sorted exclusion
 * list removes them.
 *
 * <p><b>Compaction</b> (rare: the buffer holds 4 kEff) keeps the entries scoring at least a pivot
 * taken from 32 samples and aimed at 2 kEff survivors: a vector count and a compress-store keep pass;
 * an exact quickselect to kEff is the fallback. {@link #finish} thins the same way to about 1.25 kEff
 * before sorting the keys (a quickselect over ~300 keys measured ~3 us per row, mostly mispredicts).
 */
final class TopKRows {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final VectorSpecies<Integer> I = Simd.I;
    private static final int L = Simd.LANES;
    private static final int SAMPLE = 32;

    int kEff, cap;
    /** Candidate scores and ids; row i owns [i*cap, i*cap + cnt[i]). */
    float[] cs = new float[0];
    int[] ci = new int[0];
    int[] cnt = new int[0];
    /** Inclusive lower bound of row i's filter (see the class comment). */
    float[] lo = new float[0];
    /** Row's bound is a sampled guess, not yet proven by a compaction (see {@link #guess}). */
    boolean[] guessed = new boolean[0];
    /** Entries [i*cap, i*cap + clean[i]) have been checked against the exclusions. */
    int[] clean = new int[0];
    int[] ex = new int[0];
    int[] exStart = new int[0], exCur = new int[0], exEnd = new int[0];
    private long[] keys = new long[0], keysTmp = new long[0];
    private final TopKGuess guesser = new TopKGuess();
    private final float[] smp = new float[SAMPLE];
    /** Float scratch owned by the drivers (row block of U, score tile / row chunk, sample scores). */
    float[] a = new float[0], c = new float[0], samp = new float[0];
    /** The micro-tile buffer of {@link TopKTile#run}. */
    final float[] tile = new float[TopKTile.TILE];
    /** Rows of the micro-tile with hits and their lane bits ({@link TopKTile}). */
    final long[] hitBits = new long[6];
    final int[] hitRow = new int[6];

    /**
     * Capacity of a row's buffer: 4 kEff (compaction keeps about half) plus room for one full
     * micro-kernel panel ({@link TopKTile} appends up to NR per call) and one vector.
     */
    static int capacity(int kEff) {
        return 4 * kEff + ScoreTile.NR + L;
    }

    void ensure(int rows, int kEff, int aLen, int cLen, int sLen) {
        if (samp.length < sLen) samp = new float[sLen];
        this.kEff = kEff;
        this.cap = capacity(kEff);
        if (cs.length < rows * cap) {
            cs = new float[rows * cap];
            ci = new int[rows * cap];
        }
        if (keys.length < cap) {
            keys = new long[cap];
            keysTmp = new long[cap];
        }
        if (cnt.length < rows) {
            cnt = new int[rows];
            lo = new float[rows];
            guessed = new boolean[rows];
            clean = new int[rows];
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
            exStart[i] = p;
            if (ptr != null) {
                int len = ptr[r0 + i + 1] - ptr[r0 + i];
                System.arraycopy(idx, ptr[r0 + i], ex, p, len);
                Arrays.sort(ex, p, p + len);
                p += len;
            }
            exEnd[i] = p;
            restart(i);
        }
    }

    /** Puts row i back to its initial state (empty, bound -Infinity, exclusion cursor at the start). */
    void restart(int i) {
        cnt[i] = 0;
        clean[i] = 0;
        lo[i] = Float.NEGATIVE_INFINITY;
        guessed[i] = false;
        exCur[i] = exStart[i];
    }

    /**
     * Seeds row i's bound from sampled scores: v[off + q] is the score of item q*stride + stride/2,
     * q in [0, count). The guess g is the r-th best eligible sample (excluded and NaN samples skipped);
     * until a compaction proves a bound the buffer holds every eligible item scoring &gt;= g. If at
     * least kEff of them exist the answer is exact; otherwise {@link #finish} reports failure and the
     * row is re-scanned from {@link #restart}. Must be called before the row's first append.
     */
    void guess(int i, float[] v, int off, int count, int stride, int r) {
        float g = guesser.guess(v, off, count, stride, r, ex, exStart[i], exEnd[i]);
        if (g != g) return;
        lo[i] = g;
        guessed[i] = true;
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

    /**
     * Appends the lanes of v with v &gt;= lo (ids id0 + lane) at position p of the buffers; returns the
     * new end. Writes a whole vector at p in both arrays, so p + L must fit.
     */
    static int append(float[] cs, int[] ci, int p, FloatVector v, FloatVector lo, int id0) {
        VectorMask<Float> m = v.compare(VectorOperators.GE, lo);
        v.compress(m).intoArray(cs, p);
        IntVector.broadcast(I, id0).addIndex(1).compress(m.cast(I)).intoArray(ci, p);
        return p + m.trueCount();
    }

    /** {@link #append} of the lanes of v with id0 + lane &lt; lim only (a partial last panel). */
    static int appendBelow(float[] cs, int[] ci, int p, FloatVector v, FloatVector lo, int id0, int lim) {
        IntVector ids = IntVector.broadcast(I, id0).addIndex(1);
        VectorMask<Float> m = v.compare(VectorOperators.GE, lo).and(ids.compare(VectorOperators.LT, lim).cast(F));
        v.compress(m).intoArray(cs, p);
        ids.compress(m.cast(I)).intoArray(ci, p);
        return p + m.trueCount();
    }

    /** Feeds scores s[off .. off+nb) of items j0 .. j0+nb-1 to row i. */
    void scan(int i, float[] s, int off, int nb, int j0) {
        int base = i * cap, t = 0;
        while (t < nb) {
            int n = cnt[i];
            int room = (cap - L - n) / L; // whole vectors that fit (each appends at most L)
            if (room <= 0) {
                compact(i);
                continue;
            }
            int end = Math.min(nb, t + room * L);
            FloatVector lv = FloatVector.broadcast(F, lo[i]);
            int p = base + n;
            for (; t <= end - L; t += L) p = append(cs, ci, p, FloatVector.fromArray(F, s, off + t), lv, j0 + t);
            if (t < end) { // the slice's last partial vector
                float th = lo[i];
                for (; t < end; t++) {
                    float v = s[off + t];
                    cs[p] = v;
                    ci[p] = j0 + t;
                    p += v >= th ? 1 : 0;
                }
            }
            cnt[i] = p - base;
        }
    }

    /** Makes room for {@code need} more entries in row i's buffer (need &lt;= cap - 2 kEff - L). */
    void room(int i, int need) {
        if (cnt[i] + need > cap) compact(i);
    }

    /** Drops row i's excluded entries appended since the last purge; returns the new count. */
    int purge(int i) {
        int base = i * cap, n = cnt[i], from = clean[i], cur = exCur[i], end = exEnd[i];
        if (cur < end) {
            int w = base + from;
            for (int t = base + from; t < base + n; t++) {
                int id = ci[t];
                while (cur < end && ex[cur] < id) cur++;
                cs[w] = cs[t];
                ci[w] = id;
                w += (cur < end && ex[cur] == id) ? 0 : 1;
            }
            n = w - base;
            exCur[i] = cur;
        }
        cnt[i] = n;
        clean[i] = n;
        return n;
    }

    /** Loads row i's n entries as keys into {@link #keys}[0, n). */
    private long[] keysOf(int i, int n) {
        long[] kb = keys;
        int base = i * cap;
        for (int t = 0; t < n; t++) kb[t] = key(cs[base + t], ci[base + t]);
        return kb;
    }

    /**
     * A score v such that about {@code want} of row i's n entries score &gt;= v: the matching rank of
     * 32 evenly spaced entries. Only a guess; callers count.
     */
    private float pivot(int i, int n, int want) {
        float[] sm = smp;
        int base = i * cap;
        for (int t = 0; t < SAMPLE; t++) {
            float x = cs[base + (int) ((long) t * n / SAMPLE)];
            int j = t;
            while (j > 0 && sm[j - 1] < x) { // descending
                sm[j] = sm[j - 1];
                j--;
            }
            sm[j] = x;
        }
        return sm[(int) Math.min(SAMPLE - 1, (long) want * SAMPLE / n)];
    }

    /** Number of row i's first n entries scoring &gt;= v. */
    private int countAtLeast(int i, int n, float v) {
        int base = i * cap, c = 0, t = 0;
        FloatVector vv = FloatVector.broadcast(F, v);
        for (; t <= n - L; t += L) c += FloatVector.fromArray(F, cs, base + t).compare(VectorOperators.GE, vv).trueCount();
        for (; t < n; t++) c += cs[base + t] >= v ? 1 : 0;
        return c;
    }

    /** Keeps row i's entries scoring &gt;= v (in place, order kept); returns their number. */
    private int keepAtLeast(int i, int n, float v) {
        int base = i * cap, w = base, t = 0;
        FloatVector vv = FloatVector.broadcast(F, v);
        // a compress-store at w <= base + t only overwrites the vector just loaded
        for (; t <= n - L; t += L) {
            FloatVector x = FloatVector.fromArray(F, cs, base + t);
            VectorMask<Float> m = x.compare(VectorOperators.GE, vv);
            x.compress(m).intoArray(cs, w);
            IntVector.fromArray(I, ci, base + t).compress(m.cast(I)).intoArray(ci, w);
            w += m.trueCount();
        }
        for (; t < n; t++) {
            float x = cs[base + t];
            int id = ci[base + t];
            cs[w] = x;
            ci[w] = id;
            w += x >= v ? 1 : 0;
        }
        return w - base;
    }

    /** The bound after keeping at least kEff eligible entries scoring &gt;= v: nextUp(v) (NaN, which nothing reaches, for +Inf). */
    private static float above(float v) {
        return v == Float.POSITIVE_INFINITY ? Float.NaN : Math.nextUp(v);
    }

    /**
     * Shrinks row i's buffer (exclusions purged first) and raises its bound: keeps the entries scoring
     * &gt;= a pivot score aimed at 2 kEff survivors when that keeps at least kEff and makes progress,
     * else exactly the kEff best keys.
     */
    void compact(int i) {
        int n = purge(i), k = kEff;
        if (n <= 2 * k) return; // purging made enough room (capacity is 4 kEff + NR + L)
        float v = pivot(i, n, 2 * k);
        int c = countAtLeast(i, n, v);
        if (c >= k && c <= Math.min(n - (n >> 2), cap - ScoreTile.NR - 2 * L)) {
            cnt[i] = clean[i] = keepAtLeast(i, n, v);
            lo[i] = above(v);
        } else {
            long[] kb = keysOf(i, n);
            quickselect(kb, 0, n - 1, k - 1);
            int base = i * cap;
            for (int t = 0; t < k; t++) {
                cs[base + t] = score(kb[t]);
                ci[base + t] = (int) kb[t];
            }
            cnt[i] = clean[i] = k;
            lo[i] = above(score(kb[k - 1]));
        }
        guessed[i] = false; // at least kEff buffered eligible entries reach the new bound: it is proven
    }

    /**
     * Writes row i's best min(kEff, count) entries, ordered, to output row r; pads with (-1, -Inf).
     * Returns false, writing nothing, when a guessed bound kept fewer than kEff items: the caller
     * must {@link #restart} the row and scan it again. Thins the buffer to about 1.25 kEff with a
     * pivot score first (vector passes), then sorts the keys.
     */
    boolean finish(int i, int[] outIdx, float[] outScore, int r, int k) {
        int n = purge(i);
        if (guessed[i] && n < kEff) return false;
        int want = kEff + (kEff >> 2) + L;
        if (n > want + (want >> 1)) {
            float v = pivot(i, n, want);
            if (countAtLeast(i, n, v) >= kEff) n = keepAtLeast(i, n, v);
        }
        long[] kb = keysOf(i, n);
        LongRadix.sort(kb, n, keysTmp); // large k: a radix sort (the comparison sort took ~30 % of UnKD's lists)
        n = Math.min(n, kEff);
        for (int j = 0; j < n; j++) {
            long x = kb[j];
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
