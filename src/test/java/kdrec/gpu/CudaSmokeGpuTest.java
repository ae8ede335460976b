package kdrec.gpu;

import static kdrec.gpu.ElemGpuSupport.rand;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * kdrec.gpu.Cuda itself, driven through the simplest kernels (GpuVec fill / axpy / sum): host-device
 * round trips larger than the 8 MiB pinned staging buffer (so they go in chunks), offsets on the host
 * side, DeviceBuffer views (at / slice) as kernel arguments and copy endpoints, copy, fill32, a 1-D
 * launch past the 65,536-block grid cap (grid-stride), the accounting of allocatedBytes, and the
 * failures Cuda promises: a launch with a freed buffer, an out-of-range download or slice.
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class CudaSmokeGpuTest {
    @Test
    void describesTheDevice() {
        Cuda cuda = CudaProbe.cuda();
        assertSame(cuda, CudaProbe.cuda(), "one context per JVM");
        assertTrue(cuda.describe().startsWith("cuda:"), cuda.describe());
        System.out.println("CudaSmokeGpuTest on " + cuda.describe());
    }

    @Test
    void roundTripLargerThanTheStagingBufferInChunks() {
        Cuda cuda = CudaProbe.cuda();
        long start = cuda.allocatedBytes();
        int n = 5_000_003;  // 20 MB: three staging chunks, the last one partial
        float[] a = rand(1, n);
        try (DeviceBuffer d = cuda.upload(a)) {
            assertEquals(start + (n * 4L + 3 & ~3L), cuda.allocatedBytes(), "allocatedBytes counts the upload's buffer");
            assertArrayEquals(a, cuda.downloadFloats(d, n), "float round trip of " + n + " elements");
            // Host-side offsets: upload a[7..] into the buffer, download into a host array at byte 12.
            cuda.upload(MemorySegment.ofArray(a), 7 * 4L, d, (n - 7) * 4L);
            float[] back = new float[n + 3];
            cuda.download(d, MemorySegment.ofArray(back), 12, (n - 7) * 4L);
            assertArrayEquals(Arrays.copyOfRange(a, 7, n), Arrays.copyOfRange(back, 3, n - 4), "round trip with host offsets");
        }
        int[] ints = new int[3_000_001];
        for (int i = 0; i < ints.length; i++) ints[i] = i * 0x9E3779B9;
        try (DeviceBuffer d = cuda.upload(ints)) {
            assertArrayEquals(ints, cuda.downloadInts(d, ints.length), "int round trip");
        }
        assertEquals(start, cuda.allocatedBytes(), "allocatedBytes back to its start value after close");
    }

    @Test
    void viewsCopyFill32AndKernelsOnViews() {
        Cuda cuda = CudaProbe.cuda();
        long start = cuda.allocatedBytes();
        try (DeviceBuffer d = cuda.allocElements(100); DeviceBuffer e = cuda.allocElements(100)) {
            assertArrayEquals(new float[100], cuda.downloadFloats(d, 100), "alloc must zero-fill");
            DeviceBuffer v = d.at(10);  // view: elements 10..99
            assertEquals(90, v.elements());
            GpuVec.fill(cuda, 20, v, 5, 2.5f);                 // d[15..35) = 2.5
            cuda.fill32(d.slice(40 * 4, 10 * 4), 10, Float.floatToRawIntBits(-1f));  // d[40..50) = -1
            float[] x = rand(2, 100);
            try (DeviceBuffer dx = cuda.upload(x)) {
                GpuVec.axpy(cuda, 30, 2f, dx.at(3), 0, d.at(60), 1);  // d[61..91) += 2 * x[3..33)
            }
            float[] want = new float[100];
            Arrays.fill(want, 15, 35, 2.5f);
            Arrays.fill(want, 40, 50, -1f);
            for (int i = 0; i < 30; i++) want[61 + i] = Math.fma(2f, x[3 + i], 0f);
            assertArrayEquals(want, cuda.downloadFloats(d, 100), "fill on a view with an offset, fill32 on a slice, axpy on views");
            assertArrayEquals(Arrays.copyOfRange(want, 40, 52), cuda.downloadFloats(d.slice(40 * 4, 12 * 4), 12), "download from a slice");
            cuda.copy(d.at(15), e.at(2), 20 * 4);
            float[] wantE = new float[100];
            System.arraycopy(want, 15, wantE, 2, 20);
            assertArrayEquals(wantE, cuda.downloadFloats(e, 100), "copy between views");
            v.close();  // a view's close frees nothing
            assertEquals(start + 800, cuda.allocatedBytes(), "closing a view must not free");
            assertEquals(2.5 * 20 - 10 + sum(want, 61, 91), GpuVec.sum(cuda, 100, d, 0), 1e-9, "the root is still usable");
        }
        try (DeviceBuffer odd = cuda.alloc(10)) {
            assertEquals(start + 12, cuda.allocatedBytes(), "alloc rounds up to a multiple of 4 bytes");
            odd.close();
            odd.close();  // idempotent
            assertEquals(start, cuda.allocatedBytes(), "a second close frees nothing");
        }
        assertEquals(start, cuda.allocatedBytes(), "allocatedBytes back to its start value");
    }

    @Test
    void packedAndPointerLaunchesPassTheSameArguments() {
        // long, float, pointer views with offsets (vec_axpy) and an int followed by pointers, padded to 8
        // (gather_ragged): the packed buffer's layout must be what the kernels read, the same as one
        // pointer per argument. (The emulated driver also checks every packed buffer's size against the
        // kernel's parameter types, and the gpu-emu run uses packed launches strictly.)
        Cuda cuda = CudaProbe.cuda();
        boolean saved = Cuda.packedLaunches();
        float[] x = rand(7, 50), y0 = rand(8, 50);
        int[] srcPtr = {0, 3, 3, 7}, srcIdx = {5, 1, 9, 2, 2, 8, 4}, users = {2, 0, 2}, dstPtr = {0, 4, 7, 11};
        float[] srcVal = rand(9, 7), scale = {0.5f, 2f, -1f};
        float[][] ys = new float[2][];
        int[][] idxs = new int[2][];
        float[][] vals = new float[2][];
        try {
            for (int mode = 0; mode < 2; mode++) {
                Cuda.usePackedLaunches(mode == 0);
                try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dy = cuda.upload(y0); DeviceBuffer src = cuda.upload(users);
                     DeviceBuffer sp = cuda.upload(srcPtr); DeviceBuffer si = cuda.upload(srcIdx); DeviceBuffer sv = cuda.upload(srcVal);
                     DeviceBuffer dp = cuda.upload(dstPtr); DeviceBuffer sc = cuda.upload(scale);
                     DeviceBuffer di = cuda.allocElements(11); DeviceBuffer dv = cuda.allocElements(11)) {
                    GpuVec.axpy(cuda, 30, -1.5f, dx.at(3), 4, dy.at(1), 10);
                    GpuEmbedding.gatherRagged(cuda, 3, src, sp, si, sv, dp, sc, di, dv);
                    ys[mode] = cuda.downloadFloats(dy, 50);
                    idxs[mode] = cuda.downloadInts(di, 11);
                    vals[mode] = cuda.downloadFloats(dv, 11);
                }
            }
        } finally {
            Cuda.usePackedLaunches(saved);
        }
        float[] want = y0.clone();
        for (int i = 0; i < 30; i++) want[11 + i] = Math.fma(-1.5f, x[7 + i], y0[11 + i]);
        assertArrayEquals(want, ys[0], "axpy, packed");
        assertArrayEquals(want, ys[1], "axpy, one pointer per argument");
        assertArrayEquals(new int[] {2, 2, 8, 4, 5, 1, 9, 2, 2, 8, 4}, idxs[0], "ragged gather ids, packed");
        assertArrayEquals(idxs[0], idxs[1], "ragged gather ids, the same either way");
        assertEquals(0.5f * srcVal[3], vals[0][0], "ragged gather value times its row's scale");
        assertArrayEquals(vals[0], vals[1], "ragged gather values, the same either way");
    }

    private static double sum(float[] a, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) s += a[i];
        return s;
    }

    @Test
    void gridStrideCoversMoreThanTheGridCap() {
        Cuda cuda = CudaProbe.cuda();
        long start = cuda.allocatedBytes();
        long n = 65_536L * GpuVec.BLOCK + 4097;  // launch1d caps the grid at 65,536 blocks: each thread loops
        try (DeviceBuffer d = cuda.allocElements(n + 1)) {
            GpuVec.fill(cuda, n, d, 1, 1f);
            assertEquals((double) n, GpuVec.sum(cuda, n + 1, d, 0), 0.0, "every element of a " + n + "-element fill written (and d[0] not)");
            float[] tail = cuda.downloadFloats(d.at(n - 3), 4);
            assertArrayEquals(new float[] {1f, 1f, 1f, 1f}, tail, "the last elements of the fill");
        }
        assertEquals(start, cuda.allocatedBytes());
    }

    @Test
    void misuseFailsWithTheDocumentedExceptions() {
        Cuda cuda = CudaProbe.cuda();
        long start = cuda.allocatedBytes();
        DeviceBuffer freed = cuda.allocElements(8);
        freed.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> GpuVec.fill(cuda, 8, freed, 0, 1f),
                "a launch with a freed buffer");
        assertTrue(e.getMessage().contains("freed"), e.getMessage());
        try (DeviceBuffer d = cuda.allocElements(8)) {
            assertThrows(IndexOutOfBoundsException.class, () -> cuda.downloadFloats(d, 9), "download past the end");
            assertThrows(IndexOutOfBoundsException.class, () -> cuda.downloadFloats(d.at(4), 5), "download past the end of a view");
            assertThrows(IndexOutOfBoundsException.class, () -> d.slice(4, 32), "slice past the end");
            assertThrows(IndexOutOfBoundsException.class, () -> cuda.copy(d, d.at(4), 32), "copy past the end of the destination");
            assertThrows(IndexOutOfBoundsException.class, () -> cuda.fill32(d, 9, 0), "fill32 past the end");
            assertThrows(IllegalArgumentException.class, () -> GpuVec.fill(cuda, 9, d, 0, 1f), "GpuVec range check");
        }
        assertEquals(start, cuda.allocatedBytes(), "allocatedBytes back to its start value");
    }
}
