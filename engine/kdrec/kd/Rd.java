package kdrec.kd;

import static kdrec.kd.KdParams.ordered;

import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import kdrec.autograd.Activations;
import kdrec.autograd.Arith;
import kdrec.autograd.Gather;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.tensor.IndexSets;
import kdrec.tensor.Tensor;
import kdrec.train.TrainData;

/**
 * Ranking Distillation (Tang and Wang, KDD'18) as class {@code RD} in woriazzc/RCEKD
 * modeling/KD/baseline.py runs it (from chengang95/UnKD; spec §2). The teacher's top-{@code topk}
 * unobserved items (train masked, once) are positives of a weighted point-wise loss, per batch entry
 * {@code -sum_r w_r log sigmoid(s(u, i_r))}, summed over entries (duplicate users kept).
 *
 * <p>Weights: static {@code exp(-r/lambda_r)}, r = 1..topk, normalised to sum 1 ({@code lambda_r} is
 * the paper's lambda and the code's {@code rd_T}). From epoch {@code start_epoch} (0-based, as the
 * code's loop) on, times the dynamic weight {@code max(0, tanh(mu (rhat - r0)))}, r0 the 0-based
 * teacher position and {@code rhat = floor((|I|-1) #{sampled j: s(u,j) > s(u,i)} / n) + 1} the
 * student's estimated rank of the item, from {@code n = dynamic_sample} items drawn uniformly with
 * replacement from the user's unobserved items each epoch; then L1-renormalised per user. As in the
 * code, the estimate reads the student's current scores in every batch (no gradient through the
 * weights), and only the per-epoch samples are fixed. {@code log sigmoid} is the stable form (the
 * code's {@code log(sigmoid(s))} underflows to -inf below s of about -88; identical elsewhere).
 */
public final class Rd implements Distiller {
    public static final Methods.Method METHOD = new Methods.Method("rd",
            "Ranking distillation: teacher top-K unobserved items as weighted positives (rank-decayed, then rank-discrepancy weights)",
            ordered("lambda", 0.5, "topk", 30, "lambda_r", 1.0, "mu", 0.1, "dynamic_sample", 100, "start_epoch", 100),
            presets(), Rd::new);

    private static Map<String, Map<String, Object>> presets() {
        Map<String, Map<String, Object>> p = new java.util.LinkedHashMap<>();
        // configs/gowalla/bpr/rd.yaml, the only released row (its start epoch key is misspelt rrd_start_epoch). It sets
        // no lambda, weight decay or batch: those are the code's command-line defaults (parse.py: 1, 0, 4096).
        p.put("gowalla/mf>mf", ordered("weight_decay", 0.0, "batch_size", 4096, "lambda", 1.0,
                "mu", 0.1, "topk", 30, "lambda_r", 1.0, "dynamic_sample", 100, "start_epoch", 100));
        return p;
    }

    private final long seed;
    private final int items, n, startEpoch;
    private final double mu;
    private final double[] staticWeight; // by 0-based teacher position
    private final UserSets top;          // teacher's top unobserved items per user, best first
    private final int[] trainPtr, trainSorted; // each user's train items ascending, distinct
    private int epoch = -1;
    private UserSets negatives;          // this epoch's uniform unobserved samples (from start_epoch on)

    public Rd(KdParams p, Teacher teacher, TrainData data, long seed) {
        this.seed = seed;
        this.items = teacher.items();
        int k = Math.min(p.atLeast("topk", 1), items);
        double temp = p.positive("lambda_r");
        this.mu = p.real("mu");
        if (mu < 0) throw new IllegalArgumentException("rd.mu must be >= 0, got " + mu);
        this.n = p.atLeast("dynamic_sample", 1);
        this.startEpoch = p.atLeast("start_epoch", 0);
        staticWeight = staticWeights(k, temp);
        int users = teacher.users();
        int[] ids = teacher.topK(k, data.trainPtr(), data.trainItems());
        UserSets.Builder b = new UserSets.Builder(users, k);
        for (int u = 0; u < users; u++) {
            int len = 0;
            while (len < k && ids[u * k + len] >= 0) len++; // users with fewer than topk unobserved items get a shorter list
            b.add(u, ids, u * k, u * k + len);
        }
        top = b.build();
        trainPtr = new int[users + 1];
        int[] src = data.trainItems(), srcPtr = data.trainPtr(), buf = new int[src.length];
        for (int u = 0; u < users; u++) {
            int[] row = Arrays.copyOfRange(src, srcPtr[u], srcPtr[u + 1]);
            Arrays.sort(row);
            int m = 0;
            for (int j = 0; j < row.length; j++) if (j == 0 || row[j] != row[j - 1]) buf[trainPtr[u] + m++] = row[j];
            trainPtr[u + 1] = trainPtr[u] + m;
        }
        trainSorted = Arrays.copyOf(buf, trainPtr[users]);
    }

    /** {@code exp(-r/T)} for r = 1..k, normalised to sum 1. */
    static double[] staticWeights(int k, double temp) {
        double[] w = new double[k];
        double sum = 0;
        for (int r = 0; r < k; r++) sum += w[r] = Math.exp(-(r + 1) / temp);
        for (int r = 0; r < k; r++) w[r] /= sum;
        return w;
    }

    @Override
    public String name() {
        return "rd";
    }

