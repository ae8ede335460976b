package kdrec.kd;

import static kdrec.kd.KdParams.ordered;

import java.util.Arrays;
import java.util.Map;
import kdrec.autograd.Arith;
import kdrec.autograd.CrossEntropy;
import kdrec.autograd.Gather;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.tensor.IndexSets;
import kdrec.tensor.PairSets;
import kdrec.train.TrainData;

/**
 * RCE-KD (Zhu and Zhang, arXiv 2509.20989) exactly as the authors' code runs it
 * ({@code RCEKD} in woriazzc/RCEKD modeling/KD/playground.py; spec §1.3-1.6).
 *
 * <p>Once: the teacher's top-K over all items (no train masking), QT. Every epoch, without
 * gradient: the student's top-M (fused score->top-K, no masking), SM; SK = SM[0:K]; closure
 * weights {@code exp((min(c,50)+1)/T)} with c the reverse cumulative count of QT items over SM;
 * L positions drawn without replacement, P; J2 = P ∪ (QT \ (P ∪ SK)); the adaptive weight
 * {@code w = exp(-beta |QT ∩ P| / K)}. Per batch entry: {@code (1-w) CE_SK + w CE_J2} with
 * tau on teacher and student, summed over entries (duplicate users kept).
 *
 * <p>Cost layout (the KD epoch's budget is twice a BPR epoch): both CEs of a user run on one list,
 * the union SK ∪ J2 ordered [SK \ P | SK ∩ P | P \ SK | QT \ (P ∪ SK)], so SK is its first K
 * entries, J2 its entries from |SK \ P| on, and every item's dot is computed once (the fused pair
 * soft-CE kernel). Each distinct user of a batch is one row weighted by its count (exact: the sets
 * are per user). The teacher is frozen and the sets are fixed for an epoch, so the teacher's side
 * (its softmax over each set, weighted by 1-w and w) is built once per epoch in beginEpoch, with the
 * teacher logits of QT items computed once at construction.
 *
 * <p>Ablations (§1.9) as switches: {@code sampling=false} (w/o S: one CE on QT, i.e. vanilla CE),
 * {@code sample_rank=true} (w/o T: weights exp(-(m+1)/T) from the student rank alone),
 * {@code separate=false} (w/o sep: one CE on SK ∪ J2), {@code const_weight=c} in [0,1] (w/ const),
 * {@code full_ce=true} (CE between the full-catalogue softmaxes).
 *
 * <p>Sequential students (HSTU): the batch is users, each once, so the sum over entries is a sum
 * over the batch's users; the student's user rows are its last-position states, which
 * {@code Recommender.forward(tape, batchUsers)} provides for exactly the batch's users. HSTU
 * teachers are frozen like any other (last-position states and normalised items: cosine logits).
 */
public final class RceKd implements Distiller {
    /** The code clips the reverse cumulative count at 50 (a constant there, not a setting). */
    static final int COUNT_CLIP = 50;

    public static final Methods.Method METHOD = new Methods.Method("rcekd",
            "Rejuvenated cross-entropy KD: CE on the student's top-K plus CE on teacher-top items completed by closure sampling, adaptively mixed",
            ordered("lambda", 10.0, "k", 100, "l", 50, "m", 200, "t", 10.0, "tau", 1.0, "beta", 5.0, "sample_rank", false,
                    "sampling", true, "separate", true, "const_weight", -1.0, "full_ce", false),
            presets(), RceKd::new);

