package kdrec.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.data.Datasets;
import kdrec.gpu.CudaProbe;
import kdrec.gpu.RequiresGpu;
import kdrec.kd.Distillation;
import kdrec.kd.Teacher;
import kdrec.loss.Bpr;
import kdrec.model.Recommender;
import kdrec.nn.Adam;
import kdrec.train.Device;
import kdrec.train.Evaluator;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code --device cuda} against the CPU: after one epoch from the same seed the parameters agree to
 * float noise (the same batches and negatives; the device sums gradients in another order), the
 * metrics after several epochs agree within run-to-run noise, device ranking equals the host's. The
 * refusals of what the device path does not run need no GPU and run everywhere.
 */
class DeviceTrainingTest {
    // small enough for the emulated driver (native/emu/driver: every CUDA thread an OS thread)
    static final TrainData DATA = new TrainData(Datasets.loadUnchecked("synthetic:users=48,items=40,per_user=8,clusters=4,seed=5"));

    // KD settings of the device tests (small sets: K, M, L of a few items), shared with DeviceSequenceTrainingTest
    static final Object[] RCEKD = {"rcekd", Map.of("rcekd.k", 6, "rcekd.m", 15, "rcekd.l", 4, "lambda", 0.5)};
    static final Object[] RCEKD_NO_SAMPLING = {"rcekd", Map.of("rcekd.k", 6, "rcekd.sampling", false, "lambda", 0.5)};
    static final Object[] RCEKD_FULL_CE = {"rcekd", Map.of("rcekd.full_ce", true, "rcekd.k", 5, "rcekd.m", 10, "rcekd.l", 3, "lambda", 0.5)};
    static final Object[] CE_TEACHER = {"ce", Map.of("ce.k", 8, "ce.tau", 2.0, "lambda", 2.0)};
    static final Object[] CE_STUDENT = {"ce", Map.of("ce.k", 8, "ce.guide", "student", "lambda", 2.0)};
    static final Object[] CD = {"cd", Map.of("cd.rank_k", 10, "cd.n_distill", 3, "lambda", 0.5)};
    static final Object[] RD = {"rd", Map.of("rd.topk", 5, "rd.dynamic_sample", 10, "rd.start_epoch", 1, "lambda", 0.5)};
    static final Object[] DCD = {"dcd", Map.of("dcd.k", 5, "dcd.mxk", 12, "lambda", 0.5)};

    static TrainConfig cfg(String model, int epochs) {
        return TrainConfig.defaults().with(Map.of("model", model, "dim", 8, "epochs", epochs, "batch_size", 64, "lr", 0.01,
                "layers", 2, "patience", 50));
    }

    /** Trains {@code c} on {@code device}; returns the user table then the item table. */
    static float[][] train(TrainConfig c, Device device) throws Exception {
        try (Recommender m = Models.create(c, DATA)) {
            new Trainer(c, DATA, m, new Bpr(), Trainer.Outputs.none()).onDevice(device).fit(null);
            return new float[][] {m.params().get("user").value().toArray(), m.params().get("item").value().toArray()};
        }
    }

    /** An MF teacher of width 16 trained {@code epochs} epochs of BPR on the CPU (the caller closes it, or a Teacher does). */
    static Recommender trainedTeacher(int epochs) throws Exception {
        TrainConfig tc = cfg("mf", epochs).with(Map.of("dim", 16));
        Recommender teacherModel = Models.create(tc, DATA);
        new Trainer(tc, DATA, teacherModel, new Bpr(), Trainer.Outputs.none()).fit(null);
        return teacherModel;
    }

