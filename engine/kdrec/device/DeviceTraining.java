package kdrec.device;

import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.gpu.Cuda;
import kdrec.gpu.CudaProbe;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuTopK;
import kdrec.loss.Batch;
import kdrec.loss.Bpr;
import kdrec.loss.Objective;
import kdrec.model.Recommender;
import kdrec.nn.Adam;

/**
 * A training run's device side ({@code --device cuda}): the student's tables, their gradients and
 * Adam's moments live on the GPU for the whole run; each batch is one device step (forward, the
 * losses' gradients, backward, Adam) with only the batch's ids going up and the loss values coming
 * down; evaluation ranks every user on the device with the fused score->top-K kernel.
 *
 * <p>What runs here: MF and LightGCN students, BPR ({@code kdrec train}) and BPR + lambda times any
 * KD method ({@code kdrec distill}: RCE-KD, vanilla CE-KD and CD whole on the device, the others with their
 * term, and feature KD's own parameters, on the host each step), with dense or lazy Adam; anything
 * else is refused up front with what to use instead. HSTU runs are {@link DeviceSequenceTraining}.
 * The trainer keeps its host model and optimiser as the master copy for checkpoints, early stopping
 * and the best-epoch parameters: {@link #download} after every epoch; {@link #open} uploads the host's
 * state, so a resumed run continues from its checkpoint.
 *
 * <p>Under {@code -Dkdrec.device.profile=true} the step, the per-epoch hook and the parameters'
 * download are timed per phase ({@link StepProfile}; {@link #profileReport}), the device synchronised
 * at every phase boundary; off, the profile's calls return at once.
 */
public final class DeviceTraining implements DeviceRun {
    private final Cuda cuda;
    private final UploadSlots slots;
    private final DeviceModel model;
    private final DeviceAdam adam;
    private final DeviceBpr bpr;
    private final DeviceTerm kd;
    private final DeviceBuffer excludePtr, excludeIdx;
    private final StepUploads uploads;
    private float[] losses = new float[0];
    private boolean hostBehind; // the device has stepped since the host model was last refreshed
    private StepProfile profile;

    private DeviceTraining(Cuda cuda, Recommender student, Objective objective, Adam hostAdam, Adam extraAdam, int[] trainPtr,
                           int[] trainItems) {
        this.cuda = cuda;
        UploadSlots s = new UploadSlots(cuda);
        DeviceModel m = null;
        DeviceAdam a = null;
        DeviceTerm t = null;
        try {
            m = DeviceModel.of(cuda, student, hostAdam.lazy());
            a = new DeviceAdam(cuda, m, hostAdam);
            t = objective instanceof DeviceObjective o ? o.deviceTerm(cuda, s, student, extraAdam) : null;
            this.excludePtr = s.ints("train.ptr", trainPtr, trainPtr.length);
            this.excludeIdx = s.ints("train.items", trainItems, trainItems.length);
        } catch (RuntimeException e) {
            closeAll(t, a, m, s);
            throw e;
        }
        this.kd = t;
        this.slots = s;
        this.model = m;
        this.adam = a;
        this.bpr = new DeviceBpr(cuda);
        this.uploads = new StepUploads(cuda);
        this.profile = StepProfile.fromProperty(cuda::synchronize);
    }

    /**
     * The device side of a run of {@code objective} on {@code student} (host parameters and
     * {@code hostAdam}'s moments uploaded). Fails with the probe's reason where there is no usable GPU.
     */
    public static DeviceTraining open(Recommender student, Objective objective, Adam hostAdam, Adam extraAdam, int[] trainPtr, int[] trainItems) {
        checkSupported(student, objective);
        return new DeviceTraining(cudaOrExplain(), student, objective, hostAdam, extraAdam, trainPtr, trainItems);
    }

    /**
     * The settings-level part of {@link #checkSupported}, for the CLI to call before it creates a run
     * directory: the backbone, the evaluation's top-k, and for HSTU dense Adam and the attention
     * kernels' limits (max_len and the wider head width, TrainConfig.maxHeadWidth).
     */
    public static void checkSettings(String model, int topK, boolean lazyAdam, int maxLen, int headDim) {
        if (!model.equals("mf") && !model.equals("lightgcn") && !model.equals("hstu")) {
            throw new IllegalArgumentException("--device cuda runs mf, lightgcn and hstu; model " + model + " trains with --device cpu");
        }
        if (topK > GpuTopK.MAX_K) throw new IllegalArgumentException("top_k = " + topK + " exceeds the GPU top-K limit " + GpuTopK.MAX_K + "; use --device cpu");
        if (!model.equals("hstu")) return;
        if (lazyAdam) throw new IllegalArgumentException("--device cuda trains hstu with dense Adam; lazy_adam=true runs with --device cpu");
        if (maxLen > kdrec.gpu.GpuAttention.MAX_N || headDim > kdrec.gpu.GpuAttention.MAX_DH) {
            throw new IllegalArgumentException("--device cuda runs hstu attention up to max_len " + kdrec.gpu.GpuAttention.MAX_N + " and a head width (attention_dim, linear_dim; dim / heads by default) of "
                    + kdrec.gpu.GpuAttention.MAX_DH + ", got " + maxLen + " and " + headDim + "; use --device cpu");
        }
    }

