package kdrec.autograd;

import kdrec.cpu.Mem;
import kdrec.tensor.Backend;
import kdrec.tensor.IndexSets;
import kdrec.tensor.PairSets;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * The fused cross-entropy ops. Each returns per-row losses (a rank-1 Var) so callers can weight
 * rows (RCE-KD mixes two CEs per row) before reducing. Forward kernels compute dloss/dlogit in
 * the same pass; backward only scales it by the upstream gradient and pushes it into the
 * embeddings.
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    private static void checkPair(String op, Var u, Var items) {
        Shapes.matrix(op, u.value);
        Shapes.matrix(op, items.value);
        if (u.value.cols() != items.value.cols()) throw Shapes.mismatch(op, "row widths differ", u.value, items.value);
    }

    /**
     * Soft-target CE per row on ragged item sets, fused: student logits &lt;U[r], I[i]&gt;/tau,
     * teacher softmax of {@code teacherLogits}/tau (aligned with {@code sets.idx}, no gradient).
     */
    public static Var subsetSoftCe(Tape t, Var u, Var items, IndexSets sets, float[] teacherLogits, float tau) {
        checkPair("subsetSoftCe", u, items);
        int m = u.value.rows(), d = u.value.cols();
        if (sets.rows() != m) throw new IllegalArgumentException("subsetSoftCe: " + sets.rows() + " index sets for " + m + " rows");
        if (teacherLogits.length != sets.size()) {
            throw new IllegalArgumentException("subsetSoftCe: " + teacherLogits.length + " teacher logits for " + sets.size() + " entries");
        }
        checkTau("subsetSoftCe", tau);
        sets.checkIds("subsetSoftCe", items.value.rows());
        Backend be = t.backend();
        float[] loss = new float[m], grad = new float[sets.size()];
        be.softCe(m, d, u.value.data(), 0, d, items.value.data(), 0, d, sets.ptr(), sets.idx(), teacherLogits, tau, null, loss, grad, null);
        Var out = t.output("subsetSoftCe", t.needsGrad(u, items), m);
        Mem.copyIn(loss, 0, out.value.data(), 0, m);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            scaleByRow(sets.ptr(), g, grad);
            be.gatherDotBackward(m, d, u.value.data(), 0, d, items.value.data(), 0, d, sets.ptr(), sets.idx(), grad,
                    u.requiresGrad ? t.gradOf(u).data() : null, 0, d, items.requiresGrad ? t.gradOfRows(items, sets.idx(), 0, sets.size()).data() : null, 0, d);
        });
        return out;
    }

    /**
     * Soft CE on two overlapping sets per row over one item list (RCE-KD's SK and J2), fused: per-row
     * loss {@code wA CE_A + wB CE_B} (kdrec.cpu.PairCeScalar), teacher side from {@code p.target()}.
     * The forward also forms each user row's gradient while its item rows are in cache, so the backward
     * only scales that and scatters the item side.
     */
    public static Var pairSoftCe(Tape t, Var u, Var items, PairSets p, float tau) {
        checkPair("pairSoftCe", u, items);
        int m = u.value.rows(), d = u.value.cols(), nnz = p.entries();
        if (p.rows() != m) throw new IllegalArgumentException("pairSoftCe: " + p.rows() + " set pairs for " + m + " rows");
        checkTau("pairSoftCe", tau);
        int[] ptr = p.ptr(), idx = p.idx();
        Backend be = t.backend();
        float[] loss = new float[m], grad = p.grad() != null ? p.grad() : new float[nnz];
        Var out = t.output("pairSoftCe", t.needsGrad(u, items), m);
        Tensor gu = out.requiresGrad && u.requiresGrad ? t.scratch().uninitialized(Math.max(1, m), d) : null;
        be.pairSoftCe(m, d, u.value.data(), 0, d, items.value.data(), 0, d, ptr, idx, p.a(), p.b(), p.target(),
                p.wA(), p.wB(), tau, loss, grad, gu == null ? null : gu.data(), 0, d);
        Mem.copyIn(loss, 0, out.value.data(), 0, m);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            float[] gr = g.toArray();
            if (gu != null) { // du[r] += g[r] * gu[r]
                java.lang.foreign.MemorySegment du = t.gradOf(u).data(), v = gu.data();
                for (int r = 0; r < m; r++) {
                    float s = gr[r];
                    for (long i = (long) r * d, e = i + d; i < e; i++) Mem.set(du, i, Math.fma(s, Mem.get(v, i), Mem.get(du, i)));
                }
            }
            if (items.requiresGrad) {
                kdrec.cpu.Parallel.forRange(m, 1, 512, (lo, hi) -> {
                    for (int r = lo; r < hi; r++) for (int j = ptr[r]; j < ptr[r + 1]; j++) grad[j] *= gr[r];
                });
                be.gatherDotBackward(m, d, u.value.data(), 0, d, items.value.data(), 0, d, ptr, idx, grad,
                        null, 0, d, t.gradOfRows(items, idx, ptr[0], ptr[m]).data(), 0, d);
            }
        });
        return out;
    }

    /** The same soft-target CE from given student logits (a rank-1 Var aligned with sets.idx). */
    public static Var softCeLogits(Tape t, Var studentLogits, IndexSets sets, float[] teacherLogits, float tau) {
        if (studentLogits.value.rank() != 1 || studentLogits.value.size() != sets.size() || teacherLogits.length != sets.size()) {
            throw new IllegalArgumentException("softCeLogits: " + studentLogits.value.size() + " student and " + teacherLogits.length
                    + " teacher logits for " + sets.size() + " entries");
        }
        checkTau("softCeLogits", tau);
        Backend be = t.backend();
        int m = sets.rows();
        float[] loss = new float[m], grad = new float[sets.size()];
        be.softCeLogits(m, sets.ptr(), studentLogits.value.toArray(), teacherLogits, tau, null, loss, grad);
        Var out = t.output("softCeLogits", t.needsGrad(studentLogits), m);
        Mem.copyIn(loss, 0, out.value.data(), 0, m);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            scaleByRow(sets.ptr(), g, grad);
            Tensor gs = t.gradOf(studentLogits);
            for (int j = 0; j < grad.length; j++) gs.set(j, gs.get(j) + grad[j]);
        });
        return out;
    }

    /**
     * Full-catalogue softmax CE per row, logits = scale * U.I^T over all items, target item per row.
     * {@code online}: log-sum-exp streamed over item tiles (no rows x items buffer; the backward
     * recomputes the tiles: 4 GEMM-equivalents). Otherwise materialised: the logits live in scratch
     * and are turned into dloss/dlogit in place (3 GEMM-equivalents, rows x items floats).
     * When {@code topK != null}, it is filled with each row's top-K items by logit before the
     * softmax (the materialised path selects from the logits it already has).
     */
    public static Var fullSoftmaxCe(Tape t, Var u, Var items, int[] target, float scale, boolean online, TopK topK) {
        checkPair("fullSoftmaxCe", u, items);
        int m = u.value.rows(), n = items.value.rows(), d = u.value.cols();
        if (target.length != m) throw new IllegalArgumentException("fullSoftmaxCe: " + target.length + " targets for " + m + " rows");
        for (int r = 0; r < m; r++) {
            if (target[r] < 0 || target[r] >= n) throw new IllegalArgumentException("fullSoftmaxCe: target " + target[r] + " of row " + r + " outside [0, " + n + ")");
        }
        Backend be = t.backend();
        float[] loss = new float[m];
        Var out = t.output("fullSoftmaxCe", t.needsGrad(u, items), m);
        if (online) {
            float[] lse = new float[m];
            be.softmaxCeForward(m, n, d, u.value.data(), 0, d, items.value.data(), 0, d, scale, target, loss, lse);
            if (topK != null) {
                be.scoreTopK(m, n, d, u.value.data(), 0, d, items.value.data(), 0, d, topK.k(), null, null, topK.ids(), topK.scores());
            }
            Mem.copyIn(loss, 0, out.value.data(), 0, m);
            if (out.requiresGrad) t.record(() -> {
                Tensor g = out.grad();
                if (g == null) return;
                be.softmaxCeBackward(m, n, d, u.value.data(), 0, d, items.value.data(), 0, d, scale, target, lse, g.toArray(),
                        u.requiresGrad ? t.gradOf(u).data() : null, 0, d, items.requiresGrad ? t.gradOf(items).data() : null, 0, d);
            });
            return out;
        }
        Tensor logits = t.scratch().uninitialized(m, n);
        // scores, top-K and softmax in one pass over the logits (fused on the SIMD backend)
        be.softmaxCeScores(m, n, d, u.value.data(), 0, d, items.value.data(), 0, d, scale, target, topK == null ? 0 : topK.k(),
                topK == null ? null : topK.ids(), topK == null ? null : topK.scores(), logits.data(), 0, n, loss);
        Mem.copyIn(loss, 0, out.value.data(), 0, m);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            // dlogit = g[r] * (softmax - onehot); chain through logits = scale * U.I^T
            float alpha = scale;
            float g0 = g.get(0);
            boolean uniform = true;
            for (int r = 1; r < m && uniform; r++) uniform = g.get(r) == g0;
            if (uniform) {
                alpha *= g0;
            } else {
                for (int r = 0; r < m; r++) be.scale(n, g.get(r), logits.data(), (long) r * n, logits.data(), (long) r * n);
            }
            if (u.requiresGrad) be.gemmNN(m, d, n, alpha, logits.data(), 0, n, items.value.data(), 0, d, 1f, t.gradOf(u).data(), 0, d);
            if (items.requiresGrad) be.gemmTN(n, d, m, alpha, logits.data(), 0, n, u.value.data(), 0, d, 1f, t.gradOf(items).data(), 0, d);
        });
        return out;
    }

    /** Where a fused loss writes each row's top-K items (row-major rows x k). */
    public record TopK(int k, int[] ids, float[] scores) {
        public static TopK of(int rows, int k) {
            return new TopK(k, new int[rows * k], new float[rows * k]);
        }
    }

    /**
     * Sampled softmax per row from logits (temperature already applied): positive logit pos[r],
     * negatives {@code neg} on the ragged rows of {@code negPtr}; loss = -pos + log(exp(pos) +
     * negScale * sum exp(neg)). negScale 1 is plain sampled softmax, larger values the scaled variant.
     */
    public static Var sampledSoftmax(Tape t, Var pos, Var neg, int[] negPtr, float negScale) {
        int m = (int) pos.value.size();
        if (pos.value.rank() != 1 || neg.value.rank() != 1 || negPtr.length != m + 1 || negPtr[m] != neg.value.size()) {
            throw new IllegalArgumentException("sampledSoftmax: " + m + " positives, " + neg.value.size() + " negatives, negPtr of "
                    + negPtr.length);
        }
        if (!(negScale > 0f)) throw new IllegalArgumentException("sampledSoftmax: negScale must be > 0, got " + negScale);
        Backend be = t.backend();
        float[] loss = new float[m], gPos = new float[m], gNeg = new float[(int) neg.value.size()];
        be.sampledSoftmax(m, pos.value.toArray(), negPtr, neg.value.toArray(), negScale, null, loss, gPos, gNeg);
        Var out = t.output("sampledSoftmax", t.needsGrad(pos, neg), m);
        Mem.copyIn(loss, 0, out.value.data(), 0, m);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            if (pos.requiresGrad) {
                Tensor gp = t.gradOf(pos);
                for (int r = 0; r < m; r++) gp.set(r, gp.get(r) + g.get(r) * gPos[r]);
            }
            if (neg.requiresGrad) {
                scaleByRow(negPtr, g, gNeg);
                Tensor gn = t.gradOf(neg);
                for (int j = 0; j < gNeg.length; j++) gn.set(j, gn.get(j) + gNeg[j]);
            }
        });
        return out;
    }

    private static void scaleByRow(int[] ptr, Tensor rowGrad, float[] entries) {
        for (int r = 0; r + 1 < ptr.length; r++) {
            float s = rowGrad.get(r);
            for (int j = ptr[r]; j < ptr[r + 1]; j++) entries[j] *= s;
        }
    }

    private static void checkTau(String op, float tau) {
        if (!(tau > 0f) || Float.isInfinite(tau)) throw new IllegalArgumentException(op + ": tau must be a positive finite number, got " + tau);
    }
}
