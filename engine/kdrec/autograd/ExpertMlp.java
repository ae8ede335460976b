package kdrec.autograd;

import java.lang.foreign.MemorySegment;
import kdrec.tensor.Backend;
import kdrec.tensor.Scratch;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * The mean of E two-layer experts as one op (the projectors of FreqD and FitNet):
 * {@code y = (1/E) Σ_e [Drop(relu(Drop(x) W1_e + b1_e)) W2_e + b2_e]} ({@code y} is the one expert's
 * output when E = 1), with the row-keyed dropout of {@link RowDropout}: expert e drops its input with
 * seed {@code rowSeed(seed, 2e)} and its hidden layer with {@code rowSeed(seed, 2e + 1)}.
 *
 * <p>Why one op: composed from Linear, relu, RowDropout, add and scale, each expert keeps four
 * (rows x hidden) values and the mean E more, and backward adds as many gradients: 50 such buffers per
 * call at E = 5, 16 GB for FreqD's 41k item rows at the LightGCN teacher's width 2000. This op keeps
 * only its output. It runs in row chunks through a few (chunk x hidden) scratch buffers that it
 * releases on return; backward recomputes a chunk's hidden layer from x (a d_in-deep product: 1 % of
 * the second layer's work at d_in = 20) and re-derives the dropout masks from their seeds, so neither
 * activations nor masks are stored.
 *
 * <p>Numerics: the same kernels run on the same values in the same order as the composition
 * ({@code Projector.forwardComposed}), so the output and every gradient equal it bit for bit: chunking
 * rows changes no row's result, the weight gradients (sums over rows) are reduced over chunks of the
 * backend's {@link Backend#gemmTnSplit} (which reproduce one TN call; for the scalar twin that is all
 * rows, one chunk), and dx gathers the experts from last to first, as the composition's backward does.
 */
public final class ExpertMlp {
    private ExpertMlp() {}

    /** Rows per chunk aimed at (rounded to whole TN splits): (1024 x 2000) floats are 8 MB a buffer. */
    static final int CHUNK_ROWS = 1024;

    /** The mean over experts e of {@code Drop(relu(Drop(x) w1[e] + b1[e])) w2[e] + b2[e]}; x's row t has entity id ids[t]. */
    public static Var mean(Tape t, Var x, int[] ids, Var[] w1, Var[] b1, Var[] w2, Var[] b2, float p, long seed) {
        Shapes.matrix("expertMlp", x.value);
        int n = x.value.rows(), in = x.value.cols(), experts = w1.length;
        if (experts < 1 || b1.length != experts || w2.length != experts || b2.length != experts) {
            throw new IllegalArgumentException("expertMlp: need >= 1 expert and as many w1, b1, w2, b2; got " + w1.length + ", " + b1.length + ", " + w2.length + ", " + b2.length);
        }
        if (ids.length != n) throw new IllegalArgumentException("expertMlp: " + ids.length + " row ids for " + n + " rows");
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException("expertMlp: dropout must be in [0, 1), got " + p);
        Shapes.matrix("expertMlp", w1[0].value);
        Shapes.matrix("expertMlp", w2[0].value);
        int hid = w1[0].value.cols(), out = w2[0].value.cols();
        Var[] all = new Var[1 + 4 * experts];
        all[0] = x;
        for (int e = 0; e < experts; e++) {
            if (w1[e].value.rows() != in || w1[e].value.cols() != hid) throw Shapes.mismatch("expertMlp", "expert " + e + ": W1 must be d_in x hidden", x.value, w1[e].value);
            if (b1[e].value.size() != hid) throw Shapes.mismatch("expertMlp", "expert " + e + ": b1 length must be hidden", w1[e].value, b1[e].value);
            if (w2[e].value.rows() != hid || w2[e].value.cols() != out) throw Shapes.mismatch("expertMlp", "expert " + e + ": W2 must be hidden x d_out", w1[e].value, w2[e].value);
            if (b2[e].value.size() != out) throw Shapes.mismatch("expertMlp", "expert " + e + ": b2 length must be d_out", w2[e].value, b2[e].value);
            all[1 + 4 * e] = w1[e];
            all[2 + 4 * e] = b1[e];
            all[3 + 4 * e] = w2[e];
            all[4 + 4 * e] = b2[e];
        }
        Backend be = t.backend();
        Var y = t.output("expertMlp", t.needsGrad(all), n, out);
        if (n == 0) return y;
        // chunks of whole TN splits (one chunk when it covers all rows)
        int split = be.gemmTnSplit(n), ch = Math.min(n, split >= CHUNK_ROWS ? split : split * (CHUNK_ROWS / split));
        Shape sh = new Shape(n, in, hid, out, experts, ch, split, p, seed, ids);
        MemorySegment yd = y.value.data();
        Scratch s = t.scratch();
        Scratch.Mark mark = s.mark();
        Tensor xd = p > 0 ? s.uninitialized(ch, in) : null, h = s.uninitialized(ch, hid), o = experts > 1 ? s.uninitialized(ch, out) : null;
        for (int r0 = 0; r0 < n; r0 += ch) {
            int c = Math.min(ch, n - r0);
            long yo = (long) r0 * out;
            for (int e = 0; e < experts; e++) {
                hidden(be, sh, x, r0, c, e, w1[e], b1[e], xd, null, h);
                // expert 0 (or the only one) writes y; the others go through o and are added: the composition's sum, in its order
                linear(be, c, hid, out, h.data(), 0, w2[e], b2[e], e == 0 ? yd : o.data(), e == 0 ? yo : 0);
                if (e > 0) be.add((long) c * out, yd, yo, o.data(), 0, yd, yo);
            }
            if (experts > 1) be.scale((long) c * out, 1f / experts, yd, yo, yd, yo);
        }
        s.release(mark);
        if (y.requiresGrad) t.record(() -> backward(t, sh, y, x, w1, b1, w2, b2));
        return y;
    }

