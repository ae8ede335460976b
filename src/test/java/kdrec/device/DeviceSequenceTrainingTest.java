package kdrec.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import kdrec.autograd.SampledCe;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.gpu.CudaProbe;
import kdrec.gpu.RequiresGpu;
import kdrec.loss.Batch;
import kdrec.loss.Objective;
import kdrec.model.Hstu;
import kdrec.model.Recommender;
import kdrec.nn.Adam;
import kdrec.train.Device;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HSTU on the device ({@link DeviceSequenceTraining}) against the CPU's autograd: one batch's
 * gradient of every parameter for each sequence loss (dropout on, two blocks, two heads), and a run
 * of several epochs (parameters and metrics). The refusals need no GPU and run everywhere.
 */
class DeviceSequenceTrainingTest {
    static TrainConfig cfg(String loss, float dropout, int epochs) {
        return TrainConfig.defaults().with(Map.of("model", "hstu", "dim", 8, "blocks", 2, "heads", 2, "loss", loss, "negatives", 16,
                "dropout", dropout, "epochs", epochs, "batch_size", 16, "lr", 0.01)).with(Map.of("patience", 50));
    }

    @Test
    void whatTheDeviceDoesNotRunIsRefusedUpFront() throws Exception {
        TrainConfig c = cfg("sampled_softmax", 0.2f, 1);
        try (Recommender m = Models.create(c, DeviceTrainingTest.DATA)) {
            Objective seq = Models.objective(c);
            DeviceTraining.checkSupported(m, seq);
            var lazy = assertThrows(IllegalArgumentException.class,
                    () -> DeviceSequenceTraining.checkSupported(seq, new Adam(m.params(), 0.01f, 0f, true), null));
            assertTrue(lazy.getMessage().contains("lazy_adam=true runs with --device cpu"), lazy.getMessage());
            var bpr = assertThrows(IllegalArgumentException.class,
                    () -> DeviceSequenceTraining.checkSupported(new kdrec.loss.Bpr(), new Adam(m.params(), 0.01f, 0f, false), null));
            assertTrue(bpr.getMessage().contains("alone or under a KD term; Bpr runs with --device cpu"), bpr.getMessage());
        }
        // the settings the CLI checks before it creates a run directory
        DeviceTraining.checkSettings("hstu", 20, false, 200, 64);
        var lazy = assertThrows(IllegalArgumentException.class, () -> DeviceTraining.checkSettings("hstu", 20, true, 50, 32));
        assertTrue(lazy.getMessage().contains("lazy_adam=true runs with --device cpu"), lazy.getMessage());
        var long_ = assertThrows(IllegalArgumentException.class, () -> DeviceTraining.checkSettings("hstu", 20, false, 600, 32));
        assertTrue(long_.getMessage().contains("up to max_len 512") && long_.getMessage().contains("got 600"), long_.getMessage());
        var wide = assertThrows(IllegalArgumentException.class, () -> DeviceTraining.checkSettings("hstu", 20, false, 50, 300));
        assertTrue(wide.getMessage().contains("(attention_dim, linear_dim; dim / heads by default) of 256, got 50 and 300"), wide.getMessage());
        DeviceTraining.checkSettings("mf", 20, true, 600, 300); // lazy Adam and the HSTU limits do not concern MF
        // FreqD reads raw user/item tables HSTU does not have: refused on either device when the run is resolved
        var freqd = assertThrows(IllegalArgumentException.class,
                () -> kdrec.kd.Distillation.resolve("freqd", c, null, "mf", Map.of()));
        assertTrue(freqd.getMessage().contains("it needs an mf or lightgcn student, not hstu"), freqd.getMessage());
    }

    @Nested
    @Tag("gpu")
    @ExtendWith(RequiresGpu.class)
    class OnGpu {
        @org.junit.jupiter.api.AfterEach
        void defaultChunks() {
            SampledCe.setPerRowChunk(SampledCe.PER_ROW_CHUNK);
        }

