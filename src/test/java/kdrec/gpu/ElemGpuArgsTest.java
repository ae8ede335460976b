package kdrec.gpu;

import static kdrec.gpu.ElemGpuSupport.fake;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Runs everywhere, GPU or not: the argument checks of GpuVec, GpuActivation, GpuDropout and
 * GpuLayerNorm throw IllegalArgumentException naming the op and the bad values before any CUDA call
 * (cuda is null here, and the buffers belong to no context), and empty problems return without one.
 */
class ElemGpuArgsTest {
    private static void rejects(Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message \"" + e.getMessage() + "\" should mention " + p);
    }

    @Test
    void vecChecksBeforeTouchingCuda() {
        DeviceBuffer b10 = fake(10), b5 = fake(5);
        rejects(() -> GpuVec.fill(null, -1, b10, 0, 0f), "GpuVec.fill", "n = -1");
        rejects(() -> GpuVec.fill(null, 8, b10, 3, 0f), "GpuVec.fill", "y", "[3, 11)", "10 elements");
        rejects(() -> GpuVec.add(null, 6, b10, 0, b5, 0, b10, 0), "GpuVec.add", "b", "[0, 6)");
        rejects(() -> GpuVec.axpy(null, 4, 1f, b10, -1, b10, 0), "GpuVec.axpy", "x", "[-1, 3)");
        rejects(() -> GpuVec.dot(null, 4, b10, 0, null, 0), "GpuVec.dot", "b is null");
        rejects(() -> GpuVec.sum(null, 11, b10, 0), "GpuVec.sum", "x");
        rejects(() -> GpuVec.allFinite(null, 6, b5, 0), "GpuVec.allFinite");
        // Empty problems: no launch, so a null context is never touched.
        GpuVec.add(null, 0, b10, 10, b5, 5, b10, 0);
        assertEquals(0.0, GpuVec.sum(null, 0, b5, 5));
        assertEquals(0.0, GpuVec.dot(null, 0, b5, 0, b10, 0));
        assertTrue(GpuVec.allFinite(null, 0, b5, 0));
    }

    @Test
    void activationChecksBeforeTouchingCuda() {
        DeviceBuffer b10 = fake(10), b5 = fake(5);
        rejects(() -> GpuActivation.sigmoid(null, 6, b10, 0, b5, 0), "GpuActivation.sigmoid", "y", "[0, 6)");
        rejects(() -> GpuActivation.siluBackward(null, 6, b10, 0, b10, 0, b5, 0), "GpuActivation.siluBackward", "gx");
        rejects(() -> GpuActivation.reluBackward(null, 3, b10, 0, null, 0, b10, 0), "GpuActivation.reluBackward", "gy is null");
        GpuActivation.logSigmoid(null, 0, b5, 0, b5, 0);
    }

    @Test
    void dropoutChecksBeforeTouchingCuda() {
        DeviceBuffer b10 = fake(10);
        rejects(() -> GpuDropout.forward(null, 4, b10, 0, b10, 0, 1f, 1L), "GpuDropout.forward", "p = 1.0", "[0, 1)");
        rejects(() -> GpuDropout.backward(null, 4, b10, 0, b10, 0, -0.1f, 1L), "GpuDropout.backward", "p = -0.1");
        rejects(() -> GpuDropout.forward(null, 4, b10, 0, b10, 0, Float.NaN, 1L), "p = NaN");
        rejects(() -> GpuDropout.forward(null, 4, b10, 8, b10, 0, 0.5f, 1L), "GpuDropout.forward", "x", "[8, 12)");
        rejects(() -> GpuDropout.forwardAt(null, 4, -1, b10, 0, b10, 0, 0.5f, 1L), "base index -1");
        GpuDropout.forward(null, 0, b10, 0, b10, 0, 0.5f, 1L);
    }

    @Test
    void layerNormChecksBeforeTouchingCuda() {
        DeviceBuffer x = fake(4 * 8), stats = fake(4), small = fake(3), g = fake(8);
        rejects(() -> GpuLayerNorm.forward(null, 4, 0, x, 0, 8, null, 0, null, 0, 1e-5f, x, 0, 8, stats, stats),
                "GpuLayerNorm.forward", "d = 0");
        rejects(() -> GpuLayerNorm.forward(null, 4, 8, x, 0, 7, null, 0, null, 0, 1e-5f, x, 0, 8, stats, stats),
                "leading dimension of x = 7 < d = 8");
        rejects(() -> GpuLayerNorm.forward(null, 4, 8, x, 1, 8, null, 0, null, 0, 1e-5f, x, 0, 8, stats, stats),
                "x (4 x 8, ld 8) at offset 1", "32 elements");
        rejects(() -> GpuLayerNorm.forward(null, 4, 8, x, 0, 8, g, 1, null, 0, 1e-5f, x, 0, 8, stats, stats), "gamma");
        rejects(() -> GpuLayerNorm.forward(null, 4, 8, x, 0, 8, null, 0, null, 0, -1f, x, 0, 8, stats, stats), "eps = -1.0");
        rejects(() -> GpuLayerNorm.forward(null, 4, 8, x, 0, 8, null, 0, null, 0, 1e-5f, x, 0, 8, small, stats),
                "mean and rstd need at least rows = 4");
        rejects(() -> GpuLayerNorm.backward(null, 4, 8, x, 0, 8, null, 0, stats, stats, x, 0, 8, x, 0, 8, small, 0, null, 0),
                "GpuLayerNorm.backward", "dgamma");
        rejects(() -> GpuLayerNorm.backward(null, 4, 8, x, 0, 8, null, 0, stats, stats, null, 0, 8, x, 0, 8, null, 0, null, 0),
                "dy is null");
        GpuLayerNorm.forward(null, 0, 8, x, 0, 8, null, 0, null, 0, 1e-5f, x, 0, 8, fake(0), fake(0));
        GpuLayerNorm.backward(null, 0, 8, x, 0, 8, g, 0, fake(0), fake(0), x, 0, 8, x, 0, 8, g, 0, g, 0);
    }
}
