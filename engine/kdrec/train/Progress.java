package kdrec.train;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar over the batches of an epoch, shown only when enabled (the CLI enables it when
 * stdout is a terminal); otherwise a no-op, so logs and library use stay clean.
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
                .setUpdateIntervalMillis(200).clearDisplayOnFinish().continuousUpdate().build();
        return new Progress(bar);
    }

    public void step() {
        if (bar != null) bar.step();
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
