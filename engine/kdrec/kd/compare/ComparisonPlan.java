package kdrec.kd.compare;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import kdrec.kd.Distillation;
import kdrec.train.TrainConfig;

/**
 * What {@code kdrec compare} runs: every method for every seed ({@code seedBase + i}, i < seeds), the
 * method whose gains the table reports ({@code ours}) and the {@code --set} overrides. Plain keys
 * (student settings) go to every run; {@code lambda} goes to every KD method (the scratch student has
 * none); {@code METHOD.KEY} goes to that method only. Everything is checked here, before any training:
 * unknown method names (the message lists the allowed ones, i.e. whatever {@link kdrec.kd.Methods}
 * registers), duplicates, a {@code METHOD.KEY} for a method that is not compared, and an {@code ours}
 * that is not compared.
 *
 * <p>A method may be listed more than once as variants {@code METHOD@LABEL} (e.g. {@code freqd} and
 * {@code freqd@exp}): each is its own row and run folder. {@code METHOD.KEY} applies to the method and
 * all its variants, {@code METHOD@LABEL.KEY} to that variant only (and wins).
 *
 * @param ours the method the table's improvement and p-value rows are about, or null for none
 */
public record ComparisonPlan(List<String> methods, List<Long> seeds, String ours, Map<String, Object> overrides) {

    public ComparisonPlan {
        methods = List.copyOf(methods);
        seeds = List.copyOf(seeds);
        overrides = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(overrides));
    }

    /**
     * Builds and validates a plan.
     *
     * @param methods   method names (case-insensitive, blanks ignored)
     * @param seeds     how many seeds (>= 1)
     * @param seedBase  the first seed
     * @param ours      the method to report gains for; must be one of {@code methods} (null: none)
     * @param overrides the {@code --set} keys and values
     */
    public static ComparisonPlan of(List<String> methods, int seeds, long seedBase, String ours, Map<String, ?> overrides) {
        List<String> allowed = Distillation.methodNames();
        Set<String> names = new LinkedHashSet<>();
        for (String raw : methods) {
            String m = raw.trim().toLowerCase(Locale.ROOT);
            if (m.isEmpty()) { // "ce," or "ce,,rd": a name left out, not a list to shorten silently
                throw new IllegalArgumentException("--methods: an empty method name in '" + String.join(",", methods) + "' (a comma too many?)");
            }
            int at = m.indexOf('@');
            if (at == 0 || at == m.length() - 1 || m.indexOf('@', at + 1) >= 0 || !m.matches("[a-z0-9_@.-]+") || m.contains(".")) {
                throw new IllegalArgumentException("--methods: '" + raw.trim() + "' is not METHOD or METHOD@LABEL (letters, digits, _ and -)");
            }
            if (!allowed.contains(base(m))) {
                throw new IllegalArgumentException("--methods: unknown method '" + raw.trim() + "'; allowed: " + String.join(", ", allowed));
            }
            if (!names.add(m)) throw new IllegalArgumentException("--methods: '" + m + "' is listed twice");
        }
        if (names.isEmpty()) throw new IllegalArgumentException("--methods: no method given; allowed: " + String.join(", ", allowed));
        if (seeds < 1) throw new IllegalArgumentException("--seeds must be >= 1, got " + seeds);
        String o = ours == null ? null : ours.trim().toLowerCase(Locale.ROOT);
        if (o != null && !names.contains(o)) {
            throw new IllegalArgumentException("--ours: '" + o + "' is not among --methods (" + String.join(", ", names)
                    + "); add it there or pick another --ours");
        }
        if (Distillation.SCRATCH.equals(o)) throw new IllegalArgumentException("--ours: the scratch student is not a KD method");
        for (String k : overrides.keySet()) {
            int dot = k.indexOf('.');
            if (dot <= 0) continue;
            String owner = k.substring(0, dot).trim().toLowerCase(Locale.ROOT);
            if (!names.contains(owner) && names.stream().noneMatch(n -> base(n).equals(owner))) {
                throw new IllegalArgumentException("--set " + k + ": method '" + owner + "' is not among --methods (" + String.join(", ", names) + ")");
            }
        }
        List<Long> seedList = new ArrayList<>();
        for (int i = 0; i < seeds; i++) seedList.add(seedBase + i);
        return new ComparisonPlan(new ArrayList<>(names), seedList, o, new LinkedHashMap<String, Object>(overrides));
    }

    /** The registered method of a listed entry: {@code freqd@exp} is a variant of {@code freqd}. */
    public static String base(String method) {
        int at = method.indexOf('@');
        return at < 0 ? method : method.substring(0, at);
    }

    /**
     * The overrides that apply to one listed method's runs (see the class comment), with variant keys
     * renamed to the base method's ({@code freqd@exp.filter} becomes {@code freqd.filter}).
     */
    public Map<String, Object> overridesFor(String method) {
        String base = base(method);
        Map<String, Object> out = new LinkedHashMap<>(), variant = new LinkedHashMap<>();
        for (var e : overrides.entrySet()) {
            String k = e.getKey().trim();
            int dot = k.indexOf('.');
            if (dot > 0) {
                String owner = k.substring(0, dot).toLowerCase(Locale.ROOT), key = base + k.substring(dot);
                if (owner.equals(base)) out.put(key, e.getValue());
                else if (owner.equals(method)) variant.put(key, e.getValue());
            } else if (k.equalsIgnoreCase("lambda")) {
                if (!Distillation.SCRATCH.equals(base)) out.put(k, e.getValue());
            } else {
                out.put(k, e.getValue());
            }
        }
        out.putAll(variant);
        return out;
    }

    /** The plain (student) keys of the overrides: those every run gets. */
    public Map<String, Object> studentOverrides() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (var e : overrides.entrySet()) {
            String k = e.getKey().trim();
            if (k.indexOf('.') < 0 && !k.equalsIgnoreCase("lambda")) out.put(k, e.getValue());
        }
        return out;
    }

    /**
     * Every method's resolved settings (seed still the student's; runs use {@link Distillation.Setup#withSeed}).
     * Resolving all of them up front makes a bad key fail before hours of training.
     */
    public Map<String, Distillation.Setup> resolve(TrainConfig student, String preset, String teacherKind) {
        Map<String, Distillation.Setup> out = new LinkedHashMap<>();
        for (String m : methods) out.put(m, Distillation.resolve(base(m), student, preset, teacherKind, overridesFor(m)));
        return out;
    }

    /** Number of runs (methods x seeds). */
    public int runs() {
        return methods.size() * seeds.size();
    }
}
