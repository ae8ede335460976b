package kdrec.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsTest {
    @Test
    void keepsOrderAndIsImmutable() {
        Map<String, Double> src = new LinkedHashMap<>();
        src.put("recall@10", 0.5);
        src.put("ndcg@10", 0.25);
        Metrics m = new Metrics(src);
        src.put("x", 1.0);
        assertEquals(List.of("recall@10", "ndcg@10"), m.names());
        assertThrows(UnsupportedOperationException.class, () -> m.values().put("y", 2.0));
        assertEquals(List.of("recall@10", "ndcg@10", "loss"), m.with("loss", 3).names());
        assertEquals(List.of("valid_recall@10", "valid_ndcg@10"), m.prefixed("valid_").names());
        Metrics merged = m.merge(Metrics.of("ndcg@10", 0.3, "loss", 1));
        assertEquals(List.of("recall@10", "ndcg@10", "loss"), merged.names());
        assertEquals(0.3, merged.get("ndcg@10"));
        assertThrows(java.util.NoSuchElementException.class, () -> m.get("mrr"));
    }

    @Test
    void formatting() {
        Metrics m = Metrics.of("recall@10", 0.123456, "ndcg@10", 0.5, "a,b", 1e-7);
        assertEquals("recall@10=0.1235 ndcg@10=0.5000 a,b=0.0000", m.toString());
        assertEquals("recall@10,ndcg@10,\"a,b\"", m.csvHeader());
        assertEquals("0.123456,0.5,1.0E-7", m.csvRow());
        assertEquals("recall@10   ndcg@10       a,b", m.tableHeader());
        assertEquals("   0.1235    0.5000    0.0000", m.tableRow());
        assertEquals(m.tableHeader().length(), m.tableRow().length());
        Metrics longName = Metrics.of("a_very_long_metric_name", 1);
        assertEquals(longName.tableHeader().length(), longName.tableRow(2).length());
        assertEquals("                   1.00", longName.tableRow(2));
    }
}
