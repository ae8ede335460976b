package kdrec.device;

import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuActivation;
import kdrec.gpu.GpuAttention;
import kdrec.gpu.GpuDropout;
import kdrec.gpu.GpuEmbedding;
import kdrec.gpu.GpuGemm;
import kdrec.gpu.GpuLayerNorm;
import kdrec.gpu.GpuVec;
import kdrec.model.Hstu;

/**
 * An HSTU backbone resident on the device: its parameters and their gradient ({@link DeviceParamBuffer}:
 * one buffer each, the host's order) and one batch's forward with the
 * activations its hand-written backward needs. The math is {@link Hstu#encode} op for op (the same
 * dropout masks, the same rounding of the scale-then-add and bias-then-residual steps); the sums of
 * the GEMMs, norms and attention run in another order than the CPU's, so results agree to fp32
 * rounding, not bitwise.
 *
 * <p>Forward per block l, saved for the backward: x_l, LN(x_l) and its statistics, the four
 * pre-activations W x and their SiLUs (u, v: heads x linear_dim wide; q, k: heads x attention_dim), the
 * attention's pre-activation and maps (GpuAttention, scale 1 / (max_len + max_output_len); without the
 * position bias it adds a zero table, which is the CPU's leaving it out), A V and LN(A V) with
 * statistics, and the dropped-out y (the block rate); then the L2-normalised states. {@link #backward}
 * takes the gradient of those states and runs the chain in reverse into the parameters' gradient
 * (every weight gradient a GEMM into the gradient buffer, the biases' column sums as a GEMM with a
 * ones vector, the position and item rows planned, deterministic scatters). Activation buffers are named slots grown to the largest batch and reused every step; a
 * batch's host arrays go up with the step's other uploads in one copy ({@link #prepare}).
 */
final class DeviceHstu implements AutoCloseable {
    private final Cuda cuda;
    private final Hstu host;
    private final int items, d, blocks, heads, maxLen;
    /** Q/K and U/V widths over all heads (heads x attention_dim, heads x linear_dim). */
    private final int qkw, uvw;
    private final float dropout, blockDropout, scale;
    private final boolean relBias;
    private final DeviceParamBuffer params;
    private final DeviceBuffer param, grad; // params' values and gradient, read by every kernel call
    private final UploadSlots act;
    // the staged batch (prepare) and its last forward
    private int b, n, rows, valid;
    private int[] len, itemPlan, positionPlan;
    private StepUploads.Staged idsUp, lenUp, atUp, itemPlanUp, positionPlanUp;
    private boolean train, rabZeroed;
    private long seed;

    DeviceHstu(Cuda cuda, Hstu host) {
        this.cuda = cuda;
        this.host = host;
        this.items = host.items();
        this.d = host.dim();
        this.blocks = host.blocks();
        this.heads = host.heads();
        this.maxLen = host.maxLen();
        this.qkw = heads * host.attentionDim();
        this.uvw = heads * host.linearDim();
        this.dropout = host.dropout();
        this.blockDropout = host.blockDropout();
        this.scale = host.attentionScale();
        this.relBias = host.relBias();
        this.params = new DeviceParamBuffer(cuda, host.params());
        this.param = params.values();
        this.grad = params.grad();
        this.act = new UploadSlots(cuda);
    }

    Hstu host() {
        return host;
    }

    int dim() {
        return d;
    }

    int items() {
        return items;
    }

    /** The parameters and their gradient on the device. */
    DeviceParamBuffer params() {
        return params;
    }

    private long offset(String name) {
        return params.offset(name);
    }

    /** The item table (items x d, raw) and its gradient. */
    DeviceBuffer itemTable() {
        return param.at(offset("item"));
    }

    DeviceBuffer itemGrad() {
        return grad.at(offset("item"));
    }

    /** Rows of the last forward (b * n) and its padded length. */
    int rows() {
        return rows;
    }

    int length() {
        return n;
    }

    int[] lengths() {
        return len;
    }

