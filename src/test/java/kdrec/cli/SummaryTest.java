package kdrec.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import kdrec.eval.Metrics;
import org.junit.jupiter.api.Test;

/** The end-of-run table keeps its training columns only when a row was trained in this run. */
class SummaryTest {
    private static final Metrics M = Metrics.of("recall@10", 0.1, "ndcg@10", 0.2, "recall@20", 0.3, "ndcg@20", 0.4);

    @Test
    void trainingColumnsOnlyWhenSomethingWasTrained() {
        String eval = Summary.table(List.of(Summary.row("most-popular", M, null), Summary.row("mf", M, null)));
        assertFalse(eval.contains("best epoch") || eval.contains("s/epoch"), eval);
        assertTrue(eval.lines().findFirst().orElse("").strip().endsWith("N@20"), eval);
        String train = Summary.table(List.of(Summary.row("most-popular", M, null),
                List.of("mf d=8", "0.1000", "0.2000", "0.3000", "0.4000", "3/3", "0.55")));
        assertTrue(train.contains("best epoch") && train.contains("3/3") && train.contains("most-popular  0.1000"), train);
    }
}
