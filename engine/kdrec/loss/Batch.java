package kdrec.loss;

/** One mini-batch of training triples: user, a positive (train) item and a sampled negative item. */
public record Batch(int[] users, int[] positives, int[] negatives) {
    public Batch {
        if (users.length != positives.length || users.length != negatives.length) {
            throw new IllegalArgumentException("Batch: " + users.length + " users, " + positives.length + " positives, "
                    + negatives.length + " negatives");
        }
    }

    public int size() {
        return users.length;
    }
}
