package kdrec.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kdrec.train.TrainConfig;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/** Resolves run settings: defaults, then a YAML file, then explicit CLI options, then --set key=value. */
final class Settings {
    private Settings() {}

    /**
     * {@code kdrec train}'s settings: defaults &lt; the reference configs' teacher row of {@code preset}
     * (null: none) for the model the rest names &lt; the YAML file &lt; options &lt; --set.
     */
    static TrainConfig resolve(String preset, Path yaml, Map<String, Object> explicit, List<String> sets) throws IOException {
        if (preset == null) return resolve(TrainConfig.defaults(), yaml, explicit, sets);
        Cli.flagValues(() -> kdrec.kd.ReferenceConfigs.dataset(preset)); // a preset that does not exist is the flag's mistake
        // The layers above the preset are merged with it and checked once, so that a value the preset sets (HSTU's
        // heads) does not refuse a combination the user's own keys make valid (--dim 30 --set heads=3). Unknown keys
        // are still named with their layer.
        Map<String, Object> file = new LinkedHashMap<>(), user = new LinkedHashMap<>();
        if (yaml != null) merge(file, readYaml(yaml), yaml.toString(), false);
        user.putAll(file);
        merge(user, explicit, "command-line options", true);
        merge(user, parseSets(sets), "--set", true);
        String model = String.valueOf(user.getOrDefault("model", TrainConfig.defaults().model()));
        Map<String, Object> merged = new LinkedHashMap<>(kdrec.kd.ReferenceConfigs.teacher(preset, model));
        merged.putAll(user);
        merged.putIfAbsent("model", model);
        String where = "--preset " + preset + " with the settings given";
        try {
            return withContext(TrainConfig.defaults(), merged, where, false);
        } catch (IllegalArgumentException e) {
            // the flags' mistake (exit 2) unless the preset and the file are already refused without them
            Map<String, Object> withoutFlags = new LinkedHashMap<>(kdrec.kd.ReferenceConfigs.teacher(preset, model));
            withoutFlags.putAll(file);
            withoutFlags.putIfAbsent("model", model);
            try {
                TrainConfig.defaults().with(withoutFlags);
            } catch (IllegalArgumentException fileToo) {
                throw e;
            }
            throw new Cli.BadFlagValue(e.getMessage(), e);
        }
    }

    /** Adds one layer's settings; an unknown key names the layer (a flag's: a usage error). */
    private static void merge(Map<String, Object> into, Map<String, ?> layer, String where, boolean flags) {
        for (var e : layer.entrySet()) {
            String k = TrainConfig.key(e.getKey());
            if (!TrainConfig.KEYS.contains(k)) {
                String msg = where + ": unknown setting '" + e.getKey() + "'; allowed: " + String.join(", ", TrainConfig.KEYS);
                throw flags ? new Cli.BadFlagValue(msg, null) : new IllegalArgumentException(msg);
            }
            into.put(k, e.getValue());
        }
    }

    static TrainConfig resolve(TrainConfig defaults, Path yaml, Map<String, Object> explicit, List<String> sets) throws IOException {
        TrainConfig cfg = defaults;
        if (yaml != null) cfg = withContext(cfg, readYaml(yaml), yaml.toString(), false);
        cfg = withContext(cfg, explicit, "command-line options", true);
        return withContext(cfg, parseSets(sets), "--set", true);
    }

    /** Applies one layer; what it refuses names the layer, and a flag layer's refusal is a usage error. */
    private static TrainConfig withContext(TrainConfig cfg, Map<String, ?> m, String where, boolean flags) {
        try {
            return cfg.with(m);
        } catch (IllegalArgumentException e) {
            throw flags ? new Cli.BadFlagValue(where + ": " + e.getMessage(), e) : new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    /** Parses key=value pairs; a malformed one says what is expected. */
    static Map<String, Object> parseSets(List<String> sets) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String s : sets) {
            int eq = s.indexOf('=');
            if (eq <= 0) throw new Cli.BadFlagValue("--set expects key=value, got '" + s + "'", null);
            m.put(s.substring(0, eq).trim(), s.substring(eq + 1).trim());
        }
        return m;
    }

    /** Entries a run's config.yaml holds beside its settings: the data and the teacher it was given. */
    private static final java.util.Set<String> RUN_INPUTS = java.util.Set.of("data", "teacher");

    /** A flat YAML mapping of settings; anything else is an error naming the file. */
    static Map<String, Object> readYaml(Path file) throws IOException {
        if (Files.isDirectory(file)) throw new IllegalArgumentException("--config: " + file + " is a folder, not a YAML file");
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--config: no such file " + file);
        try (Reader r = kdrec.data.Readers.open(file)) { // a byte that is not UTF-8 is named with its line
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false); // "dim: 8" then "dim: 9" is a mistake, not a choice
            Object doc = new Yaml(new SafeConstructor(options)).load(r);
            if (doc == null) return Map.of();
            if (!(doc instanceof Map<?, ?> map)) throw new IllegalArgumentException(file + ": expected a mapping of settings (key: value)");
            Map<String, Object> out = new LinkedHashMap<>();
            for (var e : map.entrySet()) {
                // a run's own config.yaml also records its inputs, which the command line names: skip them
                if (RUN_INPUTS.contains(String.valueOf(e.getKey()))) {
                    System.err.println("--config " + file + ": '" + e.getKey() + "' is skipped (--" + e.getKey() + " gives it)");
                    continue;
                }
                if (e.getValue() instanceof Map || e.getValue() instanceof List) {
                    throw new IllegalArgumentException(file + ": setting '" + e.getKey() + "' must be a scalar");
                }
                out.put(String.valueOf(e.getKey()), e.getValue());
            }
            return out;
        } catch (org.yaml.snakeyaml.error.MarkedYAMLException e) {
            String where = e.getProblemMark() == null ? "" : ":" + (e.getProblemMark().getLine() + 1);
            throw new IllegalArgumentException(file + where + ": not valid YAML: " + e.getProblem(), e);
        } catch (YAMLException e) {
            throw new IllegalArgumentException(file + ": not valid YAML: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }
}
