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

    /**
     * A model's top-k lists, ranked on the GPU: MF and LightGCN are uploaded (LightGCN propagates on the
     * device); any other backbone (HSTU) gives its final embeddings from the host ({@link Recommender#inference})
     * and only the ranking runs on the device.
     */
    public static int[] rankAll(Recommender model, kdrec.autograd.Tape tape, int k, int[] trainPtr, int[] trainItems) {
        if (model instanceof kdrec.model.MatrixFactorization || model instanceof kdrec.model.LightGcn) return rankAll(model, k, trainPtr, trainItems);
        return rankAll(model.inference(tape), k, trainPtr, trainItems);
    }

    /** Top-k lists of given final embeddings (users and items, both d wide), ranked on the GPU. */
    public static int[] rankAll(Recommender.Embeddings e, int k, int[] trainPtr, int[] trainItems) {
        try (DeviceEmbeddings de = new DeviceEmbeddings(e.users().value(), e.items().value())) {
            return de.topK(k, trainPtr, trainItems);
        }
    }

    /** A checkpointed MF or LightGCN model's top-k lists, computed on the GPU (the model is uploaded for the call). */
    public static int[] rankAll(Recommender model, int k, int[] trainPtr, int[] trainItems) {
        Cuda cuda = DeviceTraining.cudaOrExplain();
        try (DeviceModel dm = DeviceModel.of(cuda, model); UploadSlots slots = new UploadSlots(cuda)) {
            return rankAll(cuda, dm, slots, k, slots.ints("rank.excludePtr", trainPtr, trainPtr.length),
                    slots.ints("rank.excludeIdx", trainItems, trainItems.length));
        }
    }

    static int[] rankAll(Cuda cuda, DeviceModel model, UploadSlots slots, int k, DeviceBuffer excludePtr, DeviceBuffer excludeIdx) {
        model.forward();
        return topK(cuda, slots, "rank", model.users(), model.items(), model.dim(), model.userRows(), model.itemRows(), k,
                excludePtr, excludeIdx, null);
    }

    /**
     * The k best of n item rows for each of m user rows (both leading dim d, on the device), best
     * first, excluded items (device CSR, or null) skipped: the ids downloaded into {@code into} (at
     * least m * k; null: a new array), the scores left on the device. The one place every device
     * ranking (evaluation, the teacher's lists, a student's top-M) goes through.
     */
    public static int[] topK(Cuda cuda, UploadSlots slots, String slot, int m, int n, int d, DeviceBuffer users, DeviceBuffer items,
                             int k, DeviceBuffer excludePtr, DeviceBuffer excludeIdx, int[] into) {
        DeviceBuffer ids = topKOnDevice(cuda, slots, slot, m, n, d, users, items, k, excludePtr, excludeIdx);
        long total = (long) m * k;
        int[] out = into != null ? into : new int[Math.toIntExact(total)];
        cuda.download(ids, java.lang.foreign.MemorySegment.ofArray(out), 0, total * 4);
        return out;
    }

    /** {@link #topK} with the ids left on the device: slot {@code slot + ".ids"} (m x k), valid until that slot's next use. */
    public static DeviceBuffer topKOnDevice(Cuda cuda, UploadSlots slots, String slot, int m, int n, int d, DeviceBuffer users,
                                            DeviceBuffer items, int k, DeviceBuffer excludePtr, DeviceBuffer excludeIdx) {
        if (k > GpuTopK.MAX_K) throw new IllegalArgumentException("top-k: k = " + k + " exceeds the GPU top-K limit " + GpuTopK.MAX_K);
        long total = (long) m * k;
        DeviceBuffer ids = slots.reserve(slot + ".ids", total), scores = slots.reserve(slot + ".scores", total);
        GpuTopK.scoreTopK(cuda, m, n, d, users, 0, d, items, 0, d, k, excludePtr, excludeIdx, ids, scores);
        return ids;
    }
}
