package kdrec.kd.compare;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kdrec.kd.Distillation;
import kdrec.kd.Teacher;
import kdrec.tensor.Diagnostics;
import kdrec.train.AtomicFiles;
import kdrec.train.Evaluator;
import kdrec.train.RunDir;
import kdrec.train.RunLog;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;

/**
 * Runs a {@link ComparisonPlan} against one frozen teacher and writes the comparison folder:
 * <pre>
 *   OUT/config.yaml, OUT/log            the shared settings (RunDir) and the progress log
 *   OUT/runs/METHOD/seedS/              one ordinary run folder per (method, seed), as kdrec distill
 *                                       writes it, plus result.json once the run has finished
 *   OUT/table.md, OUT/table.csv         {@link ComparisonTable}
 *   OUT/valid_ndcg10.png                {@link LearningCurves}
 * </pre>
 * OUT's config.yaml holds what every run shares (data, teacher, student settings, preset, --set);
 * the methods and seeds are not part of it, so a resumed comparison may add methods or seeds and reuse
 * the runs it already has (each run folder checks its own full config). On resume a finished run (its
 * result.json exists) is read, not rerun; an interrupted one continues from its last.safetensors;
 * overwrite deletes OUT and starts over. Runs go one after another: the trainer already uses every core.
 */
public final class Comparison {
    public static final String TABLE_MD = "table.md", TABLE_CSV = "table.csv", CURVES_PNG = "valid_ndcg10.png", RUNS = "runs";

    /** What the command gathered: the data and teacher (loaded once) and their descriptions for config.yaml. */
    public record Inputs(TrainData data, Map<String, Object> dataDescription, Teacher teacher, String teacherDescription) {}

    /** A finished comparison: every run's result, the table and where the files are. */
    public record Outcome(List<RunResult> results, ComparisonTable table, Path out, int trained, int reused) {}

    private final ComparisonPlan plan;
    private final TrainConfig student;
    private final String preset;
    private final Inputs in;

    public Comparison(ComparisonPlan plan, TrainConfig student, String preset, Inputs in) {
        this.plan = plan;
        this.student = student;
        this.preset = preset;
        this.in = in;
    }

    private kdrec.train.Device device = kdrec.train.Device.CPU;

    /**
     * Trains every run on {@code d} ({@code --device cuda}: every method of the plan must have a device
     * twin, which {@link #run} checks before it creates anything).
     */
    public Comparison onDevice(kdrec.train.Device d) {
        this.device = d;
        return this;
    }

    /** The folder of one run. */
    public static Path runDir(Path out, String method, long seed) {
        return out.resolve(RUNS).resolve(method).resolve("seed" + seed);
    }