        @Test
        void oneBatchGradientMatchesTheCpu() throws Exception {
            long before = CudaProbe.cuda().allocatedBytes();
            // the reference's block (--preset): Q/K and U/V widths apart, no position bias, scale 1/(max_len + 4),
            // W_o's bias drawn, a block dropout rate of its own
            Map<String, Object> reference = Map.of("attention_dim", 3, "linear_dim", 5, "rel_bias", false, "max_output_len", 4,
                    "o_bias_init", "uniform", "block_dropout", 0.5);
            // negatives per position: one chunk, and (scaled) chunks of two rows' draws each, as the CPU's
            Map<String, Object> perPosition = Map.of("negatives_per", "position");
            for (String variant : new String[] {"sampled_softmax", "scaled_softmax", "full_softmax", "reference", "per_position", "scaled_per_position"}) {
                for (float dropout : new float[] {0f, 0.3f}) {
                    TrainConfig c = switch (variant) {
                        case "reference" -> cfg("sampled_softmax", dropout, 1).with(reference);
                        case "per_position" -> cfg("sampled_softmax", dropout, 1).with(perPosition);
                        case "scaled_per_position" -> cfg("scaled_softmax", dropout, 1).with(perPosition);
                        default -> cfg(variant, dropout, 1);
                    };
                    SampledCe.setPerRowChunk(variant.equals("scaled_per_position") ? 32 : SampledCe.PER_ROW_CHUNK);
                    String loss = c.baseLoss();
                    try (Recommender m = Models.create(c, DeviceTrainingTest.DATA); Tape tape = new Tape()) {
                        Objective obj = Models.objective(c);
                        Batch batch = Batch.ofUsers(new int[] {5, 0, 17, 33, 2, 41, 9}, 3);
                        m.params().zeroGrad();
                        double cpuLoss = obj.step(tape, m, batch).get(loss);
                        List<Var> vars = m.params().all();
                        float[][] cpu = new float[vars.size()][];
                        for (int i = 0; i < cpu.length; i++) {
                            var g = vars.get(i).densify(tape);
                            cpu[i] = g == null ? new float[(int) vars.get(i).value().size()] : g.toArray();
                        }
                        try (DeviceSequenceTraining dev = DeviceSequenceTraining.open((Hstu) m, obj, new Adam(m.params(), 0.01f, 0f, false), null, DeviceTrainingTest.DATA.trainPtr(), DeviceTrainingTest.DATA.trainItems())) {
                            double devLoss = dev.gradient(batch).get(loss);
                            assertEquals(cpuLoss, devLoss, 1e-5 * Math.max(1, Math.abs(cpuLoss)), variant + " dropout " + dropout + ": batch loss");
                            float[][] gpu = dev.downloadGradient();
                            for (int i = 0; i < cpu.length; i++) {
                                double rel = DeviceTrainingTest.relative(cpu[i], gpu[i]);
                                assertTrue(rel < 1e-5, variant + " dropout " + dropout + ": gradient of " + vars.get(i).name() + " differs by " + rel);
                            }
                        }
                    }
                }
            }
            assertEquals(before, CudaProbe.cuda().allocatedBytes(), "device bytes leaked");
        }

        /**
         * A batch of single-item histories has no next-item target: the host's loss is a constant and its
         * Adam moves no parameter (none has a gradient), only counting the step; the device must do the same
         * (a dense zero-gradient step would move every parameter by about lr under weight decay).
         */
        @Test
        void aStepWithoutTargetsMovesNothing(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
            StringBuilder train = new StringBuilder("user,item\n"), valid = new StringBuilder("user,item\n"), test = new StringBuilder("user,item\n");
            for (int u = 0; u < 12; u++) {
                int len = u < 6 ? 1 : 4; // users 0-5: one train item each
                for (int p = 0; p < len; p++) train.append(u).append(',').append((u * 3 + p * 5) % 20).append('\n');
                valid.append(u).append(',').append((u + 7) % 20).append('\n');
                test.append(u).append(',').append((u + 11) % 20).append('\n');
            }
            java.nio.file.Files.writeString(dir.resolve("train.csv"), train);
            java.nio.file.Files.writeString(dir.resolve("valid.csv"), valid);
            java.nio.file.Files.writeString(dir.resolve("test.csv"), test);
            kdrec.train.TrainData data = new kdrec.train.TrainData(kdrec.data.Datasets.loadUnchecked(dir.toString()));
            TrainConfig c = cfg("sampled_softmax", 0f, 1).with(Map.of("weight_decay", 0.1));
            try (Recommender m = Models.create(c, data)) {
                Batch batch = Batch.ofUsers(new int[] {0, 1, 2, 3}, 0);
                float[] before = flat(m);
                Adam hostAdam = new Adam(m.params(), c.lr(), c.weightDecay(), false);
                try (DeviceSequenceTraining dev = DeviceSequenceTraining.open((Hstu) m, Models.objective(c), hostAdam, null, data.trainPtr(), data.trainItems())) {
                    assertEquals(0.0, dev.step(batch).get("sampled_softmax"));
                    dev.download(true);
                }
                assertEquals(0.0, DeviceTrainingTest.relative(before, flat(m)), "no parameter moves");
                assertEquals(1, hostAdam.steps(), "the step is counted");
            }
        }

