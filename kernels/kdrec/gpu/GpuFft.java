package kdrec.gpu;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import kdrec.cpu.FftScalar;

/**
 * Batched real FFT of any length, its inverse, and the DCT-I on the GPU: the CUDA twin of
 * {@link kdrec.cpu.FftScalar}, same signatures (segments become device buffers, offsets stay in
 * elements), same contracts (half-spectrum layout, 1/n in the inverse, unnormalised DCT-I of length
 * n+1), same algorithms and the very same float tables (native/fft.cu has the kernel side).
 *
 * <p>Decomposition: one thread block per row (blocks loop over rows when the batch exceeds the grid).
 * The row's complex work array of length m (n/2 for a power-of-two n, the Bluestein padding
 * 2^ceil(log2(2n-1)) otherwise; for dct1 the transform length is 2n) sits in dynamic shared memory
 * when m &lt;= {@value #SHARED_MAX_M} (8*m bytes, at most 32 KiB: below the 48 KiB a launch gets
 * without an opt-in attribute, which {@link Cuda} does not expose), and otherwise in a per-plan global
 * scratch of 8*m bytes per resident block (the "global path": the same kernel code, slower, L2-bound).
 * Lengths: 1 &lt;= n &lt;= {@value #MAX_N} for rfft/irfft, n &lt;= {@value #MAX_N}/2 for dct1 (a larger
 * n is an IllegalArgumentException naming the limit); FreqD needs a few thousand at most.
 *
 * <p>Tables (twiddles, post-processing twiddles, the chirp and its spectrum) are computed on the host
 * in double from exact angles, rounded once to float exactly as {@code kdrec.cpu.FftPlan} does, and
 * uploaded once per length into a {@link Plan}. The public entry points use plans cached per context
 * and length (a few KiB each, kept for the life of the context, like the CPU's plan cache);
 * {@link #closePlans(Cuda)} frees them. No allocation per call, except the global-path scratch, which
 * grows once to the largest batch seen (capped at {@value #SCRATCH_MAX_ROWS} rows and 256 MiB).
 *
 * <p>No atomics: results are deterministic run to run. Input and output ranges must not overlap.
 */
public final class GpuFft {
    private GpuFft() {}

    /** Largest rfft/irfft length (dct1: half of it). */
    public static final int MAX_N = 1 << 20;
    /** Largest complex work length kept in shared memory (2 float arrays of m: 32 KiB). */
    static final int SHARED_MAX_M = 4096;
    /** Threads per block at most (kdrec_fft::kMaxThreads, the kernels' __launch_bounds__). */
    static final int MAX_THREADS = 512;
    /** Global path: blocks (and scratch rows) at most; enough to fill an H100 (132 SMs x 4 blocks). */
    static final int SCRATCH_MAX_ROWS = 528;
    private static final long SCRATCH_MAX_BYTES = 256L << 20;
    private static final int MAX_GRID = 65_536;

    private static final Map<Cuda, Map<Integer, Plan>> PLANS = new ConcurrentHashMap<>();

    /**
     * Device tables for one transform length n >= 2 (see {@code kdrec.cpu.FftPlan}). AutoCloseable:
     * closing frees the tables and the scratch (and drops the plan from the cache if it is the cached one).
     */
    public static final class Plan implements AutoCloseable {
        final Cuda cuda;
        /** Transform length, inner complex length, algorithm, where the work array lives. */
        final int n, m;
        final boolean bluestein, global;
        /** All tables in one allocation; tw, post (power of two) or chirp, bhat (Bluestein) are views. */
        private final DeviceBuffer tables;
        final DeviceBuffer tw, second, bhat;
        private DeviceBuffer scratch;
        private int scratchRows;
        private boolean closed;

        Plan(Cuda cuda, int n, boolean forceGlobal) {
            if (n < 2 || n > MAX_N) throw new IllegalArgumentException("GpuFft.Plan: need 2 <= n <= " + MAX_N + ", got " + n);
            this.cuda = cuda;
            this.n = n;
            this.bluestein = Integer.bitCount(n) != 1;
            this.m = bluestein ? Integer.highestOneBit(2 * n - 2) << 1 : n / 2;
            this.global = forceGlobal || m > SHARED_MAX_M;
            float[] host = hostTables(n, m, bluestein);
            int twLen = 2 * (m / 2), secondLen = bluestein ? 2 * n : 2 * (m + 1);
            this.tables = cuda.upload(host);
            this.tw = tables.slice(0, 4L * twLen);
            this.second = tables.slice(4L * twLen, 4L * secondLen);
            this.bhat = bluestein ? tables.slice(4L * (twLen + secondLen), 8L * m) : tables;
        }

        /** Threads per block: one per butterfly of a stage, 32..512. */
        int threads() {
            return Math.min(MAX_THREADS, Math.max(32, m / 2));
        }

