package kdrec.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code kdrec} command: entry point of the launcher script and of {@code java -jar kdrec.jar}. */
@Command(name = "kdrec", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Knowledge distillation for recommender systems: train teachers, distill students, measure them.",
        subcommands = {CommandLine.HelpCommand.class, DemoCommand.class, TrainCommand.class, DistillCommand.class, CompareCommand.class, EvalCommand.class, DataCommand.class,
                InfoCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(exec(args));
    }

    /** Runs the CLI and returns its exit code: 0 ok, 1 a failure explained in one line, 2 a usage error. */
    public static int exec(String... args) {
        kdrec.train.Progress.setEnabled(System.console() != null && System.console().isTerminal());
        CommandLine cl = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            // Bad input (flags, data, checkpoints) is the user's to fix: say what and where, no stack trace.
            if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException || ex instanceof java.io.IOException
                    || ex instanceof java.io.UncheckedIOException || ex instanceof kdrec.train.Trainer.NonFiniteLossException) {
                String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
                if (ex instanceof java.nio.file.NoSuchFileException) msg = "no such file: " + msg;
                commandLine.getErr().println(commandLine.getCommandSpec().qualifiedName() + ": " + msg);
                if (Boolean.getBoolean("kdrec.debug")) ex.printStackTrace(commandLine.getErr());
                return 1;
            }
            throw ex;
        });
        return cl.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"kdrec " + (v == null ? "dev" : v) + " on Java " + Runtime.version()};
        }
    }
}
