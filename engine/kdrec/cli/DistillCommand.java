package kdrec.cli;

import kdrec.tensor.Diagnostics;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import kdrec.kd.Distillation;
import kdrec.kd.Teacher;
import kdrec.train.Evaluator;
import kdrec.train.RunDir;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kdrec distill}: train a student from scratch with BPR + lambda * KD from a frozen teacher checkpoint. */
@Command(name = "distill", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Distill a frozen teacher (any kdrec checkpoint) into a student trained from scratch: loss = BPR + lambda * KD.",
                "Writes runs/NAME/{log,config.yaml,metrics.csv,best.safetensors,last.safetensors}.",
                "Settings resolve as: student defaults < method defaults < --preset < options < --set (KEY=VALUE: student keys,",
                "or METHOD.KEY / lambda for the method, e.g. --set rcekd.K=100)."})
final class DistillCommand implements Callable<Integer> {
    @Mixin
    DataOptions data;

    @Mixin
    StudentOptions students;

    @Mixin
    DeviceOption device;

    @Option(names = "--method", required = true, description = "KD method: ${sys:kdrec.kdMethods}.")
    String method;

    @Option(names = "--lambda", description = "Weight of the KD term (default: the method's).")
    Double lambda;

    @Option(names = "--seed", description = "Random seed (default 0).")
    Long seed;

    @Option(names = "--save-every", description = "Also keep a checkpoint every N epochs; 0 = off.")
    Integer saveEvery;

    @Option(names = "--set", description = "Override one setting, KEY=VALUE (repeatable).", paramLabel = "KEY=VALUE")
    List<String> sets = List.of();

    @Option(names = "--out", required = true, description = "Run directory, e.g. runs/rcekd (its parent is created).")
    Path out;

    @Option(names = "--resume", description = "Continue the interrupted run in --out from its last checkpoint.")
    boolean resume;

    @Option(names = "--overwrite", description = "Replace an existing run in --out.")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        if (resume && overwrite) throw new Cli.BadFlagValue("--resume and --overwrite exclude each other", null);
        Map<String, Object> studentKeys = students.studentKeys();
        if (seed != null) studentKeys.put("seed", seed);
        if (saveEvery != null) studentKeys.put("save_every", saveEvery);
        Map<String, Object> overrides = new LinkedHashMap<>();
        if (lambda != null) overrides.put("lambda", lambda);
        overrides.putAll(Settings.parseSets(sets));
        TrainConfig studentCfg = Cli.flagValues(() -> Distillation.studentConfig(students.preset, studentKeys, overrides));
        kdrec.train.Device dev = device.get();
        Path teacherPath = students.teacher();
        String teacherKind = students.teacherKind();
        // resolved (and refused) before the data loads when the checkpoint's header names the teacher's kind
        Distillation.Setup early = teacherKind == null ? null : Cli.flagValues(() -> Distillation.resolve(method, studentCfg, students.preset, teacherKind, overrides));
        TrainData td = data.load();
        try (Teacher teacher = Teacher.load(teacherPath, td)) {
            Distillation.Setup setup = early != null && teacherKind.equals(teacher.model().kind()) ? early
                    : Cli.flagValues(() -> Distillation.resolve(method, studentCfg, students.preset, teacher.model().kind(), overrides));
            if (dev == kdrec.train.Device.CUDA) Distillation.checkOnDevice(setup, td.items()); // before the run directory exists
            Map<String, Object> runConfig = new LinkedHashMap<>(setup.describe());
            runConfig.put("data", data.describe());
            runConfig.put("teacher", teacherPath.toString());
            Path parent = RunDir.prepareParent(out);
            RunDir.refuseOtherKind(out, RunDir.Kind.DISTILL);
            if (Files.isRegularFile(out.resolve(RunDir.CONFIG_FILE)) && !resume && !overwrite) {
                throw new IllegalArgumentException(out + " already holds a run; pass --resume to continue it or --overwrite to replace it");
            }
            try (RunDir run = RunDir.open(parent, out.toAbsolutePath().normalize().getFileName().toString(), runConfig, overwrite && !resume, System.out);
                     Diagnostics.Redirect notices = Cli.routeDiagnostics(run.log())) {
                Path last = run.path().resolve("last.safetensors");
                Path resumeFrom = resume && Files.isRegularFile(last) ? last : null;
                if (resume && resumeFrom == null) run.log().line("nothing to resume in " + out + " (no last.safetensors): starting afresh");
                run.log().line("data: " + td.summary());
                Evaluator evaluator = new Evaluator(td, setup.student().topK());
                teacher.onDevice(dev); // its top-K lists (RCE-KD's QT, ...) and its evaluation on the run's device
                Evaluator.Result tr = teacher.evaluate(evaluator, td);
                run.log().line("teacher: " + teacher.model().describe() + " from " + teacherPath + " | test " + Evaluator.brief(tr.test()));
                run.log().line(setup.logLine());
                Trainer.Result r = Distillation.run(setup, teacher, td, new Trainer.Outputs(run.log(), run.metricsCsv(), run.path()), resumeFrom, dev);
                run.log().line("");
                run.log().line(Summary.table(List.of(Summary.row("teacher " + teacher.model().kind() + " d=" + teacher.dim(), tr.test(), null),
                        Summary.row(setup.method() + " " + setup.student().model() + " d=" + setup.student().dim(), r.test(), r))));
                run.log().line("best checkpoint: " + run.path().resolve("best.safetensors"));
                run.completed();
            }
        }
        return 0;
    }
}
