package kdrec.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Positional arguments of the bench/*.sh programs, checked before any data is generated: a bad one
 * (or -h/--help) prints one line and the usage and exits 2, instead of a stack trace minutes later.
 */
final class BenchArgs {
    private final String usage;
    private final String[] args;

    BenchArgs(String usage, String[] args) {
        this.usage = usage;
        this.args = args;
        for (String a : args) if (a.equals("-h") || a.equals("--help")) fail(null);
    }

    /** Argument i, or {@code dflt} when absent or "-" (a placeholder that keeps later arguments in place). */
    String str(int i, String dflt) {
        return i < args.length && !args[i].equals("-") ? args[i] : dflt;
    }

    /** Argument i as an integer of at least {@code min}, or {@code dflt}. */
    int integer(int i, String name, int dflt, int min) {
        String s = str(i, null);
        return s == null ? dflt : integer(name, s, min);
    }

    /** {@code s}, the value of {@code name}, as an integer of at least {@code min}. */
    int integer(String name, String s, int min) {
        try {
            int v = Integer.parseInt(s.trim());
            if (v >= min) return v;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw fail(name + " must be an integer >= " + min + ", got '" + s + "'");
    }

    /** Arguments from i on as key=value pairs. */
    Map<String, Object> settings(int from) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = from; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) throw fail("expected key=value, got '" + args[i] + "'");
            m.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        return m;
    }

    /** Prints {@code problem} (when not null) and the usage, then exits 2. */
    RuntimeException fail(String problem) {
        if (problem != null) System.err.println(problem);
        System.err.println("usage: " + usage);
        System.exit(2);
        return new IllegalStateException(); // not reached
    }
}
