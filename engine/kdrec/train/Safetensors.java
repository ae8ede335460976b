package kdrec.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kdrec.tensor.Tensor;

/**
 * The safetensors file format (https://github.com/huggingface/safetensors), float32 tensors only:
 * <pre>
 *   u64 little-endian N | N bytes of UTF-8 JSON header, space-padded | data section
 *   header: {"__metadata__": {string: string}, NAME: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
 * </pre>
 * Offsets are relative to the data section; data is little-endian, tensors packed back to back.
 *
 * <p>Writing: the header lists {@code __metadata__} first (only when there is metadata), then the
 * tensors in the map's iteration order, which is also their order in the data section; the header is
 * compact JSON padded with spaces so the data section starts 8-byte aligned. The write is atomic
 * ({@link AtomicFiles}): on failure the old file stays and no temporary file remains.
 *
 * <p>Reading validates what the reference implementation validates (header length within the file,
 * strict JSON, known fields, F32 only, rank 1..3, sizes matching shapes, tensors covering the data
 * section exactly without gaps or overlaps) and reports any problem as a {@link FormatException}
 * naming the file. {@link #read(Path, Arena)} maps the file read-only into the caller's arena and
 * returns tensors viewing the mapping (writing to them throws); a tensor whose offset is not 4-byte
 * aligned in memory, or any tensor on a big-endian machine, is copied into the arena instead.
 * {@link #readCopy(Path)} returns heap copies and keeps nothing mapped.
 */
public final class Safetensors {
    private Safetensors() {}

    /** The only dtype kdrec reads and writes. */
    public static final String F32 = "F32";
    /** Header key of the string -> string metadata map. */
    public static final String METADATA_KEY = "__metadata__";
    /** Largest header accepted (as the reference implementation: 100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int CHUNK_BYTES = 1 << 20;
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    /** A malformed or unsupported file; the message names the file and the problem. */
    public static final class FormatException extends IOException {
        public FormatException(Path file, String problem) {
            super(file + ": " + problem);
        }
    }

