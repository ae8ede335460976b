package kdrec.tensor;

import java.util.function.Consumer;

/**
 * Where the engine's few one-line notices go (backend choice, fallbacks). Nothing below the CLI
 * prints to the console directly: by default notices go to stderr, and the CLI or an embedding
 * service can redirect them (e.g. into a run log).
 */
public final class Diagnostics {
    private Diagnostics() {}

    private static volatile Consumer<String> sink = line -> System.err.println(line);

    public static void setSink(Consumer<String> s) {
        sink = s == null ? line -> {} : s;
    }

    public static void notice(String line) {
        sink.accept(line);
    }
}
