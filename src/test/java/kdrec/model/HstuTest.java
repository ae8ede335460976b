package kdrec.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.data.Datasets;
import kdrec.data.Sequences;
import kdrec.train.Checkpoints;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HSTU: batching and padding invariance, checkpoint round trip, and that it beats MF on sequential data. */
class HstuTest {
    @TempDir
    Path dir;

    static final TrainData MARKOV = new TrainData(Datasets.loadUnchecked("markov:users=300,items=120,per_user=12,branching=2,p=0.9,seed=4"));

    static TrainConfig hstu(int epochs) {
        return TrainConfig.defaults().with(Map.of("model", "hstu", "dim", 16, "blocks", 2, "heads", 2, "max_len", 12, "epochs", epochs,
                "batch_size", 32, "lr", 0.005, "negatives", 64, "temperature", 0.1)).with(Map.of("dropout", 0.1, "weight_decay", 0, "patience", 50));
    }

    @Test
    void aUsersStateDoesNotDependOnItsBatch() {
        try (Hstu m = (Hstu) Models.create(hstu(1), MARKOV); Tape t = new Tape()) {
            Sequences s = m.sequences();
            int shortU = -1, longU = -1;
            for (int u = 0; u < MARKOV.users() && (shortU < 0 || longU < 0); u++) {
                if (s.length(u) <= 4 && shortU < 0) shortU = u;
                if (s.length(u) >= 10 && longU < 0) longU = u;
            }
            float[] alone, padded, all;
            try (var ng = t.noGrad()) {
                alone = m.forward(t, new int[] {shortU}).users().value().toArray();
                padded = m.forward(t, new int[] {longU, shortU, longU}).users().value().toArray(); // duplicates allowed
                all = m.inference(t).users().value().toArray();
            }
            int d = m.dim();
            for (int j = 0; j < d; j++) {
                assertEquals(alone[shortU * d + j], padded[shortU * d + j], 1e-5, "padding to a longer sequence must not change a state");
                assertEquals(alone[shortU * d + j], all[shortU * d + j], 1e-5, "chunked inference must agree with the batch forward");
                assertEquals(0f, alone[longU * d + j], "users outside the batch have zero rows");
            }
            double norm = 0;
            for (int j = 0; j < d; j++) norm += all[shortU * d + j] * all[shortU * d + j];
            assertEquals(1.0, norm, 1e-4, "states are L2-normalised");
        }
    }

    @Test
    void inferenceBitsDoNotDependOnTheJitTier() {
        // the first calls run the kernels interpreted, later ones compiled by C2: the bits must not move
        // (they did while SiLU used lanewise(EXP), whose SVML stub and Math fallback differ by an ulp)
        try (Recommender m = Models.create(hstu(1), MARKOV); Tape t = new Tape()) {
            float[] first = m.inference(t).users().value().toArray();
            t.reset();
            for (int rep = 0; rep < 40; rep++) {
                assertArrayEquals(first, m.inference(t).users().value().toArray(), "inference call " + rep);
                t.reset();
            }
        }
    }

    @Test
    void inferenceRunsInTheCallersScratchAndGivesItBack() {
        // 300 users: two chunks of 256, each released before the next; the caller's own tensors stay
        // intact, nothing is recorded, and once the scratch has grown later calls allocate nothing
        try (Recommender m = Models.create(hstu(1), MARKOV); Tape t = new Tape()) {
            kdrec.tensor.Tensor mine = t.scratch().uninitialized(7, 5);
            for (int i = 0; i < 35; i++) mine.set(i, i * 0.5f);
            float[] first = m.inference(t).users().value().toArray();
            for (int i = 0; i < 35; i++) assertEquals(i * 0.5f, mine.get(i), "the caller's scratch tensor, element " + i);
            assertEquals(0, t.recorded(), "inference records no backward");
            assertTrue(t.scratch().highWater() > 4L * first.length + 1_000_000, "the chunks were encoded in the caller's scratch, high water "
                    + t.scratch().highWater());
            t.reset();
            m.inference(t);
            t.reset(); // folds what the first calls grew into one chunk
            long capacity = t.scratch().capacity();
            for (int rep = 0; rep < 3; rep++) {
                assertArrayEquals(first, m.inference(t).users().value().toArray(), "call " + rep);
                t.reset();
                assertEquals(capacity, t.scratch().capacity(), "scratch capacity after call " + rep);
            }
        }
    }

