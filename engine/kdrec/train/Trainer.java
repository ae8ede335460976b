package kdrec.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.device.DeviceRun;
import kdrec.device.DeviceTraining;
import kdrec.eval.EarlyStopping;
import kdrec.eval.Metrics;
import kdrec.loss.Batch;
import kdrec.loss.Objective;
import kdrec.model.Recommender;
import kdrec.nn.Adam;
import kdrec.tensor.Backends;

/**
 * The training loop shared by {@code kdrec train} and the library API: per epoch fresh negatives,
 * a shuffled pass of mini-batches through an {@link Objective} (BPR by default; distillers add
 * their term), evaluation on valid and test, early stopping on valid NDCG@10 with test metrics
 * taken at the best valid epoch, atomic best/last checkpoints and a per-epoch log line.
 *
 * <p>A sequential backbone (HSTU) trains on batches of users instead of train pairs (see
 * {@link #runSequenceEpoch}).
 *
 * <p>At the end the model holds the parameters of the best valid epoch (the last epoch's when the
 * split has no validation part).
 *
 * <p>Randomness is a pure function of (seed, epoch), and the last checkpoint holds the parameters,
 * Adam's moments and step, and the early-stopping state: {@code resume} continues an interrupted
 * run to the same result as an uninterrupted one.
 */
public final class Trainer {
    /** The pair epochs' inputs, one epoch ahead (set for the duration of {@link #fit}). */
    private EpochPairs pairs;

    /** Where a run's outputs go; null members mean "don't write". */
    public record Outputs(RunLog log, MetricsCsv metrics, Path checkpointDir) {
        public static Outputs none() {
            return new Outputs(null, null, null);
        }
    }

    /** The outcome of fit(). */
    public record Result(int bestEpoch, int epochsRun, Metrics bestValid, Metrics test, boolean stoppedEarly, double secondsPerEpoch) {}

    private final TrainConfig cfg;
    private final TrainData data;
    private final Recommender model;
    private final Objective loss;
    private final Outputs out;
    private final Evaluator evaluator;
    private Device device = Device.fromEnvironment();
    private double[] epochSeconds = new double[0];

    public Trainer(TrainConfig cfg, TrainData data, Recommender model, Objective loss, Outputs out) {
        this.cfg = cfg;
        this.data = data;
        this.model = model;
        this.loss = loss;
        this.out = out == null ? Outputs.none() : out;
        this.evaluator = new Evaluator(data, cfg.topK());
    }

    public Recommender model() {
        return model;
    }

    /**
     * The training seconds of each epoch the last {@link #fit} ran, in order (evaluation excluded, as
     * in {@link Result#secondsPerEpoch}); benchmarks take the later epochs of one run, whose scratch
     * and JIT are warm as in a long training run.
     */
    public double[] epochSeconds() {
        return epochSeconds.clone();
    }

    /**
     * Runs the epochs and evaluations on {@code d} (cuda: see {@link DeviceTraining}; the host model
     * and optimiser still receive the parameters after every epoch, so logs, checkpoints, resume and
     * early stopping are the same). Default: cuda under -Dkdrec.backend=cuda, else cpu.
     */
    public Trainer onDevice(Device d) {
        this.device = d;
        return this;
    }

    public Evaluator evaluator() {
        return evaluator;
    }

