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
    public void run() { // no command: a usage error (exit 2, the usage on stderr), as "kdrec data" without its subcommand
        throw new CommandLine.ParameterException(spec.commandLine(), "kdrec needs a command");
    }

    public static void main(String[] args) {
        System.exit(exec(args));
    }

    /** Runs the CLI and returns its exit code: 0 ok, 1 a failure explained in one line, 2 a usage error (a bad flag or value). */
    public static int exec(String... args) {
        try { // -Dkdrec.threads and -Dkdrec.vectorBits are read once, when the kernels load: a bad one is one line here
            kdrec.cpu.Parallel.threads();
            if (kdrec.cpu.Simd.LANES < 1) throw new IllegalStateException();
            kdrec.tensor.Backends.checkRequested(); // read on first use, which comes after data loading (or never, in data stats)
        } catch (IllegalArgumentException e) {
            System.err.println("kdrec: " + e.getMessage());
            return 2;
        } catch (ExceptionInInitializerError e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            System.err.println("kdrec: " + c.getMessage());
            return 2;
        } catch (LinkageError e) { // the Vector API module is not in the JVM: java -jar without the launcher's flags
            System.err.println("kdrec: the JDK's vector module is missing (" + e + "): run through ./kdrec, or start java with"
                    + " --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED");
            return 2;
        }
        kdrec.train.Progress.setEnabled(System.console() != null && System.console().isTerminal());
        CommandLine cl = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            // A flag value refused after parsing reads as one picocli refused while parsing: usage hint, exit 2.
            if (ex instanceof Cli.BadFlagValue) {
                String name = commandLine.getCommandSpec().qualifiedName();
                commandLine.getErr().println(name + ": " + ex.getMessage() + "; see '" + name + " --help'");
                return 2;
            }
            // Bad input (data, files, checkpoints) is the user's to fix: say what and where, no stack trace.
            if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException || ex instanceof java.io.IOException
                    || ex instanceof java.io.UncheckedIOException || ex instanceof kdrec.train.Trainer.NonFiniteLossException) {
                commandLine.getErr().println(commandLine.getCommandSpec().qualifiedName() + ": " + describe(ex));
                if (Boolean.getBoolean("kdrec.debug")) ex.printStackTrace(commandLine.getErr());
                return 1;
            }
            throw ex;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            String m = String.valueOf(e.getMessage());
            boolean heap = m.contains("Java heap space") || m.contains("GC overhead");
            System.err.println("kdrec: out of memory (" + m + "): use a smaller --dim, batch_size or dataset"
                    + (heap ? ", or give the JVM more heap, e.g. KDREC_JAVA_OPTS=-Xmx16g" : " (this was the machine's memory, outside the JVM heap)"));
            return 1;
        }
    }

    /**
     * A command-line mistake (unknown option, bad or missing value): one line naming it, with picocli's
     * closest option names for a misspelt one, and where the full usage is; exit 2. A command given
     * without its subcommand prints the usage, which is then the answer.
     */
    static int usageError(CommandLine.ParameterException ex, String[] args) {
        CommandLine c = ex.getCommandLine();
        java.io.PrintWriter err = c.getErr();
        String name = c.getCommandSpec().qualifiedName();
        String msg = ex.getMessage();
        if (!c.getSubcommands().isEmpty() && (msg.endsWith("needs a command") || msg.endsWith("needs a subcommand: stats"))) {
            err.println(msg);
            c.usage(err);
            return 2;
        }
        if (ex instanceof CommandLine.UnmatchedArgumentException u) {
            java.util.List<String> options = u.getUnmatched().stream().filter(a -> a.startsWith("-") && !a.matches("-[0-9.].*"))
                    .map(a -> "'" + a + "'").toList(); // a negative number is the value of the option before it
            if (!options.isEmpty()) msg = (options.size() == 1 ? "unknown option " : "unknown options ") + String.join(", ", options);
            if (!u.getSuggestions().isEmpty()) msg += " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
        }
        err.println(name + ": " + msg + "; see '" + name + " --help'");
        return 2;
    }

    /** One line for a failure the user can fix: file system errors name the path and what is wrong with it. */
    static String describe(Throwable ex) {
        Throwable io = ex instanceof java.io.UncheckedIOException u && u.getCause() != null ? u.getCause() : ex;
        if (io instanceof java.nio.file.FileSystemException f) {
            String what = f instanceof java.nio.file.NoSuchFileException ? "no such file or folder"
                    : f instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : f instanceof java.nio.file.NotDirectoryException ? "not a folder"
                    : f instanceof java.nio.file.DirectoryNotEmptyException ? "folder not empty"
                    : f instanceof java.nio.file.FileAlreadyExistsException && f.getReason() == null ? "already exists"
                    : f.getReason() != null ? f.getReason() : f.getClass().getSimpleName();
            String prefix = io == ex || ex.getMessage() == null || ex.getMessage().equals(io.toString()) ? "" : ex.getMessage() + ": ";
            return prefix + f.getFile() + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "") + ": " + what;
        }
        return ex.getMessage() == null ? ex.toString() : ex.getMessage();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"kdrec " + (v == null ? "dev" : v) + " on Java " + Runtime.version()};
        }
    }
}
