package kdrec.device;

import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuTopK;
import kdrec.model.Recommender;

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
