package kdrec.cpu;

import static kdrec.cpu.Simd.F;
import static kdrec.cpu.Simd.LANES;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * The vector cores of {@link FftSimd}: {@link Simd#LANES} independent transforms at once, on an
 * interleaved ("lane-minor") layout where element e of the transform in lane j lives at
 * {@code a[e * LANES + j]}. Every butterfly is then a plain lanewise vector op with broadcast
 * twiddles: no shuffles, no gathers, any vector width.
 *
 * <p>Each method mirrors its namesake in {@link FftScalar} operation for operation (mul and add kept
 * separate, no fma, same association), so lane j's result is bit-identical to the scalar transform
 * of that row. Kept as small static methods (one per stage or pass) so C2 compiles them hot by
 * invocation count even when called from pool threads.
 */
final class FftVec {
    private FftVec() {}

    private static FloatVector ld(float[] a, int e) {
        return FloatVector.fromArray(F, a, e * LANES);
    }

    /** X_k, k = 0..n/2, of the LANES real signals in x (interleaved, length n) into oRe / oIm (interleaved). */
    static void forward(FftPlan p, float[] x, float[] re, float[] im, float[] oRe, float[] oIm) {
        int n = p.n, m = p.m;
        if (!p.bluestein) {
            for (int q = 0; q < m; q++) {
                int t = p.rev[q];
                ld(x, 2 * t).intoArray(re, q * LANES);
                ld(x, 2 * t + 1).intoArray(im, q * LANES);
            }
            dit(re, im, m, p.twC, p.twS);
            splitPacked(p, re, im, oRe, oIm);
        } else {
            chirpIn(n, x, p.chirpC, p.chirpS, re, im);
            Arrays.fill(re, n * LANES, m * LANES, 0f);
            Arrays.fill(im, n * LANES, m * LANES, 0f);
            convolve(p, re, im);
            chirpOut(n / 2 + 1, re, im, p.chirpC, p.chirpS, oRe, oIm);
            Arrays.fill(oIm, 0, LANES, 0f); // bins 0 and n/2 are real, as in the scalar twin
            if ((n & 1) == 0) Arrays.fill(oIm, (n / 2) * LANES, (n / 2 + 1) * LANES, 0f);
        }
    }

    /** Real signals (interleaved, length n) into x from bins in inRe / inIm, as {@link FftScalar#inverse}. */
    static void inverse(FftPlan p, float[] inRe, float[] inIm, float[] re, float[] im, float[] x) {
        int n = p.n, m = p.m;
        float invN = 1f / n;
        if (!p.bluestein) {
            mergePacked(p, inRe, inIm, re, im);
            dit(re, im, m, p.twC, p.twS);
            FloatVector sc = FloatVector.broadcast(F, invN), nsc = FloatVector.broadcast(F, -invN);
            for (int t = 0; t < m; t++) {
                ld(re, t).mul(sc).intoArray(x, 2 * t * LANES);
                ld(im, t).mul(nsc).intoArray(x, (2 * t + 1) * LANES);
            }
        } else {
            conjugateFull(n, inRe, inIm);
            float[] cc = p.chirpC, cs = p.chirpS;
            for (int k = 0; k < n; k++) {
                FloatVector ir = ld(inRe, k), ii = ld(inIm, k);
                FloatVector c = FloatVector.broadcast(F, cc[k]), s = FloatVector.broadcast(F, cs[k]);
                ir.mul(c).add(ii.mul(s)).intoArray(re, k * LANES);
                ii.mul(c).sub(ir.mul(s)).intoArray(im, k * LANES);
            }
            Arrays.fill(re, n * LANES, m * LANES, 0f);
            Arrays.fill(im, n * LANES, m * LANES, 0f);
            convolve(p, re, im);
            FloatVector sc = FloatVector.broadcast(F, invN);
            for (int t = 0; t < n; t++) {
                FloatVector c = FloatVector.broadcast(F, cc[t]), s = FloatVector.broadcast(F, cs[t]);
                ld(re, t).mul(c).sub(ld(im, t).mul(s)).mul(sc).intoArray(x, t * LANES);
            }
        }
    }

    private static void chirpIn(int n, float[] x, float[] cc, float[] cs, float[] re, float[] im) {
        for (int t = 0; t < n; t++) {
            FloatVector v = ld(x, t);
            v.mul(cc[t]).intoArray(re, t * LANES);
            v.mul(cs[t]).neg().intoArray(im, t * LANES);
        }
    }

    private static void chirpOut(int bins, float[] re, float[] im, float[] cc, float[] cs, float[] oRe, float[] oIm) {
        for (int k = 0; k < bins; k++) {
            FloatVector fr = ld(re, k), fi = ld(im, k);
            FloatVector c = FloatVector.broadcast(F, cc[k]), s = FloatVector.broadcast(F, cs[k]);
            fr.mul(c).sub(fi.mul(s)).intoArray(oRe, k * LANES);
            fr.mul(s).add(fi.mul(c)).neg().intoArray(oIm, k * LANES);
        }
    }

    /** Interleaved version of {@link FftScalar#conjugateFull}. */
    private static void conjugateFull(int n, float[] re, float[] im) {
        int h = n / 2;
        for (int k = n - 1; k > h; k--) {
            ld(re, n - k).intoArray(re, k * LANES);
            ld(im, n - k).intoArray(im, k * LANES);
        }
        Arrays.fill(im, 0, LANES, 0f);
        for (int k = 1; k <= h; k++) ld(im, k).neg().intoArray(im, k * LANES);
        if ((n & 1) == 0) Arrays.fill(im, h * LANES, (h + 1) * LANES, 0f);
    }

    /** Power-of-two forward: the packed length-m spectrum into the n/2+1 real-signal bins. */
    private static void splitPacked(FftPlan p, float[] re, float[] im, float[] oRe, float[] oIm) {
        int m = p.m;
        FloatVector r0 = ld(re, 0), i0 = ld(im, 0), zero = FloatVector.zero(F), half = FloatVector.broadcast(F, 0.5f);
        r0.add(i0).intoArray(oRe, 0);
        zero.intoArray(oIm, 0);
        r0.sub(i0).intoArray(oRe, m * LANES);
        zero.intoArray(oIm, m * LANES);
        for (int k = 1; k < m; k++) {
            FloatVector ar = ld(re, k), ai = ld(im, k), br = ld(re, m - k), bi = ld(im, m - k);
            FloatVector er = ar.add(br).mul(half), ei = ai.sub(bi).mul(half);
            FloatVector dr = ar.sub(br).mul(half), di = ai.add(bi).mul(half);
            FloatVector c = FloatVector.broadcast(F, p.postC[k]), s = FloatVector.broadcast(F, p.postS[k]);
            er.add(c.mul(di).sub(s.mul(dr))).intoArray(oRe, k * LANES);
            ei.sub(c.mul(dr).add(s.mul(di))).intoArray(oIm, k * LANES);
        }
    }

    /** Power-of-two inverse: bins into the conjugated packed spectrum 2 Z_k, at bit-reversed positions. */
    private static void mergePacked(FftPlan p, float[] inRe, float[] inIm, float[] re, float[] im) {
        int m = p.m;
        FloatVector x0 = ld(inRe, 0), xm = ld(inRe, m);
        x0.add(xm).intoArray(re, 0);
        x0.sub(xm).neg().intoArray(im, 0);
        for (int k = 1; k < m; k++) {
            FloatVector ar = ld(inRe, k), ai = ld(inIm, k), br = ld(inRe, m - k), bi = ld(inIm, m - k);
            FloatVector sr = ar.add(br), si = ai.sub(bi), dr = ar.sub(br), di = ai.add(bi);
            FloatVector c = FloatVector.broadcast(F, p.postC[k]), s = FloatVector.broadcast(F, p.postS[k]);
            int q = p.rev[k] * LANES;
            sr.sub(c.mul(di).add(s.mul(dr))).intoArray(re, q);
            si.add(c.mul(dr).sub(s.mul(di))).neg().intoArray(im, q);
        }
    }

    /** Bluestein core, as {@link FftScalar#convolve}. */
    private static void convolve(FftPlan p, float[] re, float[] im) {
        int m = p.m;
        for (int len = m; len >= 2; len >>>= 1) difStage(re, im, m, len, p.twC, p.twS);
        pointwise(m, re, im, p.bhatR, p.bhatI);
        dit(re, im, m, p.twC, p.twS);
    }

    private static void pointwise(int m, float[] re, float[] im, float[] bhr, float[] bhi) {
        for (int q = 0; q < m; q++) {
            FloatVector ar = ld(re, q), ai = ld(im, q);
            FloatVector br = FloatVector.broadcast(F, bhr[q]), bi = FloatVector.broadcast(F, bhi[q]);
            ar.mul(br).sub(ai.mul(bi)).intoArray(re, q * LANES);
            ar.mul(bi).add(ai.mul(br)).neg().intoArray(im, q * LANES);
        }
    }

    private static void dit(float[] re, float[] im, int m, float[] twC, float[] twS) {
        for (int len = 2; len <= m; len <<= 1) ditStage(re, im, m, len, twC, twS);
    }

    /** One radix-2 DIT stage over blocks of length len; twiddle-free j = 0 column first, then one column per twiddle. */
    private static void ditStage(float[] re, float[] im, int m, int len, float[] twC, float[] twS) {
        int half = len >>> 1, step = m / len, hl = half * LANES;
        for (int i = 0; i < m; i += len) {
            int a = i * LANES, b = a + hl;
            FloatVector ur = FloatVector.fromArray(F, re, a), ui = FloatVector.fromArray(F, im, a);
            FloatVector vr = FloatVector.fromArray(F, re, b), vi = FloatVector.fromArray(F, im, b);
            ur.add(vr).intoArray(re, a);
            ui.add(vi).intoArray(im, a);
            ur.sub(vr).intoArray(re, b);
            ui.sub(vi).intoArray(im, b);
        }
        for (int j = 1; j < half; j++) {
            FloatVector wc = FloatVector.broadcast(F, twC[j * step]), ws = FloatVector.broadcast(F, twS[j * step]);
            for (int i = j; i < m; i += len) {
                int a = i * LANES, b = a + hl;
                FloatVector br = FloatVector.fromArray(F, re, b), bi = FloatVector.fromArray(F, im, b);
                FloatVector tr = br.mul(wc).add(bi.mul(ws)), ti = bi.mul(wc).sub(br.mul(ws));
                FloatVector ar = FloatVector.fromArray(F, re, a), ai = FloatVector.fromArray(F, im, a);
                ar.add(tr).intoArray(re, a);
                ai.add(ti).intoArray(im, a);
                ar.sub(tr).intoArray(re, b);
                ai.sub(ti).intoArray(im, b);
            }
        }
    }

    /** One radix-2 DIF stage, as {@link #ditStage} with the twiddle applied after the difference. */
    private static void difStage(float[] re, float[] im, int m, int len, float[] twC, float[] twS) {
        int half = len >>> 1, step = m / len, hl = half * LANES;
        for (int i = 0; i < m; i += len) {
            int a = i * LANES, b = a + hl;
            FloatVector ur = FloatVector.fromArray(F, re, a), ui = FloatVector.fromArray(F, im, a);
            FloatVector vr = FloatVector.fromArray(F, re, b), vi = FloatVector.fromArray(F, im, b);
            ur.add(vr).intoArray(re, a);
            ui.add(vi).intoArray(im, a);
            ur.sub(vr).intoArray(re, b);
            ui.sub(vi).intoArray(im, b);
        }
        for (int j = 1; j < half; j++) {
            FloatVector wc = FloatVector.broadcast(F, twC[j * step]), ws = FloatVector.broadcast(F, twS[j * step]);
            for (int i = j; i < m; i += len) {
                int a = i * LANES, b = a + hl;
                FloatVector ar = FloatVector.fromArray(F, re, a), ai = FloatVector.fromArray(F, im, a);
                FloatVector br = FloatVector.fromArray(F, re, b), bi = FloatVector.fromArray(F, im, b);
                FloatVector dr = ar.sub(br), di = ai.sub(bi);
                ar.add(br).intoArray(re, a);
                ai.add(bi).intoArray(im, a);
                dr.mul(wc).add(di.mul(ws)).intoArray(re, b);
                di.mul(wc).sub(dr.mul(ws)).intoArray(im, b);
            }
        }
    }
}
