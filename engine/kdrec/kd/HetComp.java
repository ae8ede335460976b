package kdrec.kd;

import static kdrec.kd.KdParams.ordered;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import kdrec.autograd.Arith;
import kdrec.autograd.Gather;
import kdrec.autograd.ListwiseAll;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.data.InteractionMatrix;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.model.Scoring;
import kdrec.tensor.Diagnostics;
import kdrec.tensor.IndexSets;
import kdrec.tensor.Tensor;
import kdrec.train.Checkpoints;
import kdrec.train.Safetensors;
import kdrec.train.TrainData;

/**
 * HetComp (Kang et al., WWW'23) as the RCE-KD authors' code runs it ({@code HetComp} in
 * woriazzc/RCEKD modeling/KD/baseline.py; spec §2).
 *
 * <p>Teacher trajectory: the teacher's {@code epoch_NNNN.safetensors} checkpoints (from
 * {@code kdrec train --save-every N}) saved before its best epoch, by epoch, then the teacher
 * itself; each gives every user's top-K unobserved permutation (train items masked). The code's
 * teacher training keeps only checkpoints earlier than the best epoch, so later ones are skipped here.
 * HetComp without a trajectory is not HetComp (its point is the easy-to-hard sequence), so a
 * teacher with no earlier checkpoint is an error, as the code's assertion makes it.
 *
 * <p>Dynamic knowledge construction (DKC), without gradient, at epochs p, 2p, ... (the code's
 * {@code epoch % p == 0 and epoch >= p}, 0-based) while not every user is at the last checkpoint:
 * the student's top-K unobserved list S; {@code dist(c) = 1 - NDCG(S, perm_c)} with gains
 * {@code 2^exp(-r/10) - 1} at the student's 0-based position r for items in the teacher's list,
 * rounded to 4 decimals. First DKC: remember dist(next) per user. Later: a user below the last
 * checkpoint moves on when {@code last/dist(next) > alpha * 0.995^(epoch div p)} or {@code < 1},
 * and then remembers the distance to the checkpoint after the new one.
 *
 * <p>Loss per batch entry (duplicate users kept) on clamped full scores {@code clamp(s, -40, 40)},
 * train items excluded, denominators floored at 1e-5: while {@code round(mean(idx), 2) < last},
 * {@code 2 * sum_{j in pos ∪ perm} -log(e^s_j / (e^s_j + sum_{other} e^s))} (other = neither
 * train nor perm); afterwards {@code PL(pos | rest without perm[:K/2]) + (PL(perm[:K/2]) +
 * PL(perm[:K/10])) / 2}, each PL against the unobserved items outside its own list. pos = each user's
 * first posK distinct train items in split order (chronological where the data has times), posK the
 * smallest train count over users with train items, as the code's fixed-width positive table.
 *
 * <p>{@code num_ckpt} (the code's {@code hetcomp_num_ckpt}; its one released config, CiteULike MF, sets 3):
 * users move through the first num_ckpt checkpoints of the trajectory only, so with more files the final
 * teacher is never reached; 0 (the default) keeps the whole trajectory as the spec describes it.
 */
public final class HetComp implements Distiller {
    static final float CLIP = 40f;
    static final double FLOOR = 1e-5;
    static final double DECAY = 0.995;
    private static final Pattern EPOCH_FILE = Pattern.compile("epoch_(\\d+)\\.safetensors");

    public static final Methods.Method METHOD = new Methods.Method("hetcomp",
            "HetComp: listwise KD from the teacher's training trajectory, each user moving to a later checkpoint when the student catches up",
            ordered("lambda", 0.005, "k", 50, "p", 10, "alpha", 1.05, "num_ckpt", 0, "trajectory", ""),
            Map.of("citeulike/mf>mf", ordered("weight_decay", 1e-3, "batch_size", 2048, "lambda", 0.005, "k", 50, "p", 10, "alpha", 1.05, "num_ckpt", 3)),
            HetComp::new);

    private final TrainData data;
    private final int k, p;
    private final double alpha;
    private final int[][] perms; // per checkpoint: users x k, best first
    private final List<String> names;
    private final int[] posPtr, posIdx; // per user: the first posK distinct train items in split order
    private final int[] idx;            // per user: the current checkpoint
    private int[] dist;                 // per user: the remembered distance in 1e-4 units; null before the first DKC

