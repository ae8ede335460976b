package kdrec.device;

import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuEmbedding;
import kdrec.gpu.GpuLayerNorm;
import kdrec.loss.Batch;
import kdrec.loss.Objective;
import kdrec.loss.SequenceLoss;
import kdrec.model.Hstu;
import kdrec.nn.Adam;

/**
 * The device side of an HSTU run ({@code kdrec train --model hstu --device cuda}, and an HSTU student
 * in {@code distill} / {@code compare}): every parameter, its gradient and Adam's moments resident on
 * the GPU; each batch of users is one device step (the users' sequences encoded by
 * {@link DeviceHstu}, the next-item loss and its gradient by {@link DeviceSequenceLoss}, the
 * hand-written backward, dense Adam): the batch's host arrays (padded ids, lengths, targets,
 * negatives, scatter plans, a KD term's rows) go up in one copy before the first launch and the
 * per-position losses come down after the last. Batches, negatives and dropout masks are the host's
 * (same seeds), so a run follows the CPU's to fp32 rounding. Evaluation encodes every user on the
 * device too (no dropout, 256 users per chain) and ranks with the fused score->top-K kernel.
 *
 * <p>Distillation: the KD term is the one the MF/LightGCN path runs ({@link DeviceObjective#deviceTerm}:
 * RCE-KD, CE-KD and CD on the device, the others on the host), reading a {@link DeviceModel} view of
 * the student's final embeddings, as the CPU's {@code Hstu.forward(tape, batchUsers)} gives them: the
 * batch users' last-position states (other users' rows zero) and the L2-normalised items; per epoch
 * every user's state. The term's gradients come back through that view: the user rows into the states'
 * gradient at each user's last position, the item rows through the normalisation into the item table.
 * Not here: lazy Adam (the host's lazy update tracks rows the device model does not), refused up front
 * with the attention kernels' shape limits (DeviceTraining.checkSettings). FreqD cannot distil into an
 * HSTU student on either device (it reads raw user/item tables; Distillation.resolve refuses it).
 *
 * <p>Under {@code kd_encoding=per_term} (DeviceObjective#passPerTerm) the base loss's pass runs backwards
 * first, then the KD term (on the host, for every method) reads a pass per term that the device encodes
 * on demand with that term's dropout seed ({@link DevicePasses}); each pass's gradient comes back and
 * its encoding runs backwards (re-encoded unless live), and the items' gradient goes through the
 * normalisation once.
 *
 * <p>Not profiled: {@code -Dkdrec.device.profile=true} times {@link DeviceTraining}'s steps only, and
 * this run keeps {@link DeviceRun#profileReport}'s default (null: the trainer logs no profile lines).
 */
public final class DeviceSequenceTraining implements DeviceRun {
    private final Cuda cuda;
    private final SequenceLoss loss;
    private final DeviceHstu model;
    private final DeviceSequenceLoss deviceLoss;
    private final DeviceAdam adam;
    private final UploadSlots slots;
    private final StepUploads uploads;
    private final DeviceModel view;  // the KD term's final embeddings, null without one
    private final DeviceTerm kd;
    private final DeviceBuffer excludePtr, excludeIdx;
    private float[] losses = new float[0];
    private boolean hostBehind;      // the device has stepped since the host model was last refreshed

    private final boolean perTerm;   // kd_encoding=per_term: a pass per KD term (TermPasses)

    /** Users encoded per launch chain when ranking (as Hstu.inference). */
    private static final int RANK_CHUNK = 256;