    private static Map<String, Map<String, Object>> presets() {
        Map<String, Map<String, Object>> p = new java.util.LinkedHashMap<>();
        // spec §1.8 (configs/<dataset>/<student>/rcekd.yaml, key = teacher); batch 2048, lr 1e-3 throughout
        p.put("citeulike/mf>mf", row(1e-5, 500, 1, 50, 50, 200, 3));
        p.put("gowalla/mf>mf", row(1e-5, 10, 1, 100, 50, 100, 5));
        p.put("yelp/mf>mf", row(1e-5, 10, 1, 100, 50, 100, 5));
        p.put("citeulike/lightgcn>lightgcn", row(1e-5, 500, 1, 50, 100, 200, 10));
        p.put("gowalla/lightgcn>lightgcn", row(1e-5, 50, 1, 100, 100, 200, 15));
        p.put("yelp/lightgcn>lightgcn", row(1e-5, 10, 1, 100, 100, 200, 10));
        p.put("citeulike/lightgcn>mf", row(1e-7, 100, 10, 50, 50, 200, 5));
        p.put("gowalla/lightgcn>mf", row(1e-5, 10000, 1, 100, 100, 200, 5));
        p.put("yelp/lightgcn>mf", row(1e-5, 50, 1, 100, 100, 500, 11));
        // HSTU students train on batches of users (one sequence each): the batch column is users
        p.put("citeulike/hstu>hstu", row(1e-5, 5, 1, 100, 100, 200, 3, 512));
        p.put("gowalla/hstu>hstu", row(1e-5, 10, 1, 100, 100, 200, 5, 128));
        p.put("yelp/hstu>hstu", row(1e-5, 1, 1, 100, 100, 200, 5, 400));
        p.put("citeulike/hstu>mf", row(1e-5, 50000, 1, 100, 100, 500, 5));
        p.put("gowalla/hstu>mf", row(1e-5, 100000, 1, 100, 50, 200, 1));
        p.put("yelp/hstu>mf", row(1e-5, 500, 1, 100, 100, 500, 0.5));
        return p;
    }

    private static Map<String, Object> row(double wd, double lambda, double tau, int k, int l, int m, double beta) {
        return row(wd, lambda, tau, k, l, m, beta, 2048);
    }

    private static Map<String, Object> row(double wd, double lambda, double tau, int k, int l, int m, double beta, int batch) {
        return ordered("weight_decay", wd, "batch_size", batch, "lambda", lambda, "tau", tau, "k", k, "l", l, "m", m, "beta", beta);
    }

    private final Teacher teacher;
    private final long seed;
    private final int k, l, m;
    private final double temp, beta, constWeight;
    private final float tau;
    private final boolean sampleRank, sampling, separate, fullCe;
    private final int[] teacherTop;      // users x k, teacher order
    private final float[] teacherTopLogits; // users x k, aligned with teacherTop

    // the lists, split points, weights and teacher targets: rebuilt by beginEpoch, or fixed here without sampling
    private final RceKdEpoch ep = new RceKdEpoch();
    private boolean ready;

    /** The epoch's lists, split points, weights and targets over all users (the device path uploads them). */
    RceKdEpoch epochSets() {
        if (!ready) throw new IllegalStateException("rcekd: beginEpoch has not run");
        return ep;
    }

    public RceKd(KdParams p, Teacher teacher, TrainData data, long seed) {
        this.teacher = teacher;
        this.seed = seed;
        int items = teacher.items();
        this.k = Math.min(p.atLeast("k", 1), items);
        this.m = Math.min(p.atLeast("m", 1), items);
        if (p.integer("m") < p.integer("k")) throw new IllegalArgumentException("rcekd.m (" + p.integer("m") + ") must be >= rcekd.k (" + p.integer("k") + ")");
        this.l = Math.min(p.atLeast("l", 1), m);
        if (k != p.integer("k") || m != p.integer("m") || l != p.integer("l")) { // the settings logged are the ones asked for
            kdrec.tensor.Diagnostics.notice("rcekd: k, m, l run as " + k + ", " + m + ", " + l + " (asked: " + p.integer("k") + ", "
                    + p.integer("m") + ", " + p.integer("l") + "; k and m are at most the " + items + " items, l at most m)");
        }
        this.temp = p.positive("t");
        this.tau = (float) p.positive("tau");
        this.beta = p.real("beta");
        this.sampleRank = p.bool("sample_rank");
        this.sampling = p.bool("sampling");
        this.separate = p.bool("separate");
        this.constWeight = p.real("const_weight");
        if (constWeight > 1) throw new IllegalArgumentException("rcekd.const_weight must be in [0, 1] (or negative for the adaptive weight), got " + constWeight);
        this.fullCe = p.bool("full_ce");
        int users = teacher.users();
        this.teacherTop = fullCe ? null : teacher.topK(k, null, null);
        int[] qtPtr = new int[users + 1];
        for (int u = 0; u <= users; u++) qtPtr[u] = u * k;
        this.teacherTopLogits = fullCe ? null : teacher.logits(new IndexSets(qtPtr, teacherTop));
        if (!sampling && !fullCe) { // w/o S: a fixed CE on the teacher's top-K, no per-epoch work
            ep.ptr = qtPtr;
            ep.idx = teacherTop;
            ep.a = new int[users];
            ep.b = new int[users];
            ep.wA = new float[users];
            ep.wB = new float[users];
            ep.target = new float[users * k];
            Arrays.fill(ep.a, k);
            Arrays.fill(ep.b, k);
            Arrays.fill(ep.wA, 1f);
            kdrec.tensor.Backends.get().pairTargets(users, qtPtr, ep.a, ep.b, teacherTopLogits, tau, ep.wA, ep.wB, ep.target);
            ready = true;
        }
    }

