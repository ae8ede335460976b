package kdrec.kd;

import static kdrec.kd.KdParams.ordered;

import java.util.Locale;
import java.util.Map;

/**
 * The reference configs' student rows, which {@code --preset} applies besides the method's own row
 * (spec: rce-kd-and-baselines.md §1.8, "Backbone / model sizes"):
 * <ul>
 * <li>{@link #architecture}: {@code configs/<ds>/<backbone>/base_config.yaml}'s {@code student} —
 *     LightGCN's depth, HSTU's size, sequence length, negatives, temperature and dropout. Every run
 *     of that backbone on that dataset uses it, the scratch student's included.</li>
 * <li>{@link #scratch}: {@code scratch.yaml}'s {@code student} — the scratch student's weight decay
 *     and batch (the KD runs take theirs from the method's file, or the code's command-line defaults).</li>
 * </ul>
 * The student's width is 20 for MF and LightGCN on every dataset (kdrec's distill default); the HSTU
 * student keeps its teacher's width and is compressed by depth (8 -> 1 blocks).
 */
public final class StudentPresets {
    private StudentPresets() {}

    /** The dataset a {@code --preset} value names, or an error listing the allowed ones. */
    public static String dataset(String preset) {
        String ds = preset.trim().toLowerCase(Locale.ROOT);
        if (!Methods.PRESET_DATASETS.contains(ds)) {
            throw new IllegalArgumentException("unknown preset '" + preset + "'; allowed: " + String.join(", ", Methods.PRESET_DATASETS));
        }
        return ds;
    }

    /**
     * Student architecture keys of base_config.yaml for a backbone (mf, lightgcn, hstu). Our HSTU has
     * one dropout rate where the reference has two (input {@code dropout_rate} 0.5 everywhere, block
     * {@code linear_dropout_rate} 0.5, on Yelp 0.7): the preset sets the input rate, 0.5.
     */
    public static Map<String, Object> architecture(String preset, String model) {
        String ds = dataset(preset);
        return switch (model.trim().toLowerCase(Locale.ROOT)) {
            case "lightgcn" -> ordered("layers", ds.equals("gowalla") ? 4 : 3);
            case "hstu" -> switch (ds) {
                case "citeulike" -> hstu(64, 2, 100, 512, 0.05);
                case "gowalla" -> hstu(32, 1, 100, 1024, 0.05);
                default -> hstu(32, 2, 400, 2048, 0.1);
            };
            default -> ordered();
        };
    }

    private static Map<String, Object> hstu(int dim, int heads, int maxLen, int negatives, double temperature) {
        return ordered("dim", dim, "blocks", 1, "heads", heads, "max_len", maxLen, "negatives", negatives, "temperature", temperature, "dropout", 0.5);
    }

    /** The scratch student's training keys of scratch.yaml (lr 1e-3 and 1000 epochs there, as kdrec's defaults). */
    public static Map<String, Object> scratch(String preset, String model) {
        String ds = dataset(preset);
        return switch (model.trim().toLowerCase(Locale.ROOT)) {
            case "lightgcn" -> ordered("weight_decay", switch (ds) {
                case "citeulike" -> 1e-3;
                case "gowalla" -> 1e-7;
                default -> 1e-4;
            }, "batch_size", 2048);
            case "hstu" -> ordered("weight_decay", 1e-5, "batch_size", 128);
            default -> ordered("weight_decay", 1e-3, "batch_size", 2048);
        };
    }
}
