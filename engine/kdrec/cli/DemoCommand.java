package kdrec.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import kdrec.kd.Distillation;
import kdrec.kd.Teacher;
import kdrec.loss.Bpr;
import kdrec.model.Recommender;
import kdrec.train.Evaluator;
import kdrec.train.Models;
import kdrec.train.RunDir;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kdrec demo}: the whole workflow on the embedded InstEval data in a few minutes: train an
 * MF teacher, a small MF student from scratch and the same student distilled from the teacher with
 * RCE-KD, and print their test metrics beside most-popular.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train an MF teacher, a small MF student from scratch and the same student distilled with RCE-KD on the embedded InstEval data; print their test metrics.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", description = "Where the runs go (default: ${DEFAULT-VALUE}); replaced on every demo.", defaultValue = "runs/demo")
    Path out;

    @Option(names = "--teacher-dim", defaultValue = "128", description = "Teacher embedding size (default: ${DEFAULT-VALUE}).")
    int teacherDim;

    @Option(names = "--student-dim", defaultValue = "16", description = "Student embedding size (default: ${DEFAULT-VALUE}).")
    int studentDim;

    @Option(names = "--epochs", defaultValue = "300", description = "Maximum epochs per model (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @picocli.CommandLine.Mixin
    DeviceOption device;

    private kdrec.train.Device dev;

    @Override
    public Integer call() throws Exception {
        dev = device.get();
        TrainData td = DataOptions.embedded("insteval");
        System.out.println("kdrec demo: " + td.summary());
        TrainConfig base = TrainConfig.defaults().with(Map.of("epochs", epochs, "seed", seed, "patience", 30));
        TrainConfig teacherCfg = base.with(Map.of("dim", teacherDim, "weight_decay", 1e-4));
        // students learn at lr 0.01: on 57k train interactions the default 1e-3 needs ~300 epochs to converge
        TrainConfig studentCfg = base.with(Map.of("dim", studentDim, "weight_decay", 1e-4, "lr", 0.01));
        Files.createDirectories(out); // after the settings are checked: a bad one leaves no folder
        List<List<String>> rows = new ArrayList<>();
        Evaluator.Result pop = new Evaluator(td, 20).mostPopular();
        rows.add(Summary.row("most-popular", pop.test(), null));
        Recommender teacherModel = Models.create(teacherCfg, td);
        try (Teacher teacher = trainTeacher(teacherCfg, td, teacherModel, rows)) {
            rows.add(trainFresh("student", Distillation.resolve(Distillation.SCRATCH, studentCfg, null, "mf", Map.of()), td, teacher));
            rows.add(trainFresh("rcekd", Distillation.resolve("rcekd", studentCfg, null, "mf", RCEKD_SETTINGS), td, teacher));
        }
        System.out.println();
        System.out.println("test metrics at the best valid epoch (InstEval, 8:1:1 per user, train items masked):");
        System.out.println(Summary.table(rows));
        return 0;
    }

    /**
     * RCE-KD settings for the demo: the method's defaults (the spec's advice for a new dataset: K 100,
     * L 50, M 200, T 10, tau 1, beta 5, lambda 10); on InstEval's valid split lambda 10 edged out 1.
     */
    static final Map<String, Object> RCEKD_SETTINGS = Map.of();

    /** Trains the teacher (the trainer leaves its best valid epoch in the model) and freezes it. */
    private Teacher trainTeacher(TrainConfig cfg, TrainData td, Recommender m, List<List<String>> rows) throws Exception {
        Map<String, Object> runCfg = new LinkedHashMap<>(cfg.toMap());
        runCfg.put("data", "insteval");
        try (RunDir run = RunDir.open(out, "teacher", runCfg, true, null)) {
            System.out.printf("training the teacher (MF, d=%d): log in %s%n", cfg.dim(), run.path().resolve(RunDir.LOG_FILE));
            run.log().line("data: " + td.summary()); // the header lines a train run's log starts with
            run.log().line("model: " + m.describe() + ", " + m.params().count() + " parameters");
            Trainer.Result r = new Trainer(cfg, td, m, new Bpr(), new Trainer.Outputs(run.log(), run.metricsCsv(), run.path())).onDevice(dev).fit(null);
            rows.add(Summary.row("teacher MF d=" + cfg.dim(), r.test(), r));
            run.completed();
            return Teacher.of(m).onDevice(dev);
        } catch (Exception | Error e) {
            m.close();
            throw e;
        }
    }

    private List<String> trainFresh(String name, Distillation.Setup setup, TrainData td, Teacher teacher) throws Exception {
        Map<String, Object> runCfg = new LinkedHashMap<>(setup.describe());
        runCfg.put("data", "insteval");
        try (RunDir run = RunDir.open(out, name, runCfg, true, null)) {
            System.out.printf("training the %s (MF, d=%d%s): log in %s%n", name, setup.student().dim(),
                    setup.scratch() ? ", no KD" : ", distilled from the teacher", run.path().resolve(RunDir.LOG_FILE));
            run.log().line("data: " + td.summary()); // the header lines a distill run's log starts with
            run.log().line("teacher: " + teacher.model().describe() + " (the demo's teacher run)");
            run.log().line(setup.logLine());
            Trainer.Result r = Distillation.run(setup, teacher, td, new Trainer.Outputs(run.log(), run.metricsCsv(), run.path()), null, dev);
            String label = setup.scratch() ? "student MF d=" + setup.student().dim() : "RCE-KD student MF d=" + setup.student().dim();
            run.completed();
            return Summary.row(label, r.test(), r);
        }
    }
}