    /** Norm-wise relative difference ||a - b|| / ||a||. */
    static double relative(float[] a, float[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
            den += (double) a[i] * a[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    @Test
    void deviceFlagSaysWhatIsAllowed() {
        var e = assertThrows(IllegalArgumentException.class, () -> Device.parse("tpu"));
        assertTrue(e.getMessage().contains("cpu, cuda"), e.getMessage());
        assertEquals(Device.CUDA, Device.parse("CUDA"));
        assertEquals(Device.CPU, Device.parse("cpu"));
    }

    @Test
    void unsupportedRunsAreRefusedBeforeAnyCudaCall() throws Exception {
        TrainConfig c = cfg("mf", 1);
        try (Recommender m = Models.create(c, DATA); Teacher t = Teacher.of(Models.create(c, DATA))) {
            // every method is accepted (a twin, or its term on the host)
            DeviceTraining.checkSupported(m, Distillation.objective(Distillation.resolve("ce", c, null, "mf", Map.of("ce.k", 5)), t, DATA));
            DeviceTraining.checkSupported(m, Distillation.objective(Distillation.resolve("cd", c, null, "mf", Map.of()), t, DATA));
            Distillation.Setup full = Distillation.resolve("rcekd", c, null, "mf", Map.of("rcekd.full_ce", true, "rcekd.k", 5, "rcekd.m", 10, "rcekd.l", 3));
            DeviceTraining.checkSupported(m, Distillation.objective(full, t, DATA));
            Distillation.checkOnDevice(Distillation.resolve("fitnet", c, null, "mf", Map.of()), 5000);
            var e = assertThrows(IllegalArgumentException.class, () -> Distillation.checkOnDevice(Distillation.resolve("rcekd", c, null, "mf", Map.of("rcekd.m", 2000)), 5000));
            assertTrue(e.getMessage().contains("rcekd.m = 2000 exceeds the GPU top-K limit"), e.getMessage());
            // clipped at the item count, or not ranked at all without sampling: accepted
            Distillation.checkOnDevice(Distillation.resolve("rcekd", c, null, "mf", Map.of("rcekd.m", 2000)), 800);
            Distillation.checkOnDevice(Distillation.resolve("rcekd", c, null, "mf", Map.of("rcekd.m", 2000, "rcekd.sampling", false)), 5000);
            DeviceTraining.checkSupported(m, new Bpr()); // BPR on MF: accepted (with dense or lazy Adam)
        }
        TrainConfig h = TrainConfig.defaults().with(Map.of("model", "hstu", "dim", 8, "epochs", 1));
        try (Recommender m = Models.create(h, DATA)) {
            DeviceTraining.checkSupported(m, Models.objective(h)); // HSTU with its sequence loss: accepted (DeviceSequenceTraining)
            var e = assertThrows(IllegalArgumentException.class, () -> DeviceTraining.checkSupported(m, new Bpr()));
            assertTrue(e.getMessage().contains("alone or under a KD term; Bpr runs with --device cpu"), e.getMessage());
        }
    }

    @Test
    void withoutAGpuTheDeviceRunSaysWhy() throws Exception {
        if (CudaProbe.available()) return; // covered by the GPU tests below
        TrainConfig c = cfg("mf", 1);
        try (Recommender m = Models.create(c, DATA)) {
            var e = assertThrows(IllegalStateException.class,
                    () -> new Trainer(c, DATA, m, new Bpr(), Trainer.Outputs.none()).onDevice(Device.CUDA).fit(null));
            assertTrue(e.getMessage().contains("--device cuda: no usable GPU here (" + CudaProbe.status().description()), e.getMessage());
        }
    }

    @Nested
    @Tag("gpu")
    @ExtendWith(RequiresGpu.class)
    class OnGpu {
        @Test
        void oneEpochMatchesTheCpu() throws Exception {
            long before = CudaProbe.cuda().allocatedBytes();
            for (String model : new String[] {"mf", "lightgcn"}) {
                float[][] cpu = train(cfg(model, 1), Device.CPU), gpu = train(cfg(model, 1), Device.CUDA);
                for (int t = 0; t < 2; t++) {
                    double rel = relative(cpu[t], gpu[t]);
                    assertTrue(rel < 1e-4, model + (t == 0 ? " user" : " item") + " table after one epoch: relative difference " + rel);
                }
            }
            assertEquals(before, CudaProbe.cuda().allocatedBytes(), "device bytes leaked by the runs");
        }

        @Test
        void metricsMatchTheCpuWithinNoise() throws Exception {
            for (String model : new String[] {"mf", "lightgcn"}) {
                TrainConfig c = cfg(model, 4);
                double[] ndcg = new double[2];
                for (Device d : Device.values()) {
                    try (Recommender m = Models.create(c, DATA)) {
                        ndcg[d.ordinal()] = new Trainer(c, DATA, m, new Bpr(), Trainer.Outputs.none()).onDevice(d).fit(null).test().get("ndcg@10");
                    }
                }
                assertEquals(ndcg[0], ndcg[1], 0.01, model + " test NDCG@10, cpu vs cuda");
            }
        }

        @Test
        void deviceRankingEqualsTheHostRanking() throws Exception {
            TrainConfig c = cfg("lightgcn", 1);
            try (Recommender m = Models.create(c, DATA); Tape tape = new Tape()) {
                Evaluator ev = new Evaluator(DATA, 20);
                int[] host = ev.rankAll(tape, m.inference(tape));
                int[] dev = DeviceRanking.rankAll(m, 20, DATA.trainPtr(), DATA.trainItems());
                assertArrayEquals(host, dev, "top-20 ids, train items excluded");
            }
            // any backbone evaluates on the device: HSTU's user states come from the host, the ranking from the GPU
            TrainConfig h = TrainConfig.defaults().with(Map.of("model", "hstu", "dim", 8, "epochs", 1, "test_history", "train_valid"));
            try (Recommender m = Models.create(h, DATA); Tape tape = new Tape()) {
                Evaluator ev = new Evaluator(DATA, 20);
                assertTrue(m.testFromLongerHistory(), "test lists ranked from the longer histories too");
                Evaluator.Result host = ev.evaluate(tape, m), dev = ev.evaluateOnDevice(tape, m);
                assertEquals(host.valid().toString(), dev.valid().toString(), "hstu valid metrics");
                assertEquals(host.test().toString(), dev.test().toString(), "hstu test metrics");
                assertArrayEquals(ev.rankAll(tape, m.inference(tape)), DeviceRanking.rankAll(m, tape, 20, DATA.trainPtr(), DATA.trainItems()),
                        "hstu top-20 ids");
            }
            // an HSTU teacher on the device: valid from its resident states, test from the longer histories
            Recommender hm = Models.create(h, DATA);
            try (Teacher t = Teacher.of(hm).onDevice(Device.CUDA); Tape tape = new Tape()) { // the teacher closes the model
                Evaluator ev = new Evaluator(DATA, 20);
                Evaluator.Result host = ev.evaluate(tape, hm), dev = t.evaluate(ev, DATA);
                assertEquals(host.valid().toString(), dev.valid().toString(), "hstu teacher valid metrics");
                assertEquals(host.test().toString(), dev.test().toString(), "hstu teacher test metrics");
            }
        }

        @Test
        void aNonFiniteLossOnTheDeviceStopsTheRunNamingTheTerm() throws Exception {
            TrainConfig c = cfg("mf", 2);
            long before = CudaProbe.cuda().allocatedBytes();
            try (Recommender m = Models.create(c, DATA)) {
                m.params().get("user").value().fill(Float.NaN);
                var e = assertThrows(Trainer.NonFiniteLossException.class,
                        () -> new Trainer(c, DATA, m, new Bpr(), Trainer.Outputs.none()).onDevice(Device.CUDA).fit(null));
                assertTrue(e.getMessage().contains("'bpr'") && e.getMessage().contains("epoch 1") && e.getMessage().contains("batch 1"), e.getMessage());
            }
            assertEquals(before, CudaProbe.cuda().allocatedBytes(), "a failed run frees its device buffers");
        }

        @Test
        void aDeviceRunResumesFromItsCheckpointOnEitherDevice(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
            TrainConfig full = cfg("lightgcn", 4), half = cfg("lightgcn", 2);
            float[] straight = train(full, Device.CUDA)[0];
            for (Device second : Device.values()) {
                java.nio.file.Path run = dir.resolve("to-" + second.flag());
                try (Recommender m = Models.create(half, DATA)) {
                    new Trainer(half, DATA, m, new Bpr(), new Trainer.Outputs(null, null, run)).onDevice(Device.CUDA).fit(null);
                }
                try (Recommender m = Models.create(full, DATA)) {
                    Trainer.Result r = new Trainer(full, DATA, m, new Bpr(), new Trainer.Outputs(null, null, run)).onDevice(second)
                            .fit(run.resolve("last.safetensors"));
                    assertEquals(4, r.epochsRun());
                    assertTrue(r.bestEpoch() >= 2, "the comparison means something only if the best epoch comes after the resume: " + r.bestEpoch());
                    // both runs end holding their best valid epoch's parameters: the resumed run must end where the
                    // uninterrupted one does (up to the device's summation order, and the CPU's for the second half)
                    double rel = relative(straight, m.params().get("user").value().toArray());
                    assertTrue(rel < 1e-3, "resumed on " + second.flag() + ": relative difference " + rel + " to the uninterrupted device run");
                }
            }
        }

        @Test
        void teacherListsAndLogitsOnTheDeviceEqualTheHosts() throws Exception {
            try (Teacher t = Teacher.of(Models.create(cfg("lightgcn", 1).with(Map.of("dim", 24)), DATA))) {
                for (int k : new int[] {1, 7, 33}) {
                    int[] host = t.onDevice(Device.CPU).topK(k, null, null), dev = t.onDevice(Device.CUDA).topK(k, null, null);
                    assertArrayEquals(host, dev, "teacher top-" + k);
                    host = t.onDevice(Device.CPU).topK(k, DATA.trainPtr(), DATA.trainItems());
                    dev = t.onDevice(Device.CUDA).topK(k, DATA.trainPtr(), DATA.trainItems());
                    assertArrayEquals(host, dev, "teacher top-" + k + ", train items excluded");
                }
                // logits of per-user sets (gather-dot): another summation order, so a tolerance
                kdrec.tensor.IndexSets sets = new kdrec.tensor.IndexSets(DATA.trainPtr(), DATA.trainItems());
                float[] hostLogits = t.onDevice(Device.CPU).logits(sets), devLogits = t.onDevice(Device.CUDA).logits(sets);
                assertTrue(relative(hostLogits, devLogits) < 1e-6, "teacher logits on the device: " + relative(hostLogits, devLogits));
            }
        }

        /**
         * One batch's gradient (before Adam) and loss parts, device against the tape: the strongest check of
         * the device math (a missing factor, a wrong LightGCN backward, a stale list shows here directly).
         */
        @Test
        void gradientsAndLossPartsMatchTheCpu() throws Exception {
            Recommender teacherModel = trainedTeacher(2);
            Object[][] methods = {
                    {Distillation.SCRATCH, Map.of()},
                    RCEKD, RCEKD_NO_SAMPLING, CE_TEACHER, CE_STUDENT, CD,
                    // the methods whose term runs on the host against the device's embeddings
                    RCEKD_FULL_CE, RD,
                    {"rrd", Map.of("rrd.k", 5, "rrd.l", 8, "rrd.mxk", 12, "lambda", 0.5)},
                    DCD,
                    {"unkd", Map.of("unkd.group_num", 2, "unkd.n_distill", 4, "lambda", 0.5)},
                    // feature KD: FreqD reads the raw tables (its gradient joins after the backward), the others the final embeddings
                    {"freqd", Map.of("freqd.experts", 2, "freqd.filter", "quadratic:0.4", "freqd.dropout", 0.0, "lambda", 0.5)},
                    {"fitnet", Map.of("fitnet.hidden_ratio", 1, "lambda", 0.5)},
                    {"de", Map.of("de.experts", 3, "de.max_epochs", 3, "lambda", 0.5)},
                    {"htd", Map.of("htd.experts", 3, "htd.max_epochs", 3, "lambda", 0.5)}};
            long before = CudaProbe.cuda().allocatedBytes();
            try (Teacher teacher = Teacher.of(teacherModel)) {
                for (String[] student : new String[][] {{"mf", "0"}, {"lightgcn", "0"}, {"lightgcn", "1"}, {"lightgcn", "3"}}) {
                    for (Object[] method : methods) {
                        @SuppressWarnings("unchecked") Map<String, Object> settings = (Map<String, Object>) method[1];
                        TrainConfig sc = cfg(student[0], 1).with(Map.of("layers", student[1]));
                        Distillation.Setup s = Distillation.resolve((String) method[0], sc, null, "mf", settings);
                        for (int epoch : new int[] {0, 1}) {
                            String what = method[0] + " " + settings + ", " + student[0] + " L=" + student[1] + ", epoch " + epoch;
                            compareOneBatch(s, teacher, epoch, what);
                        }
                    }
                }
            }
            assertEquals(before, CudaProbe.cuda().allocatedBytes(), "device bytes leaked");
        }

        private void compareOneBatch(Distillation.Setup s, Teacher teacher, int epoch, String what) throws Exception {
            TrainConfig c = s.student();
            kdrec.loss.Batch batch = batches(c, epoch, 1)[0];
            float[] hostGrad;
            Map<String, Double> hostParts;
            try (Recommender model = Models.create(c, DATA); Tape tape = new Tape()) {
                kdrec.loss.Objective obj = Distillation.objective(s, teacher.onDevice(Device.CPU), DATA);
                try (var ng = tape.noGrad()) {
                    obj.beginEpoch(tape, model, epoch);
                }
                tape.reset();
                model.params().zeroGrad();
                hostParts = obj.step(tape, model, batch);
                float[] gu = model.params().get("user").densify(tape).toArray(), gi = model.params().get("item").densify(tape).toArray();
                hostGrad = java.util.Arrays.copyOf(gu, gu.length + gi.length);
                System.arraycopy(gi, 0, hostGrad, gu.length, gi.length);
            }
            try (Recommender model = Models.create(c, DATA)) {
                kdrec.loss.Objective obj = Distillation.objective(s, teacher.onDevice(Device.CUDA), DATA);
                Adam adam = new Adam(model.params(), c.lr(), c.weightDecay(), false);
                try (DeviceTraining dev = DeviceTraining.open(model, obj, adam, null, DATA.trainPtr(), DATA.trainItems())) {
                    dev.beginEpoch(epoch);
                    Map<String, Double> parts = new java.util.LinkedHashMap<>();
                    dev.gradient(batch, parts);
                    double rel = relative(hostGrad, dev.downloadGradient());
                    assertTrue(rel < 1e-5, what + ": gradient relative difference " + rel);
                    assertEquals(hostParts.keySet(), parts.keySet(), what + ": loss parts");
                    for (String k : parts.keySet()) {
                        double a = hostParts.get(k), b = parts.get(k);
                        assertEquals(a, b, 1e-5 * Math.max(1, Math.abs(a)), what + ": loss part " + k);
                    }
                }
            }
        }

        @Test
        void aHostSideEpochHookSeesTheDevicesParameters() throws Exception {
            // CD's student guide draws the epoch's samples on the host from the student: after device steps that
            // the host model has not seen, beginEpoch must refresh it first (readsHostModel), or the samples
            // come from stale parameters and the next gradient differs from the CPU's
            Recommender teacherModel = trainedTeacher(2);
            TrainConfig c = cfg("mf", 2).with(Map.of("lr", 0.05));
            Distillation.Setup s = Distillation.resolve("cd", c, null, "mf", Map.of("cd.rank_k", 10, "cd.n_distill", 3, "lambda", 0.5));
            long before = CudaProbe.cuda().allocatedBytes();
            try (Teacher teacher = Teacher.of(teacherModel); Recommender model = Models.create(c, DATA); Recommender ref = Models.create(c, DATA)) {
                kdrec.loss.Objective obj = Distillation.objective(s, teacher.onDevice(Device.CUDA), DATA);
                Adam adam = new Adam(model.params(), c.lr(), c.weightDecay(), false);
                kdrec.loss.Batch[] batches = batches(c, 0, 40);
                float[] deviceGrad;
                try (DeviceTraining dev = DeviceTraining.open(model, obj, adam, null, DATA.trainPtr(), DATA.trainItems())) {
                    dev.beginEpoch(0);
                    for (kdrec.loss.Batch b : batches) dev.step(b);
                    dev.beginEpoch(1); // no download by the caller: the hook's own refresh is under test
                    dev.gradient(batches[0], new java.util.LinkedHashMap<>());
                    deviceGrad = dev.downloadGradient();
                    dev.download(false);
                }
                for (String t : new String[] {"user", "item"}) model.params().get(t).value().copyTo(ref.params().get(t).value());
                kdrec.loss.Objective host = Distillation.objective(s, teacher.onDevice(Device.CPU), DATA);
                try (Tape tape = new Tape()) {
                    try (var ng = tape.noGrad()) {
                        host.beginEpoch(tape, ref, 1);
                    }
                    tape.reset();
                    ref.params().zeroGrad();
                    host.step(tape, ref, batches[0]);
                    float[] gu = ref.params().get("user").densify(tape).toArray(), gi = ref.params().get("item").densify(tape).toArray();
                    float[] hostGrad = java.util.Arrays.copyOf(gu, gu.length + gi.length);
                    System.arraycopy(gi, 0, hostGrad, gu.length, gi.length);
                    double rel = relative(hostGrad, deviceGrad);
                    assertTrue(rel < 1e-5, "CD's epoch-1 gradient after 40 device steps: relative difference " + rel);
                }
            }
            assertEquals(before, CudaProbe.cuda().allocatedBytes(), "device bytes leaked");
        }

        /** The first n batches (of 64 pairs) of {@code epoch}'s shuffle, as the trainer would form them. */
        private kdrec.loss.Batch[] batches(TrainConfig c, int epoch, int n) {
            int[] neg = DATA.negatives(c.seed(), epoch), order = DATA.shuffledPairs(c.seed(), epoch);
            int size = 64;
            n = Math.min(n, order.length / size);
            kdrec.loss.Batch[] out = new kdrec.loss.Batch[n];
            for (int k = 0; k < n; k++) {
                int[] u = new int[size], p = new int[size], q = new int[size];
                for (int b = 0; b < size; b++) {
                    int at = order[k * size + b];
                    u[b] = DATA.trainPairUsers()[at];
                    p[b] = DATA.trainItems()[at];
                    q[b] = neg[at];
                }
                out[k] = new kdrec.loss.Batch(u, p, q);
            }
            return out;
        }

        /** The phases of a profiled RCE-KD run in first-use order: the hook's, the trainer's gap, the step's, the epoch's download. */
        static final java.util.List<String> PHASES = java.util.List.of("epoch.forward", "epoch.kd", "outside", "host.prepare", "upload",
                "zero+forward", "bpr", "kd.launch", "backward", "adam", "download", "epoch.download");

        /** A run's tables (users then items) and its profile (null when unprofiled). */
        record Profiled(float[] tables, StepProfile profile, String report) {}

        /**
         * {@code batches[epoch]} stepped through a DeviceTraining of {@code objective} on a fresh {@code c} student, each epoch
         * between its hook and the parameters' download as the trainer runs it; profiled with the device's synchronise when
         * {@code profiled} (the switch injected: the system property is read once per JVM).
         */
        private Profiled steppedRun(TrainConfig c, kdrec.loss.Objective objective, kdrec.loss.Batch[][] batches, boolean profiled) throws Exception {
            try (Recommender model = Models.create(c, DATA)) {
                Adam adam = new Adam(model.params(), c.lr(), c.weightDecay(), false);
                try (DeviceTraining dev = DeviceTraining.open(model, objective, adam, null, DATA.trainPtr(), DATA.trainItems())) {
                    dev.useProfile(profiled ? StepProfile.on(CudaProbe.cuda()::synchronize) : StepProfile.OFF);
                    for (int epoch = 0; epoch < batches.length; epoch++) {
                        dev.beginEpoch(epoch);
                        for (kdrec.loss.Batch b : batches[epoch]) dev.step(b);
                        dev.download(false);
                    }
                    float[] u = model.params().get("user").value().toArray(), i = model.params().get("item").value().toArray();
                    float[] both = java.util.Arrays.copyOf(u, u.length + i.length);
                    System.arraycopy(i, 0, both, u.length, i.length);
                    return new Profiled(both, profiled ? dev.profile() : null, dev.profileReport());
                }
            }
        }

        /**
         * Batches of up to {@code size} pairs of {@code epoch}'s shuffle in which no user and no item (positive or negative)
         * occurs twice: every gradient element then gets at most one float atomic addition per launch, so a BPR step on
         * MF is bit-deterministic on the device (see native/embedding.cu).
         */
        private kdrec.loss.Batch[] distinctBatches(TrainConfig c, int epoch, int n, int size) {
            int[] neg = DATA.negatives(c.seed(), epoch), order = DATA.shuffledPairs(c.seed(), epoch);
            java.util.List<kdrec.loss.Batch> out = new java.util.ArrayList<>();
            int at = 0;
            while (out.size() < n && at < order.length) {
                java.util.Set<Integer> users = new java.util.HashSet<>(), items = new java.util.HashSet<>();
                java.util.List<int[]> rows = new java.util.ArrayList<>();
                for (; at < order.length && rows.size() < size; at++) {
                    int u = DATA.trainPairUsers()[order[at]], p = DATA.trainItems()[order[at]], q = neg[order[at]];
                    if (p == q || users.contains(u) || items.contains(p) || items.contains(q)) continue;
                    users.add(u);
                    items.add(p);
                    items.add(q);
                    rows.add(new int[] {u, p, q});
                }
                if (rows.isEmpty()) break;
                out.add(new kdrec.loss.Batch(rows.stream().mapToInt(r -> r[0]).toArray(), rows.stream().mapToInt(r -> r[1]).toArray(),
                        rows.stream().mapToInt(r -> r[2]).toArray()));
            }
            return out.toArray(kdrec.loss.Batch[]::new);
        }

        @Test
        void profilingChangesNothingButTheTiming() throws Exception {
            // BPR on MF over duplicate-free batches is bit-deterministic on the device: the profiled run (a
            // synchronisation at every phase boundary) must end on exactly the unprofiled run's parameters
            TrainConfig c = cfg("mf", 2);
            kdrec.loss.Batch[][] batches = {distinctBatches(c, 0, 6, 12), distinctBatches(c, 1, 6, 12)};
            long before = CudaProbe.cuda().allocatedBytes();
            Profiled plain = steppedRun(c, new Bpr(), batches, false), profiled = steppedRun(c, new Bpr(), batches, true);
            assertTrue(plain.report() == null, "unprofiled: no report");
            assertArrayEquals(plain.tables(), profiled.tables(), "BPR tables after two epochs, profiled vs unprofiled (bit for bit)");
            // BPR alone: no hook and no KD launch, the rest as in RCE-KD's run
            int steps = batches[0].length + batches[1].length;
            for (String phase : PHASES) {
                long expected = phase.startsWith("epoch.") ? (phase.equals("epoch.download") ? 2 : 0) : phase.equals("kd.launch") ? 0 : steps;
                assertEquals(expected, profiled.profile().count(phase), "BPR run: count of " + phase);
            }
            assertEquals(before, CudaProbe.cuda().allocatedBytes(), "device bytes leaked by the runs");
        }

        @Test
        void theProfileNamesEveryPhaseOfAnRceKdRun() throws Exception {
            Recommender teacherModel = trainedTeacher(2);
            @SuppressWarnings("unchecked") Map<String, Object> settings = (Map<String, Object>) RCEKD[1];
            TrainConfig c = cfg("mf", 2);
            Distillation.Setup s = Distillation.resolve((String) RCEKD[0], c, null, "mf", settings);
            kdrec.loss.Batch[][] batches = {batches(c, 0, 4), batches(c, 1, 4)};
            int steps = batches[0].length + batches[1].length, epochs = batches.length;
            long before = CudaProbe.cuda().allocatedBytes();
            try (Teacher teacher = Teacher.of(teacherModel)) {
                teacher.onDevice(Device.CUDA);
                Profiled plain = steppedRun(c, Distillation.objective(s, teacher, DATA), batches, false);
                Profiled profiled = steppedRun(c, Distillation.objective(s, teacher, DATA), batches, true);
                // RCE-KD's term sums with float atomics (an item in many users' sets): equal up to that run-to-run noise
                double rel = relative(plain.tables(), profiled.tables());
                assertTrue(rel < 1e-4, "RCE-KD tables, profiled vs unprofiled: relative difference " + rel);
                StepProfile p = profiled.profile();
                assertEquals(PHASES, p.phases(), "phases in first-use order");
                for (String phase : PHASES) {
                    long expected = phase.equals("epoch.forward") || phase.equals("epoch.kd") || phase.equals("epoch.download") ? epochs : steps;
                    assertEquals(expected, p.count(phase), "count of " + phase + " (" + steps + " steps, " + epochs + " epochs)");
                    assertTrue(p.seconds(phase) >= 0, phase + ": " + p.seconds(phase) + " s");
                }
                String[] lines = profiled.report().split("\n");
                assertEquals(PHASES.size() + 1, lines.length, profiled.report());
                for (int k = 0; k < PHASES.size(); k++) {
                    assertTrue(lines[k].startsWith(PHASES.get(k) + " "), "line " + k + " names " + PHASES.get(k) + ": " + lines[k]);
                    assertTrue(lines[k].contains(" " + p.count(PHASES.get(k)) + " x "), "line " + k + " gives the count: " + lines[k]);
                }
                assertTrue(lines[PHASES.size()].startsWith("total "), lines[PHASES.size()]);
            }
            assertEquals(before, CudaProbe.cuda().allocatedBytes(), "device bytes leaked by the runs");
        }

        @Test
        void distillationEpochsMatchTheCpu() throws Exception {
            Recommender teacherModel = trainedTeacher(3);
            Object[][] methods = {
                    RCEKD, CE_TEACHER, CE_STUDENT, RD, CD,
                    {"cd", Map.of("cd.rank_k", 10, "cd.n_distill", 3, "cd.guide", "teacher", "lambda", 0.5)}, // samples uploaded once
                    DCD,
                    // feature KD: its own parameters are updated on the host each step, as on the CPU
                    {"freqd", Map.of("freqd.experts", 2, "freqd.filter", "quadratic:0.4", "lambda", 0.5)},
                    {"fitnet", Map.of("fitnet.hidden_ratio", 1, "lambda", 0.5)},
                    {"de", Map.of("de.experts", 3, "de.max_epochs", 3, "lambda", 0.5)},
                    {"htd", Map.of("htd.experts", 3, "htd.max_epochs", 3, "lambda", 0.5)}};
            try (Teacher teacher = Teacher.of(teacherModel)) { // closes the model
                for (String student : new String[] {"mf", "lightgcn"}) {
                    for (Object[] method : methods) {
                        @SuppressWarnings("unchecked") Map<String, Object> settings = (Map<String, Object>) method[1];
                        String what = method[0] + " " + settings + ", " + student + " student";
                        assertEpochsMatchTheCpu(Distillation.resolve((String) method[0], cfg(student, 2), null, "mf", settings), teacher, what);
                    }
                }
            }
        }

        @Test
        void lazyAdamEpochsMatchTheCpu() throws Exception {
            // lazy Adam moves only the rows a step's terms wrote: BPR's rows, the twins' list items, the host
            // terms' rows (CD: gathered rows; RD: set dots; FreqD: its closure's gathered rows) or whole tables
            // (FreqD without the closure: its filters read the tables whole); LightGCN is written whole.
            // Each run also on the CPU with dense Adam: SPARSE must differ from it by far more than the device
            // noise, WHOLE must equal it; ANY is not compared (FreqD's 2-hop closure covers most of this small set)
            final String sparse = "sparse", whole = "whole", any = "any";
            Recommender teacherModel = trainedTeacher(3);
            Object[][] runs = {
                    {"mf", Distillation.SCRATCH, Map.of(), sparse},
                    {"lightgcn", Distillation.SCRATCH, Map.of(), whole},
                    {"mf", "rcekd", Map.of("rcekd.k", 6, "rcekd.m", 15, "rcekd.l", 4, "lambda", 0.5), sparse},
                    {"mf", "ce", Map.of("ce.k", 8, "lambda", 2.0), sparse},
                    {"mf", "rd", Map.of("rd.topk", 5, "rd.dynamic_sample", 10, "rd.start_epoch", 1, "lambda", 0.5), sparse},
                    {"mf", "cd", Map.of("cd.rank_k", 10, "cd.n_distill", 3, "lambda", 0.5), sparse},
                    {"mf", "freqd", Map.of("freqd.experts", 2, "freqd.filter", "quadratic:0.4", "lambda", 0.5), any},
                    {"mf", "freqd", Map.of("freqd.experts", 2, "freqd.filter", "quadratic:0.4", "freqd.closure", false, "lambda", 0.5), whole}};
            long before = CudaProbe.cuda().allocatedBytes();
            try (Teacher teacher = Teacher.of(teacherModel)) {
                for (Object[] run : runs) {
                    @SuppressWarnings("unchecked") Map<String, Object> settings = (Map<String, Object>) run[2];
                    String what = run[1] + " " + settings + ", " + run[0] + " student, lazy Adam";
                    TrainConfig lazy = cfg((String) run[0], 2).with(Map.of("lazy_adam", true));
                    Distillation.Setup s = Distillation.resolve((String) run[1], lazy, null, "mf", settings);
                    float[] cpu = distill(s, teacher, Device.CPU), gpu = distill(s, teacher, Device.CUDA);
                    double rel = relative(cpu, gpu);
                    assertTrue(rel < 1e-4, what + ": relative difference after two epochs " + rel);
                    float[] dense = distill(Distillation.resolve((String) run[1], cfg((String) run[0], 2), null, "mf", settings), teacher, Device.CPU);
                    if (run[3] == whole) {
                        assertEquals(0.0, relative(cpu, dense), what + ": the tables are written whole (LightGCN's propagation, FreqD's "
                                + "filters without the closure), so lazy Adam is dense Adam");
                    } else if (run[3] == sparse) {
                        assertTrue(relative(cpu, dense) > 100 * rel, what + ": lazy Adam must differ from dense Adam (" + relative(cpu, dense)
                                + ") by far more than the device noise " + rel);
                    }
                }
            }
            assertEquals(before, CudaProbe.cuda().allocatedBytes(), "device bytes leaked by the runs");
        }

        @Test
        void hetcompFromATeacherTrajectoryMatchesTheCpu(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
            TrainConfig tc = cfg("mf", 3).with(Map.of("dim", 16, "save_every", 1));
            try (Recommender teacherModel = Models.create(tc, DATA)) {
                new Trainer(tc, DATA, teacherModel, new Bpr(), new Trainer.Outputs(null, null, dir)).fit(null);
            }
            try (Teacher teacher = Teacher.load(dir.resolve("epoch_0003.safetensors"), DATA)) {
                assertEpochsMatchTheCpu(Distillation.resolve("hetcomp", cfg("mf", 2), null, "mf",
                        Map.of("hetcomp.k", 10, "hetcomp.p", 1, "hetcomp.alpha", 1.0, "lambda", 5.0)), teacher, "hetcomp");
            }
        }

        /**
         * {@code s}'s epochs on the device end within 1e-4 (norm-wise) of the CPU run's tables, and the KD
         * term matters at its lambda: without it the student lands far (over 100x that noise) from both.
         */
        private void assertEpochsMatchTheCpu(Distillation.Setup s, Teacher teacher, String what) throws Exception {
            float[] cpu = distill(s, teacher, Device.CPU), gpu = distill(s, teacher, Device.CUDA);
            double rel = relative(cpu, gpu);
            assertTrue(rel < 1e-4, what + ": relative difference after two epochs " + rel);
            float[] bprOnly = distill(Distillation.resolve(Distillation.SCRATCH, s.student(), null, "mf", Map.of()), teacher, Device.CPU);
            assertTrue(relative(cpu, bprOnly) > 100 * rel && relative(cpu, bprOnly) > 1e-4,
                    what + ": the KD term must move the student (" + relative(cpu, bprOnly) + " vs device noise " + rel + ")");
        }

        /** The user then item table after training {@code s}'s objective on {@code d} (its epochs). */
        private float[] distill(Distillation.Setup s, Teacher teacher, Device d) throws Exception {
            teacher.onDevice(d); // the teacher's lists and logits on the same device as the student
            try (Recommender m = Models.create(s.student(), DATA)) {
                new Trainer(s.student(), DATA, m, Distillation.objective(s, teacher, DATA), Trainer.Outputs.none()).onDevice(d).fit(null);
                float[] u = m.params().get("user").value().toArray(), i = m.params().get("item").value().toArray();
                float[] both = java.util.Arrays.copyOf(u, u.length + i.length);
                System.arraycopy(i, 0, both, u.length, i.length);
                return both;
            }
        }
    }
}