        /** Blocks for `batch` rows; on the global path also makes sure the scratch holds that many.
         *  Callers hold the plan's lock from here through the launch, so a concurrent caller that grows
         *  the scratch cannot free it between this call and {@link #gwork()}. */
        int grid(int batch) {
            if (closed) throw new IllegalStateException("GpuFft.Plan(n=" + n + ") is closed");
            if (!global) return Math.min(batch, MAX_GRID);
            int rows = (int) Math.min(Math.min(batch, SCRATCH_MAX_ROWS), Math.max(1, SCRATCH_MAX_BYTES / (8L * m)));
            if (rows > scratchRows) {
                // Growing: an earlier launch may still use the old scratch (same stream, but free must
                // not race it), so wait before freeing. Happens once per larger batch, not per call.
                if (scratch != null) {
                    cuda.synchronize();
                    scratch.close();
                }
                scratch = cuda.allocElements(2L * m * rows);
                scratchRows = rows;
            }
            return rows;
        }

        /** The kernels' gwork argument: the scratch, or a null device pointer for the shared path. */
        Object gwork() {
            return global ? scratch : (Object) 0L; // a by-value 64-bit zero is the kernel's nullptr
        }

        /** Dynamic shared bytes of a launch: the two float work arrays, or none on the global path. */
        int sharedBytes() {
            return global ? 0 : 8 * m;
        }

        @Override
        public synchronized void close() {
            if (closed) return;
            closed = true;
            Map<Integer, Plan> byN = PLANS.get(cuda); // (Map.of() would throw on remove)
            if (byN != null) byN.remove(n, this);      // only if this is the cached plan
            try {
                cuda.synchronize(); // a queued launch may still read the tables: never free under it
            } finally {
                tables.close();
                if (scratch != null) scratch.close();
                scratch = null;
            }
        }
    }

    /** The cached plan for length n >= 2 on this context (created and uploaded on first use). */
    public static Plan plan(Cuda cuda, int n) {
        Map<Integer, Plan> byN = PLANS.computeIfAbsent(cuda, c -> new ConcurrentHashMap<>());
        Plan p = byN.get(n);
        return p != null ? p : byN.computeIfAbsent(n, k -> new Plan(cuda, k, false));
    }

    /** Frees every cached plan of this context (device tables and scratch). */
    public static void closePlans(Cuda cuda) {
        Map<Integer, Plan> byN = PLANS.remove(cuda);
        if (byN != null) for (Plan p : byN.values()) p.close();
    }

    /** Forward real FFT, as {@link kdrec.cpu.FftScalar#rfft}: row r of x at xOff + r*ldx (n reals) to
     *  bins k = 0..n/2 interleaved (re, im) at out[oOff + r*ldo + 2k], ldo >= 2*(n/2+1). */
    public static void rfft(Cuda cuda, int batch, int n, DeviceBuffer x, long xOff, int ldx, DeviceBuffer out, long oOff, int ldo) {
        check("GpuFft.rfft", batch, n, MAX_N, x, xOff, ldx, n, out, oOff, ldo, 2 * (n / 2 + 1));
        if (batch == 0) return;
        if (n == 1) {
            cuda.launch1d(cuda.kernel("kdrec_fft_len1"), batch, 256, x.at(xOff), ldx, out.at(oOff), ldo, batch, 1);
            return;
        }
        forward(cuda, plan(cuda, n), batch, x, xOff, ldx, out, oOff, ldo, 0);
    }

    /** Inverse, as {@link kdrec.cpu.FftScalar#irfft}: bins 0..n/2 (Im of bin 0 and, n even, bin n/2
     *  ignored) to the real signal, scaled by 1/n so irfft(rfft(x)) = x. */
    public static void irfft(Cuda cuda, int batch, int n, DeviceBuffer in, long iOff, int ldi, DeviceBuffer x, long xOff, int ldx) {
        check("GpuFft.irfft", batch, n, MAX_N, in, iOff, ldi, 2 * (n / 2 + 1), x, xOff, ldx, n);
        if (batch == 0) return;
        if (n == 1) {
            cuda.launch1d(cuda.kernel("kdrec_fft_len1"), batch, 256, in.at(iOff), ldi, x.at(xOff), ldx, batch, 0);
            return;
        }
        inverse(cuda, plan(cuda, n), batch, in, iOff, ldi, x, xOff, ldx);
    }

    /** DCT-I, as {@link kdrec.cpu.FftScalar#dct1}: rows of n+1 values (n >= 1) to
     *  y_k = x_0 + (-1)^k x_n + 2 sum_{j=1}^{n-1} x_j cos(pi j k / n), k = 0..n; one real FFT of length 2n. */
    public static void dct1(Cuda cuda, int batch, int n, DeviceBuffer x, long xOff, int ldx, DeviceBuffer y, long yOff, int ldy) {
        check("GpuFft.dct1", batch, n, MAX_N / 2, x, xOff, ldx, n + 1, y, yOff, ldy, n + 1);
        if (batch == 0) return;
        forward(cuda, plan(cuda, 2 * n), batch, x, xOff, ldx, y, yOff, ldy, 1);
    }

