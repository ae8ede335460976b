package kdrec.gpu;

import static kdrec.gpu.SparseGpuTestSupport.*;

import org.junit.jupiter.api.Test;

/**
 * The argument checks of GpuSpmm, GpuEmbedding and GpuAdam, on every machine: they throw
 * IllegalArgumentException naming the op and the values before CUDA is touched (cuda is null here;
 * the buffers are context-less stand-ins), and empty problems return without launching (a launch on
 * a null context would throw NullPointerException).
 */
class SparseArgsTest {
    @Test
    void spmmChecksNeedNoGpu() {
        DeviceBuffer ptr = fake(5), col = fake(10), x = fake(100), y = fake(11);
        assertRejects(() -> GpuSpmm.spmm(null, -1, 3, ptr, col, null, x, 0, 3, 0f, y, 0, 3), "spmm", "m = -1");
        assertRejects(() -> GpuSpmm.spmm(null, 5, 3, ptr, col, null, x, 0, 3, 0f, y, 0, 3), "spmm", "ptr needs 6");
        assertRejects(() -> GpuSpmm.spmm(null, 4, 3, ptr, col, null, x, 0, 2, 0f, y, 0, 3), "spmm", "leading dim of x 2 < d = 3");
        assertRejects(() -> GpuSpmm.spmm(null, 4, 3, ptr, col, null, x, 0, 3, 0f, y, 0, 3), "spmm", "y (4 x 3", "needs 12", "holds 11");
        assertRejects(() -> GpuSpmm.spmm(null, 4, 3, ptr, col, null, x, -1, 3, 0f, y, 0, 3), "spmm", "x offset -1");
        assertRejects(() -> GpuSpmm.spmmRows(null, 3, fake(2), 3, ptr, col, null, x, 0, 3, 0f, y, 0, 3), "spmmRows", "rows needs 3");
        assertRejects(() -> GpuSpmm.spmmT(null, 4, 4, 3, ptr, col, null, x, 0, 3, 0f, y, 0, 3), "spmmT", "y (4 x 3");
        assertRejects(() -> GpuSpmm.spmmT(null, 4, 2, 3, ptr, col, null, fake(11), 0, 3, 0f, y, 0, 3), "spmmT", "x (4 x 3");
        assertRejects(() -> GpuSpmm.spmmT(null, null, 3, null, x, 0, 3, 0f, y, 0, 3), "spmmT", "transpose is null");
        assertRejects(() -> GpuSpmm.Transpose.of(null, 2, 2, new int[] {0, 1, 2}, new int[] {0, 5}), "column index out of [0, 2)");
        // empty problems return before any launch (cuda is null: a launch would throw NullPointerException)
        GpuSpmm.spmm(null, 0, 3, ptr, col, null, x, 0, 3, 0f, y, 0, 3);
        GpuSpmm.spmm(null, 4, 0, ptr, col, null, x, 0, 0, 0f, y, 0, 0);
        GpuSpmm.spmmRows(null, 0, fake(0), 3, ptr, col, null, x, 0, 3, 1f, y, 0, 3);
        GpuSpmm.spmmT(null, 4, 0, 3, ptr, col, null, x, 0, 3, 0f, y, 0, 3);
    }

