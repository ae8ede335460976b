package kdrec.kd;

import static kdrec.kd.KdParams.ordered;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import kdrec.autograd.Arith;
import kdrec.autograd.Gather;
import kdrec.autograd.PointwiseLoss;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.model.Scoring;
import kdrec.train.TrainData;

/**
 * Collaborative Distillation (Lee et al., ICDM'19) as class {@code CD} in woriazzc/RCEKD
 * modeling/KD/baseline.py runs it (from chengang95/UnKD; spec §2). Per batch entry, over the
 * user's sampled unobserved items S_u: {@code -sum_i [y log(sigmoid(s)+1e-10) + (1-y) log(1-sigmoid(s)+1e-10)]}
 * with soft labels {@code y = sigmoid((t + t2)/t1)} from the teacher's logits, summed over entries
 * (duplicate users kept).
 *
 * <p>S_u, rank-aware: the guide model's top-{@code rank_k} unobserved items (train masked, capped
 * at the catalogue), position weights {@code exp(-(r/rank_k)/T)} for r = 1..rank_k; size-2
 * tournaments (two positions drawn with replacement, the higher-scored item kept) repeat until
 * {@code n_distill} distinct items are kept. {@code guide=student} redraws every epoch from the
 * current student (the released configs); {@code teacher} draws once from the teacher;
 * {@code random} draws once {@code n_distill} items uniformly with replacement from all items (the
 * code's third strategy). The paper's own sampler (probabilities decaying exponentially with rank)
 * is not what was run, so it is not what this is.
 */
public final class Cd implements Distiller {
    static final float EPS = 1e-10f;

    public static final Methods.Method METHOD = new Methods.Method("cd",
            "Collaborative distillation: soft-label BCE on rank-aware samples of the student's (or teacher's) top unobserved items",
            ordered("lambda", 0.5, "rank_k", 3000, "t", 20.0, "n_distill", 2, "t1", 2.0, "t2", 0.0, "guide", "student"),
            presets(), Cd::new);

    private static Map<String, Map<String, Object>> presets() {
        Map<String, Map<String, Object>> p = new java.util.LinkedHashMap<>();
        // configs/<dataset>/<student>/cd.yaml, keyed by teacher: MF -> MF and LightGCN -> LightGCN on every dataset,
        // HSTU -> HSTU on CiteULike; the same row everywhere (lr 1e-3; Gowalla LightGCN's n_distill is the typo "w")
        // except the HSTU file's batch of 512 users
        for (String ds : new String[] {"citeulike", "gowalla", "yelp"}) {
            for (String pair : new String[] {"mf>mf", "lightgcn>lightgcn"}) p.put(ds + "/" + pair, row(2048));
        }
        p.put("citeulike/hstu>hstu", row(512));
        return p;
    }

    private static Map<String, Object> row(int batch) {
        return ordered("weight_decay", 1e-8, "batch_size", batch, "lambda", 0.5, "rank_k", 3000, "t", 20.0, "n_distill", 2,
                "t1", 2.0, "t2", 0.0, "guide", "student");
    }

    private enum Guide { STUDENT, TEACHER, RANDOM }

    private final Teacher teacher;
    private final long seed;
    private final int pool, nDistill;
    private final float t1, t2;
    private final Guide guide;
    private final double[] cdf; // cumulative position weights over the pool
    private final int[] trainPtr, trainItems;
    private UserSets samples;   // S_u with the teacher's logits

    public Cd(KdParams p, Teacher teacher, TrainData data, long seed) {
        this.teacher = teacher;
        this.seed = seed;
        this.pool = Math.min(p.atLeast("rank_k", 1), teacher.items());
        this.nDistill = p.atLeast("n_distill", 1);
        double temp = p.positive("t");
        this.t1 = (float) p.positive("t1");
        this.t2 = (float) p.real("t2");
        String g = p.str("guide").toLowerCase(Locale.ROOT).replace(" guide", "");
        this.guide = switch (g) {
            case "student" -> Guide.STUDENT;
            case "teacher" -> Guide.TEACHER;
            case "random" -> Guide.RANDOM;
            default -> throw new IllegalArgumentException("cd.guide must be 'student', 'teacher' or 'random', got '" + p.str("guide") + "'");
        };
        if (guide != Guide.RANDOM && nDistill > pool) {
            throw new IllegalArgumentException("cd.n_distill (" + nDistill + ") must be <= the sampling pool min(rank_k, items) = " + pool);
        }
        this.cdf = positionCdf(pool, temp);
        this.trainPtr = data.trainPtr();
        this.trainItems = data.trainItems();
        if (guide == Guide.TEACHER) {
            try (Tape tape = new Tape(); var ng = tape.noGrad()) {
                samples = rankSamples(tape, teacher.model(), 0);
            }
        } else if (guide == Guide.RANDOM) {
            int users = teacher.users(), items = teacher.items();
            UserSets.Builder b = new UserSets.Builder(users, nDistill);
            int[] row = new int[nDistill];
            for (int u = 0; u < users; u++) {
                SplittableRandom rng = Sampling.rng(seed, 3, 0, u);
                for (int j = 0; j < nDistill; j++) row[j] = rng.nextInt(items);
                b.add(u, row, 0, nDistill);
            }
            samples = b.build().withTeacher(teacher);
        }
    }

