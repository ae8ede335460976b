package kdrec.kd;

import static kdrec.kd.KdParams.ordered;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The backbone rows of the reference configs (woriazzc/RCEKD {@code configs/<ds>/<backbone>/}; spec:
 * rce-kd-and-baselines.md §1.8, "Backbone / model sizes"), which {@code --preset} applies besides a
 * method's own row:
 * <ul>
 * <li>{@link #student}: base_config.yaml's {@code student} — LightGCN's depth; HSTU's width, heads,
 *     per-head widths, sequence length, negatives, temperature and both dropout rates. Every student
 *     run of that backbone on that dataset uses it, the scratch student's included.</li>
 * <li>{@link #scratchStudent}: scratch.yaml's {@code student} — the scratch student's weight decay and
 *     batch (a KD run takes its own from the method's file, or from the code's command-line defaults).</li>
 * <li>{@link #teacher}: base_config.yaml's {@code teacher} and scratch.yaml's {@code teacher} — what
 *     {@code kdrec train --preset} trains.</li>
 * </ul>
 * MF and LightGCN students are 20 wide on every dataset (kdrec's distill default); the HSTU student keeps
 * its teacher's width and is compressed by depth (8 -> 1 blocks) and heads. HSTU's per-head widths are the
 * reference's {@code attention_dim} (Q/K: 8 on CiteULike, 16 elsewhere) and {@code linear_dim} (U/V: 16), and
 * its two dropout rates {@code dropout_rate} (input, 0.5) and {@code linear_dropout_rate} (block: 0.5, on
 * Yelp 0.7). Three keys make the block the code's as it runs: {@code max_output_len} 10 (the code pads
 * to, and scales the attention by, max_len + 10), {@code rel_bias} false (the code's bias needs
 * timestamps it is never given) and {@code o_bias_init} uniform (torch's nn.Linear default); and
 * {@code negatives_per} position trains with the code's negatives (drawn for every position). The student
 * also gets {@code kd_encoding} per_term: distilled, it encodes the batch anew for every KD term, as the
 * code's student does in each {@code forward_multi_items} call.
 */
public final class ReferenceConfigs {
    private ReferenceConfigs() {}

    /** The dataset a {@code --preset} value names, or an error listing the allowed ones. */
    public static String dataset(String preset) {
        String ds = preset.trim().toLowerCase(Locale.ROOT);
        if (!Methods.PRESET_DATASETS.contains(ds)) {
            throw new IllegalArgumentException("unknown preset '" + preset + "'; allowed: " + String.join(", ", Methods.PRESET_DATASETS));
        }
        return ds;
    }

    /** A student's architecture keys (base_config.yaml) for a backbone: mf (none), lightgcn, hstu. */
    public static Map<String, Object> student(String preset, String model) {
        String ds = dataset(preset);
        return switch (backbone(model)) {
            case "lightgcn" -> ordered("layers", ds.equals("gowalla") ? 4 : 3);
            case "hstu" -> {
                Map<String, Object> m = hstu(ds, 1, ds.equals("gowalla") ? 1 : 2);
                m.put("kd_encoding", "per_term"); // under KD every forward_multi_items call of the code encodes anew
                yield m;
            }
            default -> ordered();
        };
    }

    /** The scratch student's training keys (scratch.yaml; lr 1e-3 and 1000 epochs there, as kdrec's defaults). */
    public static Map<String, Object> scratchStudent(String preset, String model) {
        String ds = dataset(preset);
        return switch (backbone(model)) {
            case "lightgcn" -> ordered("weight_decay", pick(ds, 1e-3, 1e-7, 1e-4), "batch_size", 2048);
            case "hstu" -> ordered("weight_decay", 1e-5, "batch_size", 128);
            default -> ordered("weight_decay", 1e-3, "batch_size", 2048);
        };
    }

    /** A teacher's architecture and training keys (base_config.yaml's and scratch.yaml's teacher rows). */
    public static Map<String, Object> teacher(String preset, String model) {
        String ds = dataset(preset);
        Map<String, Object> m = new LinkedHashMap<>();
        switch (backbone(model)) {
            case "lightgcn" -> {
                m.put("dim", ds.equals("yelp") ? 1000 : 2000);
                m.put("layers", ds.equals("gowalla") ? 4 : 3);
                m.put("weight_decay", pick(ds, 1e-7, 1e-6, 1e-7));
                m.put("batch_size", 2048);
            }
            case "hstu" -> {
                m.putAll(hstu(ds, 8, ds.equals("yelp") ? 8 : 4));
                m.put("weight_decay", 1e-5);
                m.put("batch_size", 128);
            }
            default -> {
                m.put("dim", ds.equals("citeulike") ? 400 : 300);
                m.put("weight_decay", pick(ds, 1e-3, 1e-4, 1e-4));
                m.put("batch_size", 2048);
            }
        }
        return m;
    }

    /** HSTU keys shared by teacher and student: the width, sequence length, negatives and temperature are the dataset's. */
    private static Map<String, Object> hstu(String ds, int blocks, int heads) {
        return switch (ds) {
            case "citeulike" -> hstuRow(64, blocks, heads, 8, 100, 512, 0.05, 0.5);
            case "gowalla" -> hstuRow(32, blocks, heads, 16, 100, 1024, 0.05, 0.5);
            default -> hstuRow(32, blocks, heads, 16, 400, 2048, 0.1, 0.7);
        };
    }

    private static Map<String, Object> hstuRow(int dim, int blocks, int heads, int attentionDim, int maxLen, int negatives, double temperature,
                                               double blockDropout) {
        return ordered("dim", dim, "blocks", blocks, "heads", heads, "attention_dim", attentionDim, "linear_dim", 16, "max_len", maxLen,
                "negatives", negatives, "temperature", temperature, "dropout", 0.5, "block_dropout", blockDropout,
                "max_output_len", 10, "rel_bias", false, "o_bias_init", "uniform", "negatives_per", "position");
    }

    private static double pick(String ds, double citeulike, double gowalla, double yelp) {
        return switch (ds) {
            case "citeulike" -> citeulike;
            case "gowalla" -> gowalla;
            default -> yelp;
        };
    }

    private static String backbone(String model) {
        return model.trim().toLowerCase(Locale.ROOT);
    }
}
