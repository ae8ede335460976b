package kdrec.cpu;

import static jdk.incubator.vector.VectorOperators.GE;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Score-and-filter micro-kernels of {@link TopKSimd}: {@link ScoreTile}'s arithmetic (same shapes, same
 * fma chain per score, so bit-identical scores) with an epilogue that, per row of the MR x NR
 * micro-tile, stores the scores into a tiny L1 buffer (at most 6 x 48 floats) and compares the
 * accumulators with the row's bound into one 3L-bit lane mask, recorded only when non-zero
 * (no branch on the data). Rows with hits (about two per 6 x 48 tile at k = 100 of
 * 41 000 items with a sampled bound) then append their set lanes from the buffer ({@link #append}).
 * No score tile larger than the micro-tile exists: nothing goes out to L2 and back.
 *
 * <p>Measured alternatives (2 x Zen 5, 16 lanes): a compress-store of every vector (scores and ids)
 * cost about 5 cycles per vector, ~15 % of the kernel; the epilogue as one big non-inlined method got
 * its vectors boxed (10x slower); comparing a reloaded tile in a separate method cost ~13 %.
 *
 * <p>{@link #run} sweeps a block of rows against one packed item tile panel-outer, row-group-inner:
 * the packed panel (k x NR floats, 12 KB at d = 64 and 16 lanes) and the row block of U (24 KB for
 * 96 rows) stay in L1 while every row group uses the panel. A row with hits first gets room for NR
 * more candidates ({@link TopKRows#room}: a compaction when its buffer is full, rare). Also measured
 * and dropped: appending hits to one sequential per-block log distributed later (no faster: the
 * distribution pass cost what the scattered appends saved).
 */
final class TopKTile {
    private TopKTile() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    private static final int NR = ScoreTile.NR;

    /** Floats of the micro-tile buffer. */
    static final int TILE = 6 * NR;

    /**
     * Feeds rows [0, mb) of the block (A rows at {@code a[i*lda ..]}) scored against items
     * j0 .. j0+nb-1, packed in {@code bp} as ScoreTile panels, to the row states in s.
     */
    static void run(TopKRows s, int mb, int nb, int j0, int k, float[] a, int lda, float[] bp) {
        int panels = (nb + NR - 1) / NR, lim = j0 + nb;
        float[] t = s.tile, lo = s.lo;
        long[] hb = s.hitBits;
        int[] hr = s.hitRow;
        for (int p = 0; p < panels; p++) {
            int bo = p * k * NR, id0 = j0 + p * NR;
            long valid = id0 + NR <= lim ? -1L : (1L << (lim - id0)) - 1; // padding columns score 0: never enter
            int i = 0;
            if (ScoreTile.WIDE) {
                for (; i + 6 <= mb; i += 6) {
                    int h = sel6(k, a, i * lda, lda, bp, bo, t, lo, i, valid, hb, hr);
                    if (h > 0) append(s, i, h, id0, t, hb, hr);
                }
            }
            for (; i + 3 <= mb; i += 3) {
                int h = sel3(k, a, i * lda, lda, bp, bo, t, lo, i, valid, hb, hr);
                if (h > 0) append(s, i, h, id0, t, hb, hr);
            }
            for (; i < mb; i++) {
                int h = sel1(k, a, i * lda, bp, bo, t, lo, i, valid, hb, hr);
                if (h > 0) append(s, i, h, id0, t, hb, hr);
            }
        }
    }

    /** Appends the h recorded rows' hits (lane bits hb, rows r0 + hr of the micro-tile t) to their buffers. */
    private static void append(TopKRows s, int r0, int h, int id0, float[] t, long[] hb, int[] hr) {
        for (int e = 0; e < h; e++) {
            int row = r0 + hr[e], o = hr[e] * NR;
            long bits = hb[e];
            s.room(row, NR);
            float[] cs = s.cs;
            int[] ci = s.ci;
            int base = row * s.cap, p = base + s.cnt[row];
            do {
                int z = Long.numberOfTrailingZeros(bits);
                cs[p] = t[o + z];
                ci[p++] = id0 + z;
                bits &= bits - 1;
            } while (bits != 0);
            s.cnt[row] = p - base;
        }
    }

    /** ScoreTile.kernel6 with the marking epilogue (native 512-bit vectors only); returns the hit rows. */
    private static int sel6(int k, float[] a, int ao, int lda, float[] bp, int bo, float[] t, float[] lo, int r0,
                            long valid, long[] hb, int[] hr) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
        FloatVector c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
        int a1 = ao + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int kk = 0; kk < k; kk++) {
            int b = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, b + 2 * L);
            FloatVector x = FloatVector.broadcast(F, a[ao + kk]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02);
            x = FloatVector.broadcast(F, a[a1 + kk]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12);
            x = FloatVector.broadcast(F, a[a2 + kk]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22);
            x = FloatVector.broadcast(F, a[a3 + kk]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32);
            x = FloatVector.broadcast(F, a[a4 + kk]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); c42 = b2.fma(x, c42);
            x = FloatVector.broadcast(F, a[a5 + kk]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); c52 = b2.fma(x, c52);
        }
        // epilogue, written out per row (a helper taking the vectors was not always inlined: boxed, 5x slower)
        int h = 0;
        FloatVector l;
        long m;
        c00.intoArray(t, 0); c01.intoArray(t, L); c02.intoArray(t, 2 * L);
        l = FloatVector.broadcast(F, lo[r0]);
        m = (c00.compare(GE, l).toLong() | (c01.compare(GE, l).toLong() << L) | (c02.compare(GE, l).toLong() << (2 * L))) & valid;
        hb[h] = m; hr[h] = 0; h += m != 0 ? 1 : 0;
        c10.intoArray(t, NR); c11.intoArray(t, NR + L); c12.intoArray(t, NR + 2 * L);
        l = FloatVector.broadcast(F, lo[r0 + 1]);
        m = (c10.compare(GE, l).toLong() | (c11.compare(GE, l).toLong() << L) | (c12.compare(GE, l).toLong() << (2 * L))) & valid;
        hb[h] = m; hr[h] = 1; h += m != 0 ? 1 : 0;
        c20.intoArray(t, 2 * NR); c21.intoArray(t, 2 * NR + L); c22.intoArray(t, 2 * NR + 2 * L);
        l = FloatVector.broadcast(F, lo[r0 + 2]);
        m = (c20.compare(GE, l).toLong() | (c21.compare(GE, l).toLong() << L) | (c22.compare(GE, l).toLong() << (2 * L))) & valid;
        hb[h] = m; hr[h] = 2; h += m != 0 ? 1 : 0;
        c30.intoArray(t, 3 * NR); c31.intoArray(t, 3 * NR + L); c32.intoArray(t, 3 * NR + 2 * L);
        l = FloatVector.broadcast(F, lo[r0 + 3]);
        m = (c30.compare(GE, l).toLong() | (c31.compare(GE, l).toLong() << L) | (c32.compare(GE, l).toLong() << (2 * L))) & valid;
        hb[h] = m; hr[h] = 3; h += m != 0 ? 1 : 0;
        c40.intoArray(t, 4 * NR); c41.intoArray(t, 4 * NR + L); c42.intoArray(t, 4 * NR + 2 * L);
        l = FloatVector.broadcast(F, lo[r0 + 4]);
        m = (c40.compare(GE, l).toLong() | (c41.compare(GE, l).toLong() << L) | (c42.compare(GE, l).toLong() << (2 * L))) & valid;
        hb[h] = m; hr[h] = 4; h += m != 0 ? 1 : 0;
        c50.intoArray(t, 5 * NR); c51.intoArray(t, 5 * NR + L); c52.intoArray(t, 5 * NR + 2 * L);
        l = FloatVector.broadcast(F, lo[r0 + 5]);
        m = (c50.compare(GE, l).toLong() | (c51.compare(GE, l).toLong() << L) | (c52.compare(GE, l).toLong() << (2 * L))) & valid;
        hb[h] = m; hr[h] = 5; h += m != 0 ? 1 : 0;
        return h;
    }

    /** ScoreTile.kernel3 with the marking epilogue. */
    private static int sel3(int k, float[] a, int ao, int lda, float[] bp, int bo, float[] t, float[] lo, int r0,
                            long valid, long[] hb, int[] hr) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00;
        int a1 = ao + lda, a2 = a1 + lda;
        for (int kk = 0; kk < k; kk++) {
            int b = bo + kk * NR;
            FloatVector b0 = FloatVector.fromArray(F, bp, b);
            FloatVector b1 = FloatVector.fromArray(F, bp, b + L);
            FloatVector b2 = FloatVector.fromArray(F, bp, b + 2 * L);
            FloatVector x0 = FloatVector.broadcast(F, a[ao + kk]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01); c02 = b2.fma(x0, c02);
            FloatVector x1 = FloatVector.broadcast(F, a[a1 + kk]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11); c12 = b2.fma(x1, c12);
            FloatVector x2 = FloatVector.broadcast(F, a[a2 + kk]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21); c22 = b2.fma(x2, c22);
        }
        // epilogue, written out per row (a helper taking the vectors was not always inlined: boxed, 5x slower)
        int h = 0;
        FloatVector l;
        long m;
        c00.intoArray(t, 0); c01.intoArray(t, L); c02.intoArray(t, 2 * L);
        l = FloatVector.broadcast(F, lo[r0]);
        m = (c00.compare(GE, l).toLong() | (c01.compare(GE, l).toLong() << L) | (c02.compare(GE, l).toLong() << (2 * L))) & valid;
        hb[h] = m; hr[h] = 0; h += m != 0 ? 1 : 0;
        c10.intoArray(t, NR); c11.intoArray(t, NR + L); c12.intoArray(t, NR + 2 * L);
        l = FloatVector.broadcast(F, lo[r0 + 1]);
        m = (c10.compare(GE, l).toLong() | (c11.compare(GE, l).toLong() << L) | (c12.compare(GE, l).toLong() << (2 * L))) & valid;
        hb[h] = m; hr[h] = 1; h += m != 0 ? 1 : 0;
        c20.intoArray(t, 2 * NR); c21.intoArray(t, 2 * NR + L); c22.intoArray(t, 2 * NR + 2 * L);
        l = FloatVector.broadcast(F, lo[r0 + 2]);
        m = (c20.compare(GE, l).toLong() | (c21.compare(GE, l).toLong() << L) | (c22.compare(GE, l).toLong() << (2 * L))) & valid;
        hb[h] = m; hr[h] = 2; h += m != 0 ? 1 : 0;
        return h;
    }

    /** ScoreTile.kernel1 with the marking epilogue (row remainder). */
    private static int sel1(int k, float[] a, int ao, float[] bp, int bo, float[] t, float[] lo, int r, long valid,
                            long[] hb, int[] hr) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0;
        for (int kk = 0; kk < k; kk++) {
            int b = bo + kk * NR;
            FloatVector x = FloatVector.broadcast(F, a[ao + kk]);
            c0 = FloatVector.fromArray(F, bp, b).fma(x, c0);
            c1 = FloatVector.fromArray(F, bp, b + L).fma(x, c1);
            c2 = FloatVector.fromArray(F, bp, b + 2 * L).fma(x, c2);
        }
        // epilogue, written out per row (a helper taking the vectors was not always inlined: boxed, 5x slower)
        int h = 0;
        FloatVector l;
        long m;
        c0.intoArray(t, 0); c1.intoArray(t, L); c2.intoArray(t, 2 * L);
        l = FloatVector.broadcast(F, lo[r]);
        m = (c0.compare(GE, l).toLong() | (c1.compare(GE, l).toLong() << L) | (c2.compare(GE, l).toLong() << (2 * L))) & valid;
        hb[h] = m; hr[h] = 0; h += m != 0 ? 1 : 0;
        return h;
    }
}
