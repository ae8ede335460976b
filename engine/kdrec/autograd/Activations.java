package kdrec.autograd;

import kdrec.tensor.Backend;
import kdrec.tensor.Tensor;

/** Pointwise non-linearities: sigmoid, log-sigmoid (stable), ReLU, SiLU; forward and backward side by side. */
public final class Activations {
    private Activations() {}

    public static Var sigmoid(Tape t, Var x) {
        Backend be = t.backend();
        long n = x.value.size();
        Var y = t.output("sigmoid", t.needsGrad(x), x.value.shape());
        be.sigmoid(n, x.value.data(), 0, y.value.data(), 0);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g != null) be.sigmoidBackward(n, y.value.data(), 0, g.data(), 0, t.gradOf(x).data(), 0);
        });
        return y;
    }

    public static Var logSigmoid(Tape t, Var x) {
        Backend be = t.backend();
        long n = x.value.size();
        Var y = t.output("logSigmoid", t.needsGrad(x), x.value.shape());
        be.logSigmoid(n, x.value.data(), 0, y.value.data(), 0);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g != null) be.logSigmoidBackward(n, x.value.data(), 0, g.data(), 0, t.gradOf(x).data(), 0);
        });
        return y;
    }

    public static Var relu(Tape t, Var x) {
        Backend be = t.backend();
        long n = x.value.size();
        Var y = t.output("relu", t.needsGrad(x), x.value.shape());
        be.relu(n, x.value.data(), 0, y.value.data(), 0);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g != null) be.reluBackward(n, x.value.data(), 0, g.data(), 0, t.gradOf(x).data(), 0);
        });
        return y;
    }

    public static Var silu(Tape t, Var x) {
        Backend be = t.backend();
        long n = x.value.size();
        Var y = t.output("silu", t.needsGrad(x), x.value.shape());
        be.silu(n, x.value.data(), 0, y.value.data(), 0);
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g != null) be.siluBackward(n, x.value.data(), 0, g.data(), 0, t.gradOf(x).data(), 0);
        });
        return y;
    }
}
