package kdrec.loss;

import java.util.Map;
import java.util.SplittableRandom;
import kdrec.autograd.Arith;
import kdrec.autograd.CrossEntropy;
import kdrec.autograd.Gather;
import kdrec.autograd.Norm;
import kdrec.autograd.SampledCe;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.data.Sequences;
import kdrec.model.Hstu;
import kdrec.model.Recommender;
import kdrec.tensor.Tensor;

/**
 * Next-item losses of a sequential backbone (spec §1.5, HSTU): every position p &lt; len-1 of each
 * batch user's train sequence predicts the item at p+1 from its L2-normalised state, logits are
 * cosines divided by a temperature, and the loss is the <em>mean</em> over those positions (as the
 * reference's {@code sum(loss * w) / sum(w)}).
 * <ul>
 *   <li>{@code sampled_softmax}: the positive against R uniform negatives (with replacement, as
 *       torch.randint), negatives equal to the positive dropped. {@code negatives_per=batch} (the
 *       default): one draw of R per batch, shared by its positions (each row's negatives are still R
 *       uniform draws, and the logits become one GEMM instead of R gathered rows per position).
 *       {@code negatives_per=position}: R drawn for every position, as the reference's
 *       LocalNegativesSampler ({@link #negative}: a counter-based hash of the batch seed and the
 *       entry, so the device draws the same ids without a host stream).</li>
 *   <li>{@code scaled_softmax}: the same with the negatives' sum scaled by (items-1)/R, so it
 *       estimates the full normalising sum.</li>
 *   <li>{@code full_softmax}: CE over all items (streamed log-sum-exp, no positions x items buffer).</li>
 * </ul>
 * Randomness (negatives, dropout) is a pure function of (seed, epoch, the batch's first user).
 */
public final class SequenceLoss implements BaseLoss {
    private final String kind;
    private final int negatives;
    private final float temperature;
    private final long seed;
    private final boolean perPosition;

    /** Negatives shared by a batch's positions ({@code negatives_per=batch}). */
    public SequenceLoss(String kind, int negatives, float temperature, long seed) {
        this(kind, negatives, temperature, seed, false);
    }

    /** {@code perPosition}: R negatives drawn for every position ({@code negatives_per=position}, the reference's draw). */
    public SequenceLoss(String kind, int negatives, float temperature, long seed, boolean perPosition) {
        if (!kind.equals("sampled_softmax") && !kind.equals("scaled_softmax") && !kind.equals("full_softmax")) {
            throw new IllegalArgumentException("sequence loss must be sampled_softmax, scaled_softmax or full_softmax, got '" + kind + "'");
        }
        if (negatives < 1) throw new IllegalArgumentException("negatives must be >= 1, got " + negatives);
        if (!(temperature > 0f)) throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
        this.kind = kind;
        this.negatives = negatives;
        this.temperature = temperature;
        this.seed = seed;
        this.perPosition = perPosition;
    }

    /** True when every position draws its own negatives. */
    public boolean perPosition() {
        return perPosition;
    }

    @Override
    public String name() {
        return kind;
    }

    public int negatives() {
        return negatives;
    }

    public float temperature() {
        return temperature;
    }

    /** The seed of a batch's negatives and dropout masks (the device twin draws the same). */
    public long batchSeed(int epoch, int firstUser) {
        return batchSeed(seed, epoch, firstUser);
    }

    /**
     * The batch's R negatives, the same uniform draws {@link #loss} makes (one draw shared by the
     * batch's positions).
     */
    public int[] negatives(long batchSeed, int items) {
        SplittableRandom rng = new SplittableRandom(batchSeed ^ 0x6A09E667F3BCC909L);
        int[] neg = new int[negatives];
        for (int j = 0; j < negatives; j++) neg[j] = rng.nextInt(items);
        return neg;
    }

    /** The negatives' sum scale: 1, or (items-1)/R for scaled_softmax. */
    public float negScale(int items) {
        return kind.equals("scaled_softmax") ? Math.max(1f, (items - 1f) / negatives) : 1f;
    }

    /**
     * Negative j of position {@code row} (the row's index among the batch's supervised positions, in
     * {@link #loss}'s order) under {@code negatives_per=position}: uniform over [0, items) by a
     * SplitMix64 finaliser of (batch seed, row * R + j), reduced by a multiply-shift (bias below
     * items / 2^32). Pure, so the backward and the device regenerate it instead of storing rows x R ids.
     */
    public int negative(long batchSeed, int row, int j, int items) {
        long z = mix((batchSeed ^ 0x3C6EF372FE94F82BL) + ((long) row * negatives + j) * 0x9E3779B97F4A7C15L);
        return (int) (((z >>> 32) * items) >>> 32);
    }

