package kdrec.kd.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import kdrec.eval.Metrics;
import org.junit.jupiter.api.Test;

/**
 * The table on hand-made results for 3 seeds. Expected values are worked out by hand in the comments;
 * p-values use the closed form of Student's t with 2 degrees of freedom, P(|T| > t) = 1 - t / sqrt(2 + t^2),
 * not the library's incomplete beta function.
 */
class ComparisonTableTest {
    static final List<String> METHODS = List.of("scratch", "ce", "dcd", "rcekd");

    /** values[method][metric][seed], metrics in R@10, N@10, R@20, N@20 order. */
    static final double[][][] V = {
        // scratch: highest R@20 of all, which must not make it "the best baseline"
        {{0.10, 0.11, 0.12}, {0.05, 0.05, 0.05}, {0.90, 0.90, 0.90}, {0.10, 0.10, 0.10}},
        // ce
        {{0.20, 0.22, 0.24}, {0.12, 0.14, 0.16}, {0.40, 0.42, 0.44}, {0.20, 0.20, 0.20}},
        // dcd
        {{0.25, 0.26, 0.30}, {0.10, 0.11, 0.12}, {0.30, 0.30, 0.30}, {0.25, 0.25, 0.25}},
        // rcekd (ours)
        {{0.28, 0.30, 0.33}, {0.13, 0.16, 0.17}, {0.41, 0.42, 0.46}, {0.20, 0.21, 0.22}},
    };

    static List<RunResult> results(double[][][] v, List<String> methods) {
        List<RunResult> out = new ArrayList<>();
        for (int m = 0; m < methods.size(); m++) {
            for (int s = 0; s < 3; s++) {
                Metrics test = Metrics.of("recall@10", v[m][0][s], "recall@20", v[m][2][s], "ndcg@10", v[m][1][s], "ndcg@20", v[m][3][s]);
                out.add(new RunResult(methods.get(m), 10 + s, 5, 9, true, 0.1, Metrics.empty(), test));
            }
        }
        return out;
    }

    static final ComparisonTable.TeacherRow TEACHER =
            new ComparisonTable.TeacherRow("teacher mf d=64", Metrics.of("recall@10", 0.5, "recall@20", 0.6, "ndcg@10", 0.3, "ndcg@20", 0.35));

    static double p2(double t) {
        return 1 - Math.abs(t) / Math.sqrt(2 + t * t);
    }