        @Test
        void deviceRankingMatchesTheHosts() throws Exception {
            TrainConfig c = cfg("sampled_softmax", 0.2f, 1).with(Map.of("test_history", "train_valid"));
            var data = DeviceTrainingTest.DATA;
            try (Recommender m = Models.create(c, data); Tape tape = new Tape()) {
                kdrec.train.Evaluator ev = new kdrec.train.Evaluator(data, 20);
                int[] host = ev.rankAll(tape, m.inference(tape)), hostTest = ev.rankAll(tape, m.inferenceForTest(tape));
                try (DeviceSequenceTraining dev = DeviceSequenceTraining.open((Hstu) m, Models.objective(c), new Adam(m.params(), 0.01f, 0f, false), null,
                        data.trainPtr(), data.trainItems())) {
                    assertTrue(overlap(host, dev.rankAll(20), 20) > 0.99, "top-20 lists from the train histories");
                    assertTrue(overlap(hostTest, dev.rankAllForTest(20), 20) > 0.99, "top-20 lists from the train + valid histories");
                }
            }
        }

        /** Mean share of each user's host top-k found in the device's (order and near-ties aside). */
        private static double overlap(int[] a, int[] b, int k) {
            assertEquals(a.length, b.length);
            int same = 0;
            for (int u = 0; u < a.length / k; u++) {
                java.util.Set<Integer> s = new java.util.HashSet<>();
                for (int j = 0; j < k; j++) s.add(a[u * k + j]);
                for (int j = 0; j < k; j++) if (s.contains(b[u * k + j])) same++;
            }
            return same / (double) a.length;
        }

        /**
         * An HSTU student distilled on the device: one batch's gradient of every parameter and the loss
         * parts against the tape's, for the device twins (RCE-KD, CE-KD with either guide, CD) and
         * methods whose term runs on the host (RD, DCD, RCE-KD's full_ce, FitNet), at epochs 0 and 1.
         */
        @Test
        void distillationGradientsMatchTheCpu() throws Exception {
            var data = DeviceTrainingTest.DATA;
            Recommender teacherModel = DeviceTrainingTest.trainedTeacher(2);
            Object[][] methods = {DeviceTrainingTest.RCEKD, DeviceTrainingTest.RCEKD_NO_SAMPLING, DeviceTrainingTest.CE_TEACHER,
                    DeviceTrainingTest.CE_STUDENT, DeviceTrainingTest.CD, DeviceTrainingTest.RCEKD_FULL_CE, DeviceTrainingTest.RD,
                    DeviceTrainingTest.DCD, {"fitnet", Map.of("fitnet.hidden_ratio", 1, "lambda", 0.5)},
                    // a pass per KD term: encoded on the device, the methods scored on the host
                    perTerm(DeviceTrainingTest.RCEKD), perTerm(DeviceTrainingTest.RD), perTerm(DeviceTrainingTest.DCD),
                    perTerm(DeviceTrainingTest.CE_STUDENT), presetBlock(perTerm(DeviceTrainingTest.RCEKD))};
            long before = CudaProbe.cuda().allocatedBytes();
            try (kdrec.kd.Teacher teacher = kdrec.kd.Teacher.of(teacherModel)) {
                for (Object[] method : methods) {
                    @SuppressWarnings("unchecked") Map<String, Object> settings = (Map<String, Object>) method[1];
                    kdrec.kd.Distillation.Setup s = kdrec.kd.Distillation.resolve((String) method[0], cfg("sampled_softmax", 0.2f, 1), null, "mf", settings);
                    for (int epoch : new int[] {0, 1}) compareOneBatch(s, teacher, epoch, method[0] + " " + settings + ", epoch " + epoch);
                }
            }
            assertEquals(before, CudaProbe.cuda().allocatedBytes(), "device bytes leaked");
        }

        /** {@code method} with {@code kd_encoding=per_term} added to its settings. */
        static Object[] perTerm(Object[] method) {
            @SuppressWarnings("unchecked") Map<String, Object> settings = new java.util.LinkedHashMap<>((Map<String, Object>) method[1]);
            settings.put("kd_encoding", "per_term");
            return new Object[] {method[0], settings};
        }

