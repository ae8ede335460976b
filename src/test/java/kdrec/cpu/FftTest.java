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

    // ---------------------------------------------------------------- properties

    static float[] rfftOf(Kernel k, int batch, int n, float[] x) {
        float[] out = new float[batch * 2 * (n / 2 + 1)];
        k.run(batch, n, Mem.of(x), 0, n, Mem.of(out), 0, 2 * (n / 2 + 1));
        return out;
    }

    static final int[] PROPERTY_SIZES = {1, 2, 3, 5, 8, 12, 17, 64, 97, 100, 128, 257, 1000, 1024};

    @Test
    void roundTripRecoversSignal() {
        for (boolean simd : new boolean[] {false, true}) {
            for (int n : PROPERTY_SIZES) {
                int batch = L + 1, w = 2 * (n / 2 + 1);
                float[] x = randn(400 + n, batch * n), spec = new float[batch * w], back = new float[batch * n];
                (simd ? Kind.RFFT.simd : Kind.RFFT.scalar).run(batch, n, Mem.of(x), 0, n, Mem.of(spec), 0, w);
                (simd ? Kind.IRFFT.simd : Kind.IRFFT.scalar).run(batch, n, Mem.of(spec), 0, w, Mem.of(back), 0, n);
                for (int r = 0; r < batch; r++) {
                    double t = 2 * tol(n, norm(x, r * n, n));
                    for (int i = 0; i < n; i++) {
                        int j = r * n + i;
                        if (!(Math.abs(x[j] - back[j]) <= t)) fail("round trip n=" + n + " simd=" + simd + " at " + j + ": " + back[j] + " vs " + x[j]);
                    }
                }
            }
        }
    }

    @Test
    void linearity() {
        float a = 1.75f, b = -0.5f;
        for (int n : PROPERTY_SIZES) {
            float[] x = randn(500 + n, n), y = randn(600 + n, n), z = new float[n];
            for (int i = 0; i < n; i++) z[i] = a * x[i] + b * y[i];
            float[] fx = rfftOf(Kind.RFFT.simd, 1, n, x), fy = rfftOf(Kind.RFFT.simd, 1, n, y), fz = rfftOf(Kind.RFFT.simd, 1, n, z);
            double t = 3 * tol(n, norm(x, 0, n) * Math.abs(a) + norm(y, 0, n) * Math.abs(b));
            for (int i = 0; i < fz.length; i++) {
                double e = a * (double) fx[i] + b * (double) fy[i];
                if (!(Math.abs(e - fz[i]) <= t)) fail("linearity n=" + n + " element " + i + ": " + fz[i] + " vs " + e);
            }
        }
    }

    @Test
    void parseval() {
        for (int n : PROPERTY_SIZES) {
            float[] x = randn(700 + n, n);
            float[] f = rfftOf(Kind.RFFT.simd, 1, n, x);
            double time = 0, freq = 0;
            for (float v : x) time += (double) v * v;
            for (int k = 0; k <= n / 2; k++) {
                double p = (double) f[2 * k] * f[2 * k] + (double) f[2 * k + 1] * f[2 * k + 1];
                boolean single = k == 0 || 2 * k == n; // DC and Nyquist appear once in the full spectrum
                freq += single ? p : 2 * p;
            }
            double rel = Math.abs(freq / n - time) / time;
            assertTrue(rel <= 4 * EPS * lg(n) * 2, "Parseval n=" + n + ": relative gap " + rel);
        }
    }

    @Test
    void simdResultIndependentOfThreadCount() {
        int before = Parallel.threads();
        try {
            for (int n : new int[] {256, 1000}) {
                int batch = 8 * L + 3;
                float[] x = randn(800 + n, batch * n);
                Parallel.setThreads(1);
                float[] one = rfftOf(Kind.RFFT.simd, batch, n, x);
                Parallel.setThreads(3);
                float[] three = rfftOf(Kind.RFFT.simd, batch, n, x);
                KernelTestSupport.assertBitEqual("threads 1 vs 3, n=" + n, one, three);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void plansBuiltConcurrentlyAgree() throws Exception {
        int[] ns = {333, 334, 335, 336, 337, 338};
        float[][] seq = new float[ns.length][];
        float[][] par = new float[ns.length][];
        Thread[] th = new Thread[ns.length];
        for (int i = 0; i < ns.length; i++) {
            final int j = i;
            th[i] = new Thread(() -> par[j] = rfftOf(Kind.RFFT.scalar, 2, ns[j], randn(900 + ns[j], 2 * ns[j])));
            th[i].start();
        }
        for (Thread t : th) t.join();
        for (int i = 0; i < ns.length; i++) {
            seq[i] = rfftOf(Kind.RFFT.scalar, 2, ns[i], randn(900 + ns[i], 2 * ns[i]));
            KernelTestSupport.assertBitEqual("concurrent plan n=" + ns[i], seq[i], par[i]);
        }
    }

    // ---------------------------------------------------------------- hand cases

    @Test
    void deltaGivesFlatSpectrumAndShiftedDeltaGivesTwiddles() {
        for (Kernel k : new Kernel[] {Kind.RFFT.scalar, Kind.RFFT.simd}) {
            for (int n : new int[] {1, 2, 7, 16, 100, 1024}) {
                float[] d = new float[n];
                d[0] = 1;
                float[] f = rfftOf(k, 1, n, d);
                for (int j = 0; j <= n / 2; j++) {
                    assertEquals(1.0, f[2 * j], 1e-6, "delta n=" + n + " re " + j);
                    assertEquals(0.0, f[2 * j + 1], 1e-6, "delta n=" + n + " im " + j);
                }
                if (n < 2) continue;
                d[0] = 0;
                d[1] = 1;
                f = rfftOf(k, 1, n, d);
                for (int j = 0; j <= n / 2; j++) {
                    assertEquals(Math.cos(2 * Math.PI * j / n), f[2 * j], 1e-6, "shifted delta n=" + n + " re " + j);
                    assertEquals(-Math.sin(2 * Math.PI * j / n), f[2 * j + 1], 1e-6, "shifted delta n=" + n + " im " + j);
                }
            }
        }
    }

    @Test
    void constantGivesDcOnly() {
        for (Kernel k : new Kernel[] {Kind.RFFT.scalar, Kind.RFFT.simd}) {
            for (int n : new int[] {1, 2, 9, 64, 1000}) {
                float[] c = new float[n];
                java.util.Arrays.fill(c, 0.25f);
                float[] f = rfftOf(k, 1, n, c);
                assertEquals(0.25 * n, f[0], 1e-6 * n, "DC n=" + n);
                assertEquals(0.0, f[1], 0.0, "DC imag n=" + n);
                for (int j = 2; j < f.length; j++) assertEquals(0.0, f[j], 1e-6 * Math.sqrt(n), "non-DC n=" + n + " element " + j);
            }
        }
    }

    @Test
    void exactSmallCases() {
        for (Kernel k : new Kernel[] {Kind.RFFT.scalar, Kind.RFFT.simd}) {
            float[] f4 = rfftOf(k, 1, 4, new float[] {1, 2, 3, 4});
            KernelTestSupport.assertClose("rfft [1,2,3,4]", new float[] {10, 0, -2, 2, -2, 0}, f4, 1e-6, 0);
            float[] f3 = rfftOf(k, 1, 3, new float[] {1, 2, 3});
            KernelTestSupport.assertClose("rfft [1,2,3]", new float[] {6, 0, -1.5f, (float) (Math.sqrt(3) / 2)}, f3, 1e-6, 0);
        }
        for (Kernel k : new Kernel[] {Kind.IRFFT.scalar, Kind.IRFFT.simd}) {
            float[] x = new float[4];
            // imaginary parts of bins 0 and n/2 (99, -7) must be ignored
            k.run(1, 4, Mem.of(new float[] {10, 99, -2, 2, -2, -7}), 0, 6, Mem.of(x), 0, 4);
            KernelTestSupport.assertClose("irfft -> [1,2,3,4]", new float[] {1, 2, 3, 4}, x, 1e-6, 0);
        }
        for (Kernel k : new Kernel[] {Kind.DCT1.scalar, Kind.DCT1.simd}) {
            float[] y = new float[3];
            k.run(1, 2, Mem.of(new float[] {1, 2, 3}), 0, 3, Mem.of(y), 0, 3);
            KernelTestSupport.assertClose("dct1 [1,2,3]", new float[] {8, -2, 0}, y, 1e-6, 0);
            float[] y1 = new float[2];
            k.run(1, 1, Mem.of(new float[] {5, 2}), 0, 2, Mem.of(y1), 0, 2);
            KernelTestSupport.assertClose("dct1 n=1", new float[] {7, 3}, y1, 0, 0);
        }
    }

    /** Samples of T_q at the Chebyshev-Lobatto points cos(pi j/n): the DCT-I is n at k = q (2n at the ends), else 0. */
    @Test
    void dct1OfChebyshevSampleRecoversOneCoefficient() {
        for (Kernel k : new Kernel[] {Kind.DCT1.scalar, Kind.DCT1.simd}) {
            for (int n : new int[] {1, 8, 16, 100, 129, 1024}) {
                for (int q : new int[] {0, 1, n / 3, n / 2, n - 1, n}) {
                    int batch = 2;
                    float[] x = new float[batch * (n + 1)];
                    for (int r = 0; r < batch; r++) {
                        for (int j = 0; j <= n; j++) {
                            // T_q(cos th) = cos(q th); reduce q j mod 2n for an exact angle
                            x[r * (n + 1) + j] = (float) Math.cos(Math.PI * (((long) q * j) % (2L * n)) / n);
                        }
                    }
                    float[] y = new float[batch * (n + 1)];
                    k.run(batch, n, Mem.of(x), 0, n + 1, Mem.of(y), 0, n + 1);
                    double t = 8 * EPS * lg(2 * n) * 2 * Math.sqrt(n + 1.0);
                    for (int r = 0; r < batch; r++) {
                        for (int j = 0; j <= n; j++) {
                            double e = j == q ? (q == 0 || q == n ? 2.0 * n : n) : 0;
                            double got = y[r * (n + 1) + j];
                            if (!(Math.abs(got - e) <= t + 2 * EPS * e)) fail("T_" + q + " n=" + n + " coefficient " + j + ": " + got + " vs " + e);
                        }
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- edges and errors

    @Test
    void emptyBatchWritesNothing() {
        for (Kind kind : Kind.values()) {
            for (Kernel k : new Kernel[] {kind.scalar, kind.simd}) {
                float[] out = {SENTINEL, SENTINEL};
                k.run(0, 5, Mem.of(new float[0]), 0, kind.inWidth(5), Mem.of(out), 0, kind.outWidth(5));
                assertEquals(SENTINEL, out[0]);
            }
        }
    }

    @Test
    void badArgumentsNameTheKernel() {
        for (Kind kind : Kind.values()) {
            for (Kernel k : new Kernel[] {kind.scalar, kind.simd}) {
                int n = 8, wi = kind.inWidth(n), wo = kind.outWidth(n);
                MemorySegment in = Mem.of(new float[4 * wi]), out = Mem.of(new float[4 * wo]);
                String name = kind.name().toLowerCase();
                assertThrows(IllegalArgumentException.class, () -> k.run(1, 0, in, 0, wi, out, 0, wo), name + " n=0");
                assertThrows(IllegalArgumentException.class, () -> k.run(-1, n, in, 0, wi, out, 0, wo), name + " batch<0");
                assertThrows(IllegalArgumentException.class, () -> k.run(2, n, in, 0, wi - 1, out, 0, wo), name + " ld_in");
                assertThrows(IllegalArgumentException.class, () -> k.run(2, n, in, 0, wi, out, 0, wo - 1), name + " ld_out");
                assertThrows(IllegalArgumentException.class, () -> k.run(5, n, in, 0, wi, out, 0, wo), name + " input range");
                assertThrows(IllegalArgumentException.class, () -> k.run(4, n, in, 0, wi, out, 1, wo), name + " output range");
                assertThrows(IllegalArgumentException.class, () -> k.run(1, n, in, -1, wi, out, 0, wo), name + " negative offset");
                assertThrows(IllegalArgumentException.class, () -> k.run(1, n, null, 0, wi, out, 0, wo), name + " null");
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.run(1, 0, in, 0, wi, out, 0, wo));
                assertTrue(e.getMessage().contains(kind == Kind.DCT1 ? "dct1" : kind == Kind.RFFT ? "rfft" : "irfft"), e.getMessage());
            }
        }
    }
}
