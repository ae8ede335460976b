package kdrec.kd;

import kdrec.autograd.Tape;
import kdrec.cpu.Parallel;
import kdrec.model.Recommender;
import kdrec.tensor.Backend;
import kdrec.tensor.Tensor;

/**
 * RCE-KD's per-epoch state (spec §1.3) in buffers that live as long as the distiller: the student's
 * top-M, every user's list [SK \ P | SK ∩ P | P \ SK | QT \ (P ∪ SK)] as CSR over all users, the split
 * points (SK = list[0, a), J2 = list[b, n)), the weight w and the per-entry teacher target. Arrays are
 * only ever grown, never reallocated per epoch: about 150 MB of epoch data that young collections would
 * otherwise copy between survivor spaces several times an epoch (measured: 0.1-1 s pauses each).
 * Entry arrays can be longer than the epoch's lists; {@code ptr[users]} is the entry count.
 */
public final class RceKdEpoch {
    int[] ptr = new int[0], idx = new int[0], a = new int[0], b = new int[0], top = new int[0];
    float[] target = new float[0], w = new float[0], wA = new float[0], wB = new float[0];
    private float[] topScores = new float[0], slabLogit = new float[0], logits = new float[0], freshLogits = new float[0];
    private int[] slab = new int[0], len = new int[0], freshCount = new int[0], freshPtr = new int[0], freshIdx = new int[0];

    /** Where the student's top-M lists come from (the host's fused kernel, or the GPU's). */
    public interface TopM {
        /** Each user's m best items over all items (no masking), best first, into top/scores [u*m + j]. */
        void compute(int m, int[] top, float[] scores);  // scores: may be left unwritten (only the ids are used)

        /** The host path: the fused score->top-K kernel over the student's inference embeddings. */
        static TopM onHost(Tape tape, Recommender student) {
            return (m, top, scores) -> {
                Recommender.Embeddings e = student.inference(tape);
                Tensor uT = e.users().value(), iT = e.items().value();
                int d = uT.cols();
                tape.backend().scoreTopK(uT.rows(), iT.rows(), d, uT.data(), 0, d, iT.data(), 0, d, m, null, null, top, scores);
            };
        }
    }

    /** The per-user draws and set rules, from the distiller's settings. */
    interface Rules {
        /**
         * Fills user u's list into buf and returns its length n; out[0] = b (start of J2), out[1] =
         * |QT ∩ P|, out[2] = 1 when the sets are separate (else one set: a = b = n).
         */
        int list(int[] top, int u, int epoch, int[] buf, int[] out, int[] skMark, int[] pMark, int[] qtMark);

        /** w for a user with this overlap. */
        float weight(int overlap);
    }

    /**
     * Rebuilds everything for one epoch. {@code cap} bounds a list's length; QT logits come from
     * {@code teacherTopLogits} (aligned with {@code teacherTop}, users x k), the other items' from one
     * gather-dot over just those entries.
     */
    void build(Backend be, int users, int items, TopM studentTopM, int epoch, int k, int m, int cap, int[] teacherTop,
               float[] teacherTopLogits, Teacher teacher, float tau, Rules rules) {
        top = grow(top, users * m);
        topScores = grow(topScores, users * m);
        studentTopM.compute(m, top, topScores);
        slab = grow(slab, users * cap);
        slabLogit = grow(slabLogit, users * cap);
        len = grow(len, users);
        a = grow(a, users);
        b = grow(b, users);
        w = grow(w, users);
        wA = grow(wA, users);
        wB = grow(wB, users);
        freshCount = grow(freshCount, users);
        int[] topNow = top, slabNow = slab;
        float[] slabLogitNow = slabLogit;
        // per user: the list, its split, w, and the teacher logits of its QT items (NaN marks the rest)
        Parallel.forRange(users, 1, 512, (lo, hi) -> {
            int[] skMark = new int[items], pMark = new int[items], qtMark = new int[items], qtPos = new int[items];
            int[] buf = new int[cap], out = new int[3];
            for (int u = lo; u < hi; u++) {
                int stamp = u + 1;
                for (int j = 0; j < k; j++) {
                    qtMark[teacherTop[u * k + j]] = stamp;
                    qtPos[teacherTop[u * k + j]] = j;
                }
                int n = rules.list(topNow, u, epoch, buf, out, skMark, pMark, qtMark);
                System.arraycopy(buf, 0, slabNow, u * cap, n);
                len[u] = n;
                a[u] = out[2] == 1 ? k : n;
                b[u] = out[2] == 1 ? out[0] : n;
                w[u] = out[2] == 1 ? rules.weight(out[1]) : 0f;
                wA[u] = 1f - w[u];
                wB[u] = w[u];
                int fresh = 0;
                for (int j = 0; j < n; j++) {
                    int it = buf[j];
                    boolean qt = qtMark[it] == stamp;
                    slabLogitNow[u * cap + j] = qt ? teacherTopLogits[u * k + qtPos[it]] : Float.NaN;
                    if (!qt) fresh++;
                }
                freshCount[u] = fresh;
            }
        });
        ptr = grow(ptr, users + 1);
        freshPtr = grow(freshPtr, users + 1);
        for (int u = 0; u < users; u++) {
            ptr[u + 1] = ptr[u] + len[u];
            freshPtr[u + 1] = freshPtr[u] + freshCount[u];
        }
        int nnz = ptr[users];
        idx = grow(idx, nnz);
        logits = grow(logits, nnz);
        target = grow(target, nnz);
        freshIdx = grow(freshIdx, freshPtr[users]);
        freshLogits = grow(freshLogits, freshPtr[users]);
        int[] idxNow = idx, freshIdxNow = freshIdx;
        Parallel.forRange(users, 1, 1024, (lo, hi) -> {
            for (int u = lo; u < hi; u++) {
                for (int j = 0, f = freshPtr[u]; j < len[u]; j++) {
                    if (slabLogitNow[u * cap + j] != slabLogitNow[u * cap + j]) freshIdxNow[f++] = slabNow[u * cap + j];
                }
                System.arraycopy(slabNow, u * cap, idxNow, ptr[u], len[u]);
            }
        });
        teacher.gatherDot(users, freshPtr, freshIdx, freshLogits); // on the GPU when the teacher is there
        float[] logitsNow = logits, freshLogitsNow = freshLogits;
        Parallel.forRange(users, 1, 1024, (lo, hi) -> {
            for (int u = lo; u < hi; u++) {
                for (int j = 0, f = freshPtr[u]; j < len[u]; j++) {
                    float v = slabLogitNow[u * cap + j];
                    logitsNow[ptr[u] + j] = v == v ? v : freshLogitsNow[f++];
                }
            }
        });
        be.pairTargets(users, ptr, a, b, logits, tau, wA, wB, target);
    }

    /** The teacher's logit of every list entry (aligned with {@code idx}), before tau. */
    float[] teacherLogits() {
        return logits;
    }

    static int[] grow(int[] x, int n) {
        return x.length >= n ? x : new int[Math.max(n, x.length + x.length / 4)];
    }

    static float[] grow(float[] x, int n) {
        return x.length >= n ? x : new float[Math.max(n, x.length + x.length / 4)];
    }
}
