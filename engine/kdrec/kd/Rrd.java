package kdrec.kd;

import static kdrec.kd.KdParams.ordered;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.autograd.Gather;
import kdrec.autograd.RelaxedRanking;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.train.TrainData;

/**
 * RRD, relaxed ranking distillation (Kang et al., "DE-RRD", CIKM'20, arXiv 2012.04357), as the
 * RCE-KD authors' framework runs it ({@code RRD} in woriazzc/RCEKD modeling/KD/baseline.py, itself
 * from chengang95/UnKD; spec §2).
 *
 * <p>Once: the teacher's top-{@code mxk} unobserved items (train masked). Every epoch, per user:
 * K "interesting" items drawn without replacement from that list with probability
 * {@code ∝ exp(-(r+1)/T)} (r the 0-based teacher position) and kept in teacher order
 * ({@code no_sort: False}); L "uninteresting" items uniformly without replacement from the items
 * neither in train nor in the teacher's top-mxk. Per batch: the relaxed ranking loss
 * ({@link RelaxedRanking}) with the interesting items as the ordered list and the uninteresting ones
 * only in the denominators, summed over the batch's distinct users (the code {@code unique()}s the
 * batch users, so a user counts once however often it occurs).
 *
 * <p>Where a user has fewer than mxk unobserved items the list stops there (the reference's topk
 * would go on into train items, masked to -1e6 but still returned), and K and L shrink to what the
 * list and the pool hold (its torch.multinomial would raise). The code's
 * {@code sample_from_score} switch (weights from teacher scores) is off in every released config
 * and not offered.
 */
public final class Rrd implements Distiller {
    public static final Methods.Method METHOD = new Methods.Method("rrd",
            "Relaxed ranking distillation: Plackett-Luce over K teacher-top items sampled by rank, against L uniform items outside the teacher's top list",
            ordered("lambda", 0.1, "k", 100, "l", 200, "t", 10.0, "mxk", 500),
            presets(), Rrd::new);

    private static Map<String, Map<String, Object>> presets() {
        // the released configs (configs/<dataset>/<student>/rrd.yaml, key = teacher); lr 1e-3 throughout
        Map<String, Map<String, Object>> p = new LinkedHashMap<>();
        p.put("citeulike/mf>mf", row(2048, 1e-5, 0.1, 100, 200, 10, 500));
        p.put("citeulike/lightgcn>mf", row(2048, 1e-5, 0.05, 100, 200, 10, 500));
        p.put("citeulike/lightgcn>lightgcn", row(2048, 1e-5, 0.01, 50, 100, 10, 500));
        p.put("gowalla/mf>mf", row(4096, 1e-3, 0.005, 100, 200, 100, 500));
        p.put("gowalla/lightgcn>mf", row(4096, 1e-5, 0.1, 200, 100, 10, 200));
        p.put("gowalla/lightgcn>lightgcn", row(2048, 1e-5, 0.01, 50, 100, 10, 500));
        p.put("yelp/mf>mf", row(4096, 1e-3, 0.005, 100, 200, 100, 500));
        p.put("yelp/lightgcn>mf", row(4096, 1e-5, 0.1, 200, 100, 10, 200));
        p.put("yelp/lightgcn>lightgcn", row(2048, 1e-8, 0.5, 200, 100, 10, 500));
        return p;
    }

    private static Map<String, Object> row(int batch, double wd, double lambda, int k, int l, double t, int mxk) {
        return ordered("weight_decay", wd, "batch_size", batch, "lambda", lambda, "k", k, "l", l, "t", t, "mxk", mxk);
    }


    private final long seed;
    private final int k, l, mxk;
    private final double temp;
    private final TeacherList list;
    private final int[] trainPtr, trainItems;

    // per-epoch state, rebuilt by beginEpoch
    private UserSets sets;  // per user: the ordered interesting items, then the uninteresting ones
    private int[] ordered;  // per user: how many leading entries of its set are ordered

    public Rrd(KdParams p, Teacher teacher, TrainData data, long seed) {
        this.seed = seed;
        int kRaw = p.atLeast("k", 1), mxRaw = p.atLeast("mxk", 1);
        if (kRaw > mxRaw) throw new IllegalArgumentException("rrd.k (" + kRaw + ") must be <= rrd.mxk (" + mxRaw + "): K items are drawn without replacement from the top-mxk");
        this.l = p.atLeast("l", 0);
        this.temp = p.positive("t");
        this.mxk = Math.min(mxRaw, teacher.items());
        this.k = Math.min(kRaw, mxk);
        this.trainPtr = data.trainPtr();
        this.trainItems = data.trainItems();
        this.list = TeacherList.of(teacher, mxk, trainPtr, trainItems, true);
    }

    @Override
    public String name() {
        return "rrd";
    }

