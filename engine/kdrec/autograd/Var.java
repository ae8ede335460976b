package kdrec.autograd;

import java.util.ArrayList;
import java.util.List;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * A node of the autodiff graph: a value, and the gradient of the loss with respect to it.
 *
 * <p>Three kinds: parameters (leaves that own a long-lived gradient buffer, see {@link #param}),
 * constants (no gradient) and intermediates made by ops (gradient allocated lazily in the tape's
 * scratch). Gradients accumulate ({@code +=}). A parameter read through {@link Gather#rows} may
 * receive row-sparse gradient parts instead of a dense update; {@link #sparseParts()} holds them
 * until an optimizer or {@link #densify} consumes them.
 */
public final class Var {
    final Tensor value;
    final boolean requiresGrad;
    final String name;
    private final boolean ownsGradBuffer;
    private boolean intermediate;
    private Tensor grad;
    private boolean gradLive;
    private final List<RowSparse> sparse = new ArrayList<>(0);
    // Rows the dense gradient was written at (lazy Adam's touched rows), kept only when trackGradRows()
    // was asked for; gradWhole once any op wrote the gradient as a whole. Same lifetime as the gradient.
    private java.util.BitSet gradRows;
    private boolean gradWhole = true; // the buffer's content is unknown until a step has written it

    /** Row-sparse gradient part: {@code rows[t]} receives row t of {@code values} (n x d). */
    public record RowSparse(int[] rows, Tensor values) {}

    private Var(Tensor value, boolean requiresGrad, String name, Tensor gradBuffer) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.name = name;
        this.grad = gradBuffer;
        this.ownsGradBuffer = gradBuffer != null;
    }

    /** A trainable leaf with its own gradient buffer (same shape, typically from a ParamStore). */
    public static Var param(String name, Tensor value, Tensor gradBuffer) {
        Shapes.same("Var.param(" + name + ")", value, gradBuffer);
        return new Var(value, true, name, gradBuffer);
    }

    /** A value that needs no gradient (inputs, frozen teacher tables). */
    public static Var constant(Tensor value) {
        return new Var(value, false, "const", null);
    }

    /** A leaf that needs a gradient but has no buffer of its own (allocated in the tape's scratch). */
    public static Var leaf(String name, Tensor value) {
        return new Var(value, true, name, null);
    }

    static Var intermediate(String op, Tensor value, boolean requiresGrad) {
        Var v = new Var(value, requiresGrad, op, null);
        v.intermediate = true;
        return v;
    }

    public Tensor value() {
        return value;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    public String name() {
        return name;
    }

    /** A parameter or a leaf (not produced by an op). */
    public boolean isLeaf() {
        return ownsGradBuffer || (requiresGrad && !intermediate);
    }

    /** The dense gradient, or null when nothing dense has been accumulated since the last reset. */
    public Tensor grad() {
        return gradLive ? grad : null;
    }

    /** The row-sparse parts accumulated since the last reset (empty for most vars). */
    public List<RowSparse> sparseParts() {
        return sparse;
    }

    /** The dense gradient buffer for accumulation, zero-filled on first use in a step. */
    Tensor gradForAccumulation(Tape tape) {
        if (!gradLive) {
            if (grad == null || !ownsGradBuffer) grad = tape.scratch().zeros(value.shape());
            else if (gradRows != null && !gradWhole) zeroRows(tape); // the last step wrote these rows only
            else grad.fill(0f);
            gradLive = true;
            gradWhole = false;
            if (gradRows != null) gradRows.clear();
        }
        return grad;
    }

    /**
     * Asks ops to say which rows of this parameter's dense gradient they write (row-indexed reads:
     * row dots, set dots, subset CEs), so that lazy Adam can update those rows only. Off by default:
     * marking costs a bit set per entry. Called by a lazy {@code kdrec.nn.Adam} on its parameters.
     */
    public void trackGradRows() {
        if (gradRows == null) gradRows = new java.util.BitSet();
    }

    /**
     * The rows of the dense gradient that can be non-zero when every op that wrote it said which
     * ({@link #trackGradRows}); null when untracked, when there is no dense gradient, or when some op
     * wrote it as a whole (a GEMM, a propagation, a full-catalogue CE).
     */
    public java.util.BitSet gradRows() {
        return gradRows != null && gradLive && !gradWhole ? gradRows : null;
    }

    /** An op wrote the dense gradient as a whole. */
    void markWhole() {
        gradWhole = true;
    }

    /** An op wrote the dense gradient at rows idx[from, to) only. */
    void markRows(int[] idx, int from, int to) {
        if (gradRows == null) gradWhole = true; // untracked: the next step zeroes the whole buffer
        if (gradWhole) return;
        for (int i = from; i < to; i++) gradRows.set(idx[i]);
    }

    private void zeroRows(Tape tape) {
        int d = value.cols();
        for (int r = gradRows.nextSetBit(0); r >= 0; r = gradRows.nextSetBit(r + 1)) tape.backend().fill(d, grad.data(), (long) r * d, 0f);
    }

    void addSparse(int[] rows, Tensor values) {
        sparse.add(new RowSparse(rows, values));
    }

    /** Folds any row-sparse parts into the dense gradient (scatter-add in part order: deterministic). */
    public Tensor densify(Tape tape) {
        if (sparse.isEmpty()) return grad();
        Tensor g = gradForAccumulation(tape);
        int d = value.cols();
        for (RowSparse p : sparse) {
            tape.backend().scatterAdd(p.rows().length, d, p.rows(), p.values().data(), 0, d, g.data(), 0, d);
            markRows(p.rows(), 0, p.rows().length);
        }
        sparse.clear();
        return g;
    }

    /** Drops whatever of the gradient lives in the tape's scratch (called by Tape.reset). */
    void releaseScratch() {
        sparse.clear();
        if (!ownsGradBuffer) {
            grad = null;
            gradLive = false;
        }
    }

    /** Forgets the gradient (dense and sparse); parameters keep their buffer for the next step. */
    public void zeroGrad() {
        gradLive = false;
        sparse.clear();
        if (!ownsGradBuffer) grad = null;
    }

    @Override
    public String toString() {
        return "Var(" + name + ", " + value + (requiresGrad ? ", grad" : "") + ")";
    }
}
