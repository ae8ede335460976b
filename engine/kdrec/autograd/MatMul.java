package kdrec.autograd;

import kdrec.tensor.Backend;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * Matrix products in the three layouts, each with its backward beside it:
 * nn: A[m,k].B[k,n]; nt: A[m,k].B[n,k]^T; tn: A[k,m]^T.B[k,n]. Gradients go straight into the
 * inputs' gradient buffers through GEMM with beta = 1 (no temporary).
 */
public final class MatMul {
    private MatMul() {}

    public static Var nn(Tape t, Var a, Var b) {
        Shapes.matrix("matmul nn", a.value);
        Shapes.matrix("matmul nn", b.value);
        int m = a.value.dim(0), k = a.value.dim(1), n = b.value.dim(1);
        if (b.value.dim(0) != k) throw Shapes.mismatch("matmul nn", "inner dimensions differ", a.value, b.value);
        Backend be = t.backend();
        Var c = t.output("matmul_nn", t.needsGrad(a, b), m, n);
        be.gemmNN(m, n, k, 1f, a.value.data(), 0, k, b.value.data(), 0, n, 0f, c.value.data(), 0, n);
        if (c.requiresGrad) t.record(() -> {
            Tensor g = c.grad();
            if (g == null) return;
            if (a.requiresGrad) be.gemmNT(m, k, n, 1f, g.data(), 0, n, b.value.data(), 0, n, 1f, t.gradOf(a).data(), 0, k);
            if (b.requiresGrad) be.gemmTN(k, n, m, 1f, a.value.data(), 0, k, g.data(), 0, n, 1f, t.gradOf(b).data(), 0, n);
        });
        return c;
    }

    public static Var nt(Tape t, Var a, Var b) {
        Shapes.matrix("matmul nt", a.value);
        Shapes.matrix("matmul nt", b.value);
        int m = a.value.dim(0), k = a.value.dim(1), n = b.value.dim(0);
        if (b.value.dim(1) != k) throw Shapes.mismatch("matmul nt", "inner dimensions differ", a.value, b.value);
        Backend be = t.backend();
        Var c = t.output("matmul_nt", t.needsGrad(a, b), m, n);
        be.gemmNT(m, n, k, 1f, a.value.data(), 0, k, b.value.data(), 0, k, 0f, c.value.data(), 0, n);
        if (c.requiresGrad) t.record(() -> {
            Tensor g = c.grad();
            if (g == null) return;
            if (a.requiresGrad) be.gemmNN(m, k, n, 1f, g.data(), 0, n, b.value.data(), 0, k, 1f, t.gradOf(a).data(), 0, k);
            if (b.requiresGrad) be.gemmTN(n, k, m, 1f, g.data(), 0, n, a.value.data(), 0, k, 1f, t.gradOf(b).data(), 0, k);
        });
        return c;
    }

    public static Var tn(Tape t, Var a, Var b) {
        Shapes.matrix("matmul tn", a.value);
        Shapes.matrix("matmul tn", b.value);
        int k = a.value.dim(0), m = a.value.dim(1), n = b.value.dim(1);
        if (b.value.dim(0) != k) throw Shapes.mismatch("matmul tn", "inner dimensions differ", a.value, b.value);
        Backend be = t.backend();
        Var c = t.output("matmul_tn", t.needsGrad(a, b), m, n);
        be.gemmTN(m, n, k, 1f, a.value.data(), 0, m, b.value.data(), 0, n, 0f, c.value.data(), 0, n);
        if (c.requiresGrad) t.record(() -> {
            Tensor g = c.grad();
            if (g == null) return;
            if (a.requiresGrad) be.gemmNT(k, m, n, 1f, b.value.data(), 0, n, g.data(), 0, n, 1f, t.gradOf(a).data(), 0, m);
            if (b.requiresGrad) be.gemmNN(k, n, m, 1f, a.value.data(), 0, m, g.data(), 0, n, 1f, t.gradOf(b).data(), 0, n);
        });
        return c;
    }
}
