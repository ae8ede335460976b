package kdrec.cli;

import java.util.ArrayList;
import java.util.List;
import kdrec.eval.Metrics;
import kdrec.train.TableFormat;
import kdrec.train.Trainer;

/** The end-of-run table: one row per model (test metrics at the best valid epoch) beside most-popular. */
final class Summary {
    private Summary() {}

    static final List<String> HEADER = List.of("model", "R@10", "N@10", "R@20", "N@20", "best epoch", "s/epoch");

    static List<String> row(String name, Metrics test, Trainer.Result r) {
        List<String> row = new ArrayList<>();
        row.add(name);
        for (String k : List.of("recall@10", "ndcg@10", "recall@20", "ndcg@20")) row.add(String.format(java.util.Locale.ROOT, "%.4f", test.get(k)));
        row.add(r == null ? "-" : (r.bestEpoch() + 1) + "/" + r.epochsRun());
        row.add(r == null ? "-" : String.format(java.util.Locale.ROOT, "%.2f", r.secondsPerEpoch()));
        return row;
    }

    /** The table; the training columns (best epoch, s/epoch) only when some row was trained here. */
    static String table(List<List<String>> rows) {
        int metrics = HEADER.size() - 2;
        boolean trained = rows.stream().anyMatch(r -> r.subList(metrics, r.size()).stream().anyMatch(c -> !c.equals("-")));
        if (trained) return TableFormat.text(HEADER, rows);
        return TableFormat.text(HEADER.subList(0, metrics), rows.stream().map(r -> r.subList(0, metrics)).toList());
    }
}
