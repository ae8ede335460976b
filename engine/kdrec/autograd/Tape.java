package kdrec.autograd;

import java.util.ArrayList;
import java.util.List;
import kdrec.tensor.Backend;
import kdrec.tensor.Backends;
import kdrec.tensor.Scratch;
import kdrec.tensor.Tensor;

/**
 * Reverse-mode autodiff by tape: every op run while recording appends its backward closure;
 * {@link #backward} runs them in reverse order. Intermediates and their gradients live in this
 * tape's {@link Scratch}, released by {@link #reset()} at the start of the next step, so a training
 * loop allocates nothing per step once warm.
 *
 * <p>One tape per training thread. Inside {@link #noGrad()} ops record nothing (inference, teacher
 * scoring, per-epoch hooks).
 */
public final class Tape implements AutoCloseable {
    private final Backend backend;
    private final Scratch scratch;
    private final List<Runnable> backwards = new ArrayList<>();
    private final List<Var> touched = new ArrayList<>();
    private int noGradDepth;
    private long steps;

    public Tape() {
        this(Backends.get(), new Scratch());
    }

    public Tape(Backend backend, Scratch scratch) {
        this.backend = backend;
        this.scratch = scratch;
    }

    public Backend backend() {
        return backend;
    }

    public Scratch scratch() {
        return scratch;
    }

    /** True unless inside a {@link #noGrad()} scope. */
    public boolean recording() {
        return noGradDepth == 0;
    }

    /** A scope in which ops record nothing: {@code try (var ng = tape.noGrad()) { ... }}. */
    public NoGrad noGrad() {
        noGradDepth++;
        return new NoGrad();
    }

    /** Closes a {@link #noGrad()} scope. */
    public final class NoGrad implements AutoCloseable {
        private boolean closed;

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                noGradDepth--;
            }
        }
    }

    /** True when an op over these inputs must record a backward. */
    boolean needsGrad(Var... inputs) {
        if (!recording()) return false;
        for (Var v : inputs) if (v != null && v.requiresGrad) return true;
        return false;
    }

    /** A new intermediate of the given shape (contents undefined). */
    Var output(String op, boolean requiresGrad, int... shape) {
        return Var.intermediate(op, scratch.uninitialized(shape), requiresGrad);
    }

    void record(Runnable backward) {
        backwards.add(backward);
    }

    /** The gradient buffer of {@code v} for accumulation; remembers v so reset() can clear it. */
    Tensor gradOf(Var v) {
        if (v.grad() == null) touched.add(v);
        Tensor g = v.gradForAccumulation(this);
        v.markWhole();
        return g;
    }

    /**
     * {@link #gradOf} for an op that writes only rows idx[from, to) of v's gradient (row-indexed reads
     * of a table), so that lazy Adam can update only those rows of a parameter; idx null: every row.
     */
    Tensor gradOfRows(Var v, int[] idx, int from, int to) {
        if (idx == null) return gradOf(v);
        if (v.grad() == null) touched.add(v);
        Tensor g = v.gradForAccumulation(this);
        v.markRows(idx, from, to);
        return g;
    }

    void addSparse(Var v, int[] rows, Tensor values) {
        if (v.grad() == null && v.sparseParts().isEmpty()) touched.add(v);
        v.addSparse(rows, values);
    }

    /** Back-propagates from a scalar {@code loss} (seed 1). */
    public void backward(Var loss) {
        if (loss.value.size() != 1) {
            throw new IllegalArgumentException("backward: loss must hold one value, got shape "
                    + java.util.Arrays.toString(loss.value.shape()) + "; use backward(out, seed)");
        }
        Tensor seed = scratch.uninitialized(loss.value.shape());
        seed.set(0, 1f);
        backward(loss, seed);
    }

    /** Back-propagates from {@code out} with upstream gradient {@code seed} (same shape). */
    public void backward(Var out, Tensor seed) {
        if (!out.requiresGrad) throw new IllegalArgumentException("backward: " + out + " does not depend on any parameter");
        kdrec.tensor.Shapes.same("backward(seed)", out.value, seed);
        seed.copyTo(gradOf(out));
        for (int i = backwards.size() - 1; i >= 0; i--) backwards.get(i).run();
        backwards.clear();
    }

    /**
     * Starts a new step: forgets recorded ops and releases scratch memory. Gradients that lived in
     * scratch (those of intermediates and buffer-less leaves, and every row-sparse part) are
     * cleared with it; parameters' dense gradients stay until {@link Var#zeroGrad()}, as in PyTorch.
     */
    public void reset() {
        steps++;
        backwards.clear();
        for (Var v : touched) v.releaseScratch();
        touched.clear();
        scratch.reset();
    }

    /**
     * How many times {@link #reset()} has run: buffers an op's backward still needs may be reused once
     * this has moved on (the backward of the earlier step has run or been dropped).
     */
    public long steps() {
        return steps;
    }

    /** Number of recorded backward closures (for tests). */
    public int recorded() {
        return backwards.size();
    }

    @Override
    public void close() {
        scratch.close();
    }
}
