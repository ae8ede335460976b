package kdrec.kd.compare;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import kdrec.eval.Metrics;
import kdrec.eval.Significance;
import kdrec.kd.Distillation;
import kdrec.train.TableFormat;

/**
 * The papers' Table 1 from a comparison's run results (a pure function of them): the teacher's test
 * metrics (one evaluation), then per method the mean ± sample std over seeds of the test metrics at
 * the best valid epoch, then, for {@code ours}, per metric the gain over the best other KD baseline
 * (highest mean among the compared methods other than scratch and ours, chosen per metric, as the
 * papers do) and the two-sided paired t-test p-value of ours vs that baseline, paired by seed (seeds
 * both ran; fewer than two pairs gives "n/a").
 */
public final class ComparisonTable {
    /** Metric keys (as {@link kdrec.eval.RankingMetrics} names them) and their column labels. */
    public static final List<String> METRICS = List.of("recall@10", "ndcg@10", "recall@20", "ndcg@20");
    public static final List<String> LABELS = List.of("R@10", "N@10", "R@20", "N@20");

    /** The teacher's row: a label ("teacher lightgcn d=64") and its test metrics. */
    public record TeacherRow(String label, Metrics test) {}

    /** Ours vs the best other KD baseline on one metric; {@code test} is null when fewer than two seeds pair up. */
    public record Gain(String baseline, double improvementPct, Significance.TTest test) {}

    private final TeacherRow teacher;
    private final List<String> methods;
    private final String ours;
    private final Map<String, Map<String, Significance.Summary>> summaries = new LinkedHashMap<>();
    private final Map<String, Gain> gains = new LinkedHashMap<>();

    private ComparisonTable(TeacherRow teacher, List<String> methods, String ours) {
        this.teacher = teacher;
        this.methods = methods;
        this.ours = ours;
    }

    /**
     * @param teacher the first row, or null for none
     * @param methods row order; a method without results is left out
     * @param results every finished run (any order)
     * @param ours    the method to report gains for, or null
     */
    public static ComparisonTable of(TeacherRow teacher, List<String> methods, List<RunResult> results, String ours) {
        Map<String, TreeMap<Long, Metrics>> bySeed = new LinkedHashMap<>();
        for (String m : methods) bySeed.put(m, new TreeMap<>());
        for (RunResult r : results) {
            var runs = bySeed.get(r.method());
            if (runs == null) continue;
            if (runs.put(r.seed(), r.test()) != null) throw new IllegalArgumentException("two results for " + r.method() + " seed " + r.seed());
        }
        List<String> present = new ArrayList<>();
        for (String m : methods) if (!bySeed.get(m).isEmpty()) present.add(m);
        ComparisonTable t = new ComparisonTable(teacher, present, present.contains(ours) ? ours : null);
        for (String m : present) {
            Map<String, Significance.Summary> s = new LinkedHashMap<>();
            for (String k : METRICS) s.put(k, Significance.summarize(column(bySeed.get(m), k)));
            t.summaries.put(m, s);
        }
        if (t.ours == null) return t;
        for (String k : METRICS) {
            String best = null;
            double bestMean = Double.NEGATIVE_INFINITY;
            for (String m : present) {
                if (m.equals(t.ours) || ComparisonPlan.base(m).equals(Distillation.SCRATCH)) continue;
                double mean = t.summaries.get(m).get(k).mean();
                if (mean > bestMean) {
                    best = m;
                    bestMean = mean;
                }
            }
            if (best == null) break; // no other KD method was compared: nothing to improve on
            double oursMean = t.summaries.get(t.ours).get(k).mean();
            double pct = bestMean == 0 ? Double.NaN : (oursMean - bestMean) / bestMean * 100;
            t.gains.put(k, new Gain(best, pct, pairedTest(bySeed.get(t.ours), bySeed.get(best), k)));
        }
        return t;
    }

    private static double[] column(TreeMap<Long, Metrics> runs, String metric) {
        double[] x = new double[runs.size()];
        int i = 0;
        for (Metrics m : runs.values()) x[i++] = m.get(metric);
        return x;
    }

    private static Significance.TTest pairedTest(TreeMap<Long, Metrics> a, TreeMap<Long, Metrics> b, String metric) {
        List<Long> common = new ArrayList<>();
        for (Long s : a.keySet()) if (b.containsKey(s)) common.add(s);
        if (common.size() < 2) return null;
        double[] x = new double[common.size()], y = new double[common.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = a.get(common.get(i)).get(metric);
            y[i] = b.get(common.get(i)).get(metric);
        }
        return Significance.pairedTTest(x, y);
    }

    /** Per method (table order), per metric: mean, std and number of seeds. */
    public Map<String, Map<String, Significance.Summary>> summaries() {
        return summaries;
    }

    /** Per metric: ours vs the best other KD baseline; empty when there is no ours or no other KD method. */
    public Map<String, Gain> gains() {
        return gains;
    }

