package kdrec.autograd;

import kdrec.tensor.Backend;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/** Layer norm over the last axis (optional affine) and inverted dropout with a counter-based mask. */
public final class Norm {
    private Norm() {}

    /** Layer norm of each row of x ([rows, d] or [b, t, d]); gamma and beta ([d]) may be null. */
    public static Var layerNorm(Tape t, Var x, Var gamma, Var beta, float eps) {
        int d = x.value.cols(), rows = x.value.rows();
        if (gamma != null && gamma.value.size() != d) throw Shapes.mismatch("layerNorm", "gamma length must equal the row width", x.value, gamma.value);
        if (beta != null && beta.value.size() != d) throw Shapes.mismatch("layerNorm", "beta length must equal the row width", x.value, beta.value);
        Backend be = t.backend();
        float[] mean = new float[rows], rstd = new float[rows];
        Var y = t.output("layerNorm", t.needsGrad(x, gamma, beta), x.value.shape());
        be.layerNorm(rows, d, x.value.data(), 0, d, gamma == null ? null : gamma.value.data(), 0,
                beta == null ? null : beta.value.data(), 0, eps, y.value.data(), 0, d, mean, rstd);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g == null) return;
            be.layerNormBackward(rows, d, x.value.data(), 0, d, gamma == null ? null : gamma.value.data(), 0, mean, rstd,
                    g.data(), 0, d, x.requiresGrad ? t.gradOf(x).data() : null, 0, d,
                    gamma != null && gamma.requiresGrad ? t.gradOf(gamma).data() : null, 0,
                    beta != null && beta.requiresGrad ? t.gradOf(beta).data() : null, 0);
        });
        return y;
    }

    /**
     * Inverted dropout: keeps each element with probability 1-p (scaled by 1/(1-p)); the mask is a
     * pure function of (seed, element index), so the backward recomputes it instead of storing it.
     * Identity when p == 0 (evaluation).
     */
    public static Var dropout(Tape t, Var x, float p, long seed) {
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        if (p == 0f) return x;
        Backend be = t.backend();
        long n = x.value.size();
        Var y = t.output("dropout", t.needsGrad(x), x.value.shape());
        be.dropout(n, x.value.data(), 0, y.value.data(), 0, p, seed);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g != null) be.dropoutBackward(n, g.data(), 0, t.gradOf(x).data(), 0, p, seed);
        });
        return y;
    }

    /**
     * Each row divided by its L2 norm, clamped below at {@code eps}: {@code y = x / max(|x|, eps)}
     * (HSTU's output and item normalisation, so that scores are cosines).
     */
    public static Var l2Rows(Tape t, Var x, float eps) {
        int d = x.value.cols(), rows = x.value.rows();
        Backend be = t.backend();
        float[] norm = new float[rows];
        Var y = t.output("l2Rows", t.needsGrad(x), x.value.shape());
        for (int r = 0; r < rows; r++) {
            long o = (long) r * d;
            norm[r] = (float) Math.max(Math.sqrt(be.dot(d, x.value.data(), o, x.value.data(), o)), eps);
            be.scale(d, 1f / norm[r], x.value.data(), o, y.value.data(), o);
        }
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g == null) return;
            Tensor gx = t.gradOf(x);
            for (int r = 0; r < rows; r++) {
                long o = (long) r * d;
                // inside the clamp the norm is a constant: d/dx = g / eps
                float inv = 1f / norm[r];
                boolean clamped = norm[r] == eps && Math.sqrt(be.dot(d, x.value.data(), o, x.value.data(), o)) < eps;
                float proj = clamped ? 0f : (float) be.dot(d, y.value.data(), o, g.data(), o);
                be.axpy(d, inv, g.data(), o, gx.data(), o);
                if (proj != 0f) be.axpy(d, -proj * inv, y.value.data(), o, gx.data(), o);
            }
        });
        return y;
    }
}
