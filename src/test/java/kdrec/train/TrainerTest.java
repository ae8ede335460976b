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
                Trainer.Result r = new Trainer(c, SYN, m, new Bpr(), Trainer.Outputs.none()).fit(null);
                double ndcg = r.test().get("ndcg@10");
                assertTrue(ndcg > 2 * pop, model + ": NDCG@10 " + ndcg + " vs most-popular " + pop);
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
}
