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
        if (b != null) fillRows(n, out, b.value, y.value);
        be.gemmNN(n, out, in, 1f, x.value.data(), 0, in, w.value.data(), 0, out, b == null ? 0f : 1f, y.value.data(), 0, out);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g == null) return;
            if (x.requiresGrad) be.gemmNT(n, in, out, 1f, g.data(), 0, out, w.value.data(), 0, out, 1f, t.gradOf(x).data(), 0, in);
            if (w.requiresGrad) be.gemmTN(in, out, n, 1f, x.value.data(), 0, in, g.data(), 0, out, 1f, t.gradOf(w).data(), 0, out);
            if (b != null && b.requiresGrad) addColumnSums(n, out, g, t.gradOf(b));
        });
        return y;
    }

    /**
     * Every row of y (n x out) = b: the first row copied, then the filled rows doubled by bulk copies
     * (a backend copy per row had cost a call per row: ~2 % of an HTD epoch, 60 layers a step).
     */
    private static void fillRows(int n, int out, Tensor b, Tensor y) {
        if (n == 0 || out == 0) return;
        long row = (long) out * Float.BYTES;
        java.lang.foreign.MemorySegment dst = y.data();
        java.lang.foreign.MemorySegment.copy(b.data(), 0, dst, 0, row);
        for (long filled = 1; filled < n; filled *= 2) {
            long rows = Math.min(filled, n - filled);
            java.lang.foreign.MemorySegment.copy(dst, 0, dst, filled * row, rows * row);
        }
    }

    /**
     * gb[c] += g[r][c] over the rows in row order, each column in one float accumulator: the
     * same additions, in the same order, as one axpy (fma(1, g, gb) = g + gb) per row, which had cost a
     * backend call per row.
     */
    private static void addColumnSums(int n, int out, Tensor g, Tensor gb) {
        float[] acc = gb.toArray(), row = new float[out];
        for (int r = 0; r < n; r++) {
            kdrec.cpu.Mem.copyOut(g.data(), (long) r * out, row, 0, out);
            for (int c = 0; c < out; c++) acc[c] += row[c];
        }
        kdrec.cpu.Mem.copyIn(acc, 0, gb.data(), 0, out);
    }
}
