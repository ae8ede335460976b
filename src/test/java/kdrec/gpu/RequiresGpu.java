package kdrec.gpu;

import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit condition for the GPU tests ({@code @Tag("gpu") @ExtendWith(RequiresGpu.class)}): they run
 * where {@link CudaProbe} finds a device and this build's kernels, and are skipped otherwise, with
 * one line on the console per JVM that says why (the probe's reason).
 *
 * <p>With {@code -Dkdrec.gpu.emulator=required} (the pom's gpu-emu execution, which points
 * LD_LIBRARY_PATH at the emulated driver of native/emu/driver) they run only when the device found is
 * that emulator, so the execution never repeats the suite on a real GPU nor fails where the emulator
 * was not built. On the emulator it also installs {@link GpuLaunchCheck} (argument types of every launch).
 */
public final class RequiresGpu implements ExecutionCondition {
    private static final AtomicBoolean SAID = new AtomicBoolean();

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        CudaProbe.Status s = CudaProbe.status();
        String why = null;
        if (!s.available()) {
            why = s.description();
        } else if ("required".equals(System.getProperty("kdrec.gpu.emulator")) && !GpuTestSizes.emulated()) {
            why = "kdrec.gpu.emulator=required but the device is not the emulated driver (" + s.description() + ")";
        }
        if (why == null) {
            if (GpuTestSizes.emulated()) GpuLaunchCheck.installOnEmulator();
            return ConditionEvaluationResult.enabled("GPU: " + s.description());
        }
        if (SAID.compareAndSet(false, true)) System.out.println("GPU tests skipped: " + why);
        return ConditionEvaluationResult.disabled("no GPU: " + why);
    }
}
