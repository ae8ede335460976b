package kdrec.model;

import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.nn.Params;

/** MF (the "BPR" backbone of the KD papers): scores are dot products of user and item rows, init N(0, 0.01^2). */
public final class MatrixFactorization implements Recommender {
    public static final float INIT_STD = 0.01f;
    private final int users, items, dim;
    private final Params params = new Params();
    private final Embeddings embeddings;

    public MatrixFactorization(int users, int items, int dim, long seed) {
        if (users <= 0 || items <= 0 || dim <= 0) throw new IllegalArgumentException("mf: users, items and dim must be positive, got "
                + users + ", " + items + ", " + dim);
        this.users = users;
        this.items = items;
        this.dim = dim;
        embeddings = new Embeddings(params.normal("user", INIT_STD, seed * 31 + 1, users, dim),
                params.normal("item", INIT_STD, seed * 31 + 2, items, dim));
    }

    @Override
    public String kind() {
        return "mf";
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
    public Embeddings forward(Tape tape) {
        return embeddings;
    }

    @Override
    public Map<String, String> describe() {
        return Map.of("model", "mf", "users", "" + users, "items", "" + items, "dim", "" + dim);
    }
}
