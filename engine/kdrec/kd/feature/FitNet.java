package kdrec.kd.feature;

import static kdrec.kd.feature.FeatureKd.ordered;

import java.util.Map;
import kdrec.autograd.Arith;
import kdrec.autograd.Gather;
import kdrec.autograd.Linear;
import kdrec.autograd.RowDistance;
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
import kdrec.tensor.Tensor;
import kdrec.train.TrainData;

/**
 * FitNet hint regression as the authors' framework codes it ({@code Fit} in woriazzc/KDs
 * modeling/KD/cf/baseline.py; rce-kd-and-baselines.md §2, freqd.md §3): each step draws |batch|
 * users and |batch| items uniformly without replacement (not the batch's entities) and sums
 * {@code ‖P(s_e) - t_e‖²} over both, s the student's final embeddings, t the teacher's. P is a
 * projector per side: mean of {@code experts} MLPs d_s -> hidden_ratio·d_t -> d_t with dropout
 * (defaults: 1 expert, ratio 5, dropout 0.2), or one linear map ({@code linear=true}; {@code bias}
 * off as in the one released config, configs/citeulike/bpr/fit.yaml). {@code norm=true} L2-normalises both sides first. This is plain feature KD: FreqD
 * with h ≡ 1 (freqd.md §2.3).
 */
public final class FitNet implements Distiller {
    public static final Methods.Method METHOD = new Methods.Method("fitnet",
            "FitNet hint regression: squared L2 between projected student and teacher embeddings of random users and items",
            ordered("lambda", 0.05, "experts", 1, "hidden_ratio", 5, "dropout", 0.2, "linear", false, "bias", false, "norm", false),
            Map.of("citeulike/mf>mf", ordered("weight_decay", 1e-7, "lambda", 0.05)), FitNet::new);

    private final Teacher teacher;
    private final long seed;
    private final int experts, hiddenRatio;
    private final float dropout;
    private final boolean linear, bias, norm;
    private Params params;
    private Projector userProj, itemProj;
    private Var userW, userB, itemW, itemB;
    private int epoch, step;

    public FitNet(KdParams p, Teacher teacher, TrainData data, long seed) {
        this.teacher = teacher;
        this.seed = seed;
        this.experts = p.atLeast("experts", 1);
        this.hiddenRatio = p.atLeast("hidden_ratio", 1);
        double dr = p.real("dropout");
        if (!(dr >= 0 && dr < 1)) throw new IllegalArgumentException("fitnet.dropout must be in [0, 1), got " + dr);
        this.dropout = (float) dr;
        this.linear = p.bool("linear");
        this.bias = p.bool("bias");
        this.norm = p.bool("norm");
    }

    @Override
    public String name() {
        return "fitnet";
    }

    @Override
    public Params params(Recommender student) {
        if (params == null) {
            int ds = student.dim(), dt = teacher.dim();
            params = new Params();
            if (linear) {
                userW = Projector.uniform(params, "user.w", ds, seed * 31 + 1, 0, ds, dt);
                itemW = Projector.uniform(params, "item.w", ds, seed * 31 + 2, 0, ds, dt);
                if (bias) {
                    userB = Projector.uniform(params, "user.b", ds, seed * 31 + 1, 1, dt);
                    itemB = Projector.uniform(params, "item.b", ds, seed * 31 + 2, 1, dt);
                }
            } else {
                userProj = new Projector(params, "user", experts, ds, hiddenRatio * dt, dt, dropout, seed * 31 + 1);
                itemProj = new Projector(params, "item", experts, ds, hiddenRatio * dt, dt, dropout, seed * 31 + 2);
            }
        }
        return params;
    }

    @Override
    public void beginEpoch(Tape tape, Recommender student, int epoch) {
        this.epoch = epoch;
        this.step = 0;
    }

    @Override
    public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
        params(student);
        int s = step++;
        int m = batch.size();
        int[] users = Sampling.uniformWithoutReplacement(student.users(), Math.min(m, student.users()), Sampling.rng(seed, 30, epoch, s));
        int[] items = Sampling.uniformWithoutReplacement(student.items(), Math.min(m, student.items()), Sampling.rng(seed, 31, epoch, s));
        long drop = FeatureKd.stepSeed(seed, 32, epoch, s);
        Var lu = side(tape, e.users(), users, teacher.userEmbeddings(), userProj, userW, userB, drop);
        Var li = side(tape, e.items(), items, teacher.itemEmbeddings(), itemProj, itemW, itemB, drop + 1);
        return Arith.add(tape, lu, li);
    }

    private Var side(Tape tape, Var table, int[] ids, Tensor teacherTable, Projector proj, Var w, Var b, long drop) {
        Var s = Gather.rows(tape, table, ids);
        Var z = linear ? Linear.apply(tape, s, w, b) : proj.forward(tape, s, ids, drop);
        Var t = Var.constant(FeatureKd.rows(tape.backend(), teacherTable, ids));
        // ‖ŝ - t̂‖² = 2 (1 - cos) for unit rows (F.normalize, eps 1e-12)
        Var d = norm ? Arith.scale(tape, RowDistance.cosine(tape, z, t, 1e-12), 2f) : RowDistance.squaredL2(tape, z, t);
        return Arith.sum(tape, d);
    }
}
