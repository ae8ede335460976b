package kdrec.cli;

import kdrec.tensor.Diagnostics;
import kdrec.train.RunLog;

/** Small CLI plumbing shared by the commands. */
final class Cli {
    private Cli() {}

    /**
     * A flag's value refused on its own merits (out of range, not an allowed name, malformed): a command-line
     * mistake like those picocli finds, so {@link Main} answers it the same way, with the usage hint and exit 2.
     * Failures in what the flags name (data, files, checkpoints) stay plain exceptions and exit 1.
     */
    static final class BadFlagValue extends IllegalArgumentException {
        BadFlagValue(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Runs {@code check}, which looks only at flag values: whatever it refuses is a {@link BadFlagValue}. */
    static <T> T flagValues(java.util.function.Supplier<T> check) {
        try {
            return check.get();
        } catch (BadFlagValue e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new BadFlagValue(e.getMessage(), e);
        }
    }

    /** Sends the engine's one-line notices (backend choice, ...) into a run's log until closed. */
    static Diagnostics.Redirect routeDiagnostics(RunLog log) {
        return Diagnostics.redirect(log::line);
    }
}