    @Override
    public String name() {
        return "rcekd";
    }

    @Override
    public void beginEpoch(Tape tape, Recommender student, int epoch) {
        beginEpoch(tape.backend(), student.users(), student.items(), RceKdEpoch.TopM.onHost(tape, student), epoch);
    }

    /**
     * The per-epoch hook with the student's top-M taken from {@code studentTopM} (tests give a fixed
     * one; the device path builds its sets on the GPU, {@link RceKdSetsOnDevice}); host work
     * (sampling, lists, teacher targets) runs on {@code be}.
     */
    public void beginEpoch(kdrec.tensor.Backend be, int users, int items, RceKdEpoch.TopM studentTopM, int epoch) {
        if (!sampling || fullCe) return;
        ep.build(be, users, items, studentTopM, epoch, k, m, 2 * k + l, teacherTop, teacherTopLogits, teacher, tau, new RceKdEpoch.Rules() {
            @Override
            public int list(int[] top, int u, int e, int[] buf, int[] out, int[] skMark, int[] pMark, int[] qtMark) {
                double[] logw = closureLogWeights(top, u * m, m, qtMark, u + 1, temp, sampleRank);
                int[] pos = Sampling.withoutReplacement(logw, m, l, Sampling.rng(seed, 1, e, u));
                return fillList(top, u * m, k, pos, teacherTop, u * k, qtMark, separate, skMark, pMark, u + 1, buf, out);
            }

            @Override
            public float weight(int overlap) {
                return RceKd.this.weight(overlap);
            }
        });
        ready = true;
    }

    /** w for a user whose drawn positions hold {@code overlap} teacher-top items. */
    private float weight(int overlap) {
        return (float) (constWeight >= 0 ? constWeight : Math.exp(-beta * overlap / k));
    }

    /**
     * What the device builds the epoch's sets from (native/rcekd.cu, {@link RceKdSetsOnDevice}): the
     * settings, the teacher's top-K and w for every possible overlap (the host's float expression).
     */
    record DeviceSpec(Teacher teacher, long seed, int k, int m, int l, double temp, boolean sampleRank, boolean separate, float tau,
                      int[] teacherTop, float[] weightByOverlap) {}

    /** The spec for the device's per-epoch sets; only with sampling and without the full-catalogue ablation. */
    DeviceSpec deviceSpec() {
        if (!sampling || fullCe) throw new IllegalStateException("rcekd: no per-epoch sets with sampling=false or full_ce=true");
        float[] w = new float[Math.min(k, l) + 1];
        for (int o = 0; o < w.length; o++) w[o] = weight(o);
        return new DeviceSpec(teacher, seed, k, m, l, temp, sampleRank, separate, tau, teacherTop, w);
    }

    /** True when the lists are rebuilt every epoch (sampling on, no full-catalogue ablation). */
    boolean perEpochSets() {
        return sampling && !fullCe;
    }

    /** One user's lists for an epoch: SK = {@code items[0, a)}, J2 = {@code items[b, n)}; w/o sep one set, a = b = n. */
    record UserEpoch(int[] items, int a, int b, int overlap) {}

    /**
     * Writes one user's list into {@code buf} (capacity 2k + |pos|) and returns its length n, from the
     * student's top list {@code top[off, off+M)}, the drawn positions {@code pos} (increasing) and the
     * teacher's top-K {@code qt[qtOff, qtOff+k)} (teacher order; {@code qtMark[i] == stamp} iff i is in
     * it): [SK \ P | SK ∩ P | P \ SK | QT \ (P ∪ SK)], so SK is the first k entries and J2 = P then
     * QT \ (P ∪ SK) the entries from out[0] = |SK \ P| on; out[1] = |QT ∩ P|; out[2] = 1 when separate.
     * Without separation one set SK ∪ P ∪ QT (SK, P \ SK, QT rest). The mark arrays (one slot per item)
     * are scratch stamped with {@code stamp}, which must differ between calls that share them.
     */
    static int fillList(int[] top, int off, int k, int[] pos, int[] qt, int qtOff, int[] qtMark, boolean separate,
                        int[] skMark, int[] pMark, int stamp, int[] buf, int[] out) {
        int n = 0, overlap = 0;
        for (int q : pos) pMark[top[off + q]] = stamp;
        for (int j = 0; j < k; j++) {
            int item = top[off + j];
            skMark[item] = stamp;
            if (!separate || pMark[item] != stamp) buf[n++] = item;
        }
        int b = n;
        for (int q : pos) {
            int item = top[off + q];
            if (qtMark[item] == stamp) overlap++;
            if (separate && q < k) buf[n++] = item; // SK ∩ P, in position order
        }
        for (int q : pos) if (q >= k) buf[n++] = top[off + q]; // P \ SK
        for (int j = 0; j < k; j++) {
            int item = qt[qtOff + j];
            if (skMark[item] != stamp && pMark[item] != stamp) buf[n++] = item;
        }
        out[0] = b;
        out[1] = overlap;
        out[2] = separate ? 1 : 0;
        return n;
    }

