package kdrec.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import kdrec.data.Datasets;
import kdrec.loss.Batch;
import org.junit.jupiter.api.Test;

/**
 * {@link EpochPairs}: what it hands out, prepared ahead or not, is exactly the epoch's pairs as the
 * trainer built them in place (users, positives and negatives of {@link TrainData#shuffledPairs}'s
 * order), for epochs taken in order, skipped (a resumed run) and repeated; batches are slices of them.
 */
class EpochPairsTest {
    static final TrainData DATA = new TrainData(Datasets.loadUnchecked("synthetic:users=60,items=40,per_user=7,clusters=3,seed=5"));

    /** The in-place construction the trainer used before (the reference). */
    static int[][] inPlace(long seed, int epoch) {
        int[] negatives = DATA.negatives(seed, epoch), order = DATA.shuffledPairs(seed, epoch);
        int[] u = new int[order.length], p = new int[order.length], q = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            u[i] = DATA.trainPairUsers()[order[i]];
            p[i] = DATA.trainItems()[order[i]];
            q[i] = negatives[order[i]];
        }
        return new int[][] {u, p, q};
    }

    static void assertEpoch(long seed, int epoch, EpochPairs.Epoch e) {
        int[][] ref = inPlace(seed, epoch);
        assertArrayEquals(ref[0], e.users(), "users of epoch " + epoch);
        assertArrayEquals(ref[1], e.positives(), "positives of epoch " + epoch);
        assertArrayEquals(ref[2], e.negatives(), "negatives of epoch " + epoch);
    }

    @Test
    void preparedAheadOrNotTheEpochsAreTheInPlaceOnes() {
        long seed = 17;
        try (EpochPairs pairs = new EpochPairs(DATA, seed)) {
            assertEpoch(seed, 0, pairs.take(0, true));
            assertEpoch(seed, 1, pairs.take(1, true));   // prepared ahead
            assertEpoch(seed, 4, pairs.take(4, true));   // not the one prepared: built now
            assertEpoch(seed, 5, pairs.take(5, false));  // prepared ahead; nothing after it
            assertEpoch(seed, 5, pairs.take(5, false));  // again, built now
            assertEpoch(seed, 2, pairs.take(2, true));
            assertTrue(DATA.trainItems().length > 0);
            assertNotEquals(Arrays.toString(inPlace(seed, 1)[0]), Arrays.toString(inPlace(seed, 2)[0]), "epochs differ (the check can fail)");
        }
    }

    @Test
    void batchesAreSlicesAndCloseStopsTheThread() {
        EpochPairs pairs = new EpochPairs(DATA, 3);
        EpochPairs.Epoch e = pairs.take(0, true);
        int n = e.size(), bs = 64, seen = 0;
        for (int from = 0; from < n; from += bs) {
            int m = Math.min(bs, n - from);
            Batch b = EpochPairs.batch(e, from, m);
            assertEquals(m, b.size());
            for (int i = 0; i < m; i++) {
                assertEquals(e.users()[from + i], b.users()[i]);
                assertEquals(e.positives()[from + i], b.positives()[i]);
                assertEquals(e.negatives()[from + i], b.negatives()[i]);
            }
            seen += m;
        }
        assertEquals(DATA.trainItems().length, seen, "every train pair once per epoch");
        pairs.close();
        assertTrue(pairs.closed());
        assertEpoch(3, 1, pairs.take(1, true));  // after close: still correct, built on the caller's thread
    }
}
