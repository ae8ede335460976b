package kdrec.gpu;

import static kdrec.gpu.SparseGpuTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import kdrec.cpu.AdamScalar;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GpuAdam against kdrec.cpu.AdamScalar, several consecutive steps (so moments and bias correction
 * compound), with and without weight decay, beta1 on both sides of torch's lerp switch (w = 1 - beta1
 * below and above 0.5), unaligned offsets. Tighter than the fp32 tolerance: at most 1 ulp per
 * element, because the kernel does AdamScalar's operations in its order with IEEE round-to-nearest
 * intrinsics that are never fused, and the per-step scalars are derived on the host as AdamSimd.Hyper
 * does; the test prints how many elements were not bit-identical (expected: none). stepRows: elements
 * of rows not listed must come back untouched. Argument checks: SparseArgsTest (no GPU needed).
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class AdamGpuTest {
    private static final int[] SIZES = {0, 1, 31, 32, 33, 1021, 1 << 20};
    /** (lr, beta1, beta2, eps, weightDecay). */
    private static final float[][] HYPER = {
        {1e-3f, 0.9f, 0.999f, 1e-8f, 0f},
        {3e-2f, 0.8f, 0.99f, 1e-6f, 1e-2f},
        {1e-1f, 0.3f, 0.5f, 1e-8f, 0.5f},   // w = 0.7 >= 0.5: the other lerp form
    };
    private static final int STEPS = 3;

    @Test
    void stepMatchesScalar() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        long seed = 1;
        for (int n : SIZES) {
            for (float[] h : HYPER) {
                int pOff = (int) (seed % 4), gOff = 1, mOff = 5, vOff = 2;
                float[] p = uniform(seed++, pOff + n + 3), m = uniform(seed++, mOff + n + 3), v = positive(seed++, vOff + n + 3);
                try (DeviceBuffer dp = cuda.upload(p); DeviceBuffer dm = cuda.upload(m); DeviceBuffer dv = cuda.upload(v);
                     DeviceBuffer dg = cuda.allocElements(gOff + n + 3)) {
                    for (int t = 1; t <= STEPS; t++) {
                        float[] g = uniform(seed++, gOff + n + 3);
                        cuda.upload(seg(g), 0, dg, g.length * 4L);
                        AdamScalar.step(n, seg(p), pOff, seg(g), gOff, seg(m), mOff, seg(v), vOff, h[0], h[1], h[2], h[3], h[4], t);
                        GpuAdam.step(cuda, n, dp, pOff, dg, gOff, dm, mOff, dv, vOff, h[0], h[1], h[2], h[3], h[4], t);
                        String what = "adam step n=" + n + " lr=" + h[0] + " beta1=" + h[1] + " beta2=" + h[2] + " eps=" + h[3]
                                + " wd=" + h[4] + " t=" + t + " pOff=" + pOff;
                        compare(cuda, what, p, dp, pOff, n, 1, 1, m, dm, mOff, v, dv, vOff);
                    }
                }
            }
        }
        assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
    }

    @Test
    void stepRowsMatchesScalar() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        long seed = 100;
        for (int nRows : new int[] {0, 1, 31, 32, 33, 1021}) {
            for (int d : new int[] {1, 20, 64, 300}) {
                float[] h = HYPER[(int) (seed % HYPER.length)];
                int tableRows = nRows + 17, ldp = d + 3, ldg = d + 1, pOff = 3, mOff = 1, vOff = 4, gOff = 2;
                float[] p = uniform(seed++, span(pOff, tableRows, d, ldp)), m = uniform(seed++, span(mOff, tableRows, d, ldp));
                float[] v = positive(seed++, span(vOff, tableRows, d, ldp));
                try (DeviceBuffer dp = cuda.upload(p); DeviceBuffer dm = cuda.upload(m); DeviceBuffer dv = cuda.upload(v);
                     DeviceBuffer dg = cuda.allocElements(span(gOff, nRows, d, ldg)); DeviceBuffer drows = cuda.allocElements(Math.max(1, nRows))) {
                    for (int t = 1; t <= STEPS; t++) {
                        int[] rows = distinct(seed++, nRows, tableRows); // a different subset each step
                        float[] g = uniform(seed++, span(gOff, nRows, d, ldg));
                        cuda.upload(seg(g), 0, dg, g.length * 4L);
                        cuda.upload(java.lang.foreign.MemorySegment.ofArray(rows), 0, drows, rows.length * 4L);
                        AdamScalar.stepRows(nRows, rows, d, seg(p), pOff, ldp, seg(g), gOff, ldg, seg(m), mOff, seg(v), vOff,
                                h[0], h[1], h[2], h[3], h[4], t);
                        GpuAdam.stepRows(cuda, nRows, drows, d, dp, pOff, ldp, dg, gOff, ldg, dm, mOff, dv, vOff,
                                h[0], h[1], h[2], h[3], h[4], t);
                        String what = "adam stepRows nRows=" + nRows + " d=" + d + " table rows=" + tableRows + " ldp=" + ldp
                                + " ldg=" + ldg + " lr=" + h[0] + " beta1=" + h[1] + " wd=" + h[4] + " t=" + t;
                        compare(cuda, what, p, dp, pOff, tableRows, d, ldp, m, dm, mOff, v, dv, vOff);
                    }
                }
            }
        }
        assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
    }

    @Test
    void stepMarkedUpdatesTheMarkedRowsAsStepRows() {
        // the device training's lazy Adam: rows marked from index lists with repeats, the table's own gradient rows
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        long seed = 300;
        for (int rows : new int[] {1, 33, 1021}) {
            for (int d : new int[] {1, 20, 64}) {
                float[] h = HYPER[(int) (seed % HYPER.length)];
                int n = rows * d;
                float[] p = uniform(seed++, n), m = uniform(seed++, n), v = positive(seed++, n);
                try (DeviceBuffer dp = cuda.upload(p); DeviceBuffer dm = cuda.upload(m); DeviceBuffer dv = cuda.upload(v);
                     DeviceBuffer dg = cuda.allocElements(n); DeviceBuffer flags = cuda.allocElements(rows)) {
                    for (int t = 1; t <= STEPS; t++) {
                        int[] a = indices(seed++, Math.max(1, rows / 3), rows), b = indices(seed++, 2, rows); // two marking calls, repeats
                        float[] g = uniform(seed++, n);
                        cuda.upload(seg(g), 0, dg, n * 4L);
                        cuda.fill32(flags, rows, 0);
                        try (DeviceBuffer da = cuda.upload(a); DeviceBuffer db = cuda.upload(b)) {
                            GpuAdam.markRows(cuda, a.length, da, flags);
                            GpuAdam.markRows(cuda, b.length, db, flags);
                        }
                        GpuAdam.stepMarked(cuda, rows, d, flags, dp, 0, dg, 0, dm, 0, dv, 0, h[0], h[1], h[2], h[3], h[4], t);
                        int[] marked = java.util.stream.IntStream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b)).distinct().sorted().toArray();
                        float[] compact = new float[marked.length * d];
                        for (int i = 0; i < marked.length; i++) System.arraycopy(g, marked[i] * d, compact, i * d, d);
                        float[] p0 = p.clone();
                        AdamScalar.stepRows(marked.length, marked, d, seg(p), 0, d, seg(compact), 0, d, seg(m), 0, seg(v), 0,
                                h[0], h[1], h[2], h[3], h[4], t);
                        String what = "adam stepMarked rows=" + rows + " d=" + d + " marked=" + marked.length + " t=" + t;
                        float[] gp = cuda.downloadFloats(dp, n);
                        java.util.BitSet in = new java.util.BitSet();
                        for (int r : marked) in.set(r);
                        for (int r = 0; r < rows; r++) {
                            if (in.get(r)) continue;
                            for (int c = 0; c < d; c++) assertEquals(p0[r * d + c], gp[r * d + c], what + ": unmarked row " + r + " moved");
                        }
                        compare(cuda, what, p, dp, 0, rows, d, d, m, dm, 0, v, dv, 0);
                    }
                }
            }
        }
        assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
    }

    /** p, m, v: the block within tolerance, everything outside it untouched, and every element within 1 ulp. */
    private static void compare(Cuda cuda, String what, float[] p, DeviceBuffer dp, int pOff, int rows, int d, int ld,
                                float[] m, DeviceBuffer dm, int mOff, float[] v, DeviceBuffer dv, int vOff) {
        float[] gp = cuda.downloadFloats(dp, p.length), gm = cuda.downloadFloats(dm, m.length), gv = cuda.downloadFloats(dv, v.length);
        assertBlock(what + " (p)", p, gp, pOff, rows, d, ld);
        assertBlock(what + " (m)", m, gm, mOff, rows, d, ld);
        assertBlock(what + " (v)", v, gv, vOff, rows, d, ld);
        assertUlps(what + " (p)", p, gp, 1);
        assertUlps(what + " (m)", m, gm, 1);
        assertUlps(what + " (v)", v, gv, 1);
        // continue the next step from the GPU's state, so one early ulp does not compound into a failure
        System.arraycopy(gp, 0, p, 0, p.length);
        System.arraycopy(gm, 0, m, 0, m.length);
        System.arraycopy(gv, 0, v, 0, v.length);
    }

    /** Second-moment state: non-negative, some exact zeros (sqrt(0) + eps path). */
    private static float[] positive(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.nextInt(8) == 0 ? 0f : (float) r.nextDouble();
        return a;
    }
}
