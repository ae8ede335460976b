package kdrec.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.autograd.Var;
import kdrec.model.HstuShape;
import kdrec.model.LightGcn;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;
import kdrec.tensor.Tensor;

/**
 * Model checkpoints: one safetensors file per model, tensors named after the parameters
 * ({@code user}, {@code item}: users x d and items x d float32; LightGCN stores its layer-0 "ego"
 * embeddings; HSTU its item, position and block tensors, b0.u ... with blocks/heads/attention_dim/
 * linear_dim/max_len/max_output_len/rel_bias/dropout/block_dropout in the metadata) and a metadata
 * block with the model settings, the epoch, the dataset fingerprint, the run config and the id maps (JSON arrays of original ids in dense-index order), so that
 * Python's safetensors or NumPy can read everything without kdrec.
 */
public final class Checkpoints {
    private Checkpoints() {}

    public static final String KEY_CONFIG = "config";
    public static final String KEY_USER_IDS = "user_ids";
    public static final String KEY_ITEM_IDS = "item_ids";

    /** Parameters of {@code model} plus metadata. */
    public static Checkpoint modelOnly(Recommender model, TrainData data, TrainConfig cfg, int epoch) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Var p : model.params().all()) tensors.put(p.name(), p.value());
        Checkpoint c = Checkpoint.of(tensors).withModel(model.kind()).withEpoch(epoch).withFingerprint(data.fingerprint());
        for (var e : model.describe().entrySet()) c = c.with("model." + e.getKey(), e.getValue());
        c = c.withJson(KEY_CONFIG, cfg.toMap());
        if (data.userIds() != null) c = c.withJson(KEY_USER_IDS, data.userIds());
        if (data.itemIds() != null) c = c.withJson(KEY_ITEM_IDS, data.itemIds());
        return c;
    }

    /**
     * Rebuilds the model a checkpoint describes (the dataset supplies LightGCN's graph) and loads its
     * parameters. The dataset fingerprint must match: a model trained on other data is refused.
     */
    public static Recommender load(Path file, TrainData data) throws IOException {
        Checkpoint c = Checkpoint.loadCopy(file);
        String fingerprint = meta(file, c, Checkpoint.KEY_FINGERPRINT);
        if (!data.fingerprint().equals(fingerprint)) {
            throw new IllegalArgumentException(file + ": trained on a dataset with fingerprint " + fingerprint
                    + ", but the data given has " + data.fingerprint() + " (same files and preprocessing options?)");
        }
        String kind = meta(file, c, Checkpoint.KEY_MODEL);
        int dim = positive(file, c, "model.dim");
        Recommender model = switch (kind) {
            case "mf" -> new MatrixFactorization(data.users(), data.items(), dim, 0);
            case "lightgcn" -> new LightGcn(data.users(), data.items(), dim, integer(file, c, "model.layers", 0), data.trainPtr(), data.trainItems(), 0);
            case "hstu" -> {
                int heads = positive(file, c, "model.heads");
                String history = c.metadata().getOrDefault("model.test_history", "train"); // absent before the option existed
                float dropout = rate(file, c, "model.dropout", null);
                // per-head widths and the block rate: absent in checkpoints from before they were settings
                boolean widths = c.metadata().containsKey("model.attention_dim") || c.metadata().containsKey("model.linear_dim");
                if (!widths && dim % heads != 0) {
                    throw new IllegalArgumentException(file + ": metadata 'model.heads' (" + heads + ") does not divide 'model.dim' (" + dim + ") and the head widths are not recorded");
                }
                // max_output_len and rel_bias: absent before they were settings (0 and true then)
                int maxOutputLen = c.metadata().containsKey("model.max_output_len") ? integer(file, c, "model.max_output_len", 0) : 0;
                boolean relBias = !c.metadata().containsKey("model.rel_bias") || flag(file, c, "model.rel_bias");
                HstuShape shape = new HstuShape(dim, positive(file, c, "model.blocks"), heads,
                        widths ? positive(file, c, "model.attention_dim") : dim / heads, widths ? positive(file, c, "model.linear_dim") : dim / heads,
                        positive(file, c, "model.max_len"), maxOutputLen, dropout, rate(file, c, "model.block_dropout", dropout), relBias, false);
                yield Models.hstu(data, shape, history, 0);
            }
            default -> throw new IllegalArgumentException(file + ": unknown model '" + kind + "'");
        };
        copyParams(file, c, model);
        return model;
    }

    /** A metadata value a model checkpoint must have; the error names the file and the keys it has. */
    static String meta(Path file, Checkpoint c, String key) {
        String v = c.metadata().get(key);
        if (v == null) {
            throw new IllegalArgumentException(file + ": not a kdrec model checkpoint: its __metadata__ has no '" + key + "' (it has "
                    + c.metadata().keySet() + ")");
        }
        return v;
    }

    private static boolean flag(Path file, Checkpoint c, String key) {
        String v = meta(file, c, key).trim();
        if (v.equals("true") || v.equals("false")) return v.equals("true");
        throw new IllegalArgumentException(file + ": metadata '" + key + "' must be true or false, got '" + v + "'");
    }

    /** A dropout rate in the metadata; {@code absent} when the key is missing (null: it must be there). */
    private static float rate(Path file, Checkpoint c, String key, Float absent) {
        if (absent != null && !c.metadata().containsKey(key)) return absent;
        String v = meta(file, c, key);
        try {
            float r = Float.parseFloat(v.trim());
            if (r >= 0f && r < 1f) return r;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(file + ": metadata '" + key + "' must be a rate in [0, 1), got '" + v + "'");
    }

    private static int positive(Path file, Checkpoint c, String key) {
        return integer(file, c, key, 1);
    }

    private static int integer(Path file, Checkpoint c, String key, int min) {
        String v = meta(file, c, key);
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= min) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(file + ": metadata '" + key + "' must be an integer >= " + min + ", got '" + v + "'");
    }

    /** Copies tensors named like the model's parameters into them; every parameter must be present with its shape. */
    static void copyParams(Path file, Checkpoint c, Recommender model) {
        for (Var p : model.params().all()) {
            Tensor src = c.tensors().get(p.name());
            if (src == null) throw new IllegalArgumentException(file + ": no tensor '" + p.name() + "'");
            if (!src.sameShape(p.value())) {
                throw new IllegalArgumentException(file + ": tensor '" + p.name() + "' has shape " + java.util.Arrays.toString(src.shape())
                        + ", the model needs " + java.util.Arrays.toString(p.value().shape()));
            }
            src.copyTo(p.value());
        }
    }
}
