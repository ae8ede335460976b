package kdrec.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.autograd.Var;
import kdrec.eval.EarlyStopping;
import kdrec.eval.Metrics;
import kdrec.model.Recommender;
import kdrec.nn.Adam;
import kdrec.tensor.Tensor;

/**
 * Everything beyond the parameters that a resumed run needs to continue exactly: the epoch just
 * finished, Adam's moments and step count, the early-stopping state and the test metrics at the
 * best valid epoch. Stored in last.safetensors next to the parameters. An objective's own trainable
 * parameters (feature KD's projectors) are stored as {@code objective.param.NAME} with their
 * moments as {@code adam.m.objective.param.NAME} / {@code adam.v.objective.param.NAME}.
 */
record TrainState(int epoch, EarlyStopping stopper, Metrics bestTest) {
    private static final String M = "adam.m.", V = "adam.v.", OBJECTIVE = "objective.", PARAM = "objective.param.";

    Checkpoint checkpoint(Recommender model, Adam adam, Adam extraAdam, TrainData data, TrainConfig cfg, kdrec.loss.Objective objective) {
        Checkpoint c = Checkpoints.modelOnly(model, data, cfg, epoch);
        Map<String, Tensor> tensors = new LinkedHashMap<>(c.tensors());
        for (Var p : adam.params()) {
            Tensor[] mv = adam.moments(p);
            tensors.put(M + p.name(), mv[0]);
            tensors.put(V + p.name(), mv[1]);
        }
        for (var e : objective.state().entrySet()) tensors.put(OBJECTIVE + e.getKey(), e.getValue());
        if (extraAdam != null) {
            for (Var p : extraAdam.params()) {
                Tensor[] mv = extraAdam.moments(p);
                tensors.put(PARAM + p.name(), p.value());
                tensors.put(M + PARAM + p.name(), mv[0]);
                tensors.put(V + PARAM + p.name(), mv[1]);
            }
        }
        Map<String, Object> es = new LinkedHashMap<>();
        es.put("metric", stopper.metric());
        es.put("best", stopper.bestValue());
        es.put("best_epoch", stopper.bestEpoch());
        es.put("since_best", stopper.sinceBest());
        es.put("evaluations", stopper.evaluations());
        es.put("best_metrics", stopper.bestMetrics().values());
        Checkpoint out = new Checkpoint(tensors, c.metadata());
        if (extraAdam != null) out = out.with("objective_adam_step", "" + extraAdam.steps());
        return out.with("adam_step", "" + adam.steps()).withJson("early_stopping", es)
                .withJson("best_test", bestTest == null ? Map.of() : bestTest.values());
    }

    @SuppressWarnings("unchecked")
    static TrainState restore(Path file, Recommender model, Adam adam, Adam extraAdam, kdrec.loss.Objective objective, String fingerprint)
            throws IOException {
        Checkpoint c = Checkpoint.loadCopy(file);
        if (!fingerprint.equals(c.fingerprint())) {
            throw new IllegalArgumentException("cannot resume from " + file + ": it was trained on other data (fingerprint "
                    + c.fingerprint() + ", now " + fingerprint + ")");
        }
        if (!model.kind().equals(c.model())) throw new IllegalArgumentException("cannot resume from " + file + ": it holds a " + c.model());
        Checkpoints.copyParams(file, c, model);
        for (Var p : adam.params()) {
            Tensor m = c.tensors().get(M + p.name()), v = c.tensors().get(V + p.name());
            if (m == null || v == null) throw new IllegalArgumentException(file + ": no optimizer state for '" + p.name() + "' (not a last-epoch checkpoint?)");
            m.copyTo(adam.moments(p)[0]);
            v.copyTo(adam.moments(p)[1]);
        }
        adam.setSteps(Integer.parseInt(c.meta("adam_step")));
        if (extraAdam != null) {
            for (Var p : extraAdam.params()) {
                Tensor value = c.tensors().get(PARAM + p.name()), m = c.tensors().get(M + PARAM + p.name()), v = c.tensors().get(V + PARAM + p.name());
                if (value == null || m == null || v == null) {
                    throw new IllegalArgumentException("cannot resume from " + file + ": no saved value or optimizer state for the objective's parameter '"
                            + p.name() + "' (was it trained with another method or settings?)");
                }
                if (!value.sameShape(p.value())) {
                    throw new IllegalArgumentException("cannot resume from " + file + ": the objective's parameter '" + p.name() + "' has shape "
                            + java.util.Arrays.toString(value.shape()) + ", the run needs " + java.util.Arrays.toString(p.value().shape()));
                }
                value.copyTo(p.value());
                m.copyTo(extraAdam.moments(p)[0]);
                v.copyTo(extraAdam.moments(p)[1]);
            }
            extraAdam.setSteps(Integer.parseInt(c.meta("objective_adam_step")));
        }
        Map<String, Tensor> objectiveState = new LinkedHashMap<>();
        for (var e : c.tensors().entrySet()) {
            if (e.getKey().startsWith(OBJECTIVE) && !e.getKey().startsWith(PARAM)) {
                objectiveState.put(e.getKey().substring(OBJECTIVE.length()), e.getValue());
            }
        }
        objective.restore(objectiveState);
        Map<String, Object> es = c.json("early_stopping", Map.class);
        EarlyStopping stopper = EarlyStopping.restore((String) es.get("metric"), 1, number(es.get("best")),
                (int) number(es.get("best_epoch")), new Metrics(toDoubles((Map<String, Object>) es.get("best_metrics"))),
                (int) number(es.get("since_best")), (int) number(es.get("evaluations")));
        Map<String, Object> bt = c.json("best_test", Map.class);
        return new TrainState(c.epoch(), stopper, bt.isEmpty() ? null : new Metrics(toDoubles(bt)));
    }

    /** The stopper with the run's patience (patience is a setting, not state). */
    EarlyStopping stopper(int patience) {
        return EarlyStopping.restore(stopper.metric(), patience, stopper.bestValue(), stopper.bestEpoch(), stopper.bestMetrics(),
                stopper.sinceBest(), stopper.evaluations());
    }

    private static Map<String, Double> toDoubles(Map<String, Object> m) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (var e : m.entrySet()) out.put(e.getKey(), number(e.getValue()));
        return out;
    }

    /**
     * A number of the saved JSON. Gson writes non-finite doubles as the bare words -Infinity, Infinity,
     * NaN and reads them back as strings: a run without a validation split keeps best = -Infinity.
     */
    private static double number(Object v) {
        return v instanceof Number n ? n.doubleValue() : Double.parseDouble(String.valueOf(v));
    }
}
