package kdrec.model;

import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.autograd.Activations;
import kdrec.autograd.Arith;
import kdrec.autograd.Attention;
import kdrec.autograd.Gather;
import kdrec.autograd.HstuAttention;
import kdrec.autograd.MatMul;
import kdrec.autograd.Norm;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.data.Sequences;
import kdrec.nn.Params;
import kdrec.tensor.Scratch;
import kdrec.tensor.Tensor;

/**
 * HSTU (Zhai et al., ICML'24, "Actions Speak Louder than Words"), checked against the authors'
 * {@code SequentialTransductionUnitJagged} (facebookresearch/generative-recommenders) and the
 * RCE-KD code's {@code HSTU} backbone (woriazzc/RCEKD sequential_backbone.py).
 *
 * <p>Input: a user's train sequence (last max_len items), x_p = sqrt(d) E[item_p] + P[p] (learned
 * positions), input dropout ({@code dropout}, the reference's dropout_rate). Each block: n = LN(x) (no
 * affine, eps 1e-6); U, V, Q, K = SiLU(n W) (no bias; the reference's one fused uvqk matrix is four
 * here): Q and K are heads x attention_dim wide, U and V heads x linear_dim (the reference's two
 * per-head widths; both default to d / heads); A = SiLU(Q K^T + rab) / (max_len + max_output_len) per
 * head with a causal mask (pointwise aggregated attention: no softmax; rab a learned bias per relative
 * position, table of 2 max_len - 1, looked up as the reference's position bias; left out with
 * {@code rel_bias=false}); Y = U ⊙ LN(A V), the layer norm over all
 * heads x linear_dim columns as the reference's _norm_attn_output; x = x + dropout(Y) W_o + b_o with the
 * block rate ({@code block_dropout}, the reference's linear_dropout_rate). Output: L2-normalised states;
 * items are the L2-normalised item embeddings, so scores are cosines. The user's embedding is the state
 * at the last position.
 *
 * <p>kdrec's defaults differ from the RCE-KD code in three places, each a setting {@code --preset}
 * turns to the code's value: the code builds a time/position bias but passes no timestamps, so it runs
 * without any (the issue asks for the relative position bias: {@code rel_bias} true by default); it
 * pads to max_len + max_output_len (10 in every released config) and scales the attention by that
 * length ({@code max_output_len} 0 by default); W_o's bias keeps torch's uniform init (zero here unless
 * {@code o_bias_init=uniform}). Sequences are padded to the batch's longest, not to the scale's
 * length, which does not change results (the scale is fixed, padded keys are masked).
 *
 * <p>Training encodes only the batch's users ({@link #forward(Tape, int[])}); evaluation and
 * teachers encode every user in chunks without gradient ({@link #inference}).
 */
public final class Hstu implements Recommender {
    public static final float LN_EPS = 1e-6f, L2_EPS = 1e-6f;
    private static final int INFERENCE_CHUNK = 256;
    private final int users, items, dim, blocks, heads, attentionDim, linearDim, maxLen, maxOutputLen;
    private final float dropout, blockDropout;
    private final boolean relBias;
    private final Sequences seq, testSeq;
    private final Params params = new Params();
    private final Var item, pos;
    private final Var[] wu, wv, wq, wk, wo, bo, rab;

    /** As {@link #Hstu(int, int, HstuShape, Sequences, Sequences, long)} with {@link HstuShape#of} (head widths d / heads, one dropout rate). */
    public Hstu(int users, int items, int dim, int blocks, int heads, int maxLen, float dropout, Sequences seq, Sequences testSeq, long seed) {
        this(users, items, HstuShape.of(dim, blocks, heads, maxLen, dropout), seq, testSeq, seed);
    }

