package kdrec.kd;

import java.lang.foreign.MemorySegment;
import kdrec.autograd.Arith;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.device.DeviceModel;
import kdrec.device.DeviceTerm;
import kdrec.device.StepUploads;
import kdrec.device.UploadSlots;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuVec;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.tensor.Tensor;

/**
 * The device path's term for distillers without a device twin (rd, cd, rrd, dcd, unkd, hetcomp,
 * RCE-KD's full_ce ablation): BPR, the student's tables, LightGCN's propagation and Adam stay on the
 * GPU, while the distiller's own per-batch loss runs on the host tape, exactly as on the CPU path,
 * against a copy of the student's final embeddings downloaded for the step; its gradient goes back
 * up and is added to the device's final-embedding gradients before the backward. Its per-epoch hook
 * runs on the host student, which the trainer refreshes from the device after every epoch.
 *
 * <p>Cost per step: the final embeddings down and their gradient up, (users + items) x d floats each
 * way (5.7 MB at the Gowalla-sized shape, d = 20), plus the host's KD math; the twins
 * ({@link RceKdOnDevice}, {@link VanillaCeOnDevice}) move only the batch's ids.
 */
final class HostKdOnDevice implements DeviceTerm {
    private final Cuda cuda;
    private final UploadSlots slots;
    private final Distiller distiller;
    private final float lambda;
    private final Recommender hostStudent;
    private final Tape tape = new Tape(kdrec.tensor.Backends.get(), new kdrec.tensor.Scratch());
    private Tensor users, items;
    private Batch batch;
    private double loss;

    HostKdOnDevice(Cuda cuda, UploadSlots slots, Distiller distiller, float lambda, Recommender hostStudent) {
        this.cuda = cuda;
        this.slots = slots;
        this.distiller = distiller;
        this.lambda = lambda;
        this.hostStudent = hostStudent;
    }

    @Override
    public String name() {
        return distiller.name() + " (KD term on the host)";
    }

    /** The distiller's own hook on the host student (its parameters are the device's as of this epoch's start). */
    @Override
    public void beginEpoch(DeviceModel model, int epoch) {
        tape.reset();
        try (var ng = tape.noGrad()) {
            distiller.beginEpoch(tape, hostStudent, epoch);
        }
    }

    @Override
    public boolean readsHostModel() {
        return true;
    }

    @Override
    public int prepare(DeviceModel model, Batch batch, StepUploads up) {
        this.batch = batch;
        return 0; // the loss is computed on the host in launch
    }

    @Override
    public void launch(DeviceModel model, DeviceBuffer unused) {
        int d = model.dim();
        if (users == null || users.rows() != model.users() || users.cols() != d) {
            users = Tensor.zeros(model.users(), d);
            items = Tensor.zeros(model.items(), d);
        }
        cuda.download(model.userRows(), users.data(), 0, users.size() * 4L);
        cuda.download(model.itemRows(), items.data(), 0, items.size() * 4L);
        tape.reset();
        Var u = Var.leaf("user.final", users), i = Var.leaf("item.final", items);
        Var kd = Arith.scale(tape, distiller.loss(tape, hostStudent, new Recommender.Embeddings(u, i), batch), lambda);
        loss = kd.value().get(0);
        if (!kd.requiresGrad()) return;
        tape.backward(kd);
        addGradient(u.densify(tape), model.userGrad(), "hostkd.gu");
        addGradient(i.densify(tape), model.itemGrad(), "hostkd.gi");
    }

    /** grad += g (g null: no gradient reached that table). */
    private void addGradient(Tensor g, DeviceBuffer grad, String slot) {
        if (g == null) return;
        int n = Math.toIntExact(g.size());
        DeviceBuffer up = slots.reserve(slot, n);
        cuda.upload(g.data(), 0, up, n * 4L);
        GpuVec.add(cuda, n, grad, 0, up, 0, grad, 0);
    }

    @Override
    public double loss(float[] unused, int from) {
        return loss;
    }

    @Override
    public void close() {
        tape.close();
    }
}
