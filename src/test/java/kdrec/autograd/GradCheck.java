package kdrec.autograd;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import java.util.function.Function;
import kdrec.tensor.Backend;
import kdrec.tensor.Scratch;
import kdrec.tensor.Tensor;

/**
 * Central finite-difference gradient check. The objective is {@code sum_i w_i * out_i} with fixed
 * random weights w, evaluated in double from the op's float32 outputs; analytic gradients come
 * from one backward pass seeded with w. Each input element is perturbed by +-h (h taken as the
 * float-representable step actually applied), and the two must agree to
 * {@code atol + rtol * |numeric|}.
 */
final class GradCheck {
    private GradCheck() {}

    /** Both CPU backends (scalar twins and Vector API), for {@code @MethodSource("kdrec.autograd.GradCheck#backends")}. */
    static java.util.stream.Stream<kdrec.tensor.Backend> backends() {
        return java.util.stream.Stream.of(new kdrec.tensor.CpuBackend(false), new kdrec.tensor.CpuBackend(true));
    }

    /** A leaf of N(0, 1) values with the given shape, drawn from {@code seed}. */
    static Var leaf(String name, long seed, int... shape) {
        return Var.leaf(name, randn(seed, 1f, shape));
    }

    static Tensor randn(long seed, float std, int... shape) {
        Tensor t = Tensor.zeros(shape);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.size(); i++) {
            double u1 = 1 - r.nextDouble(), u2 = r.nextDouble();
            t.set(i, (float) (std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)));
        }
        return t;
    }

    static void check(String op, Backend be, Function<Tape, Var> f, double eps, double atol, double rtol, Var... inputs) {
        try (Tape tape = new Tape(be, new Scratch())) {
            Var out = f.apply(tape);
            assertTrue(out.requiresGrad(), op + ": output does not require grad");
            Tensor w = randn(99, 1f, out.value().shape());
            tape.backward(out, w);
            double[][] analytic = new double[inputs.length][];
            for (int k = 0; k < inputs.length; k++) {
                Tensor g = inputs[k].densify(tape);
                analytic[k] = new double[(int) inputs[k].value().size()];
                if (g != null) for (int i = 0; i < analytic[k].length; i++) analytic[k][i] = g.get(i);
            }
            tape.reset();
            for (Var v : inputs) v.zeroGrad();
            for (int k = 0; k < inputs.length; k++) {
                Tensor x = inputs[k].value();
                for (int i = 0; i < x.size(); i++) {
                    float x0 = x.get(i);
                    float xp = (float) (x0 + eps), xm = (float) (x0 - eps);
                    x.set(i, xp);
                    double fp = objective(tape, f, w);
                    x.set(i, xm);
                    double fm = objective(tape, f, w);
                    x.set(i, x0);
                    double numeric = (fp - fm) / ((double) xp - (double) xm);
                    double a = analytic[k][i];
                    if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
                        fail(op + ": d/d" + inputs[k].name() + "[" + i + "] analytic " + a + " vs numeric " + numeric);
                    }
                }
            }
        }
    }

    private static double objective(Tape tape, Function<Tape, Var> f, Tensor w) {
        try (var ng = tape.noGrad()) {
            Var out = f.apply(tape);
            double s = 0;
            for (long i = 0; i < w.size(); i++) s += (double) w.get(i) * out.value().get(i);
            tape.reset();
            return s;
        }
    }
}
