package kdrec.gpu;

import java.io.PrintWriter;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TagFilter;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs the GPU tests (package kdrec.gpu, tag "gpu") without Maven, for the GPU machine, which has
 * no JDK or Maven of its own: bench/gpu_bundle.sh packs a jlink runtime, the classes and the test
 * jars, and bench/gpu_check.sh runs this class there. Prints the device, each failure with its
 * message and stack top, and a summary; exits 1 when a test failed, 2 when no GPU was found.
 */
public final class GpuTestMain {
    private GpuTestMain() {}

    public static void main(String[] args) {
        CudaProbe.Status s = CudaProbe.status();
        System.out.println("gpu: " + (s.available() ? s.description() : "NOT AVAILABLE: " + s.description()));
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(DiscoverySelectors.selectPackage(args.length > 0 ? args[0] : "kdrec.gpu"))
                .filters(TagFilter.includeTags("gpu"))
                .build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launcher.execute(request, summary);
        TestExecutionSummary r = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        r.printFailuresTo(out, 12);
        r.printTo(out);
        System.exit(!s.available() ? 2 : r.getTotalFailureCount() > 0 ? 1 : 0);
    }
}