    /** Trains from scratch, or from {@code resumeFrom} (a last-epoch checkpoint of this run) when given. */
    public Result fit(Path resumeFrom) throws IOException {
        Adam adam = new Adam(model.params(), cfg.lr(), cfg.weightDecay(), cfg.lazyAdam());
        // a distiller's own parameters (feature KD's projectors) get the student's Adam settings, as
        // the reference code puts them in the same optimizer
        kdrec.nn.Params extra = loss.params(model);
        Adam extraAdam = extra == null || extra.all().isEmpty() ? null : new Adam(extra, cfg.lr(), cfg.weightDecay(), cfg.lazyAdam());
        EarlyStopping stopper = new EarlyStopping(EarlyStopping.DEFAULT_METRIC, cfg.patience());
        Metrics bestTest = null, lastValid = null, lastTest = null;
        int startEpoch = 0;
        if (resumeFrom != null) {
            TrainState st = TrainState.restore(resumeFrom, model, adam, extraAdam, loss, data.fingerprint());
            startEpoch = st.epoch() + 1;
            stopper = st.stopper(cfg.patience());
            bestTest = st.bestTest();
            if (out.metrics() != null) out.metrics().dropRowsAfter(st.epoch() + 1); // rows are numbered from 1
            log("resumed from " + resumeFrom + " after epoch " + (st.epoch() + 1)); // as the epoch lines count
        } else if (out.metrics() != null) {
            out.metrics().dropRowsAfter(0); // a start from scratch: rows a crash left before the first checkpoint go
        }
        if (!data.hasValid()) {
            log("no validation split: training " + cfg.epochs() + " epochs and reporting the last epoch (no early stopping)");
        }
        double trainSeconds = 0;
        int epoch = startEpoch, ran = 0;
        epochSeconds = new double[0];
        // The parameters of the best valid epoch, restored into the model at the end (as the papers'
        // code keeps the best state). A resumed run starts from its best checkpoint's copy, if any.
        java.util.List<kdrec.tensor.Tensor> best = new java.util.ArrayList<>();
        for (var p : model.params().all()) best.add(model.params().store().copyOf(p.value()));
        boolean haveBest = resumeFrom != null && Files.isRegularFile(resumeFrom.resolveSibling("best.safetensors"))
                && loadBest(resumeFrom.resolveSibling("best.safetensors"), best);
        if (device == Device.CUDA) DeviceTraining.checkSettings(model.kind(), evaluator.k(), cfg.lazyAdam(), cfg.maxLen(), cfg.maxHeadWidth()); // before any epoch runs
        try (Tape tape = new Tape(Backends.get(), new kdrec.tensor.Scratch());
                 EpochPairs ahead = new EpochPairs(data, cfg.seed());
                 DeviceRun dev = device == Device.CUDA ? DeviceRun.open(model, loss, adam, extraAdam, data.trainPtr(), data.trainItems()) : null) {
            pairs = ahead;
            if (dev != null) log(dev.describe());
            for (; epoch < cfg.epochs(); epoch++) {
                long t0 = System.nanoTime();
                Map<String, Double> parts;
                try {
                    parts = dev != null ? runEpoch(dev, epoch) : runEpoch(tape, adam, extraAdam, epoch);
                } catch (NonFiniteLossException e) {
                    Path last = out.checkpointDir() == null ? null : out.checkpointDir().resolve("last.safetensors");
                    NonFiniteLossException stop = e.after(last != null && Files.isRegularFile(last)
                            ? "the last checkpoint " + last + " is intact; to try a lower lr or lambda, start a new run (another --out, or --overwrite)"
                            : "no checkpoint was written yet; try a lower lr or lambda");
                    if (out.log() != null) out.log().fileOnly("stopped: " + stop.getMessage()); // the caller reports it on the console
                    throw stop;
                }
                // the host copy feeds the best-epoch copy and the checkpoints (Adam's state only the latter)
                if (dev != null) dev.download(out.checkpointDir() != null);
                long t1 = System.nanoTime();
                ran++;
                trainSeconds += (t1 - t0) / 1e9;
                epochSeconds = java.util.Arrays.copyOf(epochSeconds, ran);
                epochSeconds[ran - 1] = (t1 - t0) / 1e9;
                boolean improved = false;
                Metrics valid = null, test;
                if ((epoch + 1) % cfg.evalEvery() == 0 || epoch == cfg.epochs() - 1) {
                    Evaluator.Result r;
                    if (dev != null) {
                        int[] top = dev.rankAll(evaluator.k());
                        r = evaluator.evaluate(top, model.testFromLongerHistory() ? dev.rankAllForTest(evaluator.k()) : top);
                    } else {
                        r = evaluator.evaluate(tape, model);
                    }
                    valid = r.valid();
                    test = r.test();
                    lastValid = valid;
                    lastTest = test;
                    if (data.hasValid()) {
                        improved = stopper.update(epoch, valid);
                        if (improved) {
                            bestTest = test;
                            var ps = model.params().all();
                            for (int i = 0; i < ps.size(); i++) ps.get(i).value().copyTo(best.get(i));
                            haveBest = true;
                        }
                    }
                } else {
                    test = null;
                }
                long t2 = System.nanoTime();
                logEpoch(epoch, parts, (t1 - t0) / 1e9, (t2 - t1) / 1e9, valid, test, improved);
                if (dev != null) logProfile(dev, epoch);
                saveCheckpoints(epoch, adam, extraAdam, stopper, bestTest, improved);
                if (data.hasValid() && stopper.shouldStop()) {
                    log(String.format("early stop: valid %s has not improved for %d evaluations (best epoch %d)",
                            stopper.metric(), stopper.patience(), stopper.bestEpoch() + 1));
                    break;
                }
            }
        }
        if (data.hasValid() && haveBest) {
            var ps = model.params().all();
            for (int i = 0; i < ps.size(); i++) best.get(i).copyTo(ps.get(i).value());
        }
        boolean early = epoch < cfg.epochs();
        int epochsRun = Math.min(epoch + 1, cfg.epochs());
        double perEpoch = ran == 0 ? 0 : trainSeconds / ran;
        if (data.hasValid()) return new Result(stopper.bestEpoch(), epochsRun, stopper.bestMetrics(), bestTest, early, perEpoch);
        return new Result(epochsRun - 1, epochsRun, lastValid, lastTest, false, perEpoch);
    }

