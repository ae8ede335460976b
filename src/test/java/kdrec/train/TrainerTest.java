package kdrec.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import kdrec.data.Datasets;
import kdrec.loss.Bpr;
import kdrec.loss.Objective;
import kdrec.model.Recommender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End-to-end training behaviour: learning planted structure, exact resume, NaN stops, checkpoints. */
class TrainerTest {
    @TempDir
    Path dir;

    static final TrainData SYN = new TrainData(Datasets.loadUnchecked("synthetic:users=600,items=400,per_user=25,clusters=8,seed=11"));

    private static TrainConfig cfg(String model, int epochs) {
        return TrainConfig.defaults().with(Map.of("model", model, "dim", 16, "epochs", epochs, "batch_size", 512, "lr", 0.01,
                "layers", 2, "patience", 50));
    }

    @Test
    void mfAndLightGcnRecoverPlantedStructure() throws Exception {
        double pop = new Evaluator(SYN, 20).mostPopular().test().get("ndcg@10");
        for (String model : new String[] {"mf", "lightgcn"}) {
            TrainConfig c = cfg(model, 15);
            try (Recommender m = Models.create(c, SYN)) {
                Trainer t = new Trainer(c, SYN, m, new Bpr(), Trainer.Outputs.none());
                Trainer.Result r = t.fit(null);
                double ndcg = r.test().get("ndcg@10");
                assertTrue(ndcg > 2 * pop, model + ": NDCG@10 " + ndcg + " vs most-popular " + pop);
                // one time per epoch run, positive, averaging to the result's seconds per epoch
                double[] secs = t.epochSeconds();
                assertEquals(r.epochsRun(), secs.length, model);
                assertTrue(java.util.Arrays.stream(secs).allMatch(x -> x > 0), model + ": " + java.util.Arrays.toString(secs));
                assertEquals(r.secondsPerEpoch(), java.util.Arrays.stream(secs).average().orElseThrow(), 1e-9, model);
            }
        }
    }

    @Test
    void resumeReproducesAnUninterruptedRun() throws Exception {
        TrainConfig full = cfg("mf", 6);
        float[] straight;
        try (Recommender m = Models.create(full, SYN)) {
            new Trainer(full, SYN, m, new Bpr(), new Trainer.Outputs(null, null, dir.resolve("a"))).fit(null);
            straight = m.params().get("user").value().toArray();
        }
        TrainConfig firstHalf = cfg("mf", 3);
        try (Recommender m = Models.create(firstHalf, SYN)) {
            new Trainer(firstHalf, SYN, m, new Bpr(), new Trainer.Outputs(null, null, dir.resolve("b"))).fit(null);
        }
        try (Recommender m = Models.create(full, SYN)) {
            Trainer.Result r = new Trainer(full, SYN, m, new Bpr(), new Trainer.Outputs(null, null, dir.resolve("b")))
                    .fit(dir.resolve("b").resolve("last.safetensors"));
            assertArrayEquals(straight, m.params().get("user").value().toArray(), "resumed parameters must equal the uninterrupted run's");
            assertEquals(6, r.epochsRun());
        }
        assertTrue(Files.isRegularFile(dir.resolve("a").resolve("best.safetensors")));
    }

