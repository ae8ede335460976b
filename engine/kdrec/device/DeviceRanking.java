package kdrec.device;

import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuTopK;
import kdrec.model.Recommender;
import kdrec.tensor.Tensor;

/**
 * Full ranking on the device: every user against every item by the fused score->top-K kernel, the
 * user's train items excluded, the top-k ids downloaded (users x k, row-major, as
 * {@code Evaluator.rankAll}). Used by the device training loop and by {@code kdrec eval --device cuda}.
 */
public final class DeviceRanking {
    private DeviceRanking() {}

    /** A checkpointed model's top-k lists, computed on the GPU (the model is uploaded for the call). */
    public static int[] rankAll(Recommender model, int k, int[] trainPtr, int[] trainItems) {
        Cuda cuda = DeviceTraining.cudaOrExplain();
        try (DeviceModel dm = DeviceModel.of(cuda, model); UploadSlots slots = new UploadSlots(cuda)) {
            return rankAll(cuda, dm, slots, k, slots.ints("rank.excludePtr", trainPtr, trainPtr.length),
                    slots.ints("rank.excludeIdx", trainItems, trainItems.length));
        }
    }

    /**
     * Every row of {@code users} (m x d) against all rows of {@code items} (n x d), host tensors
     * uploaded for the call: the k best per row, best first (users x k); excluded items (a CSR over the
     * rows, or null) skipped. The scores are the CPU's fmaf chains, so the lists equal the host's.
     */
    public static int[] topK(Tensor users, Tensor items, int k, int[] excludePtr, int[] excludeIdx) {
        if (k > GpuTopK.MAX_K) throw new IllegalArgumentException("top-k: k = " + k + " exceeds the GPU top-K limit " + GpuTopK.MAX_K);
        if (users.cols() != items.cols()) throw new IllegalArgumentException("top-k: user rows of " + users.cols() + " vs item rows of " + items.cols());
        Cuda cuda = DeviceTraining.cudaOrExplain();
        int m = users.rows(), n = items.rows(), d = users.cols();
        try (UploadSlots slots = new UploadSlots(cuda)) {
            DeviceBuffer u = slots.reserve("u", users.size()), it = slots.reserve("i", items.size());
            cuda.upload(users.data(), 0, u, users.size() * 4);
            cuda.upload(items.data(), 0, it, items.size() * 4);
            DeviceBuffer ex = excludePtr == null ? null : slots.ints("excludePtr", excludePtr, excludePtr.length);
            DeviceBuffer exIdx = excludePtr == null ? null : slots.ints("excludeIdx", excludeIdx, excludeIdx.length);
            long total = (long) m * k;
            DeviceBuffer ids = slots.reserve("ids", total), scores = slots.reserve("scores", total);
            GpuTopK.scoreTopK(cuda, m, n, d, u, 0, d, it, 0, d, k, ex, exIdx, ids, scores);
            return cuda.downloadInts(ids, Math.toIntExact(total));
        }
    }

    static int[] rankAll(Cuda cuda, DeviceModel model, UploadSlots slots, int k, DeviceBuffer excludePtr, DeviceBuffer excludeIdx) {
        if (k > GpuTopK.MAX_K) throw new IllegalArgumentException("top_k = " + k + " exceeds the GPU top-K limit " + GpuTopK.MAX_K);
        model.forward();
        int users = model.users(), d = model.dim();
        long n = (long) users * k;
        DeviceBuffer ids = slots.reserve("rank.ids", n), scores = slots.reserve("rank.scores", n);
        GpuTopK.scoreTopK(cuda, users, model.items(), d, model.userRows(), 0, d, model.itemRows(), 0, d, k, excludePtr, excludeIdx,
                ids, scores);
        return cuda.downloadInts(ids, Math.toIntExact(n));
    }
}
