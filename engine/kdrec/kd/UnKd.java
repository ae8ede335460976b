package kdrec.kd;

import static kdrec.kd.KdParams.ordered;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import kdrec.autograd.Arith;
import kdrec.autograd.Gather;
import kdrec.autograd.PointwiseLoss;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.tensor.IndexSets;
import kdrec.train.TrainData;

/**
 * Unbiased KD (Chen et al., WSDM'23) as class {@code UnKD} in woriazzc/RCEKD
 * modeling/KD/baseline.py runs it (from chengang95/UnKD; spec §2). Items seen in training are split
 * into popularity groups of about equal interaction mass; per user and group, the user's unobserved
 * items of the group sorted by teacher score (top 1000, once). Every epoch, per group,
 * {@code pairs_g} pairs of positions drawn with probability {@code exp(-(r+1)/20)} (r 0-based, with
 * replacement, a pair redrawn while its two positions coincide), the better-ranked item the
 * positive. Per batch entry {@code mean_pairs -log(sigmoid(s_pos - s_neg) + 1e-10)}, summed over
 * entries (duplicate users kept).
 *
 * <p>As coded: items never seen in training belong to no group and are never distilled; the group
 * split walks items by count (ties in order of first appearance in the train list) and may give a
 * group count other than {@code group_num}; group shares are {@code ((max+min) - meanpop_g)}
 * normalised, rounded to 2 decimals, floored at 0.1, raised to {@code lamda} and renormalised
 * ({@code lamda = 0}: equal shares); {@code pairs_g = round_half_even(share_g n_distill)}, plus one
 * for the first groups while the total is below n_distill. Deviation: a user with fewer than two
 * candidates in a group gets no pairs there (the code would fail or loop forever).
 */
public final class UnKd implements Distiller {
    static final float EPS = 1e-10f;
    /** Per-group list length and position temperature: constants in the code. */
    static final int TOP = 1000;
    static final double RANK_T = 20;

    public static final Methods.Method METHOD = new Methods.Method("unkd",
            "Unbiased KD: teacher-ranked pairs sampled within popularity groups, BPR-style pairwise loss",
            ordered("lambda", 0.5, "group_num", 4, "n_distill", 30, "lamda", 0.0),
            presets(), UnKd::new);

    private static Map<String, Map<String, Object>> presets() {
        Map<String, Map<String, Object>> p = new java.util.LinkedHashMap<>();
        // configs/<dataset>/<student>/unkd.yaml, key = teacher; lr 1e-3. gowalla/bpr sets only the method keys: lambda,
        // weight decay and batch are then the code's command-line defaults (parse.py: 1, 0, 4096).
        p.put("citeulike/mf>mf", row(2, 2));
        p.put("citeulike/lightgcn>lightgcn", row(4, 30));
        p.put("gowalla/mf>mf", ordered("weight_decay", 0.0, "batch_size", 4096, "lambda", 1.0, "group_num", 4, "lamda", 0.0, "n_distill", 30));
        p.put("gowalla/lightgcn>lightgcn", row(4, 30));
        p.put("yelp/mf>mf", row(4, 30));
        p.put("yelp/lightgcn>lightgcn", row(4, 30));
        return p;
    }

    private static Map<String, Object> row(int groups, int nDistill) {
        return ordered("weight_decay", 1e-8, "batch_size", 2048, "lambda", 0.5, "group_num", groups, "lamda", 0.0, "n_distill", nDistill);
    }

    private final long seed;
    private final int groups;
    private final int[] pairs;           // per group
    private final int[] listPtr, lists;  // CSR over (user * groups + g): teacher-sorted unobserved items
    private final double[] cdf;          // cumulative position weights over TOP
    private UserSets pos, neg;           // this epoch's pairs per user (aligned)

    public UnKd(KdParams p, Teacher teacher, TrainData data, long seed) {
        this.seed = seed;
        int groupNum = p.atLeast("group_num", 1);
        int nDistill = p.atLeast("n_distill", 1);
        double lamda = p.real("lamda");
        int items = teacher.items(), users = teacher.users();
        int[] groupOf = groupOf(data.trainItems(), items, groupNum);
        this.groups = Arrays.stream(groupOf).max().orElse(-1) + 1;
        if (groups == 0) throw new IllegalArgumentException("unkd: no training interactions to build popularity groups from");
        this.pairs = pairCounts(groupShares(groupOf, groups, data.trainItems(), lamda), nDistill);
        this.cdf = new double[TOP];
        double acc = 0;
        for (int r = 0; r < TOP; r++) cdf[r] = acc += Math.exp(-(r + 1) / RANK_T);
        int[][][] perUser = teacherLists(teacher, data, groupOf);
        listPtr = new int[users * groups + 1];
        for (int u = 0; u < users; u++) for (int g = 0; g < groups; g++) listPtr[u * groups + g + 1] = listPtr[u * groups + g] + perUser[u][g].length;
        lists = new int[listPtr[users * groups]];
        for (int u = 0; u < users; u++) for (int g = 0; g < groups; g++) System.arraycopy(perUser[u][g], 0, lists, listPtr[u * groups + g], perUser[u][g].length);
    }

