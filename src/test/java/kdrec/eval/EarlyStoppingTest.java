package kdrec.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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

    @Test
    void aFirstValueOfMinusInfinityIsTheBestSoFarAndRestoreKeepsEveryField() {
        // a run without a validation split reports -Infinity: its first evaluation still becomes the best epoch
        EarlyStopping es = new EarlyStopping(EarlyStopping.DEFAULT_METRIC, EarlyStopping.DEFAULT_PATIENCE);
        assertEquals("ndcg@10", es.metric());
        assertEquals(30, es.patience());
        assertEquals(Double.NEGATIVE_INFINITY, es.bestValue());
        assertEquals(Metrics.empty(), es.bestMetrics());
        assertTrue(es.update(4, Double.NEGATIVE_INFINITY));
        assertEquals(4, es.bestEpoch());
        assertEquals(Metrics.of("ndcg@10", Double.NEGATIVE_INFINITY), es.bestMetrics());
        assertFalse(es.update(5, Double.NEGATIVE_INFINITY), "only the first one");
        assertEquals(4, es.bestEpoch());
        assertEquals(1, es.sinceBest());
        assertEquals(2, es.evaluations());
        EarlyStopping first = new EarlyStopping("m", 3);
        assertTrue(first.update(0, Double.NEGATIVE_INFINITY), "epoch 0 counts as the first evaluation too");
        assertFalse(first.update(1, Double.NEGATIVE_INFINITY));
        assertEquals(0, first.bestEpoch());
        EarlyStopping one = new EarlyStopping("m", 1);
        assertTrue(one.update(0, 0.5));
        assertFalse(one.shouldStop());
        assertFalse(one.update(1, 0.5));
        assertTrue(one.shouldStop(), "patience 1 stops after one evaluation without improvement");
        assertFalse(one.update(2, Metrics.of("m", 0.4)), "a worse value passed as metrics is no improvement");
        assertTrue(one.update(3, Metrics.of("m", 0.6)));
        Metrics best = Metrics.of("m", 0.7, "test_m", 0.6);
        EarlyStopping r = EarlyStopping.restore("m", 3, 0.7, 8, best, 2, 11);
        assertEquals(List.of("m", 3, 0.7, 8, 2, 11), List.of(r.metric(), r.patience(), r.bestValue(), r.bestEpoch(), r.sinceBest(), r.evaluations()));
        assertEquals(best, r.bestMetrics());
        assertFalse(r.shouldStop());
        assertFalse(r.update(12, 0.7));
        assertTrue(r.shouldStop(), "2 + 1 evaluations without improvement reach patience 3");
        assertEquals(12, r.evaluations());
        assertEquals(Metrics.empty(), EarlyStopping.restore("m", 3, 0.7, 8, null, 0, 1).bestMetrics());
        var e = assertThrows(IllegalArgumentException.class, () -> EarlyStopping.restore("m", 0, 0, 0, null, 0, 0));
        assertEquals("EarlyStopping: patience must be >= 1, got 0", e.getMessage());
    }
}
