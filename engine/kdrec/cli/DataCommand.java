package kdrec.cli;

import java.util.concurrent.Callable;
import kdrec.data.Dataset;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code kdrec data}: look at datasets. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Inspect datasets.", subcommands = DataCommand.Stats.class)
final class DataCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "kdrec data needs a subcommand: stats");
    }

    /** {@code kdrec data stats D}: users, items, interactions, density, per-split counts. */
    @Command(name = "stats", mixinStandardHelpOptions = true, description = "Print users, items, interactions, density and per-split counts.")
    static final class Stats implements Callable<Integer> {
        @Mixin
        DataOptions data;

        @Override
        public Integer call() throws Exception {
            Dataset d = data.dataset();
            Dataset.Stats s = d.stats();
            System.out.printf("dataset      %s%n", d.name());
            System.out.printf("users        %d%n", s.users());
            System.out.printf("items        %d%n", s.items());
            System.out.printf("interactions %d%n", s.interactions());
            System.out.printf("density      %.4f%%%n", 100 * s.density());
            System.out.printf("train        %d%n", s.train());
            System.out.printf("valid        %d%s%n", s.valid(), d.hasValid() ? "" : " (no validation split)");
            System.out.printf("test         %d%n", s.test());
            System.out.printf("fingerprint  %s%n", d.fingerprint());
            return 0;
        }
    }
}