    /**
     * {@code testSeq} is the history test targets are ranked from: {@code seq} itself (the authors'
     * protocol) or train followed by valid items ({@code test_history=train_valid}).
     */
    public Hstu(int users, int items, HstuShape shape, Sequences seq, Sequences testSeq, long seed) {
        if (users <= 0 || items <= 0) throw new IllegalArgumentException("hstu: users and items must be positive, got " + users + ", " + items);
        int dim = shape.dim(), blocks = shape.blocks(), maxLen = shape.maxLen();
        for (Sequences q : new Sequences[] {seq, testSeq}) {
            if (q.users() != users || q.maxLen() != maxLen) {
                throw new IllegalArgumentException("hstu: sequences of " + q.users() + " users / max_len " + q.maxLen() + " for a model of " + users + " / " + maxLen);
            }
        }
        this.users = users;
        this.items = items;
        this.dim = dim;
        this.blocks = blocks;
        this.heads = shape.heads();
        this.attentionDim = shape.attentionDim();
        this.linearDim = shape.linearDim();
        this.maxLen = maxLen;
        this.maxOutputLen = shape.maxOutputLen();
        this.dropout = shape.dropout();
        this.blockDropout = shape.blockDropout();
        this.relBias = shape.relBias();
        int qkWidth = heads * attentionDim, uvWidth = heads * linearDim;
        this.seq = seq;
        this.testSeq = testSeq;
        // the RCE-KD code initialises item and position tables Xavier-normal, the block matrices N(0, 0.02^2)
        item = params.normal("item", (float) Math.sqrt(2.0 / (items + 1 + dim)), seed * 31 + 1, items, dim);
        int posRows = maxLen + maxOutputLen; // rows past max_len are never read (the reference's table has them too)
        pos = params.normal("pos", (float) Math.sqrt(2.0 / (posRows + dim)), seed * 31 + 2, posRows, dim);
        wu = new Var[blocks];
        wv = new Var[blocks];
        wq = new Var[blocks];
        wk = new Var[blocks];
        wo = new Var[blocks];
        bo = new Var[blocks];
        rab = new Var[blocks];
        float xavierUniform = (float) Math.sqrt(6.0 / (uvWidth + dim)); // torch's xavier_uniform_ of the [d, uvWidth] weight
        for (int l = 0; l < blocks; l++) {
            long s = seed * 31 + 100L * (l + 1);
            wu[l] = params.normal("b" + l + ".u", 0.02f, s + 1, dim, uvWidth);
            wv[l] = params.normal("b" + l + ".v", 0.02f, s + 2, dim, uvWidth);
            wq[l] = params.normal("b" + l + ".q", 0.02f, s + 3, dim, qkWidth);
            wk[l] = params.normal("b" + l + ".k", 0.02f, s + 4, dim, qkWidth);
            wo[l] = params.create("b" + l + ".o", uvWidth, dim);
            java.util.SplittableRandom r = new java.util.SplittableRandom(s + 5);
            for (long i = 0; i < wo[l].value().size(); i++) wo[l].value().set(i, (float) ((2 * r.nextDouble() - 1) * xavierUniform));
            bo[l] = params.create("b" + l + ".o_bias", dim);
            if (shape.uniformOutputBias()) { // torch's nn.Linear bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
                java.util.SplittableRandom rb = new java.util.SplittableRandom(s + 7);
                float bound = (float) (1 / Math.sqrt(uvWidth));
                for (int j = 0; j < dim; j++) bo[l].value().set(j, (float) ((2 * rb.nextDouble() - 1) * bound));
            }
            if (relBias) rab[l] = params.normal("b" + l + ".rab", 0.02f, s + 6, 2 * maxLen - 1);
        }
    }

    @Override
    public String kind() {
        return "hstu";
    }

    @Override
    public int users() {
        return users;
    }

