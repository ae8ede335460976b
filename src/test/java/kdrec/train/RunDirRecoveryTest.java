package kdrec.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import kdrec.tensor.Diagnostics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RunDir's recovery corners that mutation testing found unchecked: where a run moved aside by an
 * interrupted --overwrite goes back (and where it must not), what is said about it, and which backup
 * a new overwrite deletes. RunDirTest covers the main paths.
 */
class RunDirRecoveryTest {
    @TempDir
    Path root;

    private static Map<String, Object> config(double lr) {
        return Map.of("model", "mf", "dim", 8, "lr", lr);
    }

    /** A finished run with a checkpoint holding {@code best}. */
    private Path run(String name, double lr, String best) throws IOException {
        try (RunDir run = RunDir.open(root, name, config(lr), false, null)) {
            Files.writeString(run.file("best.safetensors"), best);
            run.completed();
            return run.path();
        }
    }

    /** {@code dir}'s run moved aside by an --overwrite killed before it made its own folder. */
    private static Path movedAside(Path dir) throws IOException {
        Path aside = RunDir.replacedPath(dir);
        Files.move(dir, aside);
        return aside;
    }

    @Test
    void aNameStartingWithNulIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> RunDir.open(root, "\0run", config(1e-3), false, null));
        assertTrue(e.getMessage().startsWith("run name must be a plain directory name"), e.getMessage());
    }

    @Test
    void theRunAsideGoesBackOverAnEmptyFolderAndSaysSo() throws IOException {
        Path dir = run("a", 1e-3, "orig");
        Path aside = movedAside(dir);
        Files.createDirectories(dir); // killed just after creating the new folder, before its config.yaml
        List<String> notices = new ArrayList<>();
        try (Diagnostics.Redirect r = Diagnostics.redirect(notices::add)) {
            RunDir.prepareParent(dir);
        }
        assertEquals("orig", Files.readString(dir.resolve("best.safetensors")), "the run is back under its name");
        assertFalse(Files.exists(aside));
        assertEquals(List.of("put back the run that an interrupted --overwrite had moved to " + aside), notices);
        notices.clear();
        try (Diagnostics.Redirect r = Diagnostics.redirect(notices::add)) {
            RunDir.prepareParent(dir);
        }
        assertEquals(List.of(), notices, "nothing to repair, nothing said");
    }

    @Test
    void theRunAsideStaysWhereTheFolderHoldsSomethingElse() throws IOException {
        Path dir = run("b", 1e-3, "orig");
        Path aside = movedAside(dir);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("notes.txt"), "mine");
        Files.writeString(dir.resolve(".notes.123456789.tmp"), "looks like a temp file of ours");
        RunDir.prepareParent(dir);
        assertEquals("orig", Files.readString(aside.resolve("best.safetensors")), "not moved over someone's files");
        assertEquals("mine", Files.readString(dir.resolve("notes.txt")));
        assertTrue(Files.exists(dir.resolve(".notes.123456789.tmp")), "temporary files are cleared only where nothing else is");
        var e = assertThrows(FileAlreadyExistsException.class, () -> RunDir.open(root, "b", config(1e-3), false, null));
        assertTrue(e.getMessage().contains("is not a kdrec run"), e.getMessage());
    }

    @Test
    void aDifferentConfigIsRefusedNamingTheRunAsideOnlyWhenThereIsOne() throws IOException {
        Path dir = run("c", 1e-3, "mine");
        var plain = assertThrows(FileAlreadyExistsException.class, () -> RunDir.open(root, "c", config(0.5), false, null));
        assertFalse(plain.getMessage().contains(".replaced"), plain.getMessage());
        Path older = run("c-older", 1e-2, "older");
        Files.move(older, RunDir.replacedPath(dir)); // an older backup waits, and the run under the name has a checkpoint
        var named = assertThrows(FileAlreadyExistsException.class, () -> RunDir.open(root, "c", config(0.5), false, null));
        assertTrue(named.getMessage().contains(RunDir.replacedPath(dir) + " holds the run an interrupted --overwrite replaced"), named.getMessage());
        assertEquals("mine", Files.readString(dir.resolve("best.safetensors")));
    }

    @Test
    void theRunPutBackAndResumedSaysSoInItsLog() throws IOException {
        Path dir = run("d", 1e-3, "orig");
        Path aside = movedAside(dir);
        Files.createDirectories(dir); // an overwrite with lr 1e-2 made its config, then died
        RunConfig.writeConfig(dir.resolve(RunDir.CONFIG_FILE), RunConfig.roundTrip(new java.util.LinkedHashMap<>(config(1e-2))));
        try (RunDir run = RunDir.open(root, "d", config(1e-3), false, null)) {
            assertTrue(run.resumed());
        }
        assertFalse(Files.exists(aside));
        assertTrue(Files.readString(dir.resolve(RunDir.LOG_FILE)).contains("put back the run that an interrupted --overwrite had moved to " + aside
                + ", and resumed it"), Files.readString(dir.resolve(RunDir.LOG_FILE)));
    }

    @Test
    void anOverwriteDeletesAnOlderBackupNotTheRunItReplaces() throws IOException {
        Path dir = run("e", 1e-3, "mine");
        Files.move(run("e-older", 1e-2, "older"), RunDir.replacedPath(dir));
        try (RunDir run = RunDir.open(root, "e", config(0.5), true, null)) {
            assertEquals("mine", Files.readString(RunDir.replacedPath(dir).resolve("best.safetensors")), "the run under the name waits aside");
            // the new run fails before its first checkpoint
        }
        assertEquals("mine", Files.readString(dir.resolve("best.safetensors")), "and comes back");
        assertFalse(Files.exists(RunDir.replacedPath(dir)), "the older backup is gone");
        // an empty backup folder is cleared the same way
        Files.createDirectories(RunDir.replacedPath(dir));
        try (RunDir run = RunDir.open(root, "e", config(0.5), true, null)) {
            Files.writeString(run.file("last.safetensors"), "new");
        }
        assertEquals("new", Files.readString(dir.resolve("last.safetensors")));
        assertFalse(Files.exists(RunDir.replacedPath(dir)));
    }

    @Test
    void anOverwriteRepeatedAfterOneCutShortStartsFromAFreshFolder() throws IOException {
        Path dir = run("f", 1e-3, "orig");
        Path aside = movedAside(dir);
        Files.createDirectories(dir); // the first --overwrite made its config and log, then died
        RunConfig.writeConfig(dir.resolve(RunDir.CONFIG_FILE), RunConfig.roundTrip(new java.util.LinkedHashMap<>(config(1e-2))));
        Files.writeString(dir.resolve(RunDir.LOG_FILE), "attempt 1\n");
        Files.writeString(dir.resolve(RunDir.METRICS_FILE), "epoch\n1\n");
        try (RunDir run = RunDir.open(root, "f", config(1e-2), true, null)) {
            assertEquals("orig", Files.readString(aside.resolve("best.safetensors")), "the original is still the run being replaced");
            assertFalse(Files.readString(run.file(RunDir.LOG_FILE)).contains("attempt 1"), "the empty attempt's log went with it");
            assertFalse(Files.exists(run.file(RunDir.METRICS_FILE)));
            run.completed();
        }
        assertFalse(Files.exists(aside));
    }
}
