package kdrec.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import kdrec.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    private static float[] ramp(int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (i - n / 3f) * scale;
        return a;
    }

    private Map<String, Tensor> sample(Arena arena) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("user_emb", Tensor.of(ramp(6, 0.5f), 2, 3));
        MemorySegment nat = arena.allocate(5 * Float.BYTES, Float.BYTES);
        float[] nv = {Float.MIN_VALUE, -0f, Float.MAX_VALUE, Float.NaN, Float.NEGATIVE_INFINITY};
        MemorySegment.copy(nv, 0, nat, ValueLayout.JAVA_FLOAT, 0, 5);
        m.put("native.bias", Tensor.wrap(nat, 5));
        m.put("empty", Tensor.zeros(0));
        m.put("empty2d", Tensor.zeros(3, 0));
        m.put("cube", Tensor.of(ramp(8, -1.25f), 2, 2, 2));
        return m;
    }

    private static void assertSame(Map<String, Tensor> expected, Map<String, Tensor> actual) {
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()));
        for (var e : expected.entrySet()) {
            Tensor a = actual.get(e.getKey());
            assertArrayEquals(e.getValue().shape(), a.shape(), e.getKey());
            float[] x = e.getValue().toArray(), y = a.toArray();
            assertEquals(x.length, y.length);
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), e.getKey() + "[" + i + "]");
            }
        }
    }

    @Test
    void roundTripCopyAndMapped() throws IOException {
        Path f = dir.resolve("m.safetensors");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("model", "mf");
        meta.put("odd", "quote\" <html> & é \u2603");
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> t = sample(arena);
            Safetensors.write(f, t, meta);
            Safetensors.Contents c = Safetensors.readCopy(f);
            assertSame(t, c.tensors());
            assertEquals(meta, c.metadata());
            assertTrue(!c.tensors().get("cube").data().isMapped() && !c.tensors().get("cube").data().isReadOnly());
            Arena readArena = Arena.ofConfined();
            {
                Safetensors.Contents m = Safetensors.read(f, readArena);
                assertSame(t, m.tensors());
                assertEquals(List.copyOf(meta.keySet()), List.copyOf(m.metadata().keySet()));
                Tensor cube = m.tensors().get("cube");
                assertTrue(cube.data().isMapped(), "aligned F32 data should be a view of the mapping");
                assertThrows(IllegalArgumentException.class, () -> cube.set(0, 1f), "mapping is read-only");
                assertEquals(meta, Safetensors.readMetadata(f));
                readArena.close();
                assertThrows(IllegalStateException.class, () -> cube.get(0));
            }
        }
        assertEquals(Map.of(), Safetensors.readMetadata(write(Map.of("a", Tensor.zeros(1)), Map.of())));
    }

    private Path write(Map<String, Tensor> t, Map<String, String> meta) throws IOException {
        Path f = Files.createTempFile(dir, "t", ".safetensors");
        Safetensors.write(f, t, meta);
        return f;
    }

    /** The bytes of a one-tensor file, spelled out from the format description. */
    @Test
    void byteLayoutMatchesTheSpec() throws IOException {
        Path f = dir.resolve("tiny.safetensors");
        Safetensors.write(f, Map.of("x", Tensor.of(new float[] {1f, -2f}, 2)), Map.of("a", "b"));
        byte[] b = Files.readAllBytes(f);
        String json = "{\"__metadata__\":{\"a\":\"b\"},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        int padded = (json.length() + 7) / 8 * 8;
        assertEquals(8 + padded + 8, b.length);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(padded, bb.getLong(0));
        assertEquals(json + " ".repeat(padded - json.length()), new String(b, 8, padded, StandardCharsets.UTF_8));
        // 1.0f = 0x3f800000, -2.0f = 0xc0000000, little-endian
        byte[] data = java.util.Arrays.copyOfRange(b, 8 + padded, b.length);
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, (byte) 0xc0}, data);
        assertEquals(0, (8 + padded) % 8, "data section 8-byte aligned");
    }

    /** A header without padding puts the data at an odd offset: the mapped reader must copy. */
    @Test
    void readsUnalignedDataFromOtherWriters() throws IOException {
        String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}"; // 55 bytes, odd
        Path f = dir.resolve("u.safetensors");
        ByteBuffer bb = ByteBuffer.allocate(8 + json.length() + 12).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(json.length()).put(json.getBytes(StandardCharsets.US_ASCII)).putFloat(1.5f).putFloat(-3f).putFloat(7.25f);
        Files.write(f, bb.array());
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = Safetensors.read(f, arena).tensors().get("w");
            assertArrayEquals(new float[] {1.5f, -3f, 7.25f}, w.toArray());
        }
        assertArrayEquals(new float[] {1.5f, -3f, 7.25f}, Safetensors.readCopy(f).tensors().get("w").toArray());
    }

    @Test
    void failedWriteKeepsTheOldFileAndLeavesNoTempFile() throws IOException {
        Path f = dir.resolve("ckpt.safetensors");
        Safetensors.write(f, Map.of("a", Tensor.of(new float[] {1, 2, 3}, 3)));
        byte[] before = Files.readAllBytes(f);
        Arena gone = Arena.ofConfined();
        Tensor dead = Tensor.wrap(gone.allocate(16 * Float.BYTES, Float.BYTES), 4, 4);
        gone.close();
        Map<String, Tensor> bad = new LinkedHashMap<>();
        bad.put("fine", Tensor.of(new float[] {9}, 1));
        bad.put("dead", dead);
        assertThrows(IllegalStateException.class, () -> Safetensors.write(f, bad));
        assertArrayEquals(before, Files.readAllBytes(f));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList(), "no temporary file left behind");
        }
        // and a fresh target is not created at all
        Path g = dir.resolve("new.safetensors");
        assertThrows(IllegalStateException.class, () -> Safetensors.write(g, bad));
        assertTrue(Files.notExists(g));
    }

    @Test
    void writtenFilesGetANewFilesPermissionsAndKeepTheirsWhenReplaced() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path f = dir.resolve("p.safetensors"), plain = Files.writeString(dir.resolve("plain.txt"), "a file as any program makes it");
        Safetensors.write(f, Map.of("a", Tensor.zeros(1)));
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(f), "the umask's choice, not the temporary file's 0600");
        Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw----"));
        Safetensors.write(f, Map.of("a", Tensor.zeros(2)));
        assertEquals("rw-rw----", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    }

    @Test
    void badTensorNames() {
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(dir.resolve("x"), Map.of("__metadata__", Tensor.zeros(1))));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(dir.resolve("x"), Map.of("", Tensor.zeros(1))));
    }

    private Path raw(String name, String json, int dataBytes, boolean pad) throws IOException {
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        int n = pad ? (j.length + 7) / 8 * 8 : j.length;
        ByteBuffer bb = ByteBuffer.allocate(8 + n + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(n).put(j);
        while (bb.position() < 8 + n) bb.put((byte) ' ');
        Path f = dir.resolve(name);
        Files.write(f, bb.array());
        return f;
    }

    private void malformed(Path f, String expected) {
        Safetensors.FormatException e = assertThrows(Safetensors.FormatException.class, () -> Safetensors.readCopy(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "'" + e.getMessage() + "' should contain '" + expected + "'");
        try (Arena a = Arena.ofConfined()) {
            assertThrows(Safetensors.FormatException.class, () -> Safetensors.read(f, a));
        }
    }

    private static String tensor(String name, String dtype, String shape, long b, long e) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + b + "," + e + "]}";
    }

    @Test
    void malformedFiles() throws IOException {
        Path shortFile = dir.resolve("short");
        Files.write(shortFile, new byte[] {1, 2, 3});
        malformed(shortFile, "truncated");
        Path good = write(Map.of("a", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)), Map.of("k", "v"));
        byte[] g = Files.readAllBytes(good);
        Path cut = dir.resolve("cut");
        Files.write(cut, java.util.Arrays.copyOf(g, g.length - 3));
        malformed(cut, "truncated");
        Path cutHeader = dir.resolve("cutHeader");
        Files.write(cutHeader, java.util.Arrays.copyOf(g, 20));
        malformed(cutHeader, "truncated");
        Path huge = dir.resolve("huge");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array());
        malformed(huge, "not a safetensors file");
        Path yaml = dir.resolve("config.yaml"); // a run's other files given as a checkpoint
        Files.writeString(yaml, "model: mf\ndim: 64\nlayers: 3\n");
        malformed(yaml, "not a safetensors file");

        malformed(raw("json", "{\"a\": {\"dtype\": ", 0, true), "bad header JSON");
        malformed(raw("lenient", "{a:{}}", 0, true), "bad header JSON");
        malformed(raw("array", "[1,2]", 0, true), "not a JSON object");
        malformed(raw("trail", "{} {}", 0, false), "bad header JSON");
        malformed(raw("dtype", "{" + tensor("w", "BF16", "[2]", 0, 4) + "}", 4, true), "unsupported dtype BF16");
        malformed(raw("range", "{" + tensor("w", "F32", "[4]", 0, 16) + "}", 8, true), "out of range");
        malformed(raw("size", "{" + tensor("w", "F32", "[3]", 0, 16) + "}", 16, true), "needs 12");
        malformed(raw("gap", "{" + tensor("w", "F32", "[1]", 0, 4) + "," + tensor("v", "F32", "[1]", 8, 12) + "}", 12, true), "gap");
        malformed(raw("overlap", "{" + tensor("w", "F32", "[2]", 0, 8) + "," + tensor("v", "F32", "[1]", 4, 8) + "}", 8, true),
                "overlap");
        malformed(raw("trailing", "{" + tensor("w", "F32", "[1]", 0, 4) + "}", 8, true), "trailing");
        malformed(raw("rank0", "{" + tensor("w", "F32", "[]", 0, 4) + "}", 4, true), "unsupported rank 0");
        malformed(raw("rank4", "{" + tensor("w", "F32", "[1,1,1,1]", 0, 4) + "}", 4, true), "unsupported rank 4");
        malformed(raw("negative", "{" + tensor("w", "F32", "[-1]", 0, 4) + "}", 4, true), "negative");
        malformed(raw("frac", "{" + tensor("w", "F32", "[1.5]", 0, 4) + "}", 4, true), "not an integer");
        malformed(raw("meta", "{\"__metadata__\":{\"a\":1}}", 0, true), "not a string");
        malformed(raw("field", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, true), "unknown field");
        malformed(raw("noshape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, true), "shape");
        byte[] badUtf = {'{', '"', (byte) 0xff, '"', ':', '1', '}', ' '};
        Path utf = dir.resolve("utf");
        Files.write(utf, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(8).put(badUtf).array());
        malformed(utf, "UTF-8");
        // an empty header object is a valid file with nothing in it
        assertEquals(0, Safetensors.readCopy(raw("empty", "{}", 0, true)).tensors().size());
    }

    /** Cross-check with an independent reader: struct + json + numpy.frombuffer. */
    @Test
    void numpyReadsOurFiles() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(numpyAvailable(), "python3 with numpy not available: skipping the numpy cross-check");
        Path f = dir.resolve("np.safetensors");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("a", Tensor.of(new float[] {1f, -2.5f, 3.25f, 1e-30f, -7e20f, 0f}, 2, 3));
        t.put("b", Tensor.zeros(0));
        t.put("c", Tensor.of(new float[] {42f}, 1));
        Safetensors.write(f, t, Map.of("who", "kdrec"));
        String script = String.join("\n",
                "import json, struct, sys, numpy as np",
                "raw = open(sys.argv[1], 'rb').read()",
                "(n,) = struct.unpack('<Q', raw[:8])",
                "assert (8 + n) % 8 == 0",
                "h = json.loads(raw[8:8 + n])",
                "assert h['__metadata__'] == {'who': 'kdrec'}, h",
                "data = raw[8 + n:]",
                "def t(k):",
                "    b, e = h[k]['data_offsets']",
                "    assert h[k]['dtype'] == 'F32'",
                "    return np.frombuffer(data[b:e], dtype='<f4').reshape(h[k]['shape'])",
                "a = t('a')",
                "assert a.shape == (2, 3), a.shape",
                "assert np.array_equal(a, np.array([[1, -2.5, 3.25], [1e-30, -7e20, 0]], dtype=np.float32)), a",
                "assert t('b').shape == (0,)",
                "assert t('c')[0] == 42.0",
                "print('numpy-ok', a.sum(dtype=np.float64))");
        Path py = dir.resolve("check.py");
        Files.writeString(py, script);
        Process p = new ProcessBuilder("python3", py.toString(), f.toString()).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        int rc = p.waitFor();
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, text);
        assertTrue(text.startsWith("numpy-ok"), text);
    }

    private static boolean numpyAvailable() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
            p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void headerBoundsAndCoverageMessagesAreExact() throws IOException {
        // data order differs from header order: valid, and the header order is kept; a zero-size tensor sits anywhere
        Path order = raw("order", "{" + tensor("b", "F32", "[1]", 4, 8) + "," + tensor("z", "F32", "[0]", 4, 4) + ","
                + tensor("a", "F32", "[1]", 0, 4) + "}", 8, true);
        Safetensors.Contents c = Safetensors.readCopy(order);
        assertEquals(java.util.List.of("b", "z", "a"), java.util.List.copyOf(c.tensors().keySet()));
        assertEquals(0, c.tensors().get("z").size());
        Path gap = raw("gap2", "{" + tensor("w", "F32", "[1]", 0, 4) + "," + tensor("v", "F32", "[1]", 8, 12) + "}", 12, true);
        assertMessage(gap, "offsets out of range: tensor 'v' starts at byte 8 of the data section, expected 4 (gap)");
        Path overlap = raw("overlap2", "{" + tensor("w", "F32", "[2]", 0, 8) + "," + tensor("v", "F32", "[1]", 4, 8) + "}", 8, true);
        assertMessage(overlap, "offsets out of range: tensor 'v' starts at byte 4 of the data section, expected 8 (overlap)");
        assertMessage(raw("size2", "{" + tensor("w", "F32", "[3]", 4, 20) + "}", 20, true),
                "tensor 'w' has data_offsets [4, 20] (16 bytes) but shape [3] F32 needs 12");
        assertMessage(raw("backwards", "{" + tensor("w", "F32", "[1]", 8, 4) + "}", 8, true),
                "offsets out of range: tensor 'w' has data_offsets [8, 4]");
        // the 8-byte length itself: 0 cannot hold an object, the 100 MB limit is allowed (then truncated), one more is refused
        Path zero = dir.resolve("zero");
        Files.write(zero, new byte[8]);
        assertMessage(zero, "bad header JSON: header length 0 cannot hold a JSON object");
        Path limit = dir.resolve("limit");
        Files.write(limit, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Safetensors.MAX_HEADER_BYTES).array());
        assertMessage(limit, "truncated: header length 100000000 but only 8 bytes follow");
        Path over = dir.resolve("over");
        Files.write(over, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Safetensors.MAX_HEADER_BYTES + 1).array());
        assertMessage(over, "not a safetensors file (its first 8 bytes give a header length of 100000001 bytes;");
        Path seven = dir.resolve("seven");
        Files.write(seven, new byte[7]);
        assertMessage(seven, "truncated: 7 bytes, too short for the 8-byte header length");
        // "{}" unpadded is the smallest header
        assertEquals(0, Safetensors.readCopy(raw("two", "{}", 0, false)).tensors().size());
        // strict JSON as the reference reader: a raw control character inside a string is refused
        assertMessage(raw("ctl", "{\"__metadata__\":{\"a\":\"x\ty\"}}", 0, true), "bad header JSON");
    }

    private void assertMessage(Path f, String expected) {
        Safetensors.FormatException e = assertThrows(Safetensors.FormatException.class, () -> Safetensors.readCopy(f));
        assertTrue(e.getMessage().startsWith(f + ": " + expected), "'" + e.getMessage() + "' should start with '" + f + ": " + expected + "'");
    }

    @Test
    void unalignedDataIsCopiedAndLargeTensorsAreWrittenInChunks() throws IOException {
        // a header of odd length puts the data section off 4-byte alignment: read() copies instead of viewing
        String json = "{" + tensor("w", "F32", "[3]", 0, 12) + "," + tensor("v", "F32", "[2]", 12, 20) + "}";
        if (json.length() % 2 == 0) json += " ";
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bb = ByteBuffer.allocate(8 + j.length + 20).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(j.length).put(j).putFloat(1.5f).putFloat(-2f).putFloat(1e-3f).putFloat(4f).putFloat(-8f);
        Path f = dir.resolve("odd");
        Files.write(f, bb.array());
        try (Arena a = Arena.ofConfined()) {
            Safetensors.Contents mapped = Safetensors.read(f, a);
            assertArrayEquals(new float[] {1.5f, -2f, 1e-3f}, mapped.tensors().get("w").toArray());
            assertArrayEquals(new float[] {4f, -8f}, mapped.tensors().get("v").toArray(), "a tensor after the first, copied too");
            assertEquals(2, mapped.tensors().get("v").size());
        }
        // a header one byte longer than what follows the length is truncated, not read past the end
        Path shortBy1 = dir.resolve("short1");
        Files.write(shortBy1, java.util.Arrays.copyOf(bb.array(), 8 + j.length - 1));
        assertMessage(shortBy1, "truncated: header length " + j.length + " but only " + (j.length - 1) + " bytes follow");
        assertArrayEquals(new float[] {1.5f, -2f, 1e-3f}, Safetensors.readCopy(f).tensors().get("w").toArray());
        // more than one 1 MB chunk, not a multiple of it
        int n = (1 << 18) + 3;
        float[] big = new float[n];
        for (int i = 0; i < n; i++) big[i] = i * 0.5f - 7;
        Path g = dir.resolve("big.safetensors");
        Safetensors.write(g, Map.of("big", Tensor.of(big, n), "tail", Tensor.of(new float[] {9f}, 1)));
        Safetensors.Contents c = Safetensors.readCopy(g);
        assertArrayEquals(big, c.tensors().get("big").toArray());
        assertArrayEquals(new float[] {9f}, c.tensors().get("tail").toArray());
    }
}
