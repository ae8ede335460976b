package kdrec.cpu;

import static kdrec.cpu.Simd.LANES;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Batched real FFT of any length, its inverse, and the DCT-I: the Vector API twin of
 * {@link FftScalar}, same signatures and contracts.
 *
 * <p>Vectorised across the batch: each group of {@link Simd#LANES} rows is transposed into an
 * interleaved scratch layout (element-major, lane-minor), transformed LANES at a time by
 * {@link FftVec} with lanewise ops and broadcast twiddles, and transposed back. A last, partial
 * group is padded with zero lanes. The butterflies avoid fma on purpose: every lane performs exactly
 * the scalar twin's float operations, so outputs are bit-identical to {@link FftScalar}, hence
 * deterministic and independent of the thread count and vector width. Groups are spread over
 * {@link Parallel} threads (chunks aligned to LANES rows); each thread owns its scratch.
 *
 * <p>Batch 1 (one filter fit) costs about as much as LANES rows; at those sizes (n ~ 64..1024) it is
 * microseconds either way. Accuracy: about eps * log2(n) * ||x||_2 per output, as the scalar twin.
 * Input and output ranges must not overlap.
 */
public final class FftSimd {
    private FftSimd() {}

    /** Per-thread interleaved work arrays (each a multiple of LANES long), grown on demand. */
    private static final class Scratch {
        float[] x = new float[0], re = new float[0], im = new float[0], bRe = new float[0], bIm = new float[0];

        void ensure(int realLen, int complexLen, int binLen) {
            if (x.length < realLen * LANES) x = new float[realLen * LANES];
            if (re.length < complexLen * LANES) { re = new float[complexLen * LANES]; im = new float[complexLen * LANES]; }
            if (bRe.length < binLen * LANES) { bRe = new float[binLen * LANES]; bIm = new float[binLen * LANES]; }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Forward real FFT of `batch` signals of length n (row r at x[xOff + r*ldx .. +n)); output
     *  X_k = sum_t x_t exp(-2 pi i k t / n), k = 0..n/2, interleaved complex (re, im) at
     *  out[oOff + r*ldo + 2k], ldo >= 2*(n/2+1). Any n >= 1: radix-2 for powers of two, Bluestein (chirp-z
     *  through a power-of-two complex FFT) otherwise. */
    public static void rfft(int batch, int n, MemorySegment x, long xOff, int ldx, MemorySegment out, long oOff, int ldo) {
        FftPlan.check("FftSimd.rfft", batch, n, x, xOff, ldx, n, out, oOff, ldo, 2 * (n / 2 + 1));
        if (batch == 0) return;
        if (n == 1) { // X_0 = x_0: nothing to vectorise
            FftScalar.rfft(batch, n, x, xOff, ldx, out, oOff, ldo);
            return;
        }
        FftPlan p = FftPlan.of(n);
        Parallel.forRange(batch, LANES, Math.max(LANES, p.minRowsPerTask()),
                (from, to) -> rfftRows(p, from, to, x, xOff, ldx, out, oOff, ldo));
    }

    /** Inverse: real signals from n/2+1 complex bins (Hermitian), normalised by 1/n so irfft(rfft(x)) = x.
     *  Row r's bins are interleaved (re, im) at in[iOff + r*ldi + 2k], ldi >= 2*(n/2+1); the signal goes to
     *  x[xOff + r*ldx .. +n), ldx >= n. The imaginary parts of bin 0 and (n even) bin n/2 are ignored,
     *  as a Hermitian spectrum of a real signal has none. */
    public static void irfft(int batch, int n, MemorySegment in, long iOff, int ldi, MemorySegment x, long xOff, int ldx) {
        FftPlan.check("FftSimd.irfft", batch, n, in, iOff, ldi, 2 * (n / 2 + 1), x, xOff, ldx, n);
        if (batch == 0) return;
        if (n == 1) {
            FftScalar.irfft(batch, n, in, iOff, ldi, x, xOff, ldx);
            return;
        }
        FftPlan p = FftPlan.of(n);
        Parallel.forRange(batch, LANES, Math.max(LANES, p.minRowsPerTask()),
                (from, to) -> irfftRows(p, from, to, in, iOff, ldi, x, xOff, ldx));
    }

    /** DCT-I of `batch` vectors of length n+1 (n >= 1): y_k = x_0 + (-1)^k x_n + 2 sum_{j=1}^{n-1} x_j cos(pi j k / n),
     *  k = 0..n, computed through one real FFT of the even extension of length 2n.
     *  Row r reads x[xOff + r*ldx .. +n+1) (ldx >= n+1) and writes y[yOff + r*ldy .. +n+1) (ldy >= n+1).
     *  Unnormalised: a Chebyshev fit divides by n and halves y_0 and y_n itself. */
    public static void dct1(int batch, int n, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        FftPlan.check("FftSimd.dct1", batch, n, x, xOff, ldx, n + 1, y, yOff, ldy, n + 1);
        if (batch == 0) return;
        FftPlan p = FftPlan.of(2 * n);
        Parallel.forRange(batch, LANES, Math.max(LANES, p.minRowsPerTask()),
                (from, to) -> dct1Rows(p, from, to, x, xOff, ldx, y, yOff, ldy));
    }

    private static void rfftRows(FftPlan p, int from, int to, MemorySegment x, long xOff, int ldx,
            MemorySegment out, long oOff, int ldo) {
        int n = p.n, bins = n / 2 + 1;
        Scratch s = SCRATCH.get();
        s.ensure(n, p.m, bins);
        for (int r = from; r < to; r += LANES) {
            int rows = Math.min(LANES, to - r);
            gatherReal(x, xOff + (long) r * ldx, ldx, rows, n, n, s.x);
            FftVec.forward(p, s.x, s.re, s.im, s.bRe, s.bIm);
            scatterComplex(s.bRe, s.bIm, rows, bins, out, oOff + (long) r * ldo, ldo);
        }
    }

    private static void irfftRows(FftPlan p, int from, int to, MemorySegment in, long iOff, int ldi,
            MemorySegment x, long xOff, int ldx) {
        int n = p.n, bins = n / 2 + 1;
        Scratch s = SCRATCH.get();
        s.ensure(n, p.m, p.bluestein ? n : bins);
        for (int r = from; r < to; r += LANES) {
            int rows = Math.min(LANES, to - r);
            gatherComplex(in, iOff + (long) r * ldi, ldi, rows, bins, s.bRe, s.bIm);
            FftVec.inverse(p, s.bRe, s.bIm, s.re, s.im, s.x);
            scatterReal(s.x, rows, n, x, xOff + (long) r * ldx, ldx);
        }
    }

    private static void dct1Rows(FftPlan p, int from, int to, MemorySegment x, long xOff, int ldx,
            MemorySegment y, long yOff, int ldy) {
        int n2 = p.n, n = n2 / 2;
        Scratch s = SCRATCH.get();
        s.ensure(n2, p.m, n + 1);
        for (int r = from; r < to; r += LANES) {
            int rows = Math.min(LANES, to - r);
            gatherReal(x, xOff + (long) r * ldx, ldx, rows, n + 1, n2, s.x);
            // even extension e_t = x_(2n-t), t in (n, 2n): whole interleaved vectors, lanes included
            for (int t = n + 1; t < n2; t++) System.arraycopy(s.x, (n2 - t) * LANES, s.x, t * LANES, LANES);
            FftVec.forward(p, s.x, s.re, s.im, s.bRe, s.bIm);
            scatterReal(s.bRe, rows, n + 1, y, yOff + (long) r * ldy, ldy);
        }
    }

    /** Transposes `rows` rows of `len` floats into dst[t * LANES + lane]; lanes >= rows of [0, clearLen) become 0. */
    private static void gatherReal(MemorySegment src, long off, int ld, int rows, int len, int clearLen, float[] dst) {
        for (int j = 0; j < rows; j++) {
            long o = off + (long) j * ld;
            for (int t = 0; t < len; t++) dst[t * LANES + j] = Mem.get(src, o + t);
        }
        if (rows < LANES) {
            for (int t = 0; t < clearLen; t++) Arrays.fill(dst, t * LANES + rows, (t + 1) * LANES, 0f);
        }
    }

    /** Transposes `rows` rows of `bins` interleaved complex numbers into re/im[k * LANES + lane]; idle lanes 0. */
    private static void gatherComplex(MemorySegment src, long off, int ld, int rows, int bins, float[] re, float[] im) {
        for (int j = 0; j < rows; j++) {
            long o = off + (long) j * ld;
            for (int k = 0; k < bins; k++) {
                re[k * LANES + j] = Mem.get(src, o + 2L * k);
                im[k * LANES + j] = Mem.get(src, o + 2L * k + 1);
            }
        }
        if (rows < LANES) {
            for (int k = 0; k < bins; k++) {
                Arrays.fill(re, k * LANES + rows, (k + 1) * LANES, 0f);
                Arrays.fill(im, k * LANES + rows, (k + 1) * LANES, 0f);
            }
        }
    }

    private static void scatterComplex(float[] re, float[] im, int rows, int bins, MemorySegment dst, long off, int ld) {
        for (int j = 0; j < rows; j++) {
            long o = off + (long) j * ld;
            for (int k = 0; k < bins; k++) {
                Mem.set(dst, o + 2L * k, re[k * LANES + j]);
                Mem.set(dst, o + 2L * k + 1, im[k * LANES + j]);
            }
        }
    }

    private static void scatterReal(float[] src, int rows, int len, MemorySegment dst, long off, int ld) {
        for (int j = 0; j < rows; j++) {
            long o = off + (long) j * ld;
            for (int t = 0; t < len; t++) Mem.set(dst, o + t, src[t * LANES + j]);
        }
    }
}
