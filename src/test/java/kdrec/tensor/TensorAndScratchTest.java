package kdrec.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TensorAndScratchTest {
    @Test
    void shapesAndViews() {
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertEquals(2, t.rows());
        assertEquals(3, t.cols());
        assertEquals(6f, t.get(1, 2));
        Tensor r = t.rowRange(1, 2);
        assertArrayEquals(new float[] {4, 5, 6}, r.toArray());
        r.set(0, 40f);
        assertEquals(40f, t.get(1, 0), "a row range is a view");
        assertArrayEquals(new int[] {3, 2}, t.reshape(3, 2).shape());
        assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 2));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(1, 2, 3, 4));
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
    }

    @Test
    void scratchReusesMemoryAfterTheFirstStep() {
        try (Scratch s = new Scratch(256)) {
            for (int step = 0; step < 3; step++) {
                s.reset();
                Tensor a = s.zeros(100), b = s.zeros(50, 4);
                a.set(99, 1f);
                b.set(199, 2f);
                assertEquals(0f, b.get(0), "zeros() must zero-fill reused memory");
                assertEquals(0, a.data().address() % 64, "64-byte aligned");
            }
            long cap = s.capacity();
            s.reset();
            s.zeros(100);
            s.zeros(50, 4);
            assertEquals(cap, s.capacity(), "a warm step allocates nothing new");
            assertTrue(s.highWater() >= 1200);
        }
    }

    @Test
    void markAndReleaseReuseAnOpsTemporaries() {
        try (Scratch s = new Scratch(1024)) {
            Tensor kept = s.zeros(10);
            Scratch.Mark m = s.mark();
            long used = s.used();
            Tensor tmp = s.uninitialized(100);
            s.uninitialized(5000); // spills into a new chunk
            s.release(m);
            assertEquals(used, s.used());
            Tensor again = s.uninitialized(100);
            assertEquals(tmp.data().address(), again.data().address(), "released memory is handed out again");
            kept.set(9, 3f);
            assertEquals(3f, kept.get(9), "what was allocated before the mark stays");
            Scratch.Mark inner = s.mark();
            s.uninitialized(10);
            s.release(m);
            assertThrows(IllegalStateException.class, () -> s.release(inner), "an inner mark after its outer one was released");
            s.reset();
            assertThrows(IllegalStateException.class, () -> s.release(m), "a mark dies with the step");
        }
    }

    @Test
    void paramStoreTensorsDieWithTheStore() {
        ParamStore p = new ParamStore();
        Tensor t = p.zeros(3);
        t.set(0, 1f);
        p.close();
        assertThrows(IllegalStateException.class, () -> t.get(0));
    }

    @Test
    void backendSelectionRejectsUnknownNames() {
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.select("tpu"));
        assertTrue(e.getMessage().contains("scalar, panama, cuda"), e.getMessage());
        assertEquals("scalar", Backends.select("scalar").name());
    }

    @Test
    void cudaBackendSaysWhatIsMissing() {
        if (kdrec.gpu.CudaProbe.available()) { // with a GPU the host side of a cuda run is the CPU backend
            assertTrue(Backends.select("cuda").name().matches("scalar|panama"));
            return;
        }
        var e = assertThrows(IllegalStateException.class, () -> Backends.select("cuda"));
        String why = kdrec.gpu.CudaProbe.status().description();
        assertTrue(e.getMessage().contains(why), "names the probe's finding: " + e.getMessage());
        assertTrue(e.getMessage().contains("use scalar or panama"), e.getMessage());
    }

    @Test
    void diagnosticsRedirectIsScopedAndNeverThrows() {
        java.util.List<String> seen = new java.util.ArrayList<>();
        try (Diagnostics.Redirect r = Diagnostics.redirect(seen::add)) {
            Diagnostics.notice("inside");
            try (Diagnostics.Redirect broken = Diagnostics.redirect(line -> { throw new IllegalStateException("log is closed"); })) {
                Diagnostics.notice("a failing sink falls back to stderr"); // must not throw
            }
            Diagnostics.notice("restored");
        }
        Diagnostics.notice("after: stderr");
        assertEquals(java.util.List.of("inside", "restored"), seen);
    }
}
