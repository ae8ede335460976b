package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * FftScalar / FftSimd: rfft, irfft and dct1 against naive O(n^2) transforms in double for every n in
 * 1..130, primes and larger sizes up to 1025 (plus 4096 at hardware width), batches 1, 3 and LANES+1,
 * heap and native segments with offsets and padded leading dims; the SIMD twin must agree with the
 * scalar one bit for bit. Plus round trip, linearity, Parseval, hand-computed cases and bad arguments.
 * Tolerances: C * eps * log2(conv length) * ||x||_2, the documented error bound.
 */
@Tag("simd")
class FftTest {
    static final double EPS = 0x1p-24;
    static final int L = Simd.LANES;

    interface Kernel {
        void run(int batch, int n, MemorySegment in, long iOff, int ldi, MemorySegment out, long oOff, int ldo);
    }

    enum Kind {
        RFFT(FftScalar::rfft, FftSimd::rfft), IRFFT(FftScalar::irfft, FftSimd::irfft), DCT1(FftScalar::dct1, FftSimd::dct1);

        final Kernel scalar, simd;

        Kind(Kernel scalar, Kernel simd) {
            this.scalar = scalar;
            this.simd = simd;
        }

        int inWidth(int n) {
            return this == RFFT ? n : this == IRFFT ? 2 * (n / 2 + 1) : n + 1;
        }

        int outWidth(int n) {
            return this == RFFT ? 2 * (n / 2 + 1) : this == IRFFT ? n : n + 1;
        }

        /** Length of the underlying real FFT. */
        int fftLen(int n) {
            return this == DCT1 ? 2 * n : n;
        }
    }

    static int[] sweep() {
        IntStream extra = IntStream.of(131, 193, 211, 255, 256, 257, 509, 512, 521, 1000, 1009, 1021, 1023, 1024, 1025);
        if (!Simd.emulated()) extra = IntStream.concat(extra, IntStream.of(4096));
        return IntStream.concat(IntStream.rangeClosed(1, 130), extra).toArray();
    }

    static int[] batches() {
        return new int[] {1, 3, L + 1};
    }

    /** log2 of the longest complex FFT used for a real length n (Bluestein: the padded convolution). */
    static double lg(int n) {
        if (n <= 2) return 1;
        boolean pow2 = Integer.bitCount(n) == 1;
        int m = pow2 ? n : Integer.highestOneBit(2 * n - 2) << 1;
        return Math.log(m) / Math.log(2) + (pow2 ? 0 : 2); // Bluestein: two chirp products on top
    }

    static double tol(int n, double norm) {
        return 4 * EPS * lg(n) * norm + 1e-30;
    }

    // ---------------------------------------------------------------- naive references, in double

    static double[] naiveRfft(float[] x, int off, int n) {
        double[] out = new double[2 * (n / 2 + 1)];
        for (int k = 0; k <= n / 2; k++) {
            double re = 0, im = 0;
            for (int t = 0; t < n; t++) {
                double a = 2 * Math.PI * (((long) k * t) % n) / n;
                re += x[off + t] * Math.cos(a);
                im -= x[off + t] * Math.sin(a);
            }
            out[2 * k] = re;
            out[2 * k + 1] = im;
        }
        return out;
    }

    /** Real signal from bins 0..n/2, ignoring the imaginary parts of bin 0 and (n even) bin n/2. */
    static double[] naiveIrfft(float[] in, int off, int n) {
        double[] x = new double[n];
        for (int t = 0; t < n; t++) {
            double s = in[off];
            for (int k = 1; 2 * k < n; k++) {
                double a = 2 * Math.PI * (((long) k * t) % n) / n;
                s += 2 * (in[off + 2 * k] * Math.cos(a) - in[off + 2 * k + 1] * Math.sin(a));
            }
            if (n % 2 == 0) s += in[off + n] * ((t & 1) == 0 ? 1 : -1);
            x[t] = s / n;
        }
        return x;
    }

    static double[] naiveDct1(float[] x, int off, int n) {
        double[] y = new double[n + 1];
        for (int k = 0; k <= n; k++) {
            double s = x[off] + ((k & 1) == 0 ? 1 : -1) * (double) x[off + n];
            for (int j = 1; j < n; j++) s += 2 * x[off + j] * Math.cos(Math.PI * (((long) j * k) % (2L * n)) / n);
            y[k] = s;
        }
        return y;
    }

