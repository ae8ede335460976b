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

    static TrainConfig resolve(TrainConfig defaults, Path yaml, Map<String, Object> explicit, List<String> sets) throws IOException {
        TrainConfig cfg = defaults;
        if (yaml != null) cfg = withContext(cfg, readYaml(yaml), yaml.toString());
        cfg = withContext(cfg, explicit, "command-line options");
        return withContext(cfg, parseSets(sets), "--set");
    }

    private static TrainConfig withContext(TrainConfig cfg, Map<String, ?> m, String where) {
        try {
            return cfg.with(m);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    /** Parses key=value pairs; a malformed one says what is expected. */
    static Map<String, Object> parseSets(List<String> sets) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String s : sets) {
            int eq = s.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("--set expects key=value, got '" + s + "'");
            m.put(s.substring(0, eq).trim(), s.substring(eq + 1).trim());
        }
        return m;
    }

    /** A flat YAML mapping of settings; anything else is an error naming the file. */
    static Map<String, Object> readYaml(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--config: no such file " + file);
        try (Reader r = Files.newBufferedReader(file)) {
            Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
            if (doc == null) return Map.of();
            if (!(doc instanceof Map<?, ?> map)) throw new IllegalArgumentException(file + ": expected a mapping of settings (key: value)");
            Map<String, Object> out = new LinkedHashMap<>();
            for (var e : map.entrySet()) {
                if (e.getValue() instanceof Map || e.getValue() instanceof List) {
                    throw new IllegalArgumentException(file + ": setting '" + e.getKey() + "' must be a scalar");
                }
                out.put(String.valueOf(e.getKey()), e.getValue());
            }
            return out;
        } catch (YAMLException e) {
            throw new IllegalArgumentException(file + ": not valid YAML: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }
}
