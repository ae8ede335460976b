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
 *
 * <p>Besides wall seconds it prints the process CPU seconds of each epoch's training part (from the
 * per-epoch hook to the last batch's loss; all threads, GC and JIT included): on the shared 2-core
 * box other jobs stretch wall times by 2-5x from one epoch to the next, while the CPU time of the
 * same work moves far less, so the CPU ratio is the steadier comparison.
 *
 * <p>Under {@code -Dkdrec.backend=cuda} both students train on the GPU ({@code --device cuda}; see
 * kdrec.device.DeviceTraining), each in one run of all the epochs (so epoch 1 carries the device
 * buffers' first allocations and is left out of the medians); the epochs are timed whole, from the
 * per-epoch hook to the parameters back on the host (the per-epoch hook and the CPU split are
 * host-path measurements and are not printed). With {@code -Dkdrec.device.profile=true} too, each
 * run's log (its device line, epoch lines and per-phase profile lines, see kdrec.device.StepProfile)
 * is echoed to stdout; the profiled epochs synchronise at every phase, so their seconds and ratio are
 * not the unprofiled ones.
 */
public final class KdEpochBench {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    /** Times the objective's per-epoch hook (the rest of the epoch is the batches), wall and process CPU. */
    private static final class Timed implements Objective {
        final Objective inner;
        double hookSeconds, hookCpu;
        private long cpu0, cpuLast;

        Timed(Objective inner) {
            this.inner = inner;
        }

        @Override
        public Map<String, Double> step(kdrec.autograd.Tape tape, Recommender model, kdrec.loss.Batch batch) {
            Map<String, Double> parts = inner.step(tape, model, batch);
            cpuLast = OS.getProcessCpuTime();
            return parts;
        }

        @Override
        public void beginEpoch(kdrec.autograd.Tape tape, Recommender model, int epoch) {
            long t = System.nanoTime();
            cpu0 = OS.getProcessCpuTime();
            inner.beginEpoch(tape, model, epoch);
            hookSeconds = (System.nanoTime() - t) / 1e9;
            hookCpu = (OS.getProcessCpuTime() - cpu0) / 1e9;
        }

        /** Process CPU seconds from the start of the last hook to the end of the last batch's loss. */
        double epochCpu() {
            return (cpuLast - cpu0) / 1e9;
        }
    }

    /** The device profile's switch, as kdrec.device.StepProfile reads it: the runs then echo their logs (with the profile lines) to stdout. */
    private static final boolean PROFILE = Boolean.getBoolean("kdrec.device.profile");

    /** One device run of {@code cfg.epochs()} epochs; each epoch's train seconds (from the run's metrics.csv). */
    private static double[] gpuEpochs(TrainConfig cfg, TrainData td, Recommender model, Objective objective) throws Exception {
        java.nio.file.Path csv = java.nio.file.Files.createTempFile("kdrec-kd-epoch", ".csv");
        java.nio.file.Path logFile = java.nio.file.Files.createTempFile("kdrec-kd-epoch", ".log");
        try {
            // the trainer logs the profile only to a run log: under the profile, one that echoes to stdout
            try (kdrec.train.MetricsCsv metrics = new kdrec.train.MetricsCsv(csv);
                     kdrec.train.RunLog log = PROFILE ? new kdrec.train.RunLog(logFile, System.out) : null) {
                new Trainer(cfg, td, model, objective, new Trainer.Outputs(log, metrics, null)).onDevice(kdrec.train.Device.CUDA).fit(null);
            }
            java.util.List<String> lines = java.nio.file.Files.readAllLines(csv);
            int col = java.util.Arrays.asList(lines.get(0).split(",")).indexOf("train_seconds");
            return lines.stream().skip(1).mapToDouble(l -> Double.parseDouble(l.split(",")[col])).toArray();
        } finally {
            java.nio.file.Files.deleteIfExists(csv);
            java.nio.file.Files.deleteIfExists(logFile);
        }
    }

    public static void main(String[] args) throws Exception {
        BenchArgs cli = new BenchArgs("bench/kd_epoch.sh [method (rcekd)] [epochs (4)] [preset (gowalla), or - for none] [key=value ...]", args);
        String method = cli.str(0, "rcekd");
        int epochs = cli.integer(1, "epochs", 4, 1);
        String preset = cli.str(2, "gowalla");
        if (args.length > 2 && args[2].equals("-")) preset = null; // "-": no preset, the method's defaults
        Map<String, Object> overrides = cli.settings(3);
        try { // the method, preset and settings, before the data is generated
            Distillation.resolve(method, TrainConfig.defaults().with(Map.of("model", "mf", "dim", 20)), preset, "mf", overrides);
        } catch (IllegalArgumentException e) {
            throw cli.fail(e.getMessage());
        }
        try {
            run(method, epochs, preset, overrides);
        } catch (IllegalArgumentException e) { // a setting only the method checks, when it is built
            throw cli.fail(e.getMessage());
        }
    }

    private static void run(String method, int epochs, String preset, Map<String, Object> overrides) throws Exception {
        boolean onGpu = kdrec.train.Device.fromEnvironment() == kdrec.train.Device.CUDA;
        long t0 = System.nanoTime();
        // -Dkdrec.bench.data=<data spec> swaps the set for a small one (a dry run of the GPU branch on the emulated driver)
        String dataSpec = System.getProperty("kdrec.bench.data");
        Dataset ds = dataSpec != null ? kdrec.data.Datasets.loadUnchecked(dataSpec)
                : new Preprocess(null, 0, 0, true).apply("gowalla-sized synthetic", Synthetic.gowallaSized(1).generate());
        TrainData td = new TrainData(ds);
        System.out.printf("data: %s (generated in %.1fs)%n", ds.summary(), (System.nanoTime() - t0) / 1e9);
        MatrixFactorization tm = randomTeacher(td, 0);
        java.nio.file.Path trajectory = method.equals("hetcomp") && !overrides.containsKey("hetcomp.trajectory") ? trajectory(td, 2) : null;
        if (trajectory != null) {
            overrides = new LinkedHashMap<>(overrides);
            overrides.put("hetcomp.trajectory", trajectory.toString());
        }
        try (Teacher teacher = Teacher.of(tm).onDevice(onGpu ? kdrec.train.Device.CUDA : kdrec.train.Device.CPU)) {
            TrainConfig student = TrainConfig.defaults().with(Map.of("model", "mf", "dim", 20, "epochs", 1, "eval_every", 1));
            Distillation.Setup kd = Distillation.resolve(method, student, preset, "mf", overrides);
            Distillation.Setup bpr = Distillation.resolve(Distillation.SCRATCH, kd.student(), null, "mf", Map.of());
            long s0 = System.nanoTime();
            Timed kdObjective = new Timed(Distillation.objective(kd, teacher, td));
            System.out.printf("%s setup (teacher top lists once): %.2fs; settings %s%n", method, (System.nanoTime() - s0) / 1e9, kd.params().toMap());
            double[] base = new double[epochs], distill = new double[epochs], baseCpu = new double[epochs], distillCpu = new double[epochs];
            try (Recommender a = Models.create(kd.student(), td); Recommender b = Models.create(kd.student(), td)) {
                if (onGpu) {
                    base = gpuEpochs(kd.student().with(Map.of("epochs", epochs)), td, a, Distillation.objective(bpr, teacher, td));
                    distill = gpuEpochs(kd.student().with(Map.of("epochs", epochs)), td, b, kdObjective.inner);
                    for (int e = 0; e < epochs; e++) {
                        System.out.printf("epoch %d on the GPU: BPR %.3fs, %s %.3fs, ratio %.2fx%n", e + 1, base[e], method, distill[e], distill[e] / base[e]);
                    }
                    double mb = EpochBench.median(java.util.Arrays.copyOfRange(base, Math.min(1, epochs - 1), epochs));
                    double md = EpochBench.median(java.util.Arrays.copyOfRange(distill, Math.min(1, epochs - 1), epochs));
                    System.out.printf("student MF d=20, teacher MF d=300, on %s: median BPR epoch %.3fs, median %s epoch %.3fs (epochs 2-%d), ratio %.2fx%n",
                            kdrec.gpu.CudaProbe.status().description(), mb, method, md, epochs, md / mb);
                    return;
                }
                for (int e = 0; e < epochs; e++) {
                    TrainConfig one = kd.student().with(Map.of("seed", e));
                    Timed bprObjective = new Timed(Distillation.objective(bpr, teacher, td));
                    base[e] = new Trainer(one, td, a, bprObjective, Trainer.Outputs.none()).fit(null).secondsPerEpoch();
                    distill[e] = new Trainer(one, td, b, kdObjective, Trainer.Outputs.none()).fit(null).secondsPerEpoch();
                    baseCpu[e] = bprObjective.epochCpu();
                    distillCpu[e] = kdObjective.epochCpu();
                    System.out.printf("epoch %d: BPR %.2fs, %s %.2fs (per-epoch hook %.2fs) | cpu: BPR %.2fs, %s %.2fs (hook %.2fs), ratio %.2fx%n",
                            e + 1, base[e], method, distill[e], kdObjective.hookSeconds, baseCpu[e], method, distillCpu[e], kdObjective.hookCpu,
                            distillCpu[e] / baseCpu[e]);
                }
            }
            double mb = EpochBench.median(base), md = EpochBench.median(distill);
            System.out.printf("student MF d=20, teacher MF d=300, %d threads, backend %s: median BPR epoch %.2fs, median %s epoch %.2fs, ratio %.2fx%n",
                    Parallel.threads(), Backends.get().name(), mb, method, md, md / mb);
            double cb = EpochBench.median(baseCpu), cd = EpochBench.median(distillCpu);
            System.out.printf("process CPU per epoch (all threads): median BPR %.2fs, median %s %.2fs, ratio %.2fx%n", cb, method, cd, cd / cb);
        } finally {
            if (trajectory != null) deleteTrajectory(trajectory);
        }
    }

    /** The bench's teacher, MF d=300 with N(0, 0.1^2) entries; other {@code salt}s give other draws. */
    private static MatrixFactorization randomTeacher(TrainData td, int salt) {
        MatrixFactorization tm = new MatrixFactorization(td.users(), td.items(), 300, 7);
        for (var p : tm.params().all()) Params.fillNormal(p.value(), 0.1f, p.name().hashCode() + 31L * salt);
        return tm;
    }

    /**
     * HetComp's teacher trajectory: n earlier "checkpoints" of the teacher, other random draws of it, as
     * epoch_NNNN files in a temporary folder (what a method step costs does not depend on what they hold).
     */
    private static java.nio.file.Path trajectory(TrainData td, int n) throws java.io.IOException {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("kdrec-kd-epoch-trajectory");
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("model", "mf", "dim", 300));
        for (int c = 1; c <= n; c++) {
            try (MatrixFactorization m = randomTeacher(td, c)) {
                kdrec.train.Checkpoints.modelOnly(m, td, cfg, c - 1).save(dir.resolve(String.format("epoch_%04d.safetensors", c)));
            }
        }
        return dir;
    }

    private static void deleteTrajectory(java.nio.file.Path dir) throws java.io.IOException {
        try (var files = java.nio.file.Files.list(dir)) {
            for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) files::iterator) java.nio.file.Files.delete(f);
        }
        java.nio.file.Files.delete(dir);
    }
}