    /**
     * Stages a batch of the distinct {@code users}' sequences from {@code seq} (b x n padded, as
     * {@link Hstu#encode}): the padded ids, the lengths, and the embedding backward's rows and plan go
     * into {@code up}, to be uploaded with the step's other arrays by its flush.
     */
    void prepare(int[] users, kdrec.data.Sequences seq, StepUploads up) {
        b = users.length;
        n = 1;
        len = new int[b];
        for (int s = 0; s < b; s++) {
            len[s] = seq.length(users[s]);
            n = Math.max(n, len[s]);
        }
        rows = b * n;
        int[] ids = new int[rows];
        int valid = 0;
        for (int s = 0; s < b; s++) {
            for (int p = 0; p < len[s]; p++) ids[s * n + p] = seq.item(users[s], p);
            valid += len[s];
        }
        int[] at = new int[valid], items = new int[valid], positions = new int[valid];
        for (int s = 0, e = 0; s < b; s++) {
            for (int p = 0; p < len[s]; p++, e++) {
                at[e] = s * n + p;
                items[e] = ids[s * n + p];
                positions[e] = p;
            }
        }
        idsUp = up.ints(ids, rows);
        lenUp = up.ints(len, b);
        this.valid = valid;
        atUp = up.ints(at, valid);
        itemPlan = GpuEmbedding.ScatterPlan.pack(valid, items);
        itemPlanUp = up.ints(itemPlan, itemPlan.length);
        positionPlan = GpuEmbedding.ScatterPlan.pack(valid, positions);
        positionPlanUp = up.ints(positionPlan, positionPlan.length);
    }

    /**
     * Encodes the batch {@link #prepare} staged (after the uploads' flush); {@code train}: dropout on,
     * with masks from {@code dropoutSeed}. Returns the L2-normalised states [b*n, d].
     */
    DeviceBuffer forward(boolean train, long dropoutSeed) {
        this.train = train;
        this.seed = dropoutSeed;
        long rd = (long) rows * d, rq = (long) rows * qkw, rv = (long) rows * uvw;
        DeviceBuffer x = buf("x0", rd);
        GpuEmbedding.sequence(cuda, b, n, d, idsUp.get(), lenUp.get(), param.at(offset("item")), param.at(offset("pos")), (float) Math.sqrt(d), x);
        if (inputDropout()) {
            DeviceBuffer xd = buf("x0.drop", rd);
            GpuDropout.forward(cuda, rd, x, 0, xd, 0, dropout, dropoutSeed);
            x = xd;
        }
        DeviceBuffer ones = ones(rows);
        for (int l = 0; l < blocks; l++) {
            DeviceBuffer nx = buf("nx" + l, rd);
            GpuLayerNorm.forward(cuda, rows, d, x, 0, d, null, 0, null, 0, Hstu.LN_EPS, nx, 0, d, buf("nx.mean" + l, rows), buf("nx.rstd" + l, rows));
            for (char w : PROJECTIONS) {
                int width = width(w);
                long rw = (long) rows * width;
                DeviceBuffer pre = buf(w + ".pre" + l, rw);
                GpuGemm.nn(cuda, rows, width, d, 1f, nx, 0, d, param, offset("b" + l + "." + w), width, 0f, pre, 0, width);
                GpuActivation.silu(cuda, rw, pre, 0, buf(w + "" + l, rw), 0);
            }
            DeviceBuffer av = buf("av" + l, rv), lav = buf("lav" + l, rv);
            GpuAttention.forward(cuda, b, n, heads, buf("q" + l, rq), buf("k" + l, rq), qkw, buf("v" + l, rv), uvw, rab(l),
                    2 * maxLen - 1, scale, buf("pre" + l, maps()), buf("maps" + l, maps()), av);
            GpuLayerNorm.forward(cuda, rows, uvw, av, 0, uvw, null, 0, null, 0, Hstu.LN_EPS, lav, 0, uvw, buf("lav.mean" + l, rows), buf("lav.rstd" + l, rows));
            DeviceBuffer y = buf("y" + l, rv);
            GpuVec.mul(cuda, rv, buf("u" + l, rv), 0, lav, 0, y, 0);
            if (blockDropout()) GpuDropout.forward(cuda, rv, y, 0, y, 0, blockDropout, blockSeed(l));
            // x_{l+1} = x_l + (y W_o + b_o), rounded in the CPU's order: the bias onto the product, then the residual
            DeviceBuffer o = buf("o", rd), next = buf("x" + (l + 1), rd);
            GpuGemm.nn(cuda, rows, d, uvw, 1f, y, 0, uvw, param, offset("b" + l + ".o"), d, 0f, o, 0, d);
            GpuGemm.nn(cuda, rows, d, 1, 1f, ones, 0, 1, param, offset("b" + l + ".o_bias"), d, 1f, o, 0, d);
            GpuVec.add(cuda, rd, x, 0, o, 0, next, 0);
            x = next;
        }
        DeviceBuffer states = buf("states", rd + d); // one spare row: lastStates' zero row
        GpuLayerNorm.l2Rows(cuda, rows, d, x, 0, d, Hstu.L2_EPS, states, 0, d, buf("states.norm", rows));
        return states;
    }

