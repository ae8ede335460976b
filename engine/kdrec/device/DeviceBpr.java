package kdrec.device;

import java.lang.foreign.MemorySegment;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuActivation;
import kdrec.gpu.GpuEmbedding;
import kdrec.gpu.GpuVec;
import kdrec.loss.Batch;

/**
 * BPR on the device, the twin of {@link kdrec.loss.Bpr}: {@code sum over the batch of
 * -log sigmoid(s(u,i) - s(u,j))}, its gradient accumulated into the model's final-embedding
 * gradients. Eight launches per batch: two row dots, the difference, log-sigmoid and its backward,
 * the negation, two row-dot backwards (float atomics into the tables: the order of additions to a
 * row varies run to run, as in any GPU embedding backward).
 */
final class DeviceBpr {
    private final Cuda cuda;
    private final UploadSlots slots;
    private float[] host = new float[0];

    DeviceBpr(Cuda cuda, UploadSlots slots) {
        this.cuda = cuda;
        this.slots = slots;
    }

    /** Accumulates the batch's BPR gradient into {@code model}'s final-embedding gradients; returns the loss. */
    double step(DeviceModel model, Batch b) {
        int m = b.size(), d = model.dim();
        if (m == 0) return 0;
        DeviceBuffer u = slots.ints("bpr.u", b.users(), m), p = slots.ints("bpr.p", b.positives(), m),
                q = slots.ints("bpr.q", b.negatives(), m);
        DeviceBuffer pos = slots.reserve("bpr.pos", m), neg = slots.reserve("bpr.neg", m), diff = slots.reserve("bpr.diff", m),
                logSig = slots.reserve("bpr.logsig", m), gy = slots.reserve("bpr.gy", m), gPos = slots.reserve("bpr.gpos", m),
                gNeg = slots.reserve("bpr.gneg", m);
        DeviceBuffer users = model.userRows(), items = model.itemRows();
        GpuEmbedding.rowDot(cuda, m, d, u, users, 0, d, p, items, 0, d, pos);
        GpuEmbedding.rowDot(cuda, m, d, u, users, 0, d, q, items, 0, d, neg);
        GpuVec.sub(cuda, m, pos, 0, neg, 0, diff, 0);
        GpuActivation.logSigmoid(cuda, m, diff, 0, logSig, 0);
        // dLoss/dDiff = -sigmoid(-diff): the log-sigmoid backward of an upstream -1, into a zeroed buffer
        GpuVec.fill(cuda, m, gy, 0, -1f);
        GpuVec.fill(cuda, m, gPos, 0, 0f);
        GpuActivation.logSigmoidBackward(cuda, m, diff, 0, gy, 0, gPos, 0);
        GpuVec.scale(cuda, m, -1f, gPos, 0, gNeg, 0);
        GpuEmbedding.rowDotBackward(cuda, m, d, u, users, 0, d, p, items, 0, d, gPos, model.userGrad(), 0, d, model.itemGrad(), 0, d);
        GpuEmbedding.rowDotBackward(cuda, m, d, u, users, 0, d, q, items, 0, d, gNeg, model.userGrad(), 0, d, model.itemGrad(), 0, d);
        if (host.length < m) host = new float[m];
        cuda.download(logSig, MemorySegment.ofArray(host), 0, m * 4L);
        double sum = 0;
        for (int i = 0; i < m; i++) sum += host[i];
        return -sum;
    }
}
