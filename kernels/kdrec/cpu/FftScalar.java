package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Batched real FFT of any length, its inverse, and the DCT-I: plain scalar Java, single-threaded.
 * The test oracle and benchmark baseline of {@link FftSimd}, which performs the very same float
 * operations in the same order lane by lane, so the two agree bit for bit.
 *
 * <p>Used by FreqD to turn Chebyshev-Lobatto samples of a spectral filter into Chebyshev
 * coefficients (one DCT-I). Algorithms and tables: {@link FftPlan} (radix-2 for powers of two,
 * Bluestein chirp-z otherwise; twiddles from exact angles in double, cached per n). Arithmetic is in
 * float; the error of every output is about eps * log2(n) * ||x||_2 (eps = 2^-24; a few times more
 * for Bluestein lengths, whose convolution has length 2n..4n).
 *
 * <p>Rows are read whole into scratch before their output is written, but input and output ranges
 * must not overlap. Scratch is per thread and reused: no allocation per call once warm.
 */
public final class FftScalar {
    private FftScalar() {}

    /** Per-thread work arrays, grown on demand. */
    static final class Scratch {
        float[] re = new float[0], im = new float[0], x = new float[0], oRe = new float[0], oIm = new float[0];

        void ensure(int complexLen, int realLen, int binLen) {
            if (re.length < complexLen) { re = new float[complexLen]; im = new float[complexLen]; }
            if (x.length < realLen) x = new float[realLen];
            if (oRe.length < binLen) { oRe = new float[binLen]; oIm = new float[binLen]; }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Forward real FFT of `batch` signals of length n (row r at x[xOff + r*ldx .. +n)); output
     *  X_k = sum_t x_t exp(-2 pi i k t / n), k = 0..n/2, interleaved complex (re, im) at
     *  out[oOff + r*ldo + 2k], ldo >= 2*(n/2+1). Any n >= 1: radix-2 for powers of two, Bluestein (chirp-z
     *  through a power-of-two complex FFT) otherwise. */
    public static void rfft(int batch, int n, MemorySegment x, long xOff, int ldx, MemorySegment out, long oOff, int ldo) {
        FftPlan.check("FftScalar.rfft", batch, n, x, xOff, ldx, n, out, oOff, ldo, 2 * (n / 2 + 1));
        if (batch == 0) return;
        if (n == 1) {
            for (int r = 0; r < batch; r++) {
                Mem.set(out, oOff + (long) r * ldo, Mem.get(x, xOff + (long) r * ldx));
                Mem.set(out, oOff + (long) r * ldo + 1, 0f);
            }
            return;
        }
        FftPlan p = FftPlan.of(n);
        Scratch s = SCRATCH.get();
        s.ensure(p.m, n, n / 2 + 1);
        for (int r = 0; r < batch; r++) {
            Mem.copyOut(x, xOff + (long) r * ldx, s.x, 0, n);
            forward(p, s.x, s);
            long o = oOff + (long) r * ldo;
            for (int k = 0; k <= n / 2; k++) {
                Mem.set(out, o + 2L * k, s.oRe[k]);
                Mem.set(out, o + 2L * k + 1, s.oIm[k]);
            }
        }
    }

    /** Inverse: real signals from n/2+1 complex bins (Hermitian), normalised by 1/n so irfft(rfft(x)) = x.
     *  Row r's bins are interleaved (re, im) at in[iOff + r*ldi + 2k], ldi >= 2*(n/2+1); the signal goes to
     *  x[xOff + r*ldx .. +n), ldx >= n. The imaginary parts of bin 0 and (n even) bin n/2 are ignored,
     *  as a Hermitian spectrum of a real signal has none. */
    public static void irfft(int batch, int n, MemorySegment in, long iOff, int ldi, MemorySegment x, long xOff, int ldx) {
        FftPlan.check("FftScalar.irfft", batch, n, in, iOff, ldi, 2 * (n / 2 + 1), x, xOff, ldx, n);
        if (batch == 0) return;
        if (n == 1) {
            for (int r = 0; r < batch; r++) Mem.set(x, xOff + (long) r * ldx, Mem.get(in, iOff + (long) r * ldi));
            return;
        }
        FftPlan p = FftPlan.of(n);
        Scratch s = SCRATCH.get();
        int bins = p.bluestein ? n : n / 2 + 1; // Bluestein reads the full (conjugated) spectrum
        s.ensure(p.m, n, bins);
        for (int r = 0; r < batch; r++) {
            long i = iOff + (long) r * ldi;
            for (int k = 0; k <= n / 2; k++) {
                s.oRe[k] = Mem.get(in, i + 2L * k);
                s.oIm[k] = Mem.get(in, i + 2L * k + 1);
            }
            if (p.bluestein) conjugateFull(n, s.oRe, s.oIm);
            inverse(p, s.oRe, s.oIm, s);
            Mem.copyIn(s.x, 0, x, xOff + (long) r * ldx, n);
        }
    }

    /** DCT-I of `batch` vectors of length n+1 (n >= 1): y_k = x_0 + (-1)^k x_n + 2 sum_{j=1}^{n-1} x_j cos(pi j k / n),
     *  k = 0..n, computed through one real FFT of the even extension of length 2n.
     *  Row r reads x[xOff + r*ldx .. +n+1) (ldx >= n+1) and writes y[yOff + r*ldy .. +n+1) (ldy >= n+1).
     *  Unnormalised: a Chebyshev fit divides by n and halves y_0 and y_n itself. */
    public static void dct1(int batch, int n, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        FftPlan.check("FftScalar.dct1", batch, n, x, xOff, ldx, n + 1, y, yOff, ldy, n + 1);
        if (batch == 0) return;
        FftPlan p = FftPlan.of(2 * n);
        Scratch s = SCRATCH.get();
        s.ensure(p.m, 2 * n, n + 1);
        for (int r = 0; r < batch; r++) {
            Mem.copyOut(x, xOff + (long) r * ldx, s.x, 0, n + 1);
            for (int t = n + 1; t < 2 * n; t++) s.x[t] = s.x[2 * n - t];
            forward(p, s.x, s);
            Mem.copyIn(s.oRe, 0, y, yOff + (long) r * ldy, n + 1);
        }
    }

    /**
     * Expands bins 0..n/2 (in place, arrays of length >= n) to the conjugate of the full spectrum,
     * conj(X_k) for k = 0..n-1, with X_(n-k) = conj(X_k): the Bluestein inverse is a forward transform
     * of it. Imaginary parts of bin 0 and (n even) bin n/2 are dropped.
     */
    static void conjugateFull(int n, float[] re, float[] im) {
        int h = n / 2;
        for (int k = n - 1; k > h; k--) {
            re[k] = re[n - k];
            im[k] = im[n - k];
        }
        im[0] = 0f;
        for (int k = 1; k <= h; k++) im[k] = -im[k];
        if ((n & 1) == 0) im[h] = 0f;
    }

    /** X_k, k = 0..n/2, of the real signal x[0..n) into s.oRe / s.oIm. */
    static void forward(FftPlan p, float[] x, Scratch s) {
        float[] re = s.re, im = s.im, oRe = s.oRe, oIm = s.oIm;
        int n = p.n, m = p.m;
        if (!p.bluestein) {
            for (int q = 0; q < m; q++) {
                int t = p.rev[q];
                re[q] = x[2 * t];
                im[q] = x[2 * t + 1];
            }
            dit(re, im, m, p.twC, p.twS);
            // split the packed spectrum: E = even-sample DFT, D = W^k times odd-sample DFT
            oRe[0] = re[0] + im[0];
            oIm[0] = 0f;
            oRe[m] = re[0] - im[0];
            oIm[m] = 0f;
            for (int k = 1; k < m; k++) {
                float ar = re[k], ai = im[k], br = re[m - k], bi = im[m - k];
                float er = (ar + br) * 0.5f, ei = (ai - bi) * 0.5f, dr = (ar - br) * 0.5f, di = (ai + bi) * 0.5f;
                float c = p.postC[k], sn = p.postS[k];
                oRe[k] = er + (c * di - sn * dr);
                oIm[k] = ei - (c * dr + sn * di);
            }
        } else {
            float[] cc = p.chirpC, cs = p.chirpS;
            for (int t = 0; t < n; t++) {
                re[t] = x[t] * cc[t];
                im[t] = -(x[t] * cs[t]);
            }
            Arrays.fill(re, n, m, 0f);
            Arrays.fill(im, n, m, 0f);
            convolve(p, re, im);
            for (int k = 0; k <= n / 2; k++) {
                float fr = re[k], fi = im[k];
                oRe[k] = fr * cc[k] - fi * cs[k];
                oIm[k] = -(fr * cs[k] + fi * cc[k]);
            }
            // bins 0 and n/2 of a real signal are real: drop the convolution's rounding noise there
            oIm[0] = 0f;
            if ((n & 1) == 0) oIm[n / 2] = 0f;
        }
    }

    /**
     * The real signal x[0..n) into s.x from its bins: for powers of two bins 0..n/2 (in, as given), for
     * Bluestein the conjugated full spectrum of {@link #conjugateFull}.
     */
    static void inverse(FftPlan p, float[] inRe, float[] inIm, Scratch s) {
        float[] re = s.re, im = s.im, x = s.x;
        int n = p.n, m = p.m;
        float invN = 1f / n;
        if (!p.bluestein) {
            // rebuild the packed spectrum 2 Z_k, conjugated (inverse = conj o forward o conj), bit-reversed
            re[0] = inRe[0] + inRe[m];
            im[0] = -(inRe[0] - inRe[m]);
            for (int k = 1; k < m; k++) {
                float ar = inRe[k], ai = inIm[k], br = inRe[m - k], bi = inIm[m - k];
                float sr = ar + br, si = ai - bi, dr = ar - br, di = ai + bi;
                float c = p.postC[k], sn = p.postS[k];
                int q = p.rev[k];
                re[q] = sr - (c * di + sn * dr);
                im[q] = -(si + (c * dr - sn * di));
            }
            dit(re, im, m, p.twC, p.twS);
            float negInvN = -invN;
            for (int t = 0; t < m; t++) {
                x[2 * t] = re[t] * invN;
                x[2 * t + 1] = im[t] * negInvN;
            }
        } else {
            float[] cc = p.chirpC, cs = p.chirpS;
            for (int k = 0; k < n; k++) {
                float ir = inRe[k], ii = inIm[k];
                re[k] = ir * cc[k] + ii * cs[k];
                im[k] = ii * cc[k] - ir * cs[k];
            }
            Arrays.fill(re, n, m, 0f);
            Arrays.fill(im, n, m, 0f);
            convolve(p, re, im);
            for (int t = 0; t < n; t++) x[t] = (re[t] * cc[t] - im[t] * cs[t]) * invN;
        }
    }

    /** Bluestein core, in place on length m: F = DFT(conj(DFT(a) * bhat)), i.e. conj of the cyclic convolution. */
    static void convolve(FftPlan p, float[] re, float[] im) {
        int m = p.m;
        dif(re, im, m, p.twC, p.twS);
        float[] br = p.bhatR, bi = p.bhatI;
        for (int q = 0; q < m; q++) {
            float ar = re[q], ai = im[q];
            re[q] = ar * br[q] - ai * bi[q];
            im[q] = -(ar * bi[q] + ai * br[q]);
        }
        dit(re, im, m, p.twC, p.twS);
    }

    /** Radix-2 decimation-in-time forward DFT of length m: bit-reversed input, natural output. */
    static void dit(float[] re, float[] im, int m, float[] twC, float[] twS) {
        for (int len = 2; len <= m; len <<= 1) {
            int half = len >>> 1, step = m / len;
            for (int i = 0; i < m; i += len) {
                float ur = re[i], ui = im[i], vr = re[i + half], vi = im[i + half];
                re[i] = ur + vr;
                im[i] = ui + vi;
                re[i + half] = ur - vr;
                im[i + half] = ui - vi;
                for (int j = 1; j < half; j++) {
                    float wc = twC[j * step], ws = twS[j * step]; // w = wc - i ws
                    int a = i + j, b = a + half;
                    float br = re[b], bi = im[b];
                    float tr = br * wc + bi * ws, ti = bi * wc - br * ws;
                    float ar = re[a], ai = im[a];
                    re[a] = ar + tr;
                    im[a] = ai + ti;
                    re[b] = ar - tr;
                    im[b] = ai - ti;
                }
            }
        }
    }

    /** Radix-2 decimation-in-frequency forward DFT of length m: natural input, bit-reversed output. */
    static void dif(float[] re, float[] im, int m, float[] twC, float[] twS) {
        for (int len = m; len >= 2; len >>>= 1) {
            int half = len >>> 1, step = m / len;
            for (int i = 0; i < m; i += len) {
                float ur = re[i], ui = im[i], vr = re[i + half], vi = im[i + half];
                re[i] = ur + vr;
                im[i] = ui + vi;
                re[i + half] = ur - vr;
                im[i + half] = ui - vi;
                for (int j = 1; j < half; j++) {
                    float wc = twC[j * step], ws = twS[j * step];
                    int a = i + j, b = a + half;
                    float ar = re[a], ai = im[a], br = re[b], bi = im[b];
                    float dr = ar - br, di = ai - bi;
                    re[a] = ar + br;
                    im[a] = ai + bi;
                    re[b] = dr * wc + di * ws;
                    im[b] = di * wc - dr * ws;
                }
            }
        }
    }
    /**
     * The plan tables for real length n &gt;= 2 as (cos, sin) float pairs in one array, the layout the
     * CUDA FFT kernels read (kdrec.gpu.GpuFft): the m/2 twiddles, then for a power of two the m + 1
     * post-processing rotations, else the n chirp values followed by the m chirp-spectrum values at
     * bit-reversed positions. The very floats this class computes with, so both sides agree by
     * construction.
     */
    public static float[] planTables(int n) {
        FftPlan p = FftPlan.of(n);
        int half = p.m / 2;
        float[] t = new float[2 * half + (p.bluestein ? 2 * n + 2 * p.m : 2 * (p.m + 1))];
        int at = pairs(t, 0, p.twC, p.twS, half);
        if (!p.bluestein) {
            pairs(t, at, p.postC, p.postS, p.m + 1);
        } else {
            at = pairs(t, at, p.chirpC, p.chirpS, n);
            pairs(t, at, p.bhatR, p.bhatI, p.m);
        }
        return t;
    }

    private static int pairs(float[] t, int at, float[] c, float[] s, int len) {
        for (int i = 0; i < len; i++) {
            t[at++] = c[i];
            t[at++] = s[i];
        }
        return at;
    }
}
