package kdrec.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * An immutable, ordered set of named metric values ("recall@10" -> 0.0912...), as produced by
 * {@link RankingMetrics} and consumed by early stopping, the per-epoch log line and metrics.csv.
 *
 * <p>Order is insertion order and is kept by every method, so a table row and its header always line
 * up and CSV columns are stable across epochs.
 *
 * @param values name -> value; copied into an unmodifiable map in the given iteration order
 */
public record Metrics(Map<String, Double> values) {

    /** Width of one column in {@link #tableHeader()} / {@link #tableRow()} unless a name is longer. */
    public static final int COLUMN_WIDTH = 9;

    public Metrics {
        LinkedHashMap<String, Double> copy = new LinkedHashMap<>();
        for (var e : values.entrySet()) {
            String k = e.getKey();
            if (k == null || k.isEmpty()) throw new IllegalArgumentException("Metrics: empty metric name");
            if (e.getValue() == null) throw new IllegalArgumentException("Metrics: null value for '" + k + "'");
            copy.put(k, e.getValue());
        }
        values = Collections.unmodifiableMap(copy);
    }

    /** No metrics. */
    public static Metrics empty() {
        return new Metrics(Map.of());
    }

    /** Metrics from alternating name, value pairs: {@code of("recall@10", 0.1, "ndcg@10", 0.05)}. */
    public static Metrics of(Object... nameValuePairs) {
        if (nameValuePairs.length % 2 != 0) throw new IllegalArgumentException("Metrics.of: odd number of arguments");
        LinkedHashMap<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < nameValuePairs.length; i += 2) {
            if (!(nameValuePairs[i] instanceof String name) || !(nameValuePairs[i + 1] instanceof Number v)) {
                throw new IllegalArgumentException("Metrics.of: expected (String, Number) pairs, got " + nameValuePairs[i] + ", "
                        + nameValuePairs[i + 1]);
            }
            m.put(name, v.doubleValue());
        }
        return new Metrics(m);
    }

    /** The value of {@code name}; throws naming the available metrics when absent. */
    public double get(String name) {
        Double v = values.get(name);
        if (v == null) throw new NoSuchElementException("no metric '" + name + "'; have " + values.keySet());
        return v;
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** Metric names in order. */
    public List<String> names() {
        return List.copyOf(values.keySet());
    }

    public int size() {
        return values.size();
    }

    /** A copy with {@code name} set (replaced in place if present, else appended). */
    public Metrics with(String name, double value) {
        LinkedHashMap<String, Double> m = new LinkedHashMap<>(values);
        m.put(name, value);
        return new Metrics(m);
    }

    /** A copy whose names carry a prefix, e.g. {@code prefixed("valid_")} gives "valid_recall@10". */
    public Metrics prefixed(String prefix) {
        LinkedHashMap<String, Double> m = new LinkedHashMap<>();
        values.forEach((k, v) -> m.put(prefix + k, v));
        return new Metrics(m);
    }

    /** This followed by {@code other}'s metrics; a name present in both takes {@code other}'s value. */
    public Metrics merge(Metrics other) {
        LinkedHashMap<String, Double> m = new LinkedHashMap<>(values);
        m.putAll(other.values);
        return new Metrics(m);
    }

    /** Column headers right-aligned to the widths {@link #tableRow()} uses. */
    public String tableHeader() {
        StringBuilder sb = new StringBuilder();
        for (String k : values.keySet()) cell(sb, k, width(k));
        return sb.toString();
    }

    /** Values with four decimals, right-aligned in fixed-width columns matching {@link #tableHeader()}. */
    public String tableRow() {
        return tableRow(4);
    }

    /** Values with {@code decimals} decimals, right-aligned in fixed-width columns. */
    public String tableRow(int decimals) {
        StringBuilder sb = new StringBuilder();
        for (var e : values.entrySet()) {
            cell(sb, String.format(Locale.ROOT, "%." + decimals + "f", e.getValue()), width(e.getKey()));
        }
        return sb.toString();
    }

    private static int width(String name) {
        return Math.max(COLUMN_WIDTH, name.length());
    }

    private static void cell(StringBuilder sb, String s, int w) {
        if (!sb.isEmpty()) sb.append(' ');
        sb.repeat(' ', Math.max(0, w - s.length())).append(s);
    }

    /** Names joined by commas (names are quoted only if they contain a comma or quote). */
    public String csvHeader() {
        List<String> cells = new ArrayList<>();
        for (String k : values.keySet()) cells.add(csvEscape(k));
        return String.join(",", cells);
    }

    /** Values joined by commas, each as {@link Double#toString(double)} (exact round trip). */
    public String csvRow() {
        List<String> cells = new ArrayList<>();
        for (double v : values.values()) cells.add(Double.toString(v));
        return String.join(",", cells);
    }

    /** Quotes a CSV cell when it contains a comma, a quote or a line break (RFC 4180). */
    public static String csvEscape(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    /** {@code recall@10=0.0912 ndcg@10=0.0511 ...} (four decimals), for log lines. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> {
            if (!sb.isEmpty()) sb.append(' ');
            sb.append(k).append('=').append(String.format(Locale.ROOT, "%.4f", v));
        });
        return sb.toString();
    }
}
