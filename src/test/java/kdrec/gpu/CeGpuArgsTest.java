package kdrec.gpu;

import static kdrec.gpu.CeGpuTestSupport.fake;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The CE wrappers' argument checks, on every machine (no GPU, no tag): each runs before {@code cuda}
 * is used, so these pass {@code null} for it and fake device buffers that only have a size, and expect
 * an IllegalArgumentException naming the op and the offending values. Empty problems (m = 0) must
 * return without touching {@code cuda} at all.
 */
class CeGpuArgsTest {
    private static void rejects(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should contain '" + f + "'");
    }

    @Test
    void subsetCeChecksSizesBeforeCuda() {
        DeviceBuffer u = fake(4 * 8), items = fake(10 * 8), ptr = fake(5), idx = fake(20), t = fake(20), loss = fake(4), g = fake(20);
        rejects(() -> GpuSubsetCe.softCe(null, 4, 8, u, 0, 8, items, 0, 8, ptr, idx, t, 0f, null, loss, g, null),
                "SubsetCe.softCe", "tau must be finite and > 0");
        rejects(() -> GpuSubsetCe.softCe(null, 4, 8, u, 1, 8, items, 0, 8, ptr, idx, t, 1f, null, loss, g, null),
                "SubsetCe.softCe", "u: 4 x 8", "needs 33");
        rejects(() -> GpuSubsetCe.gatherDot(null, 5, 8, fake(5 * 8), 0, 8, items, 0, 8, ptr, idx, g), "SubsetCe.gatherDot", "ptr: 5 elements < 6");
        rejects(() -> GpuSubsetCe.gatherDotBackward(null, 4, 8, u, 0, 8, items, 0, 8, ptr, idx, g, fake(64), 0, 7, null, 0, 8),
                "SubsetCe.gatherDotBackward", "du: leading dim 7 < width 8");
        rejects(() -> GpuSubsetCe.softCeLogits(null, 4, ptr, t, t, 1f, fake(3), loss, g), "SubsetCe.softCeLogits", "rowScale: 3 elements < 4");
        rejects(() -> GpuSubsetCe.gatherDot(null, -1, 8, u, 0, 8, items, 0, 8, ptr, idx, g), "negative dims m=-1");
        // Empty: no launch, so a null cuda is never touched.
        GpuSubsetCe.softCe(null, 0, 8, u, 0, 8, items, 0, 8, fake(1), idx, t, 1f, null, fake(0), g, null);
        GpuSubsetCe.gatherDotBackward(null, 4, 0, u, 0, 0, items, 0, 0, ptr, idx, g, fake(4), 0, 0, null, 0, 0);
    }

    @Test
    void pairCeChecksSizesBeforeCuda() {
        DeviceBuffer u = fake(4 * 8), items = fake(10 * 8), ptr = fake(5), idx = fake(20), t = fake(20), w = fake(4), loss = fake(4);
        rejects(() -> GpuPairCe.softCe(null, 4, 8, u, 0, 8, items, 0, 8, ptr, idx, fake(3), fake(4), t, w, w, 1f, loss, t, null, 0, 8),
                "PairCe.softCe", "a: 3 elements < 4");
        rejects(() -> GpuPairCe.softCe(null, 4, 8, u, 0, 8, items, 0, 8, ptr, idx, fake(4), fake(4), t, w, w, 1f, loss, t, fake(31), 0, 8),
                "PairCe.softCe", "gu: 4 x 8", "needs 32", "holds 31");
        rejects(() -> GpuPairCe.targets(null, 4, ptr, fake(4), fake(4), t, Float.NaN, w, w, t), "PairCe.targets", "tau");
        rejects(() -> GpuPairCe.targets(null, 4, ptr, fake(4), fake(4), t, 1f, w, fake(2), t), "PairCe.targets", "wB: 2 elements < 4");
        GpuPairCe.targets(null, 0, fake(1), fake(0), fake(0), t, 1f, fake(0), fake(0), t);
    }

