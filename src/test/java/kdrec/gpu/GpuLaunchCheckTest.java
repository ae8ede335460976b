package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** GpuLaunchCheck's comparison of Java launch arguments with C parameter codes (no GPU, no driver needed). */
class GpuLaunchCheckTest {
    @Test
    void matchingTypesPass() {
        assertDoesNotThrow(() -> GpuLaunchCheck.check("k", new Object[] {7L, 3, 1.5f, 2.5, 0L}, List.of("i8", "i4", "f4", "f8", "p")));
    }

    @Test
    void anIntWhereTheKernelTakesALongLongFails() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> GpuLaunchCheck.check("kdrec_x", new Object[] {7}, List.of("i8")));
        assertTrue(e.getMessage().contains("kdrec_x") && e.getMessage().contains("argument 0") && e.getMessage().contains("long long"),
                e.getMessage());
    }

    @Test
    void wrongCountNonNullLongForAPointerAndUnknownKernelsFail() {
        assertThrows(AssertionError.class, () -> GpuLaunchCheck.check("k", new Object[] {1, 2}, List.of("i4")));
        assertThrows(AssertionError.class, () -> GpuLaunchCheck.check("k", new Object[] {5L}, List.of("p")));
        assertThrows(AssertionError.class, () -> GpuLaunchCheck.check("k", new Object[] {1.0f}, List.of("f8")));
        assertThrows(AssertionError.class, () -> GpuLaunchCheck.check("k", new Object[] {}, null));
    }
}