    static double[] naive(Kind kind, float[] in, int off, int n) {
        return switch (kind) {
            case RFFT -> naiveRfft(in, off, n);
            case IRFFT -> naiveIrfft(in, off, n);
            case DCT1 -> naiveDct1(in, off, n);
        };
    }

    static double norm(float[] a, int off, int len) {
        double s = 0;
        for (int i = 0; i < len; i++) s += (double) a[off + i] * a[off + i];
        return Math.sqrt(s);
    }

    static double norm(double[] a) {
        double s = 0;
        for (double v : a) s += v * v;
        return Math.sqrt(s);
    }

    // ---------------------------------------------------------------- harness

    static final float SENTINEL = -12345.5f;

    /** Runs kernel on a padded, offset layout; returns the whole output array (gaps hold SENTINEL). */
    static float[] run(Kernel k, Kind kind, int batch, int n, float[] in, long iOff, int ldi, int ldo, long oOff,
            boolean offHeap) {
        int outLen = (int) (oOff + (long) Math.max(0, batch - 1) * ldo + kind.outWidth(n) + 3);
        float[] out = new float[outLen];
        java.util.Arrays.fill(out, SENTINEL);
        if (offHeap) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment si = KernelTestSupport.offHeap(arena, in), so = KernelTestSupport.offHeap(arena, out);
                k.run(batch, n, si, iOff, ldi, so, oOff, ldo);
                return KernelTestSupport.toArray(so);
            }
        }
        MemorySegment so = KernelTestSupport.heap(out);
        k.run(batch, n, KernelTestSupport.heap(in), iOff, ldi, so, oOff, ldo);
        return KernelTestSupport.toArray(so);
    }

    /** Checks one kind over the whole sweep: scalar vs naive, SIMD bit-identical to scalar, gaps untouched. */
    static void sweepKind(Kind kind, long seed) {
        double worst = 0;
        for (int n : sweep()) {
            for (int batch : batches()) {
                int ldi = kind.inWidth(n) + 3, ldo = kind.outWidth(n) + 5;
                long iOff = 7, oOff = 2;
                float[] in = randn(seed + 31L * n + batch, (int) iOff + batch * ldi);
                boolean offHeap = ((n + batch) & 1) == 1;
                float[] sc = run(kind.scalar, kind, batch, n, in, iOff, ldi, ldo, oOff, offHeap);
                float[] vs = run(kind.simd, kind, batch, n, in, iOff, ldi, ldo, oOff, !offHeap);
                String what = kind + " n=" + n + " batch=" + batch;
                KernelTestSupport.assertBitEqual(what + " simd vs scalar", sc, vs);
                for (int r = 0; r < batch; r++) {
                    int io = (int) iOff + r * ldi, oo = (int) oOff + r * ldo;
                    double[] exp = naive(kind, in, io, n);
                    // bound in terms of the input's norm, converted to the output's scale
                    double scale = switch (kind) {
                        case RFFT -> norm(in, io, n);
                        case IRFFT -> norm(exp);
                        case DCT1 -> 2 * norm(in, io, n + 1);
                    };
                    double t = tol(kind.fftLen(n), scale);
                    for (int i = 0; i < exp.length; i++) {
                        double err = Math.abs(exp[i] - sc[oo + i]);
                        worst = Math.max(worst, err / (EPS * lg(kind.fftLen(n)) * scale + 1e-30));
                        if (!(err <= t)) fail(what + " row " + r + " element " + i + ": " + sc[oo + i] + " vs " + exp[i] + " (tol " + t + ")");
                    }
                    int gapEnd = r + 1 < batch ? oo + ldo : sc.length;
                    for (int i = oo + exp.length; i < gapEnd; i++) assertEquals(SENTINEL, sc[i], what + ": wrote past row " + r);
                }
                for (int i = 0; i < oOff; i++) assertEquals(SENTINEL, sc[i], what + ": wrote before the offset");
            }
        }
        System.out.printf("FftTest %s: worst error / (eps log2 m ||x||) = %.3f (lanes %d)%n", kind, worst, L);
    }

    @Test
    void rfftMatchesNaive() {
        sweepKind(Kind.RFFT, 100);
    }

    @Test
    void irfftMatchesNaive() {
        sweepKind(Kind.IRFFT, 200);
    }

    @Test
    void dct1MatchesNaive() {
        sweepKind(Kind.DCT1, 300);
    }
}