    /**
     * Every user's last-position state without dropout, encoded {@code chunk} users at a time into
     * {@code into} (users x d); a user with an empty history gets a zero row (scores every item 0), as
     * {@link Hstu#inference}. Each chunk is one flush of {@code up}.
     */
    void lastStates(kdrec.data.Sequences seq, int chunk, StepUploads up, DeviceBuffer into) {
        int users = host.users();
        for (int from = 0; from < users; from += chunk) {
            int[] us = new int[Math.min(users, from + chunk) - from];
            for (int i = 0; i < us.length; i++) us[i] = from + i;
            up.begin();
            prepare(us, seq, up);
            int[] last = new int[us.length];
            for (int s = 0; s < us.length; s++) last[s] = len[s] == 0 ? rows : s * n + len[s] - 1;
            StepUploads.Staged lastUp = up.ints(last, us.length);
            up.flush();
            DeviceBuffer states = forward(false, 0);
            cuda.fill32(states.at((long) rows * d), d, 0);
            GpuEmbedding.gather(cuda, us.length, d, lastUp.get(), states, 0, d, into, (long) from * d, d);
        }
    }

    private static final char[] PROJECTIONS = {'u', 'v', 'q', 'k'};

    /** Block l's relative-position bias table, or (rel_bias=false) a zero table, filled once: adding 0 is the CPU's leaving it out. */
    private DeviceBuffer rab(int l) {
        if (relBias) return param.at(offset("b" + l + ".rab"));
        DeviceBuffer zero = buf("rab.zero", 2L * maxLen - 1); // a fixed size: the slot is never regrown
        if (!rabZeroed) cuda.fill32(zero, 2L * maxLen - 1, 0);
        rabZeroed = true;
        return zero;
    }

    /** Block l's bias gradient, or null without the bias (GpuAttention.backward then skips that pass). */
    private DeviceBuffer rabGrad(int l) {
        return relBias ? grad.at(offset("b" + l + ".rab")) : null;
    }

    /** A projection's output width: U and V heads x linear_dim, Q and K heads x attention_dim. */
    private int width(char projection) {
        return projection == 'u' || projection == 'v' ? uvw : qkw;
    }

    /** Whether the last forward dropped input rows / block outputs (training, rate above 0: Hstu.encode's rule). */
    private boolean inputDropout() {
        return train && dropout > 0f;
    }

    private boolean blockDropout() {
        return train && blockDropout > 0f;
    }

    private long blockSeed(int l) {
        return seed * 0x9E3779B97F4A7C15L + l + 1; // Hstu.encode's per-block dropout seed
    }

    private long maps() {
        return (long) b * heads * n * n;
    }

