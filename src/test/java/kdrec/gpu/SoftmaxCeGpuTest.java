package kdrec.gpu;

import static kdrec.gpu.CeGpuTestSupport.assertNoLeak;
import static kdrec.gpu.CeGpuTestSupport.assertSameBits;
import static kdrec.gpu.CeGpuTestSupport.down;
import static kdrec.gpu.CeGpuTestSupport.seg;
import static kdrec.gpu.GpuAssert.assertClose;

import java.util.List;
import kdrec.cpu.SoftmaxCeScalar;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link GpuSoftmaxCe} against {@link SoftmaxCeScalar}: the online forward (loss, lse) and the
 * recomputing backward (du, di, each alone and together, accumulating onto random values) over m, n
 * around the 64-row/64-item tiles (1, 31, 32, 33, 63..65, 1021, a large case whose dU uses several
 * item splits) and d around the 16-wide k step and 64-wide column chunks (1, 16, 17, 64, 65, 130);
 * rowsInPlace and sampled over m = 0, 1, 31, 32, 33, 1021 and long rows. Unaligned offsets and padded
 * leading dims everywhere. Norm-wise relative error 1e-5; reruns and the workspace overloads must give
 * the same bits (no atomics anywhere in this family).
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class SoftmaxCeGpuTest {
    record Case(int m, int n, int d, float scale) {
        long seed() {
            return 7919L * m + 31L * n + d;
        }
    }

    static final List<Case> CASES = List.of(
            new Case(0, 5, 4, 1f),
            new Case(1, 1, 1, 1f),
            new Case(1, 31, 16, 0.5f),
            new Case(31, 64, 17, 1f),
            new Case(32, 65, 64, 0.125f),
            new Case(33, 1021, 65, 1f),
            new Case(65, 130, 130, 0.7f),
            new Case(128, 5000, 32, 1f),
            new Case(1021, 2000, 64, 0.9f),
            // the large case: 1100 rows on a GPU (several dU row tiles), 130 on the emulated driver (3 row tiles)
            new Case(GpuTestSizes.pick(1100, 130), 9000, 64, 1f));

    static final long U_OFF = 3, I_OFF = 5, DU_OFF = 1, DI_OFF = 2;

    @Test
    void forwardMatchesScalar() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        for (Case c : CASES) {
            String at = "SoftmaxCe.forward " + c;
            long s = c.seed();
            int m = c.m(), n = c.n(), d = c.d(), ldu = d + 1, ldi = d + 3;
            float[] u = CeGpuTestSupport.matrix(s, U_OFF, m, d, ldu, 0.5);
            float[] items = CeGpuTestSupport.matrix(s + 1, I_OFF, n, d, ldi, 0.5);
            int[] target = CeGpuTestSupport.targets(s + 2, m, n);
            float[] lossRef = new float[m], lseRef = new float[m];
            SoftmaxCeScalar.forward(m, n, d, seg(u), U_OFF, ldu, seg(items), I_OFF, ldi, c.scale(), target, lossRef, lseRef);
            try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
                DeviceBuffer gu = b.f(u), gi = b.f(items), gt = b.i(target);
                DeviceBuffer loss = b.zeros(Math.max(1, m)), lse = b.zeros(Math.max(1, m));
                GpuSoftmaxCe.forward(cuda, m, n, d, gu, U_OFF, ldu, gi, I_OFF, ldi, c.scale(), gt, loss, lse);
                float[] lossGpu = down(cuda, loss, m), lseGpu = down(cuda, lse, m);
                assertClose(lseRef, lseGpu, at + " lse");
                assertClose(lossRef, lossGpu, at + " loss");
                DeviceBuffer ws = b.zeros(Math.max(1, GpuSoftmaxCe.forwardWorkspaceFloats(m, n)));
                GpuSoftmaxCe.forward(cuda, m, n, d, gu, U_OFF, ldu, gi, I_OFF, ldi, c.scale(), gt, loss, lse, ws);
                assertSameBits(lossGpu, down(cuda, loss, m), at + " loss (rerun with a caller workspace)");
                assertSameBits(lseGpu, down(cuda, lse, m), at + " lse (rerun with a caller workspace)");
            }
        }
        assertNoLeak(cuda, before, "SoftmaxCeGpuTest.forwardMatchesScalar");
    }

    @Test
    void backwardMatchesScalar() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        for (Case c : CASES) {
            long s = c.seed() + 99;
            int m = c.m(), n = c.n(), d = c.d(), ldu = d + 1, ldi = d + 3, lddu = d + 2, lddi = d + 1;
            float[] u = CeGpuTestSupport.matrix(s, U_OFF, m, d, ldu, 0.5);
            float[] items = CeGpuTestSupport.matrix(s + 1, I_OFF, n, d, ldi, 0.5);
            int[] target = CeGpuTestSupport.targets(s + 2, m, n);
            float[] lossRef = new float[m], lse = new float[m];
            SoftmaxCeScalar.forward(m, n, d, seg(u), U_OFF, ldu, seg(items), I_OFF, ldi, c.scale(), target, lossRef, lse);
            float[] gLoss = CeGpuTestSupport.uniform(s + 3, m, 0.1, 2.0);
            float[] du0 = CeGpuTestSupport.matrix(s + 4, DU_OFF, m, d, lddu, 1.0);
            float[] di0 = CeGpuTestSupport.matrix(s + 5, DI_OFF, n, d, lddi, 1.0);
            // One reference for all modes: the CPU accumulates du and di independently, so "du only" gives
            // the same du as "both", and the skipped gradient must come back untouched (exactly du0 / di0).
            float[] duBoth = du0.clone(), diBoth = di0.clone();
            SoftmaxCeScalar.backward(m, n, d, seg(u), U_OFF, ldu, seg(items), I_OFF, ldi, c.scale(), target, lse, gLoss,
                    seg(duBoth), DU_OFF, lddu, seg(diBoth), DI_OFF, lddi);
            for (int mode = 0; mode < 3; mode++) {  // 0: both, 1: du only, 2: di only
                String at = "SoftmaxCe.backward " + c + " mode " + mode;
                boolean wantDu = mode != 2, wantDi = mode != 1;
                float[] duRef = wantDu ? duBoth : du0, diRef = wantDi ? diBoth : di0;
                try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
                    DeviceBuffer gu = b.f(u), gi = b.f(items), gt = b.i(target), gl = b.f(lse), gg = b.f(gLoss);
                    DeviceBuffer gdu = b.f(du0), gdi = b.f(di0);
                    GpuSoftmaxCe.backward(cuda, m, n, d, gu, U_OFF, ldu, gi, I_OFF, ldi, c.scale(), gt, gl, gg,
                            wantDu ? gdu : null, DU_OFF, lddu, wantDi ? gdi : null, DI_OFF, lddi);
                    float[] duGpu = down(cuda, gdu, du0.length), diGpu = down(cuda, gdi, di0.length);
                    if (wantDu) assertClose(duRef, duGpu, at + " du");
                    else assertSameBits(du0, duGpu, at + " du (null: must stay untouched)");
                    if (wantDi) assertClose(diRef, diGpu, at + " di");
                    else assertSameBits(di0, diGpu, at + " di (null: must stay untouched)");
                    if (mode != 0) continue;
                    // Same again from the same start with a caller workspace: identical bits.
                    DeviceBuffer gdu2 = b.f(du0), gdi2 = b.f(di0);
                    DeviceBuffer ws = b.zeros(Math.max(1, GpuSoftmaxCe.backwardWorkspaceFloats(m, n, d)));
                    GpuSoftmaxCe.backward(cuda, m, n, d, gu, U_OFF, ldu, gi, I_OFF, ldi, c.scale(), gt, gl, gg,
                            gdu2, DU_OFF, lddu, gdi2, DI_OFF, lddi, ws);
                    assertSameBits(duGpu, down(cuda, gdu2, du0.length), at + " du (rerun with a caller workspace)");
                    assertSameBits(diGpu, down(cuda, gdi2, di0.length), at + " di (rerun with a caller workspace)");
                }
            }
        }
        assertNoLeak(cuda, before, "SoftmaxCeGpuTest.backwardMatchesScalar");
    }

    @Test
    void rowsInPlaceMatchesScalar() {  // with gradScale, every 5th logit is masked to -inf
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        int[][] shapes = {{0, 5}, {1, 1}, {31, 255}, {32, 256}, {33, 257}, {1021, 100}, {3, 41_000}, {300, 4099}};
        long off = 2;
        for (int[] sh : shapes) {
            int m = sh[0], n = sh[1], ld = n + 3;
            for (boolean scaled : new boolean[] {false, true}) {
                String at = "SoftmaxCe.rowsInPlace m=" + m + " n=" + n + (scaled ? " gradScale" : "");
                long s = 31L * m + n + (scaled ? 1 : 0);
                float[] logits = CeGpuTestSupport.matrix(s, off, m, n, ld, 3.0);
                int[] target = CeGpuTestSupport.targets(s + 1, m, n);
                if (scaled) {
                    // Masked logits (-inf) as a causal/seen-item mask makes them: they must add 0, not NaN,
                    // including where they are a thread's first element (j = 0, 256, ...).
                    for (int r = 0; r < m; r++) {
                        for (int j = 0; j < n; j += 5) if (j != target[r]) logits[(int) (off + (long) r * ld + j)] = Float.NEGATIVE_INFINITY;
                    }
                }
                float[] gradScale = scaled ? CeGpuTestSupport.uniform(s + 2, m, 0.1, 2.0) : null;
                float[] ref = logits.clone(), lossRef = new float[m];
                SoftmaxCeScalar.rowsInPlace(m, n, seg(ref), off, ld, target, gradScale, lossRef);
                try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
                    DeviceBuffer gx = b.f(logits), loss = b.zeros(Math.max(1, m));
                    GpuSoftmaxCe.rowsInPlace(cuda, m, n, gx, off, ld, b.i(target), gradScale == null ? null : b.f(gradScale), loss);
                    assertClose(lossRef, down(cuda, loss, m), at + " loss");
                    assertClose(ref, down(cuda, gx, logits.length), at + " gradient (in place)");
                }
            }
        }
        assertNoLeak(cuda, before, "SoftmaxCeGpuTest.rowsInPlaceMatchesScalar");
    }

    @Test
    void sampledMatchesScalar() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        int[][] shapes = {{0, 4}, {1, 1}, {31, 40}, {32, 64}, {33, 33}, {1021, 100}, {4096, 300}};
        float[] negScales = {0f, 1f, 37.5f};
        for (int[] sh : shapes) {
            int m = sh[0], maxLen = sh[1];
            for (int v = 0; v < negScales.length; v++) {
                float negScale = negScales[v];
                String at = "SoftmaxCe.sampled m=" + m + " maxLen=" + maxLen + " negScale=" + negScale;
                long s = 17L * m + maxLen + v;
                int[] negPtr = CeGpuTestSupport.ptr(s, m, 2, maxLen);
                int nnz = negPtr[m];
                float[] pos = CeGpuTestSupport.randn(s + 1, m, 3.0), neg = CeGpuTestSupport.randn(s + 2, nnz, 3.0);
                float[] rowScale = v == 1 ? null : CeGpuTestSupport.uniform(s + 3, m, 0.1, 2.0);
                float[] lossRef = new float[m], gPosRef = new float[m], gNegRef = new float[nnz];
                SoftmaxCeScalar.sampled(m, pos, negPtr, neg, negScale, rowScale, lossRef, gPosRef, gNegRef);
                try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
                    DeviceBuffer loss = b.zeros(Math.max(1, m)), gPos = b.zeros(Math.max(1, m)), gNeg = b.zeros(Math.max(1, nnz));
                    GpuSoftmaxCe.sampled(cuda, m, b.f(pos), b.i(negPtr), b.f(neg), negScale, rowScale == null ? null : b.f(rowScale),
                            loss, gPos, gNeg);
                    if (negScale == 0f) {
                        // The loss is 0 up to rounding (~1e-16 on the CPU), so a relative check means nothing.
                        assertAbsolute(lossRef, down(cuda, loss, m), 1e-6, at + " loss");
                    } else {
                        assertClose(lossRef, down(cuda, loss, m), at + " loss");
                    }
                    assertClose(gPosRef, down(cuda, gPos, m), at + " gPos");
                    assertClose(gNegRef, down(cuda, gNeg, nnz), at + " gNeg");
                }
            }
        }
        assertNoLeak(cuda, before, "SoftmaxCeGpuTest.sampledMatchesScalar");
    }

    private static void assertAbsolute(float[] expected, float[] actual, double tol, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs((double) actual[i] - expected[i]) <= tol)) {
                org.junit.jupiter.api.Assertions.fail(what + ": |gpu - reference| > " + tol + " at [" + i + "] (gpu "
                        + actual[i] + ", reference " + expected[i] + ")");
            }
        }
    }
}
