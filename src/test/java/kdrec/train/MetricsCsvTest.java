package kdrec.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kdrec.eval.Metrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsCsvTest {
    @TempDir
    Path dir;

    @Test
    void headerOnceRowsInHeaderOrder() throws IOException {
        Path f = dir.resolve("metrics.csv");
        try (MetricsCsv csv = new MetricsCsv(f)) {
            csv.append(1, Metrics.of("recall@10", 0.1, "ndcg@10", 0.05));
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("ndcg@10", 0.07);
            row.put("epoch", 2);
            row.put("recall@10", 0.125f);
            csv.append(row);
            Map<String, Object> note = new LinkedHashMap<>(row);
            note.put("extra", "a,b");
            assertThrows(IllegalArgumentException.class, () -> csv.append(note));
            assertEquals(List.of("epoch", "recall@10", "ndcg@10"), csv.columns());
        }
        assertEquals(List.of("epoch,recall@10,ndcg@10", "1,0.1,0.05", "2,0.125,0.07"), Files.readAllLines(f));
    }

    @Test
    void aResumeDropsTheRowsWrittenAfterItsCheckpoint() throws IOException {
        Path f = dir.resolve("r.csv");
        try (MetricsCsv csv = new MetricsCsv(f)) {
            for (int e = 1; e <= 6; e++) csv.append(e, Metrics.of("ndcg@10", e / 10.0));
        }
        // killed after epoch 6's row, before its checkpoint: the run resumes after epoch 5
        try (MetricsCsv csv = new MetricsCsv(f)) {
            csv.dropRowsAfter(5);
            csv.append(6, Metrics.of("ndcg@10", 0.65));
            csv.dropRowsAfter(6); // nothing to drop: the file is left as it is
            csv.append(7, Metrics.of("ndcg@10", 0.7));
        }
        assertEquals(List.of("epoch,ndcg@10", "1,0.1", "2,0.2", "3,0.3", "4,0.4", "5,0.5", "6,0.65", "7,0.7"), Files.readAllLines(f));
        try (MetricsCsv csv = new MetricsCsv(dir.resolve("empty.csv"))) {
            csv.dropRowsAfter(0); // no header yet: nothing to do
            csv.append(1, Metrics.of("ndcg@10", 0.1));
        }
        assertEquals(List.of("epoch,ndcg@10", "1,0.1"), Files.readAllLines(dir.resolve("empty.csv")));
    }

    @Test
    void reopenKeepsHeaderAndDropsAPartialLine() throws IOException {
        Path f = dir.resolve("m.csv");
        Files.writeString(f, "epoch,\"a,b\"\n1,2.0\n2,3.");
        try (MetricsCsv csv = new MetricsCsv(f)) {
            assertEquals(List.of("epoch", "a,b"), csv.columns());
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", 2);
            row.put("a,b", "x\"y");
            csv.append(row);
            assertThrows(IllegalArgumentException.class, () -> csv.append(Map.of("epoch", 3)));
        }
        assertEquals("epoch,\"a,b\"\n1,2.0\n2,\"x\"\"y\"\n", Files.readString(f).replace(System.lineSeparator(), "\n"));
    }
}
