package kdrec.model;

import kdrec.autograd.Tape;
import kdrec.tensor.Backend;
import kdrec.tensor.IndexSets;
import kdrec.tensor.Tensor;

/**
 * Scoring for callers outside training: a batch of users against all items (top-K, fused, never a
 * users x items matrix) or against given item sets. Works for any {@link Recommender}.
 */
public final class Scoring {
    private Scoring() {}

    /** Each row's k best items, best first (ids -1 / scores -Infinity pad rows with fewer eligible items). */
    public record TopK(int k, int[] ids, float[] scores) {
        public int[] row(int r) {
            return java.util.Arrays.copyOfRange(ids, r * k, (r + 1) * k);
        }
    }

    /**
     * Top-k items of each user in {@code users}; items in {@code exclude} (e.g. the train matrix:
     * ptr/indices over all users) are skipped; exclude may be null.
     */
    public static TopK topK(Tape tape, Recommender model, int[] users, int k, int[] excludePtr, int[] excludeIdx) {
        if (k < 0) throw new IllegalArgumentException("topK: k must be >= 0, got " + k);
        Backend be = tape.backend();
        Recommender.Embeddings e = model.inference(tape);
        Tensor u = e.users().value(), it = e.items().value();
        int d = u.cols(), m = users.length;
        for (int x : users) if (x < 0 || x >= u.rows()) throw new IllegalArgumentException("topK: user " + x + " outside [0, " + u.rows() + ")");
        Tensor rows = tape.scratch().uninitialized(Math.max(m, 1), d);
        be.gather(m, d, users, u.data(), 0, d, rows.data(), 0, d);
        int[] ptr = null, idx = null;
        if (excludePtr != null) { // rebase the exclusion lists onto the batch rows
            ptr = new int[m + 1];
            for (int r = 0; r < m; r++) ptr[r + 1] = ptr[r] + excludePtr[users[r] + 1] - excludePtr[users[r]];
            idx = new int[ptr[m]];
            for (int r = 0; r < m; r++) System.arraycopy(excludeIdx, excludePtr[users[r]], idx, ptr[r], ptr[r + 1] - ptr[r]);
        }
        int[] ids = new int[m * k];
        float[] scores = new float[m * k];
        be.scoreTopK(m, it.rows(), d, rows.data(), 0, d, it.data(), 0, d, k, ptr, idx, ids, scores);
        return new TopK(k, ids, scores);
    }

    /** Scores of row r's users against the items of set r (a flat array aligned with sets.idx()). */
    public static float[] scores(Tape tape, Recommender model, int[] users, IndexSets sets) {
        Backend be = tape.backend();
        Recommender.Embeddings e = model.inference(tape);
        Tensor u = e.users().value(), it = e.items().value();
        int d = u.cols(), m = users.length;
        if (sets.rows() != m) throw new IllegalArgumentException("scores: " + sets.rows() + " item sets for " + m + " users");
        sets.checkIds("scores", it.rows());
        Tensor rows = tape.scratch().uninitialized(Math.max(m, 1), d);
        be.gather(m, d, users, u.data(), 0, d, rows.data(), 0, d);
        float[] out = new float[sets.size()];
        be.gatherDot(m, d, rows.data(), 0, d, it.data(), 0, d, sets.ptr(), sets.idx(), out);
        return out;
    }
}
