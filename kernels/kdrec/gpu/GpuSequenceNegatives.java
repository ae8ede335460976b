package kdrec.gpu;

/**
 * Per-position negatives for HSTU's sampled softmax on the device (kernels in native/sequence_negatives.cu):
 * the ids the host's sequence loss draws (kdrec.loss.SequenceLoss#negative: a SplitMix64 finaliser of (batch
 * seed, entry), multiply-shift reduced), drawn here bit for bit, and the mask that takes a row's own target
 * out of its sum (the host drops it from the row; here rows stay R wide and it becomes -inf).
 */
public final class GpuSequenceNegatives {
    private GpuSequenceNegatives() {}

    private static final int THREADS = 256;

    /** idx[e], e &lt; rows x r: the id of entry (rowBase + e / r) x r + e % r, uniform over [0, items). */
    public static void draw(Cuda cuda, int rows, int r, long seed, int rowBase, int items, DeviceBuffer idx) {
        String k = "SequenceNegatives.draw";
        if (rows < 0 || r < 1 || rowBase < 0 || items < 1) {
            throw GpuCeArgs.bad(k, "needs rows >= 0, r >= 1, rowBase >= 0 and items >= 1, got " + rows + ", " + r + ", " + rowBase + ", " + items);
        }
        GpuCeArgs.length(k, "idx", idx, (long) rows * r);
        cuda.launch1d(cuda.kernel("kdrec_sequence_negatives_draw"), (long) rows * r, THREADS, rows, r, seed, rowBase, items, idx);
    }

    /**
     * logits[e] *= scale for e &lt; rows x r, except where idx[e] equals its row's positive (target[e / r]):
     * -inf there, an exact 0 in the row's sampled-softmax sum and a 0 gradient.
     */
    public static void maskPositives(Cuda cuda, int rows, int r, float scale, DeviceBuffer idx, DeviceBuffer target, DeviceBuffer logits) {
        String k = "SequenceNegatives.maskPositives";
        if (rows < 0 || r < 1) throw GpuCeArgs.bad(k, "needs rows >= 0 and r >= 1, got " + rows + " and " + r);
        GpuCeArgs.length(k, "idx", idx, (long) rows * r);
        GpuCeArgs.length(k, "target", target, rows);
        GpuCeArgs.length(k, "logits", logits, (long) rows * r);
        cuda.launch1d(cuda.kernel("kdrec_sequence_negatives_mask"), (long) rows * r, THREADS, rows, r, scale, idx, target, logits);
    }
}
