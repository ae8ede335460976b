package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import kdrec.cpu.Mem;
import kdrec.cpu.TopKScalar;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link GpuTopK} against {@link TopKScalar}, each case through both selections where k allows
 * (WARP_ROWS for k <= 128, BLOCK_MERGE always): fused scoreTopK and selectTopK over a sweep of (m, n, d,
 * k) including empty rows/items, d = 0 and 300, k = 1/32/33/100/128/1024 and k > n, with and without per-row
 * exclusions (random with duplicates, none, everything excluded), shapes that take the item-split path
 * (few rows, many items) and the single-pass path, NaN / +-Inf / -0 scores and heavy ties. Ids must
 * match exactly, except where the reference's scores tie within 1e-6 at that slot (then the scores
 * must). Tie-heavy integer data must match exactly: those scores are exact in any summation order.
 * The outer class's test needs no GPU.
 */
class TopKGpuTest {

    private static DeviceBuffer fake(long elements) {
        return DeviceBuffer.detached(elements);
    }

    @Test
    void argumentChecksComeBeforeCuda() {
        DeviceBuffer u = fake(64), items = fake(64), oi = fake(64), os = fake(64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GpuTopK.scoreTopK(null, 1, 8, 8, u, 0, 8, items, 0, 8, 1025, null, null, fake(1025), fake(1025)));
        assertTrue(e.getMessage().contains("1024"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GpuTopK.scoreTopK(null, 4, 8, 8, u, 0, 8, items, 0, 8, 17, null, null, oi, os));
        assertTrue(e.getMessage().contains("need m*k = 68"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GpuTopK.scoreTopK(null, 4, 8, 8, u, 0, 8, items, 0, 8, 2, fake(5), null, oi, os));
        assertTrue(e.getMessage().contains("both be null"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GpuTopK.selectTopK(null, 4, 8, u, 0, 8, 2, fake(4), fake(3), oi, os));
        assertTrue(e.getMessage().contains("need m+1 = 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GpuTopK.selectTopK(null, 8, 8, u, 1, 8, 2, null, null, oi, os));
        assertTrue(e.getMessage().contains("needs 65 floats"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GpuTopK.scoreTopK(null, 2, 8, -1, u, 0, 8, items, 0, 8, 2, null, null, oi, os));
        assertTrue(e.getMessage().contains("negative d"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GpuTopK.selectTopK(null, 1, 8, u, 0, 8, 129, null, null,
                fake(129), fake(129), GpuTopK.Selection.WARP_ROWS));
        assertTrue(e.getMessage().contains("WARP_ROWS limit"), e.getMessage());
        assertEquals(GpuTopK.Selection.WARP_ROWS, GpuTopK.Selection.forK(128));
        assertEquals(GpuTopK.Selection.BLOCK_MERGE, GpuTopK.Selection.forK(129));
        // empty problems return before any CUDA call (cuda is null here)
        GpuTopK.scoreTopK(null, 0, 8, 8, u, 0, 8, items, 0, 8, 5, null, null, oi, os);
        GpuTopK.selectTopK(null, 4, 8, u, 0, 8, 0, null, null, oi, os);
    }

    @Test
    void splitHeuristicIsSane() {
        assertEquals(1, GpuTopK.splits(30_000, 41_000));   // plenty of row blocks
        assertEquals(1, GpuTopK.splits(5, 100));           // too few items to split
        int s = GpuTopK.splits(2048, 41_000);
        assertTrue(s > 1 && s <= 16, "2048 x 41000 should split the items, got " + s);
        // the target scales with the SM count: fewer SMs, fewer splits; more SMs, more (up to 16)
        assertEquals(s, GpuTopK.splits(2048, 41_000, 132));
        assertTrue(GpuTopK.splits(2048, 41_000, 66) < s && GpuTopK.splits(2048, 41_000, 264) > s, "splits follow the SM count");
        assertEquals(2, GpuTopK.splits(30_000, 41_000, 264), "938 row blocks do not fill a 264-SM GPU's 1056");
    }

    @Nested
    @Tag("gpu")
    @ExtendWith(RequiresGpu.class)
    class OnGpu {
        /** (m, n, d, k): empties, tiny, warp edges, k > n, d = 0 / 300, k = 1 / 100 / 1024, split and single-pass shapes. */
        static final int[][] CASES = {
            {0, 10, 8, 5}, {5, 0, 8, 3}, {4, 20, 0, 5}, {1, 1, 1, 1}, {31, 33, 20, 1}, {32, 32, 64, 100},
            {33, 31, 7, 100}, {17, 1021, 64, 100}, {16, 1021, 33, 1024}, {40, 3000, 64, 1024}, {20, 500, 300, 10},
            {64, 20_000, 64, 100}, {300, 2500, 20, 50}, {70, 3000, 20, 32}, {45, 2000, 17, 33}, {40, 5000, 20, 128},
            {GpuTestSizes.pick(2048, 256), 1500, 16, 7},  // many rows: 2048 on a GPU, 256 on the emulated driver
        };

        @Test
        void scoreTopKMatchesScalar() {
            Cuda cuda = CudaProbe.cuda();
            long before = cuda.allocatedBytes();
            long seed = 11;
            for (int[] c : CASES) {
                for (int ex = 0; ex < 2; ex++) {
                    for (GpuTopK.Selection sel : selections(c[3])) fused(cuda, c[0], c[1], c[2], c[3], ex == 1, false, seed, sel);
                    seed++;
                }
            }
            assertEquals(before, cuda.allocatedBytes(), "device memory leaked");
        }

        @Test
        void selectTopKMatchesScalar() {
            Cuda cuda = CudaProbe.cuda();
            long before = cuda.allocatedBytes();
            long seed = 500;
            for (int[] c : CASES) {
                for (int ex = 0; ex < 2; ex++) {
                    for (GpuTopK.Selection sel : selections(c[3])) select(cuda, c[0], c[1], c[3], ex == 1, seed, sel);
                    seed++;
                }
            }
            assertEquals(before, cuda.allocatedBytes(), "device memory leaked");
        }

        @Test
        void tiesResolveToLowerIdsExactly() {
            Cuda cuda = CudaProbe.cuda();
            for (GpuTopK.Selection sel : GpuTopK.Selection.values()) {
                fused(cuda, 37, 2000, 5, 100, false, true, 900, sel);    // small integers: scores exact, ties everywhere
                fused(cuda, 50, 10_000, 3, 64, true, true, 902, sel);    // split path with ties across splits
                fused(cuda, 33, 3000, 2, 20, true, true, 903, sel);      // the 32-slot lists
            }
            fused(cuda, 37, 2000, 5, 1024, true, true, 901, GpuTopK.Selection.BLOCK_MERGE);
        }

        @Test
        void realisticShape() {
            Cuda cuda = CudaProbe.cuda();
            for (GpuTopK.Selection sel : GpuTopK.Selection.values()) {  // 64 rows on the emulated driver
                fused(cuda, GpuTestSizes.pick(256, 64), 41_000, 64, 100, true, false, 1000, sel);
            }
        }
    }

    /** The selections that run k: both where WARP_ROWS takes it, else BLOCK_MERGE. */
    static GpuTopK.Selection[] selections(int k) {
        return k <= GpuTopK.MAX_WARP_ROWS_K ? GpuTopK.Selection.values() : new GpuTopK.Selection[] {GpuTopK.Selection.BLOCK_MERGE};
    }

    /** Fused problem on both sides; U and items at odd offsets with padded leading dims. */
    static void fused(Cuda cuda, int m, int n, int d, int k, boolean excludes, boolean integers, long seed, GpuTopK.Selection sel) {
        SplittableRandom r = new SplittableRandom(seed);
        int ldu = d + r.nextInt(3), ldi = d + (seed % 2 == 0 ? 0 : 4), uOff = r.nextInt(5), iOff = seed % 2 == 0 ? 0 : 4;
        float[] u = values(r, uOff + m * ldu + 1, integers), it = values(r, iOff + n * ldi + 1, integers);
        int[][] csr = excludes ? exclusions(r, m, n) : new int[][] {null, null};
        int[] ei = new int[m * k];
        float[] es = new float[m * k];
        TopKScalar.scoreTopK(m, n, d, Mem.of(u), uOff, ldu, Mem.of(it), iOff, ldi, k, csr[0], csr[1], ei, es);
        int[] gi;
        float[] gs;
        try (DeviceBuffer du = cuda.upload(u); DeviceBuffer dit = cuda.upload(it);
             DeviceBuffer dp = csr[0] == null ? null : cuda.upload(csr[0]);
             DeviceBuffer dx = csr[1] == null ? null : cuda.upload(csr[1].length == 0 ? new int[1] : csr[1]);
             DeviceBuffer oi = cuda.allocElements(Math.max(1, m * k)); DeviceBuffer os = cuda.allocElements(Math.max(1, m * k))) {
            GpuTopK.scoreTopK(cuda, m, n, d, du, uOff, ldu, dit, iOff, ldi, k, dp, dx, oi, os, sel);
            gi = cuda.downloadInts(oi, m * k);
            gs = cuda.downloadFloats(os, m * k);
        }
        String what = String.format("GpuTopK.scoreTopK %s m=%d n=%d d=%d k=%d excludes=%b integers=%b seed=%d splits=%d",
                sel, m, n, d, k, excludes, integers, seed, GpuTopK.splits(m, n));
        compare(what, m, k, ei, es, gi, gs, integers);
    }

    /** Materialised scores with ties, NaN, +-Inf and -0 sprinkled in. */
    static void select(Cuda cuda, int m, int n, int k, boolean excludes, long seed, GpuTopK.Selection sel) {
        SplittableRandom r = new SplittableRandom(seed);
        int lds = n + r.nextInt(4), sOff = r.nextInt(6);
        float[] s = values(r, sOff + m * lds + 1, false);
        for (int i = 0; i < s.length; i++) {
            int x = r.nextInt(100);
            if (x < 3) s[i] = Float.NaN;
            else if (x < 4) s[i] = Float.NEGATIVE_INFINITY;
            else if (x < 5) s[i] = Float.POSITIVE_INFINITY;
            else if (x < 7) s[i] = -0.0f;
            else if (x < 40) s[i] = Math.round(s[i] * 4) / 4f;  // many exact ties
        }
        int[][] csr = excludes ? exclusions(r, m, n) : new int[][] {null, null};
        int[] ei = new int[m * k];
        float[] es = new float[m * k];
        TopKScalar.selectTopK(m, n, Mem.of(s), sOff, lds, k, csr[0], csr[1], ei, es);
        int[] gi;
        float[] gs;
        try (DeviceBuffer ds = cuda.upload(s);
             DeviceBuffer dp = csr[0] == null ? null : cuda.upload(csr[0]);
             DeviceBuffer dx = csr[1] == null ? null : cuda.upload(csr[1].length == 0 ? new int[1] : csr[1]);
             DeviceBuffer oi = cuda.allocElements(Math.max(1, m * k)); DeviceBuffer os = cuda.allocElements(Math.max(1, m * k))) {
            GpuTopK.selectTopK(cuda, m, n, ds, sOff, lds, k, dp, dx, oi, os, sel);
            gi = cuda.downloadInts(oi, m * k);
            gs = cuda.downloadFloats(os, m * k);
        }
        String what = String.format("GpuTopK.selectTopK %s m=%d n=%d k=%d excludes=%b seed=%d splits=%d",
                sel, m, n, k, excludes, seed, GpuTopK.splits(m, n));
        compare(what, m, k, ei, es, gi, gs, true);  // the scores are given: selection must be exact
    }

    /**
     * Per-row CSR: row 0 excludes nothing, row 1 everything (shuffled, with duplicates), the others up
     * to 40 random ids with duplicates. Row r's ids sit in [ptr[r], ptr[r+1]).
     */
    static int[][] exclusions(SplittableRandom r, int m, int n) {
        int[] ptr = new int[m + 1];
        int[] buf = new int[16];
        int len = 0;
        for (int row = 0; row < m; row++) {
            int cnt = row == 0 || n == 0 ? 0 : row == 1 ? n + 3 : r.nextInt(Math.min(n, 40) + 1);
            for (int q = 0; q < cnt; q++) {
                if (len == buf.length) buf = Arrays.copyOf(buf, buf.length * 2);
                buf[len++] = row == 1 && q < n ? q : r.nextInt(n);
            }
            if (row == 1) {  // shuffle the "everything" row so it is not sorted
                for (int q = ptr[row] + cnt - 1; q > ptr[row]; q--) {
                    int w = ptr[row] + r.nextInt(q - ptr[row] + 1), t = buf[q];
                    buf[q] = buf[w];
                    buf[w] = t;
                }
            }
            ptr[row + 1] = len;
        }
        return new int[][] {ptr, Arrays.copyOf(buf, len)};
    }

    static float[] values(SplittableRandom r, int n, boolean integers) {
        float[] x = n > 0 ? GemmGpuTest.randn(r, n) : new float[0];
        if (integers) for (int i = 0; i < n; i++) x[i] = r.nextInt(5) - 2;
        return x;
    }

    /**
     * Slot by slot: ids equal and scores equal (Float.compare, so -0 vs 0 counts), or, when not exact,
     * a different id only where both scores agree within 1e-6 (a tie the summation order may flip).
     * Each row's ids must be distinct and -1 exactly where the reference has -1.
     */
    static void compare(String what, int m, int k, int[] ei, float[] es, int[] gi, float[] gs, boolean exact) {
        for (int row = 0; row < m; row++) {
            Set<Integer> seen = new HashSet<>();
            for (int j = 0; j < k; j++) {
                int x = row * k + j;
                if (gi[x] >= 0 && !seen.add(gi[x])) fail(what + ": row " + row + " lists item " + gi[x] + " twice" + row(row, k, ei, es, gi, gs));
                if (ei[x] == gi[x] && Float.compare(es[x], gs[x]) == 0) continue;
                boolean tie = !exact && ei[x] >= 0 && gi[x] >= 0
                        && Math.abs((double) es[x] - gs[x]) <= 1e-6 * Math.max(1, Math.abs(es[x]));
                if (!tie) {
                    fail(String.format("%s: row %d slot %d: gpu id %d score %s, reference id %d score %s%s", what, row, j,
                            gi[x], gs[x], ei[x], es[x], row(row, k, ei, es, gi, gs)));
                }
            }
        }
    }

    private static String row(int row, int k, int[] ei, float[] es, int[] gi, float[] gs) {
        StringBuilder b = new StringBuilder("\n  reference row " + row + ":");
        for (int j = 0; j < Math.min(k, 8); j++) b.append(' ').append(ei[row * k + j]).append('=').append(es[row * k + j]);
        b.append("\n  gpu row ").append(row).append(':');
        for (int j = 0; j < Math.min(k, 8); j++) b.append(' ').append(gi[row * k + j]).append('=').append(gs[row * k + j]);
        return b.toString();
    }
}
