package kdrec.kd;

import kdrec.device.DeviceModel;
import kdrec.device.DeviceTerm;
import kdrec.device.StepUploads;
import kdrec.device.UploadSlots;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuPairCe;
import kdrec.loss.Batch;

/**
 * RCE-KD's term on the device ({@code --device cuda}), the twin of {@link RceKd#loss}. Per epoch the
 * student's top-M is ranked on the device by the fused score->top-K kernel and the epoch's sets are
 * built there too ({@link RceKdSetsOnDevice}: the host's draws and list rules, so the lists are exactly
 * the CPU path's for the same seed); only five numbers per user come down. Without sampling the
 * lists are fixed: RceKd builds them on the host once and they go up once. Per batch only the distinct
 * users, their list offsets and five scalars per row go up, staged with the step's other uploads: the rows are cut out of the epoch's lists
 * on the device (ragged gather), and one fused pair soft-CE launch ({@link GpuPairCe#softCeRows}) reads
 * each row's user from the model, computes its loss and per-entry gradient, and adds the user and item
 * gradients into the model's.
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
    private final DeviceUserLists lists;
    private final RceKdSetsOnDevice sets; // null without per-epoch sets (sampling=false)
    private final int topM;
    private boolean uploaded;
    private int[] epA, epB; // the epoch's split points and weights per user
    private float[] epWA, epWB;
    private int[] a = new int[0], b = new int[0];
    private float[] wA = new float[0], wB = new float[0], scale = new float[0];
    private DeviceUserLists.Rows rows; // the prepared batch
    private StepUploads.Staged stagedA, stagedB, stagedWa, stagedWb;

    RceKdOnDevice(Cuda cuda, UploadSlots slots, RceKd kd, float lambda) {
        this.cuda = cuda;
        this.slots = slots;
        this.kd = kd;
        this.lambda = lambda;
        this.lists = new DeviceUserLists(cuda, slots, "rcekd");
        RceKd.DeviceSpec spec = kd.perEpochSets() ? kd.deviceSpec() : null;
        this.topM = spec == null ? 0 : spec.m();
        this.sets = spec == null ? null : new RceKdSetsOnDevice(cuda, slots, spec);
    }

    @Override
    public String name() {
        return "RCE-KD";
    }

    /** The per-epoch hook; the model's final embeddings must be current ({@link DeviceModel#forward}). */
    @Override
    public void beginEpoch(DeviceModel model, int epoch) {
        if (sets != null) {
            sets.build(model.users(), lists.studentTopMOnDevice(model, topM), epoch);
            lists.useEpoch(sets.ptr, sets.dPtr, sets.dIdx, sets.dTarget);
            epA = sets.a;
            epB = sets.b;
            epWA = sets.wA;
            epWB = sets.wB;
        } else if (!uploaded) { // w/o sampling: the lists are fixed for the run
            RceKdEpoch ep = kd.epochSets();
            lists.uploadEpoch(model.users(), ep.ptr, ep.idx, ep.target);
            epA = ep.a;
            epB = ep.b;
            epWA = ep.wA;
            epWB = ep.wB;
            uploaded = true;
        }
    }

    @Override
    public int prepare(DeviceModel model, Batch batch, StepUploads up) {
        rows = lists.plan(model, batch, bu -> {
            int nu = bu.size();
            if (wA.length < nu) {
                wA = new float[nu];
                wB = new float[nu];
                scale = new float[nu];
                a = new int[nu];
                b = new int[nu];
            }
            for (int r = 0; r < nu; r++) {
                int u = bu.users()[r];
                float c = lambda * bu.counts()[r];
                a[r] = epA[u];
                b[r] = epB[u];
                wA[r] = c * epWA[u];
                wB[r] = c * epWB[u];
                scale[r] = c;
            }
            return scale;
        }, up);
        int nu = rows.n;
        stagedA = up.ints(a, nu);
        stagedB = up.ints(b, nu);
        stagedWa = up.floats(wA, nu);
        stagedWb = up.floats(wB, nu);
        return nu;
    }

    /** Accumulates lambda times the batch's KD gradient into the model's gradients; lambda times each row's loss into {@code loss}. */
    @Override
    public void launch(DeviceModel model, DeviceBuffer loss) {
        int nu = rows.n, d = model.dim();
        if (nu == 0) return;
        lists.cutLists(model, rows);
        DeviceBuffer grad = slots.reserve("rcekd.grad", rows.entries());
        // rows read the users from the model and both gradients go into the model's: one launch, not four
        GpuPairCe.softCeRows(cuda, nu, d, rows.userIds, model.userRows(), 0, d, model.itemRows(), 0, d, rows.ptr, rows.idx,
                stagedA.get(), stagedB.get(), rows.val, stagedWa.get(), stagedWb.get(), kd.tau(), loss, grad, model.userGrad(), 0, d,
                model.itemGrad(), 0, d);
    }

    @Override
    public double loss(float[] loss, int from) {
        return DeviceUserLists.sumLoss(loss, from, rows.n, null); // already lambda * count per row
    }
}
