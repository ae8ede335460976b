package kdrec.loss;

/**
 * One mini-batch. Embedding backbones: training triples (user, a positive train item, a sampled
 * negative). Sequential backbones: distinct users, one sequence each ({@link #ofUsers}; positives and
 * negatives are -1, the sequence loss reads the users' sequences). {@code epoch} lets per-batch
 * randomness (sequence negatives, dropout) be a pure function of (seed, epoch, batch).
 */
public record Batch(int[] users, int[] positives, int[] negatives, int epoch) {
    public Batch {
        if (users.length != positives.length || users.length != negatives.length) {
            throw new IllegalArgumentException("Batch: " + users.length + " users, " + positives.length + " positives, "
                    + negatives.length + " negatives");
        }
    }

    public Batch(int[] users, int[] positives, int[] negatives) {
        this(users, positives, negatives, 0);
    }

    /** A batch of users for a sequential backbone. */
    public static Batch ofUsers(int[] users, int epoch) {
        int[] none = new int[users.length];
        java.util.Arrays.fill(none, -1);
        return new Batch(users, none, none.clone(), epoch);
    }

    public int size() {
        return users.length;
    }
}
