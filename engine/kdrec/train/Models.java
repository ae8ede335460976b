package kdrec.train;

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
            default -> throw new IllegalArgumentException("model must be one of " + TrainConfig.MODELS + ", got '" + cfg.model() + "'");
        };
    }
}
