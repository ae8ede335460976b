package kdrec.autograd;

import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * Row-wise distances of two equally shaped matrices, as a rank-1 tensor of n values (accumulated
 * in double): squared L2 {@code ‖a_i - b_i‖²} and cosine distance {@code 1 - <a_i, b_i> / (max(‖a_i‖, eps)
 * max(‖b_i‖, eps))} (PyTorch's F.normalize then a dot product; FreqD uses eps = 1e-12).
 */
public final class RowDistance {
    private RowDistance() {}

    public static Var squaredL2(Tape t, Var a, Var b) {
        Shapes.same("squaredL2", a.value, b.value);
        int n = a.value.rows(), d = a.value.cols();
        Var y = t.output("squaredL2", t.needsGrad(a, b), n);
        float[] av = a.value.toArray(), bv = b.value.toArray();
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int c = 0, o = i * d; c < d; c++, o++) {
                double z = (double) av[o] - bv[o];
                s += z * z;
            }
            y.value.set(i, (float) s);
        }
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g == null) return;
            Tensor ga = a.requiresGrad ? t.gradOf(a) : null, gb = b.requiresGrad ? t.gradOf(b) : null;
            for (int i = 0; i < n; i++) {
                float gi = g.get(i);
                for (int c = 0, o = i * d; c < d; c++, o++) {
                    float z = 2f * gi * (av[o] - bv[o]);
                    if (ga != null) ga.set(o, ga.get(o) + z);
                    if (gb != null) gb.set(o, gb.get(o) - z);
                }
            }
        });
        return y;
    }

    public static Var cosine(Tape t, Var a, Var b, double eps) {
        Shapes.same("cosineDistance", a.value, b.value);
        int n = a.value.rows(), d = a.value.cols();
        Var y = t.output("cosineDistance", t.needsGrad(a, b), n);
        float[] av = a.value.toArray(), bv = b.value.toArray();
        double[] na = new double[n], nb = new double[n], cos = new double[n];
        boolean[] ca = new boolean[n], cb = new boolean[n]; // norm clamped at eps: no gradient through it
        for (int i = 0; i < n; i++) {
            double aa = 0, bb = 0, ab = 0;
            for (int c = 0, o = i * d; c < d; c++, o++) {
                aa += (double) av[o] * av[o];
                bb += (double) bv[o] * bv[o];
                ab += (double) av[o] * bv[o];
            }
            double ra = Math.sqrt(aa), rb = Math.sqrt(bb);
            ca[i] = ra <= eps;
            cb[i] = rb <= eps;
            na[i] = Math.max(ra, eps);
            nb[i] = Math.max(rb, eps);
            cos[i] = ab / (na[i] * nb[i]);
            y.value.set(i, (float) (1 - cos[i]));
        }
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g == null) return;
            Tensor ga = a.requiresGrad ? t.gradOf(a) : null, gb = b.requiresGrad ? t.gradOf(b) : null;
            for (int i = 0; i < n; i++) {
                double gi = -g.get(i); // d(1 - cos) = -dcos
                // dcos/da = b / (na nb) - cos a / na² (second term only where ‖a‖ > eps); symmetric for b
                double pa = gi / (na[i] * nb[i]), qa = ca[i] ? 0 : gi * cos[i] / (na[i] * na[i]);
                double qb = cb[i] ? 0 : gi * cos[i] / (nb[i] * nb[i]);
                for (int c = 0, o = i * d; c < d; c++, o++) {
                    if (ga != null) ga.set(o, (float) (ga.get(o) + pa * bv[o] - qa * av[o]));
                    if (gb != null) gb.set(o, (float) (gb.get(o) + pa * av[o] - qb * bv[o]));
                }
            }
        });
        return y;
    }
}