        /** {@code method} on the presets' block: Q/K and U/V widths apart, no position bias, W_o's bias drawn, negatives per position. */
        static Object[] presetBlock(Object[] method) {
            @SuppressWarnings("unchecked") Map<String, Object> settings = new java.util.LinkedHashMap<>((Map<String, Object>) method[1]);
            settings.putAll(Map.of("attention_dim", 3, "linear_dim", 5, "rel_bias", false, "max_output_len", 4, "o_bias_init", "uniform",
                    "block_dropout", 0.5, "negatives_per", "position"));
            return new Object[] {method[0], settings};
        }

        /** Two epochs of distillation into an HSTU student end where the CPU's do, and the KD term moves the student. */
        @Test
        void distillationEpochsMatchTheCpu() throws Exception {
            var data = DeviceTrainingTest.DATA;
            Recommender teacherModel = DeviceTrainingTest.trainedTeacher(2);
            Object[][] methods = {DeviceTrainingTest.RCEKD, DeviceTrainingTest.CE_STUDENT, DeviceTrainingTest.CD, DeviceTrainingTest.DCD,
                    perTerm(DeviceTrainingTest.RCEKD)};
            try (kdrec.kd.Teacher teacher = kdrec.kd.Teacher.of(teacherModel)) {
                TrainConfig c = cfg("sampled_softmax", 0.2f, 2);
                float[] scratch = distilled(kdrec.kd.Distillation.resolve(kdrec.kd.Distillation.SCRATCH, c, null, "mf", Map.of()), teacher, Device.CPU);
                for (Object[] method : methods) {
                    @SuppressWarnings("unchecked") Map<String, Object> settings = (Map<String, Object>) method[1];
                    kdrec.kd.Distillation.Setup s = kdrec.kd.Distillation.resolve((String) method[0], c, null, "mf", settings);
                    float[] cpu = distilled(s, teacher, Device.CPU), gpu = distilled(s, teacher, Device.CUDA);
                    double rel = DeviceTrainingTest.relative(cpu, gpu), moved = DeviceTrainingTest.relative(cpu, scratch);
                    assertTrue(rel < 1e-4, method[0] + ": relative difference after two epochs " + rel);
                    assertTrue(moved > 100 * rel && moved > 1e-4, method[0] + ": the KD term must move the student (" + moved + " vs device noise " + rel + ")");
                }
            }
        }

        /** Every parameter of the HSTU student after training {@code s}'s objective on {@code d}. */
        private static float[] distilled(kdrec.kd.Distillation.Setup s, kdrec.kd.Teacher teacher, Device d) throws Exception {
            teacher.onDevice(d);
            var data = DeviceTrainingTest.DATA;
            try (Recommender m = Models.create(s.student(), data)) {
                new Trainer(s.student(), data, m, kdrec.kd.Distillation.objective(s, teacher, data), Trainer.Outputs.none()).onDevice(d).fit(null);
                return flat(m);
            }
        }

        private void compareOneBatch(kdrec.kd.Distillation.Setup s, kdrec.kd.Teacher teacher, int epoch, String what) throws Exception {
            var data = DeviceTrainingTest.DATA;
            TrainConfig c = s.student();
            Batch batch = Batch.ofUsers(new int[] {5, 0, 17, 33, 2, 41, 9}, epoch);
            float[][] cpu;
            Map<String, Double> hostParts;
            try (Recommender model = Models.create(c, data); Tape tape = new Tape()) {
                Objective obj = kdrec.kd.Distillation.objective(s, teacher.onDevice(Device.CPU), data);
                try (var ng = tape.noGrad()) {
                    obj.beginEpoch(tape, model, epoch);
                }
                tape.reset();
                model.params().zeroGrad();
                hostParts = obj.step(tape, model, batch);
                List<Var> vars = model.params().all();
                cpu = new float[vars.size()][];
                for (int i = 0; i < cpu.length; i++) {
                    var g = vars.get(i).densify(tape);
                    cpu[i] = g == null ? new float[(int) vars.get(i).value().size()] : g.toArray();
                }
            }
            try (Recommender model = Models.create(c, data)) {
                Objective obj = kdrec.kd.Distillation.objective(s, teacher.onDevice(Device.CUDA), data);
                try (DeviceSequenceTraining dev = DeviceSequenceTraining.open((Hstu) model, obj, new Adam(model.params(), c.lr(), 0f, false), null,
                        data.trainPtr(), data.trainItems())) {
                    dev.beginEpoch(epoch);
                    Map<String, Double> parts = dev.gradient(batch);
                    float[][] gpu = dev.downloadGradient();
                    List<Var> vars = model.params().all();
                    for (int i = 0; i < cpu.length; i++) {
                        double rel = DeviceTrainingTest.relative(cpu[i], gpu[i]);
                        assertTrue(rel < 1e-5, what + ": gradient of " + vars.get(i).name() + " differs by " + rel);
                    }
                    assertEquals(hostParts.keySet(), parts.keySet(), what + ": loss parts");
                    for (String k : parts.keySet()) {
                        double a = hostParts.get(k), b = parts.get(k);
                        assertEquals(a, b, 1e-5 * Math.max(1, Math.abs(a)), what + ": loss part " + k);
                    }
                }
            }
        }

