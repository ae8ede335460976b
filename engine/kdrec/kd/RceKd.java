package kdrec.kd;

import static kdrec.kd.KdParams.ordered;

import java.util.Arrays;
import java.util.Map;
import kdrec.autograd.Arith;
import kdrec.autograd.CrossEntropy;
import kdrec.autograd.Gather;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.tensor.IndexSets;
import kdrec.tensor.PairSets;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.model.Scoring;
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

    // per-epoch state, rebuilt by beginEpoch (fixed at construction without sampling)
    private int[] ptr, idx;    // per user: its union list (CSR over all users)
    private int[] aEnd, bStart; // per user: SK = list[0, a), J2 = list[b, n) (relative)
    private float[] target;    // per entry: (1-w) pSK + w pJ2 (teacher softmax over each set)
    private float[] mix;       // per user: w (null without sampling: one set, weight 1)
    private int[] studentTop;  // users x m, the epoch's student top-M (for setsOf)

    public RceKd(KdParams p, Teacher teacher, TrainData data, long seed) {
        this.teacher = teacher;
        this.seed = seed;
        int items = teacher.items();
        this.k = Math.min(p.atLeast("k", 1), items);
        this.m = Math.min(p.atLeast("m", 1), items);
        if (p.integer("m") < p.integer("k")) throw new IllegalArgumentException("rcekd.m (" + p.integer("m") + ") must be >= rcekd.k (" + p.integer("k") + ")");
        this.l = Math.min(p.atLeast("l", 1), m);
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
            int[] a = new int[users], b = new int[users];
            float[] wA = new float[users], wB = new float[users];
            Arrays.fill(a, k);
            Arrays.fill(b, k);
            Arrays.fill(wA, 1f);
            setEpoch(qtPtr, teacherTop, a, b, teacherTopLogits.clone(), wA, wB, null, null);
        }
    }

    /** Installs an epoch's sets and builds the per-entry teacher targets from the teacher logits tl (aligned with idx). */
    private void setEpoch(int[] ptr, int[] idx, int[] a, int[] b, float[] tl, float[] wA, float[] wB, float[] mix, int[] studentTop) {
        float[] t = new float[idx.length];
        kdrec.tensor.Backends.get().pairTargets(a.length, ptr, a, b, tl, tau, wA, wB, t);
        this.ptr = ptr;
        this.idx = idx;
        this.aEnd = a;
        this.bStart = b;
        this.target = t;
        this.mix = mix;
        this.studentTop = studentTop;
    }

    @Override
    public String name() {
        return "rcekd";
    }

    @Override
    public void beginEpoch(Tape tape, Recommender student, int epoch) {
        if (!sampling || fullCe) return;
        int users = student.users();
        int[] all = new int[users];
        for (int u = 0; u < users; u++) all[u] = u;
        int[] top = Scoring.topK(tape, student, all, m, null, null).ids();
        int[][] lists = new int[users][];
        int[] a = new int[users], b = new int[users];
        float[] w = new float[users];
        int items = student.items();
        // users are independent (each draws from its own generator): split them over the threads
        kdrec.cpu.Parallel.forRange(users, 1, 512, (lo, hi) -> {
            int[] skMark = new int[items], pMark = new int[items], qtMark = new int[items];
            for (int u = lo; u < hi; u++) {
                int stamp = u + 1;
                for (int j = 0; j < k; j++) qtMark[teacherTop[u * k + j]] = stamp;
                double[] logw = closureLogWeights(top, u * m, m, qtMark, stamp, temp, sampleRank);
                int[] pos = Sampling.withoutReplacement(logw, m, l, Sampling.rng(seed, 1, epoch, u));
                UserEpoch ue = userEpoch(top, u * m, k, pos, teacherTop, u * k, qtMark, separate, skMark, pMark, stamp);
                lists[u] = ue.items();
                a[u] = ue.a();
                b[u] = ue.b();
                w[u] = !separate ? 0f : (float) (constWeight >= 0 ? constWeight : Math.exp(-beta * ue.overlap() / k));
            }
        });
        int[] p = new int[users + 1];
        for (int u = 0; u < users; u++) p[u + 1] = p[u] + lists[u].length;
        int[] ids = new int[p[users]];
        for (int u = 0; u < users; u++) System.arraycopy(lists[u], 0, ids, p[u], lists[u].length);
        float[] wA = new float[users], wB = new float[users];
        for (int u = 0; u < users; u++) {
            wA[u] = 1f - w[u];
            wB[u] = w[u];
        }
        setEpoch(p, ids, a, b, teacherLogits(p, ids, items), wA, wB, w, top);
    }

    /**
     * Teacher logits of every user's list: QT items from the logits computed at construction, the
     * rest (the student's top items outside QT) by one gather-dot over just those entries.
     */
    private float[] teacherLogits(int[] p, int[] ids, int items) {
        int users = p.length - 1;
        float[] tl = new float[ids.length];
        boolean[] fresh = new boolean[ids.length];
        int[] freshCount = new int[users];
        kdrec.cpu.Parallel.forRange(users, 1, 512, (lo, hi) -> {
            int[] qtPos = new int[items], qtMark = new int[items];
            for (int u = lo; u < hi; u++) {
                for (int j = 0; j < k; j++) {
                    qtMark[teacherTop[u * k + j]] = u + 1;
                    qtPos[teacherTop[u * k + j]] = j;
                }
                for (int e = p[u]; e < p[u + 1]; e++) {
                    int it = ids[e];
                    if (qtMark[it] == u + 1) tl[e] = teacherTopLogits[u * k + qtPos[it]];
                    else {
                        fresh[e] = true;
                        freshCount[u]++;
                    }
                }
            }
        });
        int[] fp = new int[users + 1];
        for (int u = 0; u < users; u++) fp[u + 1] = fp[u] + freshCount[u];
        int[] fi = new int[fp[users]];
        for (int e = 0, n = 0; e < ids.length; e++) if (fresh[e]) fi[n++] = ids[e];
        float[] fl = teacher.logits(new IndexSets(fp, fi));
        for (int e = 0, n = 0; e < ids.length; e++) if (fresh[e]) tl[e] = fl[n++];
        return tl;
    }

    /** One user's lists for an epoch: SK = {@code items[0, a)}, J2 = {@code items[b, n)}; w/o sep one set, a = b = n. */
    record UserEpoch(int[] items, int a, int b, int overlap) {}

    /**
     * Builds one user's list from the student's top list {@code top[off, off+M)}, the drawn positions
     * {@code pos} (increasing) and the teacher's top-K {@code qt[qtOff, qtOff+k)} (teacher order;
     * {@code qtMark[i] == stamp} iff i is in it): [SK \ P | SK ∩ P | P \ SK | QT \ (P ∪ SK)], so SK is
     * the first k entries and J2 = P then QT \ (P ∪ SK) the entries from |SK \ P| on; overlap =
     * |QT ∩ P|. Without separation one set SK ∪ P ∪ QT (SK, P \ SK, QT rest). The mark arrays (one slot
     * per item) are scratch stamped with {@code stamp}, which must differ between calls that share them.
     */
    static UserEpoch userEpoch(int[] top, int off, int k, int[] pos, int[] qt, int qtOff, int[] qtMark, boolean separate,
                               int[] skMark, int[] pMark, int stamp) {
        int[] buf = new int[k + pos.length + k];
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
        return separate ? new UserEpoch(Arrays.copyOf(buf, n), k, b, overlap) : new UserEpoch(Arrays.copyOf(buf, n), n, n, overlap);
    }

    /** {@link #userEpoch} with QT given as ascending ids {@code qtSorted[qtOff, qtOff+k)} (for tests). */
    static UserEpoch userEpoch(int[] top, int off, int k, int[] pos, int[] qt, int qtOff, int[] qtSorted, boolean separate, int items) {
        int[] mark = marks(qtSorted, qtOff, k, items);
        return userEpoch(top, off, k, pos, qt, qtOff, mark, separate, new int[items], new int[items], 1);
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

    @Override
    public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
        BatchUsers bu = BatchUsers.of(batch.users(), student.users());
        if (fullCe) {
            Var ue = Gather.rows(tape, e.users(), bu.users());
            kdrec.tensor.Tensor tu = kdrec.tensor.Tensor.zeros(bu.size(), teacher.dim());
            tape.backend().gather(bu.size(), teacher.dim(), bu.users(), teacher.userEmbeddings().data(), 0, teacher.dim(), tu.data(), 0, teacher.dim());
            Var ce = kdrec.autograd.FullSoftCe.loss(tape, ue, e.items(), tu, teacher.itemEmbeddings(), tau);
            return Arith.weightedSum(tape, ce, bu.counts());
        }
        if (ptr == null) throw new IllegalStateException("rcekd: beginEpoch has not run");
        // one row per distinct user: its list, split points and targets (copied: rows must be contiguous)
        int nu = bu.size();
        int[] us = bu.users(), p = new int[nu + 1], a = new int[nu], b = new int[nu];
        float[] wA = new float[nu], wB = new float[nu];
        for (int r = 0; r < nu; r++) {
            int u = us[r];
            p[r + 1] = p[r] + ptr[u + 1] - ptr[u];
            a[r] = aEnd[u];
            b[r] = bStart[u];
            wA[r] = mix == null ? 1f : 1f - mix[u];
            wB[r] = mix == null ? 0f : mix[u];
        }
        int[] ids = new int[p[nu]];
        float[] t = new float[p[nu]];
        for (int r = 0; r < nu; r++) {
            int u = us[r];
            System.arraycopy(idx, ptr[u], ids, p[r], p[r + 1] - p[r]);
            System.arraycopy(target, ptr[u], t, p[r], p[r + 1] - p[r]);
        }
        Var ue = Gather.rows(tape, e.users(), us);
        Var ce = CrossEntropy.pairSoftCe(tape, ue, e.items(), new PairSets(new IndexSets(p, ids), a, b, t, wA, wB), tau);
        return Arith.weightedSum(tape, ce, bu.counts());
    }

    /** The epoch's sets of one user (first = SK in student order, second = J2; for tests and inspection). */
    int[][] setsOf(int user) {
        int o = ptr[user], n = ptr[user + 1] - o;
        int[] first = studentTop != null ? Arrays.copyOfRange(studentTop, user * m, user * m + k) : Arrays.copyOfRange(idx, o, o + aEnd[user]);
        if (studentTop != null && !separate) first = Arrays.copyOfRange(idx, o, o + n);
        return new int[][] {first, Arrays.copyOfRange(idx, o + bStart[user], o + n)};
    }

    /** The epoch's weight of the second set for one user. */
    float mixOf(int user) {
        return mix == null ? 1f : mix[user];
    }
}