    private boolean loadBest(Path file, java.util.List<kdrec.tensor.Tensor> best) throws IOException {
        Checkpoint c = Checkpoint.loadCopy(file);
        var ps = model.params().all();
        for (int i = 0; i < ps.size(); i++) {
            kdrec.tensor.Tensor t = c.tensors().get(ps.get(i).name());
            if (t == null || !t.sameShape(best.get(i))) return false;
            t.copyTo(best.get(i));
        }
        return true;
    }

    private Map<String, Double> runEpoch(Tape tape, Adam adam, Adam extraAdam, int epoch) {
        tape.reset();
        try (var ng = tape.noGrad()) {
            loss.beginEpoch(tape, model, epoch);
        }
        BatchStep onHost = (batch, batchNo, sums) -> step(tape, adam, extraAdam, batch, epoch, batchNo, sums);
        return model.sequential() ? runSequenceEpoch(epoch, onHost) : runPairEpoch(epoch, onHost);
    }

    /** An epoch on the device: the same batches as the host's, each one device step. */
    private Map<String, Double> runEpoch(DeviceRun dev, int epoch) {
        dev.beginEpoch(epoch);
        BatchStep onDevice = (batch, batchNo, sums) -> addParts(dev.step(batch), epoch, batchNo, sums);
        return model.sequential() ? runSequenceEpoch(epoch, onDevice) : runPairEpoch(epoch, onDevice);
    }

    private interface BatchStep {
        void run(Batch batch, int batchNo, Map<String, Double> sums);
    }

    /**
     * The epoch's batches of train pairs (fresh negatives, seeded shuffle), each handed to {@code step};
     * the pairs come from {@link EpochPairs}, which prepares the next epoch's while this one runs.
     */
    private Map<String, Double> runPairEpoch(int epoch, BatchStep stepper) {
        EpochPairs.Epoch ep = pairs != null ? pairs.take(epoch, epoch + 1 < cfg.epochs()) : EpochPairs.build(data, cfg.seed(), epoch);
        java.util.LinkedHashMap<String, Double> sums = new java.util.LinkedHashMap<>();
        int n = ep.size(), bs = cfg.batchSize();
        try (Progress progress = Progress.start("epoch " + (epoch + 1), (n + bs - 1) / bs)) {
            for (int from = 0; from < n; from += bs) {
                int m = Math.min(bs, n - from);
                stepper.run(EpochPairs.batch(ep, from, m), from / bs + 1, sums);
                progress.step();
            }
        }
        return sums;
    }

