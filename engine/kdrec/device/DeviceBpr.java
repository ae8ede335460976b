package kdrec.device;

import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuActivation;
import kdrec.gpu.GpuEmbedding;
import kdrec.gpu.GpuVec;
import kdrec.loss.Batch;

/**
 * BPR on the device, the twin of {@link kdrec.loss.Bpr}: {@code sum over the batch of
 * -log sigmoid(s(u,i) - s(u,j))}, its gradient accumulated into the model's final-embedding
 * gradients. {@link #prepare} stages the batch's ids; {@link #launch} makes eight launches: two row
 * dots, the difference, log-sigmoid and its backward, the negation, two row-dot backwards (float
 * atomics into the tables: the order of additions to a row varies run to run, as in any GPU embedding
 * backward). The per-pair log-sigmoids come down with the step's other losses.
 */
final class DeviceBpr {
    private final Cuda cuda;
    private final UploadSlots slots;
    private StepUploads.Staged users, positives, negatives;
    private int m;

    DeviceBpr(Cuda cuda, UploadSlots slots) {
        this.cuda = cuda;
        this.slots = slots;
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
        int d = model.dim();
        if (m == 0) return;
        DeviceBuffer u = users.get(), p = positives.get(), q = negatives.get();
        DeviceBuffer pos = slots.reserve("bpr.pos", m), neg = slots.reserve("bpr.neg", m), diff = slots.reserve("bpr.diff", m),
                gy = slots.reserve("bpr.gy", m), gPos = slots.reserve("bpr.gpos", m), gNeg = slots.reserve("bpr.gneg", m);
        DeviceBuffer userRows = model.userRows(), items = model.itemRows();
        GpuEmbedding.rowDot(cuda, m, d, u, userRows, 0, d, p, items, 0, d, pos);
        GpuEmbedding.rowDot(cuda, m, d, u, userRows, 0, d, q, items, 0, d, neg);
        GpuVec.sub(cuda, m, pos, 0, neg, 0, diff, 0);
        GpuActivation.logSigmoid(cuda, m, diff, 0, logSig, 0);
        // dLoss/dDiff = -sigmoid(-diff): the log-sigmoid backward of an upstream -1, into a zeroed buffer
        GpuVec.fill(cuda, m, gy, 0, -1f);
        GpuVec.fill(cuda, m, gPos, 0, 0f);
        GpuActivation.logSigmoidBackward(cuda, m, diff, 0, gy, 0, gPos, 0);
        GpuVec.scale(cuda, m, -1f, gPos, 0, gNeg, 0);
        GpuEmbedding.rowDotBackward(cuda, m, d, u, userRows, 0, d, p, items, 0, d, gPos, model.userGrad(), 0, d, model.itemGrad(), 0, d);
        GpuEmbedding.rowDotBackward(cuda, m, d, u, userRows, 0, d, q, items, 0, d, gNeg, model.userGrad(), 0, d, model.itemGrad(), 0, d);
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
