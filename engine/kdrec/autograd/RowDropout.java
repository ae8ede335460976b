package kdrec.autograd;

import kdrec.tensor.Backend;
import kdrec.tensor.Tensor;

/**
 * Inverted dropout whose mask is keyed by a row id rather than a position: row t of x uses the
 * dropout kernel's counter-based mask with seed {@code rowSeed(seed, ids[t])}. A projector that sees
 * a row as part of a batch closure or of the full table then drops the very same elements, so the
 * two computations agree (FreqD's closure path equals the reference code's full-table path).
 */
public final class RowDropout {
    private RowDropout() {}

    /** The per-row seed: a splitmix64 step of seed and id. */
    public static long rowSeed(long seed, int id) {
        long z = seed + 0x9E3779B97F4A7C15L * (id + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static Var apply(Tape t, Var x, int[] ids, float p, long seed) {
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException("rowDropout: p must be in [0, 1), got " + p);
        if (p == 0f) return x;
        int rows = x.value.rows(), d = x.value.cols();
        if (ids.length != rows) throw new IllegalArgumentException("rowDropout: " + ids.length + " row ids for " + rows + " rows");
        Backend be = t.backend();
        Var y = t.output("rowDropout", t.needsGrad(x), x.value.shape());
        for (int r = 0; r < rows; r++) be.dropout(d, x.value.data(), (long) r * d, y.value.data(), (long) r * d, p, rowSeed(seed, ids[r]));
        if (y.requiresGrad) t.record(() -> {
            Tensor g = y.grad();
            if (g == null) return;
            Tensor gx = t.gradOf(x);
            for (int r = 0; r < rows; r++) be.dropoutBackward(d, g.data(), (long) r * d, gx.data(), (long) r * d, p, rowSeed(seed, ids[r]));
        });
        return y;
    }
}
