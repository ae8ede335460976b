package kdrec.device;

import java.lang.foreign.MemorySegment;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuSubsetCe;
import kdrec.tensor.Tensor;

/**
 * A frozen model's final embeddings resident on the device (a teacher under {@code --device cuda}):
 * uploaded once, then ranked (fused score->top-K) and scored against per-user item sets (gather-dot)
 * as often as the distillers ask, only ids and scores crossing PCIe. The ranking's scores are the
 * CPU's fmaf chains, so its lists equal the host's; gather-dot sums in another order than the host
 * (the last bits of a logit may differ).
 */
public final class DeviceEmbeddings implements AutoCloseable {
    private final Cuda cuda;
    private final int users, items, d;
    private final UploadSlots slots;
    private final DeviceBuffer u, it;

    public DeviceEmbeddings(Tensor userRows, Tensor itemRows) {
        if (userRows.cols() != itemRows.cols()) {
            throw new IllegalArgumentException("device embeddings: user rows of " + userRows.cols() + " vs item rows of " + itemRows.cols());
        }
        this.cuda = DeviceTraining.cudaOrExplain();
        this.users = userRows.rows();
        this.items = itemRows.rows();
        this.d = userRows.cols();
        this.slots = new UploadSlots(cuda);
        try {
            u = slots.reserve("users", userRows.size());
            it = slots.reserve("items", itemRows.size());
            cuda.upload(userRows.data(), 0, u, userRows.size() * 4);
            cuda.upload(itemRows.data(), 0, it, itemRows.size() * 4);
        } catch (RuntimeException e) {
            slots.close();
            throw e;
        }
    }

    /** Every user's k best items, best first (users x k); excluded items (a CSR over the users, or null) skipped. */
    public int[] topK(int k, int[] excludePtr, int[] excludeIdx) {
        DeviceBuffer ex = excludePtr == null ? null : slots.ints("excludePtr", excludePtr, excludePtr.length);
        DeviceBuffer exIdx = excludePtr == null ? null : slots.ints("excludeIdx", excludeIdx, excludeIdx.length);
        return DeviceRanking.topK(cuda, slots, "top", users, items, d, u, it, k, ex, exIdx, null);
    }

    /**
     * out[j] = &lt;user r, item idx[j]&gt; for the entries j in [ptr[r], ptr[r+1]) of rows r &lt; m, row r being
     * user r (the arrays may be longer than ptr[m]). Ids are the caller's guarantee, as on the host.
     */
    public void gatherDot(int m, int[] ptr, int[] idx, float[] out) {
        checkRows(m);
        int nnz = ptr[m];
        if (nnz == 0) return;
        DeviceBuffer dPtr = slots.ints("ptr", ptr, m + 1), dIdx = slots.ints("idx", idx, nnz), dOut = slots.reserve("out", nnz);
        gatherDot(m, dPtr, dIdx, dOut);
        cuda.download(dOut, MemorySegment.ofArray(out), 0, nnz * 4L);
    }

    /** {@link #gatherDot(int, int[], int[], float[])} with the sets and the output already on the device (same context). */
    public void gatherDot(int m, DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer out) {
        checkRows(m);
        GpuSubsetCe.gatherDot(cuda, m, d, u, 0, d, it, 0, d, ptr, idx, out);
    }

    private void checkRows(int m) {
        if (m < 0 || m > users) throw new IllegalArgumentException("gather-dot: " + m + " rows for " + users + " users");
    }

    @Override
    public void close() {
        slots.close();
    }
}