    /** The op's dimensions and draws, shared by forward and backward. */
    private record Shape(int n, int in, int hid, int out, int experts, int ch, int split, float p, long seed, int[] ids) {
        long inSeed(int e) {
            return RowDropout.rowSeed(seed, 2 * e);
        }

        long hidSeed(int e) {
            return RowDropout.rowSeed(seed, 2 * e + 1);
        }
    }

    /**
     * Expert e's hidden layer on rows [r0, r0 + c): h = Drop(relu(a)), a = Drop(x) W1 + b1; a lands in
     * {@code pre} when given (backward needs it for relu'), else h is computed in place. The dropped
     * input rows stay in xd (p > 0).
     */
    private static void hidden(Backend be, Shape sh, Var x, int r0, int c, int e, Var w1, Var b1, Tensor xd, Tensor pre, Tensor h) {
        int in = sh.in, hid = sh.hid;
        MemorySegment xs = x.value.data();
        long xo = (long) r0 * in;
        if (sh.p > 0) {
            long s1 = sh.inSeed(e);
            for (int r = 0; r < c; r++) be.dropout(in, xs, xo + (long) r * in, xd.data(), (long) r * in, sh.p, RowDropout.rowSeed(s1, sh.ids[r0 + r]));
            xs = xd.data();
            xo = 0;
        }
        MemorySegment a = (pre != null ? pre : h).data(), hd = h.data();
        linear(be, c, in, hid, xs, xo, w1, b1, a, 0);
        be.relu((long) c * hid, a, 0, hd, 0);
        if (sh.p > 0) {
            long s2 = sh.hidSeed(e);
            for (int r = 0; r < c; r++) be.dropout(hid, hd, (long) r * hid, hd, (long) r * hid, sh.p, RowDropout.rowSeed(s2, sh.ids[r0 + r]));
        }
    }

    /** dst (c x out) = src (c x in) W + b, as {@link Linear}: the bias copied into each row, then GEMM with beta = 1. */
    private static void linear(Backend be, int c, int in, int out, MemorySegment src, long so, Var w, Var b, MemorySegment dst, long dOff) {
        for (int r = 0; r < c; r++) be.copy(out, b.value.data(), 0, dst, dOff + (long) r * out);
        be.gemmNN(c, out, in, 1f, src, so, in, w.value.data(), 0, out, 1f, dst, dOff, out);
    }