    /**
     * The popularity group of every item (-1: never in training): items by train count, descending
     * (ties: first appearance in {@code trainItems}, the CSR by user then item id; the code's stable sort
     * keeps train.txt's first-appearance order, so only equal counts at a group boundary can differ), cut whenever the running count exceeds
     * total/groupNum (the item that crosses starts the next group unless it is alone); a last group
     * holding at most half that mass joins the previous one.
     */
    static int[] groupOf(int[] trainItems, int items, int groupNum) {
        int[] count = new int[items], first = new int[items];
        Arrays.fill(first, Integer.MAX_VALUE);
        for (int j = 0; j < trainItems.length; j++) {
            int i = trainItems[j];
            count[i]++;
            first[i] = Math.min(first[i], j);
        }
        Integer[] order = java.util.stream.IntStream.range(0, items).filter(i -> count[i] > 0).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (a, b) -> count[a] != count[b] ? Integer.compare(count[b], count[a]) : Integer.compare(first[a], first[b]));
        double aver = trainItems.length / (double) groupNum;
        List<List<Integer>> out = new ArrayList<>();
        List<Integer> cur = new ArrayList<>();
        long curCount = 0;
        for (int i : order) {
            cur.add(i);
            curCount += count[i];
            if (curCount > aver) {
                if (cur.size() == 1) {
                    out.add(cur);
                    cur = new ArrayList<>();
                    curCount = 0;
                    continue;
                }
                cur.remove(cur.size() - 1);
                out.add(cur);
                cur = new ArrayList<>(List.of(i));
                curCount = count[i];
            }
        }
        if (!cur.isEmpty()) {
            if (curCount > aver / 2 || out.isEmpty()) out.add(cur);
            else out.get(out.size() - 1).addAll(cur);
        }
        int[] g = new int[items];
        Arrays.fill(g, -1);
        for (int k = 0; k < out.size(); k++) for (int i : out.get(k)) g[i] = k;
        return g;
    }

    /** Group shares: reflected mean popularity, normalised, rounded to 2 decimals, floored at 0.1, to the power lamda, renormalised. */
    static double[] groupShares(int[] groupOf, int groups, int[] trainItems, double lamda) {
        double[] tot = new double[groups], n = new double[groups];
        for (int i : trainItems) tot[groupOf[i]]++;
        for (int g : groupOf) if (g >= 0) n[g]++;
        double[] r = new double[groups];
        double max = Double.NEGATIVE_INFINITY, min = Double.POSITIVE_INFINITY, sum = 0;
        for (int g = 0; g < groups; g++) {
            r[g] = tot[g] / n[g];
            max = Math.max(max, r[g]);
            min = Math.min(min, r[g]);
        }
        for (int g = 0; g < groups; g++) sum += r[g] = (max + min) - r[g];
        double z = 0;
        for (int g = 0; g < groups; g++) {
            double v = new BigDecimal(r[g] / sum).setScale(2, RoundingMode.HALF_EVEN).doubleValue(); // Python round(x, 2)
            r[g] = Math.pow(Math.max(v, 0.1), lamda);
            z += r[g];
        }
        for (int g = 0; g < groups; g++) r[g] /= z;
        return r;
    }

    /** Pairs per group: round-half-even(share * n), plus one for the first groups while the total is below n. */
    static int[] pairCounts(double[] shares, int n) {
        int[] c = new int[shares.length];
        int all = 0;
        for (int g = 0; g < shares.length; g++) all += c[g] = (int) Math.rint(shares[g] * n);
        for (int g = 0; g < shares.length && g < n - all; g++) c[g]++;
        return c;
    }

    /**
     * Per user and group, the user's unobserved items of the group by teacher score (best first, ties by
     * id), at most TOP: one fused score->top-K pass per group over the group's items ({@link
     * Teacher#topKAmong}); no users x items score block and no sort of a whole group.
     */
    private static int[][][] teacherLists(Teacher teacher, TrainData data, int[] groupOf) {
        int users = teacher.users();
        int groups = Arrays.stream(groupOf).max().orElse(-1) + 1;
        int[] size = new int[groups];
        for (int g : groupOf) if (g >= 0) size[g]++;
        int[][] members = new int[groups][];
        for (int g = 0; g < groups; g++) members[g] = new int[size[g]];
        int[] fill = new int[groups];
        for (int i = 0; i < groupOf.length; i++) if (groupOf[i] >= 0) members[groupOf[i]][fill[groupOf[i]]++] = i;
        int[][][] out = new int[users][groups][];
        for (int g = 0; g < groups; g++) {
            int k = Math.min(TOP, size[g]);
            int[] top = teacher.topKAmong(members[g], k, data.trainPtr(), data.trainItems());
            for (int u = 0; u < users; u++) {
                int n = 0;
                while (n < k && top[u * k + n] >= 0) n++;
                out[u][g] = Arrays.copyOfRange(top, u * k, u * k + n);
            }
        }
        return out;
    }

    @Override
    public String name() {
        return "unkd";
    }

    @Override
    public void beginEpoch(Tape tape, Recommender student, int epoch) {
        int users = student.users();
        int[][] p = new int[users][], q = new int[users][];
        kdrec.cpu.Parallel.forRange(users, 1, 256, (lo, hi) -> {
            for (int u = lo; u < hi; u++) {
                SplittableRandom rng = Sampling.rng(seed, 4, epoch, u);
                int total = 0;
                for (int g = 0; g < groups; g++) if (listPtr[u * groups + g + 1] - listPtr[u * groups + g] >= 2) total += pairs[g];
                int[] a = new int[total], b = new int[total];
                int n = 0;
                for (int g = 0; g < groups; g++) {
                    int off = listPtr[u * groups + g], len = listPtr[u * groups + g + 1] - off;
                    if (len < 2) continue;
                    for (int c = 0; c < pairs[g]; c++, n++) {
                        int[] pr = drawPair(cdf, len, rng);
                        a[n] = lists[off + pr[0]];
                        b[n] = lists[off + pr[1]];
                    }
                }
                p[u] = a;
                q[u] = b;
            }
        });
        UserSets.Builder bp = new UserSets.Builder(users, 8), bq = new UserSets.Builder(users, 8);
        for (int u = 0; u < users; u++) {
            bp.add(u, p[u], 0, p[u].length);
            bq.add(u, q[u], 0, q[u].length);
        }
        pos = bp.build();
        neg = bq.build();
    }

    /** Two distinct positions of [0, len) drawn by {@code cdf} with replacement (redrawn while equal), better (smaller) first. */
    static int[] drawPair(double[] cdf, int len, SplittableRandom rng) {
        double total = cdf[len - 1];
        while (true) {
            int a = draw(cdf, len, rng.nextDouble() * total), b = draw(cdf, len, rng.nextDouble() * total);
            if (a != b) return new int[] {Math.min(a, b), Math.max(a, b)};
        }
    }

    private static int draw(double[] cdf, int len, double x) {
        int i = Arrays.binarySearch(cdf, 0, len, x);
        return Math.min(i >= 0 ? i + 1 : -i - 1, len - 1);
    }

    @Override
    public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
        return loss(tape, student, StudentPasses.shared(e), batch);
    }

    /** Per term: the positive samples scored by term 0's pass, the negative ones by term 1's (two calls in the code). */
    @Override
    public Var loss(Tape tape, Recommender student, StudentPasses passes, Batch batch) {
        if (pos == null) throw new IllegalStateException("unkd: beginEpoch has not run");
        BatchUsers bu = BatchUsers.of(batch.users(), student.users());
        IndexSets ps = pos.rows(bu.users()).sets(), ns = neg.rows(bu.users()).sets();
        int[] ptr = ps.ptr();
        float[] w = new float[ps.size()];
        for (int r = 0; r < bu.size(); r++) {
            int n = ptr[r + 1] - ptr[r];
            if (n > 0) Arrays.fill(w, ptr[r], ptr[r + 1], bu.counts()[r] / n); // mean over the user's pairs
        }
        Recommender.Embeddings ep = passes.term(0), en = passes.term(passes.perTerm() ? 1 : 0);
        Var up = Gather.rows(tape, ep.users(), bu.users()), un = en == ep ? up : Gather.rows(tape, en.users(), bu.users());
        Var diff = Arith.sub(tape, Gather.setDots(tape, up, ep.items(), ps), Gather.setDots(tape, un, en.items(), ns));
        return Arith.weightedSum(tape, PointwiseLoss.negLogSigmoid(tape, diff, EPS), w);
    }

    int groups() {
        return groups;
    }

    int[] pairCounts() {
        return pairs.clone();
    }

    /** A user's teacher-sorted candidates in a group (for tests). */
    int[] listOf(int user, int group) {
        return Arrays.copyOfRange(lists, listPtr[user * groups + group], listPtr[user * groups + group + 1]);
    }

    /** This epoch's pairs of a user: {positives, negatives} (for tests). */
    int[][] pairsOf(int user) {
        return new int[][] {pos.of(user), neg.of(user)};
    }
}
