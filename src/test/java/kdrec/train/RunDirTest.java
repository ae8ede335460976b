package kdrec.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import kdrec.eval.Metrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirTest {
    @TempDir
    Path root;

    enum Kind { MF }

    private static Map<String, Object> config(double lr) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", "mf");
        m.put("dim", 64);
        m.put("seed", 0L);
        m.put("lr", lr);
        m.put("weight_decay", 1e-4f);
        m.put("lazy_adam", false);
        m.put("kind", Kind.MF);
        m.put("cutoffs", new int[] {10, 20});
        m.put("teacher", Map.of("path", "runs/t/best.safetensors"));
        return m;
    }

    private static final String YAML = """
            model: mf
            dim: 64
            seed: 0
            lr: 0.001
            weight_decay: 1.0E-4
            lazy_adam: false
            kind: MF
            cutoffs:
            - 10
            - 20
            teacher:
              path: runs/t/best.safetensors
            """;

    @Test
    void createLogMetricsAndResume() throws IOException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(console, true, StandardCharsets.UTF_8);
        try (RunDir run = RunDir.open(root, "mf-cite", config(1e-3), false, ps)) {
            assertFalse(run.resumed());
            assertEquals(root.resolve("mf-cite"), run.path());
            assertEquals(YAML, Files.readString(run.file(RunDir.CONFIG_FILE)));
            run.log().line("epoch 1/2");
            run.log().printf("loss %.3f", 1.5);
            run.metricsCsv().append(1, Metrics.of("ndcg@10", 0.25));
            run.completed(); // else a run holding only its config, log and metrics counts as a failed start
        }
        assertEquals("epoch 1/2\nloss 1.500\n", console.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n"));
        try (RunDir run = RunDir.open(root, "mf-cite", config(1e-3), false, null)) {
            assertTrue(run.resumed());
            run.log().line("resumed");
            run.metricsCsv().append(2, Metrics.of("ndcg@10", 0.5));
        }
        Path dir = root.resolve("mf-cite");
        assertEquals(List.of("epoch 1/2", "loss 1.500", "resumed"), Files.readAllLines(dir.resolve("log")));
        assertEquals(List.of("epoch,ndcg@10", "1,0.25", "2,0.5"), Files.readAllLines(dir.resolve("metrics.csv")));
        assertEquals(YAML, Files.readString(dir.resolve("config.yaml")), "resume does not rewrite config.yaml");
    }

    @Test
    void differentConfigIsRefusedUnlessOverwriting() throws IOException {
        try (RunDir run = RunDir.open(root, "r", config(1e-3), false, null)) {
            run.log().line("old");
            run.completed();
        }
        FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class, () -> RunDir.open(root, "r", config(1e-2), false, null));
        assertTrue(e.getMessage().contains("lr: 0.001 -> 0.01"), e.getMessage());
        try (RunDir run = RunDir.open(root, "r", config(1e-2), true, null)) {
            assertFalse(run.resumed());
            assertFalse(Files.exists(run.file("log")) && !Files.readString(run.file("log")).isEmpty(), "old log deleted");
            assertTrue(Files.readString(run.file("config.yaml")).contains("lr: 0.01\n"));
            run.completed();
        }
        assertFalse(Files.exists(RunDir.replacedPath(root.resolve("r"))), "the replaced run is gone once the new one completed");
    }

    @Test
    void aFailedStartLeavesNothingBehind() throws IOException {
        try (RunDir run = RunDir.open(root, "f", config(1e-3), false, null)) {
            run.log().line("data: ...");
            run.metricsCsv(); // opened, empty
            // a setting only the method checks fails here: no completed(), no checkpoint
        }
        assertFalse(Files.exists(root.resolve("f")), "a run that failed before holding anything is deleted");
        try (RunDir run = RunDir.open(root, "f", config(1e-2), false, null)) { // so a corrected rerun is not refused
            assertFalse(run.resumed());
            Files.writeString(run.file("last.safetensors"), "x"); // an epoch's checkpoint, then a NaN stops the run
        }
        assertTrue(Files.isRegularFile(root.resolve("f").resolve("last.safetensors")), "a run that trained something stays, resumable");
        try (RunDir run = RunDir.open(root, "f", config(1e-2), false, null)) {
            assertTrue(run.resumed());
        }
        assertTrue(Files.isRegularFile(root.resolve("f").resolve("config.yaml")), "a resumed run is never deleted, even when it failed again");
    }

    /** A finished run named {@code name} whose best.safetensors holds {@code best}. */
    private Path finishedRun(String name, String best) throws IOException {
        try (RunDir run = RunDir.open(root, name, config(1e-3), false, null)) {
            Files.writeString(run.file("best.safetensors"), best);
            run.completed();
            return run.path();
        }
    }

    /** A finished run named {@code name}, then an --overwrite of it (lr 1e-2) killed before its first checkpoint. */
    private Path cutShortOverwriteOf(String name, String best) throws IOException {
        Path dir = finishedRun(name, best);
        overwriteCutShort(dir, config(1e-2));
        return dir;
    }

    /** The state an --overwrite with {@code config} leaves when killed before its first checkpoint. */
    private static void overwriteCutShort(Path dir, Map<String, Object> config) throws IOException {
        Files.move(dir, RunDir.replacedPath(dir));
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(RunDir.CONFIG_FILE), RunConfig.toYaml(config));
    }

    @Test
    void overwriteLosesNothingUntilTheNewRunHoldsSomething() throws IOException {
        Path dir = finishedRun("o", "good"), aside = RunDir.replacedPath(dir);
        try (RunDir run = RunDir.open(root, "o", config(1e-2), true, null)) {
            assertTrue(Files.isRegularFile(aside.resolve("best.safetensors")), "the old run waits aside while the new one starts");
            assertFalse(Files.exists(run.file("best.safetensors")));
            // the new run's method rejects a setting: it fails before training
        }
        assertEquals("good", Files.readString(dir.resolve("best.safetensors")), "the overwritten run is back");
        assertTrue(Files.readString(dir.resolve("config.yaml")).contains("lr: 0.001\n"));
        assertFalse(Files.exists(aside));
        try (RunDir run = RunDir.open(root, "o", config(1e-2), true, null)) {
            Files.writeString(run.file("last.safetensors"), "new"); // it trained an epoch, then crashed
        }
        assertEquals("new", Files.readString(dir.resolve("last.safetensors")));
        assertFalse(Files.exists(dir.resolve("best.safetensors")));
        assertFalse(Files.exists(aside), "once the new run holds a checkpoint the old one is deleted");
        // a backup an interrupted overwrite left behind is replaced; anything else there is refused
        Files.createDirectories(aside);
        Files.writeString(aside.resolve(RunDir.CONFIG_FILE), "lr: 1\n");
        try (RunDir run = RunDir.open(root, "o", config(1e-3), true, null)) {
            run.completed();
        }
        assertFalse(Files.exists(aside));
        Files.createDirectories(aside);
        Files.writeString(aside.resolve("thesis.tex"), "precious");
        assertThrows(FileAlreadyExistsException.class, () -> RunDir.open(root, "o", config(1e-2), true, null));
        assertEquals("precious", Files.readString(aside.resolve("thesis.tex")));
        assertTrue(Files.isRegularFile(dir.resolve(RunDir.CONFIG_FILE)), "the run stays where it was");
    }

    @Test
    void resumingAnOverwriteACrashInterruptedSettlesItAndRemovesStrayTempFiles() throws IOException {
        // what a kill -9 during an --overwrite leaves: the new run's bookkeeping, the old run aside, a half-written checkpoint
        Path dir = cutShortOverwriteOf("c", "old"), aside = RunDir.replacedPath(dir);
        Files.writeString(dir.resolve(".last.safetensors.8843536738801057562.tmp"), "half");
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (RunDir run = RunDir.open(root, "c", config(1e-2), false, new PrintStream(console, true, StandardCharsets.UTF_8))) {
            assertTrue(run.resumed());
            assertFalse(Files.exists(dir.resolve(".last.safetensors.8843536738801057562.tmp")), "the crash's temp file is gone");
            assertTrue(Files.isDirectory(aside), "the old run waits while the resumed one holds nothing");
            // the resumed run fails again before its first checkpoint
        }
        String out = console.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("removed 1 temporary file") && out.contains("interrupted --overwrite"), out);
        assertEquals("old", Files.readString(dir.resolve("best.safetensors")), "the overwritten run is back");
        assertFalse(Files.exists(aside));
        // again, and this time the resumed run writes a checkpoint: the old run is deleted
        overwriteCutShort(dir, config(1e-2));
        Files.writeString(dir.resolve(".notes.tmp"), "not a temp file of ours: no digits");
        try (RunDir run = RunDir.open(root, "c", config(1e-2), false, null)) {
            assertTrue(Files.exists(dir.resolve(".notes.tmp")));
            Files.writeString(run.file("last.safetensors"), "new");
        }
        assertEquals("new", Files.readString(dir.resolve("last.safetensors")));
        assertFalse(Files.exists(aside));
    }

    @Test
    void aCrashAtAnyStepOfAnOverwriteLosesNothing() throws IOException {
        // the same --overwrite run again after it was cut short: the original stays the run being replaced
        Path dir = cutShortOverwriteOf("k", "orig"), aside = RunDir.replacedPath(dir);
        try (RunDir run = RunDir.open(root, "k", config(1e-2), true, null)) {
            assertEquals("orig", Files.readString(aside.resolve("best.safetensors")), "not replaced by the empty attempt");
            // and this attempt fails early too
        }
        assertEquals("orig", Files.readString(dir.resolve("best.safetensors")));
        assertFalse(Files.exists(aside));
        // killed between moving the old run aside and creating the new folder: the next open puts it back
        Files.move(dir, aside);
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (RunDir run = RunDir.open(root, "k", config(1e-3), false, new PrintStream(console, true, StandardCharsets.UTF_8))) {
            assertTrue(run.resumed(), "the original run, back under its name, resumes");
        }
        assertTrue(console.toString(StandardCharsets.UTF_8).contains("put back"), console.toString(StandardCharsets.UTF_8));
        assertEquals("orig", Files.readString(dir.resolve("best.safetensors")));
        // killed while a fresh run's config.yaml was being written: only its temporary file is there
        Path fresh = Files.createDirectories(root.resolve("f"));
        Files.writeString(fresh.resolve(".config.yaml.123456789.tmp"), "half");
        try (RunDir run = RunDir.open(root, "f", config(1e-3), false, null)) {
            run.completed();
        }
        assertTrue(Files.isRegularFile(fresh.resolve(RunDir.CONFIG_FILE)));
        // killed while a discarded run was being deleted: the leftover goes at the next open
        Path trash = Files.createDirectories(RunDir.discardedPath(dir));
        Files.writeString(trash.resolve("log"), "x");
        try (RunDir run = RunDir.open(root, "k", config(1e-3), false, null)) {
            assertFalse(Files.exists(trash));
        }
    }

    @Test
    void recoveryCornersAReviewFound() throws IOException {
        // the run an --overwrite with other settings was replacing, asked for again after that overwrite was cut short
        Path dir = cutShortOverwriteOf("r", "orig"), aside = RunDir.replacedPath(dir);
        try (RunDir run = RunDir.open(root, "r", config(1e-3), false, null)) {
            assertTrue(run.resumed(), "the original comes back and resumes");
            assertEquals("orig", Files.readString(run.file("best.safetensors")));
        }
        assertFalse(Files.exists(aside));
        // prepareParent repairs before a caller's "already holds a run" check: the moved-aside run is back in place
        Files.move(dir, aside);
        RunDir.prepareParent(dir);
        assertTrue(Files.isRegularFile(dir.resolve(RunDir.CONFIG_FILE)) && !Files.exists(aside));
        // a half-deleted replaced run (its discard cut short) is cleared
        Path halfGone = Files.createDirectories(RunDir.discardedPath(aside));
        Files.writeString(halfGone.resolve("last.safetensors"), "old");
        RunDir.prepareParent(dir);
        assertFalse(Files.exists(halfGone));
        // a sub-run folder left empty (a compare run discarded) is nothing of the run's own: the replaced run comes back
        try (RunDir run = RunDir.open(root, "r", config(1e-2), true, null)) {
            Files.createDirectories(run.file("runs").resolve("ce"));
        }
        assertEquals("orig", Files.readString(dir.resolve("best.safetensors")), "the overwritten run is back");
    }

    @Test
    void resumeAcceptsAnotherSpellingOfTheSameFile() throws IOException {
        Path teacher = Files.writeString(root.resolve("t.safetensors"), "x");
        String relative = Path.of("").toAbsolutePath().relativize(teacher.toAbsolutePath()).toString();
        Map<String, Object> first = new LinkedHashMap<>(config(1e-3)), again = new LinkedHashMap<>(config(1e-3));
        first.put("teacher", relative);
        first.put("data", new LinkedHashMap<>(Map.of("spec", relative)));
        again.put("teacher", teacher.toAbsolutePath().toString());
        again.put("data", new LinkedHashMap<>(Map.of("spec", teacher.toAbsolutePath().toString())));
        try (RunDir run = RunDir.open(root, "p", first, false, null)) {
            Files.writeString(run.file("last.safetensors"), "ckpt");
        }
        try (RunDir run = RunDir.open(root, "p", again, false, null)) {
            assertTrue(run.resumed(), "the same file written another way");
        }
        Path folder = Files.createDirectories(root.resolve("data"));
        Map<String, Object> a = new LinkedHashMap<>(Map.of("spec", folder + "/")), b = new LinkedHashMap<>(Map.of("spec", folder.toString()));
        assertEquals(b, RunConfig.sameFilesAs(a, b), "a folder written with and without its trailing slash");
        Path other = Files.writeString(root.resolve("u.safetensors"), "y");
        again.put("teacher", other.toString());
        FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class, () -> RunDir.open(root, "p", again, false, null));
        assertTrue(e.getMessage().contains("teacher"), e.getMessage());
    }

    @Test
    void neverDeletesSomethingThatIsNotARun() throws IOException {
        Path other = root.resolve("notes");
        Files.createDirectories(other);
        Files.writeString(other.resolve("thesis.tex"), "precious");
        assertThrows(FileAlreadyExistsException.class, () -> RunDir.open(root, "notes", config(1e-3), true, null));
        assertEquals("precious", Files.readString(other.resolve("thesis.tex")));
        Files.createDirectories(root.resolve("empty"));
        try (RunDir run = RunDir.open(root, "empty", config(1e-3), false, null)) {
            assertFalse(run.resumed());
        }
        for (String bad : new String[] {"", "..", ".", "a/b", " "}) {
            assertThrows(IllegalArgumentException.class, () -> RunDir.open(root, bad, config(1e-3), false, null), bad);
        }
    }

    @Test
    void unorderedMapsAreSortedAndConfigWritesAreAtomic() throws IOException {
        Map<String, Object> h = new HashMap<>();
        h.put("zeta", 1);
        h.put("alpha", "x");
        h.put("mid", 2.5);
        assertEquals("alpha: x\nmid: 2.5\nzeta: 1\n", RunConfig.toYaml(h));
        Path f = root.resolve("c.yaml");
        RunConfig.writeConfig(f, h);
        assertEquals(Map.of("alpha", "x", "mid", 2.5, "zeta", 1), RunConfig.readConfig(f));
        try (Stream<Path> s = Files.list(root)) {
            assertEquals(List.of(f), s.toList());
        }
        Files.writeString(f, "- a list\n");
        assertThrows(IOException.class, () -> RunConfig.readConfig(f));
    }

    @Test
    void configValuesOfEveryTypeAreNormalizedAndDifferencesListed() throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("f", 0.1f);
        m.put("inf", Float.POSITIVE_INFINITY);
        m.put("b", (byte) 3);
        m.put("s", (short) -4);
        m.put("big", new java.math.BigDecimal("1.50"));
        m.put("none", null);
        m.put("list", List.of(1.5f, Kind.MF));
        m.put("arr", new long[] {7L});
        m.put("path", Path.of("a", "b"));
        Map<String, Object> nested = new HashMap<>();
        nested.put("z", 1);
        nested.put("a", List.of());
        m.put("nested", nested);
        Map<String, Object> n = RunConfig.normalizeMap(m);
        assertEquals(0.1, n.get("f"), "a float through its shortest decimal");
        assertEquals(Double.POSITIVE_INFINITY, n.get("inf"));
        assertEquals(3, n.get("b"));
        assertEquals(-4, n.get("s"));
        assertEquals("1.50", n.get("big"));
        assertTrue(n.containsKey("none") && n.get("none") == null);
        assertEquals(List.of(1.5, "MF"), n.get("list"));
        assertEquals(List.of(7L), n.get("arr"));
        assertEquals("a" + java.io.File.separator + "b", n.get("path"));
        assertEquals(List.of("a", "z"), List.copyOf(((Map<?, ?>) n.get("nested")).keySet()), "an unordered nested map is sorted");
        assertEquals(List.of("f", "inf", "b", "s", "big", "none", "list", "arr", "path", "nested"), List.copyOf(n.keySet()));
        Map<String, Object> tree = new java.util.TreeMap<>(java.util.Comparator.<String>reverseOrder());
        tree.put("a", 1);
        tree.put("b", 2);
        assertEquals(List.of("b", "a"), List.copyOf(RunConfig.normalizeMap(tree).keySet()), "a sequenced map keeps its own order");
        // reading back: an empty file is no settings; a scalar or a broken file is an error naming the file
        Path f = root.resolve("c.yaml");
        Files.writeString(f, "");
        assertEquals(Map.of(), RunConfig.readConfig(f));
        Files.writeString(f, "just text\n");
        var scalar = assertThrows(IOException.class, () -> RunConfig.readConfig(f));
        assertEquals(f + ": expected a YAML mapping of settings", scalar.getMessage());
        Files.writeString(f, "a: [1\n");
        var broken = assertThrows(IOException.class, () -> RunConfig.readConfig(f));
        assertTrue(broken.getMessage().startsWith(f + ": not valid YAML: "), broken.getMessage());
        Files.writeString(f, "1: x\n");
        assertEquals(Map.of("1", "x"), RunConfig.readConfig(f), "keys are read as text");
        // differences: null when it would resume; else every changed, added and dropped key
        Map<String, Object> was = new LinkedHashMap<>(Map.of("dim", 64));
        was.put("lr", 1e-3);
        was.put("old", "x");
        RunConfig.writeConfig(f, was);
        Map<String, Object> same = new LinkedHashMap<>();
        same.put("dim", 64L);
        same.put("lr", 1e-3f);
        same.put("old", "x");
        assertNull(RunConfig.differences(f, same), "64 and 64L, 1e-3 and 1e-3f are the same setting");
        Map<String, Object> now = new LinkedHashMap<>();
        now.put("dim", 32);
        now.put("lr", 1e-3);
        now.put("new", true);
        assertEquals("dim: 64 -> 32, old: x in the existing run, not set now, new: not in the existing run, now true", RunConfig.differences(f, now));
        Map<String, Object> reordered = new LinkedHashMap<>();
        reordered.put("lr", 1e-3);
        reordered.put("dim", 64);
        reordered.put("old", "x");
        assertNull(RunConfig.differences(f, reordered), "map equality ignores the order");
        assertEquals("key order or types differ", RunConfig.describeDifferences(Map.of("a", 1), Map.of("a", 1)));
        // a long value stays on one line, nested maps indent by two
        String words = "a long teacher description with many words that would be folded at eighty columns otherwise, twice over";
        Map<String, Object> text = new LinkedHashMap<>();
        text.put("note", words);
        text.put("teacher", new LinkedHashMap<>(Map.of("path", "t")));
        assertEquals("note: " + words + "\nteacher:\n  path: t\n", RunConfig.toYaml(text));
    }

    @Test
    void atomicWritesReplaceWholeFilesAndCleanUpAfterThemselves() throws IOException {
        assertTrue(AtomicFiles.isStray(".last.safetensors.123.tmp"));
        assertTrue(AtomicFiles.isStray(".a.9.tmp"));
        for (String not : new String[] {"last.safetensors.123.tmp", ".a.tmp", ".a.x1.tmp", ".a.1.tmp~", "..1.tmp", "log"}) {
            assertFalse(AtomicFiles.isStray(not), not);
        }
        Path d = Files.createDirectories(root.resolve("strays"));
        Files.writeString(d.resolve(".m.csv.42.tmp"), "half");
        Files.writeString(d.resolve(".x.7.tmp"), "half");
        Files.writeString(d.resolve("keep.tmp"), "mine");
        Files.createDirectories(d.resolve(".dir.5.tmp"));
        assertEquals(2, AtomicFiles.removeStrays(d));
        try (Stream<Path> s = Files.list(d)) {
            assertEquals(List.of(".dir.5.tmp", "keep.tmp"), s.map(p -> p.getFileName().toString()).sorted().toList(), "only stray files go");
        }
        assertEquals(0, AtomicFiles.removeStrays(d));
        // a write into a folder that does not exist yet creates it; a second write replaces the content whole
        Path target = root.resolve("new").resolve("deeper").resolve("f.txt");
        AtomicFiles.writeString(target, "first, longer content");
        AtomicFiles.writeString(target, "second");
        assertEquals("second", Files.readString(target));
        // a failing body leaves the old file and no temporary file
        IOException boom = new IOException("disk full");
        var e = assertThrows(IOException.class, () -> AtomicFiles.write(target, ch -> {
            AtomicFiles.writeFully(ch, java.nio.ByteBuffer.wrap("partial".getBytes(StandardCharsets.UTF_8)));
            throw boom;
        }));
        assertTrue(e == boom);
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, ch -> {
            throw new IllegalStateException("bug");
        }));
        assertEquals("second", Files.readString(target));
        try (Stream<Path> s = Files.list(target.getParent())) {
            assertEquals(List.of("f.txt"), s.map(p -> p.getFileName().toString()).toList());
        }
        // a replaced file keeps its permissions; a new one gets rw for everyone less the umask, not owner-only
        if (Files.getFileStore(root).supportsFileAttributeView("posix")) {
            var perms = java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----");
            Files.setPosixFilePermissions(target, perms);
            AtomicFiles.writeString(target, "third");
            assertEquals(perms, Files.getPosixFilePermissions(target));
            Path fresh = root.resolve("fresh.txt");
            AtomicFiles.writeString(fresh, "x");
            Path plain = Files.writeString(root.resolve("plain.txt"), "x");
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(fresh), "as any new file here");
        }
    }

    @Test
    void aSubRunWithContentKeepsItsParentAndFilesInTheWayAreRefused() throws IOException {
        // a compare run holds sub-runs: a sub-folder with a checkpoint is content, an empty (discarded) one is not
        try (RunDir run = RunDir.open(root, "cmp", config(1e-3), false, null)) {
            Path sub = Files.createDirectories(run.path().resolve("teacher").resolve("inner"));
            Files.writeString(sub.resolve("best.safetensors"), "w");
        }
        assertTrue(Files.isRegularFile(root.resolve("cmp").resolve("teacher").resolve("inner").resolve("best.safetensors")),
                "a failed run whose sub-run trained something stays");
        try (RunDir run = RunDir.open(root, "hollow", config(1e-3), false, null)) {
            Files.createDirectories(run.path().resolve("teacher").resolve("inner"));
            Files.writeString(run.path().resolve(".last.safetensors.7.tmp"), "half");
        }
        assertFalse(Files.exists(root.resolve("hollow")), "empty sub-folders and temporary files are nothing of its own");
        assertFalse(Files.exists(root.resolve(".hollow.discarded")), "and the discarded folder is gone, not left aside");
        // prepareParent: the folder a run lives in, created; a file where a folder must be is refused
        Path out = root.resolve("a").resolve("b").resolve("run");
        assertEquals(root.resolve("a").resolve("b").toAbsolutePath().normalize(), RunDir.prepareParent(out));
        assertTrue(Files.isDirectory(root.resolve("a").resolve("b")));
        assertFalse(Files.exists(out), "the run folder itself is left to open()");
        Path file = Files.writeString(root.resolve("plain"), "x");
        var self = assertThrows(IllegalArgumentException.class, () -> RunDir.prepareParent(file));
        assertEquals("run folder " + file + ": " + file.toAbsolutePath().normalize() + " is a file, not a folder", self.getMessage());
        Path under = file.resolve("run");
        var parent = assertThrows(IllegalArgumentException.class, () -> RunDir.prepareParent(under));
        assertEquals("run folder " + under + ": " + file.toAbsolutePath().normalize() + " is a file, not a folder", parent.getMessage());
        var top = assertThrows(IllegalArgumentException.class, () -> RunDir.prepareParent(root.getRoot()));
        assertTrue(top.getMessage().contains("not the file system root"), top.getMessage());
    }
}
