package kdrec.model;

import java.util.Map;
import kdrec.autograd.Arith;
import kdrec.autograd.Sparse;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.tensor.SparseMatrix;

/**
 * LightGCN (He et al., SIGIR'20) as the KD papers' code runs it: ego embeddings N(0, 0.1^2),
 * propagation over the symmetric-normalised bipartite adjacency D^-1/2 A D^-1/2 built from the
 * train interactions, final embedding = mean of layers 0..L, no edge dropout. {@link #forward}
 * propagates once; every score of the step reuses the result.
 */
public final class LightGcn extends EmbeddingModel {
    public static final float INIT_STD = 0.1f;
    private final int layers;
    private final Var userEgo, itemEgo;
    private final SparseMatrix adjacency;

    /** @param trainPtr, trainItems the user x item train CSR (sorted, deduplicated rows) */
    public LightGcn(int users, int items, int dim, int layers, int[] trainPtr, int[] trainItems, long seed) {
        super("lightgcn", users, items, dim);
        if (layers < 0) throw new IllegalArgumentException("lightgcn: layers must be >= 0, got " + layers);
        this.layers = layers;
        this.adjacency = SparseMatrix.normalizedBipartite(users, items, trainPtr, trainItems);
        userEgo = params.normal("user", INIT_STD, seed * 31 + 1, users, dim);
        itemEgo = params.normal("item", INIT_STD, seed * 31 + 2, items, dim);
    }

    @Override
    public String kind() {
        return "lightgcn";
    }

    public int layers() {
        return layers;
    }

    /** The propagation matrix D^-1/2 A D^-1/2 over users then items (symmetric). */
    public SparseMatrix adjacency() {
        return adjacency;
    }

    @Override
    public Embeddings forward(Tape tape) {
        Var layer = Arith.concatRows(tape, userEgo, itemEgo);
        Var sum = layer;
        for (int l = 0; l < layers; l++) {
            layer = Sparse.spmm(tape, adjacency, layer);
            sum = Arith.add(tape, sum, layer);
        }
        Var mean = layers == 0 ? sum : Arith.scale(tape, sum, 1f / (layers + 1));
        return new Embeddings(Arith.rowSlice(tape, mean, 0, users), Arith.rowSlice(tape, mean, users, users + items));
    }

    @Override
    public Map<String, String> describe() {
        Map<String, String> m = super.describe();
        m.put("layers", "" + layers);
        return m;
    }
}
