package kdrec.autograd;

import kdrec.tensor.Backend;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * Soft-target cross-entropy over the whole catalogue, per row: {@code -sum_i softmax(t/tau)_i *
 * log softmax(s/tau)_i} with student logits s = U.I^T and teacher logits t = Ut.It^T (constants).
 * It is RCE-KD's "full-CE" ablation, the ideal its theory approximates. Materialised in row chunks
 * (chunk x items floats for each side); the backward recomputes the chunks instead of keeping
 * rows x items gradients alive between forward and backward.
 */
public final class FullSoftCe {
    private FullSoftCe() {}

    private static final int CHUNK = 128;

    public static Var loss(Tape t, Var u, Var items, Tensor teacherUsers, Tensor teacherItems, float tau) {
        Shapes.matrix("fullSoftCe", u.value);
        Shapes.matrix("fullSoftCe", items.value);
        if (u.value.cols() != items.value.cols()) throw Shapes.mismatch("fullSoftCe", "student row widths differ", u.value, items.value);
        if (teacherUsers.rows() != u.value.rows() || teacherUsers.cols() != teacherItems.cols() || teacherItems.rows() != items.value.rows()) {
            throw Shapes.mismatch("fullSoftCe", "teacher shapes do not match the student's", teacherUsers, teacherItems);
        }
        if (!(tau > 0f)) throw new IllegalArgumentException("fullSoftCe: tau must be > 0, got " + tau);
        Backend be = t.backend();
        int m = u.value.rows(), n = items.value.rows(), d = u.value.cols(), dt = teacherUsers.cols();
        Var out = t.output("fullSoftCe", t.needsGrad(u, items), m);
        Tensor s = Tensor.zeros(Math.min(CHUNK, Math.max(m, 1)), n), p = Tensor.zeros(Math.min(CHUNK, Math.max(m, 1)), n);
        for (int r0 = 0; r0 < m; r0 += CHUNK) {
            int rows = Math.min(CHUNK, m - r0);
            logits(be, rows, n, d, dt, r0, u.value, items.value, teacherUsers, teacherItems, tau, s, p);
            for (int r = 0; r < rows; r++) {
                double lse = logSumExp(s, r, n), loss = lse;
                for (int i = 0; i < n; i++) loss -= p.get((long) r * n + i) * s.get((long) r * n + i);
                out.value.set(r0 + r, (float) loss);
            }
        }
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            for (int r0 = 0; r0 < m; r0 += CHUNK) {
                int rows = Math.min(CHUNK, m - r0);
                logits(be, rows, n, d, dt, r0, u.value, items.value, teacherUsers, teacherItems, tau, s, p);
                for (int r = 0; r < rows; r++) { // dloss/ds = g_r (softmax(s/tau) - p) / tau, into s
                    double lse = logSumExp(s, r, n);
                    float scale = g.get(r0 + r) / tau;
                    for (int i = 0; i < n; i++) {
                        long at = (long) r * n + i;
                        s.set(at, scale * ((float) Math.exp(s.get(at) - lse) - p.get(at)));
                    }
                }
                if (u.requiresGrad) be.gemmNN(rows, d, n, 1f, s.data(), 0, n, items.value.data(), 0, d, 1f, t.gradOf(u).data(), (long) r0 * d, d);
                if (items.requiresGrad) be.gemmTN(n, d, rows, 1f, s.data(), 0, n, u.value.data(), (long) r0 * d, d, 1f, t.gradOf(items).data(), 0, d);
            }
        });
        return out;
    }

    /** s = student logits / tau and p = teacher softmax for rows [r0, r0+rows). */
    private static void logits(Backend be, int rows, int n, int d, int dt, int r0, Tensor u, Tensor items, Tensor tu, Tensor ti, float tau,
                               Tensor s, Tensor p) {
        be.gemmNT(rows, n, d, 1f / tau, u.data(), (long) r0 * d, d, items.data(), 0, d, 0f, s.data(), 0, n);
        be.gemmNT(rows, n, dt, 1f / tau, tu.data(), (long) r0 * dt, dt, ti.data(), 0, dt, 0f, p.data(), 0, n);
        for (int r = 0; r < rows; r++) {
            double lse = logSumExp(p, r, n);
            for (int i = 0; i < n; i++) {
                long at = (long) r * n + i;
                p.set(at, (float) Math.exp(p.get(at) - lse));
            }
        }
    }

    private static double logSumExp(Tensor x, int r, int n) {
        double mx = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) mx = Math.max(mx, x.get((long) r * n + i));
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x.get((long) r * n + i) - mx);
        return mx + Math.log(sum);
    }
}