    @Test
    void softmaxCeChecksSizesBeforeCuda() {
        DeviceBuffer u = fake(4 * 8), items = fake(10 * 8), target = fake(4), loss = fake(4), lse = fake(4);
        rejects(() -> GpuSoftmaxCe.forward(null, 4, 10, 8, u, 0, 8, items, 0, 8, Float.NaN, target, loss, lse),
                "SoftmaxCe.forward", "scale must be finite");
        rejects(() -> GpuSoftmaxCe.forward(null, 4, 11, 8, u, 0, 8, items, 0, 8, 1f, target, loss, lse),
                "SoftmaxCe.forward", "items: 11 x 8", "needs 88");
        rejects(() -> GpuSoftmaxCe.forward(null, 4, 0, 8, u, 0, 8, fake(0), 0, 8, 1f, target, loss, lse), "SoftmaxCe.forward", "n = 0");
        rejects(() -> GpuSoftmaxCe.forward(null, 4, 10, 8, u, 0, 8, items, 0, 8, 1f, target, loss, lse, fake(1)),
                "SoftmaxCe.forward", "workspace: 1 elements <");
        rejects(() -> GpuSoftmaxCe.backward(null, 4, 10, 8, u, 0, 8, items, 0, 8, 1f, target, lse, fake(3), null, 0, 8, null, 0, 8),
                "SoftmaxCe.backward", "gLoss: 3 elements < 4");
        rejects(() -> GpuSoftmaxCe.backward(null, 4, 10, 8, u, 0, 8, items, 0, 8, 1f, target, lse, loss, null, 0, 8, fake(80), 1, 8),
                "SoftmaxCe.backward", "di: 10 x 8", "needs 81");
        rejects(() -> GpuSoftmaxCe.rowsInPlace(null, 4, 10, fake(39), 0, 10, target, null, loss), "SoftmaxCe.rowsInPlace", "logits: 4 x 10");
        rejects(() -> GpuSoftmaxCe.sampled(null, 4, fake(4), fake(5), fake(9), -1f, null, loss, fake(4), fake(9)),
                "SoftmaxCe.sampled", "negScale must be finite and >= 0");
        rejects(() -> GpuSoftmaxCe.sampled(null, 4, fake(4), fake(4), fake(9), 1f, null, loss, fake(4), fake(9)),
                "SoftmaxCe.sampled", "negPtr: 4 elements < 5");
        // Empty problems and nothing-to-do backward: no allocation, no launch.
        GpuSoftmaxCe.forward(null, 0, 10, 8, fake(0), 0, 8, items, 0, 8, 1f, fake(0), fake(0), fake(0));
        GpuSoftmaxCe.backward(null, 4, 10, 8, u, 0, 8, items, 0, 8, 1f, target, lse, loss, null, 0, 8, null, 0, 8);
        GpuSoftmaxCe.backward(null, 4, 10, 0, fake(0), 0, 0, fake(0), 0, 0, 1f, target, lse, loss, fake(0), 0, 0, fake(0), 0, 0);
        GpuSoftmaxCe.rowsInPlace(null, 0, 10, fake(0), 0, 10, fake(0), null, fake(0));
        GpuSoftmaxCe.sampled(null, 0, fake(0), fake(1), fake(0), 1f, null, fake(0), fake(0), fake(0));
    }

    @Test
    void workspaceSizesFollowTheSplits() {
        // 2048 x 41,000, d = 64 (the benchmark): 32 row tiles, forward splits <= 32, dU splits <= 16.
        long f = GpuSoftmaxCe.forwardWorkspaceFloats(2048, 41_000), b = GpuSoftmaxCe.backwardWorkspaceFloats(2048, 41_000, 64);
        assertTrue(f > 0 && f <= 2L * 32 * 2048, "forward workspace " + f);
        assertTrue(b > 0 && b <= 16L * 2048 * 64, "backward workspace " + b);
        // One item tile: no splits, so backward writes du directly and needs no workspace.
        assertTrue(GpuSoftmaxCe.backwardWorkspaceFloats(100, 64, 64) == 0, "one item tile needs no dU workspace");
        assertTrue(GpuSoftmaxCe.forwardWorkspaceFloats(0, 100) == 0, "m = 0 needs no workspace");
    }
}
