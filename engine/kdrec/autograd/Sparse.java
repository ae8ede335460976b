package kdrec.autograd;

import kdrec.tensor.Backend;
import kdrec.tensor.Shapes;
import kdrec.tensor.SparseMatrix;
import kdrec.tensor.Tensor;

/** Sparse-dense products: Y = A.X (backward dX += A^T.dY, by A itself when A is symmetric) and Y = A^T.X. */
public final class Sparse {
    private Sparse() {}

    public static Var spmm(Tape t, SparseMatrix a, Var x) {
        Shapes.matrix("spmm", x.value);
        if (x.value.rows() != a.cols()) {
            throw new IllegalArgumentException("spmm: A is " + a.rows() + " x " + a.cols() + ", X has shape " + Shapes.str(x.value.shape()));
        }
        int d = x.value.cols();
        Backend be = t.backend();
        Var y = t.output("spmm", t.needsGrad(x), a.rows(), d);
        be.spmm(a.rows(), d, a.ptr(), a.col(), a.val(), x.value.data(), 0, d, 0f, y.value.data(), 0, d);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g == null) return;
            Tensor gx = t.gradOf(x);
            if (a.symmetric()) be.spmm(a.rows(), d, a.ptr(), a.col(), a.val(), g.data(), 0, d, 1f, gx.data(), 0, d);
            else be.spmmT(a.rows(), a.cols(), d, a.ptr(), a.col(), a.val(), g.data(), 0, d, 1f, gx.data(), 0, d);
        });
        return y;
    }

    public static Var spmmT(Tape t, SparseMatrix a, Var x) {
        Shapes.matrix("spmmT", x.value);
        if (x.value.rows() != a.rows()) {
            throw new IllegalArgumentException("spmmT: A is " + a.rows() + " x " + a.cols() + ", X has shape " + Shapes.str(x.value.shape()));
        }
        int d = x.value.cols();
        Backend be = t.backend();
        Var y = t.output("spmmT", t.needsGrad(x), a.cols(), d);
        be.spmmT(a.rows(), a.cols(), d, a.ptr(), a.col(), a.val(), x.value.data(), 0, d, 0f, y.value.data(), 0, d);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g != null) be.spmm(a.rows(), d, a.ptr(), a.col(), a.val(), g.data(), 0, d, 1f, t.gradOf(x).data(), 0, d);
        });
        return y;
    }
}
