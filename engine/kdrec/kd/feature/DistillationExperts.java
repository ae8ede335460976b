package kdrec.kd.feature;

import static kdrec.kd.feature.FeatureKd.ordered;

import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.autograd.Arith;
import kdrec.autograd.Gather;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.kd.Distiller;
import kdrec.kd.KdParams;
import kdrec.kd.Methods;
import kdrec.kd.Sampling;
import kdrec.kd.Teacher;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.nn.Params;
import kdrec.train.TrainData;

/**
 * DE, distillation experts (Kang et al., DE-RRD, CIKM'20) as the authors' framework codes it
 * ({@code DE} in woriazzc/KDs modeling/KD/cf/baseline.py; rce-kd-and-baselines.md §2): per side E
 * experts and a selection net on the teacher row ({@link ExpertSelection}), Gumbel-softmax
 * selection at a temperature annealed per epoch {@code T = end_T·anneal·(1/anneal)^(epoch/max_epochs)}
 * (1 -> 1e-10: effectively hard), loss {@code Σ‖t_e - Σ_m z_m f_m(s_e)‖²} over the batch's distinct
 * users + 0.5·(distinct positive items + distinct negative items); s and t are final embeddings.
 * {@code max_epochs} is the annealing horizon: the code's {@code args.epochs}, so {@link kdrec.kd.Distillation#resolve}
 * sets it to the run's {@code epochs} unless it is given (1000 here is only for a distiller built without it).
 */
public final class DistillationExperts implements Distiller {
    public static final Methods.Method METHOD = new Methods.Method("de",
            "DE: distillation experts, student embeddings mapped to the teacher's by Gumbel-selected MLP experts (squared L2)",
            ordered("lambda", 0.01, "experts", 5, "end_t", 1e-10, "anneal_size", 1e10, "max_epochs", 1000), presets(), DistillationExperts::new);

    private static Map<String, Map<String, Object>> presets() {
        // the released configs (configs/<dataset>/<student>/de.yaml, teacher of the same backbone): the spec
        // gives the expert counts and only a range for λ; lr 1e-3 throughout
        Map<String, Map<String, Object>> p = new LinkedHashMap<>();
        p.put("citeulike/mf>mf", ordered("weight_decay", 1e-4, "batch_size", 2048, "lambda", 0.05, "experts", 30));
        p.put("gowalla/mf>mf", ordered("weight_decay", 1e-3, "batch_size", 4096, "lambda", 0.005, "experts", 5));
        p.put("yelp/mf>mf", ordered("weight_decay", 1e-3, "batch_size", 2048, "lambda", 0.005, "experts", 5));
        p.put("citeulike/lightgcn>lightgcn", ordered("weight_decay", 1e-5, "batch_size", 2048, "lambda", 0.005, "experts", 20));
        p.put("gowalla/lightgcn>lightgcn", ordered("weight_decay", 1e-7, "batch_size", 2048, "lambda", 0.5, "experts", 10));
        p.put("yelp/lightgcn>lightgcn", ordered("weight_decay", 1e-8, "batch_size", 2048, "lambda", 0.5, "experts", 10));
        return p;
    }

    private final Teacher teacher;
    private final long seed;
    private final int experts, maxEpochs;
    private final double endT, anneal;
    private Params params;
    private ExpertSelection users, items;
    private int epoch, step;
    private double temp;

    public DistillationExperts(KdParams p, Teacher teacher, TrainData data, long seed) {
        this.teacher = teacher;
        this.seed = seed;
        this.experts = p.atLeast("experts", 1);
        this.endT = p.positive("end_t");
        this.anneal = p.positive("anneal_size");
        this.maxEpochs = p.atLeast("max_epochs", 1);
        this.temp = endT * anneal;
    }

    @Override
    public String name() {
        return "de";
    }

    @Override
    public Params params(Recommender student) {
        if (params == null) {
            params = new Params();
            users = new ExpertSelection(params, "user", experts, student.dim(), teacher.dim(), seed * 31 + 1);
            items = new ExpertSelection(params, "item", experts, student.dim(), teacher.dim(), seed * 31 + 2);
        }
        return params;
    }

    @Override
    public void beginEpoch(Tape tape, Recommender student, int epoch) {
        this.epoch = epoch;
        this.step = 0;
        this.temp = ExpertSelection.temperature(endT * anneal, endT, epoch, maxEpochs);
    }

    /** The epoch's selection temperature. */
    double temperature() {
        return temp;
    }

    @Override
    public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
        params(student);
        int s = step++;
        Var u = side(tape, e.users(), FeatureKd.distinct(batch.users()), teacher.userEmbeddings(), users, Sampling.rng(seed, 40, epoch, s));
        Var p = side(tape, e.items(), FeatureKd.distinct(batch.positives()), teacher.itemEmbeddings(), items, Sampling.rng(seed, 41, epoch, s));
        Var n = side(tape, e.items(), FeatureKd.distinct(batch.negatives()), teacher.itemEmbeddings(), items, Sampling.rng(seed, 42, epoch, s));
        return Arith.add(tape, u, Arith.scale(tape, Arith.add(tape, p, n), 0.5f));
    }

    private Var side(Tape tape, Var table, int[] ids, kdrec.tensor.Tensor teacherTable, ExpertSelection sel, java.util.SplittableRandom rng) {
        return sel.loss(tape, Gather.rows(tape, table, ids), FeatureKd.rows(tape.backend(), teacherTable, ids), ids, temp, rng);
    }
}
