package kdrec.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sampled guess of {@link TopKRows#guess}: the r-th best eligible score among evenly spaced
 * samples of a row (sample q is item q*stride + stride/2; excluded ids, NaN and -Infinity skipped).
 * One instance per TopKRows (its scratch).
 */
final class TopKGuess {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final VectorSpecies<Integer> I = Simd.I;
    private static final int L = Simd.LANES;

    private float[] top = new float[0], gv = new float[0];
    private int[] gq = new int[0];

    /**
     * The r-th best eligible sample of v[off .. off+count), or NaN when fewer than r are eligible;
     * ex[ep .. end) are the row's excluded ids, sorted.
     */
    float guess(float[] v, int off, int count, int stride, int r, int[] ex, int ep, int end) {
        float g = r <= L && count % L == 0 ? vector(v, off, count, stride, r, ex, ep, end) : Float.NaN;
        return g == g ? g : scalar(v, off, count, stride, r, ex, ep, end);
    }

    /**
     * The r-th best eligible sample (NaN: none, or fewer than r eligible): vector pass 1 takes the
     * lane-wise maxima, whose r-th best g0 is at most the r-th best sample (r distinct samples reach
     * it); pass 2 compress-stores the few samples &gt;= g0 (about 1 % of them); the exact r-th best
     * among those, exclusions skipped, is the answer when at least r of them are eligible. NaN also
     * when that fails (many excluded), and the caller falls back to {@link #scalar}.
     */
    private float vector(float[] v, int off, int count, int stride, int r, int[] ex, int ep, int end) {
        FloatVector mx = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int q = 0; q < count; q += L) {
            FloatVector x = FloatVector.fromArray(F, v, off + q);
            mx = mx.blend(x, x.compare(VectorOperators.GT, mx)); // NaN never wins
        }
        float[] tp = top(L);
        mx.intoArray(tp, 0);
        insertionSortDesc(tp, L);
        float g0 = tp[r - 1];
        if (g0 == Float.NEGATIVE_INFINITY) return Float.NaN;
        if (gq.length < count) {
            gv = new float[count];
            gq = new int[count];
        }
        FloatVector gb = FloatVector.broadcast(F, g0);
        int c = 0;
        for (int q = 0; q < count; q += L) {
            FloatVector x = FloatVector.fromArray(F, v, off + q);
            VectorMask<Float> m = x.compare(VectorOperators.GE, gb);
            x.compress(m).intoArray(gv, c);
            IntVector.broadcast(I, q).addIndex(1).compress(m.cast(I)).intoArray(gq, c);
            c += m.trueCount();
        }
        // exact r-th best of the candidates (ascending sample index, so the exclusion cursor walks forward)
        tp = top(r);
        int have = 0;
        float worst = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < c; e++) {
            float x = gv[e];
            if (!(x > worst)) continue;
            int id = gq[e] * stride + (stride >> 1);
            while (ep < end && ex[ep] < id) ep++;
            if (ep < end && ex[ep] == id) continue;
            worst = insertTop(tp, have < r ? have++ : r - 1, x, r, have);
        }
        return have < r ? Float.NaN : tp[r - 1];
    }

    /**
     * Above this rank the plain scan collects the eligible samples and selects the r-th best in linear
     * time: its insertion into a sorted top list costs O(r) a sample (UnKD's per-group lists, k = 1000
     * of ~10,000 items, take r ~ 256 of 1,024 samples: ~10 % of their kernel time went to insertions).
     */
    private static final int INSERT_MAX_RANK = 32;

    /** The plain scan: the r-th best eligible sample of v[off + q], or NaN. */
    private float scalar(float[] v, int off, int count, int stride, int r, int[] ex, int ep, int end) {
        if (r > INSERT_MAX_RANK) return selected(v, off, count, stride, r, ex, ep, end);
        float[] tp = top(r);
        int have = 0;
        float worst = Float.NEGATIVE_INFINITY;
        for (int q = 0; q < count; q++) {
            float x = v[off + q];
            if (!(x > worst)) continue; // NaN, -Inf, or not better than the r-th so far
            int id = q * stride + (stride >> 1);
            while (ep < end && ex[ep] < id) ep++;
            if (ep < end && ex[ep] == id) continue;
            worst = insertTop(tp, have < r ? have++ : r - 1, x, r, have);
        }
        return have < r ? Float.NaN : tp[r - 1];
    }

    /** {@link #scalar} for a large rank: the eligible samples (not NaN, not -Inf, not excluded), then a quickselect. */
    private float selected(float[] v, int off, int count, int stride, int r, int[] ex, int ep, int end) {
        float[] e = top(count);
        int have = 0;
        for (int q = 0; q < count; q++) {
            float x = v[off + q];
            if (!(x > Float.NEGATIVE_INFINITY)) continue;
            int id = q * stride + (stride >> 1);
            while (ep < end && ex[ep] < id) ep++;
            if (ep < end && ex[ep] == id) continue;
            e[have++] = x;
        }
        return have < r ? Float.NaN : kthLargest(e, have, r - 1);
    }

    /** The value of rank kth (0 = largest) among a[0, n): a quickselect (rearranges a). */
    static float kthLargest(float[] a, int n, int kth) {
        int lo = 0, hi = n - 1;
        while (hi > lo) {
            int mid = (lo + hi) >>> 1;
            // median of three as the pivot, then a Hoare partition into >= pivot | <= pivot
            float x = a[lo], y = a[mid], z = a[hi];
            float pivot = x > y ? (y > z ? y : Math.min(x, z)) : (x > z ? x : Math.min(y, z));
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] > pivot) i++;
                while (a[j] < pivot) j--;
                if (i <= j) {
                    float t = a[i];
                    a[i++] = a[j];
                    a[j--] = t;
                }
            }
            if (kth <= j) hi = j;
            else if (kth >= i) lo = i;
            else return a[kth];
        }
        return a[kth];
    }

    /** Inserts x at or before slot j of the descending tp; returns the new admission bound. */
    private static float insertTop(float[] tp, int j, float x, int r, int have) {
        while (j > 0 && tp[j - 1] < x) {
            tp[j] = tp[j - 1];
            j--;
        }
        tp[j] = x;
        return have == r ? tp[r - 1] : Float.NEGATIVE_INFINITY;
    }

    private float[] top(int n) {
        if (top.length < n) top = new float[n];
        return top;
    }

    private static void insertionSortDesc(float[] a, int n) {
        for (int t = 1; t < n; t++) {
            float x = a[t];
            int j = t;
            while (j > 0 && a[j - 1] < x) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
    }

}
