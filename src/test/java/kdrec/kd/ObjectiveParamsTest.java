package kdrec.kd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import kdrec.autograd.Arith;
import kdrec.autograd.Gather;
import kdrec.autograd.MatMul;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.data.Datasets;
import kdrec.loss.Batch;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;
import kdrec.nn.Params;
import kdrec.tensor.Tensor;
import kdrec.train.Checkpoint;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainable-parameters plumbing of Distiller#params: the trainer updates a distiller's own
 * parameters with Adam, saves them with their moments in last.safetensors and a resumed run equals
 * an uninterrupted one bit for bit (student and distiller parameters alike).
 */
class ObjectiveParamsTest {
    @TempDir
    Path dir;

    static final TrainData DATA = new TrainData(Datasets.loadUnchecked("synthetic:users=40,items=30,per_user=6,clusters=3,seed=5"));

    /** A linear hint regression: sum over the batch's distinct users of ||S_u W - T_u||^2, W trainable. */
    static final class LinearHint implements Distiller {
        final Params params = new Params();
        final Var w;
        final Teacher teacher;

        LinearHint(Teacher teacher, int ds) {
            this.teacher = teacher;
            this.w = params.normal("user.w", 0.3f, 11, ds, teacher.dim());
        }

        @Override
        public String name() {
            return "linear-hint";
        }

        @Override
        public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
            BatchUsers bu = BatchUsers.of(batch.users(), student.users());
            Var s = Gather.rows(tape, e.users(), bu.users());
            Tensor t = tape.scratch().uninitialized(bu.size(), teacher.dim());
            tape.backend().gather(bu.size(), teacher.dim(), bu.users(), teacher.userEmbeddings().data(), 0, teacher.dim(), t.data(), 0, teacher.dim());
            Var diff = Arith.sub(tape, MatMul.nn(tape, s, w), Var.constant(t));
            return Arith.sum(tape, Arith.mul(tape, diff, diff));
        }

        @Override
        public Params params(Recommender student) {
            return params;
        }
    }

    static Teacher teacher() {
        MatrixFactorization m = new MatrixFactorization(DATA.users(), DATA.items(), 6, 1);
        for (var p : m.params().all()) Params.fillNormal(p.value(), 0.5f, 77 + p.name().hashCode());
        return Teacher.of(m);
    }

    @Test
    void distillerParametersAreTrainedSavedAndResumedExactly() throws Exception {
        TrainConfig full = TrainConfig.defaults().with(Map.of("dim", 4, "epochs", 4, "batch_size", 64, "lr", 0.01, "patience", 50,
                "weight_decay", 1e-3));
        try (Teacher teacher = teacher()) {
            float[] straightUser, straightW;
            LinearHint a = new LinearHint(teacher, 4);
            float[] w0 = a.w.value().toArray();
            try (Recommender m = Models.create(full, DATA)) {
                new Trainer(full, DATA, m, new DistillObjective(a, 0.5), new Trainer.Outputs(null, null, dir.resolve("a"))).fit(null);
                straightUser = m.params().get("user").value().toArray();
                straightW = a.w.value().toArray();
            }
            assertFalse(Arrays.equals(w0, straightW), "Adam updated the distiller's parameter");
            Checkpoint last = Checkpoint.loadCopy(dir.resolve("a").resolve("last.safetensors"));
            assertArrayEquals(straightW, last.tensors().get("objective.param.user.w").toArray(), "saved value");
            assertTrue(last.tensors().containsKey("adam.m.objective.param.user.w") && last.tensors().containsKey("adam.v.objective.param.user.w"));
            assertEquals(last.meta("adam_step"), last.meta("objective_adam_step"));

            TrainConfig half = full.with(Map.of("epochs", 2));
            try (Recommender m = Models.create(half, DATA)) {
                new Trainer(half, DATA, m, new DistillObjective(new LinearHint(teacher, 4), 0.5), new Trainer.Outputs(null, null, dir.resolve("b"))).fit(null);
            }
            LinearHint resumed = new LinearHint(teacher, 4);
            try (Recommender m = Models.create(full, DATA)) {
                Trainer.Result r = new Trainer(full, DATA, m, new DistillObjective(resumed, 0.5), new Trainer.Outputs(null, null, dir.resolve("b")))
                        .fit(dir.resolve("b").resolve("last.safetensors"));
                assertEquals(4, r.epochsRun());
                assertArrayEquals(straightUser, m.params().get("user").value().toArray(), "student equals the uninterrupted run");
                assertArrayEquals(straightW, resumed.w.value().toArray(), "distiller parameter equals the uninterrupted run");
            }
        }
    }

    @Test
    void resumingWithoutSavedDistillerParametersIsRefused() throws Exception {
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("dim", 4, "epochs", 1, "batch_size", 64));
        try (Teacher teacher = teacher()) {
            Distillation.Setup s = Distillation.resolve("scratch", cfg, null, "mf", Map.of());
            Distillation.run(s, teacher, DATA, new Trainer.Outputs(null, null, dir.resolve("c")), null);
            try (Recommender m = Models.create(cfg.with(Map.of("epochs", 2)), DATA)) {
                Trainer t = new Trainer(cfg.with(Map.of("epochs", 2)), DATA, m, new DistillObjective(new LinearHint(teacher, 4), 0.5),
                        new Trainer.Outputs(null, null, dir.resolve("c")));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.fit(dir.resolve("c").resolve("last.safetensors")));
                assertTrue(e.getMessage().contains("user.w"), e.getMessage());
            }
        }
    }
}
