package kdrec.train;

import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import java.util.TreeMap;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * A run's config.yaml: written (atomically), read back, and compared with the settings a command
 * resumes with ({@link RunDir#open}). Key order: a {@link SequencedMap} (LinkedHashMap, TreeMap) keeps
 * its order, any other map is sorted by key, so the file is stable. Values may be strings, numbers,
 * booleans, null, maps, collections and arrays; floats are written through their shortest decimal form
 * (1e-3f as 0.001), enums by name, anything else by toString(). Comparison is after a YAML round trip
 * (64 and 64L are equal), and a path written another way that names the same file or folder is equal.
 */
public final class RunConfig {
    private RunConfig() {}


    /** The YAML text config.yaml holds for {@code config}. */
    public static String toYaml(Map<String, ?> config) {
        DumperOptions o = new DumperOptions();
        o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        o.setIndent(2);
        o.setSplitLines(false);
        Yaml yaml = new Yaml(new Representer(o), o);
        return yaml.dump(normalizeMap(config));
    }

    /** Atomically writes {@code config} as YAML to {@code file}. */
    public static void writeConfig(Path file, Map<String, ?> config) throws IOException {
        AtomicFiles.writeString(file, toYaml(config));
    }

    /** Reads a YAML mapping (config.yaml) in file order; throws naming the file when it is not one. */
    public static Map<String, Object> readConfig(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Object o;
        try {
            o = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (RuntimeException e) {
            throw new IOException(file + ": not valid YAML: " + e.getMessage(), e);
        }
        if (o == null) return new LinkedHashMap<>();
        if (!(o instanceof Map<?, ?> m)) throw new IOException(file + ": expected a YAML mapping of settings");
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }

    static Map<String, Object> roundTrip(Map<String, Object> config) {
        Object o = new Yaml(new SafeConstructor(new LoaderOptions())).load(toYaml(config));
        Map<String, Object> out = new LinkedHashMap<>();
        if (o instanceof Map<?, ?> m) m.forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }

    static Map<String, Object> normalizeMap(Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (m instanceof SequencedMap<?, ?>) {
            m.forEach((k, v) -> out.put(String.valueOf(k), normalize(v)));
        } else {
            Map<String, Object> sorted = new TreeMap<>();
            m.forEach((k, v) -> sorted.put(String.valueOf(k), normalize(v)));
            out.putAll(sorted);
        }
        return out;
    }

    private static Object normalize(Object v) {
        return switch (v) {
            case null -> null;
            case String s -> s;
            case Boolean b -> b;
            case Float f -> Float.isFinite(f) ? Double.valueOf(Float.toString(f)) : (double) f;
            case Byte b -> b.intValue();
            case Short s -> s.intValue();
            case Integer i -> i;
            case Long l -> l;
            case Double d -> d;
            case Number n -> n.toString();
            case Enum<?> e -> e.name();
            case Map<?, ?> m -> normalizeMap(m);
            case Collection<?> c -> {
                List<Object> l = new ArrayList<>();
                for (Object x : c) l.add(normalize(x));
                yield l;
            }
            default -> {
                if (v.getClass().isArray()) {
                    List<Object> l = new ArrayList<>();
                    for (int i = 0; i < Array.getLength(v); i++) l.add(normalize(Array.get(v, i)));
                    yield l;
                }
                yield v.toString();
            }
        };
    }

    /**
     * {@code existing} with each text value that names the same file as {@code wanted}'s value at that
     * place (another spelling of the path: relative or absolute, through a link) replaced by wanted's,
     * so that resuming does not depend on how a teacher or data file was written.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> sameFilesAs(Map<String, Object> existing, Map<String, Object> wanted) {
        Map<String, Object> out = new LinkedHashMap<>(existing);
        for (var e : existing.entrySet()) {
            Object old = e.getValue(), now = wanted.get(e.getKey());
            if (old instanceof Map<?, ?> om && now instanceof Map<?, ?> nm) {
                out.put(e.getKey(), sameFilesAs((Map<String, Object>) om, (Map<String, Object>) nm));
            } else if (old instanceof String a && now instanceof String b && !a.equals(b) && sameFile(a, b)) {
                out.put(e.getKey(), b);
            }
        }
        return out;
    }

    /**
     * {@code existing} (a run's config.yaml as read) prepared for comparison with {@code wanted}: the
     * settings added since the run was made filled in with the values it ran with
     * ({@link TrainConfig#withKeysAddedLater}), and file paths spelt as wanted spells them ({@link #sameFilesAs}).
     */
    static Map<String, Object> comparable(Map<String, Object> existing, Map<String, Object> wanted) {
        return sameFilesAs(TrainConfig.withKeysAddedLater(existing), wanted);
    }

    private static boolean sameFile(String a, String b) {
        try {
            Path pa = Path.of(a), pb = Path.of(b);
            return Files.exists(pa) && Files.exists(pb) && Files.isSameFile(pa, pb);
        } catch (IOException | java.nio.file.InvalidPathException e) {
            return false;
        }
    }

    static String describeDifferences(Map<String, Object> existing, Map<String, Object> wanted) {
        Set<String> keys = new LinkedHashSet<>(existing.keySet());
        keys.addAll(wanted.keySet());
        List<String> diffs = new ArrayList<>();
        for (String k : keys) {
            boolean inOld = existing.containsKey(k), inNew = wanted.containsKey(k);
            if (!inOld) diffs.add(k + ": not in the existing run, now " + wanted.get(k));
            else if (!inNew) diffs.add(k + ": " + existing.get(k) + " in the existing run, not set now");
            else if (!java.util.Objects.equals(existing.get(k), wanted.get(k))) diffs.add(k + ": " + existing.get(k) + " -> " + wanted.get(k));
        }
        return diffs.isEmpty() ? "key order or types differ" : String.join(", ", diffs);
    }

    /**
     * How the run whose config.yaml is {@code file} differs from {@code config}, as {@link RunDir#open} would
     * judge a resume; null when it would resume.
     */
    public static String differences(Path file, Map<?, ?> config) throws IOException {
        Map<String, Object> wanted = roundTrip(normalizeMap(config));
        Map<String, Object> existing = comparable(readConfig(file), wanted);
        return existing.equals(wanted) ? null : describeDifferences(existing, wanted);
    }
}
