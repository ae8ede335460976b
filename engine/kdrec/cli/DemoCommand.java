package kdrec.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
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
 * MF teacher and an MF student from scratch and print their test metrics beside most-popular.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train an MF teacher and a small MF student on the embedded InstEval data and compare them with most-popular.")
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

    @Override
    public Integer call() throws Exception {
        TrainData td = DataOptions.embedded("insteval");
        System.out.println("kdrec demo: " + td.summary());
        Files.createDirectories(out);
        List<List<String>> rows = new ArrayList<>();
        Evaluator.Result pop = new Evaluator(td, 20).mostPopular();
        rows.add(Summary.row("most-popular", pop.test(), null));
        TrainConfig base = TrainConfig.defaults().with(Map.of("epochs", epochs, "seed", seed, "patience", 30));
        rows.add(train("teacher", base.with(Map.of("dim", teacherDim, "weight_decay", 1e-4)), td));
        rows.add(train("student", base.with(Map.of("dim", studentDim, "weight_decay", 1e-4)), td));
        System.out.println();
        System.out.println("test metrics at the best valid epoch (InstEval, 8:1:1 per user, train items masked):");
        System.out.println(Summary.table(rows));
        return 0;
    }

    private List<String> train(String name, TrainConfig cfg, TrainData td) throws Exception {
        Map<String, Object> runCfg = new LinkedHashMap<>(cfg.toMap());
        runCfg.put("data", "insteval");
        try (RunDir run = RunDir.open(out, name, runCfg, true, null); Recommender m = Models.create(cfg, td)) {
            System.out.printf("training the %s (MF, d=%d): log in %s%n", name, cfg.dim(), run.path().resolve(RunDir.LOG_FILE));
            Trainer.Result r = new Trainer(cfg, td, m, new Bpr(), new Trainer.Outputs(run.log(), run.metricsCsv(), run.path())).fit(null);
            return Summary.row(name + " MF d=" + cfg.dim(), r.test(), r);
        }
    }
}
