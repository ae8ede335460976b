package kdrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import kdrec.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --config files: precedence, a run's own config.yaml read back, and the mistakes a YAML file can hold. */
class SettingsTest {
    @TempDir
    Path dir;

    @Test
    void precedenceIsDefaultsThenFileThenOptionsThenSets() throws Exception {
        Path yaml = Files.writeString(dir.resolve("c.yaml"), "dim: 8\nlr: 0.5\nepochs: 3\n");
        TrainConfig c = Settings.resolve(TrainConfig.defaults(), yaml, Map.of("dim", 16), List.of("epochs=7"));
        assertEquals(16, c.dim());
        assertEquals(0.5f, c.lr());
        assertEquals(7, c.epochs());
        assertEquals(TrainConfig.defaults().patience(), c.patience());
    }

    /** train --preset: the reference teacher row for the model named anywhere, under the file, options and --set. */
    @Test
    void presetIsTheReferenceTeacherRowUnderEverythingElse() throws Exception {
        TrainConfig lgcn = Settings.resolve("gowalla", null, Map.of("model", "lightgcn"), List.of());
        assertEquals(2000, lgcn.dim());
        assertEquals(4, lgcn.layers());
        assertEquals(1e-6f, lgcn.weightDecay());
        assertEquals(2048, lgcn.batchSize());
        TrainConfig mf = Settings.resolve("citeulike", null, Map.of(), List.of("weight_decay=0.5"));
        assertEquals(400, mf.dim());
        assertEquals(0.5f, mf.weightDecay(), "--set wins");
        Path yaml = Files.writeString(dir.resolve("m.yaml"), "model: hstu\nheads: 2\n");
        TrainConfig hstu = Settings.resolve("yelp", yaml, Map.of("dim", 16), List.of());
        assertEquals(16, hstu.dim(), "options win");
        assertEquals(2, hstu.heads(), "the file wins");
        assertEquals(8, hstu.blocks());
        assertEquals(400, hstu.maxLen());
        assertEquals(2048, hstu.negatives());
        assertEquals(0.1f, hstu.temperature());
        assertEquals(1e-5f, hstu.weightDecay());
        assertEquals(128, hstu.batchSize());
        assertEquals(TrainConfig.defaults().toMap(), Settings.resolve((String) null, null, Map.of(), List.of()).toMap());
        var e = assertThrows(IllegalArgumentException.class, () -> Settings.resolve("ml-1m", null, Map.of(), List.of()));
        assertTrue(e.getMessage().contains("unknown preset 'ml-1m'; allowed: citeulike, gowalla, yelp"), e.getMessage());
        // the user's own combination is checked with the preset under it, not against the preset's heads (4)
        TrainConfig own = Settings.resolve("gowalla", null, Map.of("model", "hstu", "dim", 30), List.of("heads=3"));
        assertEquals(30, own.dim());
        assertEquals(3, own.heads());
        assertEquals(8, own.blocks());
        // the preset's per-head widths (Q/K 16, U/V 16) are given, so its 4 heads need not divide the user's dim
        TrainConfig wide = Settings.resolve("gowalla", null, Map.of("model", "hstu", "dim", 30), List.of());
        assertEquals(new kdrec.model.HstuShape(30, 8, 4, 16, 16, 100, 10, 0.5f, 0.5f, false, true), wide.hstuShape());
        e = assertThrows(IllegalArgumentException.class, () -> Settings.resolve("gowalla", null, Map.of("model", "hstu", "dim", 30), List.of("linear_dim=auto")));
        assertTrue(e.getMessage().contains("--preset gowalla") && e.getMessage().contains("heads (4) must divide dim (30)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Settings.resolve("gowalla", null, Map.of(), List.of("dimension=3")));
        assertTrue(e.getMessage().startsWith("--set: unknown setting 'dimension'"), e.getMessage());
        assertEquals(7, Settings.resolve("gowalla", null, Map.of("epochs", 3), List.of("EPOCHS=7")).epochs(), "spellings of one key: the later layer wins");
    }

    @Test
    void aRunsOwnConfigYamlReadsBackWithoutItsInputs() throws Exception {
        // what kdrec writes for a run: the settings plus the data (and, for distill, the teacher) it was given
        TrainConfig want = TrainConfig.defaults().with(Map.of("dim", 12, "lr", 0.02));
        Map<String, Object> written = new java.util.LinkedHashMap<>(want.toMap());
        written.put("data", Map.of("spec", "insteval", "min_rating", "null"));
        written.put("teacher", "runs/T/best.safetensors");
        Path yaml = Files.writeString(dir.resolve("config.yaml"), kdrec.train.RunConfig.toYaml(written));
        assertEquals(want.toMap(), Settings.resolve(TrainConfig.defaults(), yaml, Map.of(), List.of()).toMap());
    }

    @Test
    void mistakesNameTheFileAndLine() throws Exception {
        Path dup = Files.writeString(dir.resolve("dup.yaml"), "dim: 8\ndim: 9\n");
        var e = assertThrows(IllegalArgumentException.class, () -> Settings.readYaml(dup));
        assertTrue(e.getMessage().contains("dup.yaml:2") && e.getMessage().contains("duplicate key dim"), e.getMessage());
        Path broken = Files.writeString(dir.resolve("broken.yaml"), "dim: [8\n");
        e = assertThrows(IllegalArgumentException.class, () -> Settings.readYaml(broken));
        assertTrue(e.getMessage().contains("broken.yaml") && e.getMessage().contains("not valid YAML"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Settings.readYaml(dir));
        assertTrue(e.getMessage().contains("is a folder"), e.getMessage());
        Path nested = Files.writeString(dir.resolve("nested.yaml"), "dim:\n  a: 1\n");
        e = assertThrows(IllegalArgumentException.class, () -> Settings.readYaml(nested));
        assertTrue(e.getMessage().contains("'dim' must be a scalar"), e.getMessage());
        Path unknown = Files.writeString(dir.resolve("unknown.yaml"), "dimension: 8\n");
        e = assertThrows(IllegalArgumentException.class, () -> Settings.resolve(TrainConfig.defaults(), unknown, Map.of(), List.of()));
        assertTrue(e.getMessage().contains("unknown.yaml") && e.getMessage().contains("dimension"), e.getMessage());
        Path latin1 = Files.write(dir.resolve("latin1.yaml"), "dim: 8\n# caf\u00e9\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        e = assertThrows(IllegalArgumentException.class, () -> Settings.readYaml(latin1));
        assertEquals(latin1 + ":2: not valid UTF-8 (save the file as UTF-8)", e.getMessage());
    }
}
