package kdrec.kd.feature;

import static kdrec.kd.feature.FeatureKd.ordered;

import java.util.Map;
import kdrec.autograd.Arith;
import kdrec.autograd.Gather;
import kdrec.autograd.Tape;
import kdrec.autograd.Topology;
import kdrec.autograd.Var;
import kdrec.kd.Distiller;
import kdrec.kd.KdParams;
import kdrec.kd.Methods;
import kdrec.kd.Sampling;
import kdrec.kd.Teacher;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.nn.Params;
import kdrec.tensor.Tensor;
import kdrec.train.TrainData;

/**
 * HTD, hierarchical topology distillation (Kang et al., KDD'21) as the authors' framework codes it
 * ({@code HTD} in woriazzc/KDs modeling/KD/cf/baseline.py, {@code htd_choice: second};
 * rce-kd-and-baselines.md §2). Per step, U = distinct batch users, I = distinct (positives ∪
 * negatives):
 * <ul>
 * <li>group assignment: DE's expert loss ({@link ExpertSelection}) on U and on I, unweighted,
 *     Gumbel temperature annealed 1 -> 1e-10 over {@code max_epochs} (the run's epochs, as DE);</li>
 * <li>topology ({@link Topology}): groups = argmax of the selection nets (items offset by E), the
 *     entity-level same-group cosine structure and the prototype-to-entity cosines of student
 *     vs teacher over U ∪ I;</li>
 * <li>{@code L = α·TD + (1-α)·GA}.</li>
 * </ul>
 */
public final class HierarchicalTopology implements Distiller {
    public static final Methods.Method METHOD = new Methods.Method("htd",
            "HTD: hierarchical topology distillation, same-group and prototype cosine structure plus DE-style group assignment",
            ordered("lambda", 0.5, "experts", 30, "alpha", 0.9, "max_epochs", 1000), htdPresets(),
            HierarchicalTopology::new);

    /**
     * The released configs (configs/<dataset>/<student>/htd.yaml): λ 0.5, weight decay 1e-8, batch 2048,
     * α 0.9, except Gowalla MF, whose file sets only α 0.5: λ, weight decay and batch then fall to the
     * code's command-line defaults (1, 0, 4096).
     */
    private static Map<String, Map<String, Object>> htdPresets() {
        Map<String, Map<String, Object>> p = new java.util.LinkedHashMap<>();
        for (String ds : new String[] {"citeulike", "yelp"}) {
            p.put(ds + "/mf>mf", ordered("weight_decay", 1e-8, "batch_size", 2048, "lambda", 0.5, "alpha", 0.9));
        }
        p.put("gowalla/mf>mf", ordered("weight_decay", 0.0, "batch_size", 4096, "lambda", 1.0, "alpha", 0.5));
        for (String ds : new String[] {"citeulike", "gowalla", "yelp"}) {
            p.put(ds + "/lightgcn>lightgcn", ordered("weight_decay", 1e-8, "batch_size", 2048, "lambda", 0.5, "alpha", 0.9));
        }
        return p;
    }

    static final double START_T = 1.0, END_T = 1e-10;

    private final Teacher teacher;
    private final long seed;
    private final int experts, maxEpochs;
    private final float alpha;
    private Params params;
    private ExpertSelection users, items;
    private int epoch, step;
    private double temp = START_T;

    public HierarchicalTopology(KdParams p, Teacher teacher, TrainData data, long seed) {
        this.teacher = teacher;
        this.seed = seed;
        this.experts = p.atLeast("experts", 1);
        double a = p.real("alpha");
        if (!(a >= 0 && a <= 1)) throw new IllegalArgumentException("htd.alpha must be in [0, 1], got " + a);
        this.alpha = (float) a;
        this.maxEpochs = p.atLeast("max_epochs", 1);
    }

    @Override
    public String name() {
        return "htd";
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
        this.temp = ExpertSelection.temperature(START_T, END_T, epoch, maxEpochs);
    }

    @Override
    public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
        params(student);
        int s = step++;
        int[] u = FeatureKd.distinct(batch.users());
        int[] both = new int[2 * batch.size()];
        System.arraycopy(batch.positives(), 0, both, 0, batch.size());
        System.arraycopy(batch.negatives(), 0, both, batch.size(), batch.size());
        int[] i = FeatureKd.distinct(both);
        Var su = Gather.rows(tape, e.users(), u), si = Gather.rows(tape, e.items(), i);
        Tensor tu = FeatureKd.rows(tape.backend(), teacher.userEmbeddings(), u), ti = FeatureKd.rows(tape.backend(), teacher.itemEmbeddings(), i);
        Var ga = Arith.add(tape, users.loss(tape, su, tu, u, temp, Sampling.rng(seed, 50, epoch, s)),
                items.loss(tape, si, ti, i, temp, Sampling.rng(seed, 51, epoch, s)));
        Var td = topology(tape, su, si, tu, ti);
        return Arith.add(tape, Arith.scale(tape, td, alpha), Arith.scale(tape, ga, 1 - alpha));
    }

    /** The topology term over users then items, items' groups offset by E. */
    Var topology(Tape tape, Var su, Var si, Tensor tu, Tensor ti) {
        int[] gu = users.groups(tape, tu), gi = items.groups(tape, ti);
        int nu = gu.length, ni = gi.length, dt = tu.cols();
        int[] group = new int[nu + ni];
        System.arraycopy(gu, 0, group, 0, nu);
        for (int k = 0; k < ni; k++) group[nu + k] = gi[k] + experts;
        Tensor t = Tensor.zeros(nu + ni, dt);
        tu.copyTo(t.rowRange(0, nu));
        ti.copyTo(t.rowRange(nu, nu + ni));
        return Topology.loss(tape, Arith.concatRows(tape, su, si), t, group);
    }
}
