package kdrec.loss;

import java.util.Map;
import kdrec.autograd.Activations;
import kdrec.autograd.Arith;
import kdrec.autograd.Gather;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.model.Recommender;

/**
 * Bayesian personalised ranking as the KD papers' code trains MF and LightGCN:
 * {@code sum over the batch of -log sigmoid(s(u,i) - s(u,j))}, one negative per positive; no explicit
 * L2 term (regularisation is Adam's coupled weight decay).
 */
public final class Bpr implements BaseLoss {
    /** Builds the summed BPR loss of a batch on the tape (not yet back-propagated). */
    public static Var loss(Tape t, Recommender.Embeddings e, Batch b) {
        Var pos = Gather.rowDot(t, e.users(), b.users(), e.items(), b.positives());
        Var neg = Gather.rowDot(t, e.users(), b.users(), e.items(), b.negatives());
        Var logSig = Activations.logSigmoid(t, Arith.sub(t, pos, neg));
        return Arith.scale(t, Arith.sum(t, logSig), -1f);
    }

    @Override
    public String name() {
        return "bpr";
    }

    @Override
    public Step forward(Tape tape, Recommender model, Batch batch, boolean withEmbeddings) {
        Recommender.Embeddings e = model.forward(tape);
        return new Step(e, loss(tape, e, batch));
    }

    @Override
    public Map<String, Double> step(Tape tape, Recommender model, Batch batch) {
        Var loss = loss(tape, model.forward(tape), batch);
        tape.backward(loss);
        return Map.of("bpr", (double) loss.value().get(0));
    }
}
