package kdrec.train;

import kdrec.autograd.Tape;
import kdrec.eval.Metrics;
import kdrec.eval.MostPopular;
import kdrec.eval.RankingMetrics;
import kdrec.model.Recommender;
import kdrec.tensor.Backend;
import kdrec.tensor.Tensor;

/**
 * Full-ranking evaluation exactly as the KD papers' code does it: every user scored against every
 * item with the fused score->top-K kernel, the user's <em>train</em> items masked (valid items are
 * not masked when ranking for test), Recall and NDCG at 10 and 20 averaged over all users. A
 * sequential model set to {@code test_history=train_valid} is ranked a second time for test, from
 * its longer history; the mask stays the train items.
 */
public final class Evaluator {
    private final TrainData data;
    private final int k;

    public Evaluator(TrainData data, int k) {
        this.data = data;
        this.k = k;
    }

    /** Valid (empty Metrics when the split has none) and test metrics of one evaluation pass. */
    public record Result(Metrics valid, Metrics test) {}

    public Result evaluate(Tape tape, Recommender model) {
        int[] top = rankAll(tape, model.inference(tape));
        int[] testTop = model.testFromLongerHistory() ? rankAll(tape, model.inferenceForTest(tape)) : top;
        return evaluate(top, testTop);
    }

    /**
     * {@link #evaluate(Tape, Recommender)} with the ranking on the GPU ({@code --device cuda}): any
     * backbone (HSTU computes its user states on the host, then ranks on the device).
     */
    public Result evaluateOnDevice(Tape tape, Recommender model) {
        int[] top = kdrec.device.DeviceRanking.rankAll(model, tape, k, data.trainPtr(), data.trainItems());
        int[] testTop = model.testFromLongerHistory()
                ? kdrec.device.DeviceRanking.rankAll(model.inferenceForTest(tape), k, data.trainPtr(), data.trainItems()) : top;
        return evaluate(top, testTop);
    }

    /** Metrics of top lists ranked elsewhere (users x {@link #k()}, train items excluded), e.g. on the GPU. */
    public Result evaluate(int[] top, int[] testTop) {
        Metrics valid = data.hasValid() ? RankingMetrics.evaluate(top, k, data.validPtr(), data.validItems()) : Metrics.empty();
        Metrics test = RankingMetrics.evaluate(testTop, k, data.testPtr(), data.testItems());
        return new Result(valid, test);
    }

    /** The list length ranked per user. */
    public int k() {
        return k;
    }

    /** Each user's top-k items (users x k, row-major) by the given embeddings, train items excluded. */
    public int[] rankAll(Tape tape, Recommender.Embeddings e) {
        Backend be = tape.backend();
        Tensor u = e.users().value(), it = e.items().value();
        int d = u.cols(), users = u.rows();
        int[] ids = new int[users * k];
        float[] scores = new float[users * k];
        be.scoreTopK(users, it.rows(), d, u.data(), 0, d, it.data(), 0, d, k, data.trainPtr(), data.trainItems(), ids, scores);
        return ids;
    }

    /** The most-popular baseline on the same protocol (valid and test). */
    public Result mostPopular() {
        MostPopular mp = new MostPopular(data.trainPtr(), data.trainItems(), data.items());
        Metrics valid = data.hasValid() ? mp.evaluate(data.validPtr(), data.validItems(), 10, 20) : Metrics.empty();
        return new Result(valid, mp.evaluate(data.testPtr(), data.testItems(), 10, 20));
    }

    /** "R@10 .1234 N@10 .1234 R@20 .1234 N@20 .1234" */
    public static String brief(Metrics m) {
        return String.format(java.util.Locale.ROOT, "R@10 %.4f N@10 %.4f R@20 %.4f N@20 %.4f", m.get("recall@10"), m.get("ndcg@10"), m.get("recall@20"), m.get("ndcg@20"));
    }
}
