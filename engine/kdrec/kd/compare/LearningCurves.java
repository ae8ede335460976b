package kdrec.kd.compare;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kdrec.train.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The comparison's learning-curve chart: valid NDCG@10 per epoch of every method, averaged over its
 * seeds, read from each run's metrics.csv (written by the trainer, column {@code valid_ndcg@10}), drawn
 * with XChart into a PNG. Runs stop early at different epochs, so a method's point at epoch e is the
 * mean over the seeds that reached e. A resumed run may have logged an epoch twice (the row was written,
 * the checkpoint not); the later row wins.
 */
public final class LearningCurves {
    private LearningCurves() {}

    /** The metrics.csv column the chart plots. */
    public static final String COLUMN = "valid_ndcg@10";

    /** One method's curve: 1-based epochs and the mean metric at each. */
    public record Curve(int[] epochs, double[] values) {}

    /** {@code epoch -> value} of {@link #COLUMN} in one metrics.csv (empty when the file or the column is missing). */
    public static TreeMap<Integer, Double> read(Path metricsCsv) throws IOException {
        TreeMap<Integer, Double> out = new TreeMap<>();
        if (!Files.isRegularFile(metricsCsv)) return out;
        List<String> lines = Files.readAllLines(metricsCsv, StandardCharsets.UTF_8);
        if (lines.isEmpty()) return out;
        List<String> head = List.of(lines.getFirst().split(",", -1));
        int ep = head.indexOf("epoch"), col = head.indexOf(COLUMN);
        if (ep < 0 || col < 0) return out;
        for (String line : lines.subList(1, lines.size())) {
            // metric rows hold numbers and booleans only, so a plain split is exact here
            String[] cells = line.split(",", -1);
            if (cells.length <= Math.max(ep, col) || cells[col].isEmpty()) continue;
            try {
                out.put(Integer.parseInt(cells[ep].trim()), Double.parseDouble(cells[col].trim()));
            } catch (NumberFormatException e) {
                throw new IOException(metricsCsv + ": bad number in row '" + line + "'", e);
            }
        }
        return out;
    }

    /** Mean over runs per epoch (each run counts at the epochs it reached). */
    public static Curve mean(List<TreeMap<Integer, Double>> runs) {
        TreeMap<Integer, double[]> acc = new TreeMap<>();
        for (var run : runs) {
            for (var e : run.entrySet()) {
                double[] a = acc.computeIfAbsent(e.getKey(), k -> new double[2]);
                a[0] += e.getValue();
                a[1]++;
            }
        }
        int[] epochs = new int[acc.size()];
        double[] values = new double[acc.size()];
        int i = 0;
        for (var e : acc.entrySet()) {
            epochs[i] = e.getKey();
            values[i++] = e.getValue()[0] / e.getValue()[1];
        }
        return new Curve(epochs, values);
    }

    /** Each method's mean curve from its runs' metrics.csv files; methods without any point are left out. */
    public static Map<String, Curve> fromRuns(Map<String, List<Path>> metricsFiles) throws IOException {
        Map<String, Curve> out = new LinkedHashMap<>();
        for (var e : metricsFiles.entrySet()) {
            List<TreeMap<Integer, Double>> runs = new ArrayList<>();
            for (Path p : e.getValue()) runs.add(read(p));
            Curve c = mean(runs);
            if (c.epochs().length > 0) out.put(e.getKey(), c);
        }
        return out;
    }

    /**
     * Draws the curves (and the teacher's valid NDCG@10 as a dashed line when {@code teacherValid} is
     * not null) and writes the PNG atomically. Runs without a display (headless AWT).
     */
    /**
     * Distinct, saturated series colours (Tableau 10 without its grey, then black and dark variants):
     * XChart's default palette runs into light grey by the ninth series, which is unreadable and
     * clashes with the teacher's grey line.
     */
    private static final java.awt.Color[] PALETTE = {
        new java.awt.Color(0x1f77b4), new java.awt.Color(0xff7f0e), new java.awt.Color(0x2ca02c), new java.awt.Color(0xd62728),
        new java.awt.Color(0x9467bd), new java.awt.Color(0x8c564b), new java.awt.Color(0xe377c2), new java.awt.Color(0xbcbd22),
        new java.awt.Color(0x17becf), java.awt.Color.BLACK, new java.awt.Color(0x393b79), new java.awt.Color(0x637939),
        new java.awt.Color(0x843c39), new java.awt.Color(0x7b4173)};

    public static void write(Path png, String title, Map<String, Curve> curves, Double teacherValid) throws IOException {
        if (curves.isEmpty()) throw new IllegalArgumentException("learning curves: no method has a " + COLUMN + " column to plot");
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(560).title(title).xAxisTitle("epoch").yAxisTitle("valid NDCG@10").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setMarkerSize(4);
        chart.getStyler().setSeriesColors(PALETTE);
        chart.getStyler().setYAxisDecimalPattern("0.000");
        int maxEpoch = 1;
        for (var e : curves.entrySet()) {
            Curve c = e.getValue();
            double[] x = new double[c.epochs().length];
            for (int i = 0; i < x.length; i++) x[i] = c.epochs()[i];
            maxEpoch = Math.max(maxEpoch, c.epochs()[c.epochs().length - 1]);
            XYSeries s = chart.addSeries(e.getKey(), x, c.values());
            // markers only where a curve is short enough for them to be told apart
            if (x.length > 40) s.setMarker(SeriesMarkers.NONE);
        }
        if (teacherValid != null && Double.isFinite(teacherValid)) {
            XYSeries t = chart.addSeries("teacher", new double[] {1, Math.max(2, maxEpoch)}, new double[] {teacherValid, teacherValid});
            t.setLineStyle(SeriesLines.DASH_DASH);
            t.setMarker(SeriesMarkers.NONE);
            t.setLineColor(java.awt.Color.GRAY);
        }
        byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        AtomicFiles.write(png, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }
}
