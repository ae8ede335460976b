package kdrec.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * The run's log: every line goes to the console (or any PrintStream, or nowhere) and is appended to a
 * file, flushed per line so a crash loses nothing already printed and {@code tail -f} follows along.
 * A resumed run appends to the existing file. Thread-safe; a multi-line string is written line by
 * line. I/O errors on the file surface as {@link UncheckedIOException}.
 *
 * <p>A log still open when the JVM shuts down (Ctrl-C, SIGTERM; not kill -9) ends with {@link #INTERRUPTED},
 * on the console too, so a stopped run says so; closing the log withdraws that.
 */
public final class RunLog implements AutoCloseable {
    private final Path file;
    private final PrintStream console;
    private final BufferedWriter out;
    private boolean closed;
    final Thread onShutdown = new Thread(this::shuttingDown, "kdrec-run-log-shutdown"); // package-private for a test

    /** The last line of a log the JVM shut down under (checkpoints are written atomically, so what exists is whole). */
    public static final String INTERRUPTED = "interrupted: the process was asked to stop before the run finished; the checkpoints it wrote are"
            + " intact (train, distill and compare continue from them with --resume)";

    /**
     * @param file    appended to (created with its parent directories when missing)
     * @param console where lines are echoed; null for the file only
     */
    public RunLog(Path file, PrintStream console) throws IOException {
        this.file = file;
        this.console = console;
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE);
        Runtime.getRuntime().addShutdownHook(onShutdown);
    }

    private synchronized void shuttingDown() {
        if (closed) return;
        try {
            write(INTERRUPTED, true);
        } catch (RuntimeException e) { // the file went away or the disk is full: nothing more can be said
        }
    }

    public Path file() {
        return file;
    }

    /** Writes {@code text} (each of its lines) to the console and the file. */
    public void line(String text) {
        write(text, true);
    }

    /** Writes {@code text} to the file only (for what the caller reports on the console itself, e.g. a failure). */
    public void fileOnly(String text) {
        write(text, false);
    }

    private synchronized void write(String text, boolean echo) {
        if (closed) throw new IllegalStateException("run log " + file + " is closed");
        for (String l : text.split("\r?\n", -1)) {
            if (echo && console != null) console.println(l);
            try {
                out.write(l);
                out.newLine();
            } catch (IOException e) {
                throw new UncheckedIOException("writing run log " + file, e);
            }
        }
        if (console != null) console.flush();
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("writing run log " + file, e);
        }
    }

    /** {@link String#format} with {@link Locale#ROOT} (decimal points stay points), then {@link #line}. */
    public void printf(String format, Object... args) {
        line(String.format(Locale.ROOT, format, args));
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(onShutdown);
        } catch (IllegalStateException shuttingDown) { // closed by another hook during shutdown: the line is not due
        }
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing run log " + file, e);
        }
    }
}
