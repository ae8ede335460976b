package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GpuEmbedding.gatherRagged (RCE-KD's batch rows cut out of the epoch's per-user lists on the device)
 * against a plain Java loop: ids copied and values scaled exactly (one rounded product each, as on the
 * host), rows repeated and in any order, empty rows, rows longer than a warp, no scale, ids only; the
 * entries past the output's end stay untouched. The argument checks run without a GPU.
 */
class RaggedGatherGpuTest {
    /** A source CSR of {@code rows} rows with lengths 0..maxLen. */
    private static int[] ptr(SplittableRandom r, int rows, int maxLen) {
        int[] p = new int[rows + 1];
        for (int i = 0; i < rows; i++) p[i + 1] = p[i] + (i % 7 == 3 ? 0 : r.nextInt(maxLen + 1));
        return p;
    }

    @Nested
    @Tag("gpu")
    @ExtendWith(RequiresGpu.class)
    class OnGpu {
        @Test
        void matchesTheHostLoop() {
            Cuda cuda = CudaProbe.cuda();
            long before = cuda.allocatedBytes();
            int[][] shapes = {{0, 5, 10}, {1, 5, 10}, {31, 40, 33}, {33, 40, 70}, {1021, 300, 200}};
            long seed = 1;
            for (int[] sh : shapes) for (int mode = 0; mode < 3; mode++) run(cuda, seed++, sh[0], sh[1], sh[2], mode);
            assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
        }

        /** mode 0: scaled values; 1: values, no scale; 2: ids only. */
        private void run(Cuda cuda, long seed, int m, int srcRows, int maxLen, int mode) {
            SplittableRandom r = new SplittableRandom(seed);
            int[] sPtr = ptr(r, srcRows, maxLen);
            int nnz = sPtr[srcRows];
            int[] sIdx = new int[nnz];
            float[] sVal = new float[nnz];
            for (int j = 0; j < nnz; j++) {
                sIdx[j] = r.nextInt(1 << 20);
                sVal[j] = (float) r.nextGaussian();
            }
            int[] src = new int[m], dPtr = new int[m + 1];
            float[] scale = new float[m];
            for (int i = 0; i < m; i++) {
                src[i] = r.nextInt(srcRows); // repeats allowed
                dPtr[i + 1] = dPtr[i] + sPtr[src[i] + 1] - sPtr[src[i]];
                scale[i] = (float) (r.nextDouble() * 10);
            }
            int out = dPtr[m] + 5; // 5 sentinel entries past the end
            int[] eIdx = new int[out];
            float[] eVal = new float[out];
            java.util.Arrays.fill(eIdx, -7);
            java.util.Arrays.fill(eVal, 42f);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < dPtr[i + 1] - dPtr[i]; j++) {
                    eIdx[dPtr[i] + j] = sIdx[sPtr[src[i]] + j];
                    eVal[dPtr[i] + j] = mode == 0 ? scale[i] * sVal[sPtr[src[i]] + j] : mode == 1 ? sVal[sPtr[src[i]] + j] : 42f;
                }
            }
            int[] idx0 = new int[out];
            float[] val0 = new float[out];
            java.util.Arrays.fill(idx0, -7);
            java.util.Arrays.fill(val0, 42f);
            try (DeviceBuffer dSrc = cuda.upload(src.length == 0 ? new int[1] : src); DeviceBuffer dsPtr = cuda.upload(sPtr);
                 DeviceBuffer dsIdx = cuda.upload(nnz == 0 ? new int[1] : sIdx); DeviceBuffer dsVal = cuda.upload(nnz == 0 ? new float[1] : sVal);
                 DeviceBuffer ddPtr = cuda.upload(dPtr); DeviceBuffer dScale = cuda.upload(scale.length == 0 ? new float[1] : scale);
                 DeviceBuffer dIdx = cuda.upload(idx0); DeviceBuffer dVal = cuda.upload(val0)) {
                GpuEmbedding.gatherRagged(cuda, m, dSrc, dsPtr, dsIdx, mode == 2 ? null : dsVal, ddPtr, mode == 0 ? dScale : null, dIdx,
                        mode == 2 ? null : dVal);
                String what = "m=" + m + " srcRows=" + srcRows + " maxLen=" + maxLen + " mode=" + mode;
                assertArrayEquals(eIdx, cuda.downloadInts(dIdx, out), what + ": ids");
                assertArrayEquals(eVal, cuda.downloadFloats(dVal, out), what + ": values (bit for bit)");
            }
        }
    }

    @Test
    void argumentsAreCheckedBeforeAnyCudaCall() {
        DeviceBuffer four = DeviceBuffer.detached(4), one = DeviceBuffer.detached(1);
        var e = assertThrows(IllegalArgumentException.class, () -> GpuEmbedding.gatherRagged(null, -1, four, four, four, four, four, null, four, four));
        assertTrue(e.getMessage().contains("gatherRagged") && e.getMessage().contains("m"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GpuEmbedding.gatherRagged(null, 3, four, four, four, four, four, null, four, null));
        assertTrue(e.getMessage().contains("both"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GpuEmbedding.gatherRagged(null, 4, four, four, four, null, four, null, four, null));
        assertTrue(e.getMessage().contains("dstPtr"), e.getMessage()); // needs m + 1 = 5 entries
        e = assertThrows(IllegalArgumentException.class, () -> GpuEmbedding.gatherRagged(null, 3, four, four, four, four, four, one, four, four));
        assertTrue(e.getMessage().contains("rowScale"), e.getMessage());
        GpuEmbedding.gatherRagged(null, 0, four, four, four, null, four, null, four, null); // m = 0: nothing to launch
    }
}
