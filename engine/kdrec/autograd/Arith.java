package kdrec.autograd;

import kdrec.tensor.Backend;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * Elementwise arithmetic and reductions: add, sub, mul, scale, row-broadcast bias, sum, mean,
 * weighted sum of per-row values. Same-shape operands only (no general broadcasting: the models
 * need none beyond a bias row).
 */
public final class Arith {
    private Arith() {}

    public static Var add(Tape t, Var a, Var b) {
        Shapes.same("add", a.value, b.value);
        Backend be = t.backend();
        long n = a.value.size();
        Var c = t.output("add", t.needsGrad(a, b), a.value.shape());
        be.add(n, a.value.data(), 0, b.value.data(), 0, c.value.data(), 0);
        if (c.requiresGrad) t.record(() -> {
            Tensor g = c.grad();
            if (g == null) return;
            if (a.requiresGrad) be.axpy(n, 1f, g.data(), 0, t.gradOf(a).data(), 0);
            if (b.requiresGrad) be.axpy(n, 1f, g.data(), 0, t.gradOf(b).data(), 0);
        });
        return c;
    }

    public static Var sub(Tape t, Var a, Var b) {
        Shapes.same("sub", a.value, b.value);
        Backend be = t.backend();
        long n = a.value.size();
        Var c = t.output("sub", t.needsGrad(a, b), a.value.shape());
        be.sub(n, a.value.data(), 0, b.value.data(), 0, c.value.data(), 0);
        if (c.requiresGrad) t.record(() -> {
            Tensor g = c.grad();
            if (g == null) return;
            if (a.requiresGrad) be.axpy(n, 1f, g.data(), 0, t.gradOf(a).data(), 0);
            if (b.requiresGrad) be.axpy(n, -1f, g.data(), 0, t.gradOf(b).data(), 0);
        });
        return c;
    }

    public static Var mul(Tape t, Var a, Var b) {
        Shapes.same("mul", a.value, b.value);
        Backend be = t.backend();
        long n = a.value.size();
        Var c = t.output("mul", t.needsGrad(a, b), a.value.shape());
        be.mul(n, a.value.data(), 0, b.value.data(), 0, c.value.data(), 0);
        if (c.requiresGrad) t.record(() -> {
            Tensor g = c.grad();
            if (g == null) return;
            if (a.requiresGrad) be.addMul(n, g.data(), 0, b.value.data(), 0, t.gradOf(a).data(), 0);
            if (b.requiresGrad) be.addMul(n, g.data(), 0, a.value.data(), 0, t.gradOf(b).data(), 0);
        });
        return c;
    }

    public static Var scale(Tape t, Var a, float alpha) {
        Backend be = t.backend();
        long n = a.value.size();
        Var c = t.output("scale", t.needsGrad(a), a.value.shape());
        be.scale(n, alpha, a.value.data(), 0, c.value.data(), 0);
        if (c.requiresGrad) t.record(() -> {
            Tensor g = c.grad();
            if (g != null) be.axpy(n, alpha, g.data(), 0, t.gradOf(a).data(), 0);
        });
        return c;
    }

    /** x[r, :] + bias for every row r (x is [rows, d], bias is [d]). */
    public static Var addBias(Tape t, Var x, Var bias) {
        int d = x.value.cols(), rows = x.value.rows();
        if (bias.value.size() != d) throw Shapes.mismatch("addBias", "bias length must equal the row width", x.value, bias.value);
        Backend be = t.backend();
        Var c = t.output("addBias", t.needsGrad(x, bias), x.value.shape());
        for (int r = 0; r < rows; r++) {
            be.add(d, x.value.data(), (long) r * d, bias.value.data(), 0, c.value.data(), (long) r * d);
        }
        if (c.requiresGrad) t.record(() -> {
            Tensor g = c.grad();
            if (g == null) return;
            if (x.requiresGrad) be.axpy((long) rows * d, 1f, g.data(), 0, t.gradOf(x).data(), 0);
            if (bias.requiresGrad) {
                Tensor gb = t.gradOf(bias);
                for (int r = 0; r < rows; r++) be.axpy(d, 1f, g.data(), (long) r * d, gb.data(), 0);
            }
        });
        return c;
    }

