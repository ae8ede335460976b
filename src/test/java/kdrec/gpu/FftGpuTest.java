package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import kdrec.cpu.FftScalar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GpuFft (native/fft.cu) against its CPU twin kdrec.cpu.FftScalar: rfft, irfft and dct1 over the
 * lengths of the brief (1..5000, powers of two, primes, Bluestein sizes) plus 16384 (the global-memory
 * path of the power-of-two kernel), batches 1 and 7, unaligned offsets and padded leading dims; each
 * once on the default path (shared memory up to m = 4096) and once on a plan forced onto the global
 * scratch path. Elements outside the output rows must keep their sentinel (bounds). Also the round
 * trip irfft(rfft(x)) = x, batches larger than the grid (the blocks' row loop), run-to-run
 * determinism (no atomics anywhere: bit-identical), the plan cache, and no leaked device memory.
 * Tolerance: GpuAssert's norm-wise 1e-5.
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class FftGpuTest {
    static final int[] SIZES = {1, 2, 3, 4, 5, 7, 8, 16, 17, 31, 32, 33, 64, 100, 127, 128, 1021, 1024, 4096, 5000, 16384};
    static final int[] BATCHES = {1, 7};
    static final float SENTINEL = 777.25f;
    static final int IN_OFF = 5, OUT_OFF = 3, LD_PAD_IN = 3, LD_PAD_OUT = 1;

    enum Op {
        RFFT, IRFFT, DCT1;

        int inWidth(int n) {
            return this == RFFT ? n : this == IRFFT ? 2 * (n / 2 + 1) : n + 1;
        }

        int outWidth(int n) {
            return this == RFFT ? 2 * (n / 2 + 1) : this == IRFFT ? n : n + 1;
        }

        /** Length of the real FFT underneath (its plan's length). */
        int fftLen(int n) {
            return this == DCT1 ? 2 * n : n;
        }

        void cpu(int batch, int n, MemorySegment in, long iOff, int ldi, MemorySegment out, long oOff, int ldo) {
            switch (this) {
                case RFFT -> FftScalar.rfft(batch, n, in, iOff, ldi, out, oOff, ldo);
                case IRFFT -> FftScalar.irfft(batch, n, in, iOff, ldi, out, oOff, ldo);
                case DCT1 -> FftScalar.dct1(batch, n, in, iOff, ldi, out, oOff, ldo);
            }
        }

        /** The public entry (cached plan), or with `plan` the package-private path it takes. */
        void gpu(Cuda cuda, GpuFft.Plan plan, int batch, int n, DeviceBuffer in, long iOff, int ldi, DeviceBuffer out, long oOff, int ldo) {
            if (plan == null) {
                switch (this) {
                    case RFFT -> GpuFft.rfft(cuda, batch, n, in, iOff, ldi, out, oOff, ldo);
                    case IRFFT -> GpuFft.irfft(cuda, batch, n, in, iOff, ldi, out, oOff, ldo);
                    case DCT1 -> GpuFft.dct1(cuda, batch, n, in, iOff, ldi, out, oOff, ldo);
                }
            } else {
                switch (this) {
                    case RFFT -> GpuFft.forward(cuda, plan, batch, in, iOff, ldi, out, oOff, ldo, 0);
                    case IRFFT -> GpuFft.inverse(cuda, plan, batch, in, iOff, ldi, out, oOff, ldo);
                    case DCT1 -> GpuFft.forward(cuda, plan, batch, in, iOff, ldi, out, oOff, ldo, 1);
                }
            }
        }
    }

    private Cuda cuda;
    private long startBytes;

    @BeforeEach
    void open() {
        cuda = CudaProbe.cuda();
        GpuFft.closePlans(cuda);
        startBytes = cuda.allocatedBytes();
    }

    @AfterEach
    void noLeaks() {
        GpuFft.closePlans(cuda);
        assertEquals(startBytes, cuda.allocatedBytes(), "device bytes still allocated after the test (leak)");
    }

    @Test
    void rfftMatchesCpu() {
        sweep(Op.RFFT, false);
    }

    @Test
    void irfftMatchesCpu() {
        sweep(Op.IRFFT, false);
    }

    @Test
    void dct1MatchesCpu() {
        sweep(Op.DCT1, false);
    }

    /** Every length on the global-memory scratch path, which large n take by default. */
    @Test
    void globalPathMatchesCpu() {
        for (Op op : Op.values()) sweep(op, true);
    }

    private void sweep(Op op, boolean forceGlobal) {
        for (int n : SIZES) {
            if (forceGlobal && op.fftLen(n) < 2) continue; // n = 1 rfft/irfft has no plan (a copy kernel)
            // one forced plan for both batches: the second, larger batch grows its scratch
            try (GpuFft.Plan plan = forceGlobal ? new GpuFft.Plan(cuda, op.fftLen(n), true) : null) {
                for (int batch : BATCHES) compare(op, n, batch, plan, 1000L * n + 10L * batch + op.ordinal());
            }
        }
    }

    /** Runs op on the GPU and on the CPU on the same random rows; checks the rows and the gaps. */
    private void compare(Op op, int n, int batch, GpuFft.Plan plan, long seed) {
        int inW = op.inWidth(n), outW = op.outWidth(n), ldi = inW + LD_PAD_IN, ldo = outW + LD_PAD_OUT;
        String what = op + " n=" + n + " batch=" + batch + (plan == null ? " (default path)" : " (forced global path)")
                + " ldi=" + ldi + " ldo=" + ldo + " offsets " + IN_OFF + "/" + OUT_OFF;
        float[] in = random(IN_OFF + (long) (batch - 1) * ldi + inW + 2, seed);
        float[] expected = filled(OUT_OFF + (long) (batch - 1) * ldo + outW + 2);
        op.cpu(batch, n, MemorySegment.ofArray(in), IN_OFF, ldi, MemorySegment.ofArray(expected), OUT_OFF, ldo);
        float[] actual;
        try (DeviceBuffer dIn = cuda.upload(in); DeviceBuffer dOut = cuda.upload(filled(expected.length))) {
            op.gpu(cuda, plan, batch, n, dIn, IN_OFF, ldi, dOut, OUT_OFF, ldo);
            actual = cuda.downloadFloats(dOut, expected.length);
            assertArrayEquals(in, cuda.downloadFloats(dIn, in.length), what + ": the input was modified");
        }
        checkRows(expected, actual, batch, outW, ldo, what);
    }

    /** Row elements within 1e-5 norm-wise; everything else still the sentinel (no stray writes). */
    private static void checkRows(float[] expected, float[] actual, int batch, int outW, int ldo, String what) {
        float[] e = new float[batch * outW], a = new float[batch * outW];
        boolean[] inRow = new boolean[expected.length];
        for (int r = 0; r < batch; r++) {
            for (int j = 0; j < outW; j++) {
                int i = OUT_OFF + r * ldo + j;
                e[r * outW + j] = expected[i];
                a[r * outW + j] = actual[i];
                inRow[i] = true;
            }
        }
        for (int i = 0; i < actual.length; i++) {
            if (!inRow[i] && actual[i] != SENTINEL) {
                fail(what + ": wrote " + actual[i] + " at element " + i + ", outside every output row");
            }
        }
        GpuAssert.assertClose(e, a, what);
    }

    @Test
    void roundTripRecoversTheSignal() {
        for (int n : SIZES) {
            for (int batch : BATCHES) {
                int bins = 2 * (n / 2 + 1);
                float[] x = random((long) batch * n, 77L * n + batch);
                try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer spec = cuda.allocElements((long) batch * bins);
                        DeviceBuffer back = cuda.allocElements((long) batch * n)) {
                    GpuFft.rfft(cuda, batch, n, dx, 0, n, spec, 0, bins);
                    GpuFft.irfft(cuda, batch, n, spec, 0, bins, back, 0, n);
                    GpuAssert.assertClose(x, cuda.downloadFloats(back, batch * n), "irfft(rfft(x)) n=" + n + " batch=" + batch);
                }
            }
        }
    }

    /** More rows than blocks: 70,000 rows on the shared path (grid capped at 65,536) and 600 on the
     *  global path (grid capped at SCRATCH_MAX_ROWS = 528), so blocks loop over rows. */
    @Test
    void batchesLargerThanTheGrid() {
        compare(Op.RFFT, 8, 70_000, null, 1);
        compare(Op.IRFFT, 8, 70_000, null, 2);
        for (int n : new int[] {33, 64}) {
            try (GpuFft.Plan p = new GpuFft.Plan(cuda, n, true)) {
                compare(Op.RFFT, n, 600, p, 3);
                compare(Op.IRFFT, n, 600, p, 4);
            }
            try (GpuFft.Plan p = new GpuFft.Plan(cuda, 2 * n, true)) {
                compare(Op.DCT1, n, 600, p, 5);
            }
        }
    }

    /** A larger batch on the default path of the sizes FreqD uses. */
    @Test
    void largeBatch() {
        compare(Op.RFFT, 4096, 300, null, 11);
        compare(Op.IRFFT, 1021, 300, null, 12);
        compare(Op.DCT1, 1024, 300, null, 13);
    }

    /** No atomics: the same call twice gives bit-identical outputs (shared and global paths). */
    @Test
    void deterministic() {
        for (int n : new int[] {1021, 1024, 5000, 16384}) {
            float[] x = random(7L * n, n);
            int bins = 2 * (n / 2 + 1);
            try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer o1 = cuda.allocElements(7L * bins);
                    DeviceBuffer o2 = cuda.allocElements(7L * bins)) {
                GpuFft.rfft(cuda, 7, n, dx, 0, n, o1, 0, bins);
                GpuFft.rfft(cuda, 7, n, dx, 0, n, o2, 0, bins);
                assertArrayEquals(cuda.downloadFloats(o1, 7 * bins), cuda.downloadFloats(o2, 7 * bins), "rfft n=" + n + " run twice");
            }
        }
    }

    @Test
    void plansAreCachedAndFreed() {
        GpuFft.Plan p = GpuFft.plan(cuda, 100);
        assertSame(p, GpuFft.plan(cuda, 100), "one cached plan per length");
        assertTrue(cuda.allocatedBytes() > startBytes, "a plan holds device tables");
        p.close();
        assertEquals(startBytes, cuda.allocatedBytes(), "closing the plan frees its tables");
        GpuFft.Plan q = GpuFft.plan(cuda, 100);
        assertNotSame(p, q, "a closed plan leaves the cache");
    }

    @Test
    void emptyBatchLaunchesNothing() {
        try (DeviceBuffer b = cuda.allocElements(4)) {
            GpuFft.rfft(cuda, 0, 5000, b, 0, 5000, b, 0, 5002);
            GpuFft.irfft(cuda, 0, 64, b, 0, 66, b, 0, 64);
            GpuFft.dct1(cuda, 0, 100, b, 0, 101, b, 0, 101);
            cuda.synchronize();
        }
    }

    static float[] random(long len, long seed) {
        Random rnd = new Random(seed);
        float[] a = new float[Math.toIntExact(len)];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    static float[] filled(long len) {
        float[] a = new float[Math.toIntExact(len)];
        java.util.Arrays.fill(a, SENTINEL);
        return a;
    }
}
