package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The context's wrapper scratch (Workspace): a lease has exactly the bytes asked for, a later lease
 * reuses the block (no allocation) until a bigger one grows it, leases nest on no thread, a closed lease
 * is unusable, and the cache is left out of the leak count. The wrappers that lease it (split-K GEMM,
 * split top-K, softmax-CE forward and backward, sum, allFinite) give the same results whatever the
 * scratch held before (a fresh cuMemAlloc used to hand them zeros).
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class WorkspaceGpuTest extends GpuLeakChecked {
    @Test
    void leasesReuseOneGrowOnlyBlock() {
        Workspace ws = cuda.workspace();
        long before = cuda.allocatedBytes();
        DeviceBuffer first;
        try (Workspace.Lease l = ws.lease(4096)) {
            first = l.buffer();
            assertEquals(4096, first.bytes(), "exactly the bytes asked for");
            cuda.upload(new int[] {7, 8, 9}).close();
            assertThrows(IllegalStateException.class, () -> ws.lease(4), "no nested lease on one thread");
        }
        assertEquals(before, cuda.allocatedBytes(), "the cache is not counted as a leak");
        try (Workspace.Lease l = ws.lease(1024)) {
            // the same block: what the last lease wrote is still there
            cuda.upload(java.lang.foreign.MemorySegment.ofArray(new int[] {1, 2, 3}), 0, l.buffer(), 12);
        }
        try (Workspace.Lease l = ws.lease(12)) {
            assertArrayEquals(new int[] {1, 2, 3}, cuda.downloadInts(l.buffer(), 3), "a smaller lease reuses the block");
        }
        try (Workspace.Lease l = ws.lease(1 << 20)) {
            assertEquals(1 << 20, l.buffer().bytes(), "a bigger lease grows it");
        }
        Workspace.Lease closed = ws.lease(8);
        closed.close();
        assertThrows(IllegalStateException.class, closed::buffer, "a closed lease is unusable");
        assertEquals(before, cuda.allocatedBytes());
    }

    @Test
    void leasingWrappersIgnoreWhatTheScratchHeld() {
        int m = 40, n = 4096, d = 16, k = 20;
        assertTrue(GpuGemm.splitK(64, 64, 1024, cuda.multiprocessors()) > 1 && GpuTopK.splits(m, n, cuda.multiprocessors()) > 1,
                "the shapes take the split paths that lease scratch");
        Object[][] runs = new Object[2][];
        for (int rep = 0; rep < 2; rep++) {
            if (rep == 1) {
                try (Workspace.Lease l = cuda.workspace().lease(64L << 20)) { // poison: NaN everywhere
                    cuda.fill32(l.buffer(), (64L << 20) / 4, Float.floatToRawIntBits(Float.NaN));
                }
            }
            try (DeviceBuffer a = cuda.upload(gaussian(64 * 1024, 1)); DeviceBuffer b = cuda.upload(gaussian(64 * 1024, 2));
                 DeviceBuffer c = cuda.allocElements(64 * 64); DeviceBuffer u = cuda.upload(gaussian(m * d, 3));
                 DeviceBuffer it = cuda.upload(gaussian(n * d, 4)); DeviceBuffer ids = cuda.allocElements(m * k);
                 DeviceBuffer scores = cuda.allocElements(m * k); DeviceBuffer target = cuda.upload(new int[m]);
                 DeviceBuffer loss = cuda.allocElements(m); DeviceBuffer lse = cuda.allocElements(m); DeviceBuffer gLoss = cuda.upload(gaussian(m, 5));
                 DeviceBuffer du = cuda.allocElements(m * d); DeviceBuffer di = cuda.allocElements((long) n * d)) {
                GpuGemm.nt(cuda, 64, 64, 1024, 1f, a, 0, 1024, b, 0, 1024, 0f, c, 0, 64);
                GpuTopK.scoreTopK(cuda, m, n, d, u, 0, d, it, 0, d, k, null, null, ids, scores);
                GpuSoftmaxCe.forward(cuda, m, n, d, u, 0, d, it, 0, d, 1f, target, loss, lse);
                GpuSoftmaxCe.backward(cuda, m, n, d, u, 0, d, it, 0, d, 1f, target, lse, gLoss, du, 0, d, di, 0, d);
                runs[rep] = new Object[] {cuda.downloadFloats(c, 64 * 64), cuda.downloadInts(ids, m * k), cuda.downloadFloats(loss, m),
                        cuda.downloadFloats(du, m * d), GpuVec.sum(cuda, m * d, du, 0), GpuVec.allFinite(cuda, m * d, du, 0)};
            }
        }
        String[] what = {"split-K GEMM", "split top-K ids", "softmax-CE loss", "softmax-CE dU", "sum", "allFinite"};
        for (int i = 0; i < what.length; i++) {
            assertEquals(java.util.Arrays.deepToString(new Object[] {runs[0][i]}), java.util.Arrays.deepToString(new Object[] {runs[1][i]}),
                    what[i] + ": a NaN-filled scratch changes nothing");
        }
        assertEquals(Boolean.TRUE, runs[1][5], "allFinite sets its own flag");
    }

    private static float[] gaussian(int n, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }
}
