package kdrec.model;

/**
 * An HSTU's architecture ({@link Hstu}): width, blocks, heads, each head's Q/K width ({@code attentionDim}) and U/V width
 * ({@code linearDim}), sequence length, the input and block dropout rates, and three switches that
 * make it the reference's exactly: {@code maxOutputLen} (the reference pads to max_len +
 * max_output_len: the attention scale is 1 / (max_len + max_output_len) and the position table has
 * that many rows), {@code relBias} (the learned relative-position bias; the reference builds it but,
 * passing no timestamps, never adds it) and {@code uniformOutputBias} (W_o's bias drawn as torch's
 * nn.Linear default U(±1/sqrt(fan_in)) instead of zero).
 */
public record HstuShape(int dim, int blocks, int heads, int attentionDim, int linearDim, int maxLen, int maxOutputLen, float dropout,
                        float blockDropout, boolean relBias, boolean uniformOutputBias) {
    public HstuShape {
        if (dim <= 0) throw new IllegalArgumentException("hstu: dim must be positive, got " + dim);
        if (blocks < 1) throw new IllegalArgumentException("hstu: blocks must be >= 1, got " + blocks);
        if (heads < 1) throw new IllegalArgumentException("hstu: heads must be >= 1, got " + heads);
        if (attentionDim < 1 || linearDim < 1) {
            throw new IllegalArgumentException("hstu: attention_dim and linear_dim must be >= 1, got " + attentionDim + " and " + linearDim);
        }
        if (maxLen < 1) throw new IllegalArgumentException("hstu: max_len must be >= 1, got " + maxLen);
        if (maxOutputLen < 0) throw new IllegalArgumentException("hstu: max_output_len must be >= 0, got " + maxOutputLen);
        checkPaddedLength(maxLen, maxOutputLen);
        if (!(dropout >= 0f && dropout < 1f)) throw new IllegalArgumentException("hstu: dropout must be in [0, 1), got " + dropout);
        if (!(blockDropout >= 0f && blockDropout < 1f)) throw new IllegalArgumentException("hstu: block_dropout must be in [0, 1), got " + blockDropout);
    }

    /** The longest padded sequence, max_len + max_output_len: the position table has that many rows. */
    public static final int MAX_PADDED_LEN = 1 << 20;

    /** Refuses a padded length (max_len + max_output_len) past {@link #MAX_PADDED_LEN}, naming the key that makes it so. */
    public static void checkPaddedLength(int maxLen, int maxOutputLen) {
        if (maxLen > MAX_PADDED_LEN) throw new IllegalArgumentException("max_len must be <= " + MAX_PADDED_LEN + ", got " + maxLen);
        if ((long) maxLen + maxOutputLen > MAX_PADDED_LEN) {
            throw new IllegalArgumentException("max_output_len must keep max_len + max_output_len <= " + MAX_PADDED_LEN + ", got " + maxOutputLen
                    + " (max_len " + maxLen + ")");
        }
    }

    /** Both per-head widths d / heads and one dropout rate for input and blocks (kdrec's defaults). */
    public static HstuShape of(int dim, int blocks, int heads, int maxLen, float dropout) {
        if (heads < 1 || dim % heads != 0) throw new IllegalArgumentException("hstu: heads must be >= 1 and divide dim " + dim + ", got " + heads);
        return new HstuShape(dim, blocks, heads, dim / heads, dim / heads, maxLen, 0, dropout, dropout, true, false);
    }
}