    /**
     * Runs (or, on resume, completes) the comparison in {@code out} and writes its outputs.
     *
     * @param console where progress lines are echoed besides OUT/log (null: the log only)
     */
    public Outcome run(Path out, boolean resume, boolean overwrite, PrintStream console) throws IOException {
        TrainData td = in.data();
        Teacher teacher = in.teacher();
        if (teacher.users() != td.users() || teacher.items() != td.items()) {
            throw new IllegalArgumentException("the teacher has " + teacher.users() + " users and " + teacher.items() + " items, the data "
                    + td.users() + " and " + td.items());
        }
        Map<String, Distillation.Setup> setups = plan.resolve(student, preset, teacher.model().kind());
        if (device == kdrec.train.Device.CUDA) {
            for (Distillation.Setup s : setups.values()) Distillation.checkOnDevice(s, td.items());
            teacher.onDevice(device);
        }
        // The values only a method's distiller checks (ce.guide, rcekd.m >= k, a HetComp trajectory, ...):
        // each method's objective is built once, on the first seed, before any folder exists, so a bad one
        // stops the comparison before its first run rather than after the methods ahead of it trained.
        for (Distillation.Setup s : setups.values()) {
            if (!s.scratch()) Distillation.objective(s.withSeed(plan.seeds().get(0)), teacher, td);
        }
        Path abs = out.toAbsolutePath().normalize();
        RunDir.prepareParent(abs);
        RunDir.refuseOtherKind(out, RunDir.Kind.COMPARISON);
        if (Files.isRegularFile(abs.resolve(RunDir.CONFIG_FILE)) && !resume && !overwrite) {
            throw new IllegalArgumentException(out + " already holds a comparison; pass --resume to continue it (finished runs are kept)"
                    + " or --overwrite to start over");
        }
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("data", in.dataDescription());
        config.put("teacher", in.teacherDescription());
        // the settings every student shares (method presets may still change some; each run's config.yaml
        // has its own); the seed is left out because each run has its own
        Map<String, Object> shared = new LinkedHashMap<>(student.with(plan.studentOverrides()).toMap());
        shared.remove("seed");
        config.put("student", shared);
        config.put("preset", preset);
        try { // comparisons made before 2026-12-06 recorded the raw --set text here: keep theirs so that they still resume
            Path existing = abs.resolve(RunDir.CONFIG_FILE);
            if (resume && Files.isRegularFile(existing)) {
                Map<String, Object> old = kdrec.train.RunConfig.readConfig(existing);
                if (old.containsKey("set")) config.put("set", old.get("set"));
            }
        } catch (java.io.IOException e) {
            // unreadable: RunDir.open reports it
        }
        // method settings (--set METHOD.KEY) are not here: each run's config.yaml holds its method's resolved
        // keys and is checked when that run resumes, so methods with their own keys may be added later
        // and another spelling of the same setting (rcekd.K=50, lr=0.010) resumes
        try (RunDir top = RunDir.open(abs.getParent(), abs.getFileName().toString(), config, overwrite && !resume, console);
                Diagnostics.Redirect notices = Diagnostics.redirect(top.log()::line)) {
            RunLog log = top.log();
            if (top.resumed()) checkExistingRuns(abs, setups);
            log.line((top.resumed() ? "resuming" : "starting") + " comparison in " + abs);
            log.line("data: " + td.summary());
            log.line("methods: " + String.join(", ", plan.methods()) + " | seeds: " + plan.seeds() + " | ours: "
                    + (plan.ours() == null ? "none" : plan.ours()) + " | student " + student.model() + " d=" + student.dim());
            Evaluator.Result teacherEval = teacher.evaluate(new Evaluator(td, student.topK()), td);
            String teacherLabel = "teacher " + teacher.model().kind() + " d=" + teacher.dim();
            log.line(teacherLabel + " (" + in.teacherDescription() + ") | test " + Evaluator.brief(teacherEval.test()));

            List<RunResult> results = new ArrayList<>();
            int k = 0, trained = 0, reused = 0;
            for (String method : plan.methods()) {
                for (long seed : plan.seeds()) {
                    k++;
                    String tag = String.format(Locale.ROOT, "[%d/%d] %s seed %d", k, plan.runs(), method, seed);
                    RunResult r = runOne(abs, method, setups.get(method).withSeed(seed), seed, tag, log);
                    if (r == null) {
                        r = RunResult.load(runDir(abs, method, seed));
                        reused++;
                        log.line(tag + ": finished earlier | test " + Evaluator.brief(r.test()));
                    } else {
                        trained++;
                    }
                    results.add(r);
                }
            }
            ComparisonTable table = ComparisonTable.of(new ComparisonTable.TeacherRow(teacherLabel, teacherEval.test()), plan.methods(),
                    results, plan.ours());
            String title = "kdrec compare: " + in.dataDescription().getOrDefault("spec", "data") + ", " + teacherLabel + " -> "
                    + student.model() + " d=" + student.dim() + ", seeds " + plan.seeds();
            AtomicFiles.writeString(abs.resolve(TABLE_MD), "# " + title + "\n\n" + table.markdown() + "\n" + table.notes());
            AtomicFiles.writeString(abs.resolve(TABLE_CSV), table.csv());
            log.line("");
            log.line(table.text());
            log.line("table: " + abs.resolve(TABLE_MD) + " and " + abs.resolve(TABLE_CSV));
            writeCurves(abs, teacherEval, log);
            top.completed();
            return new Outcome(results, table, abs, trained, reused);
        }
    }

