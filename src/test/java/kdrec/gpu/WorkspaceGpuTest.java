package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The context's wrapper scratch (Workspace): a lease has exactly the bytes asked for, a later lease
 * reuses the block (no allocation) until a bigger one grows it, leases nest on no thread, a closed lease
 * is unusable, and the cache is left out of the leak count.
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
}