    /**
     * Resume and metrics.csv where not every epoch has a valid score: a split without validation (the
     * stopper's best stays -Infinity in the checkpoint's JSON) and eval_every = 2 (epochs without metrics
     * keep empty cells, so every row has the header's columns).
     */
    @Test
    void resumeAndMetricsWithoutValidationAndWithSparseEvaluation() throws Exception {
        var ds = SYN.dataset();
        TrainData noValid = new TrainData(new kdrec.data.Dataset(ds.name(), ds.userIds(), ds.itemIds(), ds.train(),
                kdrec.data.InteractionMatrix.empty(ds.users(), ds.items()), ds.test()));
        for (TrainData data : new TrainData[] {noValid, SYN}) {
            for (int every : new int[] {1, 2}) {
                String name = (data == SYN ? "valid" : "novalid") + every;
                TrainConfig full = cfg("mf", 5).with(Map.of("eval_every", every));
                float[] straight;
                try (Recommender m = Models.create(full, data); MetricsCsv csv = new MetricsCsv(dir.resolve(name + "a").resolve("metrics.csv"))) {
                    new Trainer(full, data, m, new Bpr(), new Trainer.Outputs(null, csv, dir.resolve(name + "a"))).fit(null);
                    straight = m.params().get("user").value().toArray();
                }
                java.util.List<String> rows = Files.readAllLines(dir.resolve(name + "a").resolve("metrics.csv"));
                assertEquals(6, rows.size(), name + ": header + 5 epochs");
                assertEquals(data == SYN, rows.get(0).contains("valid_ndcg@10"), name + ": " + rows.get(0));
                assertTrue(rows.get(0).endsWith((data == SYN ? "valid_recall@10,valid_recall@20,valid_ndcg@10,valid_ndcg@20," : "")
                        + "test_recall@10,test_recall@20,test_ndcg@10,test_ndcg@20,improved"), name + ": valid columns, then test: " + rows.get(0));
                int testCol = java.util.Arrays.asList(rows.get(0).split(",")).indexOf("test_ndcg@10");
                for (int e = 1; e <= 5; e++) {
                    boolean evaluated = e % every == 0 || e == 5;
                    String[] cells = rows.get(e).split(",", -1);
                    assertEquals(rows.get(0).split(",").length, cells.length, name + " row " + e);
                    assertEquals(evaluated, !cells[testCol].isEmpty(), name + " row " + e + ": " + rows.get(e));
                }
                Path b = dir.resolve(name + "b");
                try (Recommender m = Models.create(cfg("mf", 3).with(Map.of("eval_every", every)), data)) {
                    new Trainer(cfg("mf", 3).with(Map.of("eval_every", every)), data, m, new Bpr(), new Trainer.Outputs(null, null, b)).fit(null);
                }
                try (Recommender m = Models.create(full, data)) {
                    Trainer.Result r = new Trainer(full, data, m, new Bpr(), new Trainer.Outputs(null, null, b)).fit(b.resolve("last.safetensors"));
                    assertEquals(5, r.epochsRun(), name);
                    // (with validation and every = 2 the 3-epoch stand-in for a crash evaluated its last epoch, 3,
                    // which the uninterrupted run skips: its best epoch may differ, so only the others compare)
                    if (data != SYN || every == 1) assertArrayEquals(straight, m.params().get("user").value().toArray(), name + ": resumed = uninterrupted");
                }
            }
        }
    }

    @Test
    void bprStepBackpropagatesAndReportsTheBatchLoss() {
        // one-dimensional MF: users (1, -2), items (0.5, 1, -1); entries (u, pos, neg) = (0, 1, 2), (1, 2, 0)
        // -log sigmoid(1 * (1 - -1)) - log sigmoid(-2 * (-1 - 0.5)) = 0.126928 + 0.048587 = 0.175515
        try (kdrec.model.MatrixFactorization m = new kdrec.model.MatrixFactorization(2, 3, 1, 0); kdrec.autograd.Tape tape = new kdrec.autograd.Tape()) {
            float[] users = {1, -2}, items = {0.5f, 1, -1};
            for (int u = 0; u < 2; u++) m.params().get("user").value().set(u, users[u]);
            for (int i = 0; i < 3; i++) m.params().get("item").value().set(i, items[i]);
            m.params().zeroGrad();
            Bpr bpr = new Bpr();
            Map<String, Double> parts = bpr.step(tape, m, new kdrec.loss.Batch(new int[] {0, 1}, new int[] {1, 2}, new int[] {2, 0}));
            assertEquals("bpr", bpr.name());
            assertEquals(Map.of("bpr", parts.get("bpr")), parts, "one term, named after the loss");
            assertEquals(0.175515, parts.get("bpr"), 1e-5);
            // d/d user0 = -(1 - sigmoid(2)) * (1 - -1) = -0.238406
            assertEquals(-0.238406, m.params().get("user").densify(tape).get(0), 1e-5);
        }
    }

