package kdrec.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every setting of a training run, with the KD papers' defaults (batch 2048, Adam lr 1e-3, one
 * uniform negative per positive, early stopping on valid NDCG@10 with patience 30). Built from
 * defaults, then a YAML file, then {@code key=value} overrides; unknown keys and bad values are
 * errors that say what is allowed. {@link #toMap()} is what runs/NAME/config.yaml records.
 */
public record TrainConfig(String model, int dim, int layers, int epochs, int patience, long seed, int batchSize,
                          float lr, float weightDecay, boolean lazyAdam, int evalEvery, int saveEvery, int topK,
                          int blocks, int heads, int attentionDim, int linearDim, int maxLen, int maxOutputLen, String loss, int negatives,
                          String negativesPer, float temperature, float dropout, float blockDropout, boolean relBias, String oBiasInit, String testHistory,
                          String kdEncoding) {

    public static final List<String> MODELS = List.of("mf", "lightgcn", "hstu");
    /** Default batch sizes: interaction pairs (mf, lightgcn) and user sequences (hstu), as the reference configs. */
    public static final int PAIR_BATCH = 2048, SEQUENCE_BATCH = 128;
    /** Base losses: "auto" is bpr for mf/lightgcn and sampled_softmax for hstu. */
    public static final List<String> LOSSES = List.of("auto", "bpr", "sampled_softmax", "scaled_softmax", "full_softmax");
    /** Settings of the sequential backbone (HSTU) and its losses; recorded only for model=hstu. */
    public static final List<String> SEQUENCE_KEYS = List.of("blocks", "heads", "attention_dim", "linear_dim", "max_len", "max_output_len",
            "negatives", "negatives_per", "temperature", "dropout", "block_dropout", "rel_bias", "o_bias_init", "test_history", "kd_encoding");
    public static final List<String> KEYS = List.of("model", "dim", "layers", "epochs", "patience", "seed", "batch_size", "lr",
            "weight_decay", "lazy_adam", "eval_every", "save_every", "top_k", "blocks", "heads", "attention_dim", "linear_dim", "max_len",
            "max_output_len", "loss", "negatives", "negatives_per", "temperature", "dropout", "block_dropout", "rel_bias", "o_bias_init",
            "test_history", "kd_encoding");
    /**
     * Where HSTU's sampled negatives are drawn: once per batch, shared by its positions (kdrec's
     * default: one GEMM), or for every position (the RCE-KD code's sampler).
     */
    public static final List<String> NEGATIVES_PER = List.of("batch", "position");
    /**
     * How a distilled HSTU student encodes a step's batch for the KD terms: once, the base loss's
     * encoding shared by every term (kdrec's default), or once more per KD term, each pass with its own
     * dropout masks (the RCE-KD code: every {@code forward_multi_items} call encodes). No effect outside
     * {@code distill}/{@code compare}, nor for students without dropout.
     */
    public static final List<String> KD_ENCODINGS = List.of("shared", "per_term");
    /** HSTU's W_o bias init: zero (kdrec's default) or uniform (torch's nn.Linear default, as the reference). */
    public static final List<String> O_BIAS_INITS = List.of("zero", "uniform");
    /**
     * "auto" in attention_dim / linear_dim (each head's width is dim / heads) and block_dropout (the
     * input rate, dropout): held as these values, recorded as "auto", so that a later dim, heads or
     * dropout still moves them.
     */
    public static final int AUTO_WIDTH = 0;
    public static final float AUTO_RATE = -1f;
    static final String AUTO = "auto";
    /**
     * The history a sequential model ranks test targets from: "train" (the RCE-KD code: the train
     * sequence, as for validation) or "train_valid" (train then valid items, the usual next-item
     * protocol; a deviation from the authors, see the README).
     */
    public static final List<String> TEST_HISTORIES = List.of("train", "train_valid");

    public TrainConfig {
        if (!MODELS.contains(model)) throw new IllegalArgumentException("model must be one of " + MODELS + ", got '" + model + "'");
        positive("dim", dim);
        if (layers < 0) throw new IllegalArgumentException("layers must be >= 0, got " + layers);
        positive("epochs", epochs);
        positive("patience", patience);
        positive("batch_size", batchSize);
        if (!(lr > 0f) || Float.isInfinite(lr)) throw new IllegalArgumentException("lr must be a finite number > 0, got " + lr);
        if (!(weightDecay >= 0f) || Float.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weight_decay must be a finite number >= 0 (as float32), got " + weightDecay);
        }
        positive("eval_every", evalEvery);
        if (saveEvery < 0) throw new IllegalArgumentException("save_every must be >= 0 (0 = off), got " + saveEvery);
        if (topK < 20) throw new IllegalArgumentException("top_k must be >= 20 (metrics use @10 and @20), got " + topK);
        positive("blocks", blocks);
        positive("heads", heads);
        if (attentionDim < 0) throw new IllegalArgumentException("attention_dim must be a positive integer or auto, got " + attentionDim);
        if (linearDim < 0) throw new IllegalArgumentException("linear_dim must be a positive integer or auto, got " + linearDim);
        positive("max_len", maxLen);
        if (maxOutputLen < 0) throw new IllegalArgumentException("max_output_len must be >= 0, got " + maxOutputLen);
        if (!O_BIAS_INITS.contains(oBiasInit)) throw new IllegalArgumentException("o_bias_init must be one of " + O_BIAS_INITS + ", got '" + oBiasInit + "'");
        positive("negatives", negatives);
        if (!NEGATIVES_PER.contains(negativesPer)) {
            throw new IllegalArgumentException("negatives_per must be one of " + NEGATIVES_PER + ", got '" + negativesPer + "'");
        }
        if (!(temperature > 0f) || Float.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be a positive number, got " + temperature);
        if (!(dropout >= 0f && dropout < 1f)) throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        if (blockDropout != AUTO_RATE && !(blockDropout >= 0f && blockDropout < 1f)) {
            throw new IllegalArgumentException("block_dropout must be in [0, 1) or auto (= dropout), got " + blockDropout);
        }
        if (!TEST_HISTORIES.contains(testHistory)) {
            throw new IllegalArgumentException("test_history must be one of " + TEST_HISTORIES + ", got '" + testHistory + "'");
        }
        if (!KD_ENCODINGS.contains(kdEncoding)) {
            throw new IllegalArgumentException("kd_encoding must be one of " + KD_ENCODINGS + ", got '" + kdEncoding + "'");
        }
        if (!LOSSES.contains(loss)) throw new IllegalArgumentException("loss must be one of " + LOSSES + ", got '" + loss + "'");
        boolean seq = model.equals("hstu");
        if (seq && loss.equals("bpr")) throw new IllegalArgumentException("model hstu trains with sampled_softmax, scaled_softmax or full_softmax, not bpr");
        if (!seq && !loss.equals("auto") && !loss.equals("bpr")) {
            throw new IllegalArgumentException("loss " + loss + " is for sequential models (hstu); model " + model + " trains with bpr");
        }
        if (!seq && !testHistory.equals("train")) {
            throw new IllegalArgumentException("test_history " + testHistory + " is for sequential models (hstu); model " + model + " ranks from its embeddings");
        }
        if (!seq && !kdEncoding.equals("shared")) {
            throw new IllegalArgumentException("kd_encoding " + kdEncoding + " is for sequential students (hstu, whose dropout makes each encoding differ); model "
                    + model + " has one forward pass per step");
        }
        if (seq) kdrec.model.HstuShape.checkPaddedLength(maxLen, maxOutputLen);
        if (seq && (attentionDim == AUTO_WIDTH || linearDim == AUTO_WIDTH) && dim % heads != 0) {
            throw new IllegalArgumentException("heads (" + heads + ") must divide dim (" + dim + ") where attention_dim or linear_dim is auto (dim / heads)");
        }
    }

    /** Each HSTU head's Q/K width: attention_dim, or dim / heads when auto. */
    public int attentionWidth() {
        return attentionDim != AUTO_WIDTH ? attentionDim : dim / heads;
    }

    /** Each HSTU head's U/V width: linear_dim, or dim / heads when auto. */
    public int linearWidth() {
        return linearDim != AUTO_WIDTH ? linearDim : dim / heads;
    }

    /** The wider of HSTU's two per-head widths (what the GPU attention kernels' limit applies to). */
    public int maxHeadWidth() {
        return Math.max(attentionWidth(), linearWidth());
    }

    /** HSTU's block dropout rate: block_dropout, or dropout when auto. */
    public float blockDropoutRate() {
        return blockDropout != AUTO_RATE ? blockDropout : dropout;
    }

    /** The HSTU architecture these settings name, "auto" resolved. */
    public kdrec.model.HstuShape hstuShape() {
        return new kdrec.model.HstuShape(dim, blocks, heads, attentionWidth(), linearWidth(), maxLen, maxOutputLen, dropout, blockDropoutRate(),
                relBias, oBiasInit.equals("uniform"));
    }

    /**
     * HSTU settings added after runs were made, each with the value that runs the model as those runs
     * did: a run's config.yaml without them resumes as if it said so ({@link #withKeysAddedLater}).
     */
    static final Map<String, Object> HSTU_KEYS_ADDED_LATER = Map.of("attention_dim", AUTO, "linear_dim", AUTO, "max_output_len", 0,
            "block_dropout", AUTO, "rel_bias", true, "o_bias_init", "zero", "test_history", "train", "negatives_per", "batch",
            "kd_encoding", "shared");

    /**
     * {@code config} (a run's config.yaml as read) with every map in it that describes an HSTU model
     * ({@code model: hstu}, at the top or nested, as a comparison's student) given the settings added
     * since ({@link #HSTU_KEYS_ADDED_LATER}) it does not hold, so that a run made before them resumes.
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> withKeysAddedLater(Map<String, Object> config) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (var e : config.entrySet()) {
            out.put(e.getKey(), e.getValue() instanceof Map<?, ?> m ? withKeysAddedLater((Map<String, Object>) m) : e.getValue());
        }
        if ("hstu".equals(config.get("model"))) for (var e : HSTU_KEYS_ADDED_LATER.entrySet()) out.putIfAbsent(e.getKey(), e.getValue());
        return out;
    }

    /** True for a sequential backbone (batches of users, a sequence loss). */
    public boolean sequential() {
        return model.equals("hstu");
    }

    /** A setting's name as the settings maps hold it: trimmed, lower case, '-' as '_' ("Batch-Size" is batch_size). */
    public static String key(String name) {
        return name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
    }

    /** The base loss after resolving "auto". */
    public String baseLoss() {
        return !loss.equals("auto") ? loss : sequential() ? "sampled_softmax" : "bpr";
    }

    private static void positive(String key, long v) {
        if (v <= 0) throw new IllegalArgumentException(key + " must be a positive integer, got " + v);
    }

    /**
     * Defaults: MF, dim 64, 3 layers (LightGCN), 1000 epochs, patience 30, batch 2048, lr 1e-3, wd 1e-4;
     * HSTU: batch 128 users, 2 blocks, 1 head, head widths dim / heads, max_len 100 (no max_output_len), 512
     * uniform negatives shared by a batch's positions, temperature 0.05, dropout 0.2 (input and blocks), the
     * relative position bias, W_o's bias zero, test ranked from the train sequence, one encoding per KD step.
     */
    public static TrainConfig defaults() {
        return new TrainConfig("mf", 64, 3, 1000, 30, 0, PAIR_BATCH, 1e-3f, 1e-4f, false, 1, 0, 20, 2, 1, AUTO_WIDTH, AUTO_WIDTH, 100, 0, "auto",
                512, "batch", 0.05f, 0.2f, AUTO_RATE, true, "zero", "train", "shared");
    }

    /** Settings in a stable order, as written to config.yaml and read back by {@link #with(Map)}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("dim", dim);
        m.put("layers", layers);
        m.put("epochs", epochs);
        m.put("patience", patience);
        m.put("seed", seed);
        m.put("batch_size", batchSize);
        m.put("lr", Double.parseDouble(Float.toString(lr))); // 1e-3, not 0.0010000000474974513
        m.put("weight_decay", Double.parseDouble(Float.toString(weightDecay)));
        m.put("lazy_adam", lazyAdam);
        m.put("eval_every", evalEvery);
        m.put("save_every", saveEvery);
        m.put("top_k", topK);
        if (sequential() || !loss.equals("auto")) m.put("loss", loss);
        if (sequential()) {
            m.put("blocks", blocks);
            m.put("heads", heads);
            m.put("attention_dim", attentionDim == AUTO_WIDTH ? AUTO : attentionDim);
            m.put("linear_dim", linearDim == AUTO_WIDTH ? AUTO : linearDim);
            m.put("max_len", maxLen);
            m.put("max_output_len", maxOutputLen);
            m.put("negatives", negatives);
            m.put("negatives_per", negativesPer);
            m.put("temperature", Double.parseDouble(Float.toString(temperature)));
            m.put("dropout", Double.parseDouble(Float.toString(dropout)));
            m.put("block_dropout", blockDropout == AUTO_RATE ? AUTO : Double.parseDouble(Float.toString(blockDropout)));
            m.put("rel_bias", relBias);
            m.put("o_bias_init", oBiasInit);
            m.put("test_history", testHistory);
            m.put("kd_encoding", kdEncoding);
        }
        return m;
    }

    /** A copy with the given settings replaced (values may be strings, as from --set, or YAML scalars). */
    public TrainConfig with(Map<String, ?> overrides) {
        Map<String, Object> m = toMap();
        m.putIfAbsent("loss", loss);
        m.putIfAbsent("blocks", blocks);
        m.putIfAbsent("heads", heads);
        m.putIfAbsent("attention_dim", attentionDim == AUTO_WIDTH ? AUTO : attentionDim);
        m.putIfAbsent("linear_dim", linearDim == AUTO_WIDTH ? AUTO : linearDim);
        m.putIfAbsent("max_len", maxLen);
        m.putIfAbsent("max_output_len", maxOutputLen);
        m.putIfAbsent("rel_bias", relBias);
        m.putIfAbsent("o_bias_init", oBiasInit);
        m.putIfAbsent("negatives", negatives);
        m.putIfAbsent("negatives_per", negativesPer);
        m.putIfAbsent("temperature", temperature);
        m.putIfAbsent("dropout", dropout);
        m.putIfAbsent("block_dropout", blockDropout == AUTO_RATE ? AUTO : blockDropout);
        m.putIfAbsent("test_history", testHistory);
        m.putIfAbsent("kd_encoding", kdEncoding);
        boolean batchGiven = false;
        for (var e : overrides.entrySet()) {
            String key = key(e.getKey());
            if (!KEYS.contains(key)) throw new IllegalArgumentException("unknown setting '" + e.getKey() + "'; allowed: " + String.join(", ", KEYS));
            m.put(key, e.getValue());
            batchGiven |= key.equals("batch_size");
        }
        // batches are pairs for mf/lightgcn but users for hstu: switching family without a batch size
        // takes that family's reference default (2048 pairs; 128 sequences, the reference HSTU batch)
        boolean toSequential = str(m, "model").equalsIgnoreCase("hstu");
        if (!batchGiven && toSequential != sequential() && batchSize == (sequential() ? SEQUENCE_BATCH : PAIR_BATCH)) {
            m.put("batch_size", toSequential ? SEQUENCE_BATCH : PAIR_BATCH);
        }
        try {
            return new TrainConfig(str(m, "model").toLowerCase(Locale.ROOT), integer(m, "dim"), integer(m, "layers"), integer(m, "epochs"),
                    integer(m, "patience"), Long.parseLong(str(m, "seed")), integer(m, "batch_size"), (float) real(m, "lr"),
                    (float) real(m, "weight_decay"), bool(m, "lazy_adam"), integer(m, "eval_every"), integer(m, "save_every"),
                    integer(m, "top_k"), integer(m, "blocks"), integer(m, "heads"), width(m, "attention_dim"), width(m, "linear_dim"),
                    integer(m, "max_len"), integer(m, "max_output_len"), str(m, "loss").toLowerCase(Locale.ROOT), integer(m, "negatives"),
                    str(m, "negatives_per").toLowerCase(Locale.ROOT), (float) real(m, "temperature"), (float) real(m, "dropout"), blockRate(m),
                    bool(m, "rel_bias"), str(m, "o_bias_init").toLowerCase(Locale.ROOT), str(m, "test_history").toLowerCase(Locale.ROOT),
                    str(m, "kd_encoding").toLowerCase(Locale.ROOT));
        } catch (NumberFormatException ex) {
            throw new IllegalArgumentException("bad number in settings: " + ex.getMessage());
        }
    }

    private static String str(Map<String, Object> m, String k) {
        return String.valueOf(m.get(k)).trim();
    }

    private static int integer(Map<String, Object> m, String k) {
        String s = str(m, k);
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(k + " must be an integer, got '" + s + "'");
        }
    }

    /** attention_dim / linear_dim: "auto" or a positive integer. */
    private static int width(Map<String, Object> m, String k) {
        if (str(m, k).equalsIgnoreCase(AUTO)) return AUTO_WIDTH;
        int w = integer(m, k);
        if (w < 1) throw new IllegalArgumentException(k + " must be a positive integer or auto (dim / heads), got " + w);
        return w;
    }

    /** block_dropout: "auto" (the input rate) or a rate. */
    private static float blockRate(Map<String, Object> m) {
        if (str(m, "block_dropout").equalsIgnoreCase(AUTO)) return AUTO_RATE;
        float r = (float) real(m, "block_dropout");
        if (!(r >= 0f && r < 1f)) throw new IllegalArgumentException("block_dropout must be in [0, 1) or auto (= dropout), got " + r);
        return r;
    }

    private static double real(Map<String, Object> m, String k) {
        String s = str(m, k);
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(k + " must be a number, got '" + s + "'");
        }
    }

    private static boolean bool(Map<String, Object> m, String k) {
        String s = str(m, k).toLowerCase(Locale.ROOT);
        return switch (s) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException(k + " must be true or false, got '" + s + "'");
        };
    }
}