    /** Stacks the rows of a on top of the rows of b (same width). */
    public static Var concatRows(Tape t, Var a, Var b) {
        Shapes.matrix("concatRows", a.value);
        Shapes.matrix("concatRows", b.value);
        int d = a.value.cols();
        if (b.value.cols() != d) throw Shapes.mismatch("concatRows", "row widths differ", a.value, b.value);
        Backend be = t.backend();
        long na = a.value.size(), nb = b.value.size();
        Var c = t.output("concatRows", t.needsGrad(a, b), a.value.rows() + b.value.rows(), d);
        be.copy(na, a.value.data(), 0, c.value.data(), 0);
        be.copy(nb, b.value.data(), 0, c.value.data(), na);
        if (c.requiresGrad) t.record(() -> {
            Tensor g = c.grad();
            if (g == null) return;
            if (a.requiresGrad) be.axpy(na, 1f, g.data(), 0, t.gradOf(a).data(), 0);
            if (b.requiresGrad) be.axpy(nb, 1f, g.data(), na, t.gradOf(b).data(), 0);
        });
        return c;
    }

    /** Rows [from, to) of a matrix, as a view; the gradient flows back into those rows. */
    public static Var rowSlice(Tape t, Var x, int from, int to) {
        Shapes.matrix("rowSlice", x.value);
        Tensor view = x.value.rowRange(from, to);
        Var y = Var.intermediate("rowSlice", view, t.needsGrad(x));
        Backend be = t.backend();
        long off = (long) from * x.value.cols(), n = view.size();
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g != null) be.axpy(n, 1f, g.data(), 0, t.gradOf(x).data(), off);
        });
        return y;
    }

    /** Sum of all elements, as a [1] tensor (accumulated in double by the kernel). */
    public static Var sum(Tape t, Var a) {
        return reduce(t, a, 1f, "sum");
    }

    /** Mean of all elements, as a [1] tensor. */
    public static Var mean(Tape t, Var a) {
        long n = a.value.size();
        return reduce(t, a, n == 0 ? 0f : (float) (1.0 / n), "mean");
    }

    private static Var reduce(Tape t, Var a, float factor, String op) {
        Backend be = t.backend();
        long n = a.value.size();
        Var c = t.output(op, t.needsGrad(a), 1);
        c.value.set(0, (float) (be.sum(n, a.value.data(), 0) * factor));
        if (c.requiresGrad) t.record(() -> {
            Tensor g = c.grad();
            if (g == null) return;
            Tensor ga = t.gradOf(a);
            float gv = g.get(0) * factor;
            Tensor ones = t.scratch().uninitialized(a.value.shape());
            be.fill(n, ones.data(), 0, gv);
            be.axpy(n, 1f, ones.data(), 0, ga.data(), 0);
        });
        return c;
    }

    /** Sum over rows of {@code w[r] * a[r]} for a rank-1 {@code a}; a [1] tensor. */
    public static Var weightedSum(Tape t, Var a, float[] w) {
        long n = a.value.size();
        if (a.value.rank() != 1 || w.length != n) {
            throw new IllegalArgumentException("weightedSum: weights of length " + w.length + " for shape " + Shapes.str(a.value.shape()));
        }
        Backend be = t.backend();
        Tensor wt = t.scratch().uninitialized((int) n);
        kdrec.cpu.Mem.copyIn(w, 0, wt.data(), 0, (int) n);
        Var c = t.output("weightedSum", t.needsGrad(a), 1);
        c.value.set(0, (float) be.dot(n, a.value.data(), 0, wt.data(), 0));
        if (c.requiresGrad) t.record(() -> {
            Tensor g = c.grad();
            if (g != null) be.axpy(n, g.get(0), wt.data(), 0, t.gradOf(a).data(), 0);
        });
        return c;
    }
}
