package kdrec.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import kdrec.eval.Metrics;

/**
 * Appends one CSV row per epoch to a metrics file (e.g. runs/NAME/metrics.csv), for plotting
 * learning curves. The header is written once, from the first row's keys; every later row must have
 * the same columns (any order; written in header order). Reopening an existing file (a resumed run)
 * keeps its header and checks new rows against it, and drops a partial last line left by a crash.
 * Each row is flushed. Doubles are written with {@link Double#toString(double)} (exact round trip),
 * strings quoted when they hold a comma, quote or line break.
 */
public final class MetricsCsv implements AutoCloseable {
    private final Path file;
    private BufferedWriter out;
    private List<String> columns;
    private boolean closed;

    public MetricsCsv(Path file) throws IOException {
        this.file = file;
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        if (Files.exists(file)) {
            dropPartialLastLine(file);
            try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
                String first = lines.findFirst().orElse(null);
                if (first != null && !first.isEmpty()) columns = List.copyOf(parseCsvLine(first));
            }
        }
        this.out = appender(file);
    }

    private static BufferedWriter appender(Path file) throws IOException {
        return Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE);
    }

    /**
     * Drops the rows whose "epoch" is past {@code epoch} (a resumed run restarts after its last
     * checkpoint, so rows a crash wrote after that checkpoint would otherwise appear twice). The file is
     * rewritten atomically (temp file + rename) and only when some row goes; rows without a readable
     * epoch stay.
     */
    public synchronized void dropRowsAfter(int epoch) {
        if (closed) throw new IllegalStateException("metrics file " + file + " is closed");
        if (columns == null) return;
        int col = columns.indexOf("epoch");
        if (col < 0) return;
        try {
            out.flush();
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8), kept = new ArrayList<>(lines.size());
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (i > 0 && !line.isEmpty()) {
                    List<String> cells = parseCsvLine(line);
                    if (cells.size() > col && cells.get(col).matches("-?\\d{1,9}") && Integer.parseInt(cells.get(col)) > epoch) continue;
                }
                kept.add(line);
            }
            if (kept.size() == lines.size()) return;
            out.close();
            StringBuilder sb = new StringBuilder();
            for (String line : kept) sb.append(line).append(System.lineSeparator());
            AtomicFiles.writeString(file, sb.toString());
            out = appender(file);
        } catch (IOException e) {
            throw new UncheckedIOException("rewriting " + file, e);
        }
    }

    public Path file() {
        return file;
    }

    /** The header's columns; null until the header exists. */
    public synchronized List<String> columns() {
        return columns;
    }

    /** Appends {@code epoch} followed by the metrics, under columns "epoch", then the metric names. */
    public void append(int epoch, Metrics metrics) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("epoch", epoch);
        row.putAll(metrics.values());
        append(row);
    }

    /** Appends one row; the first row ever written defines the header. */
    public synchronized void append(Map<String, ?> row) {
        if (closed) throw new IllegalStateException("metrics file " + file + " is closed");
        try {
            if (columns == null) {
                columns = List.copyOf(row.keySet());
                out.write(join(new ArrayList<>(columns)));
                out.newLine();
            } else if (!new LinkedHashSet<>(columns).equals(row.keySet())) {
                Set<String> missing = new LinkedHashSet<>(columns);
                missing.removeAll(row.keySet());
                Set<String> extra = new LinkedHashSet<>(row.keySet());
                extra.removeAll(columns);
                throw new IllegalArgumentException("metrics row for " + file + " does not match the header " + columns + ": missing "
                        + missing + ", unexpected " + extra);
            }
            List<String> cells = new ArrayList<>(columns.size());
            for (String c : columns) cells.add(format(row.get(c)));
            out.write(String.join(",", cells));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file, e);
        }
    }

    private static String join(List<String> names) {
        names.replaceAll(Metrics::csvEscape);
        return String.join(",", names);
    }

    private static String format(Object v) {
        return switch (v) {
            case null -> "";
            case Double d -> Double.toString(d);
            case Float f -> Float.toString(f);
            case Number n -> n.toString();
            default -> Metrics.csvEscape(v.toString());
        };
    }

    /** Splits one CSV line (RFC 4180 quoting) into cells. */
    static List<String> parseCsvLine(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                cells.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        cells.add(cur.toString());
        return cells;
    }

    /** A crash mid-row leaves a line without its newline: cut the file back to the last complete line. */
    private static void dropPartialLastLine(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            if (size == 0) return;
            ByteBuffer one = ByteBuffer.allocate(1);
            long pos = size - 1;
            ch.read(one, pos);
            if (one.get(0) == '\n') return;
            while (pos > 0) {
                one.clear();
                ch.read(one, pos - 1);
                if (one.get(0) == '\n') break;
                pos--;
            }
            ch.truncate(pos);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing " + file, e);
        }
    }
}
