package kdrec.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EarlyStoppingTest {
    @Test
    void stopsAfterPatienceWithoutImprovement() {
        EarlyStopping es = new EarlyStopping("ndcg@10", 2);
        assertEquals(-1, es.bestEpoch());
        assertTrue(es.update(0, 0.1));
        assertTrue(es.update(1, 0.2));
        assertFalse(es.shouldStop());
        assertFalse(es.update(2, 0.2)); // a tie is not an improvement
        assertFalse(es.shouldStop());
        assertEquals(1, es.sinceBest());
        assertFalse(es.update(3, 0.15));
        assertTrue(es.shouldStop());
        assertEquals(1, es.bestEpoch());
        assertEquals(0.2, es.bestValue());
        assertEquals(4, es.evaluations());
    }

    @Test
    void improvementResetsTheCounter() {
        EarlyStopping es = new EarlyStopping("ndcg@10", 3);
        double[] seq = {0.3, 0.2, 0.25, 0.31, 0.1, 0.1, 0.30};
        boolean[] improved = {true, false, false, true, false, false, false};
        for (int e = 0; e < seq.length; e++) {
            assertEquals(improved[e], es.update(e, seq[e]), "epoch " + e);
            assertEquals(e == seq.length - 1, es.shouldStop(), "epoch " + e);
        }
        assertEquals(3, es.bestEpoch());
        assertEquals(0.31, es.bestValue());
    }

    @Test
    void nanNeverImproves() {
        EarlyStopping es = new EarlyStopping("ndcg@10", 1);
        assertFalse(es.update(0, Double.NaN));
        assertEquals(-1, es.bestEpoch());
        assertTrue(es.shouldStop());
        assertTrue(es.update(1, 0.0));
        assertFalse(es.shouldStop());
    }

    @Test
    void keepsTheMetricsOfTheBestEpoch() {
        EarlyStopping es = new EarlyStopping("valid_ndcg@10", 5);
        Metrics a = Metrics.of("valid_ndcg@10", 0.1, "test_ndcg@10", 0.09);
        Metrics b = Metrics.of("valid_ndcg@10", 0.2, "test_ndcg@10", 0.17);
        Metrics c = Metrics.of("valid_ndcg@10", 0.15, "test_ndcg@10", 0.5);
        es.update(1, a);
        es.update(2, b);
        es.update(3, c);
        assertEquals(b, es.bestMetrics());
        assertEquals(0.17, es.bestMetrics().get("test_ndcg@10"));
        assertThrows(java.util.NoSuchElementException.class, () -> es.update(4, Metrics.of("recall@10", 1.0)));
        assertThrows(IllegalArgumentException.class, () -> new EarlyStopping("ndcg@10", 0));
    }
}
