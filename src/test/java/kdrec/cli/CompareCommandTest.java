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
import java.util.ArrayList;
import java.util.List;
import kdrec.kd.compare.RunResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kdrec compare} end to end on a tiny synthetic set: outputs, table rows, resume and its refusals. */
class CompareCommandTest {
    static final String DATA = "synthetic:users=40,items=30,per_user=6,clusters=3,seed=5";

    @TempDir
    static Path dir;

    static Path teacher;

    @BeforeAll
    static void trainTeacher() {
        assertEquals(0, run("train", "--data", DATA, "--dim", "8", "--epochs", "3", "--out", dir.resolve("t").toString()).code);
        teacher = dir.resolve("t").resolve("best.safetensors");
        assertTrue(Files.isRegularFile(teacher));
    }

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        PrintStream oldErr = System.err, oldOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream(), out = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            return new Result(Main.exec(args), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
    }

    static String[] compare(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("compare", "--data", DATA, "--teacher", teacher.toString(), "--methods", "scratch,rcekd",
                "--seeds", "2", "--seed-base", "3", "--epochs", "2", "--dim", "8", "--set", "rcekd.K=5", "--set", "rcekd.M=10", "--set", "rcekd.L=3",
                "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void comparesWritesTheTableAndResumes() throws Exception {
        Path out = dir.resolve("C");
        Result r = run(compare(out));
        assertEquals(0, r.code, r.err);
        for (String f : new String[] {"table.md", "table.csv", "valid_ndcg10.png", "config.yaml", "log"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        byte[] png = Files.readAllBytes(out.resolve("valid_ndcg10.png"));
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
        for (String m : new String[] {"scratch", "rcekd"}) {
            for (int s : new int[] {3, 4}) {
                Path run = out.resolve("runs").resolve(m).resolve("seed" + s);
                for (String f : new String[] {"result.json", "metrics.csv", "config.yaml", "log", "last.safetensors"}) {
                    assertTrue(Files.isRegularFile(run.resolve(f)), run.resolve(f).toString());
                }
                RunResult rr = RunResult.load(run);
                assertEquals(m, rr.method());
                assertEquals(s, rr.seed());
                assertTrue(Double.isFinite(rr.test().get("ndcg@10")));
            }
        }
        String md = Files.readString(out.resolve("table.md"));
        assertTrue(md.contains("| teacher mf d=8 ") && md.contains("| scratch ") && md.contains("| rcekd ") && md.contains(" ± "), md);
        assertTrue(md.contains("| seeds |"), md);
        List<String> csv = Files.readAllLines(out.resolve("table.csv"));
        assertEquals(4, csv.size(), String.join("\n", csv));
        assertTrue(csv.get(2).startsWith("scratch,2,") && csv.get(3).startsWith("rcekd,2,"), String.join("\n", csv));
        assertTrue(r.out.contains("[4/4] rcekd seed 4: best epoch"), r.out);
        String config = Files.readString(out.resolve("runs/rcekd/seed3/config.yaml"));
        assertTrue(config.contains("rcekd.k: 5"), "each run keeps its method's resolved settings:\n" + config);

        // resume: finished runs are read back, not retrained
        Path done = out.resolve("runs/scratch/seed3/metrics.csv");
        String before = Files.readString(done);
        long stamp = Files.getLastModifiedTime(out.resolve("runs/scratch/seed3/result.json")).toMillis();
        Result again = run(compare(out, "--resume"));
        assertEquals(0, again.code, again.err);
        assertEquals(4, again.out.lines().filter(l -> l.contains(": finished earlier")).count(), again.out);
        assertFalse(again.out.contains(": training"), again.out);
        assertEquals(before, Files.readString(done));
        assertEquals(stamp, Files.getLastModifiedTime(out.resolve("runs/scratch/seed3/result.json")).toMillis());

        // an interrupted run (no result.json) continues from its last checkpoint
        Files.delete(out.resolve("runs/rcekd/seed4/result.json"));
        Result partial = run(compare(out, "--resume"));
        assertEquals(0, partial.code, partial.err);
        assertTrue(partial.out.contains("rcekd seed 4: resuming from"), partial.out);
        assertTrue(Files.isRegularFile(out.resolve("runs/rcekd/seed4/result.json")));

        // another spelling of the same settings resumes; another value is refused, naming the run
        String[] respelled = compare(out, "--resume");
        for (int i = 0; i < respelled.length; i++) if (respelled[i].equals("rcekd.K=5")) respelled[i] = "rcekd.k=05";
        Result same = run(respelled);
        assertEquals(0, same.code, same.err);
        for (int i = 0; i < respelled.length; i++) if (respelled[i].equals("rcekd.k=05")) respelled[i] = "rcekd.K=6";
        Result other = run(respelled);
        assertEquals(1, other.code);
        assertTrue(other.err.contains("rcekd.k") && other.err.contains("seed3"), other.err);
        assertFalse(other.out.contains("teacher ") || other.out.contains(": training"), "refused before anything runs: " + other.out);

        // a comparison from before 2026-12-06 recorded the raw --set text in its config.yaml: it still resumes
        Path top = out.resolve("config.yaml");
        Files.writeString(top, Files.readString(top) + "set:\n  rcekd.K: '5'\n");
        Result legacy = run(compare(out, "--resume"));
        assertEquals(0, legacy.code, legacy.err);

        // without --resume or --overwrite an existing comparison is refused
        Result refused = run(compare(out));
        assertEquals(1, refused.code);
        assertTrue(refused.err.contains("--resume") && refused.err.contains("--overwrite"), refused.err);
        // different shared settings are refused on resume
        Result changed = run(compare(out, "--resume", "--patience", "7"));
        assertEquals(1, changed.code);
        assertTrue(changed.err.contains("patience"), changed.err);
    }

    @Test
    @org.junit.jupiter.api.Tag("gpu")
    @org.junit.jupiter.api.extension.ExtendWith(kdrec.gpu.RequiresGpu.class)
    void comparesOnTheGpuAndRefusesWhatItCannotRunUpFront() throws Exception {
        Path out = dir.resolve("C-gpu");
        Result r = run(compare(out, "--device", "cuda"));
        assertEquals(0, r.code, r.err);
        assertTrue(Files.isRegularFile(out.resolve("table.md")));
        assertTrue(Files.readString(out.resolve("runs/rcekd/seed3/log")).contains("BPR + RCE-KD"), "the runs trained on the device");
        Path bad = dir.resolve("C-gpu-cd");
        Result refused = run("compare", "--data", DATA, "--teacher", dir.resolve("t/best.safetensors").toString(), "--methods", "scratch,freqd", "--student", "hstu",
                "--device", "cuda", "--out", bad.toString());
        assertEquals(2, refused.code, refused.err); // a method the student cannot take: a flag mistake
        assertTrue(refused.err.contains("freqd distils from the student's raw user and item tables: it needs an mf or lightgcn student, not hstu"), refused.err);
        assertFalse(Files.exists(bad), "nothing is created before the check");
        // HSTU students, scratch and distilled, train on the device (DeviceSequenceTraining)
        Path hstu = dir.resolve("C-gpu-hstu");
        Result both = run("compare", "--data", DATA, "--teacher", dir.resolve("t/best.safetensors").toString(), "--methods", "scratch,rcekd", "--student", "hstu",
                "--seeds", "1", "--epochs", "2", "--set", "rcekd.K=5", "--set", "rcekd.M=10", "--set", "rcekd.L=3", "--device", "cuda", "--out", hstu.toString());
        assertEquals(0, both.code, both.err);
        String log = Files.readString(hstu.resolve("runs/scratch/seed0/log"));
        assertTrue(log.contains("hstu parameters, gradients and Adam state resident"), log);
        String kdLog = Files.readString(hstu.resolve("runs/rcekd/seed0/log"));
        assertTrue(kdLog.contains("hstu parameters, gradients and Adam state resident") && kdLog.contains("RCE-KD"), kdLog);
    }

    /** compare --overwrite on a train run deleted it, and train --overwrite replaced a whole comparison. */
    @Test
    void aFolderHoldingAnotherKindOfRunIsNeitherResumedNorOverwritten() throws Exception {
        Path trained = dir.resolve("T-kind");
        Files.createDirectories(trained);
        for (String f : new String[] {"config.yaml", "best.safetensors"}) Files.copy(dir.resolve("t").resolve(f), trained.resolve(f));
        for (String flag : new String[] {"--resume", "--overwrite", ""}) { // "": neither flag
            Result r = run(compare(trained, flag.isEmpty() ? new String[0] : new String[] {flag}));
            assertEquals(1, r.code, flag + ": " + r.err);
            assertEquals("kdrec compare: " + trained + " holds a train run, not a comparison; choose another --out", r.err.strip());
        }
        Result distill = run("distill", "--data", DATA, "--teacher", teacher.toString(), "--method", "ce", "--out", trained.toString(), "--overwrite");
        assertEquals(1, distill.code, distill.err);
        assertTrue(distill.err.contains(trained + " holds a train run, not a distill run"), distill.err);
        assertTrue(Files.isRegularFile(trained.resolve("best.safetensors")), "the train run is kept");
        // a comparison's folder (as every version wrote it: the shared student settings, no model of its own)
        Path comparison = dir.resolve("C-kind");
        Files.createDirectories(comparison.resolve("runs"));
        Files.writeString(comparison.resolve("config.yaml"), "data:\n  spec: x\nteacher: t.safetensors\nstudent:\n  model: mf\n  dim: 8\npreset: null\n");
        Files.writeString(comparison.resolve("table.md"), "# a table\n");
        for (String flag : new String[] {"--resume", "--overwrite"}) {
            Result r = run("train", "--data", DATA, "--dim", "8", "--epochs", "1", "--out", comparison.toString(), flag);
            assertEquals(1, r.code, flag + ": " + r.err);
            assertEquals("kdrec train: " + comparison + " holds a comparison, not a train run; choose another --out", r.err.strip());
        }
        assertTrue(Files.isRegularFile(comparison.resolve("table.md")), "the comparison is kept");
    }

    @Test
    void badFlagsSayWhatIsAllowed() {
        Result unknown = run("compare", "--data", DATA, "--teacher", teacher.toString(), "--methods", "scratch,magic", "--out",
                dir.resolve("x").toString());
        assertEquals(2, unknown.code);
        assertTrue(unknown.err.contains("unknown method 'magic'") && unknown.err.contains("allowed: scratch, ") && unknown.err.contains("rcekd"), unknown.err);
        Result foreign = run("compare", "--data", DATA, "--teacher", teacher.toString(), "--methods", "scratch,rcekd", "--set", "ce.k=3",
                "--out", dir.resolve("y").toString());
        assertEquals(2, foreign.code);
        assertTrue(foreign.err.contains("'ce' is not among --methods"), foreign.err);
        Result ours = run("compare", "--data", DATA, "--teacher", teacher.toString(), "--methods", "scratch", "--ours", "rcekd",
                "--out", dir.resolve("z").toString());
        assertEquals(2, ours.code);
        assertTrue(ours.err.contains("--ours"), ours.err);
        // a value only the method's distiller checks, for a method after scratch: refused before scratch trains
        Result late = run("compare", "--data", DATA, "--teacher", teacher.toString(), "--methods", "scratch,ce", "--set", "ce.guide=foo",
                "--out", dir.resolve("w").toString());
        assertEquals(1, late.code, "checked as the objective is built, with the teacher and the data");
        assertTrue(late.err.contains("ce.guide must be"), late.err);
        assertFalse(Files.exists(dir.resolve("x")) || Files.exists(dir.resolve("y")) || Files.exists(dir.resolve("z"))
                || Files.exists(dir.resolve("w")), "nothing is written before the plan is valid");
    }
}
