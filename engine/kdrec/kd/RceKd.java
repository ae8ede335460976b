package kdrec.kd;

import static kdrec.kd.KdParams.ordered;

import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import kdrec.autograd.Arith;
import kdrec.autograd.CrossEntropy;
import kdrec.autograd.Gather;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
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
 * tau on teacher and student, summed over entries (duplicate users kept). Both CEs run through the
 * fused subset soft-CE kernel in one call (two rows per distinct user of the batch, each scaled by
 * its weight times the user's count in the batch; exact, and cheaper than one row per entry).
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
    private final int[] teacherTopSorted; // users x k, ascending ids (membership tests)

    // per-epoch state, rebuilt by beginEpoch
    private UserSets combined; // per user: the first set then (when separate) the second
    private int[] firstSize;   // per user: size of the first set inside combined
    private float[] mix;       // per user: weight of the second set (w); the first gets 1 - w

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
        this.teacherTop = teacher.topK(k, null, null);
        this.teacherTopSorted = teacherTop.clone();
        for (int u = 0; u < teacher.users(); u++) Arrays.sort(teacherTopSorted, u * k, (u + 1) * k);
        if (!sampling && !fullCe) { // w/o S: a fixed CE on the teacher's top-K, no per-epoch work
            UserSets.Builder b = new UserSets.Builder(teacher.users(), k);
            for (int u = 0; u < teacher.users(); u++) b.add(u, teacherTop, u * k, (u + 1) * k);
            combined = b.build().withTeacher(teacher);
            firstSize = null;
            mix = null;
        }
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
        int[][] sets = new int[users][];
        int[] firstSizes = new int[users];
        float[] w = new float[users];
        int items = student.items();
        // users are independent (each draws from its own generator): split them over the threads
        kdrec.cpu.Parallel.forRange(users, 1, 512, (lo, hi) -> {
            int[] skMark = new int[items], pMark = new int[items];
            for (int u = lo; u < hi; u++) {
                double[] logw = closureLogWeights(top, u * m, m, teacherTopSorted, u * k, k, temp, sampleRank);
                int[] pos = Sampling.withoutReplacement(logw, m, l, Sampling.rng(seed, 1, epoch, u));
                UserEpoch ue = userEpoch(top, u * m, k, pos, teacherTop, u * k, teacherTopSorted, separate, skMark, pMark, u + 1);
                sets[u] = ue.items();
                firstSizes[u] = ue.first();
                w[u] = !separate ? 0f : (float) (constWeight >= 0 ? constWeight : Math.exp(-beta * ue.overlap() / k));
            }
        });
        UserSets.Builder b = new UserSets.Builder(users, k + l);
        for (int u = 0; u < users; u++) b.add(u, sets[u], 0, sets[u].length);
        combined = b.build().withTeacher(teacher);
        firstSize = firstSizes;
        mix = w;
    }

    /** One user's sets for an epoch: {@code items[0, first)} is SK, the rest J2 (w/o sep: all in the first set). */
    record UserEpoch(int[] items, int first, int overlap) {}

    /**
     * Builds one user's sets from the student's top list {@code top[off, off+M)}, the drawn positions
     * {@code pos} (increasing) and the teacher's top-K {@code qt[qtOff, qtOff+k)} (teacher order; qtSorted
     * the same ids ascending): SK = top[0:k]; J2 = P then QT \ (P ∪ SK) in teacher order; overlap =
     * |QT ∩ P|. Without separation one set SK ∪ P ∪ QT. The mark arrays (one slot per item) are
     * scratch stamped with {@code stamp}, which must differ between calls that share them.
     */
    static UserEpoch userEpoch(int[] top, int off, int k, int[] pos, int[] qt, int qtOff, int[] qtSorted, boolean separate,
                               int[] skMark, int[] pMark, int stamp) {
        int[] buf = new int[k + pos.length + k];
        int n = 0, overlap = 0;
        for (int j = 0; j < k; j++) {
            int item = top[off + j];
            skMark[item] = stamp;
            buf[n++] = item;
        }
        int first = n;
        for (int q : pos) {
            int item = top[off + q];
            pMark[item] = stamp;
            if (Arrays.binarySearch(qtSorted, qtOff, qtOff + k, item) >= 0) overlap++;
            if (separate || q >= k) buf[n++] = item; // w/o sep: P items inside SK are there already
        }
        for (int j = 0; j < k; j++) {
            int item = qt[qtOff + j];
            if (skMark[item] != stamp && pMark[item] != stamp) buf[n++] = item;
        }
        return new UserEpoch(Arrays.copyOf(buf, n), separate ? first : n, overlap);
    }

    /**
     * Log sampling weights over the student's top-M positions: {@code (min(c,50)+1)/T} with c the
     * number of teacher-top items at this position or below; {@code sampleRank}: {@code -(pos+1)/T}.
     */
    static double[] closureLogWeights(int[] top, int off, int m, int[] qtSorted, int qtOff, int k, double temp, boolean sampleRank) {
        double[] logw = new double[m];
        int c = 0;
        for (int j = m - 1; j >= 0; j--) {
            if (sampleRank) {
                logw[j] = -(j + 1) / temp;
                continue;
            }
            if (Arrays.binarySearch(qtSorted, qtOff, qtOff + k, top[off + j]) >= 0) c++;
            logw[j] = (Math.min(c, COUNT_CLIP) + 1) / temp;
        }
        return logw;
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
        if (combined == null) throw new IllegalStateException("rcekd: beginEpoch has not run");
        int nu = bu.size();
        UserSets.Rows rows = combined.rows(bu.users());
        if (mix == null) { // one set per user
            Var ue = Gather.rows(tape, e.users(), bu.users());
            Var ce = CrossEntropy.subsetSoftCe(tape, ue, e.items(), rows.sets(), rows.teacher(), tau);
            return Arith.weightedSum(tape, ce, bu.counts());
        }
        // split each user's combined row into its two sets: rows [first(u0), second(u0), first(u1), ...]
        int[] ptr = rows.sets().ptr();
        int[] p2 = new int[2 * nu + 1], users2 = new int[2 * nu];
        float[] weight = new float[2 * nu];
        for (int r = 0; r < nu; r++) {
            int u = bu.users()[r];
            p2[2 * r + 1] = ptr[r] + firstSize[u];
            p2[2 * r + 2] = ptr[r + 1];
            users2[2 * r] = users2[2 * r + 1] = u;
            weight[2 * r] = (1f - mix[u]) * bu.counts()[r];
            weight[2 * r + 1] = mix[u] * bu.counts()[r];
        }
        Var ue = Gather.rows(tape, e.users(), users2);
        Var ce = CrossEntropy.subsetSoftCe(tape, ue, e.items(), new kdrec.tensor.IndexSets(p2, rows.sets().idx()), rows.teacher(), tau);
        return Arith.weightedSum(tape, ce, weight);
    }

    /** The epoch's sets of one user (first = SK, second = J2; for tests and inspection). */
    int[][] setsOf(int user) {
        int[] all = combined.of(user);
        int f = firstSize == null ? all.length : firstSize[user];
        return new int[][] {Arrays.copyOfRange(all, 0, f), Arrays.copyOfRange(all, f, all.length)};
    }

    /** The epoch's weight of the second set for one user. */
    float mixOf(int user) {
        return mix == null ? 1f : mix[user];
    }
}
