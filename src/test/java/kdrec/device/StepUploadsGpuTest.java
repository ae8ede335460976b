package kdrec.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import kdrec.gpu.Cuda;
import kdrec.gpu.CudaProbe;
import kdrec.gpu.RequiresGpu;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * StepUploads (a step's uploads packed into one copy): every staged array arrives intact whatever
 * the sizes (empty, odd, one that outgrows the host buffer, a later step that outgrows the arena), a
 * view is refused before its flush and after the next begin, staging after a flush is refused, and
 * closing frees the arena.
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class StepUploadsGpuTest {
    @Test
    void packedArraysArriveIntactAndViewsLiveOneStep() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        SplittableRandom r = new SplittableRandom(4);
        try (StepUploads up = new StepUploads(cuda)) {
            for (int[] sizes : new int[][] {{3, 0, 1, 257}, {20_000, 5, 40_000}, {1, 1}}) { // the second outgrows 64 KiB and the arena
                up.begin();
                int[][] ints = new int[sizes.length][];
                float[][] floats = new float[sizes.length][];
                StepUploads.Staged[] si = new StepUploads.Staged[sizes.length], sf = new StepUploads.Staged[sizes.length];
                for (int i = 0; i < sizes.length; i++) {
                    ints[i] = r.ints(sizes[i] + 3).toArray(); // longer than staged: only n values go up
                    floats[i] = new float[sizes[i] + 3];
                    for (int j = 0; j < floats[i].length; j++) floats[i][j] = (float) r.nextGaussian();
                    si[i] = up.ints(ints[i], sizes[i]);
                    sf[i] = up.floats(floats[i], sizes[i]);
                }
                StepUploads.Staged first = si[0];
                assertThrows(IllegalStateException.class, first::get, "a view before its flush");
                up.flush();
                assertThrows(IllegalStateException.class, () -> up.ints(new int[1], 1), "staging after the flush");
                assertThrows(IllegalStateException.class, up::flush, "a second flush");
                for (int i = 0; i < sizes.length; i++) {
                    assertEquals(sizes[i], si[i].get().elements(), "view length");
                    assertArrayEquals(java.util.Arrays.copyOf(ints[i], sizes[i]), cuda.downloadInts(si[i].get(), sizes[i]), "ints " + i);
                    assertArrayEquals(java.util.Arrays.copyOf(floats[i], sizes[i]), cuda.downloadFloats(sf[i].get(), sizes[i]), "floats " + i);
                }
                up.begin();
                assertThrows(IllegalStateException.class, first::get, "a view of an earlier step");
            }
        }
        assertEquals(before, cuda.allocatedBytes(), "the arena is freed on close");
    }
}