    /** Trains one run, or returns null when its result.json says it finished earlier. */
    private RunResult runOne(Path out, String method, Distillation.Setup setup, long seed, String tag, RunLog log) throws IOException {
        Map<String, Object> runConfig = runConfig(setup);
        Path dir = runDir(out, method, seed);
        Files.createDirectories(dir.getParent());
        // no overwrite here: --overwrite already moved OUT aside, so an existing folder is this comparison's own
        try (RunDir run = RunDir.open(dir.getParent(), dir.getFileName().toString(), runConfig, false, null)) {
            if (Files.isRegularFile(run.file(RunResult.FILE))) return null;
            Path last = run.file("last.safetensors");
            Path resumeFrom = Files.isRegularFile(last) ? last : null;
            log.line(tag + ": " + (resumeFrom != null ? "resuming from " + last : "training") + " (log: " + run.file(RunDir.LOG_FILE) + ")");
            run.log().line(setup.logLine() + ", seed " + seed);
            long t0 = System.nanoTime();
            Trainer.Result tr = Distillation.run(setup, in.teacher(), in.data(), new Trainer.Outputs(run.log(), run.metricsCsv(), run.path()),
                    resumeFrom, device);
            RunResult r = RunResult.of(method, seed, tr);
            r.save(run.path());
            run.completed();
            log.line(String.format(Locale.ROOT, "%s: best epoch %d/%d | test %s | %.1f s", tag, r.bestEpoch(), r.epochsRun(),
                    Evaluator.brief(r.test()), (System.nanoTime() - t0) / 1e9));
            return r;
        }
    }

    private Map<String, Object> runConfig(Distillation.Setup setup) {
        Map<String, Object> runConfig = new LinkedHashMap<>(setup.describe());
        runConfig.put("data", in.dataDescription());
        runConfig.put("teacher", in.teacherDescription());
        return runConfig;
    }

    /**
     * Refuses, before anything trains, a resume whose method settings differ from a run that already
     * exists (its own config.yaml); otherwise that run would be refused only when the loop reached it.
     */
    private void checkExistingRuns(Path out, Map<String, Distillation.Setup> setups) throws IOException {
        for (String method : plan.methods()) {
            for (long seed : plan.seeds()) {
                Path cfg = runDir(out, method, seed).resolve(RunDir.CONFIG_FILE);
                if (!Files.isRegularFile(cfg)) continue;
                String diff = kdrec.train.RunConfig.differences(cfg, runConfig(setups.get(method).withSeed(seed)));
                if (diff != null) {
                    throw new IllegalArgumentException(cfg.getParent() + " holds a run with other settings (" + diff + "); resume with the"
                            + " settings it was made with, or start over with --overwrite");
                }
            }
        }
    }

    private void writeCurves(Path out, Evaluator.Result teacherEval, RunLog log) throws IOException {
        Map<String, List<Path>> files = new LinkedHashMap<>();
        for (String m : plan.methods()) {
            List<Path> ps = new ArrayList<>();
            for (long s : plan.seeds()) ps.add(runDir(out, m, s).resolve(RunDir.METRICS_FILE));
            files.put(m, ps);
        }
        Map<String, LearningCurves.Curve> curves = LearningCurves.fromRuns(files);
        if (curves.isEmpty()) {
            log.line("no learning curves: the runs logged no " + LearningCurves.COLUMN + " (the split has no validation part)");
            return;
        }
        Double teacherValid = teacherEval.valid().has("ndcg@10") ? teacherEval.valid().get("ndcg@10") : null;
        LearningCurves.write(out.resolve(CURVES_PNG), "valid NDCG@10 per epoch (mean over seeds " + plan.seeds() + ")", curves, teacherValid);
        log.line("learning curves: " + out.resolve(CURVES_PNG));
    }
}