    @Override
    public int items() {
        return items;
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public Params params() {
        return params;
    }

    @Override
    public boolean sequential() {
        return true;
    }

    public int blocks() {
        return blocks;
    }

    public int heads() {
        return heads;
    }

    public int maxLen() {
        return maxLen;
    }

    /** Each head's Q/K width (the reference's attention_dim). */
    public int attentionDim() {
        return attentionDim;
    }

    /** Each head's U/V width (the reference's linear_dim); W_o maps heads x linearDim back to dim. */
    public int linearDim() {
        return linearDim;
    }

    /** The input dropout rate (the reference's dropout_rate). */
    public float dropout() {
        return dropout;
    }

    /** The rate of each block's dropout before W_o (the reference's linear_dropout_rate). */
    public float blockDropout() {
        return blockDropout;
    }

    /** Rows the reference pads to past max_len (its max_output_len): the attention scale is 1 / (max_len + this). */
    public int maxOutputLen() {
        return maxOutputLen;
    }

    /** Whether the blocks add the learned relative-position bias (b&lt;l&gt;.rab) before the attention's SiLU. */
    public boolean relBias() {
        return relBias;
    }

    /** The attention's scale, 1 / (max_len + max_output_len). */
    public float attentionScale() {
        return 1f / (maxLen + maxOutputLen);
    }

    public Sequences sequences() {
        return seq;
    }

    /** The histories test targets are ranked from ({@link #inferenceForTest}): the train sequences or train + valid. */
    public Sequences testSequences() {
        return testSeq;
    }

    /** The item embedding table before normalisation (the base losses normalise the rows they read). */
    public Var itemTable() {
        return item;
    }

    /**
     * One encoded batch: {@code states} [b*n, d] (L2-normalised; row s*n+p is sequence s at position
     * p, padding rows are unused), and each sequence's user and length.
     */
    public record Encoded(Var states, int[] users, int[] lengths, int n) {
        /** Row index of each sequence's last position (an empty sequence: its first, padding, row). */
        public int[] lastRows() {
            int[] r = new int[users.length];
            for (int s = 0; s < r.length; s++) r[s] = s * n + Math.max(lengths[s] - 1, 0);
            return r;
        }
    }

    /**
     * Encodes the sequences of {@code batchUsers} (distinct) on the tape. Dropout is active only
     * while the tape records, with masks from {@code dropoutSeed}.
     */
    public Encoded encode(Tape t, int[] batchUsers, long dropoutSeed) {
        return encode(t, seq, batchUsers, dropoutSeed);
    }

    private Encoded encode(Tape t, Sequences seq, int[] batchUsers, long dropoutSeed) {
        int b = batchUsers.length, n = 1;
        int[] len = new int[b];
        for (int s = 0; s < b; s++) {
            int u = batchUsers[s];
            if (u < 0 || u >= users) throw new IllegalArgumentException("hstu: user " + u + " outside [0, " + users + ")");
            len[s] = seq.length(u);
            n = Math.max(n, len[s]);
        }
        int[] ids = new int[b * n];
        for (int s = 0; s < b; s++) for (int p = 0; p < len[s]; p++) ids[s * n + p] = seq.item(batchUsers[s], p);
        boolean train = t.recording();
        Var x = Attention.embed(t, item, pos, ids, len, n, (float) Math.sqrt(dim));
        if (train && dropout > 0f) x = Norm.dropout(t, x, dropout, dropoutSeed);
        for (int l = 0; l < blocks; l++) {
            Var nx = Norm.layerNorm(t, x, null, null, LN_EPS);
            Var u = Activations.silu(t, MatMul.nn(t, nx, wu[l]));
            Var v = Activations.silu(t, MatMul.nn(t, nx, wv[l]));
            Var q = Activations.silu(t, MatMul.nn(t, nx, wq[l]));
            Var k = Activations.silu(t, MatMul.nn(t, nx, wk[l]));
            // av(causalMask(scale * silu(relativeBias(qk(q, k))))), fused map by map (same bits as the composed ops)
            Var att = HstuAttention.attend(t, q, k, v, relBias ? rab[l] : null, attentionScale(), b, n, heads);
            Var y = Arith.mul(t, u, Norm.layerNorm(t, att, null, null, LN_EPS));
            if (train && blockDropout > 0f) y = Norm.dropout(t, y, blockDropout, dropoutSeed * 0x9E3779B97F4A7C15L + l + 1);
            x = Arith.add(t, x, Arith.addBias(t, MatMul.nn(t, y, wo[l]), bo[l]));
        }
        return new Encoded(Norm.l2Rows(t, x, L2_EPS), batchUsers.clone(), len, n);
    }

    /** L2-normalised item embeddings (all items), on the tape. */
    public Var normalizedItems(Tape t) {
        return Norm.l2Rows(t, item, L2_EPS);
    }

    /**
     * Embeddings for a step over the batch's users: a users x d table whose rows for the batch's
     * (distinct) users are their last-position states and whose other rows are zero, so code that
     * reads user rows by user id (every distiller) works unchanged; items are all items, normalised.
     */
    @Override
    public Embeddings forward(Tape t, int[] batchUsers) {
        return embeddings(t, encode(t, distinct(batchUsers), seedOf(batchUsers)));
    }

    /** The {@link #forward(Tape, int[])} result of an already encoded batch (the base loss and KD share one encoding). */
    public Embeddings embeddings(Tape t, Encoded enc) {
        Var last = Gather.rows(t, enc.states(), enc.lastRows());
        return new Embeddings(Gather.scatterRows(t, last, enc.users(), users), normalizedItems(t));
    }

    /** Every user's embedding, differentiable (costly: prefer the per-batch forward in training). */
    @Override
    public Embeddings forward(Tape t) {
        int[] all = new int[users];
        for (int u = 0; u < users; u++) all[u] = u;
        return forward(t, all);
    }

    /** Every user's last-position state without gradient, encoded in chunks of users (see {@link #inference(Tape, Sequences)}). */
    @Override
    public Embeddings inference(Tape t) {
        return inference(t, seq);
    }

    /** As {@link #inference(Tape)}, from the test history (train + valid under {@code test_history=train_valid}). */
    @Override
    public Embeddings inferenceForTest(Tape t) {
        return inference(t, testSeq);
    }

    @Override
    public boolean testFromLongerHistory() {
        return testSeq != seq;
    }

    /**
     * Encodes in chunks of users on the caller's tape without gradient, each chunk's intermediates
     * released before the next ({@link Scratch#mark}): the caller's scratch grows once to a chunk's
     * size and is reused by every later call. (A private scratch per call allocated and zero-filled
     * ~400 MB at bench/hstu.sh's shape on every evaluation and every RCE-KD top-M pass: a fifth of an
     * HSTU run's CPU time, by JFR.)
     */
    private Embeddings inference(Tape t, Sequences seq) {
        Tensor out = t.scratch().uninitialized(users, dim);
        try (var ng = t.noGrad()) {
            for (int from = 0; from < users; from += INFERENCE_CHUNK) {
                Scratch.Mark m = t.scratch().mark();
                try {
                    int to = Math.min(users, from + INFERENCE_CHUNK);
                    int[] us = new int[to - from];
                    for (int i = 0; i < us.length; i++) us[i] = from + i;
                    Encoded enc = encode(t, seq, us, 0);
                    int[] rows = enc.lastRows();
                    t.backend().gather(us.length, dim, rows, enc.states().value().data(), 0, dim, out.data(), (long) from * dim, dim);
                    for (int i = 0; i < us.length; i++) { // no train items: no state, a zero row scores every item 0
                        if (enc.lengths()[i] == 0) t.backend().fill(dim, out.data(), (long) (from + i) * dim, 0f);
                    }
                } finally {
                    t.scratch().release(m);
                }
            }
        }
        try (var ng = t.noGrad()) {
            return new Embeddings(Var.constant(out), Var.constant(normalizedItems(t).value()));
        }
    }

    static int[] distinct(int[] users) {
        return java.util.Arrays.stream(users).distinct().toArray();
    }

    private static long seedOf(int[] users) {
        long h = 0x632BE59BD9B4E019L;
        for (int u : users) h = (h ^ u) * 0x9E3779B97F4A7C15L;
        return h;
    }

    @Override
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", kind());
        m.put("users", "" + users);
        m.put("items", "" + items);
        m.put("dim", "" + dim);
        m.put("blocks", "" + blocks);
        m.put("heads", "" + heads);
        m.put("attention_dim", "" + attentionDim);
        m.put("linear_dim", "" + linearDim);
        m.put("max_len", "" + maxLen);
        m.put("max_output_len", "" + maxOutputLen);
        m.put("rel_bias", "" + relBias);
        m.put("dropout", "" + dropout);
        m.put("block_dropout", "" + blockDropout);
        m.put("test_history", testSeq == seq ? "train" : "train_valid");
        return m;
    }
}