    public HetComp(KdParams p, Teacher teacher, TrainData data, long seed) {
        this.data = data;
        int[] ptr = data.trainPtr();
        int maxTrain = 0;
        for (int u = 0; u < data.users(); u++) maxTrain = Math.max(maxTrain, ptr[u + 1] - ptr[u]);
        // every user must have K unobserved items to rank; tiny catalogues shrink K
        this.k = Math.min(p.atLeast("k", 1), data.items() - maxTrain);
        if (k < 1) throw new IllegalArgumentException("hetcomp: a user has no unobserved item to rank");
        this.p = p.atLeast("p", 1);
        this.alpha = p.positive("alpha");
        if (teacher.users() != data.users() || teacher.items() != data.items()) {
            throw new IllegalArgumentException("hetcomp: the teacher has " + teacher.users() + " users and " + teacher.items() + " items, the data " + data.users() + " and " + data.items());
        }
        List<Path> files = trajectoryFiles(p.str("trajectory"), teacher);
        int numCkpt = p.atLeast("num_ckpt", 0);
        // the code's num_ckpt: users move through the first num_ckpt checkpoints only (sorted by epoch, the
        // final teacher last); 0 keeps them all
        int kept = numCkpt == 0 ? files.size() + 1 : Math.min(numCkpt, files.size() + 1);
        if (kept < 2) throw new IllegalArgumentException("hetcomp.num_ckpt: " + numCkpt + " leaves a trajectory of one checkpoint; use 0 (all) or at least 2");
        perms = new int[kept][];
        names = new ArrayList<>();
        for (int c = 0; c < kept; c++) {
            if (c == files.size()) {
                perms[c] = teacher.topK(k, ptr, data.trainItems());
                names.add(teacher.source() == null ? "the teacher" : teacher.source().getFileName().toString());
                continue;
            }
            try (Teacher t = Teacher.of(Checkpoints.load(files.get(c), data))) {
                perms[c] = t.topK(k, ptr, data.trainItems());
            } catch (IOException e) {
                throw new UncheckedIOException("hetcomp: cannot read trajectory checkpoint " + files.get(c), e);
            }
            names.add(files.get(c).getFileName().toString());
        }
        Diagnostics.notice("hetcomp: teacher trajectory of " + perms.length + " checkpoints: " + String.join(", ", names));
        int[][] pos = positives(data.dataset().train());
        posPtr = pos[0];
        posIdx = pos[1];
        idx = new int[data.users()];
    }

    /**
     * The code's positive table: each user's first posK distinct train items in split order (its
     * {@code train_dict} keeps train.txt's order, chronological where the data has times), posK the
     * smallest train count over users who have train items. Returns {ptr, items}.
     */
    static int[][] positives(InteractionMatrix train) {
        int users = train.users();
        int[] ptr = train.ptr(), optr = train.orderedPtr(), ord = train.ordered();
        int posK = Integer.MAX_VALUE;
        for (int u = 0; u < users; u++) if (ptr[u + 1] > ptr[u]) posK = Math.min(posK, ptr[u + 1] - ptr[u]);
        if (posK == Integer.MAX_VALUE) posK = 0;
        int[] pp = new int[users + 1];
        int[] items = new int[users * posK];
        java.util.BitSet seen = new java.util.BitSet(train.items());
        int n = 0;
        for (int u = 0; u < users; u++) {
            int start = n;
            for (int j = optr[u]; j < optr[u + 1] && n - start < posK; j++) {
                int it = ord[j];
                if (!seen.get(it)) {
                    seen.set(it);
                    items[n++] = it;
                }
            }
            for (int j = start; j < n; j++) seen.clear(items[j]);
            pp[u + 1] = n;
        }
        return new int[][] {pp, Arrays.copyOf(items, n)};
    }

