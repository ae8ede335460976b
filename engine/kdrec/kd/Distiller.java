package kdrec.kd;

import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.tensor.Tensor;

/**
 * One knowledge-distillation method. The trainer minimises {@code base + lambda * loss(...)} with
 * the teacher frozen (see {@link DistillObjective}); a distiller never knows which backbones it
 * distills between.
 *
 * <p>Randomness must be a pure function of (seed, epoch, user), and everything {@link #beginEpoch}
 * derives from the student must be recomputed there: a resumed run then continues exactly. State
 * that spans epochs (HetComp's per-user trajectory position) goes through {@link #state()} into
 * the last-epoch checkpoint.
 */
public interface Distiller {
    /** Method name as on the CLI ("rcekd", "ce", ...). */
    String name();

    /** Called once at the start of every epoch, without gradient (student top lists, samples). */
    default void beginEpoch(Tape tape, Recommender student, int epoch) {}

    /**
     * The KD term of one batch on the tape (not back-propagated, before lambda), reduced as the
     * method's reference code reduces it (most sum over batch entries, duplicates kept).
     * {@code e} is the student's forward pass of this step (LightGCN propagates once per step).
     */
    Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch);

    /**
     * The KD term of one batch over the student's passes (what {@link DistillObjective} calls): a
     * method whose reference code scores the student more than once per batch overrides it to read a
     * pass per call ({@link StudentPasses#term}); the rest read term 0. With shared passes every
     * override must give {@link #loss(Tape, Recommender, Recommender.Embeddings, Batch)} bit for bit.
     */
    default Var loss(Tape tape, Recommender student, StudentPasses passes, Batch batch) {
        return loss(tape, student, passes.term(0), batch);
    }

    /** Cross-epoch state for the last-epoch checkpoint (names without prefix); empty by default. */
    default Map<String, Tensor> state() {
        return Map.of();
    }

    /** Restores what {@link #state()} saved (called before the first resumed epoch). */
    default void restore(Map<String, Tensor> state) {}

    /**
     * The method's own trainable parameters (feature KD's projectors, experts, selection nets), or
     * null when it has none. The trainer asks once, before the first epoch, with the student it
     * trains (projector shapes depend on the student's width), updates them with a second Adam of
     * the student's settings and keeps them, with their moments, in the last-epoch checkpoint. They
     * must be initialised from the run's seed alone: a resumed run then overwrites them with the
     * saved values. Repeated calls return the same parameters.
     */
    default kdrec.nn.Params params(Recommender student) {
        return null;
    }

    /**
     * True when {@link #loss} reads the student's raw parameter tables (besides the final embeddings
     * it is given): the device path then brings them to the host every step.
     */
    default boolean readsRawTables() {
        return false;
    }
}
