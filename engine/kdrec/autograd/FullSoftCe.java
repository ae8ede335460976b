package kdrec.autograd;

import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.tensor.Backend;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * Soft-target cross-entropy over the whole catalogue, per row: {@code -sum_i softmax(t/tau)_i *
 * log softmax(s/tau)_i} with student logits s = U.I^T and teacher logits t = Ut.It^T (constants).
 * It is RCE-KD's "full-CE" ablation, the ideal its theory approximates. Materialised in row chunks
 * (chunk x items floats for each side); the backward recomputes the chunks instead of keeping
 * rows x items gradients alive between forward and backward. Rows run in parallel on the backend's
 * row passes (max, sum of exponentials, dot, exp-axpy: float exponentials, double sums).
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
        int chunk = Math.min(CHUNK, Math.max(m, 1));
        Tensor s = t.scratch().uninitialized(chunk, n), p = t.scratch().uninitialized(chunk, n);
        float[] losses = new float[m];
        for (int r0 = 0; r0 < m; r0 += CHUNK) {
            int rows = Math.min(CHUNK, m - r0), base = r0;
            logits(be, rows, n, d, dt, r0, u.value, items.value, teacherUsers, teacherItems, tau, s, p);
            Parallel.forRange(rows, 1, 4, (lo, hi) -> {
                Rows w = Rows.of(n);
                for (int r = lo; r < hi; r++) {
                    w.load(s, p, r, n);
                    double lse = w.logSumExpStudent(be, n);
                    w.target(be, n, 1f); // w.y = the teacher's softmax
                    losses[base + r] = (float) (lse - be.rowDot(n, w.y, 0, w.s, 0));
                }
            });
        }
        Mem.copyIn(losses, 0, out.value.data(), 0, m);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            float[] gr = g.toArray();
            for (int r0 = 0; r0 < m; r0 += CHUNK) {
                int rows = Math.min(CHUNK, m - r0), base = r0;
                logits(be, rows, n, d, dt, r0, u.value, items.value, teacherUsers, teacherItems, tau, s, p);
                Parallel.forRange(rows, 1, 4, (lo, hi) -> {
                    Rows w = Rows.of(n);
                    for (int r = lo; r < hi; r++) { // dloss/ds = g_r (softmax(s/tau) - p) / tau, into s
                        w.load(s, p, r, n);
                        double lse = w.logSumExpStudent(be, n);
                        float scale = gr[base + r] / tau;
                        w.target(be, n, -scale);
                        be.rowExpAxpy(n, scale, w.s, 0, (float) lse, w.y, 0);
                        Mem.copyIn(w.y, 0, s.data(), (long) r * n, n);
                    }
                });
                if (u.requiresGrad) be.gemmNN(rows, d, n, 1f, s.data(), 0, n, items.value.data(), 0, d, 1f, t.gradOf(u).data(), (long) r0 * d, d);
                if (items.requiresGrad) be.gemmTN(n, d, rows, 1f, s.data(), 0, n, u.value.data(), (long) r0 * d, d, 1f, t.gradOf(items).data(), 0, d);
            }
        });
        return out;
    }

    /** s = student logits / tau and p = teacher logits / tau for rows [r0, r0+rows). */
    private static void logits(Backend be, int rows, int n, int d, int dt, int r0, Tensor u, Tensor items, Tensor tu, Tensor ti, float tau,
                               Tensor s, Tensor p) {
        be.gemmNT(rows, n, d, 1f / tau, u.data(), (long) r0 * d, d, items.data(), 0, d, 0f, s.data(), 0, n);
        be.gemmNT(rows, n, dt, 1f / tau, tu.data(), (long) r0 * dt, dt, ti.data(), 0, dt, 0f, p.data(), 0, n);
    }

    /**
     * Per-thread row buffers, kept between calls: a row's student and teacher logits and the output
     * row (the scaled teacher softmax, then the gradient). Arrays may be longer than the catalogue.
     */
    private static final class Rows {
        private static final ThreadLocal<Rows> PER_THREAD = ThreadLocal.withInitial(Rows::new);
        float[] s = new float[0], t = s, y = s;

        static Rows of(int n) {
            Rows w = PER_THREAD.get();
            if (w.s.length < n) {
                w.s = new float[n];
                w.t = new float[n];
                w.y = new float[n];
            }
            return w;
        }

        void load(Tensor s, Tensor p, int r, int n) {
            Mem.copyOut(s.data(), (long) r * n, this.s, 0, n);
            Mem.copyOut(p.data(), (long) r * n, t, 0, n);
        }

        /** log sum_i e^(s_i), the max factored out. */
        double logSumExpStudent(Backend be, int n) {
            float mx = be.rowMax(n, s, 0);
            return mx + Math.log(be.rowExpSum(n, s, 0, mx));
        }

        /** y = scale * softmax(t). */
        void target(Backend be, int n, float scale) {
            float mx = be.rowMax(n, t, 0);
            double sum = be.rowExpSum(n, t, 0, mx);
            java.util.Arrays.fill(y, 0, n, 0f);
            be.rowExpAxpy(n, (float) (scale / sum), t, 0, mx, y, 0);
        }
    }
}