    /**
     * Runs the last forward's chain backwards from {@code dStates} (the gradient of the states,
     * [rows, d]) into the parameters' gradient (accumulated).
     */
    void backward(DeviceBuffer dStates) {
        long rd = (long) rows * d, rq = (long) rows * qkw, rv = (long) rows * uvw;
        DeviceBuffer ones = ones(rows);
        DeviceBuffer dx = buf("dx", rd);
        cuda.fill32(dx, rd, 0);
        DeviceBuffer top = buf("x" + blocks, rd);
        GpuLayerNorm.l2RowsBackward(cuda, rows, d, top, 0, d, buf("states", rd), 0, d, buf("states.norm", rows), Hstu.L2_EPS, dStates, 0, d, dx, 0, d);
        DeviceBuffer dy = buf("dy", rv), du = buf("du", rv), dlav = buf("dlav", rv), dav = buf("dav", rv), dnx = buf("dnx", rd);
        for (int l = blocks - 1; l >= 0; l--) {
            DeviceBuffer x = l == 0 ? buf(inputDropout() ? "x0.drop" : "x0", rd) : buf("x" + l, rd);
            DeviceBuffer y = buf("y" + l, rv), u = buf("u" + l, rv), lav = buf("lav" + l, rv);
            // through x_{l+1} = x_l + y W_o + b_o: dx is also the residual's gradient, kept for x_l
            GpuGemm.tn(cuda, 1, d, rows, 1f, ones, 0, 1, dx, 0, d, 1f, grad, offset("b" + l + ".o_bias"), d);
            GpuGemm.tn(cuda, uvw, d, rows, 1f, y, 0, uvw, dx, 0, d, 1f, grad, offset("b" + l + ".o"), d);
            if (blockDropout()) {
                GpuGemm.nt(cuda, rows, uvw, d, 1f, dx, 0, d, param, offset("b" + l + ".o"), d, 0f, du, 0, uvw);
                cuda.fill32(dy, rv, 0);
                GpuDropout.backward(cuda, rv, du, 0, dy, 0, blockDropout, blockSeed(l));
            } else {
                GpuGemm.nt(cuda, rows, uvw, d, 1f, dx, 0, d, param, offset("b" + l + ".o"), d, 0f, dy, 0, uvw);
            }
            // y = u * LN(av)
            GpuVec.mul(cuda, rv, dy, 0, lav, 0, du, 0);
            GpuVec.mul(cuda, rv, dy, 0, u, 0, dlav, 0);
            cuda.fill32(dav, rv, 0);
            DeviceBuffer av = buf("av" + l, rv);
            GpuLayerNorm.backward(cuda, rows, uvw, av, 0, uvw, null, 0, buf("lav.mean" + l, rows), buf("lav.rstd" + l, rows), dlav, 0, uvw, dav, 0, uvw,
                    null, 0, null, 0);
            // attention: the post-SiLU gradients of q, k, v (written), then each projection's
            DeviceBuffer dq = buf("dq", rq), dk = buf("dk", rq), dv = buf("dv", rv);
            GpuAttention.backward(cuda, b, n, heads, buf("q" + l, rq), buf("k" + l, rq), qkw, buf("v" + l, rv), uvw, buf("pre" + l, maps()),
                    buf("maps" + l, maps()), scale, dav, buf("dpre", maps()), dq, dk, dv, rabGrad(l), 2 * maxLen - 1);
            DeviceBuffer nx = buf("nx" + l, rd);
            boolean first = true;
            for (char w : PROJECTIONS) {
                int width = width(w);
                long rw = (long) rows * width;
                DeviceBuffer post = w == 'u' ? du : w == 'v' ? dv : w == 'q' ? dq : dk;
                DeviceBuffer dpre = buf("dpre." + w, rw);
                cuda.fill32(dpre, rw, 0);
                GpuActivation.siluBackward(cuda, rw, buf(w + ".pre" + l, rw), 0, post, 0, dpre, 0);
                long wOff = offset("b" + l + "." + w);
                GpuGemm.tn(cuda, d, width, rows, 1f, nx, 0, d, dpre, 0, width, 1f, grad, wOff, width);
                GpuGemm.nt(cuda, rows, d, width, 1f, dpre, 0, width, param, wOff, width, first ? 0f : 1f, dnx, 0, d);
                first = false;
            }
            GpuLayerNorm.backward(cuda, rows, d, x, 0, d, null, 0, buf("nx.mean" + l, rows), buf("nx.rstd" + l, rows), dnx, 0, d, dx, 0, d, null, 0, null, 0);
        }
        DeviceBuffer dEmbed = dx;
        if (inputDropout()) {
            dEmbed = buf("dx0", rd);
            cuda.fill32(dEmbed, rd, 0);
            GpuDropout.backward(cuda, rd, dx, 0, dEmbed, 0, dropout, seed);
        }
        embedBackward(dEmbed);
    }

    /**
     * x = sqrt(d) E[ids] + P at the valid positions: their rows of dx gathered, P's gradient added per
     * position and then E's (scaled) per item, each by a planned scatter in the CPU's order. Padding rows
     * are left out, as Attention.embed's backward does (a KD term can write one: an empty history's state).
     */
    private void embedBackward(DeviceBuffer dx) {
        if (valid == 0) return;
        DeviceBuffer compact = buf("embed.rows", (long) valid * d);
        GpuEmbedding.gather(cuda, valid, d, atUp.get(), dx, 0, d, compact, 0, d);
        try (GpuEmbedding.ScatterPlan p = GpuEmbedding.ScatterPlan.over(positionPlan, valid, positionPlanUp.get())) {
            GpuEmbedding.scatterAdd(cuda, p, d, compact, 0, d, grad, offset("pos"), d);
        }
        GpuVec.scale(cuda, (long) valid * d, (float) Math.sqrt(d), compact, 0, compact, 0);
        try (GpuEmbedding.ScatterPlan p = GpuEmbedding.ScatterPlan.over(itemPlan, valid, itemPlanUp.get())) {
            GpuEmbedding.scatterAdd(cuda, p, d, compact, 0, d, grad, offset("item"), d);
        }
    }

    private DeviceBuffer buf(String name, long elements) {
        return act.reserve(name, elements);
    }

    private DeviceBuffer ones(int count) {
        DeviceBuffer o = act.reserve("ones", count);
        GpuVec.fill(cuda, count, o, 0, 1f);
        return o;
    }

    @Override
    public void close() {
        try {
            act.close();
        } finally {
            params.close();
        }
    }
}
