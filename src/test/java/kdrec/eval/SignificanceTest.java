package kdrec.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reference values from scipy 1.17 (stats.t.sf, special.betainc, special.gammaln, stats.ttest_rel). */
class SignificanceTest {
    private static void close(double expected, double actual, double rel) {
        assertEquals(expected, actual, Math.abs(expected) * rel, () -> "expected " + expected + " got " + actual);
    }

    @Test
    void textbookCriticalValues() {
        assertEquals(0.05, Significance.tTestP(2.776, 4), 1e-4);
        close(0.05002277831997642, Significance.tTestP(2.776, 4), 1e-11);
        close(0.05001177181711132, Significance.tTestP(2.228, 10), 1e-11);
        close(0.05002277831997642, Significance.tTestP(-2.776, 4), 1e-11);
    }

    @Test
    void againstScipy() {
        close(0.3910022189557705, Significance.tTestP(1.0, 3), 1e-11);
        close(0.6314109646224545, Significance.tTestP(0.5, 7.5), 1e-11);
        close(4.575251408229618e-11, Significance.tTestP(10, 30), 1e-9);
        close(0.0006244146721847406, Significance.tTestP(40, 2), 1e-10);
        close(0.011997588401650239, Significance.studentTCdf(-3.2, 5), 1e-11);
        close(1 - 0.011997588401650239, Significance.studentTCdf(3.2, 5), 1e-12);
        close(0.050273184955748736, Significance.tTestP(1.96, 1000), 1e-9);
        close(0.7641777791903376, Significance.tTestP(0.3, 100000), 1e-8);
        close(1.2501981277715407e-06, Significance.tTestP(5.0, 200), 1e-8);
        assertEquals(1.0, Significance.tTestP(0, 5));
        assertEquals(0.5, Significance.studentTCdf(0, 5));
    }

    /** Closed forms: df = 1 is Cauchy, df = 2 has an algebraic CDF. */
    @Test
    void closedForms() {
        for (double t : new double[] {-50, -3, -1, -0.2, 0.01, 0.7, 2, 9, 1e3}) {
            close(0.5 + Math.atan(t) / Math.PI, Significance.studentTCdf(t, 1), 1e-12);
            close(0.5 + t / (2 * Math.sqrt(2 + t * t)), Significance.studentTCdf(t, 2), 1e-12);
        }
    }

    @Test
    void incompleteBeta() {
        close(0.018927124071945658, Significance.regularizedIncompleteBeta(2.5, 0.5, 0.3), 1e-12);
        close(0.7853183897628262, Significance.regularizedIncompleteBeta(10, 20, 0.4), 1e-12);
        close(0.7951672353008665, Significance.regularizedIncompleteBeta(0.5, 0.5, 0.9), 1e-12);
        close(0.4642352914306031, Significance.regularizedIncompleteBeta(50, 60, 0.45), 1e-10);
        for (double x : new double[] {0, 0.1, 0.5, 0.93, 1}) {
            close(x, Significance.regularizedIncompleteBeta(1, 1, x), 1e-14);
            close(Math.pow(x, 3.5), Significance.regularizedIncompleteBeta(3.5, 1, x), 1e-13);
            close(1 - Math.pow(1 - x, 2.5), Significance.regularizedIncompleteBeta(1, 2.5, x), 1e-13);
        }
        assertThrows(IllegalArgumentException.class, () -> Significance.regularizedIncompleteBeta(0, 1, 0.5));
        assertThrows(IllegalArgumentException.class, () -> Significance.regularizedIncompleteBeta(1, 1, 1.5));
    }

    @Test
    void logGamma() {
        close(0.5723649429247, Significance.logGamma(0.5), 1e-13);
        close(13.482036786138359, Significance.logGamma(10.3), 1e-13);
        close(709.1431630309283, Significance.logGamma(171.5), 1e-13);
        assertEquals(0.0, Significance.logGamma(1), 1e-14);
        assertEquals(0.0, Significance.logGamma(2), 1e-14);
        close(Math.log(362880), Significance.logGamma(10), 1e-14);
    }

    @Test
    void meanStdAndPairedTest() {
        double[] a = {0.31, 0.33, 0.32, 0.35, 0.34};
        double[] b = {0.30, 0.31, 0.315, 0.33, 0.32};
        close(0.33, Significance.mean(a), 1e-14);
        close(0.015811388300841892, Significance.std(a), 1e-12);
        Significance.TTest r = Significance.pairedTTest(a, b);
        close(4.743416490252573, r.t(), 1e-11);
        assertEquals(4, r.df());
        close(0.00901448133390891, r.p(), 1e-9);
        Significance.Summary s = Significance.summarize(a);
        assertEquals("0.3300 \u00b1 0.0158", s.format(4));
        assertEquals(5, s.n());
        assertEquals(0.0, Significance.std(new double[] {3}));
        assertEquals("3.0000 (n=1)", Significance.summarize(new double[] {3}).format(4), "one seed has no spread to show");
        assertTrue(Double.isNaN(Significance.mean(new double[0])));
    }

    @Test
    void degenerateDifferences() {
        Significance.TTest same = Significance.pairedTTest(new double[] {1, 2, 3}, new double[] {1, 2, 3});
        assertTrue(Double.isNaN(same.t()) && Double.isNaN(same.p()));
        Significance.TTest shifted = Significance.pairedTTest(new double[] {2, 3, 4}, new double[] {1, 2, 3});
        assertEquals(Double.POSITIVE_INFINITY, shifted.t());
        assertEquals(0.0, shifted.p());
        assertThrows(IllegalArgumentException.class, () -> Significance.pairedTTest(new double[] {1}, new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> Significance.pairedTTest(new double[] {1, 2}, new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> Significance.tTestP(1, 0));
    }

    @Test
    void overRunsOfMetrics() {
        List<Metrics> kd = List.of(Metrics.of("ndcg@10", 0.31), Metrics.of("ndcg@10", 0.33), Metrics.of("ndcg@10", 0.32),
                Metrics.of("ndcg@10", 0.35), Metrics.of("ndcg@10", 0.34));
        List<Metrics> base = List.of(Metrics.of("ndcg@10", 0.30), Metrics.of("ndcg@10", 0.31), Metrics.of("ndcg@10", 0.315),
                Metrics.of("ndcg@10", 0.33), Metrics.of("ndcg@10", 0.32));
        Map<String, Significance.Summary> s = Significance.summarize(kd);
        close(0.33, s.get("ndcg@10").mean(), 1e-14);
        Map<String, Significance.TTest> t = Significance.pairedTTest(kd, base);
        close(0.00901448133390891, t.get("ndcg@10").p(), 1e-9);
    }
}
