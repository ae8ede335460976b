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
 * softCeRows, the device step's fused form, against the launches it replaced.
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

    /**
     * softCeRows (the device step's fused launch) against the composition it replaced: gather the
     * rows' users, softCe with gu, scatter gu into the user gradient, gather-dot backward into the item
     * gradient. Loss, grad and the user gradient must be the same bits (the same operations); the item
     * gradient, summed with atomics in both, within 1e-5. Both gradients start non-zero (they
     * accumulate), user ids are a shuffled subset of a larger table.
     */
    @Test
    void softCeRowsMatchesTheComposition() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        for (Case c : CASES) {
            if (c.m() == 0) continue;
            String at = "PairCe.softCeRows " + c;
            long s = c.seed() + 77;
            int m = c.m(), d = c.d(), users = m + 7, ldu = d + 3, ldi = d + 1, ldg = d + 2;
            float[] table = CeGpuTestSupport.matrix(s, U_OFF, users, d, ldu, 0.5);
            float[] items = CeGpuTestSupport.matrix(s + 1, I_OFF, c.nItems(), d, ldi, 0.5);
            int[] ptr = CeGpuTestSupport.ptr(s + 2, m, PTR0, c.maxLen());
            int nnz = ptr[m];
            int[] idx = CeGpuTestSupport.ids(s + 3, nnz, c.nItems());
            int[][] ab = splits(s + 4, m, ptr);
            float[] target = CeGpuTestSupport.uniform(s + 5, nnz, 0.0, 0.05);
            float[] wA = CeGpuTestSupport.uniform(s + 6, m, 0.1, 2.0), wB = CeGpuTestSupport.uniform(s + 7, m, 0.1, 2.0);
            int[] perm = new int[users];
            for (int i = 0; i < users; i++) perm[i] = i;
            SplittableRandom r = new SplittableRandom(s + 8);
            for (int i = users - 1; i > 0; i--) {
                int j = r.nextInt(i + 1), t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            int[] userIds = java.util.Arrays.copyOf(perm, m);
            float[] userGrad0 = CeGpuTestSupport.matrix(s + 9, GU_OFF, users, d, ldg, 0.1);
            float[] itemGrad0 = CeGpuTestSupport.matrix(s + 10, GU_OFF, c.nItems(), d, ldg, 0.1);
            try (CeGpuTestSupport.Bufs b = new CeGpuTestSupport.Bufs(cuda)) {
                DeviceBuffer gp = b.i(ptr), ga = b.i(ab[0]), gb = b.i(ab[1]), gwA = b.f(wA), gwB = b.f(wB), gt = b.f(target);
                DeviceBuffer gtab = b.f(table), gi = b.f(items), gx = b.i(idx), gids = b.i(userIds);
                // the composition
                DeviceBuffer rows = b.zeros((long) m * d), gu = b.zeros((long) m * d);
                DeviceBuffer lossRef = b.zeros(m), gradRef = b.zeros(Math.max(1, nnz));
                DeviceBuffer ugRef = b.f(userGrad0), igRef = b.f(itemGrad0);
                GpuEmbedding.gather(cuda, m, d, gids, gtab, U_OFF, ldu, rows, 0, d);
                GpuPairCe.softCe(cuda, m, d, rows, 0, d, gi, I_OFF, ldi, gp, gx, ga, gb, gt, gwA, gwB, c.tau(), lossRef, gradRef, gu, 0, d);
                GpuEmbedding.scatterAdd(cuda, m, d, gids, gu, 0, d, ugRef, GU_OFF, ldg);
                GpuSubsetCe.gatherDotBackward(cuda, m, d, rows, 0, d, gi, I_OFF, ldi, gp, gx, gradRef, null, 0, d, igRef, GU_OFF, ldg);
                // the fused launch
                DeviceBuffer loss = b.zeros(m), grad = b.zeros(Math.max(1, nnz)), ug = b.f(userGrad0), ig = b.f(itemGrad0);
                GpuPairCe.softCeRows(cuda, m, d, gids, gtab, U_OFF, ldu, gi, I_OFF, ldi, gp, gx, ga, gb, gt, gwA, gwB, c.tau(), loss, grad,
                        ug, GU_OFF, ldg, ig, GU_OFF, ldg);
                assertSameBits(down(cuda, lossRef, m), down(cuda, loss, m), at + " loss");
                assertSameBits(down(cuda, gradRef, nnz), down(cuda, grad, nnz), at + " grad");
                assertSameBits(down(cuda, ugRef, userGrad0.length), down(cuda, ug, userGrad0.length), at + " user gradient");
                assertClose(down(cuda, igRef, itemGrad0.length), down(cuda, ig, itemGrad0.length), at + " item gradient");
            }
        }
        assertNoLeak(cuda, before, "PairCeGpuTest.softCeRowsMatchesTheComposition");
    }
}
