package kdrec.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.cpu.Parallel;
import kdrec.data.Dataset;
import kdrec.data.Preprocess;
import kdrec.data.Synthetic;
import kdrec.kd.Distillation;
import kdrec.kd.Teacher;
import kdrec.loss.Objective;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;
import kdrec.nn.Params;
import kdrec.tensor.Backends;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;

/**
 * Seconds for one distillation epoch against one plain BPR epoch of the same student, on a
 * Gowalla-sized synthetic set (30k users, 41k items, ~810k train interactions), teacher MF d=300,
 * student MF d=20 (the speed target: an RCE-KD epoch, its per-epoch student top-M pass
 * included, at most 2x a BPR epoch). The teacher is a random N(0, 0.1^2) MF: the cost of every step
 * does not depend on how good the teacher is.
 * Usage: {@code java ... kdrec.bench.KdEpochBench [method] [epochs] [preset] [key=value ...]};
 * prints each epoch and the medians (the first epoch, JIT warm-up, is excluded).
 */
public final class KdEpochBench {
    /** Times the objective's per-epoch hook (the rest of the epoch is the batches). */
    private static final class Timed implements Objective {
        private final Objective inner;
        double hookSeconds;

        Timed(Objective inner) {
            this.inner = inner;
        }

        @Override
        public Map<String, Double> step(kdrec.autograd.Tape tape, Recommender model, kdrec.loss.Batch batch) {
            return inner.step(tape, model, batch);
        }

        @Override
        public void beginEpoch(kdrec.autograd.Tape tape, Recommender model, int epoch) {
            long t = System.nanoTime();
            inner.beginEpoch(tape, model, epoch);
            hookSeconds = (System.nanoTime() - t) / 1e9;
        }
    }

    public static void main(String[] args) throws Exception {
        String method = args.length > 0 ? args[0] : "rcekd";
        int epochs = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        String preset = args.length > 2 && !args[2].equals("-") ? args[2] : "gowalla";
        Map<String, Object> overrides = new LinkedHashMap<>();
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            overrides.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        long t0 = System.nanoTime();
        Dataset ds = new Preprocess(null, 0, 0, true).apply("gowalla-sized synthetic", Synthetic.gowallaSized(1).generate());
        TrainData td = new TrainData(ds);
        System.out.printf("data: %s (generated in %.1fs)%n", ds.summary(), (System.nanoTime() - t0) / 1e9);
        MatrixFactorization tm = new MatrixFactorization(td.users(), td.items(), 300, 7);
        for (var p : tm.params().all()) Params.fillNormal(p.value(), 0.1f, p.name().hashCode());
        try (Teacher teacher = Teacher.of(tm)) {
            TrainConfig student = TrainConfig.defaults().with(Map.of("model", "mf", "dim", 20, "epochs", 1, "eval_every", 1));
            Distillation.Setup kd = Distillation.resolve(method, student, preset, "mf", overrides);
            Distillation.Setup bpr = Distillation.resolve(Distillation.SCRATCH, kd.student(), null, "mf", Map.of());
            long s0 = System.nanoTime();
            Timed kdObjective = new Timed(Distillation.objective(kd, teacher, td));
            System.out.printf("%s setup (teacher top lists once): %.2fs; settings %s%n", method, (System.nanoTime() - s0) / 1e9, kd.params().toMap());
            double[] base = new double[epochs], distill = new double[epochs];
            try (Recommender a = Models.create(kd.student(), td); Recommender b = Models.create(kd.student(), td)) {
                for (int e = 0; e < epochs; e++) {
                    TrainConfig one = kd.student().with(Map.of("seed", e));
                    base[e] = new Trainer(one, td, a, Distillation.objective(bpr, teacher, td), Trainer.Outputs.none()).fit(null).secondsPerEpoch();
                    distill[e] = new Trainer(one, td, b, kdObjective, Trainer.Outputs.none()).fit(null).secondsPerEpoch();
                    System.out.printf("epoch %d: BPR %.2fs, %s %.2fs (per-epoch hook %.2fs)%n", e + 1, base[e], method, distill[e], kdObjective.hookSeconds);
                }
            }
            double mb = EpochBench.median(base), md = EpochBench.median(distill);
            System.out.printf("student MF d=20, teacher MF d=300, %d threads, backend %s: median BPR epoch %.2fs, median %s epoch %.2fs, ratio %.2fx%n",
                    Parallel.threads(), Backends.get().name(), mb, method, md, md / mb);
        }
    }
}
