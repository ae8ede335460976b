package kdrec.kd;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kdrec.train.TrainData;

/**
 * The registry of KD methods: name, one-line description, default hyper-parameters and the
 * per-dataset presets of the reference configs. {@code kdrec distill --method NAME} and
 * {@code kdrec compare --methods a,b,c} look methods up here.
 */
public final class Methods {
    private Methods() {}

    /** Builds a distiller for one run. */
    @FunctionalInterface
    public interface Factory {
        Distiller create(KdParams params, Teacher teacher, TrainData data, long seed);
    }

    /**
     * A method. {@code presets} are keyed "dataset/teacher>student" (e.g. "gowalla/lightgcn>mf") or
     * just "dataset"; a preset may also set student training keys (weight_decay, batch_size, ...),
     * which {@link #split} separates from the method's own keys.
     */
    public record Method(String name, String about, Map<String, Object> defaults, Map<String, Map<String, Object>> presets, Factory factory) {
        public KdParams params() {
            return KdParams.of(name, defaults);
        }

        /** The preset row for a dataset and backbone pair, or an error naming the rows there are. */
        public Map<String, Object> preset(String dataset, String teacherKind, String studentKind) {
            String ds = ReferenceConfigs.dataset(dataset);
            Map<String, Object> row = presets.get(ds + "/" + teacherKind + ">" + studentKind);
            if (row == null) row = presets.get(ds);
            if (row == null) {
                throw new IllegalArgumentException(name + " has no preset for " + ds + " with " + teacherKind + " -> " + studentKind
                        + "; presets: " + (presets.isEmpty() ? "none" : String.join(", ", presets.keySet())));
            }
            return row;
        }
    }

    /** The datasets the reference configs have rows for (the values --preset takes). */
    public static final java.util.List<String> PRESET_DATASETS = java.util.List.of("citeulike", "gowalla", "yelp");

    private static final Map<String, Method> ALL = new LinkedHashMap<>();

    static {
        // the order of --methods' default and of compare's tables: ranking baselines in publication order, RCE-KD, then feature KD
        register(VanillaCe.METHOD);
        register(Rd.METHOD);
        register(Cd.METHOD);
        register(Rrd.METHOD);
        register(Dcd.METHOD);
        register(UnKd.METHOD);
        register(HetComp.METHOD);
        register(RceKd.METHOD);
        register(kdrec.kd.feature.FreqD.METHOD);
        register(kdrec.kd.feature.FitNet.METHOD);
        register(kdrec.kd.feature.DistillationExperts.METHOD);
        register(kdrec.kd.feature.HierarchicalTopology.METHOD);
    }

    private static void register(Method m) {
        ALL.put(m.name(), m);
    }

    public static List<String> names() {
        return new ArrayList<>(ALL.keySet());
    }

    public static Method get(String name) {
        Method m = ALL.get(name.trim().toLowerCase(Locale.ROOT));
        if (m == null) throw new IllegalArgumentException("unknown KD method '" + name + "'; allowed: " + String.join(", ", ALL.keySet()));
        return m;
    }

    /** Splits a settings map into student training keys ({@code trainKeys}) and the method's own keys. */
    public static Map<String, Map<String, Object>> split(Map<String, ?> settings, List<String> trainKeys) {
        Map<String, Object> train = new LinkedHashMap<>(), own = new LinkedHashMap<>();
        for (var e : settings.entrySet()) (trainKeys.contains(e.getKey()) ? train : own).put(e.getKey(), e.getValue());
        return Map.of("train", train, "method", own);
    }

}