    /**
     * A sequential backbone's epoch: batch = batch_size users (one sequence each) in a seeded
     * shuffled order of the users with train items; the objective reads their sequences.
     */
    private Map<String, Double> runSequenceEpoch(int epoch, BatchStep stepper) {
        if (loss instanceof kdrec.loss.Bpr) {
            throw new IllegalArgumentException("model " + model.kind() + " is sequential: train it with a sequence loss (Models.objective), not BPR");
        }
        int[] ptr = data.trainPtr();
        int n = 0;
        int[] order = new int[data.users()];
        for (int u = 0; u < data.users(); u++) if (ptr[u + 1] > ptr[u]) order[n++] = u;
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(cfg.seed() * 0x9E3779B97F4A7C15L + epoch * 0xD1B54A32D192ED03L + 17);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1), x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
        java.util.LinkedHashMap<String, Double> sums = new java.util.LinkedHashMap<>();
        int bs = cfg.batchSize();
        try (Progress progress = Progress.start("epoch " + (epoch + 1), (n + bs - 1) / bs)) {
            for (int from = 0; from < n; from += bs) {
                int[] u = java.util.Arrays.copyOfRange(order, from, Math.min(n, from + bs));
                stepper.run(Batch.ofUsers(u, epoch), from / bs + 1, sums);
                progress.step();
            }
        }
        return sums;
    }

    /** One optimisation step on one batch: the loss parts are checked for NaN/Inf and added to sums. */
    private void step(Tape tape, Adam adam, Adam extraAdam, Batch batch, int epoch, int batchNo, Map<String, Double> sums) {
        tape.reset();
        model.params().zeroGrad();
        if (extraAdam != null) for (var v : extraAdam.params()) v.zeroGrad();
        addParts(loss.step(tape, model, batch), epoch, batchNo, sums);
        adam.step(tape);
        if (extraAdam != null) extraAdam.step(tape);
    }

    /** Adds a step's loss parts to the epoch's sums, stopping the run on a NaN or infinite part. */
    private static void addParts(Map<String, Double> parts, int epoch, int batchNo, Map<String, Double> sums) {
        for (var e : parts.entrySet()) {
            double v = e.getValue();
            if (!Double.isFinite(v)) throw new NonFiniteLossException(epoch + 1, batchNo, e.getKey());
            sums.merge(e.getKey(), v, Double::sum);
        }
    }

    private void saveCheckpoints(int epoch, Adam adam, Adam extraAdam, EarlyStopping stopper, Metrics bestTest, boolean improved) throws IOException {
        Path dir = out.checkpointDir();
        if (dir == null) return;
        Files.createDirectories(dir);
        // last.safetensors goes last: a resume restarts after the epoch it holds, so the files that epoch
        // writes (its best, its --save-every file) must exist once it does; a crash before it replays the epoch
        if (improved || !data.hasValid()) Checkpoints.modelOnly(model, data, cfg, epoch).save(dir.resolve("best.safetensors"));
        if (cfg.saveEvery() > 0 && (epoch + 1) % cfg.saveEvery() == 0) {
            Checkpoints.modelOnly(model, data, cfg, epoch).save(dir.resolve(String.format("epoch_%04d.safetensors", epoch + 1)));
        }
        TrainState state = new TrainState(epoch, stopper, bestTest);
        Checkpoint last = state.checkpoint(model, adam, extraAdam, data, cfg, loss);
        last.save(dir.resolve("last.safetensors"));
    }

    /** A loss for the log: four decimals, or four significant digits in exponent form once it is huge (a diverging run). */
    static String lossText(double v) {
        return Math.abs(v) >= 1e9 ? String.format(java.util.Locale.ROOT, "%.4e", v) : String.format(java.util.Locale.ROOT, "%.4f", v);
    }

    private void logEpoch(int epoch, Map<String, Double> parts, double trainS, double evalS, Metrics valid, Metrics test, boolean improved) {
        if (out.log() == null && out.metrics() == null) return;
        StringBuilder sb = new StringBuilder(String.format("epoch %4d/%d", epoch + 1, cfg.epochs()));
        double total = 0;
        for (double v : parts.values()) total += v;
        sb.append(" | loss ").append(lossText(total));
        if (parts.size() > 1) for (var e : parts.entrySet()) sb.append(' ').append(e.getKey()).append(' ').append(lossText(e.getValue()));
        sb.append(String.format(java.util.Locale.ROOT, " | train %.2fs eval %.2fs", trainS, evalS));
        if (valid != null && data.hasValid()) sb.append(" | valid ").append(Evaluator.brief(valid));
        if (test != null) sb.append(" | test ").append(Evaluator.brief(test));
        if (improved) sb.append(" *");
        log(sb.toString());
        if (out.metrics() != null) {
            java.util.LinkedHashMap<String, Object> row = new java.util.LinkedHashMap<>();
            row.put("epoch", epoch + 1);
            row.put("loss", total);
            for (var e : parts.entrySet()) row.put("loss_" + e.getKey(), e.getValue());
            row.put("train_seconds", trainS);
            row.put("eval_seconds", evalS);
            // an epoch without evaluation (eval_every > 1) leaves its metric cells empty: every row has the same columns
            java.util.List<String> names = kdrec.eval.RankingMetrics.names();
            if (data.hasValid()) for (String k : names) row.put("valid_" + k, valid == null ? null : valid.get(k));
            for (String k : names) row.put("test_" + k, test == null ? null : test.get(k));
            row.put("improved", improved);
            out.metrics().append(row);
        }
    }

    /**
     * Under {@code -Dkdrec.device.profile=true}: the device epoch's per-phase times (see
     * kdrec.device.StepProfile), one log line per phase, then fresh counts for the next epoch.
     */
    private void logProfile(DeviceRun dev, int epoch) {
        String report = dev.profileReport();
        if (report == null) return;
        for (String line : report.split("\n")) log("profile epoch " + (epoch + 1) + ": " + line);
        dev.resetProfile();
    }

    private void log(String line) {
        if (out.log() != null) out.log().line(line);
    }

    /** A NaN or infinite loss part: the run stops naming the epoch, the batch and the loss term. */
    public static final class NonFiniteLossException extends RuntimeException {
        private final String what;

        public NonFiniteLossException(int epoch, int batch, String term) {
            this("loss term '" + term + "' became NaN or infinite at epoch " + epoch + ", batch " + batch, null);
        }

        private NonFiniteLossException(String what, String checkpoint) {
            super(what + "; " + (checkpoint == null ? "try a lower lr or lambda" : checkpoint));
            this.what = what;
        }

        /** The same stop, saying what the run has to resume from (this one as the cause, for its stack). */
        NonFiniteLossException after(String checkpoint) {
            NonFiniteLossException e = new NonFiniteLossException(what, checkpoint);
            e.initCause(this);
            return e;
        }
    }

}
