package kdrec.device;

import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuEmbedding;
import kdrec.loss.Batch;

/**
 * BPR on the device, the twin of {@link kdrec.loss.Bpr}: {@code sum over the batch of
 * -log sigmoid(s(u,i) - s(u,j))}, its gradient accumulated into the model's final-embedding
 * gradients. {@link #prepare} stages the batch's ids; {@link #launch} is one fused launch
 * ({@code GpuEmbedding.bprPairs}: both row dots, the log-sigmoid and the gradient, float atomics into
 * the tables, so the order of additions to a row varies run to run, as in any GPU embedding backward)
 * where it used to be eight. The per-pair log-sigmoids come down with the step's other losses.
 */
final class DeviceBpr {
    private final Cuda cuda;
    private StepUploads.Staged users, positives, negatives;
    private int m;

    DeviceBpr(Cuda cuda) {
        this.cuda = cuda;
    }

    /** Stages the batch's ids; returns the number of per-pair losses {@link #launch} writes. */
    int prepare(Batch b, StepUploads up) {
        m = b.size();
        users = up.ints(b.users(), m);
        positives = up.ints(b.positives(), m);
        negatives = up.ints(b.negatives(), m);
        return m;
    }

    /** Accumulates the prepared batch's BPR gradient into {@code model}'s final-embedding gradients; log sigmoid(s_ui - s_uj) per pair into {@code logSig}. */
    void launch(DeviceModel model, DeviceBuffer logSig) {
        if (m == 0) return;
        DeviceBuffer u = users.get(), p = positives.get(), q = negatives.get();
        GpuEmbedding.bprPairs(cuda, m, model.dim(), u, p, q, model.userRows(), model.itemRows(), logSig, model.userGrad(), model.itemGrad());
        model.touchUsers(u, m); // lazy Adam: the rows the host's row dots mark
        model.touchItems(p, m);
        model.touchItems(q, m);
    }

    /** The batch's loss from its per-pair log-sigmoids, downloaded to {@code logSig[from, from + m)}. */
    double loss(float[] logSig, int from) {
        double sum = 0;
        for (int i = 0; i < m; i++) sum += logSig[from + i];
        return -sum;
    }
}
