package kdrec.gpu;

import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit condition for the GPU tests ({@code @Tag("gpu") @ExtendWith(RequiresGpu.class)}): they run
 * where {@link CudaProbe} finds a device and this build's kernels, and are skipped otherwise, with
 * one line on the console per JVM that says why (the probe's reason).
 */
public final class RequiresGpu implements ExecutionCondition {
    private static final AtomicBoolean SAID = new AtomicBoolean();

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        CudaProbe.Status s = CudaProbe.status();
        if (s.available()) return ConditionEvaluationResult.enabled("GPU: " + s.description());
        if (SAID.compareAndSet(false, true)) System.out.println("GPU tests skipped: " + s.description());
        return ConditionEvaluationResult.disabled("no GPU: " + s.description());
    }
}
