package kdrec.cli;

import java.util.concurrent.Callable;
import kdrec.cpu.Parallel;
import kdrec.cpu.Simd;
import picocli.CommandLine.Command;

/** {@code kdrec info}: what this JVM and machine give kdrec (vector width, threads, the GPU for --device cuda). */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show the vector width, thread count, CPU backend and whether --device cuda can run here.")
final class InfoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println("java     : " + Runtime.version());
        System.out.println("vector   : " + Simd.describe());
        System.out.println("threads  : " + Parallel.threads());
        System.out.println("backend  : " + kdrec.tensor.Backends.get().name() + " (-Dkdrec.backend=scalar|panama|cuda; the CPU kernels' backend)");
        kdrec.gpu.CudaProbe.Status gpu = kdrec.gpu.CudaProbe.status(); // never throws
        System.out.println("cuda     : " + (gpu.available() ? gpu.description() + " (--device cuda available)" : "unavailable: " + gpu.description()));
        return 0;
    }
}
