package kdrec.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import kdrec.autograd.Tape;
import kdrec.data.Datasets;
import kdrec.kd.Distillation;
import kdrec.kd.Teacher;
import kdrec.model.Recommender;
import kdrec.model.Scoring;
import org.junit.jupiter.api.Test;

/**
 * A service embedding kdrec may train, distill and score from several threads at once: the kernels
 * share one worker pool, and each run keeps its own tape, scratch and optimizer. Runs made side by side
 * must equal the same runs made one after another, bit for bit.
 */
class ConcurrentUseTest {
    static final TrainData DATA = new TrainData(Datasets.loadUnchecked("synthetic:users=1500,items=1000,per_user=20,clusters=5,seed=4"));

    /** One job: a model trained (MF, LightGCN, or an RCE-KD student of {@code teacher}), then its users' top-10 lists. */
    private static float[] job(int id, Teacher teacher) throws Exception {
        String model = id % 3 == 1 ? "lightgcn" : "mf";
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("model", model, "dim", 12, "epochs", 2, "batch_size", 1024, "lr", 0.01, "seed", id,
                "layers", 2));
        try (Recommender m = Models.create(cfg, DATA); Tape tape = new Tape()) {
            kdrec.loss.Objective objective = id % 3 == 2
                    ? Distillation.objective(Distillation.resolve("rcekd", cfg, null, "mf", Map.of("rcekd.k", 10, "rcekd.m", 20, "rcekd.l", 5)), teacher, DATA)
                    : Models.objective(cfg);
            new Trainer(cfg, DATA, m, objective, Trainer.Outputs.none()).fit(null);
            int[] users = new int[DATA.users()];
            for (int u = 0; u < users.length; u++) users[u] = u;
            Scoring.TopK top = Scoring.topK(tape, m, users, 10, DATA.trainPtr(), DATA.trainItems());
            float[] out = m.params().get("user").value().toArray();
            float[] withIds = java.util.Arrays.copyOf(out, out.length + 10);
            for (int j = 0; j < 10; j++) withIds[out.length + j] = top.row(7)[j];
            return withIds;
        }
    }

    @Test
    void runsSideBySideEqualRunsOneAfterAnother() throws Exception {
        TrainConfig tc = TrainConfig.defaults().with(Map.of("model", "mf", "dim", 16, "epochs", 3, "batch_size", 256, "lr", 0.01));
        Recommender teacherModel = Models.create(tc, DATA);
        new Trainer(tc, DATA, teacherModel, Models.objective(tc), Trainer.Outputs.none()).fit(null);
        try (Teacher teacher = Teacher.of(teacherModel)) {
            int jobs = 6;
            List<float[]> alone = new ArrayList<>();
            for (int i = 0; i < jobs; i++) alone.add(job(i, teacher));
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                for (int round = 0; round < 2; round++) {
                    List<Future<float[]>> side = new ArrayList<>();
                    for (int i = 0; i < jobs; i++) {
                        int id = i;
                        side.add(pool.submit(() -> job(id, teacher)));
                    }
                    for (int i = 0; i < jobs; i++) assertArrayEquals(alone.get(i), side.get(i).get(), "job " + i + ", round " + round);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(jobs, alone.size());
        }
    }

    /** One trained model scored from several threads at once (each with its own tape): the lists of one thread alone. */
    @Test
    void oneModelScoresFromSeveralThreads() throws Exception {
        for (String model : new String[] {"mf", "lightgcn"}) {
            TrainConfig cfg = TrainConfig.defaults().with(Map.of("model", model, "dim", 12, "epochs", 1, "batch_size", 1024, "layers", 2));
            try (Recommender m = Models.create(cfg, DATA)) {
                new Trainer(cfg, DATA, m, Models.objective(cfg), Trainer.Outputs.none()).fit(null);
                java.util.concurrent.Callable<int[]> score = () -> {
                    int[] users = new int[DATA.users()], out = new int[DATA.users() * 10];
                    for (int u = 0; u < users.length; u++) users[u] = u;
                    try (Tape tape = new Tape()) {
                        Scoring.TopK top = Scoring.topK(tape, m, users, 10, DATA.trainPtr(), DATA.trainItems());
                        for (int u = 0; u < users.length; u++) System.arraycopy(top.row(u), 0, out, u * 10, 10);
                    }
                    return out;
                };
                int[] alone = score.call();
                ExecutorService pool = Executors.newFixedThreadPool(4);
                try {
                    List<Future<int[]>> side = new ArrayList<>();
                    for (int i = 0; i < 8; i++) side.add(pool.submit(score));
                    for (Future<int[]> f : side) assertArrayEquals(alone, f.get(), model);
                } finally {
                    pool.shutdownNow();
                }
            }
        }
    }
}
