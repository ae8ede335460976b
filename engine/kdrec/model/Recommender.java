package kdrec.model;

import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.nn.Params;

/**
 * A recommender backbone as the trainer and the distillers see it: final user and item embeddings
 * whose dot products are the scores. A distiller never knows which backbone it distills.
 */
public interface Recommender extends AutoCloseable {
    /** Backbone name as used on the CLI and in checkpoints ("mf", "lightgcn", "hstu"). */
    String kind();

    int users();

    int items();

    int dim();

    Params params();

    /**
     * Final embeddings for one training step, on the tape (differentiable). LightGCN propagates
     * here, once per step, however many scores the step then takes.
     */
    Embeddings forward(Tape tape);

    /**
     * Final embeddings for a training step whose batch holds {@code batchUsers} (duplicates
     * allowed). Rows of {@code users()} for the batch's users are exact; a per-batch encoder (HSTU)
     * leaves the other users' rows zero instead of encoding every sequence at every step. Embedding
     * backbones return {@link #forward(Tape)}.
     */
    default Embeddings forward(Tape tape, int[] batchUsers) {
        return forward(tape);
    }

    /** True for backbones that encode each user's item sequence (trained with batches of users, not of pairs). */
    default boolean sequential() {
        return false;
    }

    /** Final embeddings without gradient, for scoring and evaluation (valid until tape.reset()). */
    default Embeddings inference(Tape tape) {
        try (var ng = tape.noGrad()) {
            return forward(tape);
        }
    }

    /**
     * Final embeddings to rank <em>test</em> targets from. The same as {@link #inference} except for a
     * sequential model configured to read its valid items too ({@code test_history=train_valid}).
     */
    default Embeddings inferenceForTest(Tape tape) {
        return inference(tape);
    }

    /** True when {@link #inferenceForTest} differs from {@link #inference} (the evaluator then ranks twice). */
    default boolean testFromLongerHistory() {
        return false;
    }

    /** Settings that rebuild this model from its checkpoint (dims, layers, ...), beside the tensors. */
    Map<String, String> describe();

    @Override
    default void close() {
        params().close();
    }

    /** Final embeddings: users x d and items x d. */
    record Embeddings(Var users, Var items) {}
}
