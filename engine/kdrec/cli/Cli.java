package kdrec.cli;

import kdrec.tensor.Diagnostics;
import kdrec.train.RunLog;

/** Small CLI plumbing shared by the commands. */
final class Cli {
    private Cli() {}

    /** Sends the engine's one-line notices (backend choice, ...) into a run's log until closed. */
    static Diagnostics.Redirect routeDiagnostics(RunLog log) {
        return Diagnostics.redirect(log::line);
    }
}
