package kdrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flag value refused after parsing (out of range, not an allowed name, malformed) answers as picocli's own
 * refusals do: one line with the usage hint and exit 2, before a run starts; data and file failures stay exit 1.
 * A misspelt {@code -Dkdrec.backend} is refused as early, before any command runs.
 */
class FlagValuesTest {
    static final String DATA = "synthetic:users=30,items=20,per_user=5,seed=3";

    @TempDir
    static Path dir;

    static Path teacher;

    @BeforeAll
    static void trainTeacher() {
        assertEquals(0, CompareCommandTest.run("train", "--data", DATA, "--dim", "4", "--epochs", "1", "--out", dir.resolve("t").toString()).code());
        teacher = dir.resolve("t").resolve("best.safetensors");
    }

    private static void assertUsageError(String fragment, String... args) {
        CompareCommandTest.Result r = CompareCommandTest.run(args);
        String cmd = "kdrec " + args[0];
        assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.err().startsWith(cmd + ": ") && r.err().strip().endsWith("; see '" + cmd + " --help'"), r.err());
        assertTrue(r.err().contains(fragment), "says '" + fragment + "': " + r.err());
        assertFalse(r.out().contains("data:"), "refused before a run starts: " + r.out());
    }

    private static String[] withTeacher(String command, String... extra) {
        List<String> a = new ArrayList<>(List.of(command, "--data", DATA, "--teacher", teacher.toString(), "--dim", "4", "--epochs", "1"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void trainFlagValuesAreUsageErrors() {
        String out = dir.resolve("r").toString();
        assertUsageError("epochs must be a positive integer, got -1", "train", "--data", DATA, "--epochs", "-1", "--out", out);
        assertUsageError("dim must be a positive integer, got 0", "train", "--data", DATA, "--dim", "0", "--out", out);
        assertUsageError("--device must be one of cpu, cuda, got 'tpu'", "train", "--data", DATA, "--device", "tpu", "--out", out);
        assertUsageError("--set expects key=value, got 'lr'", "train", "--data", DATA, "--set", "lr", "--out", out);
        assertUsageError("--set: unknown setting 'dimension'", "train", "--data", DATA, "--set", "dimension=3", "--out", out);
        assertUsageError("unknown preset 'ml-1m'", "train", "--data", DATA, "--preset", "ml-1m", "--out", out);
        assertUsageError("epochs must be a positive integer, got 0", "train", "--data", DATA, "--preset", "gowalla", "--epochs", "0", "--out", out);
        assertUsageError("--resume and --overwrite exclude each other", "train", "--data", DATA, "--resume", "--overwrite", "--out", out);
        assertUsageError("--kcore-users must be >= 0 (0 = off), got -1", "train", "--data", DATA, "--kcore-users", "-1", "--out", out);
        assertUsageError("--min-rating must be a finite number, got NaN", "train", "--data", DATA, "--min-rating", "NaN", "--out", out);
        assertUsageError("--device must be one of cpu, cuda", "eval", "--data", DATA, "--checkpoint", teacher.toString(), "--device", "tpu");
        assertFalse(Files.exists(dir.resolve("r")), "no run folder");
    }

    @Test
    void aSettingsFileKeepsExitOne() throws Exception {
        Path yaml = Files.writeString(dir.resolve("bad.yaml"), "epochs: -1\n");
        CompareCommandTest.Result r = CompareCommandTest.run("train", "--data", DATA, "--config", yaml.toString(), "--out", dir.resolve("y").toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains(yaml + ": epochs must be a positive integer, got -1") && !r.err().contains("--help"), r.err());
        CompareCommandTest.Result missing = CompareCommandTest.run("train", "--data", dir.resolve("none.csv").toString(), "--out", dir.resolve("y").toString());
        assertEquals(1, missing.code(), missing.err());
    }

    @Test
    void distillAndCompareFlagValuesAreUsageErrors() {
        String out = dir.resolve("d").toString();
        assertUsageError("lambda must be a finite number >= 0, got -1.0", withTeacher("distill", "--method", "ce", "--lambda", "-1", "--out", out));
        assertUsageError("ce.lambda must be a finite number, got 'NaN'", withTeacher("distill", "--method", "ce", "--lambda", "NaN", "--out", out));
        assertUsageError("dim must be a positive integer, got 0", "distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "ce", "--dim", "0", "--out", out);
        assertUsageError("unknown KD method 'magic'", withTeacher("distill", "--method", "magic", "--out", out));
        assertUsageError("--methods: an empty method name in 'scratch,ce,'", withTeacher("compare", "--methods", "scratch,ce,", "--out", out));
        assertUsageError("--seeds must be >= 1, got 0", withTeacher("compare", "--methods", "scratch,ce", "--seeds", "0", "--out", out));
        assertUsageError("lambda must be a finite number >= 0", withTeacher("compare", "--methods", "scratch,ce", "--set", "ce.lambda=-2", "--out", out));
        assertFalse(Files.exists(dir.resolve("d")), "no run folder");
    }

    @Test
    void methodSettingsAreRefusedBeforeTheDataLoads() {
        // the data file does not exist: a bad method value must be what is reported, so it was checked first
        String out = dir.resolve("d").toString(), none = dir.resolve("none.csv").toString(), t = teacher.toString();
        assertUsageError("lambda must be a finite number >= 0, got -1.0", "distill", "--data", none, "--teacher", t, "--method", "ce", "--lambda", "-1", "--out", out);
        assertUsageError("unknown KD method 'magic'", "distill", "--data", none, "--teacher", t, "--method", "magic", "--out", out);
        assertUsageError("lambda must be a finite number >= 0", "compare", "--data", none, "--teacher", t, "--methods", "scratch,ce", "--set", "ce.lambda=-2", "--out", out);
    }

    @Test
    void anUnknownBackendIsRefusedBeforeAnyCommandRuns() {
        System.setProperty("kdrec.backend", "xyz");
        try {
            for (String[] args : new String[][] {{"data", "stats", "--data", DATA}, {"info"}}) {
                CompareCommandTest.Result r = CompareCommandTest.run(args);
                assertEquals(2, r.code(), r.err());
                assertEquals("kdrec: kdrec.backend must be one of scalar, panama, cuda, got 'xyz'", r.err().strip());
                assertEquals("", r.out(), "nothing printed before");
            }
        } finally {
            System.clearProperty("kdrec.backend");
        }
    }
}
