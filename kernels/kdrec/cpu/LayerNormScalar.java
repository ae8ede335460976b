package kdrec.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Layer normalisation over the last dimension, plain scalar Java: the oracle and baseline for
 * {@link LayerNormSimd} (identical signatures). Single-threaded.
 *
 * <p>Row r of x is {@code x[xOff + r*ldx + j]}, j in [0, d) (likewise y, dy, dx with their own
 * leading dimensions). Forward: {@code y = (x - mean) * rstd * gamma + beta}, with the biased
 * variance (divide by d) and {@code rstd = 1 / sqrt(var + eps)}; mean and rstd are saved per row for
 * backward. gamma/beta may be null (no affine: gamma = 1, beta = 0). y may be the same range as x.
 * Statistics and outputs are evaluated in double (two-pass mean/variance), rounded once to float.
 *
 * <p>Backward, from the saved mean/rstd and with g = dy * gamma, xhat = (x - mean) * rstd:
 * {@code dx += rstd * (g - mean(g) - xhat * mean(g * xhat))}, {@code dgamma += sum_rows dy * xhat},
 * {@code dbeta += sum_rows dy}; each of dx, dgamma, dbeta may be null (not computed). The column sums
 * run over rows in order, in double, added to dgamma/dbeta once.
 */
public final class LayerNormScalar {
    private LayerNormScalar() {}

    /** y = (x - mean) * rstd * gamma + beta per row; gamma/beta may be null (no affine). Saves mean and rstd per row. */
    public static void forward(int rows, int d, MemorySegment x, long xOff, int ldx, MemorySegment gamma, long gOff,
                               MemorySegment beta, long bOff, float eps, MemorySegment y, long yOff, int ldy, float[] mean, float[] rstd) {
        checkForward("LayerNormScalar.forward", rows, d, x, xOff, ldx, gamma, gOff, beta, bOff, eps, y, yOff, ldy, mean, rstd);
        for (int r = 0; r < rows; r++) {
            long xo = xOff + (long) r * ldx, yo = yOff + (long) r * ldy;
            double s = 0;
            for (int j = 0; j < d; j++) s += Mem.get(x, xo + j);
            double mu = s / d;
            double ss = 0;
            for (int j = 0; j < d; j++) {
                double c = Mem.get(x, xo + j) - mu;
                ss += c * c;
            }
            double rs = 1.0 / Math.sqrt(ss / d + eps);
            mean[r] = (float) mu;
            rstd[r] = (float) rs;
            for (int j = 0; j < d; j++) {
                double v = (Mem.get(x, xo + j) - mu) * rs;
                if (gamma != null) v *= Mem.get(gamma, gOff + j);
                if (beta != null) v += Mem.get(beta, bOff + j);
                Mem.set(y, yo + j, (float) v);
            }
        }
    }

    /** Accumulates dx (+=), dgamma (+=), dbeta (+=) (any may be null) from dy, using the saved mean and rstd. */
    public static void backward(int rows, int d, MemorySegment x, long xOff, int ldx, MemorySegment gamma, long gOff,
                                float[] mean, float[] rstd, MemorySegment dy, long dyOff, int lddy,
                                MemorySegment dx, long dxOff, int lddx, MemorySegment dgamma, long dgOff, MemorySegment dbeta, long dbOff) {
        checkBackward("LayerNormScalar.backward", rows, d, x, xOff, ldx, gamma, gOff, mean, rstd, dy, dyOff, lddy,
                dx, dxOff, lddx, dgamma, dgOff, dbeta, dbOff);
        if (dx != null) {
            for (int r = 0; r < rows; r++) {
                long xo = xOff + (long) r * ldx, yo = dyOff + (long) r * lddy, o = dxOff + (long) r * lddx;
                double mu = mean[r], rs = rstd[r], sg = 0, sgx = 0;
                for (int j = 0; j < d; j++) {
                    double g = Mem.get(dy, yo + j) * (gamma == null ? 1.0 : Mem.get(gamma, gOff + j));
                    sg += g;
                    sgx += g * (Mem.get(x, xo + j) - mu) * rs;
                }
                double mg = sg / d, mgx = sgx / d;
                for (int j = 0; j < d; j++) {
                    double g = Mem.get(dy, yo + j) * (gamma == null ? 1.0 : Mem.get(gamma, gOff + j));
                    double xhat = (Mem.get(x, xo + j) - mu) * rs;
                    Mem.set(dx, o + j, (float) (Mem.get(dx, o + j) + rs * (g - mg - xhat * mgx)));
                }
            }
        }
        if (dgamma != null || dbeta != null) {
            for (int j = 0; j < d; j++) {
                double sg = 0, sb = 0;
                for (int r = 0; r < rows; r++) {
                    double g = Mem.get(dy, dyOff + (long) r * lddy + j);
                    sg += g * (Mem.get(x, xOff + (long) r * ldx + j) - (double) mean[r]) * rstd[r];
                    sb += g;
                }
                if (dgamma != null) Mem.set(dgamma, dgOff + j, (float) (Mem.get(dgamma, dgOff + j) + sg));
                if (dbeta != null) Mem.set(dbeta, dbOff + j, (float) (Mem.get(dbeta, dbOff + j) + sb));
            }
        }
    }

