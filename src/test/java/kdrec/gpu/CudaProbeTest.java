package kdrec.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The CUDA plumbing that must hold on every machine, GPU or not: the probe never throws and says
 * why when there is no GPU; the build packs a fatbin exactly when nvcc is installed; and every kernel
 * name the Java wrappers launch is defined in native/ (so a typo fails here, on CI, not on a GPU).
 */
class CudaProbeTest {
    // Every "kdrec_..." string literal in the wrappers is a kernel name (some reach Cuda.kernel through a helper).
    private static final Pattern LAUNCHED = Pattern.compile("\"(kdrec_[A-Za-z0-9_]+)\"");
    private static final Pattern DEFINED = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+(?:__launch_bounds__\\([^)]*\\)\\s+)?void\\s+(kdrec_[A-Za-z0-9_]+)");

    @Test
    void probeNeverThrowsAndExplainsItself() {
        CudaProbe.Status s = CudaProbe.status();
        assertTrue(s.description() != null && !s.description().isBlank(), "the probe must say what it found");
        assertEquals(s, CudaProbe.status(), "probed once per JVM");
        if (!s.available()) {
            CudaException e = assertThrows(CudaException.class, CudaProbe::cuda);
            assertTrue(e.getMessage().contains(s.description()), e.getMessage());
        }
    }

    @Test
    void fatbinIsBuiltExactlyWhenNvccExists() {
        boolean nvcc = nvccPath() != null && hasCudaSources();
        boolean packed = CudaProbe.class.getResource(Cuda.FATBIN_RESOURCE) != null;
        assertEquals(nvcc, packed, nvcc ? "nvcc is installed but the build packed no " + Cuda.FATBIN_RESOURCE
                : "no nvcc, yet a fatbin is on the class path (stale build output?)");
        if (!packed) assertFalse(CudaProbe.available());
    }

    @Test
    void everyLaunchedKernelIsDefinedInNative() throws IOException {
        TreeSet<String> launched = names(Path.of("kernels/kdrec/gpu"), ".java", LAUNCHED);
        TreeSet<String> defined = names(Path.of("native"), ".cu", DEFINED);
        List<String> missing = new ArrayList<>();
        for (String k : launched) if (!defined.contains(k)) missing.add(k);
        assertTrue(missing.isEmpty(), "launched from kernels/kdrec/gpu but not defined extern \"C\" in native/*.cu: " + missing);
        byte[] fatbin = Cuda.readFatbin();
        if (fatbin != null) {
            String bytes = new String(fatbin, StandardCharsets.ISO_8859_1);
            List<String> absent = new ArrayList<>();
            for (String k : defined) if (!bytes.contains(k)) absent.add(k);
            assertTrue(absent.isEmpty(), "defined in native/ but not found in the packed fatbin (stale?): " + absent);
        }
    }

    private static boolean hasCudaSources() {
        try (Stream<Path> files = Files.list(Path.of("native"))) {
            return files.anyMatch(f -> f.toString().endsWith(".cu"));
        } catch (IOException e) {
            return false;
        }
    }

    private static TreeSet<String> names(Path dir, String suffix, Pattern p) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(x -> x.toString().endsWith(suffix)).toList()) {
                Matcher m = p.matcher(Files.readString(f));
                while (m.find()) out.add(m.group(1));
            }
        }
        return out;
    }

    /** The same search as native/build-fatbin.sh: PATH, $CUDA_HOME/bin, /usr/local/cuda/bin. */
    private static Path nvccPath() {
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty()) candidates.add(Path.of(dir, "nvcc"));
        }
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isEmpty()) candidates.add(Path.of(cudaHome, "bin", "nvcc"));
        candidates.add(Path.of("/usr/local/cuda/bin/nvcc"));
        for (Path c : candidates) if (Files.isExecutable(c)) return c;
        return null;
    }
}
