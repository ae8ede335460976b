package kdrec.gpu;

import static kdrec.gpu.SparseGpuTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import kdrec.cpu.SpmmScalar;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GpuSpmm against kdrec.cpu.SpmmScalar: spmm, spmmRows, spmmT over a host-built Transpose
 * (deterministic: checked bit-identical across two runs) and the atomic spmmT (float atomics: only
 * within tolerance). Random CSR with ~25% empty rows, repeated columns, some rows longer than a warp,
 * ptr[0] &gt; 0 with poisoned entries before it, unaligned offsets and leading dims; beta = 0 runs on
 * a NaN-filled Y (must not propagate). Every element of Y outside the output block must come back
 * unchanged. Argument checks: SparseArgsTest (no GPU needed).
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class SpmmGpuTest {
    private static final int[] ROWS = {0, 1, 31, 32, 33, 1021};
    private static final int[] DIMS = {1, 20, 64, 300};

    /** A CSR operand; entries before ptr[0] = base are poison (column 0, value 1000) never to be read. */
    record Sparse(int m, int n, int[] ptr, int[] col, float[] val) {}

    static Sparse csr(long seed, int m, int n, boolean ones, int base) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ptr = new int[m + 1];
        int[] len = new int[m];
        int nnz = 0;
        for (int i = 0; i < m; i++) {
            // ~25% empty rows, ~10% long rows (more entries than a warp: several shuffle batches)
            int kind = r.nextInt(20);
            len[i] = n == 0 || kind < 5 ? 0 : kind < 7 ? 33 + r.nextInt(70) : 1 + r.nextInt(12);
            nnz += len[i];
        }
        int[] col = new int[base + nnz];
        float[] val = ones ? null : new float[base + nnz];
        ptr[0] = base;
        int k = base;
        for (int i = 0; i < m; i++) {
            for (int e = 0; e < len[i]; e++, k++) {
                col[k] = e > 0 && e % 3 == 0 ? col[k - 1] : r.nextInt(n); // every third entry repeats a column
                if (val != null) val[k] = (float) (2 * r.nextDouble() - 1);
            }
            ptr[i + 1] = k;
        }
        if (val != null) Arrays.fill(val, 0, base, 1000f);
        return new Sparse(m, n, ptr, col, val);
    }

    /** Layouts: (xOff, ldx extra, yOff, ldy extra). */
    private static final int[][] LAYOUTS = {{0, 0, 0, 0}, {3, 5, 7, 3}};

    @Test
    void spmmMatchesScalar() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        long seed = 1;
        for (int m : ROWS) {
            for (int d : DIMS) {
                for (boolean ones : new boolean[] {false, true}) {
                    for (int[] lay : LAYOUTS) {
                        int n = m / 2 + 3;
                        Sparse a = csr(seed++, m, n, ones, lay[0] == 0 ? 0 : 5);
                        float beta = lay[0] == 0 ? 0f : 0.5f;
                        runSpmm(cuda, seed++, a, d, lay[0], d + lay[1], beta, lay[2], d + lay[3], null);
                    }
                }
            }
        }
        // large: 30k rows (grid-stride loop past the 65,536-block cap at d > 16), 20k columns
        runSpmm(cuda, 91, csr(90, 30_000, 20_000, false, 0), 64, 1, 65, 0.25f, 2, 67, null);
        runSpmm(cuda, 93, csr(92, 30_000, 20_000, true, 0), 20, 0, 20, 0f, 0, 20, null);
        assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
    }

    @Test
    void spmmRowsMatchesScalar() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        long seed = 100;
        for (int nRows : new int[] {0, 1, 31, 33, 1021}) {
            for (int d : DIMS) {
                Sparse a = csr(seed++, 257, 131, (nRows & 1) == 0, 3);
                int[] rows = indices(seed++, nRows, a.m); // repeats and empty rows included
                runSpmm(cuda, seed++, a, d, 3, d + 2, nRows % 3 == 0 ? 0f : -1.5f, 5, d + 1, rows);
            }
        }
        assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
    }

    /** spmm (rows == null) or spmmRows on the GPU against the scalar twin, same inputs. */
    private static void runSpmm(Cuda cuda, long seed, Sparse a, int d, int xOff, int ldx, float beta, int yOff, int ldy, int[] rows) {
        int outRows = rows == null ? a.m : rows.length;
        float[] x = uniform(seed, span(xOff, a.n, d, ldx));
        float[] y0 = uniform(seed + 1, span(yOff, outRows, d, ldy));
        if (beta == 0f) Arrays.fill(y0, Float.NaN);
        float[] expected = y0.clone();
        String what;
        if (rows == null) {
            SpmmScalar.spmm(a.m, d, a.ptr, a.col, a.val, seg(x.clone()), xOff, ldx, beta, seg(expected), yOff, ldy);
            what = "spmm m=" + a.m;
        } else {
            SpmmScalar.spmmRows(rows.length, rows, d, a.ptr, a.col, a.val, seg(x.clone()), xOff, ldx, beta, seg(expected), yOff, ldy);
            what = "spmmRows nRows=" + rows.length;
        }
        what += " n=" + a.n + " d=" + d + " nnz=" + (a.ptr[a.m] - a.ptr[0]) + " ptr[0]=" + a.ptr[0] + (a.val == null ? " ones" : "")
                + " xOff=" + xOff + " ldx=" + ldx + " yOff=" + yOff + " ldy=" + ldy + " beta=" + beta;
        try (DeviceBuffer dptr = cuda.upload(a.ptr); DeviceBuffer dcol = cuda.upload(a.col);
             DeviceBuffer dval = a.val == null ? null : cuda.upload(a.val); DeviceBuffer dx = cuda.upload(x);
             DeviceBuffer dy = cuda.upload(y0); DeviceBuffer drows = rows == null ? null : cuda.upload(rows)) {
            if (rows == null) GpuSpmm.spmm(cuda, a.m, d, dptr, dcol, dval, dx, xOff, ldx, beta, dy, yOff, ldy);
            else GpuSpmm.spmmRows(cuda, rows.length, drows, d, dptr, dcol, dval, dx, xOff, ldx, beta, dy, yOff, ldy);
            assertBlock(what, expected, cuda.downloadFloats(dy, y0.length), yOff, outRows, d, ldy);
        }
    }

    @Test
    void spmmTMatchesScalarBothWays() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        long seed = 200;
        for (int m : ROWS) {
            for (int d : DIMS) {
                for (int[] lay : LAYOUTS) {
                    int n = m / 3 + 2;
                    Sparse a = csr(seed++, m, n, (m + d) % 2 == 0, lay[0] == 0 ? 0 : 4);
                    runSpmmT(cuda, seed++, a, d, lay[0], d + lay[1], lay[0] == 0 ? 0f : 0.75f, lay[2], d + lay[3]);
                }
            }
        }
        runSpmmT(cuda, 291, csr(290, 20_000, 30_000, false, 0), 64, 2, 66, 1f, 3, 64);
        assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
    }

    private static void runSpmmT(Cuda cuda, long seed, Sparse a, int d, int xOff, int ldx, float beta, int yOff, int ldy) {
        float[] x = uniform(seed, span(xOff, a.m, d, ldx));
        float[] y0 = uniform(seed + 1, span(yOff, a.n, d, ldy));
        if (beta == 0f) Arrays.fill(y0, Float.NaN);
        float[] expected = y0.clone();
        SpmmScalar.spmmT(a.m, a.n, d, a.ptr, a.col, a.val, seg(x.clone()), xOff, ldx, beta, seg(expected), yOff, ldy);
        String what = "spmmT m=" + a.m + " n=" + a.n + " d=" + d + " nnz=" + (a.ptr[a.m] - a.ptr[0]) + " ptr[0]=" + a.ptr[0]
                + (a.val == null ? " ones" : "") + " xOff=" + xOff + " ldx=" + ldx + " yOff=" + yOff + " ldy=" + ldy + " beta=" + beta;
        try (DeviceBuffer dptr = cuda.upload(a.ptr); DeviceBuffer dcol = cuda.upload(a.col);
             DeviceBuffer dval = a.val == null ? null : cuda.upload(a.val); DeviceBuffer dx = cuda.upload(x);
             DeviceBuffer dy = cuda.upload(y0); GpuSpmm.Transpose t = GpuSpmm.Transpose.of(cuda, a.m, a.n, a.ptr, a.col)) {
            GpuSpmm.spmmT(cuda, t, d, dval, dx, xOff, ldx, beta, dy, yOff, ldy);
            float[] first = cuda.downloadFloats(dy, y0.length);
            assertBlock(what + " (transpose)", expected, first, yOff, a.n, d, ldy);
            // deterministic: a second run from the same Y gives the same bits
            cuda.upload(seg(y0), 0, dy, y0.length * 4L);
            GpuSpmm.spmmT(cuda, t, d, dval, dx, xOff, ldx, beta, dy, yOff, ldy);
            assertBitEqual(what + " (transpose, second run)", first, cuda.downloadFloats(dy, y0.length));
            // the values are read through the permutation on every call: new values, same structure
            if (a.val != null) {
                float[] val2 = a.val.clone();
                for (int k = a.ptr[0]; k < val2.length; k++) val2[k] = val2[k] * -2f + 0.125f;
                float[] expected2 = y0.clone();
                SpmmScalar.spmmT(a.m, a.n, d, a.ptr, a.col, val2, seg(x.clone()), xOff, ldx, beta, seg(expected2), yOff, ldy);
                cuda.upload(seg(val2), 0, dval, val2.length * 4L);
                cuda.upload(seg(y0), 0, dy, y0.length * 4L);
                GpuSpmm.spmmT(cuda, t, d, dval, dx, xOff, ldx, beta, dy, yOff, ldy);
                assertBlock(what + " (transpose, new values)", expected2, cuda.downloadFloats(dy, y0.length), yOff, a.n, d, ldy);
                cuda.upload(seg(a.val), 0, dval, a.val.length * 4L);
            }
            // the CPU signature: beta scaling, then float atomics (order varies; tolerance only)
            cuda.upload(seg(y0), 0, dy, y0.length * 4L);
            GpuSpmm.spmmT(cuda, a.m, a.n, d, dptr, dcol, dval, dx, xOff, ldx, beta, dy, yOff, ldy);
            assertBlock(what + " (atomic)", expected, cuda.downloadFloats(dy, y0.length), yOff, a.n, d, ldy);
        }
    }
}
