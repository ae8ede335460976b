package kdrec.train;

import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A pair epoch's host inputs, prepared one epoch ahead on a background thread: the train pairs in the
 * epoch's shuffled order with their sampled negatives, as three aligned arrays (the epoch's batches are
 * consecutive slices of them). They are pure functions of (seed, epoch) ({@link TrainData#negatives},
 * {@link TrainData#shuffledPairs}), so the batches are exactly the ones built in place before; what
 * changes is that the next epoch's negatives, shuffle and gathers — 35–90 ms on the Gowalla-sized set on
 * a 2-core box (2026-12-05), where a whole BPR epoch on an H100 took 91 ms — overlap the current epoch
 * instead of preceding it.
 */
final class EpochPairs implements AutoCloseable {
    /** One epoch's pairs in batch order: user, positive item and sampled negative of each. */
    record Epoch(int[] users, int[] positives, int[] negatives) {
        int size() {
            return users.length;
        }
    }

    private final TrainData data;
    private final long seed;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kdrec-epoch-pairs");
        t.setDaemon(true);
        return t;
    });
    private int aheadEpoch = -1;
    private Future<Epoch> ahead;

    EpochPairs(TrainData data, long seed) {
        this.data = data;
        this.seed = seed;
    }

    /**
     * Epoch {@code epoch}'s pairs: the ones prepared ahead if they are that epoch's (waiting for them if
     * still in progress), else built now; then, when {@code prepareNext}, epoch + 1's start in the background.
     */
    Epoch take(int epoch, boolean prepareNext) {
        Epoch e;
        if (ahead != null && aheadEpoch == epoch) {
            e = join(ahead);
        } else {
            if (ahead != null) ahead.cancel(true);
            e = build(data, seed, epoch);
        }
        ahead = null;
        aheadEpoch = -1;
        if (prepareNext && !worker.isShutdown()) {
            aheadEpoch = epoch + 1;
            ahead = worker.submit(() -> build(data, seed, epoch + 1));
        }
        return e;
    }

    /** The epoch's pairs built on the calling thread (what {@link #take} returns). */
    static Epoch build(TrainData data, long seed, int epoch) {
        int[] negatives = data.negatives(seed, epoch);
        int[] order = data.shuffledPairs(seed, epoch);
        int[] pairUser = data.trainPairUsers(), pairItem = data.trainItems();
        int n = order.length;
        int[] u = new int[n], p = new int[n], q = new int[n];
        for (int i = 0; i < n; i++) {
            int pair = order[i];
            u[i] = pairUser[pair];
            p[i] = pairItem[pair];
            q[i] = negatives[pair];
        }
        return new Epoch(u, p, q);
    }

    /** Batch {@code [from, from + m)} of an epoch, as fresh arrays. */
    static kdrec.loss.Batch batch(Epoch e, int from, int m) {
        return new kdrec.loss.Batch(Arrays.copyOfRange(e.users(), from, from + m), Arrays.copyOfRange(e.positives(), from, from + m),
                Arrays.copyOfRange(e.negatives(), from, from + m));
    }

    private static Epoch join(Future<Epoch> f) {
        try {
            return f.get();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the epoch's pairs", ie);
        } catch (ExecutionException ee) {
            Throwable c = ee.getCause();
            if (c instanceof RuntimeException re) throw re;
            if (c instanceof Error err) throw err;
            throw new IllegalStateException("preparing the epoch's pairs failed", c);
        }
    }

    /** Stops the background thread (an epoch being prepared is abandoned; a later take builds on the caller's thread). */
    @Override
    public void close() {
        if (ahead != null) ahead.cancel(true); // a task shutdownNow drops before it starts would never complete
        ahead = null;
        aheadEpoch = -1;
        worker.shutdownNow();
    }

    /** For tests: whether the background thread has been stopped. */
    boolean closed() {
        return worker.isShutdown();
    }
}