    @Test
    void aNonFiniteLossStopsTheRunNamingEpochBatchAndTerm() throws Exception {
        TrainConfig c = cfg("mf", 2);
        Objective nan = new Objective() {
            @Override
            public Map<String, Double> step(kdrec.autograd.Tape tape, Recommender model, kdrec.loss.Batch batch) {
                return Map.of("kd", Double.NaN);
            }
        };
        try (Recommender m = Models.create(c, SYN)) {
            var e = assertThrows(Trainer.NonFiniteLossException.class, () -> new Trainer(c, SYN, m, nan, Trainer.Outputs.none()).fit(null));
            assertTrue(e.getMessage().contains("'kd'") && e.getMessage().contains("epoch 1") && e.getMessage().contains("batch 1"), e.getMessage());
        }
        // with a run folder: the message says what there is to resume from, and the log records why the run stopped
        Bpr bpr = new Bpr();
        Objective laterNan = new Objective() {
            int steps;

            @Override
            public Map<String, Double> step(kdrec.autograd.Tape tape, Recommender model, kdrec.loss.Batch batch) {
                Map<String, Double> parts = bpr.step(tape, model, batch);
                return ++steps > 3 ? Map.of("bpr", Double.POSITIVE_INFINITY) : parts;
            }
        };
        for (Objective o : new Objective[] {nan, laterNan}) {
            Path run = dir.resolve(o == nan ? "first" : "later");
            try (Recommender m = Models.create(c.with(Map.of("batch_size", 1_000_000, "epochs", 5)), SYN); RunLog log = new RunLog(run.resolve("log"), null)) {
                var e = assertThrows(Trainer.NonFiniteLossException.class,
                        () -> new Trainer(c.with(Map.of("batch_size", 1_000_000, "epochs", 5)), SYN, m, o, new Trainer.Outputs(log, null, run)).fit(null));
                String want = o == nan ? "no checkpoint was written yet" : "last checkpoint " + run.resolve("last.safetensors") + " is intact";
                assertTrue(e.getMessage().contains(want), e.getMessage());
            }
            assertTrue(Files.readString(run.resolve("log")).contains("stopped: loss term"), Files.readString(run.resolve("log")));
        }
    }

