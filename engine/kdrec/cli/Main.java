package kdrec.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code kdrec} command: entry point of the launcher script and of {@code java -jar kdrec.jar}. */
@Command(name = "kdrec", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Knowledge distillation for recommender systems: train teachers, distill students, measure them.",
        subcommands = {CommandLine.HelpCommand.class, InfoCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        int code = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
        System.exit(code);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"kdrec " + (v == null ? "dev" : v) + " on Java " + Runtime.version()};
        }
    }
}