    private DeviceSequenceTraining(Cuda cuda, Hstu student, Objective objective, SequenceLoss loss, Adam hostAdam, Adam extraAdam,
                                   int[] trainPtr, int[] trainItems) {
        this.cuda = cuda;
        this.loss = loss;
        this.slots = new UploadSlots(cuda);
        this.uploads = new StepUploads(cuda);
        DeviceHstu m = null;
        DeviceAdam a = null;
        DeviceSequenceLoss l = null;
        DeviceModel v = null;
        DeviceTerm t = null;
        try {
            m = new DeviceHstu(cuda, student);
            DeviceParamBuffer p = m.params();
            a = new DeviceAdam(cuda, hostAdam, p.hostParameters(), p.offsets(), p.count(), p.values(), p.grad());
            l = new DeviceSequenceLoss(cuda, loss, m);
            if (objective instanceof DeviceObjective o) {
                v = DeviceModel.finalEmbeddingsOf(cuda, student);
                t = o.deviceTerm(cuda, slots, student, extraAdam);
            }
            this.excludePtr = slots.ints("train.ptr", trainPtr, trainPtr.length);
            this.excludeIdx = slots.ints("train.items", trainItems, trainItems.length);
        } catch (RuntimeException e) {
            DeviceTraining.closeAll(t, v, l, a, m, uploads, slots);
            throw e;
        }
        this.model = m;
        this.adam = a;
        this.deviceLoss = l;
        this.view = v;
        this.kd = t;
        this.perTerm = t != null && ((DeviceObjective) objective).passPerTerm();
    }

    /** The device side of an HSTU run; refuses what it does not run, before any CUDA call. */
    public static DeviceSequenceTraining open(Hstu student, Objective objective, Adam hostAdam, Adam extraAdam, int[] trainPtr, int[] trainItems) {
        SequenceLoss loss = checkSupported(objective, hostAdam, extraAdam);
        return new DeviceSequenceTraining(DeviceTraining.cudaOrExplain(), student, objective, loss, hostAdam, extraAdam, trainPtr, trainItems);
    }

    /**
     * What an HSTU run on the device needs: its sequence loss, alone or as the base of a distillation
     * objective the device runs, and dense Adam. Returns the sequence loss.
     */
    static SequenceLoss checkSupported(Objective objective, Adam hostAdam, Adam extraAdam) {
        SequenceLoss loss = sequenceLossOf(objective);
        if (objective == loss && extraAdam != null) {
            throw new IllegalArgumentException("--device cuda: an hstu run without a KD term has no extra parameters to optimise");
        }
        DeviceTraining.checkSettings("hstu", 0, hostAdam.lazy(), 0, 0); // the one place that says why lazy Adam is refused
        return loss;
    }

    /** The sequence loss of {@code objective} (itself, or the base of a distillation objective the device runs), or why not. */
    static SequenceLoss sequenceLossOf(Objective objective) {
        if (objective instanceof SequenceLoss s) return s;
        if (objective instanceof DeviceObjective o && o.baseLoss() instanceof SequenceLoss s) {
            o.checkOnDevice();
            return s;
        }
        throw new IllegalArgumentException("--device cuda trains an hstu model with its sequence loss (sampled_softmax, scaled_softmax, full_softmax), "
                + "alone or under a KD term; " + objective.getClass().getSimpleName() + " runs with --device cpu");
    }

    @Override
    public String describe() {
        return "device: " + cuda.describe() + " (hstu parameters, gradients and Adam state resident; " + loss.name()
                + (kd == null ? "" : " + " + kd.name()) + " steps and evaluation on the GPU)";
    }

    /** A KD term's per-epoch hook, over every user's state and the normalised items. */
    @Override
    public void beginEpoch(int epoch) {
        if (kd == null) return;
        if (kd.readsHostModel() && hostBehind) download(false);
        model.lastStates(model.host().sequences(), RANK_CHUNK, uploads, view.userRows());
        normalizedItems(view.itemRows());
        view.forward();
        kd.beginEpoch(view, epoch);
    }

    /** The L2-normalised item table into {@code out} (items x d); the norms stay in a slot for the backward. */
    private void normalizedItems(DeviceBuffer out) {
        int items = model.items(), d = model.dim();
        GpuLayerNorm.l2Rows(cuda, items, d, model.itemTable(), 0, d, Hstu.L2_EPS, out, 0, d, slots.reserve("items.norm", items));
    }

    @Override
    public Map<String, Double> step(Batch batch) {
        return run(batch, true);
    }

    /** The step without the update (the parameters' gradient stays on the device; for tests). */
    Map<String, Double> gradient(Batch batch) {
        return run(batch, false);
    }