    /**
     * Per row chunk, experts last to first (the composition's order for dx): recompute the hidden layer,
     * then the two layers' backward. Gradient buffers are taken before the mark, so releasing the
     * chunk buffers cannot free a lazily allocated gradient.
     */
    private static void backward(Tape t, Shape sh, Var y, Var x, Var[] w1, Var[] b1, Var[] w2, Var[] b2) {
        Tensor g = y.grad();
        if (g == null) return;
        Backend be = t.backend();
        int n = sh.n, in = sh.in, hid = sh.hid, out = sh.out, experts = sh.experts, ch = sh.ch;
        float p = sh.p;
        Tensor gx = x.requiresGrad ? t.gradOf(x) : null;
        Tensor[] gw1 = grads(t, w1), gb1 = grads(t, b1), gw2 = grads(t, w2), gb2 = grads(t, b2);
        Scratch s = t.scratch();
        Scratch.Mark mark = s.mark();
        Tensor ge = experts > 1 ? s.uninitialized(ch, out) : null, xd = p > 0 ? s.uninitialized(ch, in) : null;
        Tensor pre = s.uninitialized(ch, hid), h = s.uninitialized(ch, hid), dh = s.uninitialized(ch, hid);
        Tensor dr = p > 0 ? s.uninitialized(ch, hid) : dh, dx0 = gx != null && p > 0 ? s.uninitialized(ch, in) : null;
        for (int r0 = 0; r0 < n; r0 += ch) {
            int c = Math.min(ch, n - r0);
            long hn = (long) c * hid;
            // dL/d(expert output): g / E, as the composition's scale and add backward leave it (0 + g/E)
            MemorySegment gs = g.data();
            long go = (long) r0 * out;
            if (experts > 1) {
                be.fill((long) c * out, ge.data(), 0, 0f);
                be.axpy((long) c * out, 1f / experts, gs, go, ge.data(), 0);
                gs = ge.data();
                go = 0;
            }
            for (int e = experts - 1; e >= 0; e--) {
                boolean lower = gx != null || gw1[e] != null || gb1[e] != null;
                if (!lower && gw2[e] == null && gb2[e] == null) continue;
                hidden(be, sh, x, r0, c, e, w1[e], b1[e], xd, pre, h);
                // second layer: dW2 += h^T ge (in TN splits), db2 += column sums of ge, dh = ge W2^T
                if (gw2[e] != null) reduceRows(be, sh.split, c, hid, out, h.data(), 0, gs, go, gw2[e]);
                if (gb2[e] != null) for (int r = 0; r < c; r++) be.axpy(out, 1f, gs, go + (long) r * out, gb2[e].data(), 0);
                if (!lower) continue;
                be.gemmNT(c, hid, out, 1f, gs, go, out, w2[e].value.data(), 0, out, 0f, dh.data(), 0, hid);
                // hidden dropout, then relu' (on a): each into a zeroed buffer, as accumulating gradients are; da reuses h
                if (p > 0) {
                    be.fill(hn, dr.data(), 0, 0f);
                    long s2 = sh.hidSeed(e);
                    for (int r = 0; r < c; r++) be.dropoutBackward(hid, dh.data(), (long) r * hid, dr.data(), (long) r * hid, p, RowDropout.rowSeed(s2, sh.ids[r0 + r]));
                }
                Tensor da = h;
                be.fill(hn, da.data(), 0, 0f);
                be.reluBackward(hn, pre.data(), 0, dr.data(), 0, da.data(), 0);
                // first layer: dW1 += Drop(x)^T da, db1 += column sums of da, dx += Drop'(da W1^T)
                MemorySegment xs = p > 0 ? xd.data() : x.value.data();
                long xo = p > 0 ? 0 : (long) r0 * in;
                if (gw1[e] != null) reduceRows(be, sh.split, c, in, hid, xs, xo, da.data(), 0, gw1[e]);
                if (gb1[e] != null) for (int r = 0; r < c; r++) be.axpy(hid, 1f, da.data(), (long) r * hid, gb1[e].data(), 0);
                if (gx != null) {
                    if (p == 0) {
                        be.gemmNT(c, in, hid, 1f, da.data(), 0, hid, w1[e].value.data(), 0, hid, 1f, gx.data(), (long) r0 * in, in);
                    } else {
                        be.gemmNT(c, in, hid, 1f, da.data(), 0, hid, w1[e].value.data(), 0, hid, 0f, dx0.data(), 0, in);
                        long s1 = sh.inSeed(e);
                        for (int r = 0; r < c; r++) be.dropoutBackward(in, dx0.data(), (long) r * in, gx.data(), (long) (r0 + r) * in, p, RowDropout.rowSeed(s1, sh.ids[r0 + r]));
                    }
                }
            }
        }
        s.release(mark);
    }

    /**
     * gw (m x k) += A^T B over a chunk's c rows, A (c x m) and B (c x k), one TN call per split: the
     * chunk starts at a multiple of the split, so the calls cut the rows where one call over all rows
     * cuts its k blocks.
     */
    private static void reduceRows(Backend be, int split, int c, int m, int k, MemorySegment a, long ao, MemorySegment b, long bo, Tensor gw) {
        for (int q = 0; q < c; q += split) {
            int kk = Math.min(split, c - q);
            be.gemmTN(m, k, kk, 1f, a, ao + (long) q * m, m, b, bo + (long) q * k, k, 1f, gw.data(), 0, k);
        }
    }

    private static Tensor[] grads(Tape t, Var[] vs) {
        Tensor[] g = new Tensor[vs.length];
        for (int e = 0; e < vs.length; e++) g[e] = vs[e].requiresGrad ? t.gradOf(vs[e]) : null;
        return g;
    }
}