        @Test
        void aDeviceRunResumesFromItsCheckpoint(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
            TrainConfig full = cfg("sampled_softmax", 0.2f, 5), half = cfg("sampled_softmax", 0.2f, 2);
            java.nio.file.Path straight = dir.resolve("straight"), run = dir.resolve("run");
            trained(full, Device.CUDA, straight, null);
            trained(half, Device.CUDA, run, null);
            Trainer.Result[] r = new Trainer.Result[1];
            trained(full, Device.CUDA, run, r);
            assertEquals(5, r[0].epochsRun());
            // the last checkpoints hold the last epoch's parameters and Adam's moments: without the device picking up the
            // checkpoint's moments and step count the resumed run ends elsewhere
            var a = kdrec.train.Checkpoint.loadCopy(straight.resolve("last.safetensors")).tensors();
            var b = kdrec.train.Checkpoint.loadCopy(run.resolve("last.safetensors")).tensors();
            assertEquals(a.keySet(), b.keySet());
            int compared = 0;
            for (String name : a.keySet()) {
                if (a.get(name).size() < 2) continue; // scalars (step counts, epoch) are compared by the lists above
                double rel = DeviceTrainingTest.relative(a.get(name).toArray(), b.get(name).toArray());
                assertTrue(rel < 1e-4, "resumed vs uninterrupted, " + name + ": relative difference " + rel);
                compared++;
            }
            assertTrue(compared >= 2 * 16, "parameters and both moments of each compared: " + compared);
        }

        /** Every parameter of {@code c} trained on {@code d} (checkpoints in {@code run}, resumed from its last one when present). */
        private static float[] trained(TrainConfig c, Device d, java.nio.file.Path run, Trainer.Result[] result) throws Exception {
            try (Recommender m = Models.create(c, DeviceTrainingTest.DATA)) {
                java.nio.file.Path last = run == null ? null : run.resolve("last.safetensors");
                Trainer.Result r = new Trainer(c, DeviceTrainingTest.DATA, m, Models.objective(c), new Trainer.Outputs(null, null, run)).onDevice(d)
                        .fit(last != null && java.nio.file.Files.exists(last) ? last : null);
                if (result != null) result[0] = r;
                return flat(m);
            }
        }

        private static float[] flat(Recommender m) {
            List<Var> vars = m.params().all();
            int total = 0;
            for (Var v : vars) total += (int) v.value().size();
            float[] all = new float[total];
            int at = 0;
            for (Var v : vars) {
                float[] a = v.value().toArray();
                System.arraycopy(a, 0, all, at, a.length);
                at += a.length;
            }
            return all;
        }

        @Test
        void epochsMatchTheCpu() throws Exception {
            TrainConfig c = cfg("sampled_softmax", 0.2f, 3);
            float[][] params = new float[2][];
            double[] ndcg = new double[2];
            for (Device d : Device.values()) {
                try (Recommender m = Models.create(c, DeviceTrainingTest.DATA)) {
                    ndcg[d.ordinal()] = new Trainer(c, DeviceTrainingTest.DATA, m, Models.objective(c), Trainer.Outputs.none()).onDevice(d)
                            .fit(null).test().get("ndcg@10");
                    params[d.ordinal()] = flat(m);
                }
            }
            double rel = DeviceTrainingTest.relative(params[0], params[1]);
            assertTrue(rel < 1e-4, "parameters after 3 epochs differ by " + rel);
            assertEquals(ndcg[0], ndcg[1], 0.01, "test NDCG@10, cpu vs cuda");
        }
    }
}
