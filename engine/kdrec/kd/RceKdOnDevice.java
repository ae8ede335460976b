package kdrec.kd;

import java.lang.foreign.MemorySegment;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuEmbedding;
import kdrec.gpu.GpuPairCe;
import kdrec.gpu.GpuSubsetCe;
import kdrec.gpu.GpuTopK;
import kdrec.device.DeviceModel;
import kdrec.device.DeviceTerm;
import kdrec.device.UploadSlots;
import kdrec.loss.Batch;
import kdrec.tensor.Backend;
import kdrec.tensor.PairSets;

/**
 * RCE-KD's term on the device, the twin of {@link RceKd#loss} (kdrec --device cuda): per epoch the student's top-M is
 * ranked on the device by the fused score->top-K kernel and downloaded (users x M ids); the sampling,
 * the per-user lists and the teacher's targets are built on the host by RceKd itself, so the sets
 * are exactly the CPU path's for the same seed. Per batch, the distinct users' rows (RceKd#batchRows)
 * go up, and the fused pair soft-CE computes every row's loss, per-entry gradient and user gradient
 * on the device; the item gradient is the gather-dot backward.
 *
 * <p>The CPU multiplies each row's CE by lambda times the user's count in the batch; here that factor
 * is folded into the row's weights and targets before upload (the pair CE is linear in wA, wB and
 * the target together), so the kernel's loss and gradients come out already scaled.
 */
final class RceKdOnDevice implements DeviceTerm {
    private final Cuda cuda;
    private final UploadSlots slots;
    private final RceKd kd;
    private final float lambda;
    private final Backend hostBackend;
    private int[] userSlot = new int[0];
    private float[] wA = new float[0], wB = new float[0], target = new float[0], loss = new float[0];

    RceKdOnDevice(Cuda cuda, UploadSlots slots, RceKd kd, float lambda, Backend hostBackend) {
        this.cuda = cuda;
        this.slots = slots;
        this.kd = kd;
        this.lambda = lambda;
        this.hostBackend = hostBackend;
    }

    @Override
    public String name() {
        return "RCE-KD";
    }

    /** The per-epoch hook; the model's final embeddings must be current ({@link DeviceModel#forward}). */
    @Override
    public void beginEpoch(DeviceModel model, int epoch) {
        int users = model.users(), items = model.items(), d = model.dim();
        kd.beginEpoch(hostBackend, users, items, (m, top, scores) -> {
            if (m > GpuTopK.MAX_K) throw new IllegalArgumentException("rcekd.m = " + m + " exceeds the GPU top-K limit " + GpuTopK.MAX_K);
            long n = (long) users * m;
            DeviceBuffer ids = slots.reserve("rcekd.top", n), s = slots.reserve("rcekd.topScores", n);
            GpuTopK.scoreTopK(cuda, users, items, d, model.userRows(), 0, d, model.itemRows(), 0, d, m, null, null, ids, s);
            cuda.download(ids, MemorySegment.ofArray(top), 0, n * 4);
            cuda.download(s, MemorySegment.ofArray(scores), 0, n * 4);
        }, epoch);
    }

    /** Accumulates lambda times the batch's KD gradient into the model's gradients; returns lambda * kd. */
    @Override
    public double step(DeviceModel model, Batch batch) {
        if (userSlot.length != model.users()) {
            userSlot = new int[model.users()];
            java.util.Arrays.fill(userSlot, -1);
        }
        BatchUsers bu = BatchUsers.of(batch.users(), userSlot);
        PairSets sets = kd.batchRows(bu);
        int nu = sets.rows(), nnz = sets.entries(), d = model.dim();
        if (nu == 0) return 0;
        if (wA.length < nu) {
            wA = new float[nu];
            wB = new float[nu];
            loss = new float[nu];
        }
        if (target.length < nnz) target = new float[nnz];
        int[] ptr = sets.ptr();
        float[] counts = bu.counts();
        for (int r = 0; r < nu; r++) {
            float c = lambda * counts[r];
            wA[r] = c * sets.wA()[r];
            wB[r] = c * sets.wB()[r];
            for (int j = ptr[r]; j < ptr[r + 1]; j++) target[j] = c * sets.target()[j];
        }
        DeviceBuffer us = slots.ints("rcekd.users", bu.users(), nu), dPtr = slots.ints("rcekd.ptr", ptr, nu + 1),
                dIdx = slots.ints("rcekd.idx", sets.idx(), nnz), dA = slots.ints("rcekd.a", sets.a(), nu),
                dB = slots.ints("rcekd.b", sets.b(), nu), dTarget = slots.floats("rcekd.target", target, nnz),
                dWa = slots.floats("rcekd.wA", wA, nu), dWb = slots.floats("rcekd.wB", wB, nu);
        DeviceBuffer ue = slots.reserve("rcekd.ue", (long) nu * d), gu = slots.reserve("rcekd.gu", (long) nu * d),
                dLoss = slots.reserve("rcekd.loss", nu), grad = slots.reserve("rcekd.grad", nnz);
        GpuEmbedding.gather(cuda, nu, d, us, model.userRows(), 0, d, ue, 0, d);
        GpuPairCe.softCe(cuda, nu, d, ue, 0, d, model.itemRows(), 0, d, dPtr, dIdx, dA, dB, dTarget, dWa, dWb, kd.tau(),
                dLoss, grad, gu, 0, d);
        // the batch's users are distinct: the scatter has no collisions (no atomics race)
        GpuEmbedding.scatterAdd(cuda, nu, d, us, gu, 0, d, model.userGrad(), 0, d);
        GpuSubsetCe.gatherDotBackward(cuda, nu, d, ue, 0, d, model.itemRows(), 0, d, dPtr, dIdx, grad, null, 0, d,
                model.itemGrad(), 0, d);
        cuda.download(dLoss, MemorySegment.ofArray(loss), 0, nu * 4L);
        double sum = 0;
        for (int r = 0; r < nu; r++) sum += loss[r];
        return sum;
    }
}