    @Test
    void meansStdsGainsAndPValuesByHand() {
        ComparisonTable t = ComparisonTable.of(TEACHER, METHODS, results(V, METHODS), "rcekd");
        var s = t.summaries();
        // scratch R@10: mean 0.11, deviations -0.01, 0, 0.01 -> std sqrt(0.0002 / 2) = 0.01
        assertEquals(0.11, s.get("scratch").get("recall@10").mean(), 1e-12);
        assertEquals(0.01, s.get("scratch").get("recall@10").std(), 1e-12);
        // dcd R@10: mean 0.27, deviations -0.02, -0.01, 0.03 -> std sqrt(0.0014 / 2) = sqrt(0.0007)
        assertEquals(0.27, s.get("dcd").get("recall@10").mean(), 1e-12);
        assertEquals(Math.sqrt(0.0007), s.get("dcd").get("recall@10").std(), 1e-12);
        assertEquals(0.0, s.get("scratch").get("ndcg@10").std(), 1e-12);
        assertEquals(3, s.get("rcekd").get("ndcg@20").n());

        var g = t.gains();
        // R@10: best baseline dcd (0.27); ours 0.303333: +12.345679 %; d = 0.03, 0.04, 0.03: mean 1/30,
        // sd sqrt((1/300^2 + 4/300^2 + 1/300^2) / 2) = 0.0057735, t = (1/30) / (0.0057735 / sqrt 3) = 10
        assertEquals("dcd", g.get("recall@10").baseline());
        assertEquals((0.91 / 3 - 0.27) / 0.27 * 100, g.get("recall@10").improvementPct(), 1e-9);
        assertEquals(12.345679, g.get("recall@10").improvementPct(), 1e-6);
        assertEquals(10.0, g.get("recall@10").test().t(), 1e-9);
        assertEquals(2, g.get("recall@10").test().df());
        assertEquals(p2(10), g.get("recall@10").test().p(), 1e-10); // 0.0098525
        // N@10: the best baseline is ce here (0.14 > dcd's 0.11): +9.5238 %; d = 0.01, 0.02, 0.01 -> t = 4
        assertEquals("ce", g.get("ndcg@10").baseline());
        assertEquals(9.5238095, g.get("ndcg@10").improvementPct(), 1e-6);
        assertEquals(4.0, g.get("ndcg@10").test().t(), 1e-9);
        assertEquals(p2(4), g.get("ndcg@10").test().p(), 1e-10); // 0.0571910
        // R@20: scratch has the highest mean but is not a KD baseline; ce 0.42 vs ours 0.43: +2.381 %;
        // d = 0.01, 0, 0.02: mean 0.01, sd 0.01 -> t = sqrt 3
        assertEquals("ce", g.get("recall@20").baseline());
        assertEquals(2.3809524, g.get("recall@20").improvementPct(), 1e-6);
        assertEquals(Math.sqrt(3), g.get("recall@20").test().t(), 1e-9);
        assertEquals(p2(Math.sqrt(3)), g.get("recall@20").test().p(), 1e-10); // 0.2254033
        // N@20: ours is worse than dcd (0.21 vs 0.25): -16 %; d = -0.05, -0.04, -0.03 -> t = -0.04 / (0.01 / sqrt 3)
        assertEquals("dcd", g.get("ndcg@20").baseline());
        assertEquals(-16.0, g.get("ndcg@20").improvementPct(), 1e-9);
        assertEquals(-4 * Math.sqrt(3), g.get("ndcg@20").test().t(), 1e-9);
        assertEquals(p2(4 * Math.sqrt(3)), g.get("ndcg@20").test().p(), 1e-10); // 0.0202041

        List<List<String>> rows = t.rows();
        assertEquals(List.of("teacher mf d=64", "0.5000", "0.3000", "0.6000", "0.3500", "-"), rows.get(0));
        assertEquals(List.of("scratch", "0.1100 ± 0.0100", "0.0500 ± 0.0000", "0.9000 ± 0.0000", "0.1000 ± 0.0000", "3"), rows.get(1));
        assertEquals(List.of("rcekd vs best KD baseline", "+12.35% (dcd)", "+9.52% (ce)", "+2.38% (ce)", "-16.00% (dcd)"), rows.get(5));
        assertEquals(List.of("p-value (paired t-test)", "0.0099", "0.0572", "0.2254", "0.0202"), rows.get(6));
        assertEquals(7, rows.size());

        String md = t.markdown();
        assertTrue(md.startsWith("| method"), md);
        assertTrue(md.contains("| rcekd ") && md.contains("0.3033 ± 0.0252"), md);
        String csv = t.csv();
        List<String> lines = csv.lines().toList();
        assertEquals("row,seeds,recall@10,recall@10_std,ndcg@10,ndcg@10_std,recall@20,recall@20_std,ndcg@20,ndcg@20_std", lines.get(0));
        assertTrue(lines.get(1).startsWith("teacher,,0.5,,0.3,,0.6,,0.35,"), lines.get(1));
        assertTrue(lines.get(2).startsWith("scratch,3,0.11"), lines.get(2));
        assertTrue(lines.get(5).startsWith("rcekd,3,0.30333"), lines.get(5));
        assertEquals("best_baseline,,dcd,,ce,,ce,,dcd,", lines.get(6));
        assertTrue(lines.get(7).startsWith("improvement_pct,,12.345679"), lines.get(7));
        assertTrue(lines.get(8).startsWith("p_value,,0.00985"), lines.get(8));
        assertEquals(9, lines.size());
    }

    @Test
    void pairsBySeedAndSaysNaWithoutPairs() {
        List<RunResult> rs = new ArrayList<>(results(V, METHODS));
        // ours lost seed 12: the test pairs seeds 10 and 11 only (d = 0.03, 0.04 -> mean 0.035, sd 0.0070711, t = 7, df 1)
        rs.removeIf(r -> r.method().equals("rcekd") && r.seed() == 12);
        ComparisonTable t = ComparisonTable.of(null, METHODS, rs, "rcekd");
        assertEquals(1, t.gains().get("recall@10").test().df());
        assertEquals(7.0, t.gains().get("recall@10").test().t(), 1e-9);
        assertEquals("scratch", t.rows().get(0).get(0), "no teacher row");
        // one seed of ours: no pair test
        rs.removeIf(r -> r.method().equals("rcekd") && r.seed() == 11);
        ComparisonTable one = ComparisonTable.of(null, METHODS, rs, "rcekd");
        assertNull(one.gains().get("ndcg@10").test());
        assertEquals("n/a", one.rows().getLast().get(1));
    }

    @Test
    void noOtherKdMethodMeansNoGainRows() {
        List<String> two = List.of("scratch", "rcekd");
        double[][][] v = {V[0], V[3]};
        ComparisonTable t = ComparisonTable.of(TEACHER, two, results(v, two), "rcekd");
        assertTrue(t.gains().isEmpty());
        assertEquals(3, t.rows().size());
        assertEquals(4, t.csv().lines().count()); // header, teacher, two methods
        ComparisonTable noOurs = ComparisonTable.of(TEACHER, METHODS, results(V, METHODS), null);
        assertTrue(noOurs.gains().isEmpty());
        assertEquals(5, noOurs.rows().size());
    }
}
