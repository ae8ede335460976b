package kdrec.device;

import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.gpu.Cuda;
import kdrec.gpu.CudaProbe;
import kdrec.gpu.DeviceBuffer;
import kdrec.loss.Batch;
import kdrec.loss.Bpr;
import kdrec.loss.Objective;
import kdrec.model.Recommender;
import kdrec.nn.Adam;
import kdrec.tensor.Backend;

/**
 * A training run's device side ({@code --device cuda}): the student's tables, their gradients and
 * Adam's moments live on the GPU for the whole run; each batch is one device step (forward, the
 * losses' gradients, backward, Adam) with only the batch's ids going up and the loss values coming
 * down; evaluation ranks every user on the device with the fused score->top-K kernel.
 *
 * <p>What runs here: MF and LightGCN students, BPR ({@code kdrec train}) and BPR + lambda RCE-KD
 * ({@code kdrec distill --method rcekd|ce}); anything else is refused up front with what to use instead.
 * The trainer keeps its host model and optimiser as the master copy for checkpoints, early stopping
 * and the best-epoch parameters: {@link #download} after every epoch, {@link #upload} on (re)start.
 */
public final class DeviceTraining implements AutoCloseable {
    private final Cuda cuda;
    private final UploadSlots slots;
    private final DeviceModel model;
    private final DeviceAdam adam;
    private final DeviceBpr bpr;
    private final DeviceTerm kd;
    private DeviceBuffer excludePtr, excludeIdx;

    private DeviceTraining(Cuda cuda, Recommender student, Objective objective, Adam hostAdam, Backend hostBackend) {
        this.cuda = cuda;
        UploadSlots s = new UploadSlots(cuda);
        DeviceModel m = null;
        try {
            m = DeviceModel.of(cuda, student);
            this.adam = new DeviceAdam(cuda, m, hostAdam);
        } catch (RuntimeException e) {
            if (m != null) m.close();
            s.close();
            throw e;
        }
        this.slots = s;
        this.model = m;
        this.bpr = new DeviceBpr(cuda, s);
        this.kd = objective instanceof DeviceObjective o ? o.deviceTerm(cuda, s, hostBackend) : null;
    }

    /**
     * The device side of a run of {@code objective} on {@code student} (host parameters and
     * {@code hostAdam}'s moments uploaded). Fails with the probe's reason where there is no usable GPU.
     */
    public static DeviceTraining open(Recommender student, Objective objective, Adam hostAdam, Adam extraAdam, Backend hostBackend) {
        checkSupported(student, objective, hostAdam, extraAdam);
        return new DeviceTraining(cudaOrExplain(), student, objective, hostAdam, hostBackend);
    }

    /**
     * Refuses, before any CUDA call, what the device path does not run, saying what to use instead:
     * backbones other than MF/LightGCN, objectives other than BPR and BPR + rcekd or ce, lazy Adam, and
     * distillers with their own parameters.
     */
    public static void checkSupported(Recommender student, Objective objective, Adam hostAdam, Adam extraAdam) {
        if (!(student instanceof kdrec.model.MatrixFactorization) && !(student instanceof kdrec.model.LightGcn)) {
            throw new IllegalArgumentException("--device cuda runs the embedding backbones (mf, lightgcn); model " + student.kind()
                    + " trains with --device cpu");
        }
        if (objective instanceof DeviceObjective o) {
            o.checkOnDevice();
        } else if (!(objective instanceof Bpr)) {
            throw new IllegalArgumentException("--device cuda trains with BPR (kdrec train) and distills with rcekd or ce; objective "
                    + objective.getClass().getSimpleName() + " runs with --device cpu");
        }
        if (extraAdam != null) throw new IllegalArgumentException("--device cuda does not run distillers with their own parameters; use --device cpu");
        if (hostAdam.lazy()) {
            throw new IllegalArgumentException("lazy_adam=true is not available with --device cuda (the device runs the dense, "
                    + "PyTorch-exact Adam); set lazy_adam=false or use --device cpu");
        }
    }

    /** The probe's context, or an IllegalStateException that says why CUDA is unusable here. */
    public static Cuda cudaOrExplain() {
        CudaProbe.Status st = CudaProbe.status();
        if (!st.available()) throw new IllegalStateException("--device cuda: no usable GPU here (" + st.description() + ")");
        return CudaProbe.cuda();
    }

    /** One line naming the device, for the run log. */
    public String describe() {
        return "device: " + cuda.describe() + " (tables, gradients and Adam state resident; "
                + (kd == null ? "BPR" : "BPR + " + kd.name()) + " steps and evaluation on the GPU)";
    }

    /** The epoch's per-epoch hook (RCE-KD: the student's top-M and the epoch's sets). */
    public void beginEpoch(int epoch) {
        if (kd == null) return;
        model.forward();
        kd.beginEpoch(model, epoch);
    }

    /** One optimisation step on one batch; returns the loss parts as the host objective names them. */
    public Map<String, Double> step(Batch batch) {
        model.zeroGrad();
        model.forward();
        Map<String, Double> parts = new LinkedHashMap<>();
        parts.put("bpr", bpr.step(model, batch));
        if (kd != null) parts.put("kd", kd.step(model, batch));
        model.backward();
        adam.step();
        return parts;
    }

    /**
     * Every user's top-k items by the current parameters, train items ({@code excludePtr/Idx}, a CSR
     * over all users) excluded; users x k, row-major, as {@code Evaluator.rankAll}.
     */
    public int[] rankAll(int k, int[] trainPtr, int[] trainItems) {
        if (excludePtr == null) {
            excludePtr = cuda.upload(trainPtr);
            excludeIdx = cuda.upload(trainItems);
        }
        return DeviceRanking.rankAll(cuda, model, slots, k, excludePtr, excludeIdx);
    }

    /** Copies the device's parameters and Adam state into the host model and optimiser. */
    public void download() {
        model.download();
        adam.download();
    }

    /** Copies the host model's parameters and optimiser state to the device (after a resume). */
    public void upload() {
        model.upload();
        adam.upload();
    }

    @Override
    public void close() {
        if (excludePtr != null) {
            excludePtr.close();
            excludeIdx.close();
        }
        adam.close();
        model.close();
        slots.close();
    }
}
