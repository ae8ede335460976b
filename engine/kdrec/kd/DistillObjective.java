package kdrec.kd;

import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.autograd.Arith;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.loss.BaseLoss;
import kdrec.loss.Batch;
import kdrec.loss.Bpr;
import kdrec.loss.Objective;
import kdrec.loss.SequenceLoss;
import kdrec.model.Hstu;
import kdrec.model.Recommender;
import kdrec.tensor.Tensor;

/**
 * {@code loss = base + lambda * kd} as the reference code's {@code BaseKD4Rec.forward}: the base
 * loss (BPR summed over the batch; for a sequential student its next-item softmax, a mean over
 * positions) and the distiller's term share one student forward pass, or, under
 * {@code kd_encoding=per_term} (HSTU), each KD term encodes the batch anew; the teacher is frozen.
 * Logged parts: the base loss's name ("bpr", ...) and "kd" (the latter already times lambda, so
 * the parts add up to the loss).
 */
public final class DistillObjective implements Objective, kdrec.device.DeviceObjective {
    private final Distiller distiller;
    private final float lambda;
    private final BaseLoss base;
    private final boolean passPerTerm;

    public DistillObjective(Distiller distiller, double lambda) {
        this(distiller, lambda, new Bpr());
    }

    public DistillObjective(Distiller distiller, double lambda, BaseLoss base) {
        this(distiller, lambda, base, false);
    }

    /**
     * {@code passPerTerm} ({@code kd_encoding=per_term}): each KD term reads its own encoding of the
     * batch ({@link StudentPasses}); only a sequence base loss (HSTU, whose dropout makes passes differ)
     * makes them.
     */
    public DistillObjective(Distiller distiller, double lambda, BaseLoss base, boolean passPerTerm) {
        if (!(lambda >= 0) || !Double.isFinite(lambda)) throw new IllegalArgumentException("lambda must be a finite number >= 0, got " + lambda);
        if (passPerTerm && !(base instanceof SequenceLoss)) {
            throw new IllegalArgumentException("kd_encoding=per_term needs a sequential student (hstu); the base loss is " + base.name());
        }
        this.distiller = distiller;
        this.lambda = (float) lambda;
        this.base = base;
        this.passPerTerm = passPerTerm;
    }

    /** True under {@code kd_encoding=per_term}. */
    @Override
    public boolean passPerTerm() {
        return passPerTerm;
    }

    public Distiller distiller() {
        return distiller;
    }

    @Override
    public void beginEpoch(Tape tape, Recommender model, int epoch) {
        distiller.beginEpoch(tape, model, epoch);
    }

    @Override
    public Map<String, Double> step(Tape tape, Recommender model, Batch batch) {
        BaseLoss.Step st = this.base.forward(tape, model, batch, !passPerTerm);
        Var base = st.loss();
        StudentPasses passes = passPerTerm
                ? StudentPasses.perTerm(term -> ((SequenceLoss) this.base).termPass(tape, (Hstu) model, batch, term))
                : StudentPasses.shared(st.embeddings());
        Var kd = Arith.scale(tape, distiller.loss(tape, model, passes, batch), lambda);
        Var total = Arith.add(tape, base, kd);
        if (total.requiresGrad()) tape.backward(total);
        Map<String, Double> parts = new LinkedHashMap<>();
        parts.put(this.base.name(), (double) base.value().get(0));
        parts.put("kd", (double) kd.value().get(0));
        return parts;
    }

    @Override
    public void checkOnDevice() {
        checkOnDevice(base.name());
    }

    /**
     * The one rule for what distills on the device: BPR (MF, LightGCN) or a sequence loss (HSTU) as the
     * base loss (every method runs there; see {@link #deviceTerm}). Throws IllegalArgumentException saying
     * what to use instead.
     */
    static void checkOnDevice(String baseLoss) {
        if (!DEVICE_BASE_LOSSES.contains(baseLoss)) {
            throw new IllegalArgumentException("--device cuda distills with a " + String.join(", ", DEVICE_BASE_LOSSES) + " base loss; "
                    + baseLoss + " runs with --device cpu");
        }
    }

    static final java.util.List<String> DEVICE_BASE_LOSSES = java.util.List.of("bpr", "sampled_softmax", "scaled_softmax", "full_softmax");

    @Override
    public BaseLoss baseLoss() {
        return base;
    }

    /**
     * The device twin of the term: RCE-KD (but its full_ce ablation), vanilla CE-KD and CD run whole on
     * the device; every other method computes its term (and feature KD updates its own parameters) on the
     * host each step ({@link HostKdOnDevice}), as every method does under {@code kd_encoding=per_term}
     * (the device encodes each pass, the host scores them: RCE-KD's per-term loss has no fused kernel).
     */
    @Override
    public kdrec.device.DeviceTerm deviceTerm(kdrec.gpu.Cuda cuda, kdrec.device.UploadSlots slots, Recommender student,
                                              kdrec.nn.Adam extraAdam) {
        checkOnDevice();
        // per-term passes: every method's term on the host, reading the passes the device encodes for it
        if (passPerTerm) return new HostKdOnDevice(cuda, slots, distiller, lambda, student, extraAdam);
        if (distiller instanceof VanillaCe ce) return new VanillaCeOnDevice(cuda, slots, ce, lambda);
        if (distiller instanceof Cd cd) return new CdOnDevice(cuda, slots, cd, lambda, student);
        if (distiller instanceof RceKd r && !r.fullCe()) return new RceKdOnDevice(cuda, slots, r, lambda);
        return new HostKdOnDevice(cuda, slots, distiller, lambda, student, extraAdam);
    }

    @Override
    public Map<String, Tensor> state() {
        return distiller.state();
    }

    @Override
    public void restore(Map<String, Tensor> state) {
        distiller.restore(state);
    }

    @Override
    public kdrec.nn.Params params(Recommender model) {
        return distiller.params(model);
    }
}
