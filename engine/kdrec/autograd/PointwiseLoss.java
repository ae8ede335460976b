package kdrec.autograd;

import kdrec.cpu.Mem;
import kdrec.tensor.Tensor;

/**
 * Elementwise losses of the pointwise/pairwise KD baselines, with the reference code's epsilon
 * inside the logarithms (CD: {@code log(sigmoid(s) + 1e-10)}, UnKD: {@code log(sigmoid(d) + 1e-10)}).
 * The epsilon bounds each loss and damps its gradient where the sigmoid saturates, so it is part of
 * the method, not a numerical guard: plain {@link Activations#logSigmoid} differs there. Forward and
 * the local derivative are computed together in double; backward multiplies by the upstream gradient.
 */
public final class PointwiseLoss {
    private PointwiseLoss() {}

    /**
     * Soft-label binary cross-entropy per element:
     * {@code -(y log(sigmoid(x) + eps) + (1 - y) log(1 - sigmoid(x) + eps))}, labels {@code y} fixed.
     */
    public static Var softBce(Tape t, Var x, float[] y, float eps) {
        int n = checked("softBce", x, eps);
        if (y.length != n) throw new IllegalArgumentException("softBce: " + y.length + " labels for " + n + " logits");
        float[] xv = x.value.toArray(), out = new float[n], d = new float[n];
        for (int i = 0; i < n; i++) {
            double p = sigmoid(xv[i]), q = sigmoid(-xv[i]), yi = y[i]; // q = 1 - p without cancellation
            out[i] = (float) -(yi * Math.log(p + eps) + (1 - yi) * Math.log(q + eps));
            d[i] = (float) (-p * q * (yi / (p + eps) - (1 - yi) / (q + eps)));
        }
        return finish(t, x, "softBce", out, d);
    }

    /** {@code -log(sigmoid(x) + eps)} per element. */
    public static Var negLogSigmoid(Tape t, Var x, float eps) {
        int n = checked("negLogSigmoid", x, eps);
        float[] xv = x.value.toArray(), out = new float[n], d = new float[n];
        for (int i = 0; i < n; i++) {
            double p = sigmoid(xv[i]), q = sigmoid(-xv[i]);
            out[i] = (float) -Math.log(p + eps);
            d[i] = (float) (-p * q / (p + eps));
        }
        return finish(t, x, "negLogSigmoid", out, d);
    }

    private static int checked(String op, Var x, float eps) {
        if (x.value.rank() != 1) throw new IllegalArgumentException(op + ": expects a vector, got rank " + x.value.rank());
        if (!(eps >= 0) || Float.isInfinite(eps)) throw new IllegalArgumentException(op + ": eps must be finite and >= 0, got " + eps);
        return (int) x.value.size();
    }

    private static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    private static Var finish(Tape t, Var x, String op, float[] out, float[] d) {
        int n = out.length;
        Var y = t.output(op, t.needsGrad(x), n);
        Mem.copyIn(out, 0, y.value.data(), 0, n);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g == null) return;
            Tensor gx = t.gradOf(x);
            for (int i = 0; i < n; i++) gx.set(i, gx.get(i) + g.get(i) * d[i]);
        });
        return y;
    }
}
