package kdrec.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import kdrec.kd.Distillation;
import kdrec.kd.Teacher;
import kdrec.kd.compare.Comparison;
import kdrec.kd.compare.ComparisonPlan;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kdrec compare}: every method x every seed against one teacher, summarised as the papers' Table 1. */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compare KD methods over several seeds against one frozen teacher, as the papers' Table 1.",
                "Every method x seed is a kdrec distill run. The table: test R@10/N@10/R@20/N@20 at the best valid epoch, mean ± std",
                "over seeds, the gain of --ours over the best other KD baseline per metric and its paired t-test p-value (by seed);",
                "the chart: valid NDCG@10 per epoch, mean over seeds, one line per method.",
                "Writes OUT/{table.md,table.csv,valid_ndcg10.png,config.yaml,log} and OUT/runs/METHOD/seedS/.",
                "--set KEY=VALUE: plain keys go to every student, lambda to every KD method, METHOD.KEY to that method only."})
final class CompareCommand implements Callable<Integer> {
    @Mixin
    DataOptions data;

    @Mixin
    StudentOptions students;

    @Mixin
    DeviceOption device;

    // split here, not by picocli, whose split drops a trailing empty name: "ce," must be refused, not read as "ce"
    @Option(names = "--methods", paramLabel = "M1,M2,...", hideParamSyntax = true,
            description = "Methods to compare (default: all): ${sys:kdrec.kdMethods}. METHOD@LABEL adds a variant with its own row"
                    + " and run folder, set by --set METHOD@LABEL.KEY=VALUE (e.g. freqd,freqd@exp).")
    List<String> methods;

    @Option(names = "--seeds", defaultValue = "5", description = "Runs per method, seeds SEED_BASE .. SEED_BASE+N-1 (default: ${DEFAULT-VALUE}).")
    int seeds;

    @Option(names = "--seed-base", defaultValue = "0", description = "First seed (default: ${DEFAULT-VALUE}).")
    long seedBase;

    @Option(names = "--ours", description = "The method whose gain over the best other KD baseline is reported (default: rcekd when compared).")
    String ours;

    @Option(names = "--set", description = "Override one setting, KEY=VALUE (repeatable); see above for who gets it.", paramLabel = "KEY=VALUE")
    List<String> sets = List.of();

    @Option(names = "--out", required = true, description = "Comparison folder, e.g. runs/C (its parent is created).")
    Path out;

    @Option(names = "--resume", description = "Continue the comparison in --out: finished runs are kept, interrupted ones resume.")
    boolean resume;

    @Option(names = "--overwrite", description = "Delete the comparison in --out and start over.")
    boolean overwrite;

    static final String DEFAULT_OURS = "rcekd";

    @Override
    public Integer call() throws Exception {
        if (resume && overwrite) throw new Cli.BadFlagValue("--resume and --overwrite exclude each other", null);
        kdrec.train.Device dev = device.get();
        List<String> names = methods == null || methods.isEmpty() ? Distillation.methodNames()
                : methods.stream().flatMap(v -> java.util.Arrays.stream(v.split(",", -1))).toList();
        String o = ours;
        if (o == null && names.stream().anyMatch(m -> m.trim().equalsIgnoreCase(DEFAULT_OURS))) o = DEFAULT_OURS;
        String oursOrDefault = o;
        ComparisonPlan plan = Cli.flagValues(() -> ComparisonPlan.of(names, seeds, seedBase, oursOrDefault, Settings.parseSets(sets)));
        Map<String, Object> studentKeys = students.studentKeys();
        TrainConfig studentCfg = Cli.flagValues(() -> Distillation.studentConfig(students.preset, studentKeys, plan.studentOverrides()));
        Path teacherPath = students.teacher();
        String teacherKind = students.teacherKind();
        if (teacherKind != null) Cli.flagValues(() -> plan.resolve(studentCfg, students.preset, teacherKind)); // before the data loads
        TrainData td = data.load();
        try (Teacher teacher = Teacher.load(teacherPath, td)) {
            // each method's settings (--set METHOD.KEY, lambda), refused as flag values (above, when the header named the
            // teacher's kind); the comparison resolves them again
            if (!teacher.model().kind().equals(teacherKind)) Cli.flagValues(() -> plan.resolve(studentCfg, students.preset, teacher.model().kind()));
            var inputs = new Comparison.Inputs(td, data.describe(), teacher, teacherPath.toString());
            new Comparison(plan, studentCfg, students.preset, inputs).onDevice(dev).run(out, resume, overwrite, System.out);
        }
        return 0;
    }
}
