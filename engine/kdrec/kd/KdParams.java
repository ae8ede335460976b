package kdrec.kd;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The hyper-parameters of one KD method: its defaults (the spec's tables), then a dataset preset,
 * then user overrides ({@code --set rcekd.K=100}). Keys are case-insensitive; an unknown key or a
 * value of the wrong type is an error that names what is allowed. {@link #toMap()} is what the run
 * directory's config.yaml records.
 */
public final class KdParams {
    private final String method;
    private final Map<String, Object> values;

    private KdParams(String method, Map<String, Object> values) {
        this.method = method;
        this.values = values;
    }

    /** The defaults of a method (keys lower-cased). */
    public static KdParams of(String method, Map<String, ?> defaults) {
        Map<String, Object> v = new LinkedHashMap<>();
        for (var e : defaults.entrySet()) v.put(norm(e.getKey()), e.getValue());
        return new KdParams(method, v);
    }

    private static String norm(String key) {
        return kdrec.train.TrainConfig.key(key); // method keys are spelt as the student's
    }

    public String method() {
        return method;
    }

    /** A copy with some values replaced; every key must be one of the method's. Values are checked on use and here. */
    public KdParams with(Map<String, ?> overrides) {
        Map<String, Object> v = new LinkedHashMap<>(values);
        for (var e : overrides.entrySet()) {
            String k = norm(e.getKey());
            if (!v.containsKey(k)) {
                throw new IllegalArgumentException("unknown setting '" + method + "." + e.getKey() + "'; " + method + " has: " + String.join(", ", values.keySet()));
            }
            Object old = v.get(k), val = e.getValue();
            v.put(k, val);
            // type-check now so a bad --set fails before training starts, and keep the default's type
            KdParams probe = new KdParams(method, v);
            if (old instanceof Boolean) v.put(k, probe.bool(k));
            else if (old instanceof Integer || old instanceof Long) v.put(k, probe.integer(k));
            else if (old instanceof Number) v.put(k, probe.real(k));
        }
        return new KdParams(method, v);
    }

    public Map<String, Object> toMap() {
        return new LinkedHashMap<>(values);
    }

    private String raw(String key) {
        Object v = values.get(norm(key));
        if (v == null && !values.containsKey(norm(key))) throw new IllegalArgumentException(method + ": no setting '" + key + "'");
        return String.valueOf(v).trim();
    }

    public String str(String key) {
        return raw(key);
    }

    public int integer(String key) {
        String s = raw(key);
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(method + "." + key + " must be an integer, got '" + s + "'");
        }
    }

    public double real(String key) {
        String s = raw(key);
        try {
            double d = Double.parseDouble(s);
            if (!Double.isFinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(method + "." + key + " must be a finite number, got '" + s + "'");
        }
    }

    public boolean bool(String key) {
        String s = raw(key).toLowerCase(Locale.ROOT);
        return switch (s) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException(method + "." + key + " must be true or false, got '" + s + "'");
        };
    }

    /** An integer setting that must be at least {@code min}. */
    public int atLeast(String key, int min) {
        int v = integer(key);
        if (v < min) throw new IllegalArgumentException(method + "." + key + " must be >= " + min + ", got " + v);
        return v;
    }

    /** A real setting that must be strictly positive. */
    public double positive(String key) {
        double v = real(key);
        if (!(v > 0)) throw new IllegalArgumentException(method + "." + key + " must be > 0, got " + v);
        return v;
    }

    @Override
    public String toString() {
        return method + values;
    }

    /**
     * Ordered map literal for method defaults and presets. It lives here, not in {@link Methods}: a
     * method class calling into Methods while it initialises would start Methods' registry, which then
     * reads that class's METHOD while it is still null.
     */
    public static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }
}
