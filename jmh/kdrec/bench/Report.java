package kdrec.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a JMH JSON result file into a markdown table (run by jmh/run.sh; a main in the benchmarks jar):
 * benchmark, params, time (score +- error, median), GFLOP/s (from the bench class's {@link FlopCount}),
 * % of the FMA peak that {@link PeakBench} measured in the same run (matched on the {@code threads}
 * param; absent when PeakBench did not run), and the speed-up over its baseline twin: the method in the
 * same class with the same {@code <case>_} prefix, the same params and a baseline suffix
 * ({@code _scalar}, {@code _unfused}, {@code _naive}, {@code _baseline}, {@code _ref}). When both sides
 * have flop counts the ratio is taken on GFLOP/s (so a baseline may do less work per call), otherwise on
 * time. Usage: {@code Report results.json}. No dependencies: a small JSON reader is included.
 */
public final class Report {
    private Report() {}

    static final List<String> BASELINES = List.of("scalar", "unfused", "naive", "baseline", "ref");

    /** One benchmark point. */
    record Row(String cls, String method, Map<String, String> params, double score, double error, double median,
               String unit, double secPerOp, double flops) {
        String prefix() {
            int u = method.lastIndexOf('_');
            return u < 0 ? null : method.substring(0, u);
        }

        String suffix() {
            int u = method.lastIndexOf('_');
            return u < 0 ? "" : method.substring(u + 1);
        }

        double gflops() {
            return Double.isFinite(flops) && secPerOp > 0 ? flops / secPerOp / 1e9 : Double.NaN;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Report <jmh-result.json>");
            System.exit(2);
        }
        Object parsed = new Json(Files.readString(Path.of(args[0]))).parse();
        if (!(parsed instanceof List<?> runs)) throw new IllegalArgumentException("not a JMH JSON result array: " + args[0]);
        System.out.print(render(runs, args[0]));
    }

    @SuppressWarnings("unchecked")
    static String render(List<?> runs, String source) {
        List<Row> rows = new ArrayList<>();
        Map<String, Object> first = runs.isEmpty() ? Map.of() : (Map<String, Object>) runs.get(0);
        for (Object o : runs) {
            Map<String, Object> r = (Map<String, Object>) o;
            String full = (String) r.get("benchmark");
            int dot = full.lastIndexOf('.');
            String cls = full.substring(0, dot), method = full.substring(dot + 1);
            Map<String, String> params = new TreeMap<>();
            if (r.get("params") instanceof Map<?, ?> pm) pm.forEach((k, v) -> params.put((String) k, String.valueOf(v)));
            Map<String, Object> pmx = (Map<String, Object>) r.get("primaryMetric");
            double score = num(pmx.get("score")), err = num(pmx.get("scoreError"));
            double median = Double.NaN;
            if (pmx.get("scorePercentiles") instanceof Map<?, ?> pc) median = num(pc.get("50.0"));
            String unit = (String) pmx.get("scoreUnit");
            rows.add(new Row(cls, method, params, score, err, median, unit, secondsPerOp(score, unit), flops(cls, method, params)));
        }
        Map<String, Double> peak = new TreeMap<>();
        for (Row r : rows) {
            if (r.cls.endsWith(".PeakBench") && r.method.equals("peak")) peak.put(r.params.getOrDefault("threads", "1"), r.gflops());
        }
        double maxPeak = peak.values().stream().filter(Double::isFinite).mapToDouble(d -> d).max().orElse(Double.NaN);

        StringBuilder sb = new StringBuilder();
        sb.append("# JMH report: ").append(source).append("\n\n");
        if (!first.isEmpty()) {
            sb.append("JVM ").append(first.get("vmVersion")).append(" (").append(first.get("vmName")).append("), JMH ")
                    .append(first.get("jmhVersion")).append(", forks ").append(fmtInt(first.get("forks")))
                    .append(", warm-up ").append(fmtInt(first.get("warmupIterations"))).append(" x ").append(first.get("warmupTime"))
                    .append(", measurement ").append(fmtInt(first.get("measurementIterations"))).append(" x ")
                    .append(first.get("measurementTime")).append("\n\n");
        }
        if (!peak.isEmpty()) {
            sb.append("FMA peak (PeakBench, this run):");
            peak.forEach((t, g) -> sb.append(String.format(Locale.ROOT, " %s thread(s) %.1f GFLOP/s;", t, g)));
            sb.setLength(sb.length() - 1);
            sb.append(". \"% peak\" compares with the peak at the same `threads`.\n\n");
        }
        sb.append("| benchmark | params | time | GFLOP/s | % peak | vs baseline |\n|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            String time = String.format(Locale.ROOT, "%s ± %s %s", sig(r.score), sig(r.error), r.unit)
                    + (Double.isFinite(r.median) ? " (median " + sig(r.median) + ")" : "");
            double g = r.gflops();
            Double pk = peak.getOrDefault(r.params.getOrDefault("threads", ""), maxPeak);
            String pct = Double.isFinite(g) && pk != null && Double.isFinite(pk) && pk > 0
                    ? String.format(Locale.ROOT, "%.0f %%", 100 * g / pk) : "";
            sb.append("| ").append(simple(r.cls)).append('.').append(r.method)
                    .append(" | ").append(paramString(r.params))
                    .append(" | ").append(time)
                    .append(" | ").append(Double.isFinite(g) ? String.format(Locale.ROOT, "%.1f", g) : "")
                    .append(" | ").append(pct)
                    .append(" | ").append(ratio(r, rows))
                    .append(" |\n");
        }
        return sb.toString();
    }

    static String ratio(Row r, List<Row> rows) {
        if (r.prefix() == null) return "";
        if (BASELINES.contains(r.suffix())) return "baseline";
        for (String b : BASELINES) {
            for (Row o : rows) {
                if (o.cls.equals(r.cls) && o.method.equals(r.prefix() + "_" + b) && o.params.equals(r.params)) {
                    double x = Double.isFinite(r.gflops()) && Double.isFinite(o.gflops()) && o.gflops() > 0
                            ? r.gflops() / o.gflops() : o.secPerOp / r.secPerOp;
                    return Double.isFinite(x) ? String.format(Locale.ROOT, "%.2fx vs %s", x, o.method) : "";
                }
            }
        }
        return "";
    }

    static double flops(String cls, String method, Map<String, String> params) {
        try {
            Object bench = Class.forName(cls).getDeclaredConstructor().newInstance();
            if (bench instanceof FlopCount fc) return fc.flops(method, params);
        } catch (ReflectiveOperationException | LinkageError e) {
            // a class this jar does not hold, or one that cannot load here: no flop count
        }
        return Double.NaN;
    }

    /** Seconds per operation from a JMH score and its unit ("ms/op", "ops/s", ...). */
    static double secondsPerOp(double score, String unit) {
        if (unit == null) return Double.NaN;
        String[] p = unit.split("/");
        if (p.length != 2) return Double.NaN;
        if (p[1].equals("op")) return score * unitSeconds(p[0]);
        if (p[0].equals("ops")) return unitSeconds(p[1]) / score;
        return Double.NaN;
    }

    static double unitSeconds(String u) {
        return switch (u) {
            case "s" -> 1;
            case "ms" -> 1e-3;
            case "us" -> 1e-6;
            case "ns" -> 1e-9;
            case "min" -> 60;
            default -> Double.NaN;
        };
    }

    static double num(Object o) {
        if (o instanceof Number n) return n.doubleValue();
        if (o instanceof String s) {
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    static String fmtInt(Object o) {
        double d = num(o);
        return Double.isFinite(d) ? Long.toString(Math.round(d)) : String.valueOf(o);
    }

    /** Four significant digits, no exponent for the usual range. */
    static String sig(double d) {
        if (!Double.isFinite(d)) return "?";
        double a = Math.abs(d);
        int decimals = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : a >= 1 ? 3 : a >= 0.01 ? 4 : 6;
        return String.format(Locale.ROOT, "%." + decimals + "f", d);
    }

    static String simple(String cls) {
        return cls.substring(cls.lastIndexOf('.') + 1);
    }

    static String paramString(Map<String, String> p) {
        StringBuilder sb = new StringBuilder();
        p.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append('=').append(v));
        return sb.toString();
    }

    /** Minimal JSON reader: objects to LinkedHashMap, arrays to ArrayList, numbers to Double. */
    static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object parse() {
            Object v = value();
            ws();
            if (i != s.length()) throw error("trailing characters");
            return v;
        }

        private Object value() {
            ws();
            if (i >= s.length()) throw error("unexpected end");
            char c = s.charAt(i);
            switch (c) {
                case '{': {
                    i++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    ws();
                    if (peek('}')) return m;
                    do {
                        ws();
                        String k = string();
                        ws();
                        expect(':');
                        m.put(k, value());
                        ws();
                    } while (peek(','));
                    expect('}');
                    return m;
                }
                case '[': {
                    i++;
                    List<Object> l = new ArrayList<>();
                    ws();
                    if (peek(']')) return l;
                    do {
                        l.add(value());
                        ws();
                    } while (peek(','));
                    expect(']');
                    return l;
                }
                case '"':
                    return string();
                default:
                    if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
                    if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
                    if (s.startsWith("null", i)) { i += 4; return null; }
                    int st = i;
                    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
                    if (st == i) throw error("unexpected character '" + c + "'");
                    return Double.parseDouble(s.substring(st, i));
            }
        }

        private String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (i < s.length()) {
                char c = s.charAt(i++);
                if (c == '"') return sb.toString();
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'u' -> {
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> sb.append(e);
                }
            }
            throw error("unterminated string");
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }

        private boolean peek(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!peek(c)) throw error("expected '" + c + "'");
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("JSON: " + what + " at offset " + i);
        }
    }
}