    static long batchSeed(long seed, int epoch, int firstUser) {
        return seed * 0x9E3779B97F4A7C15L + (long) epoch * 0xBF58476D1CE4E5B9L + (long) firstUser * 0x94D049BB133111EBL + 0x2545F4914F6CDD1DL;
    }

    @Override
    public Step forward(Tape t, Recommender model, Batch batch, boolean withEmbeddings) {
        if (!(model instanceof Hstu h)) throw new IllegalArgumentException(kind + " needs a sequential backbone (hstu), got " + model.kind());
        int[] users = java.util.Arrays.stream(batch.users()).distinct().toArray();
        if (users.length != batch.size()) throw new IllegalArgumentException(kind + ": a sequence batch holds each user once");
        long bs = seedOf(batch, users);
        Hstu.Encoded enc = h.encode(t, users, bs);
        Var loss = loss(t, h, enc, bs);
        return new Step(withEmbeddings ? h.embeddings(t, enc) : null, loss);
    }

    /**
     * Another encoding of a step's batch, for KD term {@code term} under {@code kd_encoding=per_term}
     * (the RCE-KD code's student encodes in every scoring call): its dropout masks come from the batch
     * seed mixed with the term, so they differ from the base loss's and from every other term's, and a
     * resumed run draws the same.
     */
    public Recommender.Embeddings termPass(Tape t, Hstu h, Batch batch, int term) {
        int[] users = java.util.Arrays.stream(batch.users()).distinct().toArray();
        return h.embeddings(t, h.encode(t, users, termSeed(seedOf(batch, users), term)));
    }

    /** The dropout seed of KD term {@code term}'s pass: a SplitMix64 finaliser of (batch seed, term). */
    public static long termSeed(long batchSeed, int term) {
        return mix(batchSeed + (term + 1L) * 0xD1B54A32D192ED03L);
    }

    /** The seed of a batch of the distinct {@code users}: a function of (run seed, epoch, first user). */
    private long seedOf(Batch batch, int[] users) {
        return batchSeed(seed, batch.epoch(), users.length == 0 ? 0 : users[0]);
    }

    /** The SplitMix64 finaliser (Steele, Lea and Flood) the negatives' ids and the terms' seeds share. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The loss of an encoded batch; a constant 0 when no sequence has two items. */
    Var loss(Tape t, Hstu h, Hstu.Encoded enc, long batchSeed) {
        Sequences seq = h.sequences();
        int count = 0;
        for (int s = 0; s < enc.users().length; s++) count += Math.max(enc.lengths()[s] - 1, 0);
        if (count == 0) return Var.constant(Tensor.zeros(1));
        int[] rows = new int[count], target = new int[count];
        for (int s = 0, e = 0; s < enc.users().length; s++) {
            for (int p = 0; p + 1 < enc.lengths()[s]; p++, e++) {
                rows[e] = s * enc.n() + p;
                target[e] = seq.item(enc.users()[s], p + 1);
            }
        }
        Var states = Gather.rows(t, enc.states(), rows);
        Var ce;
        if (kind.equals("full_softmax")) {
            ce = CrossEntropy.fullSoftmaxCe(t, states, h.normalizedItems(t), target, 1f / temperature, true, null);
        } else if (perPosition) {
            int items = h.items();
            ce = SampledCe.perRow(t, states, h.normalizedItems(t), target, negatives, (row, j) -> negative(batchSeed, row, j, items),
                    temperature, negScale(items));
        } else {
            int[] neg = negatives(batchSeed, h.items());
            Var pos = Norm.l2Rows(t, Gather.rows(t, h.itemTable(), target), Hstu.L2_EPS);
            Var ng = Norm.l2Rows(t, Gather.rows(t, h.itemTable(), neg), Hstu.L2_EPS);
            ce = SampledCe.loss(t, states, pos, target, ng, neg, temperature, negScale(h.items()));
        }
        return Arith.mean(t, ce);
    }

    @Override
    public Map<String, Double> step(Tape tape, Recommender model, Batch batch) {
        Var loss = forward(tape, model, batch, false).loss();
        if (loss.requiresGrad()) tape.backward(loss);
        return Map.of(kind, (double) loss.value().get(0));
    }
}
