package kdrec.loss;

import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.model.Recommender;

/**
 * What one training step minimises. The trainer calls {@link #beginEpoch} once per epoch (no
 * gradient: a distiller's per-epoch hook) and {@link #step} per mini-batch; step runs forward and
 * backward and returns the loss parts summed over the batch (e.g. "bpr" and "kd"), which the
 * trainer logs and checks for NaN/Inf.
 */
public interface Objective {
    Map<String, Double> step(Tape tape, Recommender model, Batch batch);

    default void beginEpoch(Tape tape, Recommender model, int epoch) {}

    /** State beyond the model that a resumed run needs (a distiller's cross-epoch state); empty by default. */
    default Map<String, kdrec.tensor.Tensor> state() {
        return Map.of();
    }

    /** Restores what {@link #state()} returned, before the first resumed epoch. */
    default void restore(Map<String, kdrec.tensor.Tensor> state) {}

    /** Trainable parameters of the objective itself (a distiller's projectors), or null; see Distiller#params. */
    default kdrec.nn.Params params(Recommender model) {
        return null;
    }
}
