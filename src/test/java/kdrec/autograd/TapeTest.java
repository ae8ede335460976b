package kdrec.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import kdrec.nn.Params;
import kdrec.tensor.CpuBackend;
import kdrec.tensor.Scratch;
import kdrec.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The tape's bookkeeping: recording, no-grad scopes, accumulation, reset, errors. */
class TapeTest {
    private static Tape tape() {
        return new Tape(new CpuBackend(true), new Scratch(1024));
    }

    @Test
    void gradientsAccumulateWhenAVarIsUsedTwice() {
        try (Tape t = tape()) {
            Var x = Var.leaf("x", Tensor.of(new float[] {1.5f, -2f, 3f}, 3));
            Var y = Arith.sum(t, Arith.mul(t, x, x)); // d/dx sum(x*x) = 2x
            t.backward(y);
            assertEquals(3f, x.grad().get(0), 1e-6);
            assertEquals(-4f, x.grad().get(1), 1e-6);
            assertEquals(6f, x.grad().get(2), 1e-6);
        }
    }

    @Test
    void noGradScopeRecordsNothing() {
        try (Tape t = tape()) {
            Var x = Var.leaf("x", Tensor.of(new float[] {1, 2}, 2));
            try (var ng = t.noGrad()) {
                Var y = Arith.scale(t, x, 3f);
                assertFalse(y.requiresGrad());
                assertEquals(0, t.recorded());
                assertEquals(6f, y.value().get(1));
            }
            assertTrue(t.recording());
            Arith.scale(t, x, 3f);
            assertEquals(1, t.recorded());
        }
    }

    @Test
    void constantsGetNoGradient() {
        try (Tape t = tape()) {
            Var c = Var.constant(Tensor.of(new float[] {1, 2}, 2));
            Var x = Var.leaf("x", Tensor.of(new float[] {3, 4}, 2));
            t.backward(Arith.sum(t, Arith.mul(t, c, x)));
            assertNull(c.grad());
            assertEquals(2f, x.grad().get(1));
        }
    }

    @Test
    void parameterGradientsSurviveResetUntilZeroGrad() {
        try (Tape t = tape(); Params p = new Params()) {
            Var w = p.create("w", 2);
            w.value().set(0, 1f);
            t.backward(Arith.sum(t, Arith.scale(t, w, 2f)));
            t.reset();
            assertEquals(2f, w.grad().get(0));
            t.backward(Arith.sum(t, Arith.scale(t, w, 2f)));
            assertEquals(4f, w.grad().get(0), "a second backward accumulates, as in PyTorch");
            p.zeroGrad();
            assertNull(w.grad());
        }
    }

    @Test
    void gatherGivesRowSparsePartsToParameters() {
        try (Tape t = tape(); Params p = new Params()) {
            Var table = p.create("table", 4, 2);
            Var rows = Gather.rows(t, table, new int[] {2, 0, 2});
            t.backward(Arith.sum(t, rows));
            assertNull(table.grad(), "no dense gradient until densified");
            assertEquals(1, table.sparseParts().size());
            Tensor g = table.densify(t);
            assertEquals(2f, g.get(2, 0));
            assertEquals(1f, g.get(0, 1));
            assertEquals(0f, g.get(1, 0));
        }
    }

    @Test
    void backwardNeedsAScalarOrASeed() {
        try (Tape t = tape()) {
            Var x = Var.leaf("x", Tensor.of(new float[] {1, 2}, 2));
            Var y = Arith.scale(t, x, 2f);
            var e = assertThrows(IllegalArgumentException.class, () -> t.backward(y));
            assertTrue(e.getMessage().contains("one value"), e.getMessage());
        }
    }

    @Test
    void shapeErrorsNameTheOpAndBothShapes() {
        try (Tape t = tape()) {
            Var a = Var.leaf("a", Tensor.zeros(2, 3)), b = Var.leaf("b", Tensor.zeros(4, 5));
            var e = assertThrows(IllegalArgumentException.class, () -> MatMul.nn(t, a, b));
            assertTrue(e.getMessage().contains("matmul nn") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 5]"), e.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class, () -> Arith.add(t, a, b));
            assertTrue(e2.getMessage().startsWith("add:"), e2.getMessage());
        }
    }
}
