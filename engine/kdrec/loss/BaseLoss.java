package kdrec.loss;

import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.model.Recommender;

/**
 * The base term of a training step (BPR for embedding backbones, a next-item softmax for
 * sequential ones), computed from the step's one forward pass. A distillation step adds its KD term
 * on the same pass's embeddings ({@code kdrec.kd.DistillObjective}); alone, it is the objective
 * of a run without KD.
 */
public interface BaseLoss extends Objective {
    /** The loss (a [1] tensor; a constant when the batch has nothing to predict) and, if asked, the embeddings. */
    record Step(Recommender.Embeddings embeddings, Var loss) {}

    /** The name of the logged loss part ("bpr", "sampled_softmax", ...). */
    String name();

    Step forward(Tape tape, Recommender model, Batch batch, boolean withEmbeddings);
}
