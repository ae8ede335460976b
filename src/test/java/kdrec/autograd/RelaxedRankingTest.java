package kdrec.autograd;

import static kdrec.autograd.GradCheck.check;
import static kdrec.autograd.GradCheck.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import kdrec.tensor.Backend;
import kdrec.tensor.CpuBackend;
import kdrec.tensor.IndexSets;
import kdrec.tensor.Scratch;
import kdrec.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The relaxed ranking loss: a hand-computed case, the clip, the plain formula and finite differences. */
class RelaxedRankingTest {

    private static final float LN2 = (float) Math.log(2), LN3 = (float) Math.log(3);

    @Test
    void handComputedTwoRows() {
        // row 0: ordered (ln2, 0), U = {0}. k=1: ln2 - ln(2+1+1) = -ln2; k=2: 0 - ln(1+1) = -ln2; loss 2 ln2.
        //   d/ds1 = -1 + 2/4 = -1/2; d/ds2 = -1 + 1/4 + 1/2 = -1/4; d/du = 1/4 + 1/2 = 3/4.
        // row 1: ordered (0), U = {ln3, 100 -> 80}: loss = log(1 + 3 + e^80) = 80 + log(1 + 4e^-80) = 80;
        //   d/ds = -1 + 1/(4+e^80) = -1; d/d(ln3) = 3/(4+e^80) = 0; the clipped logit gets 0.
        // weights (2, 0.5): total = 4 ln2 + 40.
        IndexSets sets = new IndexSets(new int[] {0, 3, 6}, new int[] {0, 1, 2, 0, 1, 2});
        Var logits = Var.leaf("logits", Tensor.of(new float[] {LN2, 0f, 0f, 0f, LN3, 100f}, 6));
        try (Tape t = new Tape()) {
            Var loss = RelaxedRanking.loss(t, logits, sets, new int[] {2, 1}, new float[] {2f, 0.5f});
            assertEquals(4 * Math.log(2) + 40, loss.value().get(0), 1e-5);
            t.backward(loss);
            assertArrayEquals(new float[] {-1f, -0.5f, 1.5f, -0.5f, 0f, 0f}, logits.grad().toArray(), 1e-6f);
        }
        try (Tape t = new Tape()) {
            Var rows = RelaxedRanking.rows(t, logits, sets, new int[] {2, 1});
            assertArrayEquals(new float[] {(float) (2 * Math.log(2)), 80f}, rows.value().toArray(), 1e-5f);
        }
    }

    @Test
    void degenerateRowsAndTheClipTie() {
        // no ordered item: no term; U empty: ordered (ln2, 0) gives (ln2 - ln3) + (0 - ln1) -> loss ln(3/2)
        IndexSets sets = new IndexSets(new int[] {0, 2, 4}, new int[] {0, 1, 0, 1});
        Var logits = Var.leaf("logits", Tensor.of(new float[] {1f, 2f, LN2, 0f}, 4));
        try (Tape t = new Tape()) {
            Var rows = RelaxedRanking.rows(t, logits, sets, new int[] {0, 2});
            assertArrayEquals(new float[] {0f, (float) Math.log(1.5)}, rows.value().toArray(), 1e-6f);
        }
        // ordered (0), U = {v}: dloss/dv = e^v/(1+e^v) below the clip, half of it at 80 (torch.minimum), 0 above
        float[] vs = {79f, 80f, 81f};
        float[] want = {1f, 0.5f, 0f};
        for (int i = 0; i < 3; i++) {
            Var l = Var.leaf("l", Tensor.of(new float[] {0f, vs[i]}, 2));
            try (Tape t = new Tape()) {
                t.backward(RelaxedRanking.loss(t, l, new IndexSets(new int[] {0, 2}, new int[] {0, 1}), new int[] {1}, null));
                assertEquals(want[i], l.grad().get(1), 1e-6f, "gradient of U logit " + vs[i]);
            }
        }
    }

    @Test
    void equalsThePlainFormulaOnLargeRows() {
        // the reference's direct form (cumulative sums of exp) in double, on logits up to +-30
        int[] ptr = {0, 40, 41, 90};
        int[] k = {25, 1, 49};
        float[] x = randn(5, 10f, 90).toArray();
        Var logits = Var.leaf("logits", Tensor.of(x, 90));
        try (Tape t = new Tape()) {
            Var rows = RelaxedRanking.rows(t, logits, new IndexSets(ptr, new int[90]), k);
            for (int r = 0; r < 3; r++) {
                double den = 0, want = 0;
                for (int j = ptr[r] + k[r]; j < ptr[r + 1]; j++) den += Math.exp(x[j]);
                for (int j = ptr[r] + k[r] - 1; j >= ptr[r]; j--) {
                    den += Math.exp(x[j]);
                    want -= x[j] - Math.log(den);
                }
                assertEquals(want, rows.value().get(r), 1e-4 * Math.abs(want) + 1e-5, "row " + r);
            }
        }
    }

