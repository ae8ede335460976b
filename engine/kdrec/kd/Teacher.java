package kdrec.kd;

import java.io.IOException;
import java.nio.file.Path;
import kdrec.autograd.Tape;
import kdrec.model.Recommender;
import kdrec.tensor.Backend;
import kdrec.tensor.Backends;
import kdrec.tensor.IndexSets;
import kdrec.tensor.ParamStore;
import kdrec.tensor.Tensor;
import kdrec.train.Checkpoints;
import kdrec.train.TrainData;

/**
 * A frozen teacher for distillation. Its final embeddings (LightGCN: propagated once, here) are
 * computed when it is built and never change, so every teacher score is a dot product of two stored
 * rows: top-K lists come from the fused score->top-K kernel, logits of index sets from gather-dot.
 * Nothing ever holds a users x items score matrix (the reference code preloads one: ~5 GB on Gowalla).
 */
public final class Teacher implements AutoCloseable {
    private final Recommender model;
    private final ParamStore store = new ParamStore();
    private final Tensor users, items;
    private final Backend be = Backends.get();
    private final Path source;
    private kdrec.train.Device device = kdrec.train.Device.CPU;
    private kdrec.device.DeviceEmbeddings gpu;

    private Teacher(Recommender model, Path source) {
        this.model = model;
        this.source = source;
        try (Tape tape = new Tape(be, new kdrec.tensor.Scratch())) {
            Recommender.Embeddings e = model.inference(tape);
            users = store.copyOf(e.users().value());
            items = store.copyOf(e.items().value());
        }
    }

    /** Wraps a trained model (the teacher takes ownership and closes it). */
    public static Teacher of(Recommender model) {
        return new Teacher(model, null);
    }

    /** Loads a kdrec checkpoint of any backbone; it must have been trained on {@code data}. */
    public static Teacher load(Path checkpoint, TrainData data) throws IOException {
        return new Teacher(Checkpoints.load(checkpoint, data), checkpoint.toAbsolutePath());
    }

    /**
     * The checkpoint this teacher was loaded from, or null for a teacher built in memory. Its folder
     * holds the teacher's trajectory ({@code epoch_NNNN.safetensors}, from {@code --save-every}) that
     * HetComp distills from.
     */
    public Path source() {
        return source;
    }

    /** The backbone, for evaluation and description. */
    public Recommender model() {
        return model;
    }

    public int users() {
        return users.rows();
    }

    public int items() {
        return items.rows();
    }

    public int dim() {
        return users.cols();
    }

    /** Final user embeddings (users x d), read-only by convention. */
    public Tensor userEmbeddings() {
        return users;
    }

    /** Final item embeddings (items x d), read-only by convention. */
    public Tensor itemEmbeddings() {
        return items;
    }

    /**
     * Where {@link #topK} ranks: on the GPU under {@code --device cuda} (the same lists: the GPU's
     * scores are the CPU's fmaf chains), else on the CPU backend.
     */
    public Teacher onDevice(kdrec.train.Device d) {
        this.device = d;
        return this;
    }

    /** The embeddings on the device, uploaded on first use under {@code --device cuda}, else null. */
    private kdrec.device.DeviceEmbeddings onGpu() {
        return device == kdrec.train.Device.CUDA ? resident() : null;
    }

    /**
     * The embeddings on the GPU, uploaded on first use whatever {@link #onDevice} says: for device twins
     * that score the teacher next to a device-resident student. Fails where there is no usable GPU.
     */
    public kdrec.device.DeviceEmbeddings resident() {
        if (gpu == null) gpu = new kdrec.device.DeviceEmbeddings(users, items);
        return gpu;
    }

    /**
     * Every user's k best items, best first, row-major users x k. With {@code exclude} (ptr/idx over
     * all users, e.g. the train matrix) those items are skipped: RCE-KD ranks all items, RRD/DCD/CD
     * rank unobserved ones only.
     */
    public int[] topK(int k, int[] excludePtr, int[] excludeIdx) {
        if (onGpu() != null) return onGpu().topK(k, excludePtr, excludeIdx);
        int n = users.rows(), d = users.cols();
        int[] ids = new int[n * k];
        float[] scores = new float[n * k];
        be.scoreTopK(n, items.rows(), d, users.data(), 0, d, items.data(), 0, d, k, excludePtr, excludeIdx, ids, scores);
        return ids;
    }

    /** Users per {@link #topKAmong} kernel call: bounds its transient score buffer (users x k floats). */
    static final int SUBSET_CHUNK_USERS = 4096;

