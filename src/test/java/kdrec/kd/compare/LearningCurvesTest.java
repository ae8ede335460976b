package kdrec.kd.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kdrec.eval.Metrics;
import kdrec.train.MetricsCsv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Curves from metrics.csv files (as the trainer writes them) and the PNG. */
class LearningCurvesTest {
    @TempDir
    Path dir;

    static void write(Path file, double[] validNdcg10) throws Exception {
        try (MetricsCsv csv = new MetricsCsv(file)) {
            for (int e = 0; e < validNdcg10.length; e++) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("epoch", e + 1);
                row.put("loss", 1.0);
                row.putAll(Metrics.of("recall@10", 0.1, "ndcg@10", validNdcg10[e]).prefixed("valid_").values());
                row.put("improved", true);
                csv.append(row);
            }
        }
    }

    @Test
    void meanOverTheSeedsThatReachedEachEpoch() throws Exception {
        Path a = dir.resolve("a.csv"), b = dir.resolve("b.csv");
        write(a, new double[] {0.1, 0.2, 0.3});
        write(b, new double[] {0.3, 0.4});
        // a resumed run logged epoch 3 again: the later row wins
        Files.writeString(a, "3,1.0,0.1,0.5,true\n", java.nio.file.StandardOpenOption.APPEND);
        var curves = LearningCurves.fromRuns(Map.of("m", List.of(a, b, dir.resolve("missing.csv"))));
        LearningCurves.Curve c = curves.get("m");
        assertArrayEquals(new int[] {1, 2, 3}, c.epochs());
        assertArrayEquals(new double[] {0.2, 0.3, 0.5}, c.values(), 1e-12);
    }

    @Test
    void writesAPng() throws Exception {
        var curves = new LinkedHashMap<String, LearningCurves.Curve>();
        curves.put("scratch", new LearningCurves.Curve(new int[] {1, 2, 3}, new double[] {0.05, 0.07, 0.08}));
        curves.put("rcekd", new LearningCurves.Curve(new int[] {1, 2}, new double[] {0.06, 0.09}));
        Path png = dir.resolve("sub").resolve("valid_ndcg10.png");
        LearningCurves.write(png, "test chart", curves, 0.1);
        byte[] bytes = Files.readAllBytes(png);
        assertTrue(bytes.length > 1000, "PNG of " + bytes.length + " bytes");
        byte[] magic = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        assertArrayEquals(magic, java.util.Arrays.copyOf(bytes, 8));
        assertThrows(IllegalArgumentException.class, () -> LearningCurves.write(dir.resolve("x.png"), "t", Map.of(), null));
        assertEquals(1, Files.list(png.getParent()).count(), "no temporary file left behind");
    }
}
