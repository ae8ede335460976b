package kdrec.device;

import kdrec.loss.Batch;

/**
 * A distillation term that runs on the device beside BPR (see {@link DeviceObjective}): a per-epoch
 * hook and a per-batch step that accumulates lambda times its gradient into the model's final-embedding
 * gradients and returns lambda times its loss.
 */
public interface DeviceTerm {
    /** The method's name for the run log ("RCE-KD"). */
    String name();

    /** Called once per epoch before the first batch; the model's final embeddings are current. */
    void beginEpoch(DeviceModel model, int epoch);

    /** Accumulates the batch's gradient (already times lambda); returns the loss part (already times lambda). */
    double step(DeviceModel model, Batch batch);
}