    /** Forward transform of length p.n with plan p (dct = 1: p.n = 2 * the DCT's n, real parts only).
     *  Arguments already checked; package-private so tests can pass a plan forced onto the global path. */
    static void forward(Cuda cuda, Plan p, int batch, DeviceBuffer x, long xOff, int ldx, DeviceBuffer out, long oOff, int ldo, int dct) {
        synchronized (p) { // launches are asynchronous: the lock is held for microseconds
            int grid = p.grid(batch);
            if (!p.bluestein) {
                cuda.launch(cuda.kernel("kdrec_fft_fwd_pow2"), grid, 1, 1, p.threads(), 1, 1, p.sharedBytes(),
                        x.at(xOff), ldx, out.at(oOff), ldo, batch, p.n, dct, p.tw, p.second, p.gwork());
            } else {
                cuda.launch(cuda.kernel("kdrec_fft_fwd_bluestein"), grid, 1, 1, p.threads(), 1, 1, p.sharedBytes(),
                        x.at(xOff), ldx, out.at(oOff), ldo, batch, p.n, p.m, dct, p.tw, p.second, p.bhat, p.gwork());
            }
        }
    }

    /** Inverse transform of length p.n (>= 2) with plan p; arguments already checked. */
    static void inverse(Cuda cuda, Plan p, int batch, DeviceBuffer in, long iOff, int ldi, DeviceBuffer x, long xOff, int ldx) {
        synchronized (p) {
            int grid = p.grid(batch);
            if (!p.bluestein) {
                cuda.launch(cuda.kernel("kdrec_fft_inv_pow2"), grid, 1, 1, p.threads(), 1, 1, p.sharedBytes(),
                        in.at(iOff), ldi, x.at(xOff), ldx, batch, p.n, p.tw, p.second, p.gwork());
            } else {
                cuda.launch(cuda.kernel("kdrec_fft_inv_bluestein"), grid, 1, 1, p.threads(), 1, 1, p.sharedBytes(),
                        in.at(iOff), ldi, x.at(xOff), ldx, batch, p.n, p.m, p.tw, p.second, p.bhat, p.gwork());
            }
        }
    }

    /**
     * The boundary check (before any CUDA call): batch >= 0, 1 <= n <= maxN, leading dims at least the
     * row widths, non-null buffers, offsets >= 0 and both operand ranges inside their buffers.
     */
    static void check(String op, int batch, int n, int maxN, DeviceBuffer in, long inOff, int ldi, int inWidth,
            DeviceBuffer out, long outOff, int ldo, int outWidth) {
        if (batch < 0 || n < 1 || ldi < inWidth || ldo < outWidth) {
            throw new IllegalArgumentException(op + ": need batch >= 0, n >= 1, ld_in >= " + inWidth + ", ld_out >= "
                    + outWidth + "; got batch=" + batch + ", n=" + n + ", ld_in=" + ldi + ", ld_out=" + ldo);
        }
        if (n > maxN) {
            throw new IllegalArgumentException(op + ": n=" + n + " is above this GPU FFT's limit " + maxN
                    + " (the single-block-per-row design; use the CPU FFT)");
        }
        if (in == null || out == null) throw new IllegalArgumentException(op + ": null device buffer");
        if (batch == 0) return;
        range(op + " input", in, inOff, (long) (batch - 1) * ldi + inWidth);
        range(op + " output", out, outOff, (long) (batch - 1) * ldo + outWidth);
    }

    private static void range(String what, DeviceBuffer b, long off, long span) {
        if (off < 0 || off > b.elements() - span) {
            throw new IllegalArgumentException(what + ": elements [" + off + ", " + off + " + " + span + ") outside a buffer of "
                    + b.elements() + " elements");
        }
    }

    /**
     * The host tables in one float array of (cos, sin) pairs: kdrec.cpu.FftScalar.planTables, i.e. the
     * CPU plan's own floats (tw[j] = 2 pi j/m, j < m/2; then post[k] = 2 pi k/n, k <= m, for a power of
     * two, or chirp[t] = pi (t^2 mod 2n)/n, t < n, then the chirp spectrum over m at bit-reversed
     * positions). n, m and bluestein are this plan's; the length check ties the two derivations together.
     */
    static float[] hostTables(int n, int m, boolean bluestein) {
        float[] t = FftScalar.planTables(n);
        int expected = 2 * (m / 2) + (bluestein ? 2 * n + 2 * m : 2 * (m + 1));
        if (t.length != expected) {
            throw new IllegalStateException("GpuFft: tables for n = " + n + " hold " + t.length + " floats, the kernels expect " + expected);
        }
        return t;
    }
}
