package kdrec.autograd;

import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * Expert selection of DE and HTD (Kang et al.): {@code π = softmax(a)} of a selection net's logits
 * a (n x E), then {@code z = softmax((log(π + 1e-10) + g) / T)} with Gumbel noise g; and the mix
 * {@code Σ_m z[:, m] * f_m} of the experts' outputs. Computed in double per row; annealing T to
 * 1e-10 makes z one-hot, where the softmax Jacobian (and so the gradient into a) vanishes exactly.
 */
public final class GumbelSoftmax {
    private GumbelSoftmax() {}

    static final double EPS = 1e-10;

    /** z (n x E) from logits a (n x E), noise g (n*E, row-major) and temperature T > 0. */
    public static Var select(Tape t, Var a, double[] g, double temp) {
        Shapes.matrix("gumbelSoftmax", a.value);
        int n = a.value.rows(), e = a.value.cols();
        if (g.length != n * e) throw new IllegalArgumentException("gumbelSoftmax: " + g.length + " noise values for " + n + " x " + e);
        if (!(temp > 0)) throw new IllegalArgumentException("gumbelSoftmax: temperature must be > 0, got " + temp);
        double[] pi = new double[n * e], z = new double[n * e];
        Var y = t.output("gumbelSoftmax", t.needsGrad(a), n, e);
        for (int r = 0; r < n; r++) {
            int o = r * e;
            softmax(a.value, o, e, 1, null, 0, pi, o);
            double max = Double.NEGATIVE_INFINITY;
            for (int m = 0; m < e; m++) max = Math.max(max, (Math.log(pi[o + m] + EPS) + g[o + m]) / temp);
            double sum = 0;
            for (int m = 0; m < e; m++) sum += z[o + m] = Math.exp((Math.log(pi[o + m] + EPS) + g[o + m]) / temp - max);
            for (int m = 0; m < e; m++) {
                z[o + m] /= sum;
                y.value.set(o + m, (float) z[o + m]);
            }
        }
        if (y.requiresGrad) t.record(() -> {
            Tensor gy = y.grad();
            if (gy == null) return;
            Tensor ga = t.gradOf(a);
            for (int r = 0; r < n; r++) {
                int o = r * e;
                double dz = 0, dp = 0;
                for (int m = 0; m < e; m++) dz += gy.get(o + m) * z[o + m];
                double[] dpi = new double[e];
                for (int m = 0; m < e; m++) {
                    double du = z[o + m] * (gy.get(o + m) - dz); // through the outer softmax
                    dpi[m] = du / temp / (pi[o + m] + EPS);       // through log(π + eps) / T
                    dp += dpi[m] * pi[o + m];
                }
                for (int m = 0; m < e; m++) ga.set(o + m, (float) (ga.get(o + m) + pi[o + m] * (dpi[m] - dp)));
            }
        });
        return y;
    }

    private static void softmax(Tensor a, int off, int e, double scale, double[] add, int addOff, double[] out, int outOff) {
        double max = Double.NEGATIVE_INFINITY;
        for (int m = 0; m < e; m++) max = Math.max(max, a.get(off + m) * scale);
        double sum = 0;
        for (int m = 0; m < e; m++) sum += out[outOff + m] = Math.exp(a.get(off + m) * scale - max);
        for (int m = 0; m < e; m++) out[outOff + m] /= sum;
    }

    /** {@code out[i] = Σ_m z[i, m] f_m[i]} for z (n x E) and E experts' outputs (n x d each). */
    public static Var mix(Tape t, Var z, Var[] f) {
        Shapes.matrix("mix", z.value);
        int n = z.value.rows(), e = z.value.cols();
        if (f.length != e) throw new IllegalArgumentException("mix: " + f.length + " experts for " + e + " weights per row");
        int d = f[0].value.cols();
        for (Var v : f) if (v.value.rows() != n || v.value.cols() != d) throw Shapes.mismatch("mix", "experts' outputs must be n x d", f[0].value, v.value);
        Var[] inputs = new Var[e + 1];
        System.arraycopy(f, 0, inputs, 0, e);
        inputs[e] = z;
        Var y = t.output("mix", t.needsGrad(inputs), n, d);
        float[] zv = z.value.toArray();
        float[][] fv = new float[e][];
        for (int m = 0; m < e; m++) fv[m] = f[m].value.toArray();
        float[] out = new float[n * d];
        int perTask = Math.max(1, (1 << 16) / Math.max(1, e * d)); // rows are independent: any split, the same bits
        kdrec.cpu.Parallel.forRange(n, 1, perTask, (lo, hi) -> {
            for (int r = lo; r < hi; r++) for (int m = 0; m < e; m++) {
                float w = zv[r * e + m];
                if (w == 0f) continue;
                for (int c = 0, o = r * d; c < d; c++, o++) out[o] += w * fv[m][o];
            }
        });
        kdrec.cpu.Mem.copyIn(out, 0, y.value.data(), 0, out.length);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g == null) return;
            float[] gv = g.toArray(), gf = new float[n * d];
            Tensor buf = t.scratch().uninitialized(n, d);
            for (int m = 0; m < e; m++) {
                if (f[m].requiresGrad) {
                    int mm = m;
                    kdrec.cpu.Parallel.forRange(n, 1, Math.max(1, (1 << 16) / Math.max(1, d)), (lo, hi) -> {
                        for (int r = lo; r < hi; r++) {
                            float w = zv[r * e + mm];
                            for (int c = 0, o = r * d; c < d; c++, o++) gf[o] = w * gv[o];
                        }
                    });
                    kdrec.cpu.Mem.copyIn(gf, 0, buf.data(), 0, gf.length);
                    t.backend().axpy((long) n * d, 1f, buf.data(), 0, t.gradOf(f[m]).data(), 0);
                }
            }
            if (z.requiresGrad) {
                double[] dz = new double[n * e];
                kdrec.cpu.Parallel.forRange(n, 1, perTask, (lo, hi) -> {
                    for (int r = lo; r < hi; r++) for (int m = 0; m < e; m++) {
                        double s = 0;
                        for (int c = 0, o = r * d; c < d; c++, o++) s += (double) gv[o] * fv[m][o];
                        dz[r * e + m] = s;
                    }
                });
                Tensor gz = t.gradOf(z);
                for (int i = 0; i < n * e; i++) gz.set(i, (float) (gz.get(i) + dz[i]));
            }
        });
        return y;
    }

    /** Standard Gumbel(0, 1) noise, -log(-log U), from a generator. */
    public static double[] noise(java.util.SplittableRandom rng, int count) {
        double[] g = new double[count];
        for (int i = 0; i < count; i++) {
            double u = rng.nextDouble();
            while (u == 0.0) u = rng.nextDouble();
            g[i] = -Math.log(-Math.log(u));
        }
        return g;
    }
}
