package kdrec.train;

import kdrec.data.Sequences;
import kdrec.loss.BaseLoss;
import kdrec.loss.Bpr;
import kdrec.loss.SequenceLoss;
import kdrec.model.Hstu;
import kdrec.model.HstuShape;
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
            case "hstu" -> hstu(data, cfg.hstuShape(), cfg.testHistory(), cfg.seed());
            default -> throw new IllegalArgumentException("model must be one of " + TrainConfig.MODELS + ", got '" + cfg.model() + "'");
        };
    }

    /** HSTU over the data's train sequences; test ranked from train (+ valid with testHistory "train_valid"). */
    static Hstu hstu(TrainData data, HstuShape shape, String testHistory, long seed) {
        int maxLen = shape.maxLen();
        Sequences train = Sequences.of(data.dataset().train(), maxLen);
        Sequences test = switch (testHistory) {
            case "train" -> train;
            case "train_valid" -> Sequences.of(data.dataset().train(), data.dataset().valid(), maxLen);
            default -> throw new IllegalArgumentException("test_history must be one of " + TrainConfig.TEST_HISTORIES + ", got '" + testHistory + "'");
        };
        return new Hstu(data.users(), data.items(), shape, train, test, seed);
    }

    /** The base training objective a config names: BPR, or a sequence loss for HSTU. */
    public static BaseLoss objective(TrainConfig cfg) {
        if (cfg.baseLoss().equals("bpr")) return new Bpr();
        return new SequenceLoss(cfg.baseLoss(), cfg.negatives(), cfg.temperature(), cfg.seed(), cfg.negativesPer().equals("position"));
    }
}
