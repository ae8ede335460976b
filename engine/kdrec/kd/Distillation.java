package kdrec.kd;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import kdrec.loss.Objective;
import kdrec.model.Recommender;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;

/**
 * One distillation run as a library call (what {@code kdrec distill} and {@code kdrec compare} do):
 * resolve the settings (student defaults, the method's defaults, a dataset preset, overrides), build
 * the objective ({@code BPR + lambda * kd}, or plain BPR for the "scratch" student) and train a
 * student from scratch with the usual trainer (logs, checkpoints, resume, early stopping).
 */
public final class Distillation {
    private Distillation() {}

    /** The method name of the baseline student trained without KD. */
    public static final String SCRATCH = "scratch";

    /** A resolved run: the student's training settings and the method's own settings. */
    public record Setup(String method, TrainConfig student, KdParams params) {
        public boolean scratch() {
            return SCRATCH.equals(method);
        }

        public double lambda() {
            return scratch() ? 0 : params.real("lambda");
        }

        /** Everything that defines the run, for config.yaml: the student's settings, the method and its keys. */
        public Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>(student.toMap());
            m.put("method", method);
            for (var e : params.toMap().entrySet()) m.put(method + "." + e.getKey(), e.getValue());
            return m;
        }

        /** The run log's line naming the method, its settings and the student: {@code method: rcekd {...}, student mf d=20}. */
        public String logLine() {
            return "method: " + method + " " + params.toMap() + ", student " + student.model() + " d=" + student.dim();
        }

