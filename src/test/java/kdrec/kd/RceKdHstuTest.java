package kdrec.kd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.data.Datasets;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RCE-KD with an HSTU teacher into HSTU and MF students (batch = users for HSTU; scores at the last position). */
class RceKdHstuTest {
    @TempDir
    Path dir;

    static final TrainData DATA = new TrainData(Datasets.loadUnchecked("markov:users=60,items=40,per_user=8,branching=2,p=0.9,seed=2"));

    static TrainConfig hstu(int blocks, int epochs) {
        return TrainConfig.defaults().with(Map.of("model", "hstu", "dim", 8, "blocks", blocks, "heads", 2, "max_len", 8, "epochs", epochs,
                "batch_size", 16, "lr", 0.01, "negatives", 16, "temperature", 0.1)).with(Map.of("patience", 50));
    }

    static Teacher teacher() throws Exception {
        TrainConfig c = hstu(2, 3);
        Recommender m = Models.create(c, DATA);
        new Trainer(c, DATA, m, Models.objective(c), Trainer.Outputs.none()).fit(null);
        return Teacher.of(m);
    }

    static final Map<String, Object> SMALL = Map.of("rcekd.k", 5, "rcekd.m", 10, "rcekd.l", 4);

    @Test
    void hstuStudentsKdUsesTheBatchUsersLastStates() throws Exception {
        try (Teacher teacher = teacher(); Tape tape = new Tape()) {
            TrainConfig sc = hstu(1, 1);
            Distillation.Setup s = Distillation.resolve("rcekd", sc, null, "hstu", SMALL);
            try (Recommender student = Models.create(sc, DATA)) {
                DistillObjective o = (DistillObjective) Distillation.objective(s, teacher, DATA);
                try (var ng = tape.noGrad()) {
                    o.beginEpoch(tape, student, 0);
                }
                int[] users = {3, 7, 11};
                // the KD term on the per-batch forward equals the one on the all-users forward (same rows for the batch)
                double kdBatch, kdAll;
                try (var ng = tape.noGrad()) {
                    kdBatch = o.distiller().loss(tape, student, student.forward(tape, users), Batch.ofUsers(users, 0)).value().get(0);
                    kdAll = o.distiller().loss(tape, student, student.forward(tape), Batch.ofUsers(users, 0)).value().get(0);
                }
                assertEquals(kdAll, kdBatch, 1e-4 * Math.abs(kdAll));
                tape.reset();
                Map<String, Double> parts = o.step(tape, student, Batch.ofUsers(users, 0));
                assertEquals(java.util.List.of("sampled_softmax", "kd"), java.util.List.copyOf(parts.keySet()));
                assertTrue(parts.get("kd") > 0 && Double.isFinite(parts.get("sampled_softmax")), parts.toString());
                assertTrue(student.params().get("b0.u").grad() != null, "the KD and base terms reach the block weights");
            }
            Trainer.Result r = Distillation.run(s, teacher, DATA, Trainer.Outputs.none(), null);
            assertTrue(Double.isFinite(r.test().get("ndcg@10")) && r.test().get("ndcg@10") >= 0);
        }
    }

    @Test
    void hstuToMfAndExactResume() throws Exception {
        try (Teacher teacher = teacher()) {
            TrainConfig mf = TrainConfig.defaults().with(Map.of("dim", 8, "epochs", 2, "batch_size", 64, "lr", 0.01, "patience", 50));
            Trainer.Result r = Distillation.run(Distillation.resolve("rcekd", mf, null, "hstu", SMALL), teacher, DATA, Trainer.Outputs.none(), null);
            assertTrue(Double.isFinite(r.test().get("ndcg@10")));
            // HSTU -> HSTU: 3 epochs straight vs 2 + resume 1, with one encoding per step and one per KD term
            float[] shared = null;
            for (String encoding : TrainConfig.KD_ENCODINGS) {
                TrainConfig full = hstu(1, 3).with(Map.of("kd_encoding", encoding));
                Distillation.Setup s = Distillation.resolve("rcekd", full, null, "hstu", SMALL);
                float[] straight;
                try (Recommender m = Models.create(full, DATA)) {
                    new Trainer(full, DATA, m, Distillation.objective(s, teacher, DATA), new Trainer.Outputs(null, null, dir.resolve("a" + encoding)))
                            .fit(null);
                    straight = m.params().get("b0.q").value().toArray();
                }
                Distillation.run(new Distillation.Setup("rcekd", full.with(Map.of("epochs", 2)), s.params()), teacher, DATA,
                        new Trainer.Outputs(null, null, dir.resolve("b" + encoding)), null);
                try (Recommender m = Models.create(full, DATA)) {
                    new Trainer(full, DATA, m, Distillation.objective(s, teacher, DATA), new Trainer.Outputs(null, null, dir.resolve("b" + encoding)))
                            .fit(dir.resolve("b" + encoding).resolve("last.safetensors"));
                    assertArrayEquals(straight, m.params().get("b0.q").value().toArray(), "resumed HSTU distillation equals the uninterrupted one, " + encoding);
                }
                if (shared == null) {
                    shared = straight;
                } else {
                    double diff = 0;
                    for (int i = 0; i < straight.length; i++) diff = Math.max(diff, Math.abs(straight[i] - shared[i]));
                    assertTrue(diff > 1e-3, "per-term encodings train another student: " + diff);
                }
            }
        }
        Map<String, Object> preset = Methods.get("rcekd").preset("gowalla", "hstu", "hstu");
        assertEquals(128, ((Number) preset.get("batch_size")).intValue());
    }
}
