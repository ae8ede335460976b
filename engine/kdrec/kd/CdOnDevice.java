package kdrec.kd;

import kdrec.autograd.Tape;
import kdrec.device.DeviceModel;
import kdrec.device.DeviceTerm;
import kdrec.device.StepUploads;
import kdrec.device.UploadSlots;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuSubsetCe;
import kdrec.loss.Batch;
import kdrec.model.Recommender;

/**
 * CD's term on the device ({@code --device cuda}), the twin of {@link Cd#loss}: the epoch's samples
 * S_u go up with their soft labels {@code sigmoid((t + t2) / t1)} once (teacher and random guides) or
 * every epoch (student guide: drawn on the host from the student's ranking, as the CPU path draws them,
 * so the host student must be current: {@link #readsHostModel}). Per batch the distinct users' lists are
 * cut out on the device, their logits computed by the gather-dot (users read from the model by id), the soft-label BCE gives each row's
 * loss and the per-entry gradient scaled by lambda times the user's count, and the gather-dot backward
 * turns that into user and item gradients. Before this twin CD ran through {@link HostKdOnDevice}:
 * the whole final-embedding tables came down every step.
 */
final class CdOnDevice implements DeviceTerm {
    private final Cuda cuda;
    private final UploadSlots slots;
    private final Cd kd;
    private final float lambda;
    private final Recommender hostStudent;
    private final DeviceUserLists lists;
    private final Tape tape = new Tape(kdrec.tensor.Backends.get(), new kdrec.tensor.Scratch());
    private boolean uploaded;
    private DeviceUserLists.Rows rows; // the prepared batch
    private StepUploads.Staged stagedScale;

    CdOnDevice(Cuda cuda, UploadSlots slots, Cd kd, float lambda, Recommender hostStudent) {
        this.cuda = cuda;
        this.slots = slots;
        this.kd = kd;
        this.lambda = lambda;
        this.hostStudent = hostStudent;
        this.lists = new DeviceUserLists(cuda, slots, "cd");
    }

    @Override
    public String name() {
        return "CD";
    }

    @Override
    public boolean readsHostModel() {
        return kd.redrawsEachEpoch();
    }

    @Override
    public void beginEpoch(DeviceModel model, int epoch) {
        if (uploaded && !kd.redrawsEachEpoch()) return; // the teacher's and the random samples are fixed for the run
        tape.reset();
        try (var ng = tape.noGrad()) {
            kd.beginEpoch(tape, hostStudent, epoch);
        }
        UserSets s = kd.samples();
        lists.uploadEpoch(model.users(), s.ptr(), s.idx(), kd.labels(s.teacher()));
        uploaded = true;
    }

    @Override
    public int prepare(DeviceModel model, Batch batch, StepUploads up) {
        rows = lists.plan(model, batch, null, up);
        stagedScale = lists.stageCountScale(rows, lambda, up);
        return rows.n;
    }

    @Override
    public void launch(DeviceModel model, DeviceBuffer loss) {
        int nu = rows.n, d = model.dim();
        if (nu == 0) return;
        lists.cutLists(model, rows);
        int n = rows.entries();
        DeviceBuffer logits = slots.reserve("cd.logits", n), grad = slots.reserve("cd.grad", n);
        GpuSubsetCe.gatherDotRows(cuda, nu, d, rows.userIds, model.userRows(), 0, d, model.itemRows(), 0, d, rows.ptr, rows.idx, logits);
        GpuSubsetCe.softBce(cuda, nu, rows.ptr, logits, rows.val, Cd.EPS, stagedScale.get(), loss, grad);
        lists.backward(model, rows, grad);
    }

    @Override
    public double loss(float[] loss, int from) {
        return lists.countScaledLoss(loss, from, rows); // the kernel's loss is unscaled; rowScale scales the gradient only
    }

    @Override
    public void close() {
        tape.close();
    }
}
