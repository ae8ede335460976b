package kdrec.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.reflect.TypeToken;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.tensor.Tensor;

/**
 * A model checkpoint: named float32 tensors plus a string metadata map, stored as one safetensors
 * file (readable by any safetensors library).
 *
 * <p>Everything that is not a float tensor lives in the metadata, as strings:
 * <ul>
 *   <li>{@value #KEY_FORMAT} = {@value #FORMAT_VERSION} (added on save; a file with a newer version is refused),
 *       {@value #KEY_MODEL} (model type), {@value #KEY_EPOCH}, {@value #KEY_FINGERPRINT} (which data it was
 *       trained on), {@value #KEY_DIMS} (a JSON object of the architecture's sizes, e.g. {"dim":64,"layers":3});</li>
 *   <li>any other state as a JSON string under a key of the caller's choice, through {@link #withJson} and
 *       {@link #json}: optimizer step counts, RNG state, id maps. JSON numbers are exact for longs only when
 *       read back into a typed field ({@code long}, {@code long[]}, a record); untyped maps read them as
 *       doubles.</li>
 * </ul>
 * Instances are immutable; the {@code with*} methods return copies sharing the tensors.
 */
public record Checkpoint(Map<String, Tensor> tensors, Map<String, String> metadata) {
    public static final String KEY_FORMAT = "kdrec_format";
    public static final String FORMAT_VERSION = "1";
    public static final String KEY_MODEL = "model";
    public static final String KEY_EPOCH = "epoch";
    public static final String KEY_FINGERPRINT = "dataset_fingerprint";
    public static final String KEY_DIMS = "dims";

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();

    public Checkpoint {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** A checkpoint of these tensors (iteration order kept) without metadata. */
    public static Checkpoint of(Map<String, Tensor> tensors) {
        return new Checkpoint(tensors, Map.of());
    }

    /** A copy with metadata {@code key} set to {@code value}. */
    public Checkpoint with(String key, String value) {
        Map<String, String> m = new LinkedHashMap<>(metadata);
        m.put(key, value);
        return new Checkpoint(tensors, m);
    }

    /** A copy with metadata {@code key} set to the JSON encoding of {@code value}. */
    public Checkpoint withJson(String key, Object value) {
        return with(key, GSON.toJson(value));
    }

    public Checkpoint withModel(String model) {
        return with(KEY_MODEL, model);
    }

    public Checkpoint withEpoch(int epoch) {
        return with(KEY_EPOCH, Integer.toString(epoch));
    }

    public Checkpoint withFingerprint(String fingerprint) {
        return with(KEY_FINGERPRINT, fingerprint);
    }

    /** Architecture sizes, stored as a JSON object under {@value #KEY_DIMS}. */
    public Checkpoint withDims(Map<String, Integer> dims) {
        return withJson(KEY_DIMS, new LinkedHashMap<>(dims));
    }

    /** Metadata value of {@code key}; throws naming the keys present when absent. */
    public String meta(String key) {
        String v = metadata.get(key);
        if (v == null) throw new IllegalArgumentException("checkpoint has no metadata '" + key + "'; has " + metadata.keySet());
        return v;
    }

    public boolean hasMeta(String key) {
        return metadata.containsKey(key);
    }

    /** Decodes the JSON string stored under {@code key}. */
    public <T> T json(String key, Class<T> type) {
        return json(key, (Type) type);
    }

    /** Decodes the JSON string stored under {@code key} into a generic type (e.g. a TypeToken's type). */
    public <T> T json(String key, Type type) {
        String s = meta(key);
        try {
            return GSON.fromJson(s, type);
        } catch (JsonParseException e) {
            throw new IllegalStateException("checkpoint metadata '" + key + "' is not valid JSON for " + type.getTypeName() + ": "
                    + e.getMessage(), e);
        }
    }

    public String model() {
        return meta(KEY_MODEL);
    }

    public int epoch() {
        String s = meta(KEY_EPOCH);
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("checkpoint metadata 'epoch' is not an integer: '" + s + "'");
        }
    }

    public String fingerprint() {
        return meta(KEY_FINGERPRINT);
    }

    public Map<String, Integer> dims() {
        return json(KEY_DIMS, new TypeToken<LinkedHashMap<String, Integer>>() {}.getType());
    }

    /** Throws an IllegalStateException unless metadata {@code key} equals {@code expected}. */
    public void requireMeta(String key, String expected) {
        String v = metadata.get(key);
        if (!expected.equals(v)) {
            throw new IllegalStateException("checkpoint " + key + " is " + (v == null ? "missing" : "'" + v + "'") + ", this run needs '"
                    + expected + "'");
        }
    }

    /** The tensor {@code name}; throws naming the tensors present when absent. */
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("checkpoint has no tensor '" + name + "'; has " + tensors.keySet());
        return t;
    }

    /** The tensor {@code name}, which must have exactly {@code shape}. */
    public Tensor tensor(String name, int... shape) {
        Tensor t = tensor(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalStateException("checkpoint tensor '" + name + "' has shape " + Arrays.toString(t.shape()) + ", expected "
                    + Arrays.toString(shape));
        }
        return t;
    }

    /** Atomically writes this checkpoint to {@code file}, stamping {@value #KEY_FORMAT}. */
    public void save(Path file) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(KEY_FORMAT, FORMAT_VERSION);
        metadata.forEach((k, v) -> {
            if (!k.equals(KEY_FORMAT)) m.put(k, v);
        });
        Safetensors.write(file, tensors, m);
    }

    /** Loads {@code file} with tensors viewing a read-only mapping owned by {@code arena}; their values are not checked. */
    public static Checkpoint load(Path file, Arena arena) throws IOException {
        return checked(file, Safetensors.read(file, arena));
    }

    /**
     * Loads {@code file} into heap copies: the loader of every state a run uses (a model to evaluate or
     * distill from, a run to resume). A tensor holding NaN or an infinity is refused, naming it: a diverged
     * model would otherwise evaluate as all-zero metrics and resume into NaN losses.
     */
    public static Checkpoint loadCopy(Path file) throws IOException {
        Checkpoint c = checked(file, Safetensors.readCopy(file));
        kdrec.tensor.Backend be = kdrec.tensor.Backends.get();
        for (var e : c.tensors().entrySet()) {
            Tensor t = e.getValue();
            if (!be.allFinite(t.size(), t.data(), 0)) {
                throw new Safetensors.FormatException(file, "tensor '" + e.getKey() + "' holds NaN or infinite values");
            }
        }
        return c;
    }

    private static Checkpoint checked(Path file, Safetensors.Contents c) throws IOException {
        String v = c.metadata().get(KEY_FORMAT);
        if (v != null && !v.equals(FORMAT_VERSION)) {
            throw new Safetensors.FormatException(file, "checkpoint format " + v + " is not supported (this kdrec reads " + FORMAT_VERSION + ")");
        }
        return new Checkpoint(c.tensors(), c.metadata());
    }
}
