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

/**
 * RCE-KD's term on the device ({@code --device cuda}), the twin of {@link RceKd#loss}. Per epoch the
 * student's top-M is ranked on the device by the fused score->top-K kernel and downloaded (users x M
 * ids); the sampling, the per-user lists and the teacher's targets are built on the host by RceKd
 * itself, so the sets are exactly the CPU path's for the same seed, and go up once (about 8 bytes per
 * entry). Per batch only the distinct users, their list offsets and five scalars per row go up: the
 * rows are cut out of the epoch's lists on the device (ragged gather), the fused pair soft-CE computes
 * every row's loss, per-entry gradient and user gradient, and the item gradient is the gather-dot
 * backward.
 *
 * <p>The CPU multiplies each row's CE by lambda times the user's count in the batch; here that factor
 * is folded into the row's weights and (by the ragged gather) its targets: the pair CE is linear in
 * wA, wB and the target together, so the kernel's loss and gradients come out already scaled.
 */
final class RceKdOnDevice implements DeviceTerm {
    private final Cuda cuda;
    private final UploadSlots slots;
    private final RceKd kd;
    private final float lambda;
    private final Backend hostBackend;
    private int[] userSlot = new int[0], a = new int[0], b = new int[0], ptr = new int[1];
    private float[] wA = new float[0], wB = new float[0], scale = new float[0], loss = new float[0];
    private DeviceBuffer epPtr, epIdx, epTarget; // the epoch's lists and targets over all users

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

    /**
     * The per-epoch hook; the model's final embeddings must be current ({@link DeviceModel#forward}).
     * The epoch's lists and targets over all users then go up once (about 8 bytes per entry).
     */
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
        RceKdEpoch ep = kd.epochSets();
        int nnz = ep.ptr[users];
        epPtr = slots.ints("rcekd.ep.ptr", ep.ptr, users + 1);
        epIdx = slots.ints("rcekd.ep.idx", ep.idx, nnz);
        epTarget = slots.floats("rcekd.ep.target", ep.target, nnz);
    }

    /** Accumulates lambda times the batch's KD gradient into the model's gradients; returns lambda * kd. */
    @Override
    public double step(DeviceModel model, Batch batch) {
        if (userSlot.length != model.users()) {
            userSlot = new int[model.users()];
            java.util.Arrays.fill(userSlot, -1);
        }
        RceKdEpoch ep = kd.epochSets();
        BatchUsers bu = BatchUsers.of(batch.users(), userSlot);
        int nu = bu.size(), d = model.dim();
        if (nu == 0) return 0;
        if (wA.length < nu) {
            wA = new float[nu];
            wB = new float[nu];
            scale = new float[nu];
            loss = new float[nu];
            a = new int[nu];
            b = new int[nu];
            ptr = new int[nu + 1];
        }
        // the rows' scalars on the host (the lists and targets are already on the device)
        int[] us = bu.users();
        float[] counts = bu.counts();
        for (int r = 0; r < nu; r++) {
            int u = us[r];
            float c = lambda * counts[r];
            ptr[r + 1] = ptr[r] + ep.ptr[u + 1] - ep.ptr[u];
            a[r] = ep.a[u];
            b[r] = ep.b[u];
            wA[r] = c * ep.wA[u];
            wB[r] = c * ep.wB[u];
            scale[r] = c;
        }
        int nnz = ptr[nu];
        DeviceBuffer dUsers = slots.ints("rcekd.users", us, nu), dPtr = slots.ints("rcekd.ptr", ptr, nu + 1),
                dA = slots.ints("rcekd.a", a, nu), dB = slots.ints("rcekd.b", b, nu), dWa = slots.floats("rcekd.wA", wA, nu),
                dWb = slots.floats("rcekd.wB", wB, nu), dScale = slots.floats("rcekd.scale", scale, nu);
        DeviceBuffer dIdx = slots.reserve("rcekd.idx", nnz), dTarget = slots.reserve("rcekd.target", nnz);
        GpuEmbedding.gatherRagged(cuda, nu, dUsers, epPtr, epIdx, epTarget, dPtr, dScale, dIdx, dTarget);
        DeviceBuffer ue = slots.reserve("rcekd.ue", (long) nu * d), gu = slots.reserve("rcekd.gu", (long) nu * d),
                dLoss = slots.reserve("rcekd.loss", nu), grad = slots.reserve("rcekd.grad", nnz);
        GpuEmbedding.gather(cuda, nu, d, dUsers, model.userRows(), 0, d, ue, 0, d);
        GpuPairCe.softCe(cuda, nu, d, ue, 0, d, model.itemRows(), 0, d, dPtr, dIdx, dA, dB, dTarget, dWa, dWb, kd.tau(),
                dLoss, grad, gu, 0, d);
        // the batch's users are distinct: the scatter has no collisions (no atomics race)
        GpuEmbedding.scatterAdd(cuda, nu, d, dUsers, gu, 0, d, model.userGrad(), 0, d);
        GpuSubsetCe.gatherDotBackward(cuda, nu, d, ue, 0, d, model.itemRows(), 0, d, dPtr, dIdx, grad, null, 0, d,
                model.itemGrad(), 0, d);
        cuda.download(dLoss, MemorySegment.ofArray(loss), 0, nu * 4L);
        double sum = 0;
        for (int r = 0; r < nu; r++) sum += loss[r];
        return sum;
    }
}
