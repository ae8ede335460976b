package kdrec.train;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.InteractiveConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar over the batches of an epoch, shown only when enabled (the CLI enables it when
 * stdout is a terminal); otherwise a no-op, so logs and library use stay clean. It draws on stdout,
 * the stream the epoch lines go to: drawn on stderr, its in-place updates and the epoch lines reach
 * the terminal by two paths (the launcher filters stderr), and an update that arrived after an epoch
 * line erased it.
 */
public final class Progress implements AutoCloseable {
    private static volatile boolean enabled;
    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    public static void setEnabled(boolean on) {
        enabled = on;
    }

    public static Progress start(String task, long total) {
        if (!enabled) return new Progress(null);
        ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(200).clearDisplayOnFinish().continuousUpdate()
                .setConsumer(cursorMoves() ? new InteractiveConsoleProgressBarConsumer(System.out) : new ConsoleProgressBarConsumer(System.out))
                .build();
        return new Progress(bar);
    }

    /** Whether the terminal takes cursor movement (the interactive bar moves up and down a line); dumb ones get carriage returns only. */
    private static boolean cursorMoves() {
        String term = System.getenv("TERM");
        return term != null && !term.isBlank() && !term.equals("dumb") && System.getenv("INSIDE_EMACS") == null;
    }

    public void step() {
        if (bar != null) bar.step();
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
