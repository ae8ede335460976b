package kdrec.bench;

import java.util.Arrays;
import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.cpu.Parallel;
import kdrec.data.Dataset;
import kdrec.data.Preprocess;
import kdrec.data.Synthetic;
import kdrec.loss.Bpr;
import kdrec.model.Recommender;
import kdrec.tensor.Backends;
import kdrec.train.Evaluator;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;

/**
 * Seconds for one MF-BPR epoch and one full evaluation pass (every user against every item, train
 * masked, top-20) on a Gowalla-sized synthetic set: 30k users, 41k items, ~810k train interactions.
 * Usage: {@code java ... kdrec.bench.EpochBench [dim] [epochs] [model] [lazyAdam]}; prints one line per epoch and
 * the medians (the first epoch includes JIT warm-up and is excluded from them).
 */
public final class EpochBench {
    public static void main(String[] args) throws Exception {
        BenchArgs cli = new BenchArgs("bench/train_epoch.sh [dim (64)] [epochs (4)] [model: mf or lightgcn (mf)] [lazyAdam: true or false (false)]", args);
        int dim = cli.integer(0, "dim", 64, 1);
        int epochs = cli.integer(1, "epochs", 4, 1);
        String model = cli.str(2, "mf");
        if (!model.equals("mf") && !model.equals("lightgcn")) throw cli.fail("model must be mf or lightgcn, got '" + model + "'");
        String lazyArg = cli.str(3, "false");
        if (!lazyArg.equals("true") && !lazyArg.equals("false")) throw cli.fail("lazyAdam must be true or false, got '" + lazyArg + "'");
        boolean lazy = Boolean.parseBoolean(lazyArg);
        long t0 = System.nanoTime();
        Dataset ds = new Preprocess(null, 0, 0, true).apply("gowalla-sized synthetic", Synthetic.gowallaSized(1).generate());
        TrainData td = new TrainData(ds);
        System.out.printf("data: %s (generated in %.1fs)%n", ds.summary(), (System.nanoTime() - t0) / 1e9);
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("model", model, "dim", dim, "epochs", 1, "eval_every", 1,
                "lazy_adam", lazy));
        double[] train = new double[epochs], eval = new double[epochs];
        try (Recommender m = Models.create(cfg, td); Tape tape = new Tape()) {
            Evaluator ev = new Evaluator(td, 20);
            for (int e = 0; e < epochs; e++) {
                TrainConfig one = cfg.with(Map.of("seed", e));
                long a = System.nanoTime();
                new Trainer(one, td, m, new Bpr(), Trainer.Outputs.none()).fit(null); // one epoch (+ one eval inside)
                long b = System.nanoTime();
                tape.reset();
                ev.evaluate(tape, m);
                long c = System.nanoTime();
                eval[e] = (c - b) / 1e9;
                train[e] = (b - a) / 1e9 - eval[e]; // fit() evaluated once too: subtract one evaluation
                System.out.printf("epoch %d: train %.2fs, eval %.2fs%n", e + 1, train[e], eval[e]);
            }
        }
        System.out.printf("%s d=%d, %s Adam, %d threads, backend %s: median BPR epoch %.2fs, median full evaluation %.2fs (%d users x %d items)%n",
                model, dim, lazy ? "lazy" : "dense", Parallel.threads(), Backends.get().name(), median(train), median(eval), td.users(), td.items());
    }

    static double median(double[] x) {
        double[] y = Arrays.copyOfRange(x, x.length > 1 ? 1 : 0, x.length);
        Arrays.sort(y);
        return y[y.length / 2];
    }
}
