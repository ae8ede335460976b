package kdrec.gpu;

import static kdrec.gpu.CeGpuTestSupport.assertNoLeak;
import static kdrec.gpu.CeGpuTestSupport.down;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import kdrec.loss.SequenceLoss;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link GpuSequenceNegatives} against the host: the device's per-position negatives are
 * {@link SequenceLoss#negative}'s ids exactly (empty, single, odd sizes, the largest catalogue, negative
 * seeds, a row base whose entry index passes 2^31), and the mask scales every logit except a row's own
 * target, which becomes -inf.
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class SequenceNegativesGpuTest {
    @Test
    void drawsAreTheHostsAndTheMaskTakesOutEachRowsTarget() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        // rows, r, rowBase, items, seed
        long[][] cases = {{0, 4, 0, 10, 1}, {1, 1, 0, 1, 0}, {33, 17, 7, 1000, -5}, {100, 513, 250, 25_000, 0x6A09E667F3BCC909L},
            {3, 5, 2_000_000, Integer.MAX_VALUE, Long.MIN_VALUE}, {2, 2048, 1_100_000, 7, 42}};
        for (long[] c : cases) {
            int rows = (int) c[0], r = (int) c[1], rowBase = (int) c[2], items = (int) c[3];
            long seed = c[4];
            String at = "draw rows=" + rows + " r=" + r + " rowBase=" + rowBase + " items=" + items + " seed=" + seed;
            SequenceLoss host = new SequenceLoss("sampled_softmax", r, 0.1f, 0, true);
            int n = rows * r;
            int[] want = new int[n], target = new int[rows];
            for (int e = 0; e < n; e++) want[e] = host.negative(seed, rowBase + e / r, e % r, items);
            for (int i = 0; i < rows; i++) target[i] = want[i * r + (i % r)]; // every row meets its own target at least once
            float[] logits = CeGpuTestSupport.randn(seed ^ n, n, 2.0);
            try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
                DeviceBuffer idx = b.zeros(Math.max(1, n)), dl = b.f(n == 0 ? new float[1] : logits);
                GpuSequenceNegatives.draw(cuda, rows, r, seed, rowBase, items, idx);
                assertArrayEquals(want, cuda.downloadInts(idx, n), at);
                GpuSequenceNegatives.maskPositives(cuda, rows, r, 0.25f, idx, b.i(rows == 0 ? new int[1] : target), dl);
                float[] got = down(cuda, dl, n);
                for (int e = 0; e < n; e++) {
                    float expect = want[e] == target[e / r] ? Float.NEGATIVE_INFINITY : logits[e] * 0.25f;
                    assertEquals(expect, got[e], at + " logit " + e);
                }
            }
        }
        var bad = assertThrows(IllegalArgumentException.class, () -> GpuSequenceNegatives.draw(cuda, 2, 0, 1, 0, 5, null));
        assertTrue(bad.getMessage().contains("r >= 1"), bad.getMessage());
        assertNoLeak(cuda, before, "SequenceNegativesGpuTest");
    }
}
