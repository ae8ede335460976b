package kdrec.model;

import kdrec.autograd.Tape;

/** MF (the "BPR" backbone of the KD papers): scores are dot products of user and item rows, init N(0, 0.01^2). */
public final class MatrixFactorization extends EmbeddingModel {
    public static final float INIT_STD = 0.01f;
    private final Embeddings embeddings;

    public MatrixFactorization(int users, int items, int dim, long seed) {
        super("mf", users, items, dim);
        embeddings = new Embeddings(params.normal("user", INIT_STD, seed * 31 + 1, users, dim),
                params.normal("item", INIT_STD, seed * 31 + 2, items, dim));
    }

    @Override
    public String kind() {
        return "mf";
    }

    @Override
    public Embeddings forward(Tape tape) {
        return embeddings;
    }
}
