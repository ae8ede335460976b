package kdrec.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kdrec distill} end to end on a small synthetic set, and its errors for bad flags. */
class DistillCommandTest {
    static final String DATA = "synthetic:users=120,items=80,per_user=10,clusters=4,seed=3";

    @TempDir
    static Path dir;

    static Path teacher;

    @BeforeAll
    static void trainTeacher() {
        assertEquals(0, run("train", "--data", DATA, "--dim", "16", "--epochs", "4", "--out", dir.resolve("t").toString()).code);
        teacher = dir.resolve("t").resolve("best.safetensors");
        assertTrue(Files.isRegularFile(teacher));
    }

    record Result(int code, String err) {}

    static Result run(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            return new Result(Main.exec(args), buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(old);
        }
    }

    @Test
    void distillWritesARunAndResumes() throws Exception {
        Path out = dir.resolve("s");
        Result r = run("distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "rcekd", "--dim", "8", "--epochs", "3",
                "--lambda", "0.5", "--set", "rcekd.K=10", "--set", "rcekd.M=20", "--set", "rcekd.L=5", "--out", out.toString());
        assertEquals(0, r.code, r.err);
        for (String f : new String[] {"log", "config.yaml", "metrics.csv", "best.safetensors", "last.safetensors"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        String config = Files.readString(out.resolve("config.yaml"));
        assertTrue(config.contains("rcekd.k: 10") && config.contains("rcekd.lambda: 0.5") && config.contains("method: rcekd"), config);
        String log = Files.readString(out.resolve("log"));
        assertTrue(log.contains("teacher: ") && log.contains(" kd "), "log names the teacher and the KD loss part:\n" + log);
        Result again = run("distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "rcekd", "--dim", "8", "--epochs", "3",
                "--out", out.toString());
        assertEquals(1, again.code);
        assertTrue(again.err.contains("--resume") && again.err.contains("--overwrite"), again.err);
    }

    @Test
    void anHstuStudentInheritsItsTeachersTestHistory() throws Exception {
        String seq = "markov:users=60,items=40,per_user=8,branching=2,seed=2";
        String[] small = {"--set", "blocks=1", "--set", "max_len=8", "--set", "negatives=16", "--epochs", "1"};
        Path t = dir.resolve("ht"), s = dir.resolve("hs"), s2 = dir.resolve("hs2");
        assertEquals(0, run(cat(new String[] {"train", "--data", seq, "--model", "hstu", "--dim", "8", "--set", "test_history=train_valid",
                "--out", t.toString()}, small)).code);
        String[] distill = {"distill", "--data", seq, "--teacher", t.resolve("best.safetensors").toString(), "--student", "hstu", "--dim", "8",
                "--method", "rcekd", "--set", "rcekd.K=5", "--set", "rcekd.M=10", "--set", "rcekd.L=3"};
        Result r = run(cat(distill, small, new String[] {"--out", s.toString()}));
        assertEquals(0, r.code, r.err);
        assertTrue(Files.readString(s.resolve("config.yaml")).contains("test_history: train_valid"));
        Result own = run(cat(distill, small, new String[] {"--set", "test_history=train", "--out", s2.toString()}));
        assertEquals(0, own.code, own.err);
        assertTrue(Files.readString(s2.resolve("config.yaml")).contains("test_history: train\n"), "--set overrides the teacher's");
    }

    static String[] cat(String[]... parts) {
        return java.util.Arrays.stream(parts).flatMap(java.util.Arrays::stream).toArray(String[]::new);
    }

    @Test
    void badFlagsSayWhatIsAllowed() {
        Result unknown = run("distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "magic", "--out", dir.resolve("x").toString());
        assertEquals(2, unknown.code);
        assertTrue(unknown.err.contains("unknown KD method 'magic'") && unknown.err.contains("rcekd") && unknown.err.contains("scratch"), unknown.err);
        Result noSuchMethod = run("distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "rcekd", "--set", "unknown.key=1",
                "--out", dir.resolve("x").toString());
        assertEquals(2, noSuchMethod.code);
        assertTrue(noSuchMethod.err.contains("there is no method 'unknown'") && noSuchMethod.err.contains("rcekd"), noSuchMethod.err);
        Result foreign = run("distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "rcekd", "--set", "ce.k=3",
                "--out", dir.resolve("y").toString());
        assertEquals(2, foreign.code);
        assertTrue(foreign.err.contains("'ce.k' is for method ce"), foreign.err);
        Result bare = run("distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "rcekd", "--set", "K=5",
                "--out", dir.resolve("y").toString());
        assertEquals(2, bare.code);
        assertTrue(bare.err.contains("setting 'K' is a key of method rcekd: write rcekd.k=VALUE"), bare.err);
        Result badKey = run("distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "rcekd", "--set", "rcekd.q=3",
                "--out", dir.resolve("z").toString());
        assertEquals(2, badKey.code);
        assertTrue(badKey.err.contains("rcekd.q") && badKey.err.contains("beta"), badKey.err);
        Result otherData = run("distill", "--data", "synthetic:users=50,items=40,per_user=8,seed=1", "--teacher", teacher.toString(),
                "--method", "rcekd", "--out", dir.resolve("w").toString());
        assertEquals(1, otherData.code);
        assertTrue(otherData.err.contains("fingerprint"), otherData.err);
        Result noPreset = run("distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "rcekd", "--preset", "movielens",
                "--out", dir.resolve("v").toString());
        assertEquals(2, noPreset.code);
        assertTrue(noPreset.err.contains("unknown preset 'movielens'; allowed: citeulike, gowalla, yelp"), noPreset.err);
        Result none = run();
        assertEquals(2, none.code, "no command is a usage error");
        assertTrue(none.err.contains("kdrec needs a command") && none.err.contains("Usage: kdrec"), none.err);
        // a known dataset without a row for this pair lists the rows there are
        Result noRow = run("distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "ce", "--preset", "gowalla",
                "--out", dir.resolve("v").toString());
        assertEquals(2, noRow.code);
        assertTrue(noRow.err.contains("ce has no preset for gowalla") && noRow.err.contains("citeulike/mf>mf"), noRow.err);
        Result badDevice = run("distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "rcekd", "--device", "tpu",
                "--out", dir.resolve("u").toString());
        assertEquals(2, badDevice.code);
        assertTrue(badDevice.err.contains("--device must be one of cpu, cuda"), badDevice.err);
    }

    /**
     * A setting only the method checks (ce.guide) fails after the run directory was made: nothing is left
     * behind, and with --overwrite the run it was to replace comes back whole.
     */
    @Test
    void aRunThatFailsAtItsMethodLeavesNothingAndOverwriteLosesNothing() throws Exception {
        Path out = dir.resolve("late");
        String[] good = {"distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "ce", "--dim", "8", "--epochs", "1",
                "--out", out.toString()};
        Result bad = run(cat(good, new String[] {"--set", "ce.guide=foo"}));
        assertEquals(1, bad.code);
        assertTrue(bad.err.contains("ce.guide must be"), bad.err);
        assertTrue(!Files.exists(out), "no half-made run directory");
        assertEquals(0, run(good).code, "the corrected command runs into the same --out");
        byte[] best = Files.readAllBytes(out.resolve("best.safetensors"));
        Result badOverwrite = run(cat(good, new String[] {"--set", "ce.guide=foo", "--overwrite"}));
        assertEquals(1, badOverwrite.code);
        assertArrayEquals(best, Files.readAllBytes(out.resolve("best.safetensors")), "the overwritten run is back, checkpoints and all");
        assertTrue(Files.readString(out.resolve("config.yaml")).contains("guide: teacher"));
        assertTrue(!Files.exists(out.resolveSibling(".late.replaced")));
    }

    static String[] gpuDistill(Path out) {
        return new String[] {"distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "rcekd", "--dim", "8", "--epochs", "2",
                "--set", "rcekd.K=10", "--set", "rcekd.M=20", "--set", "rcekd.L=5", "--device", "cuda", "--out", out.toString()};
    }

    @Test
    void withoutAGpuDeviceCudaSaysWhyAndLeavesNothing() {
        if (kdrec.gpu.CudaProbe.available()) return; // the GPU test below runs instead
        Path out = dir.resolve("gpu-none");
        Result r = run(gpuDistill(out));
        assertEquals(1, r.code);
        assertTrue(r.err.contains("--device cuda: no usable GPU here"), r.err);
        assertTrue(!Files.exists(out), "no run directory is left behind");
    }

    @Test
    @org.junit.jupiter.api.Tag("gpu")
    @org.junit.jupiter.api.extension.ExtendWith(kdrec.gpu.RequiresGpu.class)
    void distillAndEvalOnTheGpu() throws Exception {
        Path out = dir.resolve("gpu");
        Result r = run(gpuDistill(out));
        assertEquals(0, r.code, r.err);
        String log = Files.readString(out.resolve("log"));
        assertTrue(log.contains("device: ") && log.contains("BPR + RCE-KD"), log);
        Result eval = run("eval", "--data", DATA, "--checkpoint", out.resolve("best.safetensors").toString(), "--device", "cuda");
        assertEquals(0, eval.code, eval.err);
        // what the device does not run is refused before a run directory exists
        Path cd = dir.resolve("gpu-cd");
        Result refused = run("distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "freqd", "--student", "hstu", "--device", "cuda",
                "--out", cd.toString());
        assertEquals(2, refused.code, refused.err); // a method the student cannot take: a flag mistake
        assertTrue(refused.err.contains("freqd distils from the student's raw user and item tables: it needs an mf or lightgcn student, not hstu"), refused.err);
        assertTrue(!Files.exists(cd), "no run directory is left behind");
        Path lazyHstu = dir.resolve("gpu-lazy-hstu");
        Result lazyRefused = run("train", "--data", DATA, "--model", "hstu", "--dim", "8", "--device", "cuda", "--set", "lazy_adam=true",
                "--out", lazyHstu.toString());
        assertEquals(1, lazyRefused.code);
        assertTrue(lazyRefused.err.contains("lazy_adam=true runs with --device cpu"), lazyRefused.err);
        assertTrue(!Files.exists(lazyHstu), "no run directory is left behind");
        // lazy Adam runs on the device too
        Path lazyOut = dir.resolve("gpu-lazy");
        String[] lazyArgs = java.util.Arrays.copyOf(gpuDistill(lazyOut), gpuDistill(lazyOut).length + 2);
        lazyArgs[lazyArgs.length - 2] = "--set";
        lazyArgs[lazyArgs.length - 1] = "lazy_adam=true";
        Result lazy = run(lazyArgs);
        assertEquals(0, lazy.code, lazy.err);
        assertTrue(Files.exists(lazyOut.resolve("best.safetensors")), "the lazy run's best checkpoint");
    }

    @Test
    void badPathsAndCheckpointsSayWhatIsWrongInOneLine() throws Exception {
        Path plain = dir.resolve("plain.safetensors");
        kdrec.train.Safetensors.write(plain, java.util.Map.of("user", kdrec.tensor.Tensor.zeros(2, 2)));
        Path file = Files.writeString(dir.resolve("afile"), "x");
        String[][] cases = {
                {"distill", "--data", DATA, "--teacher", dir.resolve("t").toString(), "--method", "rcekd", "--out", dir.resolve("x1").toString()},
                {"distill", "--data", DATA, "--teacher", plain.toString(), "--method", "rcekd", "--out", dir.resolve("x2").toString()},
                {"eval", "--data", DATA, "--checkpoint", dir.resolve("t").toString()},
                {"train", "--data", DATA, "--epochs", "1", "--out", "/"},
                {"train", "--data", DATA, "--epochs", "1", "--out", file.resolve("sub").toString()}};
        String[] want = {"is a folder; give a checkpoint such as", "not a kdrec model checkpoint: its __metadata__ has no 'dataset_fingerprint'",
                "is a folder, not a safetensors file", "not the file system root", file + " is a file, not a folder"};
        for (int c = 0; c < cases.length; c++) {
            Result r = run(cases[c]);
            assertEquals(1, r.code, String.join(" ", cases[c]) + "\n" + r.err);
            assertTrue(r.err.contains(want[c]) && !r.err.contains("\tat "), String.join(" ", cases[c]) + "\n" + r.err);
        }
        for (String x : new String[] {"x1", "x2"}) assertFalse(Files.exists(dir.resolve(x)), x + ": nothing left behind");
    }

    /** Command-line mistakes: one line naming the mistake and where the usage is, exit 2; a misspelt option gets the close ones. */
    @Test
    void usageErrorsAreOneLine() {
        String[][] cases = {
                {"train", "--data", DATA, "--dimm", "16", "--out", dir.resolve("u1").toString()},
                {"train", "--data", DATA, "--dim", "abc", "--out", dir.resolve("u2").toString()},
                {"distill", "--data", DATA, "--method", "rcekd", "--out", dir.resolve("u3").toString()},
                {"train", "--data", DATA, "--bogus", "--out", dir.resolve("u4").toString()},
                {"train", "--data", DATA, "--out", dir.resolve("u5").toString(), "--lr", "-0.1"},
                // values refused after parsing, by the settings and the method: the same answer
                {"train", "--data", DATA, "--epochs", "1", "--set", "lr=Infinity", "--out", dir.resolve("u6").toString()},
                {"distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "htd", "--student", "hstu", "--out", dir.resolve("u7").toString()}};
        String[] want = {"kdrec train: unknown option '--dimm' (did you mean --dim", "kdrec train: Invalid value for option '--dim'",
                "kdrec distill: Missing required option: '--teacher", "kdrec train: unknown option '--bogus'", "kdrec train: unknown option '--lr'",
                "kdrec train: --set: lr must be a finite number",
                "kdrec distill: htd distils from the student's raw user and item tables: it needs an mf or lightgcn student, not hstu"};
        for (int c = 0; c < cases.length; c++) {
            Result r = run(cases[c]);
            assertEquals(2, r.code, String.join(" ", cases[c]) + "\n" + r.err);
            assertTrue(r.err.startsWith(want[c]), String.join(" ", cases[c]) + "\n" + r.err);
            assertEquals(1, r.err.strip().lines().count(), "one line: " + r.err);
            assertTrue(r.err.strip().endsWith("--help'"), r.err);
        }
        for (String u : new String[] {"u6", "u7"}) assertFalse(Files.exists(dir.resolve(u)), u + ": nothing left behind");
        Result noSub = run("data");
        assertEquals(2, noSub.code);
        assertTrue(noSub.err.contains("needs a subcommand") && noSub.err.contains("Usage: kdrec data"), noSub.err);
    }
}