    public String ours() {
        return ours;
    }

    // ---------------------------------------------------------------- rendering

    /** Column headers of the displayed table. */
    public static List<String> header() {
        List<String> h = new ArrayList<>(List.of("method"));
        h.addAll(LABELS);
        h.add("seeds");
        return h;
    }

    /** The displayed rows: teacher, methods, then "OURS vs best baseline" (+x.xx% (baseline)) and the p-values. */
    public List<List<String>> rows() {
        List<List<String>> rows = new ArrayList<>();
        if (teacher != null) {
            List<String> r = new ArrayList<>(List.of(teacher.label()));
            for (String k : METRICS) r.add(fmt(teacher.test().get(k)));
            r.add("-");
            rows.add(r);
        }
        for (var e : summaries.entrySet()) {
            List<String> r = new ArrayList<>(List.of(e.getKey()));
            int n = 0;
            for (String k : METRICS) {
                r.add(e.getValue().get(k).format(4));
                n = e.getValue().get(k).n();
            }
            r.add(Integer.toString(n));
            rows.add(r);
        }
        if (!gains.isEmpty()) {
            List<String> imp = new ArrayList<>(List.of(ours + " vs best KD baseline")), p = new ArrayList<>(List.of("p-value (paired t-test)"));
            for (String k : METRICS) {
                Gain g = gains.get(k);
                imp.add(pct(g.improvementPct()) + " (" + g.baseline() + ")");
                p.add(pValue(g.test()));
            }
            rows.add(imp);
            rows.add(p);
        }
        return rows;
    }

    public String markdown() {
        return TableFormat.markdown(header(), rows());
    }

    public String text() {
        return TableFormat.text(header(), rows());
    }

    /** What the table's cells mean, for under the Markdown table. */
    public String notes() {
        StringBuilder sb = new StringBuilder();
        sb.append("Test metrics at each run's best valid NDCG@10 epoch; mean ± sample std (n - 1) over seeds");
        if (teacher != null) sb.append("; the teacher row is one evaluation of the teacher checkpoint");
        sb.append(".");
        if (!gains.isEmpty()) {
            sb.append(" \"").append(ours).append(" vs best KD baseline\": (mean of ").append(ours)
                    .append(" - mean of the best other KD method on that metric, scratch excluded) / the latter, and which method that is;")
                    .append(" p-value: two-sided paired t-test of ").append(ours).append(" vs that method, paired by seed.");
        }
        return sb.append('\n').toString();
    }

    /**
     * The same table as CSV, numbers at full precision: {@code row,seeds,recall@10,recall@10_std,...}; rows
     * "teacher" (std empty), one per method, then "best_baseline" (method names), "improvement_pct" and "p_value".
     */
    public String csv() {
        List<String> h = new ArrayList<>(List.of("row", "seeds"));
        for (String k : METRICS) {
            h.add(k);
            h.add(k + "_std");
        }
        StringBuilder sb = new StringBuilder(String.join(",", h)).append('\n');
        if (teacher != null) {
            List<String> r = new ArrayList<>(List.of("teacher", ""));
            for (String k : METRICS) {
                r.add(Double.toString(teacher.test().get(k)));
                r.add("");
            }
            line(sb, r);
        }
        for (var e : summaries.entrySet()) {
            List<String> r = new ArrayList<>(List.of(e.getKey(), Integer.toString(e.getValue().get(METRICS.getFirst()).n())));
            for (String k : METRICS) {
                r.add(Double.toString(e.getValue().get(k).mean()));
                r.add(Double.toString(e.getValue().get(k).std()));
            }
            line(sb, r);
        }
        if (!gains.isEmpty()) {
            List<String> base = new ArrayList<>(List.of("best_baseline", "")), imp = new ArrayList<>(List.of("improvement_pct", "")),
                    p = new ArrayList<>(List.of("p_value", ""));
            for (String k : METRICS) {
                Gain g = gains.get(k);
                base.add(g.baseline());
                imp.add(Double.toString(g.improvementPct()));
                p.add(g.test() == null ? "" : Double.toString(g.test().p()));
                for (List<String> r : List.of(base, imp, p)) r.add("");
            }
            line(sb, base);
            line(sb, imp);
            line(sb, p);
        }
        return sb.toString();
    }

    private static void line(StringBuilder sb, List<String> cells) {
        List<String> esc = new ArrayList<>();
        for (String c : cells) esc.add(Metrics.csvEscape(c));
        sb.append(String.join(",", esc)).append('\n');
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    static String pct(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%+.2f%%", v) : "n/a";
    }

    static String pValue(Significance.TTest t) {
        if (t == null || Double.isNaN(t.p())) return "n/a";
        double p = t.p();
        return p >= 1e-3 ? String.format(Locale.ROOT, "%.4f", p) : String.format(Locale.ROOT, "%.2e", p);
    }
}
