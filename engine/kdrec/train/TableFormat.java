package kdrec.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Aligned tables for summaries (multi-seed results, benchmark reports): plain text for the console
 * and the run log, or Markdown for READMEs and reports. Columns whose body cells all start with a
 * number ("0.1234", "-3", "0.3300 ± 0.0158", "12%") are right-aligned, others left-aligned; cells that
 * are empty or a placeholder ("-", "n/a", "NaN") do not decide a column's alignment. Short rows are
 * padded with empty cells; a row longer than the header is an error. Output lines end with '\n'.
 */
public final class TableFormat {
    private TableFormat() {}

    private static final Pattern NUMERIC = Pattern.compile("^[-+]?(\\d|\\.\\d).*", Pattern.DOTALL);
    private static final Set<String> NEUTRAL = Set.of("", "-", "n/a", "NaN", "nan", "\u2014");

    /** Text table: header, a dashed rule, rows; columns separated by two spaces, no trailing blanks. */
    public static String text(List<String> header, List<? extends List<String>> rows) {
        List<List<String>> body = pad(header, rows);
        int[] w = widths(header, body);
        boolean[] right = numericColumns(header.size(), body);
        StringBuilder sb = new StringBuilder();
        textLine(sb, header, w, right);
        List<String> rule = new ArrayList<>();
        for (int x : w) rule.add("-".repeat(x));
        textLine(sb, rule, w, right);
        for (List<String> r : body) textLine(sb, r, w, right);
        return sb.toString();
    }

    /** GitHub Markdown table with alignment markers ("---:" for numeric columns), cells padded to line up. */
    public static String markdown(List<String> header, List<? extends List<String>> rows) {
        List<String> h = new ArrayList<>();
        for (String c : header) h.add(escape(c));
        List<List<String>> body = new ArrayList<>();
        for (List<String> r : pad(header, rows)) {
            List<String> e = new ArrayList<>();
            for (String c : r) e.add(escape(c));
            body.add(e);
        }
        int[] w = widths(h, body);
        for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], 3);
        boolean[] right = numericColumns(h.size(), body);
        StringBuilder sb = new StringBuilder();
        mdLine(sb, h, w, right);
        sb.append('|');
        for (int i = 0; i < w.length; i++) {
            sb.append(' ').append(right[i] ? "-".repeat(w[i] - 1) + ":" : "-".repeat(w[i])).append(" |");
        }
        sb.append('\n');
        for (List<String> r : body) mdLine(sb, r, w, right);
        return sb.toString();
    }

    private static List<List<String>> pad(List<String> header, List<? extends List<String>> rows) {
        List<List<String>> out = new ArrayList<>();
        int i = 0;
        for (List<String> r : rows) {
            if (r.size() > header.size()) {
                throw new IllegalArgumentException("TableFormat: row " + i + " has " + r.size() + " cells, the header " + header.size());
            }
            List<String> p = new ArrayList<>();
            for (String c : r) p.add(c == null ? "" : c);
            while (p.size() < header.size()) p.add("");
            out.add(p);
            i++;
        }
        return out;
    }

    private static int[] widths(List<String> header, List<List<String>> body) {
        int[] w = new int[header.size()];
        for (int i = 0; i < w.length; i++) w[i] = header.get(i).length();
        for (List<String> r : body) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r.get(i).length());
        return w;
    }

    private static boolean[] numericColumns(int n, List<List<String>> body) {
        boolean[] right = new boolean[n];
        for (int i = 0; i < n; i++) {
            boolean any = false, all = true;
            for (List<String> r : body) {
                String c = r.get(i).strip();
                if (NEUTRAL.contains(c)) continue;
                if (NUMERIC.matcher(c).matches()) any = true;
                else all = false;
            }
            right[i] = any && all;
        }
        return right;
    }

    private static void textLine(StringBuilder sb, List<String> cells, int[] w, boolean[] right) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            if (i > 0) line.append("  ");
            align(line, cells.get(i), w[i], right[i]);
        }
        sb.append(line.toString().stripTrailing()).append('\n');
    }

    private static void mdLine(StringBuilder sb, List<String> cells, int[] w, boolean[] right) {
        sb.append('|');
        for (int i = 0; i < w.length; i++) {
            sb.append(' ');
            align(sb, cells.get(i), w[i], right[i]);
            sb.append(" |");
        }
        sb.append('\n');
    }

    private static void align(StringBuilder sb, String s, int w, boolean right) {
        int padding = Math.max(0, w - s.length());
        if (right) sb.repeat(' ', padding).append(s);
        else sb.append(s).repeat(' ', padding);
    }

    private static String escape(String s) {
        return s.replace("|", "\\|").replace("\r", " ").replace("\n", " ");
    }
}
