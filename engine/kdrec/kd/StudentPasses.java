package kdrec.kd;

import java.util.function.IntFunction;
import kdrec.model.Recommender;

/**
 * The student's forward passes a KD step's terms read. Shared (kdrec's default, and every student
 * without dropout): each term reads the base loss's pass. Per term ({@code kd_encoding=per_term}, an
 * HSTU student): term i reads its own encoding of the batch, made on first use with dropout masks of
 * its own — the RCE-KD code's student encodes anew in every {@code forward_multi_items} call, so a
 * method reads as many passes as its code makes such calls (RCE-KD three; RRD, DCD, UnKD and RD two;
 * the rest one).
 */
public final class StudentPasses {
    private final Recommender.Embeddings shared;
    private final IntFunction<Recommender.Embeddings> encode;
    /** The most passes a method reads: RCE-KD's three scoring calls. */
    static final int MAX_TERMS = 3;
    private final Recommender.Embeddings[] terms = new Recommender.Embeddings[MAX_TERMS];

    private StudentPasses(Recommender.Embeddings shared, IntFunction<Recommender.Embeddings> encode) {
        this.shared = shared;
        this.encode = encode;
    }

    /** Every term reads {@code e}, the base loss's pass. */
    public static StudentPasses shared(Recommender.Embeddings e) {
        return new StudentPasses(e, null);
    }

    /** Term i reads {@code encode.apply(i)}, called once per term on first use. */
    public static StudentPasses perTerm(IntFunction<Recommender.Embeddings> encode) {
        return new StudentPasses(null, encode);
    }

    /** True when the terms read passes of their own. */
    public boolean perTerm() {
        return encode != null;
    }

    /** The pass KD term {@code i} (0-based, in the order of the method's code) reads. */
    public Recommender.Embeddings term(int i) {
        if (i < 0 || i >= terms.length) throw new IllegalArgumentException("KD term " + i + " outside [0, " + terms.length + ")");
        if (encode == null) return shared;
        if (terms[i] == null) terms[i] = encode.apply(i);
        return terms[i];
    }
}