    /** Forward, losses and backward of one batch, then Adam when {@code update}; returns the loss parts. */
    private Map<String, Double> run(Batch batch, boolean update) {
        int[] users = java.util.Arrays.stream(batch.users()).distinct().toArray();
        if (users.length != batch.size()) throw new IllegalArgumentException(loss.name() + ": a sequence batch holds each user once");
        long seed = loss.batchSeed(batch.epoch(), users.length == 0 ? 0 : users[0]);
        Hstu host = model.host();
        int d = model.dim();
        // the step's host work and one upload, then only launches until the losses come down
        uploads.begin();
        model.prepare(users, host.sequences(), uploads);
        DeviceSequenceLoss.Targets t = DeviceSequenceLoss.targets(users, model.lengths(), model.length(), host.sequences());
        deviceLoss.prepare(t, seed, uploads);
        int nk = kd == null ? 0 : kd.prepare(view, batch, uploads);
        StepUploads.Staged usersUp = null, lastUp = null;
        if (kd != null) {
            int[] last = new int[users.length], len = model.lengths();
            for (int s = 0; s < users.length; s++) last[s] = s * model.length() + Math.max(len[s] - 1, 0);
            if (!perTerm) usersUp = uploads.ints(users, users.length); // the view's user rows (the per-term passes keep the users on the host)
            lastUp = uploads.ints(last, users.length);
        }
        uploads.flush();
        int m = t.count(), b = users.length;
        DeviceBuffer perRow = slots.reserve("step.losses", (long) m + nk);
        model.params().zeroGrad();
        DeviceBuffer states = model.forward(true, seed);
        DeviceBuffer dStates = slots.reserve("states.grad", (long) model.rows() * d);
        deviceLoss.run(states, dStates, perRow);
        boolean hasGradient;
        if (kd != null && perTerm) {
            // the base loss's pass first (the terms' encodings reuse its activation slots), then the KD term
            // with a pass per term, each run backwards as soon as the host has its gradient
            if (m > 0) model.backward(dStates);
            view.zeroGrad();
            normalizedItems(view.itemRows());
            kd.launch(view, perRow.slice(m * 4L, nk * 4L), new TermPasses(seed, users, lastUp.get()));
            GpuLayerNorm.l2RowsBackward(cuda, model.items(), d, model.itemTable(), 0, d, view.itemRows(), 0, d, slots.reserve("items.norm", model.items()),
                    Hstu.L2_EPS, view.itemGrad(), 0, d, model.itemGrad(), 0, d);
            hasGradient = false; // every backward has run
        } else if (kd != null) {
            // the view as Hstu.embeddings: the batch users' last states (other users 0) and the normalised items
            DeviceBuffer compact = slots.reserve("kd.users", (long) b * d);
            view.zeroGrad();
            cuda.fill32(view.userRows(), (long) host.users() * d, 0);
            GpuEmbedding.gather(cuda, b, d, lastUp.get(), states, 0, d, compact, 0, d);
            GpuEmbedding.scatterAdd(cuda, b, d, usersUp.get(), compact, 0, d, view.userRows(), 0, d); // distinct users: a copy
            normalizedItems(view.itemRows());
            view.forward();
            kd.launch(view, perRow.slice(m * 4L, nk * 4L));
            // back through the view: user rows into the states' gradient at the last positions, items through the normalisation
            GpuEmbedding.gather(cuda, b, d, usersUp.get(), view.userGrad(), 0, d, compact, 0, d);
            GpuEmbedding.scatterAdd(cuda, b, d, lastUp.get(), compact, 0, d, dStates, 0, d); // distinct rows: one addition each
            GpuLayerNorm.l2RowsBackward(cuda, model.items(), d, model.itemTable(), 0, d, view.itemRows(), 0, d, slots.reserve("items.norm", model.items()),
                    Hstu.L2_EPS, view.itemGrad(), 0, d, model.itemGrad(), 0, d);
            hasGradient = m > 0 || kd.wroteGradient();
        } else {
            hasGradient = m > 0;
        }
        // no target and no KD gradient: the host's loss is a constant, its Adam skips every parameter (no gradient)
        // and only counts the step; so does the device's
        if (hasGradient) model.backward(dStates);
        if (kd != null) kd.afterBackward(view);
        boolean moves = m > 0 || (kd != null && kd.wroteGradient());
        if (update) {
            if (moves) adam.step();
            else adam.countStep();
            if (kd != null) kd.update();
            hostBehind = true;
        }
        if (losses.length < m + nk) losses = new float[m + nk];
        if (m + nk > 0) cuda.download(perRow, java.lang.foreign.MemorySegment.ofArray(losses), 0, (m + nk) * 4L);
        Map<String, Double> parts = new LinkedHashMap<>();
        double sum = 0;
        for (int i = 0; i < m; i++) sum += losses[i];
        parts.put(loss.name(), m == 0 ? 0.0 : (double) (float) (sum * (float) (1.0 / m))); // Arith.mean's rounding
        if (kd != null) parts.put("kd", kd.loss(losses, m));
        return parts;
    }

