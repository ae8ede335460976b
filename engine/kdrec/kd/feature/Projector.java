package kdrec.kd.feature;

import java.util.SplittableRandom;
import kdrec.autograd.Activations;
import kdrec.autograd.Arith;
import kdrec.autograd.ExpertMlp;
import kdrec.autograd.Linear;
import kdrec.autograd.RowDropout;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.nn.Params;

/**
 * A student-to-teacher projector as the authors' {@code Projector}/{@code fullExpert}: the mean of
 * E experts, each {@code Dropout(p) -> Linear(d_in, h) -> ReLU -> Dropout(p) -> Linear(h, d_out)}
 * (biases on, no output normalisation). PyTorch's default Linear init: weights and biases
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), here from a generator seeded by (seed, parameter).
 *
 * <p>Dropout masks are keyed by the row's entity id ({@link RowDropout}), so projecting a row alone
 * or inside the full table gives the same output. {@link #forward} is one fused op; {@link
 * #experts(Tape, Var, int[], long)} returns the E expert outputs separately (DE and HTD mix them with a
 * selection net).
 */
public final class Projector {
    private final int experts, in, hidden, out;
    private final float dropout;
    private final Var[] w1, b1, w2, b2;
    private boolean composed;

    /** Adds the projector's parameters to {@code params} as {@code <name>.expert<e>.{w1,b1,w2,b2}}. */
    public Projector(Params params, String name, int experts, int in, int hidden, int out, float dropout, long seed) {
        if (experts < 1 || in < 1 || hidden < 1 || out < 1) {
            throw new IllegalArgumentException(name + " projector: experts and widths must be >= 1, got " + experts + " experts, " + in + " -> " + hidden + " -> " + out);
        }
        if (!(dropout >= 0f && dropout < 1f)) throw new IllegalArgumentException(name + " projector: dropout must be in [0, 1), got " + dropout);
        this.experts = experts;
        this.in = in;
        this.hidden = hidden;
        this.out = out;
        this.dropout = dropout;
        w1 = new Var[experts];
        b1 = new Var[experts];
        w2 = new Var[experts];
        b2 = new Var[experts];
        for (int e = 0; e < experts; e++) {
            String p = name + ".expert" + e + ".";
            w1[e] = uniform(params, p + "w1", in, seed, 4L * e, in, hidden);
            b1[e] = uniform(params, p + "b1", in, seed, 4L * e + 1, hidden);
            w2[e] = uniform(params, p + "w2", hidden, seed, 4L * e + 2, hidden, out);
            b2[e] = uniform(params, p + "b2", hidden, seed, 4L * e + 3, out);
        }
    }

    /** A parameter filled U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (PyTorch's Linear default) from (seed, stream). */
    static Var uniform(Params params, String name, int fanIn, long seed, long stream, int... shape) {
        Var v = params.create(name, shape);
        SplittableRandom r = new SplittableRandom(RowDropout.rowSeed(seed, (int) stream));
        double bound = 1 / Math.sqrt(fanIn);
        for (long i = 0; i < v.value().size(); i++) v.value().set(i, (float) ((2 * r.nextDouble() - 1) * bound));
        return v;
    }

    /** Makes {@link #forward} run {@link #forwardComposed} (the baseline of bench FreqdStepBench). */
    public void composed(boolean on) {
        composed = on;
    }

    public int experts() {
        return experts;
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    /**
     * The mean of the experts' outputs for rows x (n x in) whose entity ids are {@code ids}: one
     * {@link ExpertMlp} op, which keeps none of the (n x hidden) intermediates.
     */
    public Var forward(Tape t, Var x, int[] ids, long seed) {
        if (composed) return forwardComposed(t, x, ids, seed);
        if (x.value().cols() != in) throw new IllegalArgumentException("projector: input rows are " + x.value().cols() + " wide, expected " + in);
        return ExpertMlp.mean(t, x, ids, w1, b1, w2, b2, dropout, seed);
    }

    /**
     * {@link #forward} composed of {@link #experts} and element-wise ops (the implementation before
     * {@link ExpertMlp}): the same values and gradients bit for bit, with every intermediate on the
     * tape; kept as the reference of tests and the baseline of bench FreqdStepBench.
     */
    public Var forwardComposed(Tape t, Var x, int[] ids, long seed) {
        Var[] each = experts(t, x, ids, seed);
        Var sum = each[0];
        for (int e = 1; e < experts; e++) sum = Arith.add(t, sum, each[e]);
        return experts == 1 ? sum : Arith.scale(t, sum, 1f / experts);
    }

    /** Each expert's output (n x out); dropout streams differ per expert and layer. */
    public Var[] experts(Tape t, Var x, int[] ids, long seed) {
        if (x.value().cols() != in) throw new IllegalArgumentException("projector: input rows are " + x.value().cols() + " wide, expected " + in);
        Var[] outs = new Var[experts];
        for (int e = 0; e < experts; e++) {
            Var h = RowDropout.apply(t, x, ids, dropout, RowDropout.rowSeed(seed, 2 * e));
            h = Activations.relu(t, Linear.apply(t, h, w1[e], b1[e]));
            h = RowDropout.apply(t, h, ids, dropout, RowDropout.rowSeed(seed, 2 * e + 1));
            outs[e] = Linear.apply(t, h, w2[e], b2[e]);
        }
        return outs;
    }
}
