package kdrec.kd.feature;

import static kdrec.kd.feature.FeatureKd.ordered;

import java.util.Map;
import kdrec.autograd.Arith;
import kdrec.autograd.ChebyshevFilter;
import kdrec.autograd.Gather;
import kdrec.autograd.RowDistance;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.kd.Distiller;
import kdrec.kd.KdParams;
import kdrec.kd.Methods;
import kdrec.kd.Teacher;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.nn.Params;
import kdrec.tensor.Backend;
import kdrec.tensor.Scratch;
import kdrec.tensor.SparseMatrix;
import kdrec.tensor.Tensor;
import kdrec.train.TrainData;

/**
 * FreqD (Zhu and Zhang, KDD'25, arXiv 2411.10676) as the authors' current code runs it
 * (woriazzc/KDs HEAD, modeling/KD/cf/playground.py {@code FreqD}; freqd.md §2.5-2.12).
 *
 * <p>Per step, for the distinct users, distinct positive items and distinct negative items of the
 * batch (each its own term, with a fresh edge-dropout mask): project the student's raw rows to the
 * teacher's width (mean of E two-layer experts with dropout, per side), filter projected student
 * and teacher final embeddings with the same dropped filter h(L) (authors: H = (1-α)I + αÂ_drop,
 * i.e. {@code linear:α}), and sum the row distances, cosine (shipped) or squared L2:
 * {@code L = F(users) + 0.5 (F(pos) + F(neg))}; the trainer adds {@code lambda * L}.
 *
 * <p>Where it departs from the code, by design: only the batch's p-hop closure is projected and
 * filtered ({@code closure=true}; the code projects all rows on every call): the same loss and
 * gradients, as dropout masks are keyed by entity and graph entry ({@code closure=false} runs the
 * code's full-table path). The filter is any Chebyshev series ({@link SpectralFilter}); the graph
 * excludes each node itself and, by default, zero-co-occurrence neighbours ({@code pad_zero=true}:
 * the code's padding). Dropout masks differ from PyTorch's stream (not reproducible bit for bit).
 */
public final class FreqD implements Distiller {
    public static final Methods.Method METHOD = new Methods.Method("freqd",
            "FreqD: feature KD through a low-pass graph filter on user-user and item-item co-occurrence graphs (projector = mean of MLP experts)",
            ordered("lambda", 0.5, "filter", "linear:0.5", "k", 5, "keep_prob", 0.5, "dropout", 0.2, "experts", 5, "hidden_ratio", 1,
                    "norm", true, "pad_zero", false, "closure", true),
            presets(), FreqD::new);

    private static Map<String, Map<String, Object>> presets() {
        // configs/gowalla/bpr/freqd.yaml, key bpr (freqd.md §2.11): the only runnable FreqD config at HEAD
        return Map.of("gowalla/mf>mf", ordered("weight_decay", 1e-3, "batch_size", 2048, "lambda", 0.5, "filter", "linear:0.5", "k", 5,
                "keep_prob", 0.5, "dropout", 0.2, "experts", 5, "norm", true));
    }

    /** Weight of each item term (positives and negatives) against the user term. */
    static final float ITEM_WEIGHT = 0.5f;
    static final double COS_EPS = 1e-12;

    private final Teacher teacher;
    private final long seed;
    private final SpectralFilter filter;
    private final float keep, dropout;
    private final int experts, hiddenRatio;
    private final boolean cosine, closure;
    final SparseMatrix userGraph, itemGraph;
    private Params params;
    Projector userProj, itemProj;
    private int epoch, step;
    private Profile profile;

