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
 * each of the two row widths (q/k: ldQk, v: ldV) checked on its own and each operand sized by its own
 * width; empty batches return without one, and the shared-memory sizes pick the staged path exactly
 * while it fits the 48 KiB a block gets without an opt-in, per launch when the widths differ.
 */
class AttentionGpuArgsTest {
    private static void rejects(Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message \"" + e.getMessage() + "\" should mention " + p);
    }

    // b = 2, n = 4, h = 2, dhQk = 3, dhV = 5: q/k rows 2*4*6 = 48 elements, v rows 2*4*10 = 80, maps 2*2*4*4 = 64, rab >= 7.
    private static final int B = 2, N = 4, H = 2, LDQK = 6, LDV = 10, ROWS = 48, ROWS_V = 80, MAPS = 64, RAB = 7;

    private static void fwd(int b, int n, int h, int ldQk, int ldV, DeviceBuffer rows, DeviceBuffer rowsV, DeviceBuffer rab, int rabLen,
                            float scale, DeviceBuffer maps) {
        GpuAttention.forward(null, b, n, h, rows, rows, ldQk, rowsV, ldV, rab, rabLen, scale, maps, maps, rowsV);
    }

    /** backward with every q/k-wide operand `rows`, every v-wide one `rowsV`, every map `maps`. */
    private static void bwd(int b, int n, int h, int ldQk, int ldV, DeviceBuffer rows, DeviceBuffer rowsV, DeviceBuffer maps, DeviceBuffer rab,
                            int rabLen) {
        GpuAttention.backward(null, b, n, h, rows, rows, ldQk, rowsV, ldV, maps, maps, 1f, rowsV, maps, rows, rows, rowsV, rab, rabLen);
    }

    @Test
    void forwardChecksBeforeTouchingCuda() {
        DeviceBuffer rows = fake(ROWS), rowsV = fake(ROWS_V), maps = fake(MAPS), rab = fake(RAB);
        rejects(() -> fwd(B, N, H, LDQK, LDV, rows, rowsV, rab, 6, 1f, maps), "GpuAttention.forward", "rabLen = 6", "odd");
        rejects(() -> fwd(B, N, H, LDQK, LDV, rows, rowsV, fake(5), 5, 1f, maps), "GpuAttention.forward", "rabLen = 5", ">= 2n-1 = 7");
        rejects(() -> fwd(B, N, H, LDQK, LDV, rows, rowsV, rab, RAB, Float.NaN, maps), "scale = NaN");
        rejects(() -> fwd(B, 513, H, LDQK, LDV, rows, rowsV, fake(1025), 1025, 1f, maps), "n = 513");
        rejects(() -> fwd(-1, N, H, LDQK, LDV, rows, rowsV, rab, RAB, 1f, maps), "b = -1");
        rejects(() -> fwd(B, N, 0, LDQK, LDV, rows, rowsV, rab, RAB, 1f, maps), "h = 0");
        // each width on its own: divisible by h, a head at most MAX_DH wide
        rejects(() -> fwd(B, N, H, 7, LDV, fake(100), rowsV, rab, RAB, 1f, maps), "GpuAttention.forward", "ldQk = 7", "q/k",
                "not divisible by h = 2");
        rejects(() -> fwd(B, N, H, LDQK, 9, rows, fake(100), rab, RAB, 1f, maps), "GpuAttention.forward", "ldV = 9", "v/out",
                "not divisible by h = 2");
        rejects(() -> fwd(B, N, H, 0, LDV, rows, rowsV, rab, RAB, 1f, maps), "ldQk = 0");
        rejects(() -> fwd(B, N, H, LDQK, 0, rows, rowsV, rab, RAB, 1f, maps), "ldV = 0");
        rejects(() -> fwd(B, N, 1, 257, 16, fake(2 * 4 * 257), fake(2 * 4 * 16), rab, RAB, 1f, maps), "dhQk = ldQk / h = 257", "> 256");
        rejects(() -> fwd(B, N, 1, 16, 257, fake(2 * 4 * 16), fake(2 * 4 * 257), rab, RAB, 1f, maps), "dhV = ldV / h = 257", "> 256");
        rejects(() -> fwd(B, N, 2, 2 * 257, 2 * 256, fake(0), fake(0), rab, RAB, 1f, maps), "dhQk = ldQk / h = 257");
        // buffers sized by their own width: q/k by ldQk, v and out by ldV
        rejects(() -> fwd(B, N, H, LDQK, LDV, fake(ROWS - 1), rowsV, rab, RAB, 1f, maps), "GpuAttention.forward", "q needs 48 elements",
                "holds 47");
        rejects(() -> fwd(B, N, H, LDQK, LDV, rows, fake(ROWS_V - 1), rab, RAB, 1f, maps), "v needs 80 elements", "holds 79");
        rejects(() -> GpuAttention.forward(null, B, N, H, rows, fake(ROWS - 1), LDQK, rowsV, LDV, rab, RAB, 1f, maps, maps, rowsV),
                "k needs 48 elements");
        rejects(() -> fwd(B, N, H, LDQK, LDV, rows, rowsV, rab, RAB, 1f, fake(MAPS - 1)), "pre needs 64 elements");
        rejects(() -> fwd(B, N, H, LDQK, LDV, rows, rowsV, fake(RAB - 2), RAB, 1f, maps), "rab needs 7 elements");
        // an out sized for the q/k width is too small for the v width
        rejects(() -> GpuAttention.forward(null, B, N, H, rows, rows, LDQK, rowsV, LDV, rab, RAB, 1f, maps, maps, fake(ROWS)),
                "out needs 80", "holds 48");
        rejects(() -> GpuAttention.forward(null, B, N, H, rows, null, LDQK, rowsV, LDV, rab, RAB, 1f, maps, maps, rowsV), "k is null");
        // Empty batches: no launch, so the null context is never touched (also at the widest heads).
        fwd(0, N, H, LDQK, LDV, fake(0), fake(0), rab, RAB, 1f, fake(0));
        fwd(B, 0, H, LDQK, LDV, fake(0), fake(0), fake(1), 1, 1f, fake(0));
        fwd(0, N, 1, GpuAttention.MAX_DH, 1, fake(0), fake(0), rab, RAB, 1f, fake(0));
        fwd(0, N, 3, 3, 3 * GpuAttention.MAX_DH, fake(0), fake(0), rab, RAB, 1f, fake(0));
    }

    @Test
    void backwardChecksBeforeTouchingCuda() {
        DeviceBuffer rows = fake(ROWS), rowsV = fake(ROWS_V), maps = fake(MAPS), rab = fake(RAB);
        rejects(() -> bwd(B, N, H, LDQK, LDV, rows, rowsV, maps, rab, 8), "GpuAttention.backward", "rabLen = 8");
        rejects(() -> bwd(B, N, H, 5, LDV, rows, rowsV, maps, rab, RAB), "GpuAttention.backward", "ldQk = 5", "h = 2");
        rejects(() -> bwd(B, N, H, LDQK, 5, rows, rowsV, maps, rab, RAB), "GpuAttention.backward", "ldV = 5", "v/dOut", "h = 2");
        rejects(() -> bwd(B, N, 1, 300, 8, fake(2 * 4 * 300), fake(2 * 4 * 8), maps, rab, RAB), "GpuAttention.backward",
                "dhQk = ldQk / h = 300", "> 256");
        rejects(() -> bwd(B, N, 1, 8, 300, fake(2 * 4 * 8), fake(2 * 4 * 300), maps, rab, RAB), "GpuAttention.backward",
                "dhV = ldV / h = 300", "> 256");
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, LDQK, rowsV, LDV, maps, maps, 1f, rowsV, fake(63), rows, rows, rowsV,
                rab, RAB), "GpuAttention.backward", "dPre needs 64 elements", "holds 63");
        // q/k-wide gradients sized by ldQk, v-wide ones (dOut, dv) by ldV
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, LDQK, rowsV, LDV, maps, maps, 1f, rowsV, maps, fake(47), rows, rowsV,
                rab, RAB), "dq needs 48");
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, LDQK, rowsV, LDV, maps, maps, 1f, rowsV, maps, rows, fake(47), rowsV,
                rab, RAB), "dk needs 48");
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, LDQK, rowsV, LDV, maps, maps, 1f, rowsV, maps, rows, rows, fake(ROWS),
                rab, RAB), "dv needs 80", "holds 48");
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, LDQK, rowsV, LDV, maps, maps, 1f, fake(ROWS), maps, rows, rows, rowsV,
                rab, RAB), "dOut needs 80", "holds 48");
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, LDQK, fake(79), LDV, maps, maps, 1f, rowsV, maps, rows, rows, rowsV,
                rab, RAB), "v needs 80");
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, LDQK, rowsV, LDV, maps, maps, 1f, rowsV, maps, rows, rows, rowsV,
                fake(6), RAB), "drab needs 7");
        rejects(() -> GpuAttention.backward(null, B, N, H, rows, rows, LDQK, rowsV, LDV, maps, maps, 1f, null, maps, rows, rows, rowsV,
                rab, RAB), "dOut is null");
        // b * h * n past an int: the drab pass numbers a diagonal's entries in int
        int bigB = 1 << 22, bigN = 512;
        DeviceBuffer bigRows = fake((long) bigB * bigN), bigMaps = fake((long) bigB * bigN * bigN), bigRab = fake(2 * bigN - 1);
        rejects(() -> bwd(bigB, bigN, 1, 1, 1, bigRows, bigRows, bigMaps, bigRab, 2 * bigN - 1), "GpuAttention.backward",
                "b * h * n = 2147483648", "exceeds 2^31 - 1 - 256");
        bwd(0, N, H, LDQK, LDV, fake(0), fake(0), fake(0), rab, RAB);
    }

    @Test
    void sharedSizesStayWithinTheDefaultLimit() {
        // Staged row tiles: 16x32 weights + 16 rows and 32 padded rows of the dot width + 32 rows of the mixed width.
        assertEquals(4 * (512 + 16 * 64 + 32 * 65 + 32 * 64), GpuAttention.rowTileShared(64, 64, true));
        assertEquals(4 * (512 + 16 * 32 + 32 * 33 + 32 * 96), GpuAttention.rowTileShared(32, 96, true));
        assertEquals(4 * 512, GpuAttention.rowTileShared(256, 256, false));
        assertEquals(4 * (1024 + 64 * 64), GpuAttention.colTileShared(64, 64, true));
        assertEquals(4 * (1024 + 32 * 32 + 32 * 96), GpuAttention.colTileShared(32, 96, true));
        int lastRow = 0, lastCol = 0;
        for (int dh = 1; dh <= GpuAttention.MAX_DH; dh++) {
            if (GpuAttention.rowTileShared(dh, dh, true) <= GpuAttention.SHARED_LIMIT) lastRow = dh;
            if (GpuAttention.colTileShared(dh, dh, true) <= GpuAttention.SHARED_LIMIT) lastCol = dh;
        }
        // Equal widths: the production heads (dh 32..64) are staged; the unstaged fallbacks are small.
        assertEquals(146, lastRow);
        assertEquals(176, lastCol);
        // Unequal widths: the forward (dots over dhQk, mixes dhV) and the dq pass (the reverse) decide apart.
        assertTrue(GpuAttention.rowTileShared(16, 256, true) <= GpuAttention.SHARED_LIMIT);
        assertTrue(GpuAttention.rowTileShared(256, 16, true) > GpuAttention.SHARED_LIMIT);
        assertTrue(GpuAttention.colTileShared(16, 256, true) <= GpuAttention.SHARED_LIMIT);
        assertTrue(GpuAttention.colTileShared(200, 160, true) > GpuAttention.SHARED_LIMIT);
        for (int a = 1; a <= GpuAttention.MAX_DH; a++) {
            for (int c = 1; c <= GpuAttention.MAX_DH; c++) {
                assertTrue(GpuAttention.rowTileShared(a, c, false) <= GpuAttention.SHARED_LIMIT);
                assertTrue(GpuAttention.colTileShared(a, c, false) <= GpuAttention.SHARED_LIMIT);
            }
        }
        assertEquals(32, GpuAttention.tiles(512));
    }
}
