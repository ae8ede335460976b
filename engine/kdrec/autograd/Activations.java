package kdrec.autograd;

import java.lang.foreign.MemorySegment;
import kdrec.tensor.Backend;
import kdrec.tensor.Tensor;

/**
 * Pointwise non-linearities: sigmoid, log-sigmoid (stable), ReLU, SiLU. Each is one forward kernel
 * and one accumulating backward kernel; sigmoid's backward reads its output, the others their input.
 */
public final class Activations {
    private Activations() {}

    public static Var sigmoid(Tape t, Var x) {
        Backend be = t.backend();
        return pointwise(t, x, "sigmoid", be::sigmoid, be::sigmoidBackward, true);
    }

    public static Var logSigmoid(Tape t, Var x) {
        Backend be = t.backend();
        return pointwise(t, x, "logSigmoid", be::logSigmoid, be::logSigmoidBackward, false);
    }

    public static Var relu(Tape t, Var x) {
        Backend be = t.backend();
        return pointwise(t, x, "relu", be::relu, be::reluBackward, false);
    }

    public static Var silu(Tape t, Var x) {
        Backend be = t.backend();
        return pointwise(t, x, "silu", be::silu, be::siluBackward, false);
    }

    /** y = f(x) over n elements. */
    private interface Forward {
        void run(long n, MemorySegment x, long xOff, MemorySegment y, long yOff);
    }

    /** gx += gy * f'(v), v being the input or the output. */
    private interface Backward {
        void run(long n, MemorySegment v, long vOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff);
    }

    private static Var pointwise(Tape t, Var x, String op, Forward fwd, Backward bwd, boolean backwardReadsOutput) {
        long n = x.value.size();
        Var y = t.output(op, t.needsGrad(x), x.value.shape());
        fwd.run(n, x.value.data(), 0, y.value.data(), 0);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g != null) bwd.run(n, (backwardReadsOutput ? y : x).value.data(), 0, g.data(), 0, t.gradOf(x).data(), 0);
        });
        return y;
    }
}
