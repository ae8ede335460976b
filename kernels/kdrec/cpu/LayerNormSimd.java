package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Layer normalisation over the last dimension on the Vector API; {@link LayerNormScalar} is the
 * oracle and documents the layout and formulas (identical signatures).
 *
 * <p>Forward is two-pass per row (mean, then the sum of squared deviations), float accumulators
 * (two per pass, lanes combined in a fixed order rather than {@code reduceLanes}, whose order is
 * unspecified and may differ between JIT tiers). Float is enough at d &lt;= 4096: the two-pass form
 * has no cancellation, and the relative error of a float sum of d/(2*lanes) terms per lane stays
 * ~1e-5 or less.
 *
 * <p>Backward runs in two phases so that no float is ever summed across threads:
 * dx is row-parallel (each row owns its mean(g) and mean(g*xhat)); dgamma/dbeta are column-parallel,
 * chunk boundaries at multiples of the lane count, each column summed over rows in row order
 * ({@code dgamma[j] = fma(dy, xhat, dgamma[j])} row by row). Forward and backward are therefore
 * bit-identical for any thread count.
 */
public final class LayerNormSimd {
    private LayerNormSimd() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Elements of work per task below which a phase stays on the calling thread. */
    static final int PAR_WORK = 1 << 15;

    /** y = (x - mean) * rstd * gamma + beta per row; gamma/beta may be null (no affine). Saves mean and rstd per row. */
    public static void forward(int rows, int d, MemorySegment x, long xOff, int ldx, MemorySegment gamma, long gOff,
                               MemorySegment beta, long bOff, float eps, MemorySegment y, long yOff, int ldy, float[] mean, float[] rstd) {
        LayerNormScalar.checkForward("LayerNormSimd.forward", rows, d, x, xOff, ldx, gamma, gOff, beta, bOff, eps, y, yOff, ldy, mean, rstd);
        Parallel.forRange(rows, 1, minRows(d, x, y, gamma, beta), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                forwardRow(d, x, xOff + (long) r * ldx, gamma, gOff, beta, bOff, eps, y, yOff + (long) r * ldy, mean, rstd, r);
            }
        });
    }

    /** Accumulates dx (+=), dgamma (+=), dbeta (+=) (any may be null) from dy, using the saved mean and rstd. */
    public static void backward(int rows, int d, MemorySegment x, long xOff, int ldx, MemorySegment gamma, long gOff,
                                float[] mean, float[] rstd, MemorySegment dy, long dyOff, int lddy,
                                MemorySegment dx, long dxOff, int lddx, MemorySegment dgamma, long dgOff, MemorySegment dbeta, long dbOff) {
        LayerNormScalar.checkBackward("LayerNormSimd.backward", rows, d, x, xOff, ldx, gamma, gOff, mean, rstd, dy, dyOff, lddy,
                dx, dxOff, lddx, dgamma, dgOff, dbeta, dbOff);
        if (dx != null) {
            Parallel.forRange(rows, 1, minRows(d, x, dy, dx, gamma), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    dxRow(d, x, xOff + (long) r * ldx, gamma, gOff, mean[r], rstd[r], dy, dyOff + (long) r * lddy, dx, dxOff + (long) r * lddx);
                }
            });
        }
        if ((dgamma != null || dbeta != null) && rows > 0) {
            boolean shareable = ElemChunks.gate(0, x, dy, dgamma) == 0 && ElemChunks.gate(0, dbeta) == 0;
            int minCols = shareable ? Math.min(d, Math.max(L, PAR_WORK / rows)) : d;
            Parallel.forRange(d, L, minCols, (c0, c1) ->
                    paramGrads(rows, c0, c1, x, xOff, ldx, mean, rstd, dy, dyOff, lddy, dgamma, dgOff, dbeta, dbOff));
        }
    }

    /** Rows per task: PAR_WORK elements, or all rows when a segment is confined (see ElemChunks.gate). */
    private static int minRows(int d, MemorySegment a, MemorySegment b, MemorySegment c, MemorySegment e) {
        boolean shareable = ElemChunks.gate(0, a, b, c) == 0 && ElemChunks.gate(0, e) == 0;
        return shareable ? Math.max(1, PAR_WORK / d) : Integer.MAX_VALUE;
    }

    // ---- vector kernels ---------------------------------------------------------------------------

    private static FloatVector ld(MemorySegment s, long off) {
        return FloatVector.fromMemorySegment(F, s, Mem.bytes(off), Mem.ORDER);
    }

    /** Lanes added in lane order (deterministic across JIT tiers). */
    private static float lanes(FloatVector v) {
        float s = 0f;
        for (int l = 0; l < L; l++) s += v.lane(l);
        return s;
    }

    static void forwardRow(int d, MemorySegment x, long xo, MemorySegment gamma, long go, MemorySegment beta, long bo,
                           float eps, MemorySegment y, long yo, float[] mean, float[] rstd, int r) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int j = 0;
        for (; j + 2 * L <= d; j += 2 * L) {
            a0 = a0.add(ld(x, xo + j));
            a1 = a1.add(ld(x, xo + j + L));
        }
        for (; j + L <= d; j += L) a0 = a0.add(ld(x, xo + j));
        float s = lanes(a0.add(a1));
        for (; j < d; j++) s += Mem.get(x, xo + j);
        float mu = s / d;

        FloatVector vmu = FloatVector.broadcast(F, mu);
        a0 = FloatVector.zero(F);
        a1 = a0;
        j = 0;
        for (; j + 2 * L <= d; j += 2 * L) {
            FloatVector c0 = ld(x, xo + j).sub(vmu), c1 = ld(x, xo + j + L).sub(vmu);
            a0 = c0.fma(c0, a0);
            a1 = c1.fma(c1, a1);
        }
        for (; j + L <= d; j += L) {
            FloatVector c0 = ld(x, xo + j).sub(vmu);
            a0 = c0.fma(c0, a0);
        }
        float ss = lanes(a0.add(a1));
        for (; j < d; j++) {
            float c = Mem.get(x, xo + j) - mu;
            ss = Math.fma(c, c, ss);
        }
        float rs = (float) (1.0 / Math.sqrt(ss / d + eps));
        mean[r] = mu;
        rstd[r] = rs;

        FloatVector vrs = FloatVector.broadcast(F, rs), one = FloatVector.broadcast(F, 1f), zero = FloatVector.zero(F);
        j = 0;
        for (int ub = F.loopBound(d); j < ub; j += L) {
            FloatVector xhat = ld(x, xo + j).sub(vmu).mul(vrs);
            FloatVector g = gamma == null ? one : ld(gamma, go + j);
            FloatVector b = beta == null ? zero : ld(beta, bo + j);
            xhat.fma(g, b).intoMemorySegment(y, Mem.bytes(yo + j), Mem.ORDER);
        }
        for (; j < d; j++) {
            float xhat = (Mem.get(x, xo + j) - mu) * rs;
            Mem.set(y, yo + j, Math.fma(xhat, gamma == null ? 1f : Mem.get(gamma, go + j), beta == null ? 0f : Mem.get(beta, bo + j)));
        }
    }

    /** dx += rstd * (g - mean(g) - xhat * mean(g * xhat)) for one row, g = dy * gamma. */
    static void dxRow(int d, MemorySegment x, long xo, MemorySegment gamma, long go, float mu, float rs,
                      MemorySegment dy, long yo, MemorySegment dx, long o) {
        FloatVector vmu = FloatVector.broadcast(F, mu), vrs = FloatVector.broadcast(F, rs), one = FloatVector.broadcast(F, 1f);
        FloatVector sg = FloatVector.zero(F), sgx = sg;
        int j = 0;
        int ub = F.loopBound(d);
        for (; j < ub; j += L) {
            FloatVector g = ld(dy, yo + j).mul(gamma == null ? one : ld(gamma, go + j));
            FloatVector xhat = ld(x, xo + j).sub(vmu).mul(vrs);
            sg = sg.add(g);
            sgx = g.fma(xhat, sgx);
        }
        float s1 = lanes(sg), s2 = lanes(sgx);
        for (; j < d; j++) {
            float g = Mem.get(dy, yo + j) * (gamma == null ? 1f : Mem.get(gamma, go + j));
            s1 += g;
            s2 = Math.fma(g, (Mem.get(x, xo + j) - mu) * rs, s2);
        }
        float mg = s1 / d, mgx = s2 / d;
        FloatVector vmg = FloatVector.broadcast(F, mg), vnmgx = FloatVector.broadcast(F, -mgx);
        for (j = 0; j < ub; j += L) {
            FloatVector g = ld(dy, yo + j).mul(gamma == null ? one : ld(gamma, go + j));
            FloatVector xhat = ld(x, xo + j).sub(vmu).mul(vrs);
            FloatVector t = xhat.fma(vnmgx, g.sub(vmg));
            t.fma(vrs, ld(dx, o + j)).intoMemorySegment(dx, Mem.bytes(o + j), Mem.ORDER);
        }
        for (; j < d; j++) {
            float g = Mem.get(dy, yo + j) * (gamma == null ? 1f : Mem.get(gamma, go + j));
            float xhat = (Mem.get(x, xo + j) - mu) * rs;
            float t = Math.fma(xhat, -mgx, g - mg);
            Mem.set(dx, o + j, Math.fma(t, rs, Mem.get(dx, o + j)));
        }
    }

    /** dgamma[c] += sum_r dy*xhat, dbeta[c] += sum_r dy for columns [c0, c1), rows in order. */
    static void paramGrads(int rows, int c0, int c1, MemorySegment x, long xOff, int ldx, float[] mean, float[] rstd,
                           MemorySegment dy, long dyOff, int lddy, MemorySegment dgamma, long dgOff, MemorySegment dbeta, long dbOff) {
        for (int r = 0; r < rows; r++) {
            float mu = mean[r], rs = rstd[r];
            FloatVector vmu = FloatVector.broadcast(F, mu), vrs = FloatVector.broadcast(F, rs);
            long xo = xOff + (long) r * ldx, yo = dyOff + (long) r * lddy;
            int c = c0;
            for (; c + L <= c1; c += L) {
                FloatVector g = ld(dy, yo + c);
                if (dgamma != null) {
                    FloatVector xhat = ld(x, xo + c).sub(vmu).mul(vrs);
                    g.fma(xhat, ld(dgamma, dgOff + c)).intoMemorySegment(dgamma, Mem.bytes(dgOff + c), Mem.ORDER);
                }
                if (dbeta != null) ld(dbeta, dbOff + c).add(g).intoMemorySegment(dbeta, Mem.bytes(dbOff + c), Mem.ORDER);
            }
            for (; c < c1; c++) {
                float g = Mem.get(dy, yo + c);
                if (dgamma != null) Mem.set(dgamma, dgOff + c, Math.fma(g, (Mem.get(x, xo + c) - mu) * rs, Mem.get(dgamma, dgOff + c)));
                if (dbeta != null) Mem.set(dbeta, dbOff + c, Mem.get(dbeta, dbOff + c) + g);
            }
        }
    }
}