    @Override
    public void beginEpoch(Tape tape, Recommender student, int epoch) {
        int users = list.users(), items = list.items();
        int[] ptr = new int[users + 1], kk = new int[users];
        for (int u = 0; u < users; u++) {
            int valid = list.valid(u);
            kk[u] = Math.min(k, valid);
            int pool = items - (trainPtr[u + 1] - trainPtr[u]) - valid;
            ptr[u + 1] = ptr[u] + kk[u] + Math.min(l, pool);
        }
        int[] idx = new int[ptr[users]];
        // rank weights exp(-(r+1)/T) over the teacher's list, in log form, shared by all users
        double[] logw = new double[mxk];
        for (int r = 0; r < mxk; r++) logw[r] = -(r + 1) / temp;
        kdrec.cpu.Parallel.forRange(users, 1, 256, (lo, hi) -> {
            for (int u = lo; u < hi; u++) {
                int valid = list.valid(u), n = kk[u];
                int[] pos = Sampling.withoutReplacement(logw, valid, n, Sampling.rng(seed, 1, epoch, u));
                for (int j = 0; j < n; j++) idx[ptr[u] + j] = list.top()[u * mxk + pos[j]]; // positions ascending = teacher order
                int nl = ptr[u + 1] - ptr[u] - n;
                int pool = items - (trainPtr[u + 1] - trainPtr[u]) - valid;
                int[] drawn = Sampling.uniformWithoutReplacement(pool, nl, Sampling.rng(seed, 2, epoch, u));
                outsideItems(drawn, trainItems, trainPtr[u], trainPtr[u + 1], list.sorted(), u * mxk, u * mxk + valid, idx, ptr[u] + n);
            }
        });
        sets = new UserSets(ptr, idx, null);
        ordered = kk;
    }

    /**
     * Maps ranks {@code p} (ascending) among the items NOT in two disjoint sorted id lists
     * ({@code a[a0,a1)} and {@code b[b0,b1)}) to those item ids, written to {@code out[o..]}: the
     * p-th free item is p plus the number of excluded ids at or below it, found in one merge walk.
     */
    static void outsideItems(int[] ranks, int[] a, int a0, int a1, int[] b, int b0, int b1, int[] out, int o) {
        int skipped = 0, ia = a0, ib = b0;
        for (int p : ranks) {
            int cand = p + skipped;
            while (true) {
                int na = ia < a1 ? a[ia] : Integer.MAX_VALUE, nb = ib < b1 ? b[ib] : Integer.MAX_VALUE;
                int next = Math.min(na, nb);
                if (next > cand) break;
                if (na <= nb) ia++; else ib++;
                skipped++;
                cand++;
            }
            out[o++] = cand;
        }
    }

    @Override
    public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
        return loss(tape, student, StudentPasses.shared(e), batch);
    }

    /** Per term: the interesting items scored by term 0's pass, the uninteresting by term 1's (two calls in the code). */
    @Override
    public Var loss(Tape tape, Recommender student, StudentPasses passes, Batch batch) {
        if (sets == null) throw new IllegalStateException("rrd: beginEpoch has not run");
        return relaxedRanking(tape, passes, batch, sets, ordered);
    }

    /** The relaxed ranking loss over a batch's distinct users (each once: the code unique()s them). */
    static Var relaxedRanking(Tape tape, StudentPasses passes, Batch batch, UserSets sets, int[] ordered) {
        int[] users = BatchUsers.of(batch.users(), sets.users()).users();
        UserSets.Rows rows = sets.rows(users);
        int[] oc = new int[users.length];
        for (int r = 0; r < users.length; r++) oc[r] = ordered[users[r]];
        Recommender.Embeddings first = passes.term(0);
        Var logits;
        if (passes.perTerm()) {
            Recommender.Embeddings rest = passes.term(1);
            logits = TermDots.split(tape, Gather.rows(tape, first.users(), users), first.items(),
                    Gather.rows(tape, rest.users(), users), rest.items(), rows.sets(), oc);
        } else {
            logits = Gather.setDots(tape, Gather.rows(tape, first.users(), users), first.items(), rows.sets());
        }
        return RelaxedRanking.loss(tape, logits, rows.sets(), oc, null);
    }

    /** The epoch's ordered (interesting) and unordered (uninteresting) items of one user. */
    int[][] setsOf(int user) {
        int[] all = sets.of(user);
        return new int[][] {Arrays.copyOf(all, ordered[user]), Arrays.copyOfRange(all, ordered[user], all.length)};
    }

    /** The teacher's top list of one user (unobserved items, teacher order). */
    int[] teacherList(int user) {
        return list.of(user);
    }

    /**
     * A teacher's top-mxk lists over all users (row-major, padded with -1 where a user has fewer
     * eligible items), how many entries of each are real, and (optionally) the same ids sorted.
     */
    record TeacherList(int[] top, int[] counts, int[] sorted, int mxk, int items) {
        static TeacherList of(Teacher teacher, int mxk, int[] excludePtr, int[] excludeIdx, boolean withSorted) {
            int users = teacher.users();
            int[] top = teacher.topK(mxk, excludePtr, excludeIdx);
            int[] counts = new int[users];
            for (int u = 0; u < users; u++) {
                int c = 0;
                while (c < mxk && top[u * mxk + c] >= 0) c++;
                counts[u] = c;
            }
            int[] sorted = null;
            if (withSorted) {
                sorted = top.clone();
                for (int u = 0; u < users; u++) Arrays.sort(sorted, u * mxk, u * mxk + counts[u]);
            }
            return new TeacherList(top, counts, sorted, mxk, teacher.items());
        }

        int users() {
            return counts.length;
        }

        int valid(int u) {
            return counts[u];
        }

        int[] of(int u) {
            return Arrays.copyOfRange(top, u * mxk, u * mxk + counts[u]);
        }
    }
}
