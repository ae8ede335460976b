package kdrec.eval;

/**
 * Early stopping on one metric, higher is better (the papers: valid NDCG@10, patience 30).
 *
 * <p>Each {@link #update} is one evaluation. A value strictly greater than the best so far is an
 * improvement (ties are not, so the earliest epoch reaching the best value stays the best epoch);
 * NaN never improves. {@link #shouldStop()} becomes true once {@code patience} evaluations in a row
 * brought no improvement. The metrics passed with the best evaluation are kept, so a caller that
 * passes valid and test metrics together (e.g. {@code valid.prefixed("valid_").merge(test.prefixed("test_"))})
 * gets the test metrics at the best valid epoch from {@link #bestMetrics()}.
 */
public final class EarlyStopping {
    /** The papers' choice of metric. */
    public static final String DEFAULT_METRIC = "ndcg@10";
    /** The papers' patience. */
    public static final int DEFAULT_PATIENCE = 30;

    private final String metric;
    private final int patience;
    private double best = Double.NEGATIVE_INFINITY;
    private int bestEpoch = -1;
    private Metrics bestMetrics = Metrics.empty();
    private int sinceBest;
    private int evaluations;

    /**
     * @param metric   the metric name looked up in {@link #update(int, Metrics)}
     * @param patience evaluations without improvement before stopping, >= 1
     */
    public EarlyStopping(String metric, int patience) {
        if (patience < 1) throw new IllegalArgumentException("EarlyStopping: patience must be >= 1, got " + patience);
        this.metric = metric;
        this.patience = patience;
    }

    /** Rebuilds a stopper from saved state (checkpoint resume). */
    public static EarlyStopping restore(String metric, int patience, double best, int bestEpoch, Metrics bestMetrics,
                                        int sinceBest, int evaluations) {
        EarlyStopping s = new EarlyStopping(metric, patience);
        s.best = best;
        s.bestEpoch = bestEpoch;
        s.bestMetrics = bestMetrics == null ? Metrics.empty() : bestMetrics;
        s.sinceBest = sinceBest;
        s.evaluations = evaluations;
        return s;
    }

    /** Looks up {@link #metric()} in {@code m}; returns whether it improved. */
    public boolean update(int epoch, Metrics m) {
        return update(epoch, m.get(metric), m);
    }

    /** Records one evaluation; returns whether it improved. */
    public boolean update(int epoch, double value) {
        return update(epoch, value, Metrics.of(metric, value));
    }

    private boolean update(int epoch, double value, Metrics m) {
        evaluations++;
        if (value > best || (bestEpoch < 0 && value == Double.NEGATIVE_INFINITY)) {
            best = value;
            bestEpoch = epoch;
            bestMetrics = m;
            sinceBest = 0;
            return true;
        }
        sinceBest++;
        return false;
    }

    /** True once {@code patience} evaluations in a row brought no improvement. */
    public boolean shouldStop() {
        return sinceBest >= patience;
    }

    public String metric() {
        return metric;
    }

    public int patience() {
        return patience;
    }

    /** Best value so far; negative infinity before the first improvement. */
    public double bestValue() {
        return best;
    }

    /** Epoch of the best value; -1 before the first improvement. */
    public int bestEpoch() {
        return bestEpoch;
    }

    /** The metrics passed with the best evaluation (empty before the first improvement). */
    public Metrics bestMetrics() {
        return bestMetrics;
    }

    /** Evaluations since the last improvement. */
    public int sinceBest() {
        return sinceBest;
    }

    /** Evaluations recorded. */
    public int evaluations() {
        return evaluations;
    }
}