    /**
     * Refuses, before any CUDA call, what the device path does not run, saying what to use instead:
     * backbones other than MF/LightGCN/HSTU, objectives other than BPR and BPR + a KD method on MF and
     * LightGCN, and anything but the sequence loss on HSTU (see {@link DeviceSequenceTraining}).
     */
    public static void checkSupported(Recommender student, Objective objective) {
        if (student instanceof kdrec.model.Hstu) {
            DeviceSequenceTraining.sequenceLossOf(objective);
            return;
        }
        if (!(student instanceof kdrec.model.MatrixFactorization) && !(student instanceof kdrec.model.LightGcn)) {
            checkSettings(student.kind(), 0, false, 0, 0);
        }
        if (objective instanceof DeviceObjective o) {
            o.checkOnDevice();
            if (!(o.baseLoss() instanceof Bpr)) {
                throw new IllegalArgumentException("--device cuda distills an mf or lightgcn student with a BPR base loss; " + o.baseLoss().name() + " runs with --device cpu");
            }
        } else if (!(objective instanceof Bpr)) {
            throw new IllegalArgumentException("--device cuda trains with BPR (kdrec train) and distills with a BPR base loss; objective "
                    + objective.getClass().getSimpleName() + " runs with --device cpu");
        }
    }

    /** The probe's context, or an IllegalStateException that says why CUDA is unusable here. */
    public static Cuda cudaOrExplain() {
        CudaProbe.Status st = CudaProbe.status();
        if (!st.available()) throw new IllegalStateException("--device cuda: no usable GPU here (" + st.description() + ")");
        return CudaProbe.cuda();
    }

    /** One line naming the device, for the run log. */
    @Override
    public String describe() {
        return "device: " + cuda.describe() + " (tables, gradients and Adam state resident; "
                + (kd == null ? "BPR" : "BPR + " + kd.name()) + " steps and evaluation on the GPU)";
    }

    /** The epoch's per-epoch hook (RCE-KD: the student's top-M and the epoch's sets). */
    @Override
    public void beginEpoch(int epoch) {
        if (kd != null) {
            if (kd.readsHostModel() && hostBehind) download(false);
            profile.begin();
            model.forward();
            profile.lap("epoch.forward");
            kd.beginEpoch(model, epoch);
            profile.lap("epoch.kd");
        }
        profile.handBack(); // the epoch's negatives and shuffle, before its first step, count as outside
    }

    /** One optimisation step on one batch; returns the loss parts as the host objective names them. */
    @Override
    public Map<String, Double> step(Batch batch) {
        return run(batch, true);
    }

    /** The step without the update: the parameters' gradient of the batch's loss, parts into {@code parts}. */
    void gradient(Batch batch, Map<String, Double> parts) {
        parts.putAll(run(batch, false));
    }

    /**
     * One step: the host work of every term and one upload first, then every launch (forward, losses'
     * gradients, backward, Adam when {@code update}), then one download of all per-row losses. The host
     * and the GPU meet twice per step, not at every upload.
     */
    private Map<String, Double> run(Batch batch, boolean update) {
        profile.beginStep();
        uploads.begin();
        int nb = bpr.prepare(batch, uploads), nk = kd == null ? 0 : kd.prepare(model, batch, uploads);
        profile.lap("host.prepare");
        uploads.flush();
        profile.lap("upload");
        DeviceBuffer perRow = slots.reserve("step.losses", (long) nb + nk);
        model.zeroGrad();
        model.forward();
        profile.lap("zero+forward");
        bpr.launch(model, perRow.slice(0, nb * 4L));
        profile.lap("bpr");
        if (kd != null) {
            kd.launch(model, perRow.slice(nb * 4L, nk * 4L));
            profile.lap("kd.launch");
        }
        model.backward();
        if (kd != null) kd.afterBackward(model);
        profile.lap("backward");
        if (update) {
            adam.step();
            if (kd != null) kd.update();
            hostBehind = true;
            profile.lap("adam");
        }
        if (losses.length < nb + nk) losses = new float[nb + nk];
        cuda.download(perRow, java.lang.foreign.MemorySegment.ofArray(losses), 0, (nb + nk) * 4L);
        Map<String, Double> parts = new LinkedHashMap<>();
        parts.put("bpr", bpr.loss(losses, 0));
        if (kd != null) parts.put("kd", kd.loss(losses, nb));
        profile.lap("download");
        profile.handBack();
        return parts;
    }

    /** The parameters' gradient on the host: (users + items) x d, users first (for tests). */
    float[] downloadGradient() {
        return cuda.downloadFloats(model.parameterGrad(), Math.toIntExact(model.parameterCount()));
    }

    /**
     * Every user's top-k items by the current parameters, the train items given at {@link #open}
     * excluded; users x k, row-major, as {@code Evaluator.rankAll}.
     */
    @Override
    public int[] rankAll(int k) {
        return DeviceRanking.rankAll(cuda, model, slots, k, excludePtr, excludeIdx);
    }

    /**
     * Copies the device's parameters into the host model, and Adam's moments and step into the host
     * optimiser when {@code withOptimiser} (only a checkpoint needs them: twice the parameters' bytes).
     */
    @Override
    public void download(boolean withOptimiser) {
        profile.begin();
        model.download();
        hostBehind = false;
        if (withOptimiser) adam.download();
        profile.lap("epoch.download");
    }

    /** Under -Dkdrec.device.profile=true, the phases' times since the last reset, one line each ({@link StepProfile#report}); else null. */
    @Override
    public String profileReport() {
        return profile.report();
    }

    @Override
    public void resetProfile() {
        profile.reset();
    }

    /** Replaces the run's profile (tests: profiling switched on without the system property). */
    void useProfile(StepProfile p) {
        this.profile = p;
    }

    /** The run's profile (tests). */
    StepProfile profile() {
        return profile;
    }

    @Override
    public void close() {
        closeAll(uploads, kd, adam, model, slots);
    }

    /** Closes each non-null resource, all of them even when one throws. */
    static void closeAll(AutoCloseable... resources) {
        RuntimeException first = null;
        for (AutoCloseable r : resources) {
            if (r == null) continue;
            try {
                r.close();
            } catch (Exception e) {
                if (first == null) first = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }
}
