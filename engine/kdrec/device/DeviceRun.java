package kdrec.device;

import java.util.Map;
import kdrec.loss.Batch;
import kdrec.loss.Objective;
import kdrec.model.Hstu;
import kdrec.model.Recommender;
import kdrec.nn.Adam;

/**
 * The device side of one training run ({@code --device cuda}), whatever the backbone: the trainer
 * steps batches through it and copies its parameters back to the host model after every epoch. MF and
 * LightGCN runs are {@link DeviceTraining}, HSTU runs {@link DeviceSequenceTraining}; both rank on the device.
 */
public interface DeviceRun extends AutoCloseable {
    /** One line naming the device and what runs on it, for the run log. */
    String describe();

    /** The epoch's per-epoch hook (before its first step). */
    void beginEpoch(int epoch);

    /** One optimisation step on one batch; returns the loss parts as the host objective names them. */
    Map<String, Double> step(Batch batch);

    /**
     * Every user's top-k items by the current parameters, ranked on the device with the train items
     * excluded (users x k, row-major, as {@code Evaluator.rankAll}).
     */
    int[] rankAll(int k);

    /** {@link #rankAll} from the test histories where the model ranks test targets from longer ones (HSTU's train_valid). */
    default int[] rankAllForTest(int k) {
        return rankAll(k);
    }

    /**
     * Copies the device's parameters into the host model, and the optimiser's moments and step into
     * the host optimiser when {@code withOptimiser} (only a checkpoint needs them).
     */
    void download(boolean withOptimiser);

    /**
     * Under {@code -Dkdrec.device.profile=true}, the per-phase wall times of the steps and the per-epoch
     * work since the last {@link #resetProfile}, one line per phase; null when profiling is off or the
     * run is not instrumented.
     */
    default String profileReport() {
        return null;
    }

    /** Starts the profile's counts afresh (the trainer calls it after logging an epoch's report). */
    default void resetProfile() {}

    @Override
    void close();

    /** Opens the device side of a run of {@code objective} on {@code student} (refusing, before any CUDA call, what it cannot run). */
    static DeviceRun open(Recommender student, Objective objective, Adam hostAdam, Adam extraAdam, int[] trainPtr, int[] trainItems) {
        if (student instanceof Hstu h) return DeviceSequenceTraining.open(h, objective, hostAdam, extraAdam, trainPtr, trainItems);
        return DeviceTraining.open(student, objective, hostAdam, extraAdam, trainPtr, trainItems);
    }
}
