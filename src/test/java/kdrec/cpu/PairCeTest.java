package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.assertBitEqual;
import static kdrec.cpu.KernelTestSupport.assertClose;
import static kdrec.cpu.KernelTestSupport.heap;
import static kdrec.cpu.KernelTestSupport.offHeap;
import static kdrec.cpu.KernelTestSupport.randn;
import static kdrec.cpu.KernelTestSupport.toArray;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * PairCeScalar vs PairCeSimd (two overlapping soft-CE sets per row over one list), the pair kernel
 * against two plain SubsetCe rows, and RowScatter (the bucketed item-side backward) against one fma
 * per entry in entry order, bit for bit.
 */
@Tag("simd")
class PairCeTest {
    /** Rows of the given lengths (items may repeat), user rows of width d, split points of every kind. */
    static final class Problem {
        final int m, d, nItems;
        final int[] ptr, idx, a, b;
        final float[] u, items, teacher, wA, wB;

        Problem(long seed, int d, int nItems, int... lengths) {
            this.m = lengths.length;
            this.d = d;
            this.nItems = nItems;
            SplittableRandom r = new SplittableRandom(seed);
            ptr = new int[m + 1];
            for (int i = 0; i < m; i++) ptr[i + 1] = ptr[i] + lengths[i];
            idx = new int[ptr[m]];
            for (int j = 0; j < idx.length; j++) idx[j] = r.nextInt(nItems);
            a = new int[m];
            b = new int[m];
            wA = new float[m];
            wB = new float[m];
            for (int i = 0; i < m; i++) {
                int n = lengths[i];
                switch (i % 4) {
                    case 0 -> { a[i] = n; b[i] = n; }                    // one set (B empty)
                    case 1 -> { a[i] = 0; b[i] = 0; }                    // A empty, B all
                    case 2 -> { a[i] = r.nextInt(n + 1); b[i] = r.nextInt(a[i] + 1); } // overlap [b, a)
                    default -> { b[i] = r.nextInt(n + 1); a[i] = r.nextInt(b[i] + 1); } // gap [a, b)
                }
                wA[i] = (float) r.nextDouble();
                wB[i] = i % 4 == 0 ? 0f : (float) (2 * r.nextDouble());
            }
            u = randn(seed + 1, m * d);
            items = randn(seed + 2, nItems * d);
            teacher = randn(seed + 3, idx.length);
            for (int j = 0; j < teacher.length; j++) teacher[j] *= 3f;
        }

        float[] targets(float tau) {
            float[] t = new float[idx.length];
            PairCeScalar.targets(m, ptr, a, b, teacher, tau, wA, wB, t);
            return t;
        }
    }

    @Test
    void softCeMatchesScalar() {
        int l = Simd.LANES;
        try (Arena arena = Arena.ofConfined()) {
            for (int d : new int[] {1, l - 1, l, l + 3, 20, 64, 300}) {
                for (int len : KernelTestSupport.sizes()) {
                    if (d >= 64 && len > 1021) continue;
                    for (float tau : new float[] {1f, 0.5f, 3f}) {
                        Problem p = new Problem(31L * d + len, d, 53, len, len, len, len, len / 2, 3);
                        boolean nat = (len & 1) == 0;
                        MemorySegment u = nat ? offHeap(arena, p.u) : heap(p.u), it = nat ? offHeap(arena, p.items) : heap(p.items);
                        float[] t = p.targets(tau), tv = new float[t.length];
                        PairCeSimd.targets(p.m, p.ptr, p.a, p.b, p.teacher, tau, p.wA, p.wB, tv);
                        String w = "d=" + d + " len=" + len + " tau=" + tau;
                        assertClose(w + " targets", t, tv, 1e-6, 1e-5);
                        int n = p.idx.length;
                        float[] lossE = new float[p.m], gE = new float[n], lossA = new float[p.m], gA = new float[n];
                        MemorySegment guE = heap(new float[p.m * d]), guA = heap(new float[p.m * d]);
                        PairCeScalar.softCe(p.m, d, u, 0, d, it, 0, d, p.ptr, p.idx, p.a, p.b, t, p.wA, p.wB, tau, lossE, gE, guE, 0, d);
                        PairCeSimd.softCe(p.m, d, u, 0, d, it, 0, d, p.ptr, p.idx, p.a, p.b, t, p.wA, p.wB, tau, lossA, gA, guA, 0, d);
                        double logitTol = 2e-6 * (d + 1) / tau;
                        assertClose(w + " loss", lossE, lossA, 1e-4 + logitTol * 8, 1e-4);
                        assertClose(w + " grad", gE, gA, 1e-5 + logitTol, 1e-3);
                        assertClose(w + " gu", toArray(guE), toArray(guA), 1e-4 + logitTol * 4, 1e-3);
                        // gu null: the same loss and grad
                        float[] lossN = new float[p.m], gN = new float[n];
                        PairCeSimd.softCe(p.m, d, u, 0, d, it, 0, d, p.ptr, p.idx, p.a, p.b, t, p.wA, p.wB, tau, lossN, gN, null, 0, d);
                        assertBitEqual(w + " loss without gu", lossA, lossN);
                        assertBitEqual(w + " grad without gu", gA, gN);
                    }
                }
            }
        }
    }