    /**
     * One step's passes per KD term: term i encodes the staged batch with the dropout seed the host's
     * {@code SequenceLoss.termPass} uses and brings its batch users' last states down (b x d). The
     * backward runs the live term's encoding first, then re-encodes each other term that has a gradient
     * (the same masks: the seed is the term's), each time with the users' gradient at their last
     * positions; the model's backward accumulates.
     */
    private final class TermPasses implements DevicePasses {
        private final long seed;
        private final int[] users;
        private final DeviceBuffer last;
        private int live = -1; // the term whose encoding's activations the model holds

        TermPasses(long seed, int[] users, DeviceBuffer last) {
            this.seed = seed;
            this.users = users;
            this.last = last;
        }

        @Override
        public int[] users() {
            return users;
        }

        private DeviceBuffer encodeOnDevice(int term) {
            DeviceBuffer states = model.forward(true, SequenceLoss.termSeed(seed, term));
            live = term;
            return states;
        }

        @Override
        public kdrec.tensor.Tensor encode(int term) {
            int b = users.length, d = model.dim();
            DeviceBuffer states = encodeOnDevice(term), compact = slots.reserve("kd.users", (long) b * d);
            GpuEmbedding.gather(cuda, b, d, last, states, 0, d, compact, 0, d);
            kdrec.tensor.Tensor rows = kdrec.tensor.Tensor.zeros(b, d);
            if (b > 0) cuda.download(compact, rows.data(), 0, (long) b * d * 4);
            return rows;
        }

        @Override
        public void backward(kdrec.tensor.Tensor[] rowGrads) {
            int first = live;
            if (first >= 0 && first < rowGrads.length && rowGrads[first] != null) backward(first, rowGrads[first]);
            for (int term = 0; term < rowGrads.length; term++) if (term != first && rowGrads[term] != null) backward(term, rowGrads[term]);
        }

        private void backward(int term, kdrec.tensor.Tensor rowGrad) {
            int b = users.length, d = model.dim();
            if (b == 0) return;
            if (live != term) encodeOnDevice(term);
            DeviceBuffer compact = slots.reserve("kd.users", (long) b * d), dStates = slots.reserve("states.grad", (long) model.rows() * d);
            cuda.upload(rowGrad.data(), 0, compact, (long) b * d * 4);
            cuda.fill32(dStates, (long) model.rows() * d, 0);
            GpuEmbedding.scatterAdd(cuda, b, d, last, compact, 0, d, dStates, 0, d); // distinct rows: one addition each
            model.backward(dStates);
        }
    }

    @Override
    public int[] rankAll(int k) {
        return rank(k, model.host().sequences());
    }

    @Override
    public int[] rankAllForTest(int k) {
        return rank(k, model.host().testSequences());
    }

    private int[] rank(int k, kdrec.data.Sequences seq) {
        int users = model.host().users(), items = model.items(), d = model.dim();
        DeviceBuffer states = slots.reserve("rank.users", (long) users * d);
        model.lastStates(seq, RANK_CHUNK, uploads, states);
        DeviceBuffer normalized = slots.reserve("rank.items", (long) items * d);
        normalizedItems(normalized);
        return DeviceRanking.topK(cuda, slots, "rank", users, items, d, states, normalized, k, excludePtr, excludeIdx, null);
    }

    /** The parameters' gradient, one array per host parameter (for tests). */
    float[][] downloadGradient() {
        return model.params().downloadGradient();
    }

    @Override
    public void download(boolean withOptimiser) {
        model.params().download();
        hostBehind = false;
        if (withOptimiser) adam.download();
    }

    @Override
    public void close() {
        DeviceTraining.closeAll(kd, view, deviceLoss, adam, model, uploads, slots);
    }
}
