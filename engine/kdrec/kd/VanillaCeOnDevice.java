package kdrec.kd;

import kdrec.device.DeviceModel;
import kdrec.device.DeviceTerm;
import kdrec.device.StepUploads;
import kdrec.device.UploadSlots;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuSubsetCe;
import kdrec.loss.Batch;

/**
 * Vanilla CE-KD's term on the device ({@code --device cuda}), the twin of {@link VanillaCe#loss}: the
 * sets A_u with their teacher logits go up once (teacher guide) or every epoch (student guide: the
 * student's top-K ranked on the device, the teacher's logits of those items on the host, exactly as the
 * CPU path builds them). Per batch the distinct users' lists are cut out on the device, the fused subset
 * soft-CE (users read from the model by id) computes each row's loss and the per-entry gradient scaled
 * by lambda times the user's count (its rowScale), and the gather-dot backward turns that into user and
 * item gradients in the model's: three launches.
 */
final class VanillaCeOnDevice implements DeviceTerm {
    private final Cuda cuda;
    private final UploadSlots slots;
    private final VanillaCe kd;
    private final float lambda;
    private final DeviceUserLists lists;
    private boolean uploaded;
    private DeviceUserLists.Rows rows; // the prepared batch
    private StepUploads.Staged stagedScale;

    VanillaCeOnDevice(Cuda cuda, UploadSlots slots, VanillaCe kd, float lambda) {
        this.cuda = cuda;
        this.slots = slots;
        this.kd = kd;
        this.lambda = lambda;
        this.lists = new DeviceUserLists(cuda, slots, "ce");
    }

    @Override
    public String name() {
        return "CE-KD";
    }

    @Override
    public void beginEpoch(DeviceModel model, int epoch) {
        int users = model.users();
        if (kd.studentGuide()) {
            int[] top = new int[users * kd.k()];
            lists.studentTopM(model, kd.k(), top);
            kd.setStudentTop(top, users);
        } else if (uploaded) {
            return; // the teacher's sets are fixed for the run
        }
        UserSets s = kd.sets();
        lists.uploadEpoch(users, s.ptr(), s.idx(), s.teacher());
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
        DeviceBuffer grad = slots.reserve("ce.grad", rows.entries());
        // users read from the model by id, both gradients added into the model's: two launches after the cut
        GpuSubsetCe.softCeRows(cuda, nu, d, rows.userIds, model.userRows(), 0, d, model.itemRows(), 0, d, rows.ptr, rows.idx, rows.val,
                kd.tau(), stagedScale.get(), loss, grad, null);
        lists.backward(model, rows, grad);
    }

    @Override
    public double loss(float[] loss, int from) {
        return lists.countScaledLoss(loss, from, rows); // the kernel's loss is unscaled; rowScale scales the gradient only
    }
}
