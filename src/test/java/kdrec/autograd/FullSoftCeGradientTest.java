package kdrec.autograd;

import static kdrec.autograd.GradCheck.check;
import static kdrec.autograd.GradCheck.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;

import kdrec.tensor.Backend;
import kdrec.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The full-catalogue soft-target CE (RCE-KD's full-CE ablation): finite differences and a hand-computed row. */
class FullSoftCeGradientTest {

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void gradientMatchesFiniteDifferences(Backend be) {
        // 130 rows: more than one 128-row chunk, so the chunked forward and backward are both exercised
        Var u = Var.leaf("u", randn(1, 0.5f, 130, 5)), items = Var.leaf("items", randn(2, 0.5f, 9, 5));
        Tensor tu = randn(3, 1f, 130, 3), ti = randn(4, 1f, 9, 3);
        check("fullSoftCe", be, t -> FullSoftCe.loss(t, u, items, tu, ti, 0.7f), 1e-2, 5e-4, 5e-3, u, items);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void handComputedRow(Backend be) {
        // student logits [1, 0], teacher logits [0, ln 3], tau 1: p = [1/4, 3/4]; loss = log(e + 1) - (1/4 * 1 + 3/4 * 0)
        Var u = Var.leaf("u", Tensor.of(new float[] {1f}, 1, 1)), items = Var.leaf("items", Tensor.of(new float[] {1f, 0f}, 2, 1));
        Tensor tu = Tensor.of(new float[] {1f}, 1, 1), ti = Tensor.of(new float[] {0f, (float) Math.log(3)}, 2, 1);
        try (Tape t = new Tape(be, new kdrec.tensor.Scratch())) {
            Var loss = FullSoftCe.loss(t, u, items, tu, ti, 1f);
            assertEquals(Math.log(Math.E + 1) - 0.25, loss.value().get(0), 1e-6);
        }
    }
}
