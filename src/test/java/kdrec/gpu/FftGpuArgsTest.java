package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * GpuFft's argument checks and plan geometry, which need no GPU (they run everywhere): every bad
 * argument is an IllegalArgumentException naming the op and the values, thrown before the CUDA
 * context is touched (cuda is null here; the buffers are bare views that no kernel ever sees).
 */
class FftGpuArgsTest {
    /** A device-buffer view of `elements` floats with no context behind it: enough for range checks. */
    private static DeviceBuffer fake(long elements) {
        return DeviceBuffer.detached(elements);
    }

    private static void bad(Executable call, String... mustMention) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String s : mustMention) assertTrue(e.getMessage().contains(s), "message \"" + e.getMessage() + "\" should mention " + s);
    }

    @Test
    void badArgumentsThrowBeforeAnyCudaCall() {
        DeviceBuffer b = fake(1000);
        bad(() -> GpuFft.rfft(null, -1, 8, b, 0, 8, b, 0, 10), "GpuFft.rfft", "batch=-1");
        bad(() -> GpuFft.rfft(null, 1, 0, b, 0, 8, b, 0, 10), "GpuFft.rfft", "n=0");
        bad(() -> GpuFft.rfft(null, 2, 8, b, 0, 7, b, 0, 10), "ld_in >= 8", "ld_in=7");
        bad(() -> GpuFft.rfft(null, 2, 8, b, 0, 8, b, 0, 9), "ld_out >= 10", "ld_out=9");
        bad(() -> GpuFft.irfft(null, 2, 7, b, 0, 7, b, 0, 7), "GpuFft.irfft", "ld_in >= 8");
        bad(() -> GpuFft.dct1(null, 2, 8, b, 0, 8, b, 0, 9), "GpuFft.dct1", "ld_in >= 9");
        bad(() -> GpuFft.rfft(null, 1, GpuFft.MAX_N + 1, b, 0, GpuFft.MAX_N + 1, b, 0, GpuFft.MAX_N + 3),
                "GpuFft.rfft", "limit " + GpuFft.MAX_N);
        bad(() -> GpuFft.dct1(null, 1, GpuFft.MAX_N / 2 + 1, b, 0, GpuFft.MAX_N, b, 0, GpuFft.MAX_N), "GpuFft.dct1", "limit");
        bad(() -> GpuFft.rfft(null, 1, 8, null, 0, 8, b, 0, 10), "null device buffer");
        // ranges: rows past the end, negative offsets
        bad(() -> GpuFft.rfft(null, 101, 8, b, 0, 10, b, 0, 10), "GpuFft.rfft input", "outside a buffer of 1000");
        bad(() -> GpuFft.rfft(null, 3, 8, b, 0, 8, fake(29), 0, 10), "GpuFft.rfft output", "29");
        bad(() -> GpuFft.irfft(null, 1, 8, b, -1, 10, b, 0, 8), "GpuFft.irfft input", "[-1");
        bad(() -> GpuFft.dct1(null, 1, 8, b, 992, 9, b, 0, 9), "GpuFft.dct1 input");
    }

    @Test
    void emptyBatchNeedsNoContext() {
        DeviceBuffer b = fake(0);
        GpuFft.rfft(null, 0, 16, b, 0, 16, b, 0, 18);
        GpuFft.irfft(null, 0, 17, b, 0, 18, b, 0, 17);
        GpuFft.dct1(null, 0, 5, b, 0, 6, b, 0, 6);
    }

    /** The host tables: sizes and a few exact values; the Bluestein spectrum really is the chirp's DFT. */
    @Test
    void hostTables() {
        float[] t = GpuFft.hostTables(8, 4, false); // tw: 2 pairs, post: 5 pairs
        assertEquals(2 * 2 + 2 * 5, t.length);
        assertEquals(1f, t[0]);
        assertEquals(0f, t[1]);
        assertEquals((float) Math.cos(Math.PI / 2), t[2]);
        assertEquals((float) Math.cos(2 * Math.PI * 3 / 8), t[4 + 6]);
        int n = 5, m = 16; // Bluestein: m = 2^ceil(log2(2n-1))
        float[] b = GpuFft.hostTables(n, m, true);
        assertEquals(2 * (m / 2) + 2 * n + 2 * m, b.length);
        int bits = 4, base = 2 * (m / 2) + 2 * n;
        for (int k = 0; k < m; k++) { // naive DFT of the wrapped chirp, / m, compared at bit-reversed positions
            double re = 0, im = 0;
            for (int s = 0; s < m; s++) {
                int t0 = s < n ? s : m - s < n ? m - s : -1;
                if (t0 < 0) continue;
                double a = Math.PI * ((long) t0 * t0 % (2 * n)) / n, ang = -2 * Math.PI * k * s / m;
                double cr = Math.cos(a), ci = Math.sin(a);
                re += cr * Math.cos(ang) - ci * Math.sin(ang);
                im += cr * Math.sin(ang) + ci * Math.cos(ang);
            }
            int r = Integer.reverse(k) >>> (32 - bits);
            assertEquals(re / m, b[base + 2 * r], 1e-6, "bhat re k=" + k);
            assertEquals(im / m, b[base + 2 * r + 1], 1e-6, "bhat im k=" + k);
        }
        assertFalse(Float.isNaN(b[b.length - 1]));
    }
}