    @Test
    void logitsSpreadBeyondExpsRangeStayFinite() {
        // ordered (0, -750), U = {-760}: exp(-750) underflows in double, so this row takes the log-domain path.
        // k=1: log(1 + e^-750 + e^-760) - 0 = 0 (in double); k=2: log(e^-750 + e^-760) + 750 = log1p(e^-10).
        // d/ds1 = -1 + 1/(1 + ...) = 0; d/ds2 = -1 + e^-750/(1 + ...) + e^-750/(e^-750 + e^-760) = -1 + 1/(1 + e^-10);
        // d/du = e^-10/(1 + e^-10)
        Var logits = Var.leaf("logits", Tensor.of(new float[] {0f, -750f, -760f}, 3));
        try (Tape t = new Tape()) {
            Var loss = RelaxedRanking.loss(t, logits, new IndexSets(new int[] {0, 3}, new int[] {0, 1, 2}), new int[] {2}, null);
            assertEquals(Math.log1p(Math.exp(-10)), loss.value().get(0), 1e-9);
            t.backward(loss);
            double q = Math.exp(-10) / (1 + Math.exp(-10));
            assertArrayEquals(new float[] {0f, (float) -q, (float) q}, logits.grad().toArray(), 1e-7f);
        }
    }

    @Test
    void manyRowsGiveTheSameBitsOnAnyThreadCount() {
        // 600 rows of 30-60 entries: the rows are split across the kernel threads
        int m = 600;
        int[] ptr = new int[m + 1], k = new int[m];
        for (int r = 0; r < m; r++) {
            ptr[r + 1] = ptr[r] + 30 + r % 31;
            k[r] = r % 7 == 0 ? 0 : 1 + r % 29;
        }
        int n = ptr[m];
        Tensor x = randn(9, 5f, n);
        float[] w = new float[m];
        for (int r = 0; r < m; r++) w[r] = 0.5f + r % 3;
        IndexSets sets = new IndexSets(ptr, new int[n]);
        int before = kdrec.cpu.Parallel.threads();
        try {
            float[] firstLoss = null, firstGrad = null;
            for (int threads : new int[] {1, 2, 3}) {
                kdrec.cpu.Parallel.setThreads(threads);
                try (Tape t = new Tape()) {
                    Var logits = Var.leaf("logits", x);
                    Var loss = RelaxedRanking.loss(t, logits, sets, k, w);
                    t.backward(loss);
                    float[] l = loss.value().toArray(), g = t.gradOf(logits).toArray();
                    if (firstLoss == null) {
                        firstLoss = l;
                        firstGrad = g;
                    } else {
                        kdrec.cpu.KernelTestSupport.assertBitEqual("loss, " + threads + " threads", firstLoss, l);
                        kdrec.cpu.KernelTestSupport.assertBitEqual("gradient, " + threads + " threads", firstGrad, g);
                    }
                }
            }
        } finally {
            kdrec.cpu.Parallel.setThreads(before);
        }
    }

    @Test
    void shapeErrorsNameTheProblem() {
        Var logits = Var.leaf("logits", Tensor.zeros(3));
        IndexSets sets = new IndexSets(new int[] {0, 3}, new int[] {0, 1, 2});
        try (Tape t = new Tape()) {
            assertThrows(IllegalArgumentException.class, () -> RelaxedRanking.loss(t, logits, sets, new int[] {4}, null));
            assertThrows(IllegalArgumentException.class, () -> RelaxedRanking.loss(t, logits, sets, new int[] {1, 1}, null));
            assertThrows(IllegalArgumentException.class, () -> RelaxedRanking.loss(t, logits, sets, new int[] {1}, new float[2]));
            assertThrows(IllegalArgumentException.class,
                    () -> RelaxedRanking.loss(t, Var.leaf("x", Tensor.zeros(2)), sets, new int[] {1}, null));
        }
    }

    private static final double EPS = 1e-2, ATOL = 5e-4, RTOL = 5e-3;

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void finiteDifferences(Backend be) {
        IndexSets sets = IndexSets.of(new int[][] {{0, 2, 5, 6, 1}, {3}, {4, 3, 2, 6}, {1, 0}});
        int[] k = {3, 1, 2, 0};
        float[] w = {1.5f, -0.5f, 2f, 1f};
        Var logits = Var.leaf("logits", randn(31, 1.5f, sets.size()));
        check("relaxedRanking loss", be, t -> RelaxedRanking.loss(t, logits, sets, k, w), EPS, ATOL, RTOL, logits);
        check("relaxedRanking rows", be, t -> RelaxedRanking.rows(t, logits, sets, k), EPS, ATOL, RTOL, logits);
        // through the embeddings, as the distillers use it
        Var u = Var.leaf("u", randn(32, 1f, 4, 5)), items = Var.leaf("items", randn(33, 1f, 7, 5));
        check("relaxedRanking of setDots", be, t -> RelaxedRanking.loss(t, Gather.setDots(t, u, items, sets), sets, k, w), EPS, ATOL, RTOL, u, items);
    }

    @Test
    void scratchIsReleasedBetweenSteps() {
        try (Tape t = new Tape(new CpuBackend(false), new Scratch())) {
            Var logits = Var.leaf("logits", Tensor.of(new float[] {1f, 2f}, 2));
            for (int i = 0; i < 3; i++) {
                t.reset();
                logits.zeroGrad();
                t.backward(RelaxedRanking.loss(t, logits, new IndexSets(new int[] {0, 2}, new int[] {0, 1}), new int[] {2}, null));
            }
            // ordered (1, 2), U empty: d/ds1 = -1 + e/(e+e^2), d/ds2 = -1 + e^2/(e+e^2) + 1
            double p = Math.exp(1) / (Math.exp(1) + Math.exp(2));
            assertArrayEquals(new float[] {(float) (p - 1), (float) (1 - p)}, logits.grad().toArray(), 1e-6f, "no accumulation across steps");
        }
    }
}
