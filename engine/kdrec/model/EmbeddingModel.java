package kdrec.model;

import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.nn.Params;

/** What MF and LightGCN share: sizes, the user/item parameter tables, and their description. */
abstract class EmbeddingModel implements Recommender {
    protected final int users, items, dim;
    protected final Params params = new Params();

    EmbeddingModel(String kind, int users, int items, int dim) {
        if (users <= 0 || items <= 0 || dim <= 0) {
            throw new IllegalArgumentException(kind + ": users, items and dim must be positive, got " + users + ", " + items + ", " + dim);
        }
        this.users = users;
        this.items = items;
        this.dim = dim;
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
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", kind());
        m.put("users", "" + users);
        m.put("items", "" + items);
        m.put("dim", "" + dim);
        return m;
    }
}