    @Test
    void pairEqualsTwoSubsetRowsWeighted() {
        // row r's pair loss = wA CE(A) + wB CE(B) of the plain kernel on the two sets as separate rows
        int d = 20;
        float tau = 0.7f;
        Problem p = new Problem(9, d, 40, 37, 1, 0, 50, 16, 33, 2, 70);
        float[] t = p.targets(tau);
        float[] loss = new float[p.m], g = new float[p.idx.length];
        MemorySegment u = heap(p.u), it = heap(p.items), gu = heap(new float[p.m * d]);
        PairCeSimd.softCe(p.m, d, u, 0, d, it, 0, d, p.ptr, p.idx, p.a, p.b, t, p.wA, p.wB, tau, loss, g, gu, 0, d);
        float[] guA = toArray(gu);
        for (int r = 0; r < p.m; r++) {
            int o = p.ptr[r], n = p.ptr[r + 1] - o, a = p.a[r], b = p.b[r];
            int[] ptr2 = {0, a, a + n - b}, idx2 = new int[a + n - b];
            float[] tl2 = new float[idx2.length], u2 = new float[2 * d];
            for (int j = 0; j < a; j++) { idx2[j] = p.idx[o + j]; tl2[j] = p.teacher[o + j]; }
            for (int j = b; j < n; j++) { idx2[a + j - b] = p.idx[o + j]; tl2[a + j - b] = p.teacher[o + j]; }
            System.arraycopy(p.u, r * d, u2, 0, d);
            System.arraycopy(p.u, r * d, u2, d, d);
            float[] l2 = new float[2], g2 = new float[idx2.length];
            SubsetCeScalar.softCe(2, d, heap(u2), 0, d, it, 0, d, ptr2, idx2, tl2, tau, new float[] {p.wA[r], p.wB[r]}, l2, g2, null);
            assertEquals(p.wA[r] * l2[0] + p.wB[r] * l2[1], loss[r], 2e-5 * (1 + Math.abs(loss[r])), "row " + r);
            double[] want = new double[n], guWant = new double[d];
            for (int j = 0; j < a; j++) want[j] += g2[j];
            for (int j = b; j < n; j++) want[j] += g2[a + j - b];
            for (int j = 0; j < n; j++) for (int k = 0; k < d; k++) guWant[k] += want[j] * p.items[p.idx[o + j] * d + k];
            float[] gotG = java.util.Arrays.copyOfRange(g, o, o + n), gotU = java.util.Arrays.copyOfRange(guA, r * d, r * d + d);
            assertClose("grad row " + r, want, gotG, 2e-6, 1e-4);
            assertClose("gu row " + r, guWant, gotU, 2e-5, 1e-4);
        }
    }

