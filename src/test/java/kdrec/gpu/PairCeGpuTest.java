package kdrec.gpu;

import static kdrec.gpu.CeGpuTestSupport.assertNoLeak;
import static kdrec.gpu.CeGpuTestSupport.assertSameBits;
import static kdrec.gpu.CeGpuTestSupport.down;
import static kdrec.gpu.CeGpuTestSupport.seg;
import static kdrec.gpu.GpuAssert.assertClose;

import java.util.List;
import java.util.SplittableRandom;
import kdrec.cpu.PairCeScalar;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link GpuPairCe} against {@link PairCeScalar}: targets and the fused forward (loss, grad, gu) over
 * m = 0, 1, 31, 32, 33, 1021 and a large batch, with split points covering empty A (a = 0), empty B
 * (b = n), overlapping and disjoint sets, tau != 1, unaligned offsets and padded leading dims; gu both
 * given and null. Norm-wise relative error 1e-5; a rerun must give the same bits (no atomics).
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class PairCeGpuTest {
    record Case(int m, int d, int maxLen, int nItems, float tau) {
        long seed() {
            return 3000L * m + 11L * d + maxLen;
        }
    }

    static final List<Case> CASES = List.of(
            new Case(0, 8, 10, 5, 1f),
            new Case(1, 1, 1, 3, 0.5f),
            new Case(1, 64, 33, 100, 1f),
            new Case(31, 20, 40, 50, 2f),
            new Case(32, 32, 64, 200, 0.2f),
            new Case(33, 33, 100, 300, 1f),
            new Case(97, 130, 70, 500, 0.7f),
            new Case(1021, 64, 120, 2000, 0.5f),
            // the large batch: 2048 rows on a GPU, 128 on the emulated driver (same row lengths, items and d)
            new Case(GpuTestSizes.pick(2048, 128), 20, 400, 41_000, 1f));

    static final long U_OFF = 5, I_OFF = 1, GU_OFF = 2;
    static final int PTR0 = 3;

    /** Split points per row: cycles through a = 0, b = n, b &gt; a (disjoint), then random. */
    static int[][] splits(long seed, int m, int[] ptr) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] a = new int[m], b = new int[m];
        for (int i = 0; i < m; i++) {
            int n = ptr[i + 1] - ptr[i];
            switch (i % 4) {
                case 0 -> { a[i] = 0; b[i] = r.nextInt(n + 1); }
                case 1 -> { a[i] = r.nextInt(n + 1); b[i] = n; }
                case 2 -> { a[i] = r.nextInt(n + 1); b[i] = a[i] + r.nextInt(n - a[i] + 1); }
                default -> { a[i] = r.nextInt(n + 1); b[i] = r.nextInt(n + 1); }
            }
        }
        return new int[][] {a, b};
    }

    @Test
    void targetsAndSoftCeMatchScalar() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        for (Case c : CASES) {
            String at = "PairCe " + c;
            long s = c.seed();
            int m = c.m(), d = c.d(), ldu = d + 3, ldi = d + 1, ldgu = d + 2;
            float[] u = CeGpuTestSupport.matrix(s, U_OFF, m, d, ldu, 0.5);
            float[] items = CeGpuTestSupport.matrix(s + 1, I_OFF, c.nItems(), d, ldi, 0.5);
            int[] ptr = CeGpuTestSupport.ptr(s + 2, m, PTR0, c.maxLen());
            int nnz = ptr[m];
            int[] idx = CeGpuTestSupport.ids(s + 3, nnz, c.nItems());
            int[][] ab = splits(s + 4, m, ptr);
            float[] teacher = CeGpuTestSupport.randn(s + 5, nnz, 2.0);
            float[] wA = CeGpuTestSupport.uniform(s + 6, m, 0.1, 2.0), wB = CeGpuTestSupport.uniform(s + 7, m, 0.1, 2.0);

            float[] targetRef = new float[nnz];
            PairCeScalar.targets(m, ptr, ab[0], ab[1], teacher, c.tau(), wA, wB, targetRef);
            float[] lossRef = new float[m], gradRef = new float[nnz];
            float[] guRef = new float[(int) (GU_OFF + (long) m * ldgu + 3)];
            PairCeScalar.softCe(m, d, seg(u), U_OFF, ldu, seg(items), I_OFF, ldi, ptr, idx, ab[0], ab[1], targetRef, wA, wB,
                    c.tau(), lossRef, gradRef, seg(guRef), GU_OFF, ldgu);

            try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
                DeviceBuffer gp = b.i(ptr), ga = b.i(ab[0]), gb = b.i(ab[1]), gwA = b.f(wA), gwB = b.f(wB);
                DeviceBuffer target = b.zeros(Math.max(1, nnz));
                GpuPairCe.targets(cuda, m, gp, ga, gb, b.f(teacher), c.tau(), gwA, gwB, target);
                assertClose(targetRef, down(cuda, target, nnz), at + " targets");

                // The forward gets the reference targets, so its check does not compound the targets' error.
                DeviceBuffer gt = b.f(targetRef), gu = b.f(u), gi = b.f(items), gx = b.i(idx);
                DeviceBuffer loss = b.zeros(Math.max(1, m)), grad = b.zeros(Math.max(1, nnz)), guOut = b.zeros(guRef.length);
                GpuPairCe.softCe(cuda, m, d, gu, U_OFF, ldu, gi, I_OFF, ldi, gp, gx, ga, gb, gt, gwA, gwB, c.tau(), loss, grad,
                        guOut, GU_OFF, ldgu);
                float[] lossGpu = down(cuda, loss, m), gradGpu = down(cuda, grad, nnz);
                assertClose(lossRef, lossGpu, at + " softCe loss");
                assertClose(gradRef, gradGpu, at + " softCe grad");
                assertClose(guRef, down(cuda, guOut, guRef.length), at + " softCe gu");

                GpuPairCe.softCe(cuda, m, d, gu, U_OFF, ldu, gi, I_OFF, ldi, gp, gx, ga, gb, gt, gwA, gwB, c.tau(), loss, grad,
                        null, 0, ldgu);
                assertSameBits(lossGpu, down(cuda, loss, m), at + " softCe loss (rerun without gu)");
                assertSameBits(gradGpu, down(cuda, grad, nnz), at + " softCe grad (rerun without gu)");
            }
        }
        assertNoLeak(cuda, before, "PairCeGpuTest.targetsAndSoftCeMatchScalar");
    }
}
