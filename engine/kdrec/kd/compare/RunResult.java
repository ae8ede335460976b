package kdrec.kd.compare;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.eval.Metrics;
import kdrec.train.AtomicFiles;
import kdrec.train.Trainer;

/**
 * The outcome of one (method, seed) run of a comparison, as its {@code result.json} holds it: the
 * trainer's result (test metrics at the best valid epoch). Epochs are 1-based, as in metrics.csv.
 * The file is written atomically once the run has finished, so its presence means "done".
 */
public record RunResult(String method, long seed, int bestEpoch, int epochsRun, boolean stoppedEarly, double secondsPerEpoch,
                        Metrics valid, Metrics test) {
    public static final String FILE = "result.json";

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();

    public static RunResult of(String method, long seed, Trainer.Result r) {
        return new RunResult(method, seed, r.bestEpoch() + 1, r.epochsRun(), r.stoppedEarly(), r.secondsPerEpoch(),
                r.bestValid() == null ? Metrics.empty() : r.bestValid(), r.test());
    }

    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("method", method);
        o.addProperty("seed", seed);
        o.addProperty("best_epoch", bestEpoch);
        o.addProperty("epochs_run", epochsRun);
        o.addProperty("stopped_early", stoppedEarly);
        o.addProperty("seconds_per_epoch", secondsPerEpoch);
        o.add("valid", GSON.toJsonTree(valid.values()));
        o.add("test", GSON.toJsonTree(test.values()));
        return GSON.toJson(o) + "\n";
    }

    public static RunResult fromJson(String json) {
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        return new RunResult(o.get("method").getAsString(), o.get("seed").getAsLong(), o.get("best_epoch").getAsInt(),
                o.get("epochs_run").getAsInt(), o.get("stopped_early").getAsBoolean(), o.get("seconds_per_epoch").getAsDouble(),
                metrics(o.getAsJsonObject("valid")), metrics(o.getAsJsonObject("test")));
    }

    private static Metrics metrics(JsonObject o) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (o != null) for (var e : o.entrySet()) m.put(e.getKey(), e.getValue().getAsDouble());
        return new Metrics(m);
    }

    public void save(Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve(FILE), toJson());
    }

    /** Reads {@code dir/result.json}; a damaged file is an error naming it. */
    public static RunResult load(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        try {
            return fromJson(Files.readString(f, StandardCharsets.UTF_8));
        } catch (JsonParseException | IllegalStateException | NullPointerException | UnsupportedOperationException e) {
            throw new IOException(f + ": not a kdrec run result (" + e.getMessage() + "); delete it to rerun that run", e);
        }
    }
}