    @Test
    void separateMaximaKeepFarApartSetsFinite() {
        // A's logits near +80, B's near -80 (tau 0.5): a shared max would underflow all of B
        int d = 20, nItems = 4;
        float[] u = new float[d], items = new float[nItems * d];
        u[0] = 1f;
        float[] logit = {80f, 79f, -80f, -79.5f};
        for (int i = 0; i < nItems; i++) items[i * d] = logit[i];
        int[] ptr = {0, 4}, idx = {0, 1, 2, 3}, a = {2}, b = {2};
        float[] tl = {1f, 2f, 0f, 3f}, wA = {0.3f}, wB = {0.7f}, t = new float[4];
        PairCeScalar.targets(1, ptr, a, b, tl, 0.5f, wA, wB, t);
        float[] lossE = new float[1], gE = new float[4], lossA = new float[1], gA = new float[4];
        PairCeScalar.softCe(1, d, heap(u), 0, d, heap(items), 0, d, ptr, idx, a, b, t, wA, wB, 0.5f, lossE, gE, null, 0, d);
        PairCeSimd.softCe(1, d, heap(u), 0, d, heap(items), 0, d, ptr, idx, a, b, t, wA, wB, 0.5f, lossA, gA, null, 0, d);
        assertTrue(Float.isFinite(lossA[0]), "loss " + lossA[0]);
        assertEquals(lossE[0], lossA[0], 1e-4 * Math.abs(lossE[0]));
        assertClose("grad", gE, gA, 1e-5, 1e-4);
    }

