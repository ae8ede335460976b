package kdrec.cpu;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Precomputed tables for the real FFTs of {@link FftScalar} and {@link FftSimd}, one plan per real
 * length n, cached in a thread-safe map (built once, then shared read-only by every thread).
 *
 * <p>Two kinds of plan:
 * <ul>
 *   <li><b>Power of two</b> (n >= 2): the real signal of length n is packed as a complex signal of
 *       length m = n/2 (z_t = x_2t + i x_2t+1), transformed by a radix-2 decimation-in-time FFT and
 *       split into the n/2+1 real-signal bins with the twiddles {@code postC/postS}.</li>
 *   <li><b>Bluestein</b> (any other n >= 3): chirp-z, X_k = conj(c_k) sum_t x_t conj(c_t) c_(k-t) with
 *       c_t = exp(i pi t^2 / n), evaluated as a cyclic convolution of length m = the power of two
 *       >= 2n-1: a decimation-in-frequency FFT (natural order in, bit-reversed out), a pointwise
 *       product with the chirp's spectrum kept in bit-reversed order ({@code bhatR/bhatI}, scaled by
 *       1/m) and a decimation-in-time FFT (bit-reversed in, natural out). No permutation pass.</li>
 * </ul>
 *
 * <p>Every table entry is computed in double from an exact angle (cos/sin of 2 pi j / m, of
 * pi (t^2 mod 2n) / n, never by recurrence), then rounded once to float; the chirp spectrum is a
 * double-precision FFT. So the tables carry half an ulp of error each and the transforms' float
 * error is that of the butterflies alone, about eps * log2(n) * ||x||.
 */
final class FftPlan {
    private static final ConcurrentHashMap<Integer, FftPlan> CACHE = new ConcurrentHashMap<>();

    /** Real transform length. */
    final int n;
    /** Length of the complex FFT used inside (n/2 for powers of two, the padded length for Bluestein). */
    final int m;
    /** True for the chirp-z path. */
    final boolean bluestein;
    /** Bit-reversal permutation of [0, m) (an involution). */
    final int[] rev;
    /** cos / sin of 2 pi j / m, j in [0, m/2): the twiddle w_j = exp(-2 pi i j/m) = (twC[j], -twS[j]). */
    final float[] twC, twS;
    /** Power of two: cos / sin of 2 pi k / n for k in [0, n/2]. Bluestein: unused (null). */
    final float[] postC, postS;
    /** Bluestein: the chirp c_t = (chirpC[t], chirpS[t]) = exp(i pi t^2/n), t in [0, n). */
    final float[] chirpC, chirpS;
    /** Bluestein: DFT_m of the wrapped chirp, divided by m, stored at bit-reversed positions. */
    final float[] bhatR, bhatI;

    private FftPlan(int n) {
        this.n = n;
        this.bluestein = Integer.bitCount(n) != 1;
        this.m = bluestein ? Integer.highestOneBit(2 * n - 2) << 1 : n / 2;
        this.rev = bitReversal(m);
        this.twC = new float[m / 2];
        this.twS = new float[m / 2];
        for (int j = 0; j < m / 2; j++) {
            double a = 2 * Math.PI * j / m;
            twC[j] = (float) Math.cos(a);
            twS[j] = (float) Math.sin(a);
        }
        if (!bluestein) {
            postC = new float[m + 1];
            postS = new float[m + 1];
            for (int k = 0; k <= m; k++) {
                double a = 2 * Math.PI * k / n;
                postC[k] = (float) Math.cos(a);
                postS[k] = (float) Math.sin(a);
            }
            chirpC = chirpS = bhatR = bhatI = null;
        } else {
            postC = postS = null;
            double[] cr = new double[n], ci = new double[n];
            chirpC = new float[n];
            chirpS = new float[n];
            for (int t = 0; t < n; t++) {
                // t^2 mod 2n keeps the angle in [0, 2 pi): pi t^2 / n itself loses all accuracy for large t
                long q = ((long) t * t) % (2L * n);
                double a = Math.PI * q / n;
                cr[t] = Math.cos(a);
                ci[t] = Math.sin(a);
                chirpC[t] = (float) cr[t];
                chirpS[t] = (float) ci[t];
            }
            double[] br = new double[m], bi = new double[m];
            for (int t = 0; t < n; t++) {
                br[t] = cr[t];
                bi[t] = ci[t];
                if (t > 0) {
                    br[m - t] = cr[t];
                    bi[m - t] = ci[t];
                }
            }
            fftDouble(br, bi);
            bhatR = new float[m];
            bhatI = new float[m];
            for (int k = 0; k < m; k++) {
                bhatR[rev[k]] = (float) (br[k] / m);
                bhatI[rev[k]] = (float) (bi[k] / m);
            }
        }
    }