    /** {@link #userEpoch} with QT given as ascending ids {@code qtSorted[qtOff, qtOff+k)} (for tests). */
    static UserEpoch userEpoch(int[] top, int off, int k, int[] pos, int[] qt, int qtOff, int[] qtSorted, boolean separate, int items) {
        int[] buf = new int[2 * k + pos.length], out = new int[3];
        int n = fillList(top, off, k, pos, qt, qtOff, marks(qtSorted, qtOff, k, items), separate, new int[items], new int[items], 1, buf, out);
        return separate ? new UserEpoch(Arrays.copyOf(buf, n), k, out[0], out[1]) : new UserEpoch(Arrays.copyOf(buf, n), n, n, out[1]);
    }

    private static int[] marks(int[] ids, int off, int k, int items) {
        int[] mark = new int[items];
        for (int j = 0; j < k; j++) mark[ids[off + j]] = 1;
        return mark;
    }

    /**
     * Log sampling weights over the student's top-M positions: {@code (min(c,50)+1)/T} with c the
     * number of teacher-top items ({@code qtMark[i] == stamp}) at this position or below;
     * {@code sampleRank}: {@code -(pos+1)/T}.
     */
    static double[] closureLogWeights(int[] top, int off, int m, int[] qtMark, int stamp, double temp, boolean sampleRank) {
        double[] logw = new double[m];
        int c = 0;
        for (int j = m - 1; j >= 0; j--) {
            if (sampleRank) {
                logw[j] = -(j + 1) / temp;
                continue;
            }
            if (qtMark[top[off + j]] == stamp) c++;
            logw[j] = (Math.min(c, COUNT_CLIP) + 1) / temp;
        }
        return logw;
    }

    /** {@link #closureLogWeights} with QT given as ascending ids {@code qtSorted[qtOff, qtOff+k)} (for tests). */
    static double[] closureLogWeights(int[] top, int off, int m, int[] qtSorted, int qtOff, int k, double temp, boolean sampleRank) {
        int items = 0;
        for (int j = 0; j < m; j++) items = Math.max(items, top[off + j] + 1);
        for (int j = 0; j < k; j++) items = Math.max(items, qtSorted[qtOff + j] + 1);
        return closureLogWeights(top, off, m, marks(qtSorted, qtOff, k, items), 1, temp, sampleRank);
    }

    private BatchUsers batchUsers(Recommender student, Batch batch) {
        if (userSlot.length != student.users()) {
            userSlot = new int[student.users()];
            Arrays.fill(userSlot, -1);
        }
        return BatchUsers.of(batch.users(), userSlot);
    }

