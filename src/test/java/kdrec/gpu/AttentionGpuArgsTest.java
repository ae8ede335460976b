package kdrec.gpu;

import static kdrec.gpu.ElemGpuSupport.fake;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Runs everywhere, GPU or not: GpuAttention's argument checks throw IllegalArgumentException naming the
 * op and the bad values before any CUDA call (cuda is null here, and the buffers belong to no context),
 * empty batches return without one, and the shared-memory sizes pick the staged path exactly while it
 * fits the 48 KiB a block gets without an opt-in.
 */
class AttentionGpuArgsTest {
    private static void rejects(Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message \"" + e.getMessage() + "\" should mention " + p);
    }

    // b = 2, n = 4, h = 2, dh = 3: rows 2*4*6 = 48 elements, maps 2*2*4*4 = 64, rab >= 7.
    private static final int B = 2, N = 4, H = 2, LD = 6, ROWS = 48, MAPS = 64, RAB = 7;

    private static void fwd(int b, int n, int h, int ld, DeviceBuffer rows, DeviceBuffer rab, int rabLen, float scale, DeviceBuffer maps) {
        GpuAttention.forward(null, b, n, h, rows, rows, rows, ld, rab, rabLen, scale, maps, maps, rows);
    }

    @Test
    void forwardChecksBeforeTouchingCuda() {
        DeviceBuffer rows = fake(ROWS), maps = fake(MAPS), rab = fake(RAB);
        rejects(() -> fwd(B, N, H, LD, rows, rab, 6, 1f, maps), "GpuAttention.forward", "rabLen = 6", "odd");
        rejects(() -> fwd(B, N, H, LD, rows, fake(5), 5, 1f, maps), "GpuAttention.forward", "rabLen = 5", ">= 2n-1 = 7");
        rejects(() -> fwd(B, N, H, 7, fake(100), rab, RAB, 1f, maps), "GpuAttention.forward", "ld = 7", "not divisible by h = 2");
        rejects(() -> fwd(B, N, H, 0, rows, rab, RAB, 1f, maps), "ld = 0");
        rejects(() -> fwd(B, N, 1, 257, fake(2 * 4 * 257), rab, RAB, 1f, maps), "dh = ld / h = 257", "> 256");
        rejects(() -> fwd(B, 513, H, LD, rows, fake(1025), 1025, 1f, maps), "n = 513");
        rejects(() -> fwd(-1, N, H, LD, rows, rab, RAB, 1f, maps), "b = -1");
        rejects(() -> fwd(B, N, 0, LD, rows, rab, RAB, 1f, maps), "h = 0");
        rejects(() -> fwd(B, N, H, LD, rows, rab, RAB, Float.NaN, maps), "scale = NaN");
        rejects(() -> fwd(B, N, H, LD, fake(ROWS - 1), rab, RAB, 1f, maps), "GpuAttention.forward", "q needs 48 elements", "holds 47");
        rejects(() -> fwd(B, N, H, LD, rows, rab, RAB, 1f, fake(MAPS - 1)), "pre needs 64 elements");
        rejects(() -> fwd(B, N, H, LD, rows, fake(RAB - 2), RAB, 1f, maps), "rab needs 7 elements");
        rejects(() -> GpuAttention.forward(null, B, N, H, rows, rows, rows, LD, rab, RAB, 1f, maps, maps, fake(10)), "out needs 48");
        rejects(() -> GpuAttention.forward(null, B, N, H, rows, null, rows, LD, rab, RAB, 1f, maps, maps, rows), "k is null");
        // Empty batches: no launch, so the null context is never touched.
        fwd(0, N, H, LD, fake(0), rab, RAB, 1f, fake(0));
        fwd(B, 0, H, LD, fake(0), fake(1), 1, 1f, fake(0));
    }

    @Test
    void backwardChecksBeforeTouchingCuda() {
        DeviceBuffer rows = fake(ROWS), maps = fake(MAPS), rab = fake(RAB);
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, rows, LD, maps, maps, 1f, rows, maps, rows, rows, rows, rab, 8),
                "GpuAttention.backward", "rabLen = 8");
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, rows, 5, maps, maps, 1f, rows, maps, rows, rows, rows, rab, RAB),
                "GpuAttention.backward", "ld = 5", "h = 2");
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, rows, LD, maps, maps, 1f, rows, fake(63), rows, rows, rows, rab, RAB),
                "GpuAttention.backward", "dPre needs 64 elements", "holds 63");
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, rows, LD, maps, maps, 1f, rows, maps, rows, fake(47), rows, rab, RAB),
                "dk needs 48");
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, rows, LD, maps, maps, 1f, rows, maps, rows, rows, rows, fake(6), RAB),
                "drab needs 7");
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, rows, LD, maps, maps, 1f, null, maps, rows, rows, rows, rab, RAB),
                "dOut is null");
        // b * h * n past an int: the drab pass numbers a diagonal's entries in int
        int bigB = 1 << 22, bigN = 512;
        DeviceBuffer bigRows = fake((long) bigB * bigN), bigMaps = fake((long) bigB * bigN * bigN), bigRab = fake(2 * bigN - 1);
        rejects(() -> GpuAttention.backward(null, bigB, bigN, 1, bigRows, bigRows, bigRows, 1, bigMaps, bigMaps, 1f, bigRows, bigMaps, bigRows,
                bigRows, bigRows, bigRab, 2 * bigN - 1), "GpuAttention.backward", "b * h * n = 2147483648", "exceeds 2^31 - 1 - 256");
        GpuAttention.backward(null, 0, N, H, fake(0), fake(0), fake(0), LD, fake(0), fake(0), 1f, fake(0), fake(0), fake(0), fake(0), fake(0), rab, RAB);
    }

    @Test
    void sharedSizesStayWithinTheDefaultLimit() {
        // Staged row tiles: 16x32 weights + 16 q rows + 32 padded k rows + 32 v rows.
        assertEquals(4 * (512 + 16 * 64 + 32 * 65 + 32 * 64), GpuAttention.rowTileShared(64, true));
        assertEquals(4 * 512, GpuAttention.rowTileShared(256, false));
        assertEquals(4 * (1024 + 64 * 64), GpuAttention.colTileShared(64, true));
        int lastRow = 0, lastCol = 0;
        for (int dh = 1; dh <= GpuAttention.MAX_DH; dh++) {
            if (GpuAttention.rowTileShared(dh, true) <= GpuAttention.SHARED_LIMIT) lastRow = dh;
            if (GpuAttention.colTileShared(dh, true) <= GpuAttention.SHARED_LIMIT) lastCol = dh;
        }
        // The production heads (dh 32..64) are staged; the unstaged fallbacks are small.
        assertEquals(146, lastRow);
        assertEquals(176, lastCol);
        assertTrue(GpuAttention.rowTileShared(GpuAttention.MAX_DH, false) <= GpuAttention.SHARED_LIMIT);
        assertTrue(GpuAttention.colTileShared(GpuAttention.MAX_DH, false) <= GpuAttention.SHARED_LIMIT);
        assertEquals(32, GpuAttention.tiles(512));
    }
}
