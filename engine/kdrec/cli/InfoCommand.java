package kdrec.cli;

import java.util.concurrent.Callable;
import kdrec.cpu.Parallel;
import kdrec.cpu.Simd;
import picocli.CommandLine.Command;

/** {@code kdrec info}: what this JVM and machine give kdrec (vector width, threads, backend). */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show the compute backend, vector width and thread count.")
final class InfoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println("java     : " + Runtime.version());
        System.out.println("vector   : " + Simd.describe());
        System.out.println("threads  : " + Parallel.threads());
        return 0;
    }
}