    @Test
    void checkpointsReloadToTheSameMetrics() throws Exception {
        TrainConfig c = cfg("lightgcn", 3);
        try (Recommender m = Models.create(c, SYN); kdrec.autograd.Tape tape = new kdrec.autograd.Tape()) {
            new Trainer(c, SYN, m, new Bpr(), new Trainer.Outputs(null, null, dir)).fit(null);
            Evaluator ev = new Evaluator(SYN, 20);
            var before = ev.evaluate(tape, m).test();
            try (Recommender back = Checkpoints.load(dir.resolve("best.safetensors"), SYN)) { // the model now holds the best epoch
                assertEquals(before, ev.evaluate(tape, back).test());
            }
        }
        TrainData other = new TrainData(Datasets.loadUnchecked("synthetic:users=50,items=40,per_user=5,seed=1"));
        var e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(dir.resolve("best.safetensors"), other));
        assertTrue(e.getMessage().contains("fingerprint"), e.getMessage());
    }

    @Test
    void aStartFromScratchDropsTheRowsACrashLeftBeforeTheFirstCheckpoint() throws Exception {
        TrainConfig c = cfg("mf", 2);
        Path run = dir.resolve("m"), csv = run.resolve("metrics.csv");
        // a crashed first attempt: epoch 1 logged, its checkpoint never written
        try (Recommender m = Models.create(cfg("mf", 1), SYN); MetricsCsv metrics = new MetricsCsv(csv)) {
            new Trainer(cfg("mf", 1), SYN, m, new Bpr(), new Trainer.Outputs(null, metrics, run)).fit(null);
        }
        try (var files = Files.list(run)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".safetensors")).toList()) Files.delete(f);
        }
        try (Recommender m = Models.create(c, SYN); MetricsCsv metrics = new MetricsCsv(csv)) {
            new Trainer(c, SYN, m, new Bpr(), new Trainer.Outputs(null, metrics, run)).fit(null);
        }
        var epochs = Files.readAllLines(csv).stream().skip(1).map(l -> l.substring(0, l.indexOf(','))).toList();
        assertEquals(java.util.List.of("1", "2"), epochs, "every epoch once: " + Files.readString(csv));
    }

    @Test
    void learningRateAndWeightDecayMustBeFinite() {
        for (Map<String, Object> bad : java.util.List.<Map<String, Object>>of(Map.of("lr", Double.POSITIVE_INFINITY), Map.of("lr", Double.NaN),
                Map.of("lr", 0.0), Map.of("weight_decay", 1e39), Map.of("weight_decay", -1e-4))) {
            var e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().with(bad), bad.toString());
            String key = bad.keySet().iterator().next();
            assertTrue(e.getMessage().startsWith(key + " must be a finite number"), e.getMessage());
        }
        assertEquals(0.5f, TrainConfig.defaults().with(Map.of("lr", 0.5)).lr());
    }

    @Test
    void hugeLossesPrintInExponentForm() {
        assertEquals("39853.3101", Trainer.lossText(39853.31012));
        assertEquals("6.4559e+39", Trainer.lossText(6455909056709012e24));
        assertEquals("-1.0000e+09", Trainer.lossText(-1e9));
    }

    @Test
    void everySettingIsCheckedAtItsBound() {
        TrainConfig d = TrainConfig.defaults();
        // the smallest accepted values
        TrainConfig low = d.with(Map.of("dim", 1, "layers", 0, "epochs", 1, "patience", 1, "batch_size", 1, "weight_decay", 0,
                "eval_every", 1, "save_every", 0, "top_k", 20));
        assertEquals(java.util.List.of(1, 0, 1, 1, 1, 1, 0, 20), java.util.List.of(low.dim(), low.layers(), low.epochs(), low.patience(),
                low.batchSize(), low.evalEvery(), low.saveEvery(), low.topK()));
        TrainConfig seqLow = d.with(Map.of("model", "hstu", "dim", 1, "blocks", 1, "heads", 1, "max_len", 1, "negatives", 1, "dropout", 0,
                "temperature", 1e-3));
        assertEquals(java.util.List.of(1, 1, 1, 1), java.util.List.of(seqLow.blocks(), seqLow.heads(), seqLow.maxLen(), seqLow.negatives()));
        assertEquals(0.99f, d.with(Map.of("dropout", 0.99)).dropout());
        String[][] bad = {
            {"dim", "0", "dim must be a positive integer, got 0"}, {"layers", "-1", "layers must be >= 0, got -1"},
            {"epochs", "0", "epochs must be a positive"}, {"patience", "0", "patience must be a positive"},
            {"batch_size", "0", "batch_size must be a positive"}, {"eval_every", "0", "eval_every must be a positive"},
            {"save_every", "-1", "save_every must be >= 0"}, {"top_k", "19", "top_k must be >= 20"},
            {"blocks", "0", "blocks must be a positive"}, {"heads", "0", "heads must be a positive"},
            {"max_len", "0", "max_len must be a positive"}, {"negatives", "0", "negatives must be a positive"},
            {"temperature", "0", "temperature must be a positive number"}, {"temperature", "Infinity", "temperature must be a positive number"},
            {"temperature", "NaN", "temperature must be a positive number"}, {"dropout", "1", "dropout must be in [0, 1)"},
            {"dropout", "-0.1", "dropout must be in [0, 1)"}, {"dropout", "NaN", "dropout must be in [0, 1)"},
            {"model", "gru", "model must be one of [mf, lightgcn, hstu], got 'gru'"},
            {"loss", "hinge", "loss must be one of"}, {"test_history", "all", "test_history must be one of"},
            {"loss", "sampled_softmax", "loss sampled_softmax is for sequential models (hstu); model mf trains with bpr"},
            {"test_history", "train_valid", "test_history train_valid is for sequential models"},
            {"dim", "x", "dim must be an integer, got 'x'"}, {"lr", "fast", "lr must be a number, got 'fast'"},
            {"lazy_adam", "maybe", "lazy_adam must be true or false, got 'maybe'"}, {"seed", "s", "bad number in settings"},
            {"colour", "red", "unknown setting 'colour'; allowed: model, dim"},
        };
        for (String[] b : bad) {
            var e = assertThrows(IllegalArgumentException.class, () -> d.with(Map.of(b[0], b[1])), b[0] + "=" + b[1]);
            assertTrue(e.getMessage().startsWith(b[2]), b[0] + "=" + b[1] + ": " + e.getMessage());
        }
        var bpr = assertThrows(IllegalArgumentException.class, () -> d.with(Map.of("model", "hstu", "loss", "bpr")));
        assertTrue(bpr.getMessage().startsWith("model hstu trains with sampled_softmax"), bpr.getMessage());
        var heads = assertThrows(IllegalArgumentException.class, () -> d.with(Map.of("model", "hstu", "dim", 6, "heads", 4)));
        assertEquals("heads (4) must divide dim (6) where attention_dim or linear_dim is auto (dim / heads)", heads.getMessage());
        assertEquals(3, d.with(Map.of("model", "hstu", "dim", 6, "heads", 3)).heads());
        assertEquals(4, d.with(Map.of("dim", 6, "heads", 4)).heads(), "heads only matter for hstu");
    }

    @Test
    void overridesParseAndTheBatchDefaultFollowsTheModelFamily() {
        TrainConfig d = TrainConfig.defaults();
        assertEquals(new TrainConfig("mf", 64, 3, 1000, 30, 0, 2048, 1e-3f, 1e-4f, false, 1, 0, 20, 2, 1, TrainConfig.AUTO_WIDTH, TrainConfig.AUTO_WIDTH, 100, 0, "auto", 512, "batch", 0.05f,
                0.2f, TrainConfig.AUTO_RATE, true, "zero", "train", "shared"), d);
        assertEquals("bpr", d.baseLoss());
        assertTrue(!d.sequential());
        TrainConfig c = d.with(Map.of(" Batch-Size ", "100", "MODEL", "LightGCN", "lazy_adam", "yes", "seed", "12345678901", "loss", "BPR"));
        assertEquals("lightgcn", c.model());
        assertEquals(100, c.batchSize());
        assertTrue(c.lazyAdam());
        assertEquals(12345678901L, c.seed());
        assertEquals("bpr", c.loss());
        for (String t : new String[] {"true", "1", "YES"}) assertTrue(d.with(Map.of("lazy_adam", t)).lazyAdam(), t);
        for (String f : new String[] {"false", "0", "no"}) assertTrue(!c.with(Map.of("lazy_adam", f)).lazyAdam(), f);
        // switching family without a batch size takes the other family's default, both ways; a batch size given or
        // changed before stays
        TrainConfig h = d.with(Map.of("model", "hstu"));
        assertEquals(128, h.batchSize());
        assertTrue(h.sequential());
        assertEquals("sampled_softmax", h.baseLoss());
        assertEquals("scaled_softmax", h.with(Map.of("loss", "scaled_softmax")).baseLoss());
        assertEquals(2048, h.with(Map.of("model", "mf")).batchSize());
        assertEquals(128, h.with(Map.of("dim", 32)).batchSize(), "same family: the batch stays");
        assertEquals(300, d.with(Map.of("model", "hstu", "batch_size", 300)).batchSize());
        assertEquals(300, d.with(Map.of("batch_size", 300)).with(Map.of("model", "hstu")).batchSize());
        assertEquals(2048, d.with(Map.of("model", "lightgcn")).batchSize());
        // toMap records the sequence settings only for hstu, and the loss when it is not auto
        Map<String, Object> m = d.toMap();
        assertEquals(java.util.List.of("model", "dim", "layers", "epochs", "patience", "seed", "batch_size", "lr", "weight_decay", "lazy_adam",
                "eval_every", "save_every", "top_k"), java.util.List.copyOf(m.keySet()));
        assertEquals(0.001, m.get("lr"));
        assertEquals(1e-4, m.get("weight_decay"));
        assertEquals("bpr", c.toMap().get("loss"));
        Map<String, Object> hm = h.with(Map.of("temperature", 0.1, "dropout", 0.3, "test_history", "TRAIN_VALID")).toMap();
        assertEquals("auto", hm.get("loss"));
        assertEquals(0.1, hm.get("temperature"));
        assertEquals(0.3, hm.get("dropout"));
        assertEquals("train_valid", hm.get("test_history"));
        assertEquals(java.util.List.of(2, 1, 100, 512), java.util.List.of(hm.get("blocks"), hm.get("heads"), hm.get("max_len"), hm.get("negatives")));
        // the sequence settings survive a trip through a non-sequential config
        TrainConfig back = h.with(Map.of("max_len", 7, "negatives", 9)).with(Map.of("model", "mf")).with(Map.of("model", "hstu"));
        assertEquals(7, back.maxLen());
        assertEquals(9, back.negatives());
        assertEquals(d.with(d.toMap()), d, "toMap reads back to the same settings");
    }

    @Test
    void trainStateRoundTripsTheStopperTheBestTestAndTheObjectiveState() throws Exception {
        TrainConfig c = cfg("mf", 3);
        Path f = dir.resolve("last.safetensors");
        java.util.List<Map<String, kdrec.tensor.Tensor>> restored = new java.util.ArrayList<>();
        Objective stateful = new Objective() {
            @Override
            public Map<String, Double> step(kdrec.autograd.Tape tape, Recommender model, kdrec.loss.Batch batch) {
                return Map.of();
            }

            @Override
            public Map<String, kdrec.tensor.Tensor> state() {
                return Map.of("pos", kdrec.tensor.Tensor.of(new float[] {3, 1}, 2));
            }

            @Override
            public void restore(Map<String, kdrec.tensor.Tensor> state) {
                restored.add(state);
            }
        };
        try (Recommender m = Models.create(c, SYN)) {
            kdrec.nn.Adam adam = new kdrec.nn.Adam(m.params(), c.lr(), c.weightDecay(), false);
            adam.setSteps(42);
            kdrec.eval.EarlyStopping es = kdrec.eval.EarlyStopping.restore("ndcg@10", 5, 0.25, 2,
                    kdrec.eval.Metrics.of("ndcg@10", 0.25, "recall@20", 0.5), 1, 3);
            new TrainState(3, es, kdrec.eval.Metrics.of("ndcg@10", 0.2)).checkpoint(m, adam, null, SYN, c, stateful).save(f);
            kdrec.nn.Adam fresh = new kdrec.nn.Adam(m.params(), c.lr(), c.weightDecay(), false);
            TrainState st = TrainState.restore(f, m, fresh, null, stateful, SYN.fingerprint());
            assertEquals(3, st.epoch());
            assertEquals(42, fresh.steps());
            kdrec.eval.EarlyStopping r = st.stopper(7);
            assertEquals(java.util.List.of("ndcg@10", 7, 0.25, 2, 1, 3),
                    java.util.List.of(r.metric(), r.patience(), r.bestValue(), r.bestEpoch(), r.sinceBest(), r.evaluations()));
            assertEquals(kdrec.eval.Metrics.of("ndcg@10", 0.25, "recall@20", 0.5), r.bestMetrics());
            assertEquals(kdrec.eval.Metrics.of("ndcg@10", 0.2), st.bestTest());
            assertEquals(1, restored.size());
            assertArrayEquals(new float[] {3, 1}, restored.get(0).get("pos").toArray(), "objective.pos comes back as pos");
            // a run without validation: best -Infinity survives the JSON, and no best test is no best test
            new TrainState(1, new kdrec.eval.EarlyStopping("ndcg@10", 5), null).checkpoint(m, adam, null, SYN, c, stateful).save(f);
            TrainState none = TrainState.restore(f, m, fresh, null, stateful, SYN.fingerprint());
            assertEquals(Double.NEGATIVE_INFINITY, none.stopper().bestValue());
            assertEquals(-1, none.stopper().bestEpoch());
            assertEquals(null, none.bestTest());
            var other = assertThrows(IllegalArgumentException.class, () -> TrainState.restore(f, m, fresh, null, stateful, "elsewhere"));
            assertTrue(other.getMessage().startsWith("cannot resume from " + f + ": it was trained on other data"), other.getMessage());
        }
    }
}
