package kdrec.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class TableFormatTest {
    private static final List<String> HEADER = List.of("method", "ndcg@10", "p");
    private static final List<List<String>> ROWS = List.of(
            List.of("Student", "0.1012 \u00b1 0.0010", "-"),
            List.of("RCE-KD", "0.1187 \u00b1 0.0009", "0.003"),
            List.of("a|b"));

    @Test
    void text() {
        String expected = """
                method           ndcg@10      p
                -------  ---------------  -----
                Student  0.1012 \u00b1 0.0010      -
                RCE-KD   0.1187 \u00b1 0.0009  0.003
                a|b
                """;
        assertEquals(expected, TableFormat.text(HEADER, ROWS));
    }

    @Test
    void markdown() {
        String expected = """
                | method  |         ndcg@10 |     p |
                | ------- | --------------: | ----: |
                | Student | 0.1012 \u00b1 0.0010 |     - |
                | RCE-KD  | 0.1187 \u00b1 0.0009 | 0.003 |
                | a\\|b    |                 |       |
                """;
        assertEquals(expected, TableFormat.markdown(HEADER, ROWS));
    }

    @Test
    void rowsLongerThanTheHeaderAreErrors() {
        assertThrows(IllegalArgumentException.class, () -> TableFormat.text(List.of("a"), List.of(List.of("1", "2"))));
        assertEquals("a\n-\n", TableFormat.text(List.of("a"), List.of()));
    }
}