    @Override
    public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
        BatchUsers bu = batchUsers(student, batch);
        if (fullCe) {
            Var ue = Gather.rows(tape, e.users(), bu.users());
            kdrec.tensor.Tensor tu = kdrec.tensor.Tensor.zeros(bu.size(), teacher.dim());
            tape.backend().gather(bu.size(), teacher.dim(), bu.users(), teacher.userEmbeddings().data(), 0, teacher.dim(), tu.data(), 0, teacher.dim());
            Var ce = kdrec.autograd.FullSoftCe.loss(tape, ue, e.items(), tu, teacher.itemEmbeddings(), tau);
            return Arith.weightedSum(tape, ce, bu.counts());
        }
        PairSets sets = batchRows(bu, rows(tape));
        Var ue = Gather.rows(tape, e.users(), bu.users());
        Var ce = CrossEntropy.pairSoftCe(tape, ue, e.items(), sets, tau);
        return Arith.weightedSum(tape, ce, bu.counts());
    }

    /**
     * Under {@code kd_encoding=per_term} (an HSTU student) the code's get_loss with its three scoring
     * calls, each its own encoding ({@link RceKdPerTerm}). Ablations with one CE (w/o S, w/o sep, full_ce)
     * make one call in their code's reading and read term 0 through the fused path.
     */
    @Override
    public Var loss(Tape tape, Recommender student, StudentPasses passes, Batch batch) {
        if (!passes.perTerm() || fullCe || !sampling || !separate) return loss(tape, student, passes.term(0), batch);
        if (!ready) throw new IllegalStateException("rcekd: beginEpoch has not run");
        return RceKdPerTerm.loss(tape, ep, batchUsers(student, batch), l, tau, passes);
    }

    /** The settings the device path needs besides the rows. */
    public float tau() {
        return tau;
    }

    /** True for the full-catalogue ablation ({@code full_ce=true}), which has no per-user rows. */
    public boolean fullCe() {
        return fullCe;
    }

    /** One row per distinct user: its list, split points and targets copied into contiguous rows of buf. */
    private PairSets batchRows(BatchUsers bu, Rows buf) {
        if (!ready) throw new IllegalStateException("rcekd: beginEpoch has not run");
        int nu = bu.size();
        int[] us = bu.users(), ptr = ep.ptr;
        int[] p = buf.ptr = RceKdEpoch.grow(buf.ptr, nu + 1);
        int[] a = buf.a = RceKdEpoch.grow(buf.a, nu), b = buf.b = RceKdEpoch.grow(buf.b, nu);
        float[] wA = buf.wA = RceKdEpoch.grow(buf.wA, nu), wB = buf.wB = RceKdEpoch.grow(buf.wB, nu);
        p[0] = 0;
        for (int r = 0; r < nu; r++) {
            int u = us[r];
            p[r + 1] = p[r] + ptr[u + 1] - ptr[u];
            a[r] = ep.a[u];
            b[r] = ep.b[u];
            wA[r] = ep.wA[u];
            wB[r] = ep.wB[u];
        }
        int nnz = p[nu];
        int[] ids = buf.idx = RceKdEpoch.grow(buf.idx, nnz), idx = ep.idx;
        float[] t = buf.target = RceKdEpoch.grow(buf.target, nnz), target = ep.target;
        buf.grad = RceKdEpoch.grow(buf.grad, nnz);
        kdrec.cpu.Parallel.forRange(nu, 1, 256, (lo, hi) -> { // ~3 MB per batch: not worth a serial stretch
            for (int r = lo; r < hi; r++) {
                int u = us[r];
                System.arraycopy(idx, ptr[u], ids, p[r], p[r + 1] - p[r]);
                System.arraycopy(target, ptr[u], t, p[r], p[r + 1] - p[r]);
            }
        });
        return new PairSets(nu, p, ids, a, b, t, wA, wB, buf.grad);
    }

    /**
     * Per-batch arrays, reused from step to step (a KD batch moves ~5 MB through them; allocating that
     * per step made young collections several times more frequent). The op's backward reads them until
     * the tape's next reset, so a second call within one step of the same tape gets fresh ones.
     */
    private static final class Rows {
        int[] ptr = new int[0], idx = new int[0], a = new int[0], b = new int[0];
        float[] target = new float[0], wA = new float[0], wB = new float[0], grad = new float[0];
    }

    private Rows rows = new Rows();
    private int[] userSlot = new int[0]; // BatchUsers' slot per user, all -1 between calls
    private Tape rowsTape;
    private long rowsStep = -1;

    private Rows rows(Tape tape) {
        if (tape == rowsTape && tape.steps() == rowsStep) rows = new Rows(); // already lent out in this step
        rowsTape = tape;
        rowsStep = tape.steps();
        return rows;
    }

    /** The epoch's sets of one user (first = SK in student order, second = J2; for tests and inspection). */
    int[][] setsOf(int user) {
        int o = ep.ptr[user], n = ep.ptr[user + 1] - o;
        int[] first = sampling && separate ? Arrays.copyOfRange(ep.top, user * m, user * m + k) : Arrays.copyOfRange(ep.idx, o, o + ep.a[user]);
        return new int[][] {first, Arrays.copyOfRange(ep.idx, o + ep.b[user], o + n)};
    }

    /** The epoch's weight of the second set for one user. */
    float mixOf(int user) {
        return sampling ? ep.w[user] : 1f;
    }
}
