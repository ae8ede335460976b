package kdrec.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.tensor.Backend;
import kdrec.tensor.Tensor;

/**
 * Adam with PyTorch's semantics (torch.optim.Adam: coupled L2 weight decay added to the gradient,
 * bias correction), fused into one kernel pass per parameter.
 *
 * <p>Dense mode (default) matches PyTorch exactly: every element of every parameter is updated at
 * every step, including embedding rows the batch did not touch (their moments decay, weight decay
 * still pulls them). Lazy mode updates only the rows a batch touched (as torch.optim.SparseAdam over
 * sparse embeddings, plus weight decay on those rows): a different trajectory, and cheaper only where a
 * table is far larger than a step's rows (its rows are visited at random, the dense pass streams). A row is touched when it was gathered (a row-sparse part) or written by a row-indexed op
 * (row dots, set dots, subset CEs: MF's BPR and the ranking KD terms); a parameter that any other op
 * wrote as a whole (a GEMM, LightGCN's propagation, a full-catalogue CE) is still updated densely.
 */
public final class Adam {
    private final List<Var> params;
    private final Map<Var, Tensor[]> state = new IdentityHashMap<>();
    private final float lr, beta1, beta2, eps, weightDecay;
    private final boolean lazy;
    private int step;

    public Adam(Params params, float lr, float weightDecay, boolean lazy) {
        this(params, lr, 0.9f, 0.999f, 1e-8f, weightDecay, lazy);
    }

    public Adam(Params params, float lr, float beta1, float beta2, float eps, float weightDecay, boolean lazy) {
        if (!(lr > 0f)) throw new IllegalArgumentException("Adam: lr must be > 0, got " + lr);
        if (!(beta1 >= 0f && beta1 < 1f && beta2 >= 0f && beta2 < 1f)) throw new IllegalArgumentException("Adam: betas must be in [0,1)");
        if (!(eps > 0f) || !(weightDecay >= 0f)) throw new IllegalArgumentException("Adam: eps must be > 0 and weight decay >= 0");
        this.params = params.all();
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.lazy = lazy;
        for (Var p : this.params) {
            state.put(p, new Tensor[] {params.store().zeros(p.value().shape()), params.store().zeros(p.value().shape())});
            if (lazy) p.trackGradRows();
        }
    }

    public float lr() {
        return lr;
    }

    public float beta1() {
        return beta1;
    }

    public float beta2() {
        return beta2;
    }

    public float eps() {
        return eps;
    }

    public float weightDecay() {
        return weightDecay;
    }

    /** True in lazy (row-sparse) mode. */
    public boolean lazy() {
        return lazy;
    }

    /** Number of steps taken (PyTorch's {@code state['step']}). */
    public int steps() {
        return step;
    }

    /** Restores the step counter (checkpoint resume). */
    public void setSteps(int s) {
        step = s;
    }

    /** First and second moment tensors of a parameter (for checkpoints). */
    public Tensor[] moments(Var p) {
        return state.get(p);
    }

    /** One update of every parameter that has a gradient; parameters without one are skipped (as PyTorch). */
    public void step(Tape tape) {
        step++;
        Backend be = tape.backend();
        for (Var p : params) {
            Tensor[] mv = state.get(p);
            boolean hasSparse = !p.sparseParts().isEmpty();
            if (lazy && hasSparse && p.grad() == null) {
                sparseStep(tape, be, p, mv);
                continue;
            }
            Tensor g = p.densify(tape);
            if (g == null) continue;
            java.util.BitSet rows = lazy ? p.gradRows() : null;
            if (rows != null) {
                rowsStep(tape, be, p, g, rows, mv);
                continue;
            }
            be.adam(p.value().size(), p.value().data(), 0, g.data(), 0, mv[0].data(), 0, mv[1].data(), 0,
                    lr, beta1, beta2, eps, weightDecay, step);
        }
    }

    /** Coalesces row-sparse parts (rows sorted, duplicates summed in part order) and updates those rows. */
    private void sparseStep(Tape tape, Backend be, Var p, Tensor[] mv) {
        int d = p.value().cols();
        int total = 0;
        for (Var.RowSparse part : p.sparseParts()) total += part.rows().length;
        int[] all = new int[total];
        int o = 0;
        for (Var.RowSparse part : p.sparseParts()) {
            System.arraycopy(part.rows(), 0, all, o, part.rows().length);
            o += part.rows().length;
        }
        int[] uniq = Arrays.stream(all).sorted().distinct().toArray();
        int[] slot = new int[total];
        for (int i = 0; i < total; i++) slot[i] = Arrays.binarySearch(uniq, all[i]);
        Tensor compact = tape.scratch().zeros(uniq.length, d);
        o = 0;
        for (Var.RowSparse part : p.sparseParts()) {
            int n = part.rows().length;
            be.scatterAdd(n, d, Arrays.copyOfRange(slot, o, o + n), part.values().data(), 0, d, compact.data(), 0, d);
            o += n;
        }
        be.adamRows(uniq.length, uniq, d, p.value().data(), 0, d, compact.data(), 0, d, mv[0].data(), 0, mv[1].data(), 0,
                lr, beta1, beta2, eps, weightDecay, step);
    }

    /**
     * Updates only the given rows of p from its dense gradient g: every op that wrote g said which rows
     * (row dots, set dots and subset CEs over a table; see Var#trackGradRows), so the other rows of g
     * are zero and, in lazy mode, untouched like SparseAdam's.
     */
    private void rowsStep(Tape tape, Backend be, Var p, Tensor g, java.util.BitSet rows, Tensor[] mv) {
        int d = p.value().cols();
        int[] uniq = rows.stream().toArray();
        Tensor compact = tape.scratch().uninitialized(Math.max(1, uniq.length), d);
        be.gather(uniq.length, d, uniq, g.data(), 0, d, compact.data(), 0, d);
        be.adamRows(uniq.length, uniq, d, p.value().data(), 0, d, compact.data(), 0, d, mv[0].data(), 0, mv[1].data(), 0,
                lr, beta1, beta2, eps, weightDecay, step);
    }

    /** Parameters this optimizer updates, in order. */
    public List<Var> params() {
        return new ArrayList<>(params);
    }
}