    @Override
    public void beginEpoch(Tape tape, Recommender student, int epoch) {
        this.epoch = epoch;
        negatives = null;
        if (epoch < startEpoch) return; // the samples only feed the dynamic weights
        int users = top.users();
        int[][] rows = new int[users][];
        kdrec.cpu.Parallel.forRange(users, 1, 512, (lo, hi) -> {
            for (int u = lo; u < hi; u++) rows[u] = sampleUnobserved(trainSorted, trainPtr[u], trainPtr[u + 1], items, n, Sampling.rng(seed, 2, epoch, u));
        });
        UserSets.Builder b = new UserSets.Builder(users, n);
        for (int u = 0; u < users; u++) b.add(u, rows[u], 0, rows[u].length);
        negatives = b.build();
    }

    /**
     * {@code count} items drawn uniformly with replacement from the items not in
     * {@code train[from, to)} (ascending, distinct); empty when the user has seen every item.
     */
    static int[] sampleUnobserved(int[] train, int from, int to, int items, int count, SplittableRandom rng) {
        int seen = to - from, unseen = items - seen;
        if (unseen <= 0) return new int[0];
        int[] out = new int[count];
        for (int c = 0; c < count; c++) {
            int r = rng.nextInt(unseen);
            // the r-th unobserved item is r + j, j = #train items below it = #{t: train[t] - (t - from) <= r}
            int lo = from, hi = to;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (train[mid] - (mid - from) <= r) lo = mid + 1;
                else hi = mid;
            }
            out[c] = r + (lo - from);
        }
        return out;
    }

    /**
     * One user's weights over its teacher list, written to {@code out[outOff, outOff+k)}: static, or
     * with {@code neg} samples (n &gt; 0) static times {@code max(0, tanh(mu (rhat - r0)))} L1-normalised.
     */
    static void userWeights(double[] staticW, float[] s, int sOff, int k, float[] neg, int nOff, int n, int items, double mu,
                            float[] out, int outOff) {
        if (neg == null || n == 0) {
            for (int r = 0; r < k; r++) out[outOff + r] = (float) staticW[r];
            return;
        }
        double[] w = new double[k];
        double sum = 0;
        float[] sorted = Arrays.copyOfRange(neg, nOff, nOff + n); // ascending: count the samples above s by binary search
        Arrays.sort(sorted);
        for (int r = 0; r < k; r++) {
            float si = s[sOff + r];
            int lo = 0, hi = n; // first index whose score is > si
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (sorted[mid] > si) hi = mid;
                else lo = mid + 1;
            }
            int higher = n - lo;
            double rhat = Math.floor((items - 1) * ((double) higher / n)) + 1;
            w[r] = staticW[r] * Math.max(0, Math.tanh(mu * (rhat - r)));
            sum += w[r];
        }
        double norm = Math.max(sum, 1e-12); // F.normalize(p=1): all-zero rows stay zero
        for (int r = 0; r < k; r++) out[outOff + r] = (float) (w[r] / norm);
    }

    @Override
    public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
        return loss(tape, student, StudentPasses.shared(e), batch);
    }

    /**
     * Per term as the code's two calls: the dynamic samples' scores (no gradient) from term 0's pass,
     * the teacher-top logits from term 1's.
     */
    @Override
    public Var loss(Tape tape, Recommender student, StudentPasses passes, Batch batch) {
        if (epoch < 0) throw new IllegalStateException("rd: beginEpoch has not run");
        BatchUsers bu = BatchUsers.of(batch.users(), student.users());
        int nu = bu.size();
        IndexSets sets = top.rows(bu.users()).sets();
        Recommender.Embeddings e = passes.term(passes.perTerm() ? 1 : 0);
        Var ue = Gather.rows(tape, e.users(), bu.users());
        Var logits = Gather.setDots(tape, ue, e.items(), sets);
        int[] ptr = sets.ptr();
        float[] w = new float[sets.size()];
        float[] s = null, neg = null;
        int[] nptr = null;
        if (negatives != null) { // the student's current scores, no gradient: the weights are constants of this step
            s = logits.value().toArray();
            IndexSets ns = negatives.rows(bu.users()).sets();
            nptr = ns.ptr();
            neg = new float[ns.size()];
            int d = ue.value().cols();
            Recommender.Embeddings dyn = passes.term(0);
            Tensor du = ue.value();
            if (dyn != e) { // the dynamic samples' own pass, read without gradient
                du = Tensor.zeros(nu, d);
                tape.backend().gather(nu, d, bu.users(), dyn.users().value().data(), 0, d, du.data(), 0, d);
            }
            tape.backend().gatherDot(nu, d, du.data(), 0, d, dyn.items().value().data(), 0, d, nptr, ns.idx(), neg);
        }
        for (int r = 0; r < nu; r++) {
            int k = ptr[r + 1] - ptr[r];
            if (neg == null) userWeights(staticWeight, null, 0, k, null, 0, 0, items, mu, w, ptr[r]);
            else userWeights(staticWeight, s, ptr[r], k, neg, nptr[r], nptr[r + 1] - nptr[r], items, mu, w, ptr[r]);
            for (int j = ptr[r]; j < ptr[r + 1]; j++) w[j] *= -bu.counts()[r];
        }
        return Arith.weightedSum(tape, Activations.logSigmoid(tape, logits), w);
    }

    /** The teacher's top unobserved items of a user (for tests). */
    int[] topOf(int user) {
        return top.of(user);
    }

    /** This epoch's uniform samples of a user, or null before start_epoch (for tests). */
    int[] negativesOf(int user) {
        return negatives == null ? null : negatives.of(user);
    }
}
