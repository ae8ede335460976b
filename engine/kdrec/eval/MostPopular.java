package kdrec.eval;

/**
 * The most-popular baseline: every user gets the catalogue's most interacted-with training items,
 * minus the user's own training items (the same masking a model gets in evaluation). Popularity is
 * the number of training interactions of an item; ties go to the lower item id. It is the floor every
 * trained model must beat, and a sanity check of the evaluation pipeline.
 */
public final class MostPopular {
    private final int numItems;
    private final int[] trainPtr;
    private final int[] trainItems;
    private final int[] popularity;
    private final int[] order;

    /**
     * @param trainPtr   CSR row pointers of the training interactions, length users + 1
     * @param trainItems CSR item ids, each in [0, numItems)
     * @param numItems   catalogue size (items never interacted with still count, with popularity 0)
     */
    public MostPopular(int[] trainPtr, int[] trainItems, int numItems) {
        if (numItems < 0) throw new IllegalArgumentException("MostPopular: numItems must be >= 0, got " + numItems);
        if (trainPtr.length < 1 || trainPtr[0] != 0 || trainPtr[trainPtr.length - 1] != trainItems.length) {
            throw new IllegalArgumentException("MostPopular: trainPtr must have length users + 1, start at 0 and end at "
                    + trainItems.length);
        }
        for (int u = 0; u + 1 < trainPtr.length; u++) {
            if (trainPtr[u] > trainPtr[u + 1]) throw new IllegalArgumentException("MostPopular: trainPtr decreases at user " + u);
        }
        this.numItems = numItems;
        this.trainPtr = trainPtr;
        this.trainItems = trainItems;
        this.popularity = new int[numItems];
        for (int it : trainItems) {
            if (it < 0 || it >= numItems) {
                throw new IllegalArgumentException("MostPopular: train item " + it + " outside [0, " + numItems + ")");
            }
            popularity[it]++;
        }
        this.order = rankByPopularity(popularity);
    }

    /** Items sorted by decreasing count, ties by increasing id (counting sort: stable in id). */
    private static int[] rankByPopularity(int[] pop) {
        int max = 0;
        for (int c : pop) max = Math.max(max, c);
        int[] start = new int[max + 2];
        for (int c : pop) start[max - c + 1]++;
        for (int i = 1; i < start.length; i++) start[i] += start[i - 1];
        int[] out = new int[pop.length];
        for (int it = 0; it < pop.length; it++) out[start[max - pop[it]]++] = it;
        return out;
    }

    public int users() {
        return trainPtr.length - 1;
    }

    public int numItems() {
        return numItems;
    }

    /** Training-interaction count of each item (a copy). */
    public int[] popularity() {
        return popularity.clone();
    }

    /** All items, most popular first, ties by lower id (a copy). */
    public int[] ranking() {
        return order.clone();
    }

    /**
     * Each user's top-k: the most popular items not among the user's training items, best first;
     * users x k row-major, -1 in slots beyond the items left after masking.
     */
    public int[] topK(int k) {
        if (k < 1) throw new IllegalArgumentException("MostPopular.topK: k must be >= 1, got " + k);
        int users = users();
        int[] out = new int[Math.multiplyExact(users, k)];
        int[] mark = new int[numItems];
        for (int u = 0; u < users; u++) {
            int stamp = u + 1;
            for (int p = trainPtr[u]; p < trainPtr[u + 1]; p++) mark[trainItems[p]] = stamp;
            int base = u * k, n = 0;
            for (int i = 0; i < order.length && n < k; i++) {
                int it = order[i];
                if (mark[it] != stamp) out[base + n++] = it;
            }
            while (n < k) out[base + n++] = -1;
        }
        return out;
    }

    /** Evaluates the baseline's top-{@code max(cutoffs)} lists against ground truth, as for a model. */
    public Metrics evaluate(int[] gtPtr, int[] gtItems, int... cutoffs) {
        if (gtPtr.length != trainPtr.length) {
            throw new IllegalArgumentException("MostPopular.evaluate: ground truth has " + (gtPtr.length - 1) + " users, train has "
                    + users());
        }
        if (cutoffs.length == 0) cutoffs = RankingMetrics.DEFAULT_CUTOFFS;
        int k = 1;
        for (int c : cutoffs) k = Math.max(k, c);
        return RankingMetrics.evaluate(topK(k), k, gtPtr, gtItems, cutoffs);
    }
}