    /**
     * Every user's k best items among {@code subset} (ascending item ids), best first, ties by the lower
     * id, row-major users x k of global ids; items in {@code exclude} (ptr/idx over all users, global ids,
     * e.g. the train matrix; ids outside the subset are ignored) are skipped, and a row with fewer than k
     * eligible items ends in -1. The subset's rows are gathered into one table and ranked by the fused
     * score->top-K kernel (the scores of {@link #topK}), in chunks of users; on the CPU backend whatever
     * the device (UnKD's per-group lists, built once).
     */
    public int[] topKAmong(int[] subset, int k, int[] excludePtr, int[] excludeIdx) {
        int n = users.rows(), d = users.cols(), ns = subset.length, all = items.rows();
        if (k < 0) throw new IllegalArgumentException("teacher topKAmong: k = " + k + " < 0");
        if (excludePtr.length != n + 1) throw new IllegalArgumentException("teacher topKAmong: exclusions for " + (excludePtr.length - 1) + " users, teacher has " + n);
        int[] local = new int[all];
        java.util.Arrays.fill(local, -1);
        for (int s = 0; s < ns; s++) {
            int i = subset[s];
            if (i < 0 || i >= all || (s > 0 && i <= subset[s - 1])) {
                throw new IllegalArgumentException("teacher topKAmong: subset must hold ascending item ids in [0, " + all + "), got " + i + " at " + s);
            }
            local[i] = s;
        }
        for (int j = excludePtr[0]; j < excludePtr[n]; j++) {
            if (excludeIdx[j] < 0 || excludeIdx[j] >= all) throw new IllegalArgumentException("teacher topKAmong: excluded item " + excludeIdx[j] + " at " + j + " outside [0, " + all + ")");
        }
        int[] exPtr = new int[n + 1];
        for (int u = 0; u < n; u++) {
            int c = 0;
            for (int j = excludePtr[u]; j < excludePtr[u + 1]; j++) if (local[excludeIdx[j]] >= 0) c++;
            exPtr[u + 1] = exPtr[u] + c;
        }
        int[] exIdx = new int[exPtr[n]];
        for (int u = 0, p = 0; u < n; u++) for (int j = excludePtr[u]; j < excludePtr[u + 1]; j++) if (local[excludeIdx[j]] >= 0) exIdx[p++] = local[excludeIdx[j]];
        if ((long) n * k > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("teacher topKAmong: " + n + " users x k " + k + " ids do not fit one array");
        int[] out = new int[n * k];
        if (k == 0 || n == 0) return out;
        try (ParamStore tmp = new ParamStore()) {
            Tensor table = tmp.zeros(Math.max(1, ns), d);
            be.gather(ns, d, subset, items.data(), 0, d, table.data(), 0, d);
            int chunk = Math.min(n, SUBSET_CHUNK_USERS);
            int[] ids = new int[chunk * k];
            float[] scores = new float[chunk * k];
            for (int from = 0; from < n; from += chunk) {
                int m = Math.min(n, from + chunk) - from;
                be.scoreTopK(m, ns, d, users.data(), (long) from * d, d, table.data(), 0, d, k,
                        java.util.Arrays.copyOfRange(exPtr, from, from + m + 1), exIdx, ids, scores);
                for (int j = 0; j < m * k; j++) out[from * k + j] = ids[j] < 0 ? -1 : subset[ids[j]];
            }
        }
        return out;
    }

    /** Teacher logits of row r's user {@code rowUsers[r]} against the items of set r (flat, aligned with sets.idx()). */
    public float[] logits(int[] rowUsers, IndexSets sets) {
        int d = users.cols(), m = rowUsers.length;
        if (sets.rows() != m) throw new IllegalArgumentException("teacher logits: " + sets.rows() + " item sets for " + m + " users");
        sets.checkIds("teacher logits", items.rows());
        float[] out = new float[sets.size()];
        if (m == 0) return out;
        boolean identity = true;
        for (int r = 0; r < m && identity; r++) identity = rowUsers[r] == r;
        if (identity && m <= users.rows()) {
            gatherDot(m, sets.ptr(), sets.idx(), out);
            return out;
        }
        for (int u : rowUsers) if (u < 0 || u >= users.rows()) throw new IllegalArgumentException("teacher logits: user " + u + " outside [0, " + users.rows() + ")");
        Tensor rows = Tensor.zeros(m, d);
        be.gather(m, d, rowUsers, users.data(), 0, d, rows.data(), 0, d);
        be.gatherDot(m, d, rows.data(), 0, d, items.data(), 0, d, sets.ptr(), sets.idx(), out);
        return out;
    }

    /**
     * out[j] = logit of user r and item idx[j] for the entries of rows r &lt; m (row r = user r; the
     * arrays may be longer than ptr[m]): on the GPU under {@code --device cuda}, else on the CPU.
     */
    public void gatherDot(int m, int[] ptr, int[] idx, float[] out) {
        if (onGpu() != null) {
            onGpu().gatherDot(m, ptr, idx, out);
            return;
        }
        int d = users.cols();
        be.gatherDot(m, d, users.data(), 0, d, items.data(), 0, d, ptr, idx, out);
    }

    /**
     * The teacher's valid and test metrics by {@code ev}: ranked on the GPU under {@code --device cuda}
     * from its resident embeddings (a sequential teacher configured to rank test from longer histories
     * computes those user states on the host and ranks them on the device too).
     */
    public kdrec.train.Evaluator.Result evaluate(kdrec.train.Evaluator ev, kdrec.train.TrainData data) {
        try (Tape tape = new Tape(be, new kdrec.tensor.Scratch())) {
            if (onGpu() == null) return ev.evaluate(tape, model);
            int[] top = topK(ev.k(), data.trainPtr(), data.trainItems());
            int[] testTop = model.testFromLongerHistory()
                    ? kdrec.device.DeviceRanking.rankAll(model.inferenceForTest(tape), ev.k(), data.trainPtr(), data.trainItems()) : top;
            return ev.evaluate(top, testTop);
        }
    }

    /** Logits of every user against its own set (set r belongs to user r). */
    public float[] logits(IndexSets perUser) {
        if (perUser.rows() != users.rows()) throw new IllegalArgumentException("teacher logits: " + perUser.rows() + " sets for " + users.rows() + " users");
        int[] identity = new int[perUser.rows()];
        for (int u = 0; u < identity.length; u++) identity[u] = u;
        return logits(identity, perUser);
    }

    @Override
    public void close() {
        try {
            if (gpu != null) gpu.close();
        } finally {
            store.close();
            model.close();
        }
    }
}
