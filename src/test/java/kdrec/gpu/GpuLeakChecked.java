package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of the GPU test classes that share one context per test and check that each test gives back
 * every device byte it allocated.
 */
abstract class GpuLeakChecked {
    protected Cuda cuda;
    private long before;

    @BeforeEach
    void openContext() {
        cuda = CudaProbe.cuda();
        before = cuda.allocatedBytes();
    }

    @AfterEach
    void noLeaks() {
        assertEquals(before, cuda.allocatedBytes(), "device bytes still allocated after the test (leak)");
    }
}