    /** What a file holds: tensors in header order and the metadata map (empty when absent). */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
        public Contents {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }
    }

    // ---------------------------------------------------------------- writing

    /** Atomically writes {@code tensors} (in iteration order) and {@code metadata} to {@code file}. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        byte[] header = header(tensors, metadata);
        AtomicFiles.write(file, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            AtomicFiles.writeFully(ch, len);
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_BYTES);
            MemorySegment chunkSeg = MemorySegment.ofBuffer(chunk);
            for (Tensor t : tensors.values()) writeData(ch, t, chunk, chunkSeg);
        });
    }

    /** Writes tensors without metadata. */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    /** The padded header bytes (without the length prefix). */
    static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
        JsonObject h = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject m = new JsonObject();
            metadata.forEach((k, v) -> {
                if (k == null || v == null) throw new IllegalArgumentException("safetensors metadata: null key or value (" + k + ")");
                m.addProperty(k, v);
            });
            h.add(METADATA_KEY, m);
        }
        long offset = 0;
        for (var e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty() || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("safetensors: invalid tensor name '" + name + "'");
            }
            Tensor t = e.getValue();
            JsonObject o = new JsonObject();
            o.addProperty("dtype", F32);
            JsonArray shape = new JsonArray();
            for (int d : t.shape()) shape.add(d);
            o.add("shape", shape);
            JsonArray offs = new JsonArray();
            offs.add(offset);
            offset += t.size() * Float.BYTES;
            offs.add(offset);
            o.add("data_offsets", offs);
            h.add(name, o);
        }
        byte[] json = GSON.toJson(h).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** Streams a tensor through a direct chunk, converting to little-endian floats on the way. */
    private static void writeData(FileChannel ch, Tensor t, ByteBuffer chunk, MemorySegment chunkSeg) throws IOException {
        MemorySegment src = t.data();
        long n = t.size();
        int perChunk = CHUNK_BYTES / Float.BYTES;
        for (long i = 0; i < n; i += perChunk) {
            int m = (int) Math.min(perChunk, n - i);
            MemorySegment.copy(src, ValueLayout.JAVA_FLOAT_UNALIGNED, i * Float.BYTES, chunkSeg, LE_FLOAT, 0, m);
            chunk.clear().limit(m * Float.BYTES);
            AtomicFiles.writeFully(ch, chunk);
        }
    }

    // ---------------------------------------------------------------- reading

    /** One tensor entry of a validated header. */
    private record Entry(String name, int[] shape, long begin, long end) {}

    /** A validated header: where the data section starts, the entries in header order, metadata. */
    private record Header(long dataStart, List<Entry> entries, Map<String, String> metadata) {}

    /** Opens a safetensors file; a folder or a missing file is an error naming the path. */
    private static FileChannel openForReading(Path file) throws IOException {
        if (java.nio.file.Files.isDirectory(file)) throw new FormatException(file, "is a folder, not a safetensors file");
        return FileChannel.open(file, StandardOpenOption.READ);
    }

    /**
     * Maps {@code file} read-only into {@code arena} and returns tensors viewing the mapping; they stay
     * valid until the arena closes.
     */
    public static Contents read(Path file, Arena arena) throws IOException {
        try (FileChannel ch = openForReading(file)) {
            Header h = parseHeader(file, ch);
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            boolean le = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Entry e : h.entries) {
                MemorySegment raw = all.asSlice(h.dataStart + e.begin, e.end - e.begin);
                MemorySegment seg = raw;
                if (!le || raw.address() % Float.BYTES != 0) {
                    long n = (e.end - e.begin) / Float.BYTES;
                    seg = arena.allocate(e.end - e.begin, Float.BYTES);
                    MemorySegment.copy(raw, LE_FLOAT, 0, seg, ValueLayout.JAVA_FLOAT, 0, n);
                }
                out.put(e.name, Tensor.wrap(seg, e.shape));
            }
            return new Contents(out, h.metadata);
        }
    }

    /** Reads {@code file} into heap tensors (copies); nothing stays mapped. */
    public static Contents readCopy(Path file) throws IOException {
        try (FileChannel ch = openForReading(file); Arena arena = Arena.ofConfined()) {
            Header h = parseHeader(file, ch);
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Entry e : h.entries) {
                long n = (e.end - e.begin) / Float.BYTES;
                if (n > Integer.MAX_VALUE - 8) {
                    throw new FormatException(file, "tensor '" + e.name + "' has " + n + " elements, too many for a heap copy");
                }
                float[] values = new float[(int) n];
                MemorySegment.copy(all, LE_FLOAT, h.dataStart + e.begin, values, 0, (int) n);
                out.put(e.name, Tensor.wrap(MemorySegment.ofArray(values), e.shape));
            }
            return new Contents(out, h.metadata);
        }
    }

    /** Reads only the metadata map of {@code file} (validating the whole header). */
    public static Map<String, String> readMetadata(Path file) throws IOException {
        try (FileChannel ch = openForReading(file)) {
            return Collections.unmodifiableMap(parseHeader(file, ch).metadata);
        }
    }

    private static Header parseHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) throw new FormatException(file, "truncated: " + size + " bytes, too short for the 8-byte header length");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long n = lenBuf.flip().getLong();
        // a first byte that is not a header length of a plausible size: most likely not a safetensors file at all
        // (a config.yaml or log given as --checkpoint reads as some 10^18-byte length)
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new FormatException(file, "not a safetensors file (its first 8 bytes give a header length of " + Long.toUnsignedString(n)
                    + " bytes; a checkpoint is a .safetensors file such as runs/NAME/best.safetensors)");
        }
        if (n > size - 8) throw new FormatException(file, "truncated: header length " + n + " but only " + (size - 8) + " bytes follow");
        if (n < 2) throw new FormatException(file, "bad header JSON: header length " + n + " cannot hold a JSON object");
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(ch, hb, 8);
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(hb.flip()).toString();
        } catch (CharacterCodingException e) {
            throw new FormatException(file, "bad header JSON: not valid UTF-8");
        }
        JsonObject root = parseStrict(file, json);
        long dataLen = size - 8 - n;
        Map<String, String> meta = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (var e : root.entrySet()) {
            String name = e.getKey();
            if (name.equals(METADATA_KEY)) {
                if (!e.getValue().isJsonObject()) throw new FormatException(file, "bad header JSON: __metadata__ is not an object");
                for (var m : e.getValue().getAsJsonObject().entrySet()) {
                    if (!(m.getValue() instanceof JsonPrimitive p) || !p.isString()) {
                        throw new FormatException(file, "bad header JSON: __metadata__ value of '" + m.getKey() + "' is not a string");
                    }
                    meta.put(m.getKey(), p.getAsString());
                }
            } else {
                entries.add(entry(file, name, e.getValue(), dataLen));
            }
        }
        checkCoverage(file, entries, dataLen);
        return new Header(8 + n, entries, meta);
    }

    private static JsonObject parseStrict(Path file, String json) throws FormatException {
        try {
            JsonReader r = new JsonReader(new StringReader(json));
            r.setStrictness(Strictness.STRICT);
            JsonElement el = GSON.getAdapter(JsonElement.class).read(r);
            if (r.peek() != JsonToken.END_DOCUMENT) throw new FormatException(file, "bad header JSON: content after the object");
            if (!el.isJsonObject()) throw new FormatException(file, "bad header JSON: the header is not a JSON object");
            return el.getAsJsonObject();
        } catch (FormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new FormatException(file, "bad header JSON: " + e.getMessage());
        }
    }

    private static Entry entry(Path file, String name, JsonElement v, long dataLen) throws FormatException {
        String what = "tensor '" + name + "'";
        if (!v.isJsonObject()) throw new FormatException(file, "bad header JSON: " + what + " is not an object");
        JsonObject o = v.getAsJsonObject();
        for (String k : o.keySet()) {
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw new FormatException(file, "bad header JSON: " + what + " has unknown field '" + k + "'");
            }
        }
        if (!(o.get("dtype") instanceof JsonPrimitive dt) || !dt.isString()) {
            throw new FormatException(file, "bad header JSON: " + what + " lacks a string dtype");
        }
        if (!dt.getAsString().equals(F32)) {
            throw new FormatException(file, "unsupported dtype " + dt.getAsString() + " of " + what + " (kdrec reads F32 only)");
        }
        long[] shapeL = longs(file, what, "shape", o.get("shape"), -1);
        long[] offs = longs(file, what, "data_offsets", o.get("data_offsets"), 2);
        if (shapeL.length < 1 || shapeL.length > 3) {
            throw new FormatException(file, "unsupported rank " + shapeL.length + " of " + what + " (kdrec tensors have rank 1 to 3)");
        }
        int[] shape = new int[shapeL.length];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shapeL[i] > Integer.MAX_VALUE) throw new FormatException(file, what + " has dimension " + shapeL[i] + ", too large");
            shape[i] = (int) shapeL[i];
            numel = multiply(file, what, numel, shapeL[i]);
        }
        long bytes = multiply(file, what, numel, Float.BYTES);
        long begin = offs[0], end = offs[1];
        if (begin > end) throw new FormatException(file, "offsets out of range: " + what + " has data_offsets [" + begin + ", " + end + "]");
        if (end > dataLen) {
            throw new FormatException(file, "offsets out of range (truncated file?): " + what + " ends at byte " + end
                    + " of a data section of " + dataLen + " bytes");
        }
        if (end - begin != bytes) {
            throw new FormatException(file, what + " has data_offsets [" + begin + ", " + end + "] (" + (end - begin)
                    + " bytes) but shape " + Arrays.toString(shape) + " F32 needs " + bytes);
        }
        return new Entry(name, shape, begin, end);
    }

    private static long multiply(Path file, String what, long a, long b) throws FormatException {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new FormatException(file, what + " is too large (size overflows)");
        }
    }

    private static long[] longs(Path file, String what, String field, JsonElement v, int expectLen) throws FormatException {
        if (v == null || !v.isJsonArray()) throw new FormatException(file, "bad header JSON: " + what + " lacks the array '" + field + "'");
        JsonArray a = v.getAsJsonArray();
        if (expectLen >= 0 && a.size() != expectLen) {
            throw new FormatException(file, "bad header JSON: " + what + " '" + field + "' has " + a.size() + " entries, expected " + expectLen);
        }
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement x = a.get(i);
            long val;
            try {
                if (!(x instanceof JsonPrimitive p) || !p.isNumber()) throw new NumberFormatException();
                val = p.getAsBigDecimal().longValueExact();
            } catch (NumberFormatException | ArithmeticException e) {
                throw new FormatException(file, "bad header JSON: " + what + " '" + field + "' holds " + x + ", not an integer");
            }
            if (val < 0) throw new FormatException(file, "bad header JSON: " + what + " '" + field + "' holds negative " + val);
            out[i] = val;
        }
        return out;
    }

    /** Tensors must tile the data section exactly: no gap, no overlap, no trailing bytes. */
    private static void checkCoverage(Path file, List<Entry> entries, long dataLen) throws FormatException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        for (Entry e : sorted) {
            if (e.begin != at) {
                throw new FormatException(file, "offsets out of range: tensor '" + e.name + "' starts at byte " + e.begin
                        + " of the data section, expected " + at + (e.begin < at ? " (overlap)" : " (gap)"));
            }
            at = e.end;
        }
        if (at != dataLen) {
            throw new FormatException(file, "data section has " + dataLen + " bytes but the tensors cover " + at + " (trailing bytes)");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) throw new IOException("unexpected end of file");
            pos += r;
        }
    }
}