        /** The same run with another seed. */
        public Setup withSeed(long seed) {
            return new Setup(method, student.with(Map.of("seed", seed)), params);
        }
    }

    /** The method names {@code --method} accepts: "scratch" and every registered distiller. */
    public static java.util.List<String> methodNames() {
        java.util.List<String> names = new java.util.ArrayList<>();
        names.add(SCRATCH);
        names.addAll(Methods.names());
        return names;
    }

    /**
     * The key of DE's and HTD's temperature annealing horizon: the run's {@code epochs} unless set
     * (the authors' code anneals over {@code args.epochs}, 1000 by default).
     */
    static final String ANNEAL_HORIZON = "max_epochs";

    /** {@link #studentConfig(String, Map, Map)} without overrides. */
    public static TrainConfig studentConfig(String preset, Map<String, ?> keys) {
        return studentConfig(preset, keys, Map.of());
    }

    /**
     * A student's training settings for {@code distill} and {@code compare}: kdrec's defaults with a
     * student width of 20, then, with a {@code preset}, that dataset's student architecture
     * ({@link ReferenceConfigs#student}: LightGCN depth, HSTU size) for the model the rest names, then
     * {@code keys} (what the user gave: model, dim, layers, ...) and the student keys among
     * {@code overrides} (--set), which win over the preset. All are merged and checked once, so that a
     * preset value (HSTU heads) does not refuse a combination the user's own keys make valid.
     */
    public static TrainConfig studentConfig(String preset, Map<String, ?> keys, Map<String, ?> overrides) {
        Map<String, Object> user = new LinkedHashMap<>();
        for (var e : keys.entrySet()) user.put(TrainConfig.key(e.getKey()), e.getValue());
        for (var e : overrides.entrySet()) { // method keys (METHOD.KEY, lambda, a bare method key) are resolve's
            String k = TrainConfig.key(e.getKey());
            if (TrainConfig.KEYS.contains(k)) user.put(k, e.getValue());
        }
        Map<String, Object> merged = new LinkedHashMap<>();
        merged.put("dim", 20);
        if (preset != null) merged.putAll(ReferenceConfigs.student(preset, String.valueOf(user.getOrDefault("model", "mf"))));
        merged.putAll(user);
        return TrainConfig.defaults().with(merged);
    }

    /**
     * Resolves a run's settings. {@code preset} (a dataset name, or null) picks the reference
     * configs' row for the teacher and student backbones. Override keys: {@code <method>.<key>} or
     * {@code lambda} for the method, plain keys ({@code weight_decay}, {@code dim}, ...) for the
     * student's training; a key for another method is an error.
     */
    public static Setup resolve(String method, TrainConfig student, String preset, String teacherKind, Map<String, ?> overrides) {
        String name = method.trim().toLowerCase(Locale.ROOT);
        Map<String, Object> trainKeys = new LinkedHashMap<>(), methodKeys = new LinkedHashMap<>();
        KdParams params;
        if (SCRATCH.equals(name)) {
            params = KdParams.of(SCRATCH, Map.of());
            if (preset != null) trainKeys.putAll(ReferenceConfigs.scratchStudent(preset, student.model())); // scratch.yaml's student row
        } else {
            if (!Methods.names().contains(name)) {
                throw new IllegalArgumentException("unknown KD method '" + method + "'; allowed: " + String.join(", ", methodNames()));
            }
            Methods.Method m = Methods.get(name);
            params = m.params();
            if (preset != null) {
                var parts = Methods.split(m.preset(preset, teacherKind, student.model()), TrainConfig.KEYS);
                trainKeys.putAll(parts.get("train"));
                methodKeys.putAll(parts.get("method"));
            }
        }
        for (var e : overrides.entrySet()) {
            String k = e.getKey().trim();
            int dot = k.indexOf('.');
            if (dot > 0) {
                String owner = k.substring(0, dot).toLowerCase(Locale.ROOT);
                if (!owner.equals(name)) {
                    if (!Methods.names().contains(owner)) {
                        throw new IllegalArgumentException("setting '" + k + "': there is no method '" + owner + "' (method settings are METHOD.KEY with METHOD one of "
                                + String.join(", ", Methods.names()) + "; student settings have no prefix)");
                    }
                    throw new IllegalArgumentException("setting '" + k + "' is for method " + owner + ", but the method is " + name);
                }
                methodKeys.put(k.substring(dot + 1), e.getValue());
            } else if (k.equalsIgnoreCase("lambda")) {
                if (SCRATCH.equals(name)) throw new IllegalArgumentException("the scratch student has no lambda (no KD term)");
                methodKeys.put("lambda", e.getValue());
            } else {
                trainKeys.put(k, e.getValue());
            }
        }
        boolean sequential = student.sequential(); // as the student will be, after a model key below
        for (var e : trainKeys.entrySet()) {
            if (TrainConfig.key(e.getKey()).equals("model")) sequential = TrainConfig.key(String.valueOf(e.getValue())).equals("hstu");
        }
        for (String k : trainKeys.keySet()) { // a method's key given without its prefix: say how to write it
            String key = TrainConfig.key(k);
            // dropout is also HSTU's: for any other student it can only have meant the method's
            boolean studentKey = TrainConfig.KEYS.contains(key) && (sequential || !TrainConfig.SEQUENCE_KEYS.contains(key));
            if (!studentKey && params.toMap().containsKey(key)) {
                throw new IllegalArgumentException("setting '" + k + "' is a key of method " + name + (TrainConfig.KEYS.contains(key)
                        ? " (as a student key it is HSTU's, and the student is " + student.model() + ")" : "") + ": write " + name + "." + key + "=VALUE");
            }
        }
        TrainConfig trained = student.with(trainKeys);
        Map<String, Object> ownKeys = new LinkedHashMap<>();
        // the code anneals over args.epochs; a max_epochs given (in any spelling) comes later and wins
        if (params.toMap().containsKey(ANNEAL_HORIZON)) ownKeys.put(ANNEAL_HORIZON, trained.epochs());
        ownKeys.putAll(methodKeys);
        Setup s = new Setup(name, trained, params.with(ownKeys));
        if (!s.scratch()) {
            double lambda = s.lambda(); // checked here too, so that a bad one fails before data and teacher load
            if (!(lambda >= 0) || !Double.isFinite(lambda)) throw new IllegalArgumentException("lambda must be a finite number >= 0, got " + lambda);
        }
        if (java.util.Set.of("freqd", "de", "htd").contains(name) && s.student().model().equals("hstu")) {
            // they distil the batch's users and items row by row from the student's own tables; an HSTU student
            // has no user table and its sequence batches are not (user, positive, negative) triples
            throw new IllegalArgumentException(name + " distils from the student's raw user and item tables: it needs an mf or lightgcn student, not hstu"
                    + " (fitnet and every ranking method take hstu students)");
        }
        return s;
    }

    /**
     * The training objective of a run: the student's base loss (BPR; a sequence loss for HSTU) for
     * the scratch student, base + lambda * kd otherwise.
     */
    public static Objective objective(Setup s, Teacher teacher, TrainData data) {
        if (s.scratch()) return Models.objective(s.student());
        Distiller d = Methods.get(s.method()).factory().create(s.params(), teacher, data, s.student().seed());
        TrainConfig st = s.student();
        boolean perTerm = st.kdEncoding().equals("per_term");
        if (perTerm && st.dropout() == 0f && st.blockDropoutRate() == 0f) {
            kdrec.tensor.Diagnostics.notice("kd_encoding=per_term without dropout: every KD term's encoding equals the base loss's"
                    + " (it only costs time)");
        }
        return new DistillObjective(d, s.lambda(), Models.objective(st), perTerm);
    }

    /** Trains a fresh student of {@code s.student()} and returns the trainer's result (best valid epoch's test metrics). */
    public static Trainer.Result run(Setup s, Teacher teacher, TrainData data, Trainer.Outputs out, Path resumeFrom) throws IOException {
        return run(s, teacher, data, out, resumeFrom, kdrec.train.Device.fromEnvironment());
    }

    /**
     * Refuses, before anything is created or trained, a setup that cannot run with {@code --device
     * cuda} (the backbone, top_k, the method, a student top list over the GPU's top-K limit
     * on a data set of {@code items} items), saying what to use instead.
     */
    public static void checkOnDevice(Setup s, int items) {
        TrainConfig st = s.student();
        kdrec.device.DeviceTraining.checkSettings(st.model(), st.topK(), st.lazyAdam(), st.maxLen(), st.maxHeadWidth());
        if (s.scratch()) return;
        DistillObjective.checkOnDevice(st.baseLoss());
        // the device ranks the student's top list each epoch with the fused top-K kernel (k <= its limit);
        // the methods clip the list at the item count, and RCE-KD without sampling ranks nothing per epoch
        KdParams p = s.params();
        boolean rceSets = s.method().equals("rcekd") && p.bool("sampling") && !p.bool("full_ce");
        boolean studentCe = s.method().equals("ce") && p.str("guide").equals("student");
        int topList = Math.min(items, rceSets ? p.integer("m") : studentCe ? p.integer("k") : 0);
        if (topList > kdrec.gpu.GpuTopK.MAX_K) {
            throw new IllegalArgumentException(s.method() + (rceSets ? ".m = " : ".k = ") + topList
                    + " exceeds the GPU top-K limit " + kdrec.gpu.GpuTopK.MAX_K + "; use --device cpu");
        }
    }

    /** {@link #run} on the given device (cuda: see kdrec.device.DeviceTraining for what runs there). */
    public static Trainer.Result run(Setup s, Teacher teacher, TrainData data, Trainer.Outputs out, Path resumeFrom,
                                     kdrec.train.Device device) throws IOException {
        if (teacher != null && (teacher.users() != data.users() || teacher.items() != data.items())) {
            throw new IllegalArgumentException("the teacher has " + teacher.users() + " users and " + teacher.items()
                    + " items, the data " + data.users() + " and " + data.items());
        }
        try (Recommender student = Models.create(s.student(), data)) {
            Objective objective = objective(s, teacher, data);
            return new Trainer(s.student(), data, student, objective, out).onDevice(device).fit(resumeFrom);
        }
    }
}
