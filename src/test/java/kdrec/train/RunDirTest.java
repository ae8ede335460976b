package kdrec.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        }
        FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class, () -> RunDir.open(root, "r", config(1e-2), false, null));
        assertTrue(e.getMessage().contains("lr: 0.001 -> 0.01"), e.getMessage());
        try (RunDir run = RunDir.open(root, "r", config(1e-2), true, null)) {
            assertFalse(run.resumed());
            assertFalse(Files.exists(run.file("log")) && !Files.readString(run.file("log")).isEmpty(), "old log deleted");
            assertTrue(Files.readString(run.file("config.yaml")).contains("lr: 0.01\n"));
        }
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
        assertEquals("alpha: x\nmid: 2.5\nzeta: 1\n", RunDir.toYaml(h));
        Path f = root.resolve("c.yaml");
        RunDir.writeConfig(f, h);
        assertEquals(Map.of("alpha", "x", "mid", 2.5, "zeta", 1), RunDir.readConfig(f));
        try (Stream<Path> s = Files.list(root)) {
            assertEquals(List.of(f), s.toList());
        }
        Files.writeString(f, "- a list\n");
        assertThrows(IOException.class, () -> RunDir.readConfig(f));
    }
}
