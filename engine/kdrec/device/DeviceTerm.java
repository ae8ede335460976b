package kdrec.device;

import kdrec.gpu.DeviceBuffer;
import kdrec.loss.Batch;

/**
 * A distillation term that runs on the device beside BPR (see {@link DeviceObjective}): a per-epoch
 * hook, and per batch a host part that stages its uploads, a device part that accumulates lambda times
 * its gradient into the model's final-embedding gradients, and its loss from the per-row losses the
 * device part wrote (downloaded with the step's other losses, one copy per step).
 */
public interface DeviceTerm extends AutoCloseable {
    /** The method's name for the run log ("RCE-KD"). */
    String name();

    /** Called once per epoch before the first batch; the model's final embeddings are current. */
    void beginEpoch(DeviceModel model, int epoch);

    /** The batch's host work (its rows, offsets and per-row scalars), staged in {@code up}; nothing launched. Returns its loss rows. */
    int prepare(DeviceModel model, Batch batch, StepUploads up);

    /** After the step's flush: accumulates the prepared batch's gradient (already times lambda); its per-row losses into {@code loss}. */
    void launch(DeviceModel model, DeviceBuffer loss);

    /**
     * {@link #launch(DeviceModel, DeviceBuffer)} where the KD terms read passes of their own
     * ({@code kd_encoding=per_term}): the term asks {@code passes} for each pass it reads and returns each
     * pass's user gradient to it; the item gradient goes into the model's as usual. Only a term that runs
     * the method on the host does this.
     */
    default void launch(DeviceModel model, DeviceBuffer loss, DevicePasses passes) {
        throw new IllegalStateException(name() + " reads one student pass per step, not one per KD term");
    }

    /** The batch's loss (already times lambda) from its per-row losses, downloaded to {@code loss[from, from + rows)}. */
    double loss(float[] loss, int from);

    /** True when the last {@link #launch} wrote a gradient (a host term whose loss is a constant writes none). */
    default boolean wroteGradient() {
        return true;
    }

    /** After the model's backward: adds what the term computed for the parameter tables themselves (a host term's raw-table gradient). */
    default void afterBackward(DeviceModel model) {}

    /** After the device optimiser's step (update steps only): steps the term's own parameters, if it has any. */
    default void update() {}

    /**
     * True when {@link #beginEpoch} reads the host model (a host-side hook), which must then hold the
     * device's parameters: the device run downloads them first if it has stepped since the last download.
     */
    default boolean readsHostModel() {
        return false;
    }

    /** Frees host resources of its own (device buffers come from the run's slots). */
    @Override
    default void close() {}
}