    /**
     * The trajectory's checkpoints before the final teacher: epoch_NNNN files of {@code folder}
     * (default: the teacher checkpoint's folder), by epoch, earlier than the teacher's own epoch.
     */
    static List<Path> trajectoryFiles(String folder, Teacher teacher) {
        Path dir;
        if (!folder.isEmpty()) dir = Path.of(folder);
        else if (teacher.source() != null) dir = teacher.source().getParent();
        else throw new IllegalArgumentException("hetcomp needs the teacher's trajectory: load the teacher from a checkpoint of a run trained with"
                + " --save-every N (its epoch_NNNN.safetensors files), or set hetcomp.trajectory to a folder holding them");
        int before = Integer.MAX_VALUE; // 1-based file numbers up to the teacher's 0-based epoch are earlier than it
        if (folder.isEmpty()) { // the teacher's own run: only what came before its best epoch, as the code keeps
            try {
                String e = Safetensors.readMetadata(teacher.source()).get(kdrec.train.Checkpoint.KEY_EPOCH);
                if (e != null) before = Integer.parseInt(e.trim());
            } catch (IOException | NumberFormatException ex) {
                throw new IllegalArgumentException("hetcomp: cannot read the epoch of the teacher checkpoint " + teacher.source() + ": " + ex.getMessage());
            }
        }
        List<long[]> found = new ArrayList<>();
        List<Path> paths = new ArrayList<>();
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("hetcomp.trajectory: " + dir + " is not a folder");
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : (Iterable<Path>) s::iterator) {
                Matcher m = EPOCH_FILE.matcher(f.getFileName().toString());
                if (!m.matches()) continue;
                long n = Long.parseLong(m.group(1));
                if (n > before) continue;
                if (teacher.source() != null && f.toAbsolutePath().normalize().equals(teacher.source().normalize())) continue;
                found.add(new long[] {n, paths.size()});
                paths.add(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("hetcomp: cannot list " + dir, e);
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException("hetcomp needs --save-every checkpoints: no epoch_NNNN.safetensors in " + dir
                    + (before == Integer.MAX_VALUE ? "" : " earlier than the teacher's epoch " + (before + 1)) + " (retrain the teacher with --save-every N)");
        }
        found.sort((a, b) -> Long.compare(a[0], b[0]));
        List<Path> out = new ArrayList<>();
        for (long[] f : found) out.add(paths.get((int) f[1]));
        return out;
    }

    @Override
    public String name() {
        return "hetcomp";
    }

    /** Number of checkpoints in the trajectory, the final teacher included. */
    int checkpoints() {
        return perms.length;
    }

    /** The code's {@code v_result}: the mean checkpoint index rounded to 2 decimals (half to even, as NumPy's round). */
    double progress() {
        long sum = 0;
        for (int v : idx) sum += v;
        return idx.length == 0 ? 0 : Math.rint(100.0 * sum / idx.length) / 100.0;
    }

    private boolean finalPhase() {
        return progress() >= perms.length - 1;
    }

    @Override
    public void beginEpoch(Tape tape, Recommender student, int epoch) {
        if (epoch % p != 0 || epoch < p || finalPhase()) return;
        int users = student.users();
        int[] all = new int[users];
        for (int u = 0; u < users; u++) all[u] = u;
        int[] top = Scoring.topK(tape, student, all, k, data.trainPtr(), data.trainItems()).ids();
        double th = alpha * Math.pow(DECAY, epoch / p);
        boolean first = dist == null;
        int[] d = first ? new int[users] : dist;
        int last = perms.length - 1;
        double[] gain = gains(k);
        kdrec.cpu.Parallel.forRange(users, 1, 256, (lo, hi) -> {
            int[] mark = new int[student.items()];
            for (int u = lo; u < hi; u++) {
                if (first) {
                    d[u] = distance(top, u, perms[Math.min(last, idx[u] + 1)], k, gain, mark, 2 * u + 1);
                    continue;
                }
                if (idx[u] == last) continue;
                int next = distance(top, u, perms[Math.min(last, idx[u] + 1)], k, gain, mark, 2 * u + 1);
                if (moves(d[u], next, th)) {
                    d[u] = distance(top, u, perms[Math.min(last, idx[u] + 2)], k, gain, mark, 2 * u + 2);
                    idx[u]++;
                }
            }
        });
        dist = d;
    }

    /** The move rule: the remembered gap over the current gap to the next checkpoint exceeds th, or is below 1 (0/0 stays). */
    static boolean moves(int lastUnits, int nextUnits, double th) {
        double ratio = (double) lastUnits / nextUnits;
        return ratio > th || ratio < 1;
    }

    /** NDCG gains over log2 discounts by 0-based position: {@code (2^exp(-r/10) - 1) / log2(r + 2)}. */
    static double[] gains(int k) {
        double[] g = new double[k];
        for (int r = 0; r < k; r++) g[r] = (Math.pow(2, Math.exp(-r / 10.0)) - 1) / (Math.log(r + 2) / Math.log(2));
        return g;
    }