    public FreqD(KdParams p, Teacher teacher, TrainData data, long seed) {
        this.teacher = teacher;
        this.seed = seed;
        this.filter = SpectralFilter.parse(p.str("filter"));
        int k = p.atLeast("k", 1);
        double kp = p.real("keep_prob");
        if (!(kp > 0 && kp <= 1)) throw new IllegalArgumentException("freqd.keep_prob must be in (0, 1], got " + kp);
        this.keep = (float) kp;
        double dr = p.real("dropout");
        if (!(dr >= 0 && dr < 1)) throw new IllegalArgumentException("freqd.dropout must be in [0, 1), got " + dr);
        this.dropout = (float) dr;
        this.experts = p.atLeast("experts", 1);
        this.hiddenRatio = p.atLeast("hidden_ratio", 1);
        this.cosine = p.bool("norm");
        this.closure = p.bool("closure");
        boolean padZero = p.bool("pad_zero");
        this.userGraph = CoGraph.users(data, k, padZero);
        this.itemGraph = CoGraph.items(data, k, padZero);
    }

    @Override
    public String name() {
        return "freqd";
    }

    @Override
    public Params params(Recommender student) {
        if (params == null) {
            int ds = FeatureKd.table("freqd", student, "user").value().cols(), dt = teacher.dim();
            params = new Params();
            userProj = new Projector(params, "user", experts, ds, hiddenRatio * dt, dt, dropout, seed * 31 + 1);
            itemProj = new Projector(params, "item", experts, ds, hiddenRatio * dt, dt, dropout, seed * 31 + 2);
        }
        return params;
    }

    @Override
    public void beginEpoch(Tape tape, Recommender student, int epoch) {
        this.epoch = epoch;
        this.step = 0;
    }

    /** FreqD distils from the student's raw (ego) tables, not its final embeddings. */
    @Override
    public boolean readsRawTables() {
        return true;
    }

