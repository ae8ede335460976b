package kdrec.autograd;

import kdrec.tensor.Backend;
import kdrec.tensor.Scratch;
import kdrec.tensor.Shapes;
import kdrec.tensor.SparseMatrix;
import kdrec.tensor.Tensor;

/**
 * A polynomial graph filter {@code Y = (Σ_q c_q T_q(M) X)[0, reach[0])}, T_q the Chebyshev
 * polynomials, by the three-term recurrence {@code T_0 X = X, T_1 X = M X,
 * T_{q+1} X = 2 M T_q X - T_{q-1} X}: p sparse products, restricted to the rows each level needs.
 *
 * <p>Row restriction (the batch's p-hop closure): rows are ordered by hop distance from the output
 * rows, and {@code reach[k]} is the number of leading rows within k hops (reach[0] = output rows,
 * reach[p] = all rows of X); M's rows below reach[k] may only reference columns below reach[k+1].
 * T_q is then needed only on the first reach[p-q] rows, so step q multiplies only that prefix of M
 * (M needs at least reach[p-1] rows). With every reach equal to X's row count this is the full
 * filter.
 *
 * <p>Backward: the filter is linear in X, so {@code dX += Σ_q c_q T_q(M^T) dY_ext} (dY_ext = dY on
 * the first reach[0] rows, zero elsewhere), the same recurrence with M^T (explicitly: an edge-dropped
 * M is not symmetric); step q touches only rows within q hops of the output.
 *
 * <p>Scratch: the recurrence's temporaries are released when forward (and backward) returns, so a
 * call keeps only Y (and dX): at FreqD's LightGCN width on the full item table each temporary is
 * 41k x 2000 floats (328 MB), and forward runs once for the student and once for the teacher.
 */
public final class ChebyshevFilter {
    private ChebyshevFilter() {}

    public static Var apply(Tape t, SparseMatrix m, int[] reach, float[] c, Var x) {
        Shapes.matrix("chebyshevFilter", x.value);
        int p = c.length - 1, n = x.value.rows(), d = x.value.cols();
        check(m, reach, c, n);
        Backend be = t.backend();
        int out = reach[0];
        Var y = t.output("chebyshevFilter", t.needsGrad(x), out, d);
        be.scale((long) out * d, c[0], x.value.data(), 0, y.value.data(), 0);
        if (p >= 1) {
            // temporaries, released on return: every T_q X (q >= 1) lives on at most the first reach[p-1] rows
            Scratch.Mark mark = t.scratch().mark();
            int rows0 = reach[p - 1];
            Tensor prev = x.value, cur = t.scratch().uninitialized(rows0, d), next = p >= 2 ? t.scratch().uninitialized(rows0, d) : null;
            be.spmm(reach[p - 1], d, m.ptr(), m.col(), m.val(), x.value.data(), 0, d, 0f, cur.data(), 0, d);
            be.axpy((long) out * d, c[1], cur.data(), 0, y.value.data(), 0);
            for (int q = 1; q < p; q++) {
                int rows = reach[p - q - 1];
                // next = 2 M cur - prev = 2 (M cur - prev / 2)
                be.copy((long) rows * d, prev.data(), 0, next.data(), 0);
                be.spmm(rows, d, m.ptr(), m.col(), m.val(), cur.data(), 0, d, -0.5f, next.data(), 0, d);
                be.scale((long) rows * d, 2f, next.data(), 0, next.data(), 0);
                be.axpy((long) out * d, c[q + 1], next.data(), 0, y.value.data(), 0);
                Tensor free = prev == x.value ? t.scratch().uninitialized(rows0, d) : prev;
                prev = cur;
                cur = next;
                next = free;
            }
            t.scratch().release(mark);
        }
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g == null) return;
            Tensor gx = t.gradOf(x);
            be.axpy((long) out * d, c[0], g.data(), 0, gx.data(), 0);
            if (p == 0) return;
            Scratch.Mark mark = t.scratch().mark();
            if (p == 1) {
                // one product, straight from dY: one temporary of the reach[1] rows it fills
                Tensor u1 = t.scratch().uninitialized(reach[1], d);
                be.spmmT(reach[0], reach[1], d, m.ptr(), m.col(), m.val(), g.data(), 0, d, 0f, u1.data(), 0, d);
                be.axpy((long) reach[1] * d, c[1], u1.data(), 0, gx.data(), 0);
                t.scratch().release(mark);
                return;
            }
            // U_0 = dY_ext (support reach[0]); U_1 = M^T U_0 (support reach[1]); ...
            Tensor prev = t.scratch().zeros(n, d), cur = t.scratch().zeros(n, d), next = t.scratch().zeros(n, d);
            be.copy((long) out * d, g.data(), 0, prev.data(), 0);
            be.spmmT(reach[0], reach[1], d, m.ptr(), m.col(), m.val(), prev.data(), 0, d, 0f, cur.data(), 0, d);
            be.axpy((long) reach[1] * d, c[1], cur.data(), 0, gx.data(), 0);
            for (int q = 1; q < p; q++) {
                int src = reach[q], dst = reach[q + 1];
                // next = 2 M^T cur - prev on the first dst rows (prev is zero beyond reach[q-1])
                be.copy((long) dst * d, prev.data(), 0, next.data(), 0);
                be.spmmT(src, dst, d, m.ptr(), m.col(), m.val(), cur.data(), 0, d, -0.5f, next.data(), 0, d);
                be.scale((long) dst * d, 2f, next.data(), 0, next.data(), 0);
                be.axpy((long) dst * d, c[q + 1], next.data(), 0, gx.data(), 0);
                Tensor free = prev;
                prev = cur;
                cur = next;
                next = free;
            }
            t.scratch().release(mark);
        });
        return y;
    }

    private static void check(SparseMatrix m, int[] reach, float[] c, int n) {
        int p = c.length - 1;
        if (p < 0) throw new IllegalArgumentException("chebyshevFilter: no coefficients");
        if (reach.length != p + 1) throw new IllegalArgumentException("chebyshevFilter: degree " + p + " needs " + (p + 1) + " reach counts, got " + reach.length);
        if (reach[p] != n) throw new IllegalArgumentException("chebyshevFilter: reach[" + p + "] = " + reach[p] + " but X has " + n + " rows");
        for (int k = 0; k < p; k++) {
            if (reach[k] < 0 || reach[k] > reach[k + 1]) throw new IllegalArgumentException("chebyshevFilter: reach must be non-decreasing, got " + java.util.Arrays.toString(reach));
        }
        if (p >= 1) {
            if (m.rows() < reach[p - 1] || m.cols() != n) {
                throw new IllegalArgumentException("chebyshevFilter: M is " + m.rows() + " x " + m.cols() + ", X has " + n + " rows and level p-1 has " + reach[p - 1]);
            }
            for (int k = 0; k < p; k++) {
                int lo = m.ptr()[0], hi = m.ptr()[reach[k]];
                for (int e = lo; e < hi; e++) {
                    if (m.col()[e] >= reach[k + 1]) {
                        throw new IllegalArgumentException("chebyshevFilter: a row within " + k + " hops references column " + m.col()[e]
                                + ", beyond the " + reach[k + 1] + " rows within " + (k + 1) + " hops");
                    }
                }
            }
        }
    }
}
