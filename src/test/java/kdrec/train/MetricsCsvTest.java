package kdrec.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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

    @Test
    void cellsAreFormattedByTypeAndQuotedOnlyWhenNeeded() throws IOException {
        Path f = dir.resolve("sub").resolve("t.csv");
        try (MetricsCsv csv = new MetricsCsv(f)) {
            assertEquals(f, csv.file());
            assertNull(csv.columns(), "no header before the first row");
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", 3);
            row.put("d", 1e-7);
            row.put("f", 0.1f);
            row.put("l", 12345678901L);
            row.put("none", null);
            row.put("text", "a\"b");
            row.put("plain", "ok");
            row.put("q\"h", true);
            csv.append(row);
            assertEquals(2, Files.readAllLines(f).size(), "each row is flushed as it is appended");
        }
        assertEquals(List.of("epoch,d,f,l,none,text,plain,\"q\"\"h\"", "3,1.0E-7,0.1,12345678901,,\"a\"\"b\",ok,true"), Files.readAllLines(f));
        assertEquals(List.of("", "a,b", "x\"y", ""), MetricsCsv.parseCsvLine(",\"a,b\",\"x\"\"y\","));
        assertEquals(List.of("ab"), MetricsCsv.parseCsvLine("\"a\"b"));
        assertEquals(List.of("\""), MetricsCsv.parseCsvLine("\"\"\"\""));
    }

    @Test
    void aClosedFileRefusesRowsAndPartialLinesOfEveryLengthAreCut() throws IOException {
        Path f = dir.resolve("c.csv");
        MetricsCsv csv = new MetricsCsv(f);
        csv.append(1, Metrics.of("m", 0.5));
        csv.close();
        csv.close(); // a second close is harmless
        var e = assertThrows(IllegalStateException.class, () -> csv.append(2, Metrics.of("m", 0.5)));
        assertEquals("metrics file " + f + " is closed", e.getMessage());
        assertThrows(IllegalStateException.class, () -> csv.dropRowsAfter(0));
        // a crash during the header itself: the whole file was one partial line
        Path p = dir.resolve("p.csv");
        Files.writeString(p, "epo");
        try (MetricsCsv again = new MetricsCsv(p)) {
            assertNull(again.columns());
            again.append(1, Metrics.of("m", 0.25));
        }
        assertEquals(List.of("epoch,m", "1,0.25"), Files.readAllLines(p));
        // a one-byte partial row after a complete line
        Files.writeString(p, "epoch,m\n1,0.25\n2");
        try (MetricsCsv again = new MetricsCsv(p)) {
            assertEquals(List.of("epoch", "m"), again.columns());
        }
        assertEquals("epoch,m\n1,0.25\n", Files.readString(p));
        Path empty = Files.writeString(dir.resolve("e.csv"), "");
        try (MetricsCsv again = new MetricsCsv(empty)) {
            assertNull(again.columns());
        }
    }

    @Test
    void droppingRowsNeedsAnEpochColumnAndKeepsRowsWithoutAReadableEpoch() throws IOException {
        Path f = dir.resolve("d.csv");
        Files.writeString(f, "step,epoch\n\"x,1\",1\na,2\nb,junk\nlonely\nc,-1\nd,1234567890\ne,3\n");
        try (MetricsCsv csv = new MetricsCsv(f)) {
            csv.dropRowsAfter(2);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("step", "z");
            row.put("epoch", 3);
            csv.append(row);
        }
        assertEquals(List.of("step,epoch", "\"x,1\",1", "a,2", "b,junk", "lonely", "c,-1", "d,1234567890", "z,3"), Files.readAllLines(f),
                "rows past epoch 2 go (3); a 10-digit or unreadable epoch stays; the quoted comma does not shift the column");
        Path g = dir.resolve("g.csv");
        Files.writeString(g, "step,m\n5,1\n");
        try (MetricsCsv csv = new MetricsCsv(g)) {
            csv.dropRowsAfter(0); // no epoch column: nothing to drop
        }
        assertEquals(List.of("step,m", "5,1"), Files.readAllLines(g));
        Path h = dir.resolve("h.csv");
        Files.writeString(h, "epoch,m\n1,1\n2\n3,3\n");
        try (MetricsCsv csv = new MetricsCsv(h)) {
            csv.dropRowsAfter(0);
        }
        assertEquals(List.of("epoch,m"), Files.readAllLines(h), "short rows are read by their first cells");
    }
}