    /** The plan for real length n >= 2 (cached; thread-safe). */
    static FftPlan of(int n) {
        if (n < 2) throw new IllegalArgumentException("FftPlan: n must be >= 2, got " + n);
        FftPlan p = CACHE.get(n);
        return p != null ? p : CACHE.computeIfAbsent(n, FftPlan::new);
    }

    /** Minimum batch rows per parallel task, so that a task does some tens of microseconds of work. */
    int minRowsPerTask() {
        long flopsPerRow = 5L * n * Math.max(1, 32 - Integer.numberOfLeadingZeros(n)) * (bluestein ? 4 : 1);
        return (int) Math.max(1, Math.min(1 << 20, (1L << 18) / flopsPerRow));
    }

    /**
     * The public entry's argument check, shared by both twins: batch >= 0, n >= 1, leading dims at
     * least the row widths, and both operand ranges inside their segments.
     */
    static void check(String kernel, int batch, int n, java.lang.foreign.MemorySegment in, long inOff, int ldi,
            int inWidth, java.lang.foreign.MemorySegment out, long outOff, int ldo, int outWidth) {
        if (in == null || out == null) throw new IllegalArgumentException(kernel + ": null segment");
        if (batch < 0 || n < 1 || ldi < inWidth || ldo < outWidth) {
            throw new IllegalArgumentException(kernel + ": need batch >= 0, n >= 1, ld_in >= " + inWidth + ", ld_out >= "
                    + outWidth + "; got batch=" + batch + ", n=" + n + ", ld_in=" + ldi + ", ld_out=" + ldo);
        }
        if (batch == 0) return;
        Mem.checkRange(kernel + " input", in, inOff, (long) (batch - 1) * ldi + inWidth);
        Mem.checkRange(kernel + " output", out, outOff, (long) (batch - 1) * ldo + outWidth);
    }

    private static int[] bitReversal(int m) {
        int[] r = new int[m];
        int bits = Integer.numberOfTrailingZeros(m);
        for (int i = 0; i < m; i++) r[i] = bits == 0 ? 0 : Integer.reverse(i) >>> (32 - bits);
        return r;
    }

    /** In-place forward DFT (exp(-2 pi i jk/m)) in double, m a power of two; used only to build tables. */
    private static void fftDouble(double[] re, double[] im) {
        int m = re.length;
        int[] r = bitReversal(m);
        for (int i = 0; i < m; i++) {
            int j = r[i];
            if (j > i) {
                double t = re[i]; re[i] = re[j]; re[j] = t;
                t = im[i]; im[i] = im[j]; im[j] = t;
            }
        }
        for (int len = 2; len <= m; len <<= 1) {
            int half = len / 2;
            for (int j = 0; j < half; j++) {
                double a = 2 * Math.PI * j / len, wc = Math.cos(a), ws = -Math.sin(a);
                for (int i = 0; i < m; i += len) {
                    int p = i + j, q = p + half;
                    double vr = re[q] * wc - im[q] * ws, vi = re[q] * ws + im[q] * wc;
                    re[q] = re[p] - vr;
                    im[q] = im[p] - vi;
                    re[p] += vr;
                    im[p] += vi;
                }
            }
        }
    }
}
