package kdrec.tensor;

import java.util.function.Consumer;

/**
 * Where the engine's few one-line notices go (backend choice, fallbacks). Nothing below the CLI
 * prints to the console directly: by default notices go to stderr, and the CLI or an embedding
 * service can redirect them (e.g. into a run log) for a scope. A notice never throws: a sink that
 * fails (a closed log) falls back to stderr.
 */
public final class Diagnostics {
    private Diagnostics() {}

    private static final Consumer<String> STDERR = line -> System.err.println(line);
    private static volatile Consumer<String> sink = STDERR;

    /** A redirect in force until closed; closing restores the sink that was there before. */
    public interface Redirect extends AutoCloseable {
        @Override
        void close();
    }

    /** Sends notices to {@code s} until the returned handle is closed (null: drop them). */
    public static synchronized Redirect redirect(Consumer<String> s) {
        Consumer<String> previous = sink;
        Consumer<String> mine = s == null ? line -> {} : s;
        sink = mine;
        return () -> {
            synchronized (Diagnostics.class) {
                if (sink == mine) sink = previous;
            }
        };
    }

    public static void notice(String line) {
        try {
            sink.accept(line);
        } catch (RuntimeException e) {
            STDERR.accept(line);
        }
    }
}
