package kdrec.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.cpu.Parallel;
import kdrec.data.Dataset;
import kdrec.data.Datasets;
import kdrec.kd.Distillation;
import kdrec.kd.Teacher;
import kdrec.model.Recommender;
import kdrec.tensor.Backends;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;

/**
 * Training throughput of HSTU in sequences (= users) per second: the teacher (8 blocks), the
 * student (1 block) with its base loss alone, and the student under RCE-KD from that teacher (its
 * per-epoch student top-M pass included). Data: the Markov sequential generator. Each model trains
 * {@code epochs} epochs in one run, as {@code kdrec train} does; only the training part of each epoch
 * is timed ({@link Trainer#epochSeconds}, evaluation excluded); the first epoch is JIT warm-up and
 * the scratch's growth, and the best of the others is printed.
 * Usage: {@code java ... kdrec.bench.HstuBench [key=value ...]} with keys data (a markov: spec),
 * epochs, and any training key (dim, heads, max_len, negatives, batch_size, loss, ...) applied to both
 * models; teacher_blocks / student_blocks set the depths.
 */
public final class HstuBench {
    public static void main(String[] args) throws Exception {
        Map<String, Object> keys = new LinkedHashMap<>(Map.of("dim", 64, "heads", 4, "max_len", 100, "batch_size", 128, "negatives", 512,
                "temperature", 0.05, "lr", 1e-3));
        String spec = "markov:users=4000,items=3000,per_user=60,branching=3,p=0.9,seed=1";
        int epochs = 3, teacherBlocks = 8, studentBlocks = 1;
        BenchArgs b = new BenchArgs("bench/hstu.sh [data=markov:...] [epochs=3] [teacher_blocks=8] [student_blocks=1] [TRAIN_KEY=VALUE ...]", args);
        for (var e : b.settings(0).entrySet()) {
            String k = e.getKey(), v = e.getValue().toString();
            switch (k) {
                case "data" -> spec = v;
                case "epochs" -> epochs = b.integer(k, v, 1);
                case "teacher_blocks" -> teacherBlocks = b.integer(k, v, 1);
                case "student_blocks" -> studentBlocks = b.integer(k, v, 1);
                default -> keys.put(k, v);
            }
        }
        try { // the settings are checked before the data is generated
            TrainConfig.defaults().with(Map.of("model", "hstu")).with(keys);
        } catch (IllegalArgumentException e) {
            throw b.fail(e.getMessage());
        }
        long t0 = System.nanoTime();
        Dataset ds;
        try {
            ds = Datasets.loadUnchecked(spec);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            throw b.fail("data=" + spec + ": " + e.getMessage());
        }
        TrainData td = new TrainData(ds);
        System.out.printf("data: %s (generated in %.1fs); backend %s, training on %s, %d threads%n", ds.summary(), (System.nanoTime() - t0) / 1e9,
                Backends.get().getClass().getSimpleName(), kdrec.train.Device.fromEnvironment().flag(), Parallel.threads());
        TrainConfig base = TrainConfig.defaults().with(Map.of("model", "hstu", "epochs", 1)).with(keys);
        TrainConfig tc = base.with(Map.of("blocks", teacherBlocks)), sc = base.with(Map.of("blocks", studentBlocks));
        System.out.println("settings: " + base.toMap());
        Recommender teacherModel = Models.create(tc, td);
        report("teacher (" + teacherBlocks + " blocks)", td, time(td, tc, teacherModel, Models.objective(tc), epochs));
        try (Teacher teacher = Teacher.of(teacherModel); Recommender student = Models.create(sc, td)) { // the teacher owns the model now
            report("student (" + studentBlocks + " block" + (studentBlocks == 1 ? "" : "s") + ")", td,
                    time(td, sc, student, Models.objective(sc), epochs));
            Distillation.Setup kd = Distillation.resolve("rcekd", sc, null, "hstu", Map.of());
            try (Recommender s2 = Models.create(sc, td)) {
                report("student + rcekd", td, time(td, sc, s2, Distillation.objective(kd, teacher, td), epochs));
            }
        }
    }

    private static double time(TrainData td, TrainConfig cfg, Recommender m, kdrec.loss.Objective o, int epochs) throws Exception {
        // evaluation only after the last epoch (the trainer always evaluates that one); it is not timed
        Trainer t = new Trainer(cfg.with(Map.of("epochs", epochs, "eval_every", epochs)), td, m, o, Trainer.Outputs.none());
        t.fit(null);
        double[] s = t.epochSeconds();
        double best = Double.MAX_VALUE;
        for (int e = 0; e < s.length; e++) if (e > 0 || s.length == 1) best = Math.min(best, s[e]);
        return best;
    }

    private static void report(String what, TrainData td, double seconds) {
        System.out.printf("%-22s %8.1f sequences/s  (%.2fs per epoch of %d sequences)%n", what, td.users() / seconds, seconds, td.users());
    }
}
