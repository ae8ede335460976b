package kdrec.train;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run stopped by SIGTERM says so in its log and on the console; a run that ends normally does not. */
class RunLogShutdownTest {

    @Test
    void aTrainRunStoppedBySigtermSaysSoAndResumes(@TempDir Path dir) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path out = dir.resolve("run"), console = dir.resolve("console");
        List<String> cmd = List.of(java, "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "kdrec.cli.Main", "train", "--data", "insteval", "--dim", "4",
                "--epochs", "100000", "--patience", "100000", "--out", out.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(console.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.exists(out.resolve("last.safetensors")) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(50);
            assertTrue(p.isAlive(), "the run ended on its own: " + Files.readString(console));
            assertTrue(Files.exists(out.resolve("last.safetensors")), "no checkpoint within 2 minutes: " + Files.readString(console));
            p.destroy(); // SIGTERM on Linux and macOS
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the run did not stop");
        } finally {
            p.destroyForcibly();
        }
        String log = Files.readString(out.resolve("log"));
        assertTrue(log.strip().endsWith(RunLog.INTERRUPTED), log);
        assertTrue(Files.readString(console).contains(RunLog.INTERRUPTED), Files.readString(console));
    }

    @Test
    void closingALogWithdrawsItsShutdownLine(@TempDir Path dir) throws Exception {
        RunLog log = new RunLog(dir.resolve("log"), null);
        log.line("one line");
        log.close();
        // were the hook still registered, removing it would succeed (and the JVM's exit would append the line)
        assertFalse(Runtime.getRuntime().removeShutdownHook(log.onShutdown), "the closed log's hook is still registered");
        assertTrue(Files.readString(dir.resolve("log")).equals("one line" + System.lineSeparator()), Files.readString(dir.resolve("log")));
    }
}