    @Test
    void checkpointRoundTripAndConfigChecks() throws Exception {
        TrainConfig c = hstu(1);
        try (Recommender m = Models.create(c, MARKOV); Tape t = new Tape()) {
            m.params().get("b1.rab").value().set(3, 0.5f); // something not at its initial value
            Path f = dir.resolve("h.safetensors");
            Checkpoints.modelOnly(m, MARKOV, c, 0).save(f);
            try (Recommender back = Checkpoints.load(f, MARKOV)) {
                assertEquals(m.describe(), back.describe());
                assertArrayEquals(m.inference(t).users().value().toArray(), back.inference(t).users().value().toArray());
                assertArrayEquals(m.inference(t).items().value().toArray(), back.inference(t).items().value().toArray());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().with(Map.of("model", "hstu", "loss", "bpr")));
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().with(Map.of("model", "mf", "loss", "full_softmax")));
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().with(Map.of("model", "hstu", "dim", 10, "heads", 3)));
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().with(Map.of("blockz", 2)));
        assertEquals(hstu(3), TrainConfig.defaults().with(hstu(3).toMap()), "toMap/with round trip");
        assertTrue(!TrainConfig.defaults().toMap().containsKey("blocks"), "mf configs do not record HSTU keys");
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().with(Map.of("model", "hstu", "test_history", "valid")));
        // batches are users for hstu: its default batch is the reference 128, unless one is given
        assertEquals(128, TrainConfig.defaults().with(Map.of("model", "hstu")).batchSize());
        assertEquals(512, TrainConfig.defaults().with(Map.of("model", "hstu", "batch_size", 512)).batchSize());
        assertEquals(2048, TrainConfig.defaults().with(Map.of("model", "hstu")).with(Map.of("model", "mf")).batchSize());
        assertEquals(300, TrainConfig.defaults().with(Map.of("batch_size", 300)).with(Map.of("model", "hstu")).batchSize(), "a chosen size stays");
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().with(Map.of("model", "mf", "test_history", "train_valid")));
    }

    @Test
    void testHistoryTrainValidRanksTestFromTheLongerSequenceOnly() throws Exception {
        TrainConfig authors = hstu(1), longer = hstu(1).with(Map.of("test_history", "train_valid"));
        try (Recommender a = Models.create(authors, MARKOV); Recommender b = Models.create(longer, MARKOV); Tape t = new Tape()) {
            assertTrue(!a.testFromLongerHistory() && b.testFromLongerHistory());
            assertArrayEquals(a.inference(t).users().value().toArray(), b.inference(t).users().value().toArray(),
                    "same seed, same parameters: validation ranks from the train sequence either way");
            var ea = new kdrec.train.Evaluator(MARKOV, 20).evaluate(t, a);
            var eb = new kdrec.train.Evaluator(MARKOV, 20).evaluate(t, b);
            assertEquals(ea.valid(), eb.valid());
            assertTrue(!ea.test().equals(eb.test()), "test is ranked from train + valid");
            // the test states are those of a model whose sequences are train + valid
            Sequences tv = Sequences.of(MARKOV.dataset().train(), MARKOV.dataset().valid(), 12);
            try (Hstu same = new Hstu(MARKOV.users(), MARKOV.items(), 16, 2, 2, 12, 0.1f, tv, tv, authors.seed())) {
                assertArrayEquals(same.inference(t).users().value().toArray(), b.inferenceForTest(t).users().value().toArray());
            }
            Path f = dir.resolve("tv.safetensors");
            Checkpoints.modelOnly(b, MARKOV, longer, 0).save(f);
            try (Recommender back = Checkpoints.load(f, MARKOV)) {
                assertTrue(back.testFromLongerHistory(), "the checkpoint keeps the protocol");
                assertEquals(eb.test(), new kdrec.train.Evaluator(MARKOV, 20).evaluate(t, back).test());
            }
        }
    }

    @Test
    void hstuBeatsMfOnMarkovSequences() throws Exception {
        TrainConfig mfCfg = TrainConfig.defaults().with(Map.of("model", "mf", "dim", 16, "epochs", 40, "batch_size", 256, "lr", 0.01,
                "weight_decay", 0, "patience", 50));
        double mf, hs;
        try (Recommender m = Models.create(mfCfg, MARKOV)) {
            mf = new Trainer(mfCfg, MARKOV, m, Models.objective(mfCfg), Trainer.Outputs.none()).fit(null).test().get("ndcg@10");
        }
        TrainConfig hc = hstu(12);
        try (Recommender m = Models.create(hc, MARKOV)) {
            hs = new Trainer(hc, MARKOV, m, Models.objective(hc), Trainer.Outputs.none()).fit(null).test().get("ndcg@10");
        }
        System.out.printf("markov test NDCG@10: mf %.4f hstu %.4f%n", mf, hs);
        assertTrue(hs > mf + 0.03, "hstu " + hs + " vs mf " + mf);
    }
}
