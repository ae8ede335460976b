package kdrec.cli;

import kdrec.tensor.Diagnostics;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import kdrec.model.Recommender;
import kdrec.train.Checkpoints;
import kdrec.train.Evaluator;
import kdrec.train.Models;
import kdrec.train.RunDir;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kdrec train}: train a recommender (MF or LightGCN) with BPR, early stopping and checkpoints. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train MF or LightGCN (BPR) or HSTU (softmax over sequences) on a dataset; writes runs/NAME/{log,config.yaml,metrics.csv,best.safetensors,last.safetensors}.",
                "Settings resolve as: defaults < --preset < --config YAML < explicit options < --set key=value."})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    DataOptions data;

    @Mixin
    DeviceOption device;

    @Option(names = "--model", description = "Backbone: ${COMPLETION-CANDIDATES} (default mf).", completionCandidates = ModelNames.class)
    String model;

    @Option(names = "--dim", description = "Embedding size (default 64).")
    Integer dim;

    @Option(names = "--layers", description = "LightGCN propagation layers (default 3).")
    Integer layers;

    @Option(names = "--epochs", description = "Maximum epochs (default 1000).")
    Integer epochs;

    @Option(names = "--patience", description = "Early-stopping patience on valid NDCG@10 (default 30).")
    Integer patience;

    @Option(names = "--seed", description = "Random seed (default 0).")
    Long seed;

    @Option(names = "--save-every", description = "Also keep a checkpoint every N epochs (HetComp trajectories); 0 = off.")
    Integer saveEvery;

    @Option(names = "--preset", description = "Start from the reference configs' teacher row for this dataset (width, depth, weight decay, batch;"
            + " HSTU's size and loss settings): citeulike, gowalla, yelp. --config, options and --set win over it.")
    String preset;

    @Option(names = "--config", description = "YAML file of settings (keys: ${sys:kdrec.trainKeys}).")
    Path config;

    @Option(names = "--set", description = "Override one setting, key=value (repeatable).", paramLabel = "KEY=VALUE")
    List<String> sets = List.of();

    @Option(names = "--out", required = true, description = "Run directory, e.g. runs/mf64 (its parent is created).")
    Path out;

    @Option(names = "--resume", description = "Continue the interrupted run in --out from its last checkpoint.")
    boolean resume;

    @Option(names = "--overwrite", description = "Replace an existing run in --out.")
    boolean overwrite;

    static {
        System.setProperty("kdrec.trainKeys", String.join(", ", TrainConfig.KEYS));
    }

    @Override
    public Integer call() throws Exception {
        if (resume && overwrite) throw new Cli.BadFlagValue("--resume and --overwrite exclude each other", null);
        Map<String, Object> explicit = new LinkedHashMap<>();
        if (model != null) explicit.put("model", model);
        if (dim != null) explicit.put("dim", dim);
        if (layers != null) explicit.put("layers", layers);
        if (epochs != null) explicit.put("epochs", epochs);
        if (patience != null) explicit.put("patience", patience);
        if (seed != null) explicit.put("seed", seed);
        if (saveEvery != null) explicit.put("save_every", saveEvery);
        TrainConfig cfg = Settings.resolve(preset, config, explicit, sets);
        if (!cfg.kdEncoding().equals("shared")) {
            kdrec.tensor.Diagnostics.notice("kd_encoding=" + cfg.kdEncoding()
                    + " matters only when the model is distilled (distill, compare); train records it and runs as usual");
        }
        kdrec.train.Device dev = device.get();
        if (dev == kdrec.train.Device.CUDA) kdrec.device.DeviceTraining.checkSettings(cfg.model(), cfg.topK(), cfg.lazyAdam(), cfg.maxLen(), cfg.maxHeadWidth());
        TrainData td = data.load();
        Map<String, Object> runConfig = new LinkedHashMap<>(cfg.toMap());
        runConfig.put("data", data.describe());
        Path parent = RunDir.prepareParent(out);
        RunDir.refuseOtherKind(out, RunDir.Kind.TRAIN);
        if (Files.isRegularFile(out.resolve(RunDir.CONFIG_FILE)) && !resume && !overwrite) {
            throw new IllegalArgumentException(out + " already holds a run; pass --resume to continue it or --overwrite to replace it");
        }
        try (RunDir run = RunDir.open(parent, out.toAbsolutePath().normalize().getFileName().toString(), runConfig, overwrite && !resume, System.out);
                 Diagnostics.Redirect notices = Cli.routeDiagnostics(run.log())) {
            Path last = run.path().resolve("last.safetensors");
            Path resumeFrom = resume && Files.isRegularFile(last) ? last : null;
            if (resume && resumeFrom == null) run.log().line("nothing to resume in " + out + " (no last.safetensors): starting afresh");
            run.log().line("data: " + td.summary());
            try (Recommender m = Models.create(cfg, td)) {
                run.log().line("model: " + m.describe() + ", " + m.params().count() + " parameters");
                Trainer trainer = new Trainer(cfg, td, m, Models.objective(cfg), new Trainer.Outputs(run.log(), run.metricsCsv(), run.path()))
                        .onDevice(dev);
                Trainer.Result r = trainer.fit(resumeFrom);
                Evaluator.Result pop = trainer.evaluator().mostPopular();
                run.log().line("");
                run.log().line(Summary.table(List.of(Summary.row("most-popular", pop.test(), null),
                        Summary.row(cfg.model() + " d=" + cfg.dim(), r.test(), r))));
                run.log().line("best checkpoint: " + run.path().resolve("best.safetensors"));
                run.completed();
            }
        }
        return 0;
    }

    /** Candidates for --model. */
    static final class ModelNames extends java.util.ArrayList<String> {
        ModelNames() {
            super(TrainConfig.MODELS);
        }
    }

    static Recommender loadForEval(Path checkpoint, TrainData td) throws java.io.IOException {
        return Checkpoints.load(checkpoint, td);
    }
}