    @Test
    void bitIdenticalForAnyThreadCount() {
        int saved = Parallel.threads();
        try {
            int[] lengths = new int[400];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < lengths.length; i++) lengths[i] = 150 + r.nextInt(100);
            Problem p = new Problem(3, 20, 3000, lengths);
            float[] t = p.targets(1f);
            float[][] loss = new float[3][], grad = new float[3][], gu = new float[3][], di = new float[3][];
            for (int th = 1; th <= 3; th++) {
                Parallel.setThreads(th);
                float[] l = new float[p.m], g = new float[p.idx.length];
                MemorySegment u = heap(p.u), it = heap(p.items), gus = heap(new float[p.m * p.d]), dis = heap(new float[p.items.length]);
                PairCeSimd.softCe(p.m, p.d, u, 0, p.d, it, 0, p.d, p.ptr, p.idx, p.a, p.b, t, p.wA, p.wB, 1f, l, g, gus, 0, p.d);
                SubsetCeSimd.gatherDotBackward(p.m, p.d, u, 0, p.d, it, 0, p.d, p.ptr, p.idx, g, null, 0, p.d, dis, 0, p.d);
                loss[th - 1] = l; grad[th - 1] = g; gu[th - 1] = toArray(gus); di[th - 1] = toArray(dis);
            }
            for (int th = 1; th < 3; th++) {
                assertBitEqual("loss, " + (th + 1) + " threads", loss[0], loss[th]);
                assertBitEqual("grad", grad[0], grad[th]);
                assertBitEqual("gu", gu[0], gu[th]);
                assertBitEqual("di", di[0], di[th]);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void itemSideBackwardIsOneFmaPerEntryInEntryOrder() {
        // RowScatter (bucketed or direct, multi-threaded) vs the plain loop, bit for bit, for widths around the lanes
        int l = Simd.LANES;
        for (int d : new int[] {1, 3, 4, l - 1, l, l + 4, 20, 37, 64, 300}) {
            int nItems = d >= 300 ? 900 : 70_000, rows = d >= 300 ? 60 : 400;
            int[] lengths = new int[rows];
            for (int i = 0; i < rows; i++) lengths[i] = 100 + (i * 7) % 90;
            itemSideAllPaths("d=" + d, new Problem(d, d, nItems, lengths), d + 2);
        }
        // a handful of items (every entry's di row hot, duplicates within rows), empty rows among full ones
        int[] lengths = new int[300];
        for (int i = 0; i < lengths.length; i++) lengths[i] = i % 5 == 0 ? 0 : 200;
        itemSideAllPaths("7 items", new Problem(5, 24, 7, lengths), 24);
        // skewed: most entries on the first items, so equal item ranges would be far from equal work
        Problem skewed = new Problem(6, 20, 5000, lengths);
        for (int j = 0; j < skewed.idx.length; j++) if (j % 3 != 0) skewed.idx[j] = skewed.idx[j] % 40;
        itemSideAllPaths("skewed", skewed, 20);
    }

    /** The item side on every path ({@link RowScatter.Path}) and 1-3 threads equals one fma per entry in entry order. */
    private static void itemSideAllPaths(String what, Problem p, int ld) {
        int d = p.d, saved = Parallel.threads();
        float[] g = randn(d + 9, p.idx.length), di0 = randn(d + 5, p.nItems * ld);
        float[] want = di0.clone();
        for (int row = 0; row < p.m; row++) {
            for (int j = p.ptr[row]; j < p.ptr[row + 1]; j++) {
                for (int k = 0; k < d; k++) want[p.idx[j] * ld + k] = Math.fma(p.u[row * d + k], g[j], want[p.idx[j] * ld + k]);
            }
        }
        try {
            for (RowScatter.Path path : RowScatter.Path.values()) {
                RowScatter.setPath(path);
                for (int threads : new int[] {1, 3}) {
                    Parallel.setThreads(threads);
                    MemorySegment di = heap(di0);
                    SubsetCeSimd.gatherDotBackward(p.m, d, heap(p.u), 0, d, heap(new float[p.nItems * ld]), 0, ld, p.ptr, p.idx, g,
                            null, 0, d, di, 0, ld);
                    assertBitEqual("di " + what + ", " + path + ", " + threads + " threads", want, toArray(di));
                }
            }
        } finally {
            RowScatter.setPath(RowScatter.Path.AUTO);
            Parallel.setThreads(saved);
        }
    }

    @Test
    void emptyInputs() {
        float[] loss = {5f};
        PairCeSimd.softCe(1, 4, heap(new float[4]), 0, 4, heap(new float[4]), 0, 4, new int[] {0, 0}, new int[0], new int[1], new int[1],
                new float[0], new float[] {1}, new float[] {1}, 1f, loss, new float[0], heap(new float[4]), 0, 4);
        assertEquals(0f, loss[0]);
        PairCeSimd.softCe(0, 4, heap(new float[4]), 0, 4, heap(new float[4]), 0, 4, new int[] {0}, new int[0], new int[0], new int[0],
                new float[0], new float[0], new float[0], 1f, new float[0], new float[0], null, 0, 4);
    }

    /** Every array argument of both twins is checked at the boundary: one too short is refused by name. */
    @Test
    void everyArrayArgumentIsCheckedByName() {
        MemorySegment u = heap(new float[8]), it = heap(new float[8]);
        int[] ptr = {0, 1, 2}, idx = {0, 1};
        for (boolean simd : new boolean[] {false, true}) {
            for (String shortOne : new String[] {"a", "b", "target", "wA", "wB", "loss", "grad"}) {
                int[] a = shortOne.equals("a") ? new int[1] : new int[] {1, 1}, b = shortOne.equals("b") ? new int[1] : new int[] {1, 1};
                float[] t = new float[shortOne.equals("target") ? 1 : 2], wA = new float[shortOne.equals("wA") ? 1 : 2];
                float[] wB = new float[shortOne.equals("wB") ? 1 : 2], loss = new float[shortOne.equals("loss") ? 1 : 2];
                float[] grad = new float[shortOne.equals("grad") ? 1 : 2];
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                    if (simd) PairCeSimd.softCe(2, 4, u, 0, 4, it, 0, 4, ptr, idx, a, b, t, wA, wB, 1f, loss, grad, null, 0, 4);
                    else PairCeScalar.softCe(2, 4, u, 0, 4, it, 0, 4, ptr, idx, a, b, t, wA, wB, 1f, loss, grad, null, 0, 4);
                }, "softCe, short " + shortOne);
                assertTrue(e.getMessage().contains(shortOne + ": length 1 < 2"), "simd=" + simd + ": " + e.getMessage());
            }
            for (String shortOne : new String[] {"a", "b", "teacherLogits", "wA", "wB", "target"}) {
                int[] a = shortOne.equals("a") ? new int[1] : new int[] {1, 1}, b = shortOne.equals("b") ? new int[1] : new int[] {1, 1};
                float[] tl = new float[shortOne.equals("teacherLogits") ? 1 : 2], wA = new float[shortOne.equals("wA") ? 1 : 2];
                float[] wB = new float[shortOne.equals("wB") ? 1 : 2], t = new float[shortOne.equals("target") ? 1 : 2];
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                    if (simd) PairCeSimd.targets(2, ptr, a, b, tl, 1f, wA, wB, t);
                    else PairCeScalar.targets(2, ptr, a, b, tl, 1f, wA, wB, t);
                }, "targets, short " + shortOne);
                assertTrue(e.getMessage().contains(shortOne + ": length 1 < 2"), "simd=" + simd + ": " + e.getMessage());
            }
            IllegalArgumentException tau = assertThrows(IllegalArgumentException.class, () -> {
                if (simd) PairCeSimd.softCe(2, 4, u, 0, 4, it, 0, 4, ptr, idx, new int[] {1, 1}, new int[] {1, 1}, new float[2], new float[2],
                        new float[2], 0f, new float[2], new float[2], null, 0, 4);
                else PairCeScalar.softCe(2, 4, u, 0, 4, it, 0, 4, ptr, idx, new int[] {1, 1}, new int[] {1, 1}, new float[2], new float[2],
                        new float[2], 0f, new float[2], new float[2], null, 0, 4);
            });
            assertTrue(tau.getMessage().contains("tau"), tau.getMessage());
            // a split past its own row (the second row holds one entry), not only past the first
            IllegalArgumentException split = assertThrows(IllegalArgumentException.class, () -> {
                if (simd) PairCeSimd.targets(2, ptr, new int[] {1, 2}, new int[] {1, 1}, new float[2], 1f, new float[2], new float[2], new float[2]);
                else PairCeScalar.targets(2, ptr, new int[] {1, 2}, new int[] {1, 1}, new float[2], 1f, new float[2], new float[2], new float[2]);
            });
            assertTrue(split.getMessage().contains("row 1 of 1 entries"), split.getMessage());
        }
    }

    @Test
    void badArguments() {
        MemorySegment u = heap(new float[8]), it = heap(new float[8]);
        int[] ptr = {0, 2}, idx = {0, 1};
        float[] one = {1f}, two = new float[2];
        // split past the row, b past the row, short targets, tau 0, gu too small
        assertThrows(IllegalArgumentException.class, () -> PairCeSimd.softCe(1, 4, u, 0, 4, it, 0, 4, ptr, idx, new int[] {3}, new int[] {0},
                two, one, one, 1f, new float[1], two, null, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> PairCeScalar.softCe(1, 4, u, 0, 4, it, 0, 4, ptr, idx, new int[] {1}, new int[] {-1},
                two, one, one, 1f, new float[1], two, null, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> PairCeSimd.softCe(1, 4, u, 0, 4, it, 0, 4, ptr, idx, new int[] {1}, new int[] {1},
                one, one, one, 1f, new float[1], two, null, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> PairCeSimd.targets(1, ptr, new int[] {1}, new int[] {1}, two, 0f, one, one, two));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PairCeSimd.softCe(1, 4, u, 0, 4, it, 0, 4, ptr, idx,
                new int[] {1}, new int[] {1}, two, one, one, 1f, new float[1], two, heap(new float[3]), 0, 4));
        assertTrue(e.getMessage().contains("PairCe.softCe") && e.getMessage().contains("gu"), e.getMessage());
    }
}
