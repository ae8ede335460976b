package kdrec.gpu;

import static kdrec.gpu.CeGpuTestSupport.assertNoLeak;
import static kdrec.gpu.CeGpuTestSupport.assertSameBits;
import static kdrec.gpu.CeGpuTestSupport.down;
import static kdrec.gpu.CeGpuTestSupport.seg;
import static kdrec.gpu.GpuAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import kdrec.cpu.SubsetCeScalar;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link GpuSubsetCe} against {@link SubsetCeScalar} on seeded random data: sizes m = 0, 1, 31, 32,
 * 33, 1021 and a large RCE-KD-like batch, d from 1 to 130 (around the warp width), rows of length 0, 1,
 * 31, 32, 33 and longer, unaligned offsets and padded leading dims, ptr[0] &gt; 0, tau != 1,
 * rowScale given or null. Norm-wise relative error 1e-5 (GpuAssert); the dots bit for bit (and on packed,
 * aligned tables, which the kernels read as float4). gatherDotBackward's di uses
 * float atomics (order not fixed), so only it is exempt from the bit-for-bit determinism check.
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class SubsetCeGpuTest {
    /** One problem: m rows of dim d, sets of up to maxLen entries over nItems items. */
    record Case(int m, int d, int maxLen, int nItems, float tau, boolean rowScale) {
        long seed() {
            return 1000L * m + 7L * d + maxLen;
        }
    }

    static final List<Case> CASES = List.of(
            new Case(0, 8, 10, 5, 1f, false),
            new Case(1, 1, 1, 3, 1f, true),
            new Case(1, 64, 33, 100, 0.5f, false),
            new Case(31, 20, 40, 50, 2f, true),
            new Case(32, 32, 64, 200, 0.1f, false),
            new Case(33, 33, 100, 300, 0.7f, true),
            new Case(97, 130, 70, 500, 1.5f, false),
            new Case(1021, 64, 70, 2000, 0.5f, true),
            // the large batch: 3000 rows on a GPU, 200 on the emulated driver (same row lengths, items and d)
            new Case(GpuTestSizes.pick(3000, 200), 64, 400, 41_000, 1f, true));

    /** The layout every case uses: odd element offsets and padded leading dims. */
    static final long U_OFF = 3, I_OFF = 7;
    static final int PTR0 = 5;

    static int ldu(int d) {
        return d + 5;
    }

    static int ldi(int d) {
        return d + 2;
    }

    /**
     * Packed, aligned tables (offset 0, leading dim d, d % 4 == 0): the kernels read item rows as float4.
     * The dots must still be the scalar twin's bits, and the fused forward's student logits with them.
     */
    @Test
    void packedRowsGiveTheScalarDotsExactly() {
        Cuda cuda = CudaProbe.cuda();
        for (int d : new int[] {4, 20, 64}) {
            int m = GpuTestSizes.pick(500, 60), nItems = 3000;
            long s = 77L * d;
            float[] u = CeGpuTestSupport.matrix(s, 0, m, d, d, 0.5), items = CeGpuTestSupport.matrix(s + 1, 0, nItems, d, d, 0.5);
            int[] ptr = CeGpuTestSupport.ptr(s + 2, m, 0, 230);
            int nnz = ptr[m];
            int[] idx = CeGpuTestSupport.ids(s + 3, nnz, nItems);
            float[] teacher = CeGpuTestSupport.randn(s + 4, nnz, 2.0), dotRef = new float[nnz];
            SubsetCeScalar.gatherDot(m, d, seg(u), 0, d, seg(items), 0, d, ptr, idx, dotRef);
            try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
                DeviceBuffer gu = b.f(u), gi = b.f(items), gp = b.i(ptr), gx = b.i(idx);
                DeviceBuffer out = b.zeros(Math.max(1, nnz)), loss = b.zeros(m), grad = b.zeros(nnz), stud = b.zeros(nnz);
                GpuSubsetCe.gatherDot(cuda, m, d, gu, 0, d, gi, 0, d, gp, gx, out);
                assertArrayEquals(dotRef, down(cuda, out, nnz), "packed gatherDot d=" + d);
                GpuSubsetCe.softCe(cuda, m, d, gu, 0, d, gi, 0, d, gp, gx, b.f(teacher), 1f, null, loss, grad, stud);
                assertArrayEquals(dotRef, down(cuda, stud, nnz), "packed softCe studentLogits d=" + d);
            }
        }
    }

    @Test
    void forwardKernelsMatchScalar() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        for (Case c : CASES) {
            String at = "SubsetCe " + c;
            long s = c.seed();
            int m = c.m(), d = c.d();
            float[] u = CeGpuTestSupport.matrix(s, U_OFF, m, d, ldu(d), 0.5);
            float[] items = CeGpuTestSupport.matrix(s + 1, I_OFF, c.nItems(), d, ldi(d), 0.5);
            int[] ptr = CeGpuTestSupport.ptr(s + 2, m, PTR0, c.maxLen());
            int nnz = ptr[m];
            int[] idx = CeGpuTestSupport.ids(s + 3, nnz, c.nItems());
            float[] teacher = CeGpuTestSupport.randn(s + 4, nnz, 2.0);
            float[] rowScale = c.rowScale() ? CeGpuTestSupport.uniform(s + 5, m, 0.1, 3.0) : null;

            float[] dotRef = new float[nnz];
            SubsetCeScalar.gatherDot(m, d, seg(u), U_OFF, ldu(d), seg(items), I_OFF, ldi(d), ptr, idx, dotRef);
            float[] lossRef = new float[m], gradRef = new float[nnz], studRef = new float[nnz];
            SubsetCeScalar.softCe(m, d, seg(u), U_OFF, ldu(d), seg(items), I_OFF, ldi(d), ptr, idx, teacher, c.tau(), rowScale,
                    lossRef, gradRef, studRef);
            float[] lossRef2 = new float[m], gradRef2 = new float[nnz];
            SubsetCeScalar.softCeLogits(m, ptr, dotRef, teacher, c.tau(), rowScale, lossRef2, gradRef2);

            try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
                DeviceBuffer gu = b.f(u), gi = b.f(items), gp = b.i(ptr), gx = b.i(idx), gt = b.f(teacher);
                DeviceBuffer gs = rowScale == null ? null : b.f(rowScale);
                DeviceBuffer out = b.zeros(Math.max(1, nnz));
                GpuSubsetCe.gatherDot(cuda, m, d, gu, U_OFF, ldu(d), gi, I_OFF, ldi(d), gp, gx, out);
                assertClose(dotRef, down(cuda, out, nnz), at + " gatherDot");
                // one lane per entry in the scalar twin's float order: the dots are its bits exactly
                assertArrayEquals(dotRef, down(cuda, out, nnz), at + " gatherDot bits");

                DeviceBuffer loss = b.zeros(Math.max(1, m)), grad = b.zeros(Math.max(1, nnz)), stud = b.zeros(Math.max(1, nnz));
                GpuSubsetCe.softCe(cuda, m, d, gu, U_OFF, ldu(d), gi, I_OFF, ldi(d), gp, gx, gt, c.tau(), gs, loss, grad, stud);
                float[] lossGpu = down(cuda, loss, m), gradGpu = down(cuda, grad, nnz);
                assertClose(lossRef, lossGpu, at + " softCe loss");
                assertClose(gradRef, gradGpu, at + " softCe gradLogits");
                assertClose(studRef, down(cuda, stud, nnz), at + " softCe studentLogits");
                for (int r = 0; r < m; r++) {
                    if (ptr[r + 1] == ptr[r]) assertTrue(lossGpu[r] == 0f, at + ": empty row " + r + " must have loss 0, got " + lossGpu[r]);
                }

                // Without studentLogits, and a second run: same bits (deterministic).
                GpuSubsetCe.softCe(cuda, m, d, gu, U_OFF, ldu(d), gi, I_OFF, ldi(d), gp, gx, gt, c.tau(), gs, loss, grad, null);
                assertSameBits(lossGpu, down(cuda, loss, m), at + " softCe loss (rerun, no studentLogits)");
                assertSameBits(gradGpu, down(cuda, grad, nnz), at + " softCe gradLogits (rerun, no studentLogits)");

                DeviceBuffer gdot = b.f(dotRef);
                GpuSubsetCe.softCeLogits(cuda, m, gp, gdot, gt, c.tau(), gs, loss, grad);
                assertClose(lossRef2, down(cuda, loss, m), at + " softCeLogits loss");
                assertClose(gradRef2, down(cuda, grad, nnz), at + " softCeLogits gradLogits");
            }
        }
        assertNoLeak(cuda, before, "SubsetCeGpuTest.forwardKernelsMatchScalar");
    }

    @Test
    void backwardMatchesScalar() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        long duOff = 1, diOff = 2;
        for (Case c : CASES) {
            String at = "SubsetCe.gatherDotBackward " + c;
            long s = c.seed() + 50;
            int m = c.m(), d = c.d(), lddu = d + 1, lddi = d + 3;
            float[] u = CeGpuTestSupport.matrix(s, U_OFF, m, d, ldu(d), 0.5);
            float[] items = CeGpuTestSupport.matrix(s + 1, I_OFF, c.nItems(), d, ldi(d), 0.5);
            int[] ptr = CeGpuTestSupport.ptr(s + 2, m, PTR0, c.maxLen());
            int nnz = ptr[m];
            int[] idx = CeGpuTestSupport.ids(s + 3, nnz, c.nItems());
            float[] g = CeGpuTestSupport.randn(s + 4, nnz, 1.0);
            // du, di accumulate: start from random values (zero padding).
            float[] du0 = CeGpuTestSupport.matrix(s + 5, duOff, m, d, lddu, 1.0);
            float[] di0 = CeGpuTestSupport.matrix(s + 6, diOff, c.nItems(), d, lddi, 1.0);
            // One reference for all modes (du and di accumulate independently); a skipped gradient must
            // come back exactly as it went in.
            float[] duBoth = du0.clone(), diBoth = di0.clone();
            SubsetCeScalar.gatherDotBackward(m, d, seg(u), U_OFF, ldu(d), seg(items), I_OFF, ldi(d), ptr, idx, g,
                    seg(duBoth), duOff, lddu, seg(diBoth), diOff, lddi);
            for (int mode = 0; mode < 3; mode++) {  // 0: both, 1: du only, 2: di only
                boolean wantDu = mode != 2, wantDi = mode != 1;
                float[] duRef = wantDu ? duBoth : du0, diRef = wantDi ? diBoth : di0;
                try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
                    DeviceBuffer gdu = b.f(du0), gdi = b.f(di0);
                    GpuSubsetCe.gatherDotBackward(cuda, m, d, b.f(u), U_OFF, ldu(d), b.f(items), I_OFF, ldi(d), b.i(ptr), b.i(idx),
                            b.f(g), wantDu ? gdu : null, duOff, lddu, wantDi ? gdi : null, diOff, lddi);
                    float[] duGpu = down(cuda, gdu, du0.length), diGpu = down(cuda, gdi, di0.length);
                    if (wantDu) assertClose(duRef, duGpu, at + " mode " + mode + " du");
                    else assertSameBits(du0, duGpu, at + " du (null: must stay untouched)");
                    if (wantDi) assertClose(diRef, diGpu, at + " mode " + mode + " di (float atomics)");
                    else assertSameBits(di0, diGpu, at + " di (null: must stay untouched)");
                }
            }
            if (m > 0) rowsForm(cuda, c, s, u, items, ptr, idx, g, di0, diBoth, duOff, diOff, lddu, lddi);
        }
        assertNoLeak(cuda, before, "SubsetCeGpuTest.backwardMatchesScalar");
    }

    /**
     * gatherDotBackwardRows (the device step's form): row r is user perm[r] of a larger, shuffled table;
     * the user gradient table gains row r's du at perm[r] (other rows untouched), the item gradient as
     * gatherDotBackward's; both start non-zero.
     */
    private static void rowsForm(Cuda cuda, Case c, long s, float[] u, float[] items, int[] ptr, int[] idx, float[] g, float[] di0,
                                 float[] diBoth, long duOff, long diOff, int lddu, int lddi) {
        int m = c.m(), d = c.d(), users = m + 4;
        int[] perm = new int[users];
        for (int i = 0; i < users; i++) perm[i] = i;
        java.util.SplittableRandom r = new java.util.SplittableRandom(s + 7);
        for (int i = users - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        float[] table = new float[(int) (U_OFF + (long) users * ldu(d))];
        for (int row = 0; row < m; row++) {
            System.arraycopy(u, (int) (U_OFF + (long) row * ldu(d)), table, (int) (U_OFF + (long) perm[row] * ldu(d)), d);
        }
        float[] du = new float[(int) (duOff + (long) m * lddu)], diScratch = di0.clone();
        SubsetCeScalar.gatherDotBackward(m, d, seg(u), U_OFF, ldu(d), seg(items), I_OFF, ldi(d), ptr, idx, g, seg(du), duOff, lddu,
                seg(diScratch), diOff, lddi);
        float[] ug0 = CeGpuTestSupport.matrix(s + 8, duOff, users, d, lddu, 1.0), ugRef = ug0.clone();
        for (int row = 0; row < m; row++) {
            for (int k = 0; k < d; k++) ugRef[(int) (duOff + (long) perm[row] * lddu + k)] += du[(int) (duOff + (long) row * lddu + k)];
        }
        try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
            DeviceBuffer ug = b.f(ug0), di = b.f(di0);
            GpuSubsetCe.gatherDotBackwardRows(cuda, m, d, b.i(java.util.Arrays.copyOf(perm, m)), b.f(table), U_OFF, ldu(d), b.f(items), I_OFF,
                    ldi(d), b.i(ptr), b.i(idx), b.f(g), ug, duOff, lddu, di, diOff, lddi);
            String at = "SubsetCe.gatherDotBackwardRows " + c;
            assertClose(ugRef, down(cuda, ug, ug0.length), at + " user gradient");
            assertClose(diBoth, down(cuda, di, di0.length), at + " item gradient (float atomics)");
        }
    }

    /**
     * gatherDotRows and softCeRows (the CE-KD and CD device steps' forms): row r's user is row ids[r] of a
     * table, read in place, ids repeating. Bit for bit the plain kernels on the rows gathered on the host
     * (and the dots the scalar twin's), on an unaligned padded layout and a packed one.
     */
    @Test
    void rowsFormsReadUsersByIdInPlace() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        for (boolean packed : new boolean[] {false, true}) {
            int m = GpuTestSizes.pick(300, 40), d = 20, users = m / 2 + 3, nItems = 700;
            long off = packed ? 0 : U_OFF, iOff = packed ? 0 : I_OFF, s = packed ? 91 : 92;
            int ld = packed ? d : ldu(d), li = packed ? d : ldi(d);
            float[] table = CeGpuTestSupport.matrix(s, off, users, d, ld, 0.5), items = CeGpuTestSupport.matrix(s + 1, iOff, nItems, d, li, 0.5);
            int[] ids = CeGpuTestSupport.ids(s + 2, m, users); // m > users: ids repeat
            float[] gathered = new float[(int) (off + (long) m * ld)];
            for (int r = 0; r < m; r++) System.arraycopy(table, (int) (off + (long) ids[r] * ld), gathered, (int) (off + (long) r * ld), d);
            int[] ptr = CeGpuTestSupport.ptr(s + 3, m, PTR0, 90);
            int nnz = ptr[m];
            int[] idx = CeGpuTestSupport.ids(s + 4, nnz, nItems);
            float[] teacher = CeGpuTestSupport.randn(s + 5, nnz, 2.0), scale = CeGpuTestSupport.uniform(s + 6, m, 0.1, 3.0), dotRef = new float[nnz];
            SubsetCeScalar.gatherDot(m, d, seg(gathered), off, ld, seg(items), iOff, li, ptr, idx, dotRef);
            String at = "SubsetCe rows forms" + (packed ? " (packed)" : "");
            try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
                DeviceBuffer gt = b.f(table), gg = b.f(gathered), gi = b.f(items), gp = b.i(ptr), gx = b.i(idx), gids = b.i(ids);
                DeviceBuffer gTeacher = b.f(teacher), gScale = b.f(scale);
                DeviceBuffer plain = b.zeros(nnz), rows = b.zeros(nnz);
                GpuSubsetCe.gatherDot(cuda, m, d, gg, off, ld, gi, iOff, li, gp, gx, plain);
                GpuSubsetCe.gatherDotRows(cuda, m, d, gids, gt, off, ld, gi, iOff, li, gp, gx, rows);
                assertArrayEquals(dotRef, down(cuda, rows, nnz), at + " gatherDotRows vs the scalar twin");
                assertArrayEquals(down(cuda, plain, nnz), down(cuda, rows, nnz), at + " gatherDotRows vs gatherDot");

                DeviceBuffer[] loss = {b.zeros(m), b.zeros(m)}, grad = {b.zeros(nnz), b.zeros(nnz)}, stud = {b.zeros(nnz), b.zeros(nnz)};
                GpuSubsetCe.softCe(cuda, m, d, gg, off, ld, gi, iOff, li, gp, gx, gTeacher, 0.5f, gScale, loss[0], grad[0], stud[0]);
                GpuSubsetCe.softCeRows(cuda, m, d, gids, gt, off, ld, gi, iOff, li, gp, gx, gTeacher, 0.5f, gScale, loss[1], grad[1], stud[1]);
                assertArrayEquals(down(cuda, loss[0], m), down(cuda, loss[1], m), at + " softCeRows loss");
                assertArrayEquals(down(cuda, grad[0], nnz), down(cuda, grad[1], nnz), at + " softCeRows gradient");
                assertArrayEquals(dotRef, down(cuda, stud[1], nnz), at + " softCeRows student logits");
            }
        }
        assertNoLeak(cuda, before, "SubsetCeGpuTest.rowsFormsReadUsersByIdInPlace");
    }

    /** With -Dkdrec.cuda.check semantics switched on, bad device contents are rejected before a launch. */
    @Test
    void contentChecksRejectBadIndices() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        boolean was = GpuCeArgs.checkContents;
        GpuCeArgs.checkContents = true;
        try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
            int d = 4;
            DeviceBuffer u = b.zeros(2 * d), items = b.zeros(3 * d), out = b.zeros(8);
            DeviceBuffer idx = b.i(new int[] {0, 1, 2, 0});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GpuSubsetCe.gatherDot(cuda, 2, d, u, 0, d,
                    items, 0, d, b.i(new int[] {0, 3, 2}), idx, out));
            assertTrue(e.getMessage().contains("non-decreasing"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> GpuSubsetCe.gatherDot(cuda, 2, d, u, 0, d,
                    items, 0, d, b.i(new int[] {0, 2, 4}), b.i(new int[] {0, 1, 3, 0}), out));
            assertTrue(e.getMessage().contains("item table holds 3 rows"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> GpuSubsetCe.gatherDotRows(cuda, 2, d, b.i(new int[] {1, 2}), u, 0, d,
                    items, 0, d, b.i(new int[] {0, 2, 4}), idx, out));
            assertTrue(e.getMessage().contains("SubsetCe.gatherDotRows") && e.getMessage().contains("user id 2 outside [0, 2)"), e.getMessage());
        } finally {
            GpuCeArgs.checkContents = was;
        }
        assertNoLeak(cuda, before, "SubsetCeGpuTest.contentChecksRejectBadIndices");
    }

    @Test
    void softBceMatchesThePointwiseLossOp() {
        // CD's per-entry soft-label BCE against the tape op it twins (kdrec.autograd.PointwiseLoss.softBce): the
        // per-entry gradient times the row scale within one ulp (the same double formula; CUDA's double log and
        // exp may differ from Java's in the last double bit), the row sums of the per-entry losses to fp32 rounding
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        for (int m : new int[] {0, 1, 33, 1021}) {
            long seed = 77L + m;
            int[] ptr = CeGpuTestSupport.ptr(seed, m, 0, 40);
            int n = ptr[m];
            float[] x = CeGpuTestSupport.randn(seed + 1, n, 6.0), y = CeGpuTestSupport.uniform(seed + 2, n, 0.0, 1.0);
            float[] scale = CeGpuTestSupport.uniform(seed + 3, m, 0.5, 3.0);
            if (n > 0) x[0] = 40f; // saturated: q underflows towards eps
            float[] wantLoss = new float[m], wantGrad = new float[n];
            try (kdrec.autograd.Tape t = new kdrec.autograd.Tape()) {
                kdrec.autograd.Var xv = kdrec.autograd.Var.leaf("x", kdrec.tensor.Tensor.of(x.clone(), n));
                kdrec.autograd.Var l = kdrec.autograd.PointwiseLoss.softBce(t, xv, y, 1e-10f);
                float[] per = l.value().toArray(), seed2 = new float[n];
                for (int r = 0; r < m; r++) {
                    double sum = 0;
                    for (int j = ptr[r]; j < ptr[r + 1]; j++) {
                        sum += per[j];
                        seed2[j] = scale[r];
                    }
                    wantLoss[r] = (float) sum;
                }
                if (n > 0) {
                    t.backward(l, kdrec.tensor.Tensor.of(seed2, n));
                    wantGrad = xv.grad().toArray();
                }
            }
            try (DeviceBuffer dp = cuda.upload(ptr); DeviceBuffer dx = cuda.upload(n > 0 ? x : new float[1]);
                 DeviceBuffer dy = cuda.upload(n > 0 ? y : new float[1]); DeviceBuffer ds = cuda.upload(m > 0 ? scale : new float[1]);
                 DeviceBuffer loss = cuda.allocElements(Math.max(1, m)); DeviceBuffer grad = cuda.allocElements(Math.max(1, n))) {
                GpuSubsetCe.softBce(cuda, m, dp, dx, dy, 1e-10f, ds, loss, grad);
                if (m == 0) continue;
                assertClose(wantLoss, down(cuda, loss, m), "softBce loss m=" + m);
                float[] got = down(cuda, grad, n);
                for (int j = 0; j < n; j++) {
                    assertTrue(Float.floatToIntBits(wantGrad[j]) == Float.floatToIntBits(got[j]) || Math.abs(wantGrad[j] - got[j]) <= Math.ulp(wantGrad[j]),
                            "softBce grad m=" + m + " entry " + j + ": " + got[j] + " vs the tape's " + wantGrad[j]);
                }
            }
        }
        assertNoLeak(cuda, before, "softBce");
    }
}
