package kdrec.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kdrec.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir
    Path dir;

    record OptState(long step, long[] rng, Map<String, Integer> userIds) {}

    private static Checkpoint sample() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("user", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2));
        t.put("item", Tensor.of(new float[] {-1, 0.5f}, 1, 2));
        return Checkpoint.of(t).withModel("mf").withEpoch(17).withFingerprint("sha256:abc")
                .withDims(Map.of("dim", 2)).withJson("optimizer", new OptState(123456789012345678L, new long[] {-1L, Long.MAX_VALUE},
                        Map.of("u42", 0)));
    }

    @Test
    void roundTripWithMetadata() throws IOException {
        Path f = dir.resolve("best.safetensors");
        Checkpoint c = sample();
        c.save(f);
        for (Checkpoint r : List.of(Checkpoint.loadCopy(f), Checkpoint.load(f, Arena.ofAuto()))) {
            assertEquals("mf", r.model());
            assertEquals(17, r.epoch());
            assertEquals("sha256:abc", r.fingerprint());
            assertEquals(Map.of("dim", 2), r.dims());
            assertEquals(Checkpoint.FORMAT_VERSION, r.meta(Checkpoint.KEY_FORMAT));
            OptState s = r.json("optimizer", OptState.class);
            assertEquals(123456789012345678L, s.step(), "longs survive exactly in typed fields");
            assertArrayEquals(new long[] {-1L, Long.MAX_VALUE}, s.rng());
            assertEquals(Map.of("u42", 0), s.userIds());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, r.tensor("user", 3, 2).toArray());
            assertEquals(List.of("user", "item"), List.copyOf(r.tensors().keySet()));
        }
        // any safetensors reader sees the same file
        assertEquals("17", Safetensors.readMetadata(f).get("epoch"));
    }

    @Test
    void errorsNameWhatIsMissing() throws IOException {
        Checkpoint c = sample();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.tensor("bias"));
        assertTrue(e.getMessage().contains("user"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> c.tensor("user", 2, 3));
        assertThrows(IllegalArgumentException.class, () -> c.meta("nope"));
        assertThrows(IllegalStateException.class, () -> c.with("epoch", "x").epoch());
        assertThrows(IllegalStateException.class, () -> c.json("model", OptState.class));
        c.requireMeta("model", "mf");
        IllegalStateException m = assertThrows(IllegalStateException.class, () -> c.requireMeta("model", "lightgcn"));
        assertTrue(m.getMessage().contains("'mf'") && m.getMessage().contains("lightgcn"), m.getMessage());
    }

    @Test
    void loadingAModelNamesTheFileAndTheBadMetadata() throws IOException {
        TrainData data = new TrainData(kdrec.data.Datasets.loadUnchecked("synthetic:users=50,items=40,per_user=5,seed=1"));
        Path plain = dir.resolve("plain.safetensors");
        Safetensors.write(plain, Map.of("user", Tensor.zeros(50, 4)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(plain, data));
        assertTrue(e.getMessage().contains(plain.toString()) && e.getMessage().contains("'dataset_fingerprint'"), e.getMessage());
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("dim", 4));
        try (kdrec.model.Recommender m = Models.create(cfg, data)) {
            Checkpoint good = Checkpoints.modelOnly(m, data, cfg, 0);
            Path bad = dir.resolve("bad.safetensors");
            good.with("model.dim", "abc").save(bad);
            e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(bad, data));
            assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("'model.dim'") && e.getMessage().contains("abc"), e.getMessage());
            Map<String, String> noModel = new java.util.HashMap<>(good.metadata());
            noModel.remove(Checkpoint.KEY_MODEL);
            new Checkpoint(good.tensors(), noModel).save(bad);
            e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(bad, data));
            assertTrue(e.getMessage().contains("'model'"), e.getMessage());
        }
    }

    @Test
    void refusesNewerFormats() throws IOException {
        Path f = dir.resolve("future.safetensors");
        Safetensors.write(f, Map.of("a", Tensor.zeros(1)), Map.of(Checkpoint.KEY_FORMAT, "99"));
        Safetensors.FormatException e = assertThrows(Safetensors.FormatException.class, () -> Checkpoint.loadCopy(f));
        assertTrue(e.getMessage().contains("99"), e.getMessage());
        // a plain safetensors file without our stamp loads
        Path g = dir.resolve("plain.safetensors");
        Safetensors.write(g, Map.of("a", Tensor.zeros(2)));
        assertEquals(2, Checkpoint.loadCopy(g).tensor("a").size());
    }

    /** A diverged model evaluated as all-zero metrics and resumed into NaN losses: loading refuses it, naming the tensor. */
    @Test
    void nonFiniteValuesAreRefusedOnLoadNamingTheTensor() throws IOException {
        TrainData data = new TrainData(kdrec.data.Datasets.loadUnchecked("synthetic:users=30,items=20,per_user=4,seed=2"));
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("model", "mf", "dim", 4));
        Path f = dir.resolve("nan.safetensors");
        try (kdrec.model.Recommender m = Models.create(cfg, data)) {
            m.params().get("user").value().set(5, Float.NaN);
            Checkpoints.modelOnly(m, data, cfg, 3).save(f);
            var e = assertThrows(Safetensors.FormatException.class, () -> Checkpoints.load(f, data));
            assertEquals(f + ": tensor 'user' holds NaN or infinite values", e.getMessage());
            // resuming: an optimizer moment counts as much as a parameter
            m.params().get("user").value().set(5, 0f);
            kdrec.nn.Adam adam = new kdrec.nn.Adam(m.params(), cfg.lr(), cfg.weightDecay(), false);
            adam.moments(m.params().get("item"))[1].set(0, Float.POSITIVE_INFINITY);
            new TrainState(1, new kdrec.eval.EarlyStopping("ndcg@10", 5), null)
                    .checkpoint(m, adam, null, data, cfg, new kdrec.loss.Bpr()).save(f);
            e = assertThrows(Safetensors.FormatException.class,
                    () -> TrainState.restore(f, m, adam, null, new kdrec.loss.Bpr(), data.fingerprint()));
            assertEquals(f + ": tensor 'adam.v.item' holds NaN or infinite values", e.getMessage());
        }
    }

    @Test
    void aModelCheckpointRoundTripsAndEveryBadFieldIsRefused() throws IOException {
        TrainData data = new TrainData(kdrec.data.Datasets.loadUnchecked("synthetic:users=30,items=20,per_user=4,seed=2"));
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("model", "lightgcn", "dim", 4, "layers", 0));
        Path f = dir.resolve("lg.safetensors");
        try (kdrec.model.Recommender m = Models.create(cfg, data)) {
            m.params().all().get(0).value().set(0, 0.25f);
            Checkpoint c = Checkpoints.modelOnly(m, data, cfg, 7);
            assertEquals("lightgcn", c.model());
            assertTrue(c.hasMeta("model.layers"));
            assertTrue(!c.hasMeta("model.heads"));
            assertEquals(7, c.epoch());
            assertEquals(data.fingerprint(), c.fingerprint());
            assertEquals("0", c.meta("model.layers"));
            assertEquals("4", c.meta("model.dim"));
            assertEquals(data.userIds(), c.json(Checkpoints.KEY_USER_IDS, List.class));
            assertEquals(data.itemIds(), c.json(Checkpoints.KEY_ITEM_IDS, List.class));
            assertEquals(cfg.toMap().get("layers"), ((Number) c.json(Checkpoints.KEY_CONFIG, Map.class).get("layers")).intValue());
            c.save(f);
            try (kdrec.model.Recommender back = Checkpoints.load(f, data)) {
                assertEquals("lightgcn", back.kind());
                assertEquals("0", back.describe().get("layers"), "0 propagation layers is a valid LightGCN");
                for (int i = 0; i < m.params().all().size(); i++) {
                    assertArrayEquals(m.params().all().get(i).value().toArray(), back.params().all().get(i).value().toArray());
                }
            }
            String[][] bad = {{"model.dim", "0", "'model.dim' must be an integer >= 1, got '0'"},
                {"model.layers", "-1", "'model.layers' must be an integer >= 0, got '-1'"},
                {"model", "gru", "unknown model 'gru'"}};
            for (String[] b : bad) {
                c.with(b[0], b[1]).save(f);
                var e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(f, data), b[0]);
                assertEquals(f + ": " + (b[0].equals("model") ? "" : "metadata ") + b[2], e.getMessage());
            }
            c.withFingerprint("other").save(f);
            var fp = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(f, data));
            assertTrue(fp.getMessage().startsWith(f + ": trained on a dataset with fingerprint other, but the data given has "), fp.getMessage());
            Map<String, Tensor> noItem = new LinkedHashMap<>(c.tensors());
            String last = m.params().all().get(m.params().all().size() - 1).name();
            noItem.remove(last);
            new Checkpoint(noItem, c.metadata()).save(f);
            var missing = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(f, data));
            assertEquals(f + ": no tensor '" + last + "'", missing.getMessage());
            Map<String, Tensor> wrong = new LinkedHashMap<>(c.tensors());
            wrong.put(last, Tensor.zeros(3, 4));
            new Checkpoint(wrong, c.metadata()).save(f);
            var shape = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(f, data));
            assertTrue(shape.getMessage().startsWith(f + ": tensor '" + last + "' has shape [3, 4], the model needs ["), shape.getMessage());
        }
    }
}