    @Test
    void embeddingChecksNeedNoGpu() {
        DeviceBuffer idx = fake(4), table = fake(100), out = fake(11);
        assertRejects(() -> GpuEmbedding.gather(null, 4, -2, idx, table, 0, 3, out, 0, 3), "gather", "negative dims", "d = -2");
        assertRejects(() -> GpuEmbedding.gather(null, 5, 3, idx, table, 0, 3, out, 0, 3), "gather", "idx needs 5", "has 4");
        assertRejects(() -> GpuEmbedding.gather(null, 4, 3, idx, table, 0, 3, out, 0, 3), "gather", "out (4 x 3", "needs 12", "holds 11");
        assertRejects(() -> GpuEmbedding.gather(null, 4, 3, null, table, 0, 3, fake(12), 0, 3), "gather", "idx is null");
        assertRejects(() -> GpuEmbedding.scatterAdd(null, 4, 3, idx, fake(11), 0, 3, table, 0, 3), "scatterAdd", "src (4 x 3");
        assertRejects(() -> GpuEmbedding.scatterAdd(null, 4, 3, idx, table, 0, 3, table, 0, 2), "scatterAdd", "leading dim of table 2 < d = 3");
        assertRejects(() -> GpuEmbedding.rowDot(null, 4, 3, idx, table, 0, 3, null, fake(11), 0, 3, fake(4)), "rowDot", "b (4 x 3");
        assertRejects(() -> GpuEmbedding.rowDot(null, 4, 3, idx, table, 0, 3, idx, table, 0, 3, fake(3)), "rowDot", "out needs 4");
        assertRejects(() -> GpuEmbedding.rowDotBackward(null, 4, 3, idx, table, 0, 3, idx, table, 0, 3, fake(3), null, 0, 3, null, 0, 3),
                "rowDotBackward", "g needs 4");
        assertRejects(() -> GpuEmbedding.rowDotBackward(null, 4, 3, null, table, 0, 3, idx, table, 0, 3, fake(4), fake(11), 0, 3, null, 0, 3),
                "rowDotBackward", "da (4 x 3");
        assertRejects(() -> GpuEmbedding.ScatterPlan.of(null, 3, new int[] {1, -2, 0}), "ScatterPlan", "idx[1] = -2");
        assertRejects(() -> GpuEmbedding.ScatterPlan.of(null, 4, new int[] {1, 2, 0}), "ScatterPlan", "idx needs 4");
        assertRejects(() -> GpuEmbedding.scatterAdd(null, null, 3, table, 0, 3, table, 0, 3), "scatterAdd", "plan is null");
        GpuEmbedding.gather(null, 0, 3, fake(0), table, 0, 3, out, 0, 3);
        GpuEmbedding.scatterAdd(null, 4, 0, idx, table, 0, 0, table, 0, 0);
        GpuEmbedding.rowDot(null, 0, 3, null, table, 0, 3, null, table, 0, 3, fake(0));
        GpuEmbedding.rowDotBackward(null, 4, 3, idx, table, 0, 3, idx, table, 0, 3, fake(4), null, 0, 3, null, 0, 3);
    }

    @Test
    void adamChecksNeedNoGpu() {
        DeviceBuffer p = fake(10), g = fake(10), m = fake(10), v = fake(9), rows = fake(2);
        assertRejects(() -> GpuAdam.step(null, 10, p, 0, g, 0, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1), "adam step", "v (10 x 1", "holds 9");
        assertRejects(() -> GpuAdam.step(null, 5, p, 0, g, 0, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 0), "adam step", "t must be >= 1");
        assertRejects(() -> GpuAdam.step(null, 5, p, 0, g, 0, m, 0, v, 0, 1e-3f, 1f, 0.999f, 1e-8f, 0f, 1), "adam step", "beta1");
        assertRejects(() -> GpuAdam.step(null, 5, p, 6, g, 0, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1), "adam step", "p (5 x 1, ld 1, offset 6)");
        assertRejects(() -> GpuAdam.step(null, -1, p, 0, g, 0, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1), "adam step", "n = -1");
        assertRejects(() -> GpuAdam.stepRows(null, 3, rows, 2, p, 0, 2, g, 0, 2, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1),
                "adam stepRows", "rows needs 3");
        assertRejects(() -> GpuAdam.stepRows(null, 2, rows, 2, p, 0, 1, g, 0, 2, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1),
                "adam stepRows", "leading dims 1, 2 < d = 2");
        assertRejects(() -> GpuAdam.stepRows(null, 2, rows, 5, p, 0, 5, fake(9), 0, 5, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1),
                "adam stepRows", "g (2 x 5");
        assertRejects(() -> GpuAdam.stepRows(null, 2, rows, 2, p, 0, 2, g, 0, 2, m, 0, v, 0, -1f, 0.9f, 0.999f, 1e-8f, 0f, 1),
                "adam stepRows", "invalid lr");
        GpuAdam.step(null, 0, p, 0, g, 0, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1);
        GpuAdam.stepRows(null, 0, fake(0), 4, p, 0, 4, g, 0, 4, m, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1);
    }
}
