package kdrec.kd;

import static kdrec.kd.KdParams.ordered;

import java.util.Locale;
import java.util.Map;
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
 * Vanilla cross-entropy KD (class {@code KD} in woriazzc/RCEKD modeling/KD/baseline.py; spec §2):
 * per batch entry, {@code -sum_{i in A_u} softmax(t/tau)_i log softmax(s/tau)_i} over an item set
 * A_u, both softmaxes restricted to A_u, summed over entries (duplicate users kept). A_u is the
 * top-K of the teacher ({@code guide=teacher}, once) or of the student ({@code guide=student},
 * refreshed every epoch), over all items: like the code, training items are not masked.
 *
 * <p>The default is the teacher guide: the paper's "vanilla CE" is CE on the teacher's top-K (its
 * closure argument, spec §1.1). The only released config (CiteULike, preset "citeulike") uses the
 * student guide with K 50, tau 1, lambda 1; its LightGCN-teacher row tau 10, lambda 5.
 */
public final class VanillaCe implements Distiller {
    public static final Methods.Method METHOD = new Methods.Method("ce",
            "Vanilla cross-entropy KD: teacher vs student softmax on the teacher's (or student's) top-K items",
            ordered("lambda", 1.0, "k", 50, "tau", 1.0, "guide", "teacher"),
            presets(), VanillaCe::new);

    private static Map<String, Map<String, Object>> presets() {
        Map<String, Map<String, Object>> p = new java.util.LinkedHashMap<>();
        // configs/citeulike/bpr/kd.yaml (MF students only): key bpr (MF teacher) and key lightgcn; lr 1e-3, batch 2048
        p.put("citeulike/mf>mf", ordered("weight_decay", 1e-7, "batch_size", 2048, "lambda", 1.0, "tau", 1.0, "k", 50, "guide", "student"));
        p.put("citeulike/lightgcn>mf", ordered("weight_decay", 1e-7, "batch_size", 2048, "lambda", 5.0, "tau", 10.0, "k", 50, "guide", "student"));
        return p;
    }

    private final Teacher teacher;
    private final int k;
    private final float tau;
    private final boolean studentGuide;
    private UserSets sets; // A_u with the teacher's logits: fixed (teacher guide) or per epoch (student guide)

    public VanillaCe(KdParams p, Teacher teacher, TrainData data, long seed) {
        this.teacher = teacher;
        this.k = Math.min(p.atLeast("k", 1), teacher.items());
        this.tau = (float) p.positive("tau");
        String guide = p.str("guide").toLowerCase(Locale.ROOT);
        if (!guide.equals("teacher") && !guide.equals("student")) {
            throw new IllegalArgumentException("ce.guide must be 'teacher' or 'student', got '" + p.str("guide") + "'");
        }
        this.studentGuide = guide.equals("student");
        if (!studentGuide) sets = topSets(teacher.topK(k, null, null), teacher.users());
    }

    @Override
    public String name() {
        return "ce";
    }

    @Override
    public void beginEpoch(Tape tape, Recommender student, int epoch) {
        if (!studentGuide) return;
        int users = student.users();
        int[] all = new int[users];
        for (int u = 0; u < users; u++) all[u] = u;
        sets = topSets(Scoring.topK(tape, student, all, k, null, null).ids(), users);
    }

    private UserSets topSets(int[] top, int users) {
        UserSets.Builder b = new UserSets.Builder(users, k);
        for (int u = 0; u < users; u++) b.add(u, top, u * k, (u + 1) * k);
        return b.build().withTeacher(teacher);
    }

    @Override
    public Var loss(Tape tape, Recommender student, Recommender.Embeddings e, Batch batch) {
        if (sets == null) throw new IllegalStateException("ce: beginEpoch has not run (student guide)");
        BatchUsers bu = BatchUsers.of(batch.users(), student.users());
        UserSets.Rows rows = sets.rows(bu.users());
        Var ue = Gather.rows(tape, e.users(), bu.users());
        Var ce = CrossEntropy.subsetSoftCe(tape, ue, e.items(), rows.sets(), rows.teacher(), tau);
        return Arith.weightedSum(tape, ce, bu.counts());
    }

    /** The device twin's view: the guide, K, tau, the teacher and the epoch's sets (null before a student-guided epoch). */
    boolean studentGuide() {
        return studentGuide;
    }

    int k() {
        return k;
    }

    float tau() {
        return tau;
    }

    UserSets sets() {
        return sets;
    }

    /** Sets the epoch's sets from the student's top-K lists (users x k), with the teacher's logits. */
    void setStudentTop(int[] top, int users) {
        sets = topSets(top, users);
    }

    /** The item set A_u of the current epoch (for tests). */
    int[] setOf(int user) {
        return sets.of(user);
    }
}
