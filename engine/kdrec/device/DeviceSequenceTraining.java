package kdrec.device;

import java.util.Map;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.loss.Batch;
import kdrec.loss.Objective;
import kdrec.loss.SequenceLoss;
import kdrec.model.Hstu;
import kdrec.nn.Adam;

/**
 * The device side of an HSTU training run ({@code kdrec train --model hstu --device cuda}): every
 * parameter, its gradient and Adam's moments resident on the GPU; each batch of users is one device
 * step (the users' sequences encoded by {@link DeviceHstu}, the next-item loss and its gradient by
 * {@link DeviceSequenceLoss}, the hand-written backward, dense Adam): the batch's host arrays (padded
 * ids, lengths, targets, negatives, scatter plans) go up in one copy before the first launch and the
 * per-position losses come down after the last. Batches, negatives and dropout masks are the host's
 * (same seeds), so a run follows the CPU's to fp32 rounding. Evaluation encodes every user on the
 * device too (no dropout, 256 users per chain) and ranks with the fused score->top-K kernel.
 *
 * <p>Not here: distilling into an HSTU student (the KD terms read per-user tables; refused with what
 * to use instead) and lazy Adam (the host's lazy update tracks rows the device model does not).
 */
public final class DeviceSequenceTraining implements DeviceRun {
    private final Cuda cuda;
    private final SequenceLoss loss;
    private final DeviceHstu model;
    private final DeviceSequenceLoss deviceLoss;
    private final DeviceAdam adam;
    private final UploadSlots slots;
    private final StepUploads uploads;
    private final DeviceBuffer excludePtr, excludeIdx;
    private float[] losses = new float[0];

    /** Users encoded per launch chain when ranking (as Hstu.inference). */
    private static final int RANK_CHUNK = 256;

    private DeviceSequenceTraining(Cuda cuda, Hstu student, SequenceLoss loss, Adam hostAdam, int[] trainPtr, int[] trainItems) {
        this.cuda = cuda;
        this.loss = loss;
        DeviceHstu m = new DeviceHstu(cuda, student);
        DeviceAdam a = null;
        try {
            a = new DeviceAdam(cuda, hostAdam, m.hostParameters(), offsets(m), m.parameterCount(), m.parameters(), m.parameterGrad());
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        this.model = m;
        this.adam = a;
        this.deviceLoss = new DeviceSequenceLoss(cuda, loss, m);
        this.slots = new UploadSlots(cuda);
        this.uploads = new StepUploads(cuda);
        this.excludePtr = slots.ints("train.ptr", trainPtr, trainPtr.length);
        this.excludeIdx = slots.ints("train.items", trainItems, trainItems.length);
    }

    private static long[] offsets(DeviceHstu m) {
        long[] o = new long[m.hostParameters().size()];
        for (int i = 0; i < o.length; i++) o[i] = m.offset(i);
        return o;
    }

    /** The device side of an HSTU run; refuses what it does not run, before any CUDA call. */
    public static DeviceSequenceTraining open(Hstu student, Objective objective, Adam hostAdam, Adam extraAdam, int[] trainPtr, int[] trainItems) {
        SequenceLoss loss = checkSupported(objective, hostAdam, extraAdam);
        return new DeviceSequenceTraining(DeviceTraining.cudaOrExplain(), student, loss, hostAdam, trainPtr, trainItems);
    }

    /** What an HSTU run on the device needs: a sequence loss (no KD term, no extra parameters) and dense Adam. */
    static SequenceLoss checkSupported(Objective objective, Adam hostAdam, Adam extraAdam) {
        if (!(objective instanceof SequenceLoss loss)) throw notASequenceLoss(objective);
        if (extraAdam != null) throw new IllegalArgumentException("--device cuda: an hstu run has no extra parameters to optimise");
        if (hostAdam.lazy()) throw new IllegalArgumentException("--device cuda trains hstu with dense Adam; lazy_adam=true runs with --device cpu");
        return loss;
    }

    static IllegalArgumentException notASequenceLoss(Objective objective) {
        return new IllegalArgumentException("--device cuda trains an hstu model with its sequence loss (kdrec train); distilling into an hstu student ("
                + objective.getClass().getSimpleName() + ") runs with --device cpu");
    }

    @Override
    public String describe() {
        return "device: " + cuda.describe() + " (hstu parameters, gradients and Adam state resident; " + loss.name()
                + " steps and evaluation on the GPU)";
    }

    @Override
    public void beginEpoch(int epoch) {}

    @Override
    public Map<String, Double> step(Batch batch) {
        return Map.of(loss.name(), run(batch, true));
    }

    /** The step without the update (the parameters' gradient stays on the device; for tests). */
    double gradient(Batch batch) {
        return run(batch, false);
    }

    /** Forward, loss and backward of one batch, then Adam when {@code update}; returns the batch's mean loss. */
    private double run(Batch batch, boolean update) {
        int[] users = java.util.Arrays.stream(batch.users()).distinct().toArray();
        if (users.length != batch.size()) throw new IllegalArgumentException(loss.name() + ": a sequence batch holds each user once");
        long seed = loss.batchSeed(batch.epoch(), users.length == 0 ? 0 : users[0]);
        Hstu host = model.host();
        // the step's host work and one upload, then only launches until the losses come down
        uploads.begin();
        model.prepare(users, host.sequences(), uploads);
        DeviceSequenceLoss.Targets t = DeviceSequenceLoss.targets(users, model.lengths(), model.length(), host.sequences());
        deviceLoss.prepare(t, seed, uploads);
        uploads.flush();
        model.zeroGrad();
        DeviceBuffer states = model.forward(true, seed);
        DeviceBuffer dStates = slots.reserve("states.grad", (long) model.rows() * model.dim());
        DeviceBuffer perRow = deviceLoss.run(states, dStates);
        int m = t.count();
        if (m > 0) model.backward(dStates); // no target: a constant 0 loss, zero gradient (Adam still steps, as on the host)
        if (update) adam.step();
        if (m == 0) return 0.0;
        if (losses.length < m) losses = new float[m];
        cuda.download(perRow, java.lang.foreign.MemorySegment.ofArray(losses), 0, m * 4L);
        double sum = 0;
        for (int i = 0; i < m; i++) sum += losses[i];
        return (float) (sum * (float) (1.0 / m)); // Arith.mean's rounding
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
        kdrec.gpu.GpuLayerNorm.l2Rows(cuda, items, d, model.itemTable(), 0, d, Hstu.L2_EPS, normalized, 0, d, slots.reserve("rank.items.norm", items));
        return DeviceRanking.topK(cuda, slots, "rank", users, items, d, states, normalized, k, excludePtr, excludeIdx, null);
    }

    /** The parameters' gradient, one array per host parameter (for tests). */
    float[][] downloadGradient() {
        return model.downloadGradient();
    }

    @Override
    public void download(boolean withOptimiser) {
        model.download();
        if (withOptimiser) adam.download();
    }

    @Override
    public void close() {
        try {
            uploads.close();
            slots.close();
            deviceLoss.close();
        } finally {
            try {
                adam.close();
            } finally {
                model.close();
            }
        }
    }
}