    /** {@code 1 - round(NDCG, 4)} in units of 1e-4 between the student's list of u and a checkpoint's (used as a set). */
    static int distance(int[] studentTop, int u, int[] perm, int k, double[] gain, int[] mark, int stamp) {
        for (int j = 0; j < k; j++) mark[perm[u * k + j]] = stamp;
        double dcg = 0, idcg = 0;
        for (int r = 0; r < k; r++) {
            idcg += gain[r];
            if (mark[studentTop[u * k + r]] == stamp) dcg += gain[r];
        }
        return 10000 - (int) Math.rint(dcg / idcg * 10000);
    }

    @Override
    public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
        BatchUsers bu = BatchUsers.of(batch.users(), student.users());
        int nu = bu.size();
        boolean rank = finalPhase();
        int half = k / 2, tenth = k / 10;
        int[][] excluded = new int[nu][];
        int terms = rank ? 3 : 1;
        int[][] lists = new int[nu * terms][], held = new int[nu * terms][];
        float[] w = new float[nu * terms];
        int[] rowPtr = new int[nu + 1];
        int[] tp = data.trainPtr();
        for (int r = 0; r < nu; r++) {
            int u = bu.users()[r];
            excluded[r] = Arrays.copyOfRange(data.trainItems(), tp[u], tp[u + 1]);
            int[] pos = Arrays.copyOfRange(posIdx, posPtr[u], posPtr[u + 1]);
            int[] perm = Arrays.copyOfRange(perms[idx[u]], u * k, (u + 1) * k);
            int j = r * terms;
            rowPtr[r + 1] = j + terms;
            if (!rank) { // each of pos ∪ perm against the items that are neither train nor perm, times 2
                int[] l = Arrays.copyOf(pos, pos.length + k);
                System.arraycopy(perm, 0, l, pos.length, k);
                lists[j] = l;
                held[j] = perm;
                w[j] = 2f;
                continue;
            }
            int[] h = Arrays.copyOf(perm, half), t = Arrays.copyOf(perm, tenth);
            lists[j] = pos;
            held[j] = h;
            w[j] = 1f;
            lists[j + 1] = h;
            held[j + 1] = h;
            w[j + 1] = 0.5f;
            lists[j + 2] = t;
            held[j + 2] = t;
            w[j + 2] = 0.5f;
        }
        ListwiseAll.Terms t = new ListwiseAll.Terms(rowPtr, IndexSets.of(lists), IndexSets.of(held), w);
        Var ue = Gather.rows(tape, e.users(), bu.users());
        Var perUser = ListwiseAll.loss(tape, ue, e.items(), IndexSets.of(excluded), t, rank, CLIP, FLOOR);
        return Arith.weightedSum(tape, perUser, bu.counts());
    }

    @Override
    public Map<String, Tensor> state() {
        int n = idx.length;
        float[] s = new float[2 * n];
        for (int u = 0; u < n; u++) {
            s[u] = idx[u];
            s[n + u] = dist == null ? -1f : dist[u]; // small integers: exact in float
        }
        return Map.of("hetcomp", Tensor.of(s, 2, n));
    }

    @Override
    public void restore(Map<String, Tensor> state) {
        Tensor s = state.get("hetcomp");
        int n = idx.length;
        if (s == null || s.size() != 2L * n) throw new IllegalArgumentException("hetcomp: the checkpoint holds no per-user trajectory state for " + n + " users");
        boolean set = s.get(n) >= 0;
        dist = set ? new int[n] : null;
        for (int u = 0; u < n; u++) {
            int c = (int) s.get(u);
            if (c < 0 || c >= perms.length) throw new IllegalArgumentException("hetcomp: saved checkpoint index " + c + " outside a trajectory of " + perms.length);
            idx[u] = c;
            if (set) dist[u] = (int) s.get(n + u);
        }
    }

    /** The current checkpoint of a user (for tests). */
    int checkpointOf(int user) {
        return idx[user];
    }

    /** The remembered distance of a user in 1e-4 units, or -1 before the first DKC (for tests). */
    int distanceOf(int user) {
        return dist == null ? -1 : dist[user];
    }

    /** A checkpoint's permutation of a user (for tests). */
    int[] permutation(int checkpoint, int user) {
        return Arrays.copyOfRange(perms[checkpoint], user * k, (user + 1) * k);
    }

    int k() {
        return k;
    }
}