    @Override
    public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
        params(student);
        int s = step++;
        Var users = sideLoss(tape, FeatureKd.distinct(batch.users()), FeatureKd.table("freqd", student, "user"), teacher.userEmbeddings(),
                userGraph, userProj, FeatureKd.stepSeed(seed, 20, epoch, s));
        Var pos = sideLoss(tape, FeatureKd.distinct(batch.positives()), FeatureKd.table("freqd", student, "item"), teacher.itemEmbeddings(),
                itemGraph, itemProj, FeatureKd.stepSeed(seed, 21, epoch, s));
        Var neg = sideLoss(tape, FeatureKd.distinct(batch.negatives()), FeatureKd.table("freqd", student, "item"), teacher.itemEmbeddings(),
                itemGraph, itemProj, FeatureKd.stepSeed(seed, 22, epoch, s));
        return Arith.add(tape, users, Arith.scale(tape, Arith.add(tape, pos, neg), ITEM_WEIGHT));
    }

    /** Runs the projectors as the composition of element-wise ops they were before {@code ExpertMlp} (bench baseline). */
    public void composedProjectors(boolean on) {
        if (userProj == null) throw new IllegalStateException("freqd: projectors are made by params(student) first");
        userProj.composed(on);
        itemProj.composed(on);
    }

    /** Accumulates the time of each phase of the filter calls (benchmarks); null turns it off. */
    public void profile(Profile p) {
        this.profile = p;
    }

    /**
     * Nanoseconds per phase of the side losses, forward and backward: closure (closure, masks,
     * gathers), projector, filter (student and teacher), distance.
     */
    public static final class Profile {
        public static final String[] PHASES = {"closure", "projector", "filter", "distance"};
        public final long[] forward = new long[4], backward = new long[4];
        private final long[] marks = new long[5];

        public void clear() {
            java.util.Arrays.fill(forward, 0);
            java.util.Arrays.fill(backward, 0);
        }

        /**
         * A backward probe placed before phase k's ops: backward reaches it when phase k's backward is
         * done, which started at the probe after it (marks[k+1]; marks[4] is set after the last op).
         */
        void probe(Tape tape, int k) {
            kdrec.autograd.Probe.onBackward(tape, () -> {
                long now = System.nanoTime();
                backward[k] += now - marks[k + 1];
                marks[k] = now;
            });
        }
    }

    /** F(B): the summed distance of the filtered projected student rows and filtered teacher rows of {@code nodes}. */
    Var sideLoss(Tape tape, int[] nodes, Var table, Tensor teacherTable, SparseMatrix ahat, Projector proj, long callSeed) {
        return sideLoss(tape, nodes, table, teacherTable, ahat, proj, filter, keep, closure, cosine, callSeed, profile);
    }

    static Var sideLoss(Tape tape, int[] nodes, Var table, Tensor teacherTable, SparseMatrix ahat, Projector proj, SpectralFilter filter,
                        float keep, boolean closure, boolean cosine, long callSeed) {
        return sideLoss(tape, nodes, table, teacherTable, ahat, proj, filter, keep, closure, cosine, callSeed, null);
    }

    private static Var sideLoss(Tape tape, int[] nodes, Var table, Tensor teacherTable, SparseMatrix ahat, Projector proj, SpectralFilter filter,
                                float keep, boolean closure, boolean cosine, long callSeed, Profile prof) {
        long t0 = System.nanoTime();
        if (prof != null) prof.probe(tape, 0);
        long edgeSeed = RowDropoutSeeds.edge(callSeed), dropSeed = RowDropoutSeeds.projector(callSeed);
        int p = filter.degree();
        Closure c = closure ? Closure.of(ahat, nodes, p, keep, edgeSeed) : Closure.full(ahat, p, keep, edgeSeed);
        Var x = closure ? Gather.rows(tape, table, c.nodes) : table;
        long t1 = System.nanoTime();
        if (prof != null) prof.probe(tape, 1);
        Var z = proj.forward(tape, x, c.nodes, dropSeed);
        long t2 = System.nanoTime();
        if (prof != null) prof.probe(tape, 2);
        Var s = ChebyshevFilter.apply(tape, c.op, c.reach, filter.coeffs(), z);
        if (!closure) s = Gather.rows(tape, s, nodes);
        Var t = teacherRows(tape, c, teacherTable, nodes, filter, closure);
        long t3 = System.nanoTime();
        if (prof != null) prof.probe(tape, 3);
        Var d = cosine ? RowDistance.cosine(tape, s, t, COS_EPS) : RowDistance.squaredL2(tape, s, t);
        Var out = Arith.sum(tape, d);
        if (prof != null) {
            long t4 = System.nanoTime();
            prof.forward[0] += t1 - t0;
            prof.forward[1] += t2 - t1;
            prof.forward[2] += t3 - t2;
            prof.forward[3] += t4 - t3;
            // the first closure to run in backward: it starts the distance phase's clock
            kdrec.autograd.Probe.onBackward(tape, () -> prof.marks[4] = System.nanoTime());
        }
        return out;
    }

    /**
     * The filtered teacher rows of {@code nodes} (constant: the teacher is frozen, no gradient flows
     * there), computed in a scratch region released on return: neither the gathered closure rows nor
     * the filter's output over every row (the full-table path) outlive the call, only these B rows.
     */
    private static Var teacherRows(Tape tape, Closure c, Tensor teacherTable, int[] nodes, SpectralFilter filter, boolean closure) {
        Scratch sc = tape.scratch();
        Backend be = tape.backend();
        int d = teacherTable.cols();
        Tensor out = sc.uninitialized(nodes.length, d);
        Scratch.Mark mark = sc.mark();
        try (var ng = tape.noGrad()) {
            Tensor tl = teacherTable;
            if (closure) {
                tl = sc.uninitialized(c.nodes.length, d);
                be.gather(c.nodes.length, d, c.nodes, teacherTable.data(), 0, d, tl.data(), 0, d);
            }
            Tensor f = ChebyshevFilter.apply(tape, c.op, c.reach, filter.coeffs(), Var.constant(tl)).value();
            // closure: the batch's nodes are its first rows, in order; full table: pick them out
            if (closure) be.copy((long) nodes.length * d, f.data(), 0, out.data(), 0);
            else be.gather(nodes.length, d, nodes, f.data(), 0, d, out.data(), 0, d);
        }
        sc.release(mark);
        return Var.constant(out);
    }

    /** The two independent draws of one filter call: the edge mask and the projector's dropout. */
    static final class RowDropoutSeeds {
        static long edge(long callSeed) {
            return kdrec.autograd.RowDropout.rowSeed(callSeed, 0);
        }

        static long projector(long callSeed) {
            return kdrec.autograd.RowDropout.rowSeed(callSeed, 1);
        }
    }
}
