package kdrec.autograd;

import static kdrec.autograd.GradCheck.randn;

import kdrec.cpu.KernelTestSupport;
import kdrec.cpu.Parallel;
import kdrec.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * GumbelSoftmax.mix (DE's and HTD's expert mixing) splits rows across the kernel threads: output and
 * every gradient must be the same bits for 1, 2 and 3 threads (finite differences: FeatureOpsGradientTest).
 */
class GumbelMixThreadsTest {
    @Test
    void sameBitsOnAnyThreadCount() {
        int n = 900, e = 4, d = 40;
        Tensor z = randn(61, 1f, n, e);
        for (int i = 0; i < n * e; i += 7) z.set(i, 0f); // zero weights skip their expert
        Tensor[] f = new Tensor[e];
        for (int m = 0; m < e; m++) f[m] = randn(62 + m, 1f, n, d);
        Tensor g = randn(70, 1f, n, d);
        int before = Parallel.threads();
        try {
            float[][] first = null;
            for (int threads : new int[] {1, 2, 3}) {
                Parallel.setThreads(threads);
                try (Tape t = new Tape()) {
                    Var zv = Var.leaf("z", z);
                    Var[] fv = new Var[e];
                    for (int m = 0; m < e; m++) fv[m] = Var.leaf("f" + m, f[m]);
                    Var y = GumbelSoftmax.mix(t, zv, fv);
                    t.backward(y, g);
                    float[][] got = new float[e + 2][];
                    got[0] = y.value().toArray();
                    got[1] = t.gradOf(zv).toArray();
                    for (int m = 0; m < e; m++) got[m + 2] = t.gradOf(fv[m]).toArray();
                    if (first == null) first = got;
                    else for (int x = 0; x < got.length; x++) KernelTestSupport.assertBitEqual("output/gradient " + x + ", " + threads + " threads", first[x], got[x]);
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }
}
