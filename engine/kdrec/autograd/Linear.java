package kdrec.autograd;

import kdrec.tensor.Backend;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * A dense layer {@code y = x.W + b} (x: n x in, W: in x out, b: out or null) in one output tensor
 * (a projector from 20 to 2000 wide keeps one n x 2000 intermediate per layer, not two).
 */
public final class Linear {
    private Linear() {}

    public static Var apply(Tape t, Var x, Var w, Var b) {
        Shapes.matrix("linear", x.value);
        Shapes.matrix("linear", w.value);
        int n = x.value.rows(), in = x.value.cols(), out = w.value.cols();
        if (w.value.rows() != in) throw Shapes.mismatch("linear", "x's width must equal W's rows", x.value, w.value);
        if (b != null && b.value.size() != out) throw Shapes.mismatch("linear", "bias length must equal W's columns", w.value, b.value);
        Backend be = t.backend();
        Var y = t.output("linear", t.needsGrad(x, w, b), n, out);
        if (b != null) for (int r = 0; r < n; r++) be.copy(out, b.value.data(), 0, y.value.data(), (long) r * out);
        be.gemmNN(n, out, in, 1f, x.value.data(), 0, in, w.value.data(), 0, out, b == null ? 0f : 1f, y.value.data(), 0, out);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g == null) return;
            if (x.requiresGrad) be.gemmNT(n, in, out, 1f, g.data(), 0, out, w.value.data(), 0, out, 1f, t.gradOf(x).data(), 0, in);
            if (w.requiresGrad) be.gemmTN(in, out, n, 1f, x.value.data(), 0, in, g.data(), 0, out, 1f, t.gradOf(w).data(), 0, out);
            if (b != null && b.requiresGrad) {
                Tensor gb = t.gradOf(b);
                for (int r = 0; r < n; r++) be.axpy(out, 1f, g.data(), (long) r * out, gb.data(), 0);
            }
        });
        return y;
    }
}