    /** Cumulative weights of {@code exp(-(r/pool)/T)}, r = 1..pool. */
    static double[] positionCdf(int pool, double temp) {
        double[] c = new double[pool];
        double acc = 0;
        for (int r = 0; r < pool; r++) c[r] = acc += Math.exp(-((r + 1) / (double) pool) / temp);
        return c;
    }

    @Override
    public String name() {
        return "cd";
    }

    @Override
    public void beginEpoch(Tape tape, Recommender student, int epoch) {
        if (guide == Guide.STUDENT) samples = rankSamples(tape, student, epoch);
    }

    /** Every user's S_u from {@code model}'s ranking, in chunks of users so no users x rank_k list is held at once. */
    private UserSets rankSamples(Tape tape, Recommender model, int epoch) {
        int users = model.users(), items = model.items();
        int chunk = Math.max(1, Math.min(users, (1 << 22) / pool));
        int[][] rows = new int[users][];
        for (int from = 0; from < users; from += chunk) {
            int to = Math.min(users, from + chunk), c0 = from;
            int[] chunkUsers = new int[to - from];
            for (int r = 0; r < chunkUsers.length; r++) chunkUsers[r] = from + r;
            Scoring.TopK top = Scoring.topK(tape, model, chunkUsers, pool, trainPtr, trainItems);
            kdrec.cpu.Parallel.forRange(chunkUsers.length, 1, 64, (lo, hi) -> {
                int[] mark = new int[items];
                for (int r = lo; r < hi; r++) {
                    int u = c0 + r;
                    rows[u] = tournaments(top.ids(), top.scores(), r * pool, pool, cdf, nDistill, Sampling.rng(seed, 3, epoch, u), mark, u + 1);
                }
            });
        }
        UserSets.Builder b = new UserSets.Builder(users, nDistill);
        for (int u = 0; u < users; u++) b.add(u, rows[u], 0, rows[u].length);
        return b.build().withTeacher(teacher);
    }

    /**
     * Size-2 tournaments over one ranked list {@code ids/scores[off, off+pool)} (best first, ids -1
     * past the user's unobserved items): two positions drawn with replacement by {@code cdf}, the
     * higher-scored kept (ties: the second, as the code), until {@code n} distinct items (or all of
     * a shorter list). {@code mark} is scratch stamped with {@code stamp}.
     */
    static int[] tournaments(int[] ids, float[] scores, int off, int pool, double[] cdf, int n, SplittableRandom rng, int[] mark, int stamp) {
        int len = 0;
        while (len < pool && ids[off + len] >= 0) len++;
        int want = Math.min(n, len);
        int[] out = new int[want];
        double total = len == 0 ? 0 : cdf[len - 1];
        int got = 0;
        while (got < want) {
            int a = draw(cdf, len, rng.nextDouble() * total), b = draw(cdf, len, rng.nextDouble() * total);
            int win = scores[off + a] > scores[off + b] ? a : b;
            int item = ids[off + win];
            if (mark[item] != stamp) {
                mark[item] = stamp;
                out[got++] = item;
            }
        }
        return out;
    }

    /** The first position whose cumulative weight exceeds {@code x} (x in [0, cdf[len-1])). */
    private static int draw(double[] cdf, int len, double x) {
        int i = Arrays.binarySearch(cdf, 0, len, x);
        int pos = i >= 0 ? i + 1 : -i - 1;
        return Math.min(pos, len - 1);
    }

    @Override
    public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
        if (samples == null) throw new IllegalStateException("cd: beginEpoch has not run (student guide)");
        BatchUsers bu = BatchUsers.of(batch.users(), student.users());
        UserSets.Rows rows = samples.rows(bu.users());
        int[] ptr = rows.sets().ptr();
        float[] t = rows.teacher(), y = labels(t), w = new float[t.length];
        for (int r = 0; r < bu.size(); r++) Arrays.fill(w, ptr[r], ptr[r + 1], bu.counts()[r]);
        Var logits = Gather.setDots(tape, Gather.rows(tape, e.users(), bu.users()), e.items(), rows.sets());
        return Arith.weightedSum(tape, PointwiseLoss.softBce(tape, logits, y, EPS), w);
    }

    /** Soft labels {@code y = sigmoid((t + t2) / t1)} of teacher logits t. */
    float[] labels(float[] t) {
        float[] y = new float[t.length];
        for (int j = 0; j < t.length; j++) y[j] = (float) (1 / (1 + Math.exp(-(t[j] + t2) / t1)));
        return y;
    }

    /** This epoch's S_u with the teacher's logits (after {@link #beginEpoch}; fixed for the teacher and random guides). */
    UserSets samples() {
        if (samples == null) throw new IllegalStateException("cd: beginEpoch has not run (student guide)");
        return samples;
    }

    /** True when S_u is redrawn every epoch from the current student (the student guide). */
    boolean redrawsEachEpoch() {
        return guide == Guide.STUDENT;
    }

    /** This epoch's S_u (for tests). */
    int[] samplesOf(int user) {
        return samples.of(user);
    }
}
