package kdrec.kd.feature;

import java.util.SplittableRandom;
import kdrec.autograd.Arith;
import kdrec.autograd.GumbelSoftmax;
import kdrec.autograd.Linear;
import kdrec.autograd.RowDistance;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.nn.Params;
import kdrec.tensor.Tensor;

/**
 * DE's distillation experts for one side, shared with HTD's group assignment: E experts
 * {@code Linear(d_s, (d_s+d_t)/2) -> ReLU -> Linear(., d_t)} and a selection net
 * {@code softmax(Linear(d_t, E)(t))} on the teacher's row; the experts are mixed by a Gumbel-softmax
 * draw of the selection at temperature T, and the loss is {@code Σ_e ‖t_e - Σ_m z_m f_m(s_e)‖²}.
 * With one expert the selection is skipped (weight 1), as in the code.
 */
final class ExpertSelection {
    final Projector experts;
    final Var selW, selB;

    ExpertSelection(Params params, String side, int count, int ds, int dt, long seed) {
        experts = new Projector(params, side, count, ds, (ds + dt) / 2, dt, 0f, seed);
        selW = Projector.uniform(params, side + ".select.w", dt, seed, 1000, dt, count);
        selB = Projector.uniform(params, side + ".select.b", dt, seed, 1001, count);
    }

    /** The summed squared distance of teacher rows and mixed expert outputs; noise from {@code rng}. */
    Var loss(Tape tape, Var s, Tensor t, int[] ids, double temp, SplittableRandom rng) {
        Var[] f = experts.experts(tape, s, ids, 0);
        Var mixed;
        if (f.length == 1) {
            mixed = f[0];
        } else {
            Var logits = Linear.apply(tape, Var.constant(t), selW, selB);
            Var z = GumbelSoftmax.select(tape, logits, GumbelSoftmax.noise(rng, ids.length * f.length), temp);
            mixed = GumbelSoftmax.mix(tape, z, f);
        }
        return Arith.sum(tape, RowDistance.squaredL2(tape, mixed, Var.constant(t)));
    }

    /** Each row's most likely expert (argmax of the selection net, no noise, no gradient). */
    int[] groups(Tape tape, Tensor t) {
        int n = t.rows(), e = experts.experts();
        int[] out = new int[n];
        if (e == 1) return out;
        try (var ng = tape.noGrad()) {
            Tensor logits = Linear.apply(tape, Var.constant(t), selW, selB).value();
            for (int r = 0; r < n; r++) {
                int best = 0;
                for (int m = 1; m < e; m++) if (logits.get(r, m) > logits.get(r, best)) best = m;
                out[r] = best;
            }
        }
        return out;
    }

    /** Annealed temperature {@code start·(end/start)^(epoch/maxEpochs)}, floored at end (DE: 1 -> 1e-10). */
    static double temperature(double start, double end, int epoch, int maxEpochs) {
        return Math.max(start * Math.pow(end / start, (double) epoch / maxEpochs), end);
    }
}