    // ---- argument checks, shared with LayerNormSimd ----------------------------------------------

    static void checkForward(String k, int rows, int d, MemorySegment x, long xOff, int ldx, MemorySegment gamma, long gOff,
                             MemorySegment beta, long bOff, float eps, MemorySegment y, long yOff, int ldy, float[] mean, float[] rstd) {
        checkDims(k, rows, d);
        if (!(eps >= 0f) || Float.isInfinite(eps)) throw new IllegalArgumentException(k + ": eps = " + eps + " must be finite and >= 0");
        checkMatrix(k, "x", x, xOff, ldx, rows, d);
        checkMatrix(k, "y", y, yOff, ldy, rows, d);
        if (gamma != null) checkMatrix(k, "gamma", gamma, gOff, d, 1, d);
        if (beta != null) checkMatrix(k, "beta", beta, bOff, d, 1, d);
        checkStats(k, mean, rstd, rows);
    }

    static void checkBackward(String k, int rows, int d, MemorySegment x, long xOff, int ldx, MemorySegment gamma, long gOff,
                              float[] mean, float[] rstd, MemorySegment dy, long dyOff, int lddy,
                              MemorySegment dx, long dxOff, int lddx, MemorySegment dgamma, long dgOff, MemorySegment dbeta, long dbOff) {
        checkDims(k, rows, d);
        checkMatrix(k, "x", x, xOff, ldx, rows, d);
        checkMatrix(k, "dy", dy, dyOff, lddy, rows, d);
        if (gamma != null) checkMatrix(k, "gamma", gamma, gOff, d, 1, d);
        if (dx != null) checkMatrix(k, "dx", dx, dxOff, lddx, rows, d);
        if (dgamma != null) checkMatrix(k, "dgamma", dgamma, dgOff, d, 1, d);
        if (dbeta != null) checkMatrix(k, "dbeta", dbeta, dbOff, d, 1, d);
        checkStats(k, mean, rstd, rows);
    }

    private static void checkDims(String k, int rows, int d) {
        if (rows < 0 || d < 1) throw new IllegalArgumentException(k + ": rows = " + rows + ", d = " + d + " (need rows >= 0, d >= 1)");
    }

    private static void checkStats(String k, float[] mean, float[] rstd, int rows) {
        if (mean == null || rstd == null || mean.length < rows || rstd.length < rows) {
            throw new IllegalArgumentException(k + ": mean and rstd need at least rows = " + rows + " entries, got "
                    + (mean == null ? "null" : mean.length) + " and " + (rstd == null ? "null" : rstd.length));
        }
    }

    private static void checkMatrix(String k, String name, MemorySegment s, long off, int ld, int rows, int d) {
        if (s == null) throw new IllegalArgumentException(k + ": " + name + " is null");
        if (ld < d) throw new IllegalArgumentException(k + ": leading dimension of " + name + " = " + ld + " < d = " + d);
        if (rows == 0) return;
        long span = (long) (rows - 1) * ld + d;
        if (off < 0 || off > Mem.floats(s) - span) {
            throw new IllegalArgumentException(k + ": " + name + " (" + rows + " x " + d + ", ld " + ld + ") at offset " + off
                    + " does not fit a segment of " + Mem.floats(s) + " floats");
        }
    }
}
