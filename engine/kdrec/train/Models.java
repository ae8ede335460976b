package kdrec.train;

import kdrec.data.Sequences;
import kdrec.loss.BaseLoss;
import kdrec.loss.Bpr;
import kdrec.loss.SequenceLoss;
import kdrec.model.Hstu;
import kdrec.model.LightGcn;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;

/** Builds the backbone a {@link TrainConfig} names, for the users and items of a dataset. */
public final class Models {
    private Models() {}

    public static Recommender create(TrainConfig cfg, TrainData data) {
        return switch (cfg.model()) {
            case "mf" -> new MatrixFactorization(data.users(), data.items(), cfg.dim(), cfg.seed());
            case "lightgcn" -> new LightGcn(data.users(), data.items(), cfg.dim(), cfg.layers(), data.trainPtr(), data.trainItems(), cfg.seed());
            case "hstu" -> new Hstu(data.users(), data.items(), cfg.dim(), cfg.blocks(), cfg.heads(), cfg.maxLen(), cfg.dropout(),
                    Sequences.of(data.dataset().train(), cfg.maxLen()), cfg.seed());
            default -> throw new IllegalArgumentException("model must be one of " + TrainConfig.MODELS + ", got '" + cfg.model() + "'");
        };
    }

    /** The base training objective a config names: BPR, or a sequence loss for HSTU. */
    public static BaseLoss objective(TrainConfig cfg) {
        if (cfg.baseLoss().equals("bpr")) return new Bpr();
        return new SequenceLoss(cfg.baseLoss(), cfg.negatives(), cfg.temperature(), cfg.seed());
    }
}
