package kdrec.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.kd.Distillation;
import kdrec.train.Checkpoint;
import picocli.CommandLine.Option;

/** The teacher and student options `distill` and `compare` share (a picocli mixin). */
final class StudentOptions {
    static {
        System.setProperty("kdrec.kdMethods", String.join(", ", Distillation.methodNames()));
    }

    @Option(names = "--teacher", required = true, description = "Teacher checkpoint (e.g. runs/T/best.safetensors), trained on the same data.")
    Path teacherPath;

    @Option(names = "--student", defaultValue = "mf", description = "Student backbone: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
            completionCandidates = TrainCommand.ModelNames.class)
    String student;

    @Option(names = "--dim", description = "Student embedding size (default 20; an HSTU student under --preset: the reference's).")
    Integer dim;

    @Option(names = "--layers", description = "LightGCN student propagation layers (default 3; under --preset: the reference's).")
    Integer layers;

    @Option(names = "--preset", description = "Use the reference configs' rows for this dataset (the method's, and the student's"
            + " architecture; the scratch student's training): citeulike, gowalla, yelp. Options and --set win over it.")
    String preset;

    @Option(names = "--epochs", description = "Maximum epochs per run (default 1000).")
    Integer epochs;

    @Option(names = "--patience", description = "Early-stopping patience on valid NDCG@10 (default 30).")
    Integer patience;

    /** The student training keys these options set (model and whatever was given). */
    Map<String, Object> studentKeys() {
        Map<String, Object> keys = new LinkedHashMap<>();
        keys.put("model", student);
        if (dim != null) keys.put("dim", dim);
        if (layers != null) keys.put("layers", layers);
        if (epochs != null) keys.put("epochs", epochs);
        if (patience != null) keys.put("patience", patience);
        if (student.trim().equalsIgnoreCase("hstu")) keys.put("test_history", teacherTestHistory());
        return keys;
    }

    /**
     * The test protocol the teacher was trained under ("train" when it is not sequential or predates
     * the option): an HSTU student follows it unless --set test_history=... says otherwise, so the
     * teacher and student rows of a table are ranked alike.
     */
    private String teacherTestHistory() {
        try (Arena arena = Arena.ofConfined()) {
            return Checkpoint.load(teacher(), arena).metadata().getOrDefault("model.test_history", "train");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The teacher's backbone as its checkpoint names it (read from the header alone), so that the method's
     * settings can be checked before the data loads; null when the file cannot be read (loading it says why).
     */
    String teacherKind() {
        try (Arena arena = Arena.ofConfined()) {
            return Checkpoint.load(teacher(), arena).metadata().get(Checkpoint.KEY_MODEL);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The teacher checkpoint, checked to exist. */
    Path teacher() {
        if (Files.isDirectory(teacherPath)) {
            throw new IllegalArgumentException("--teacher: " + teacherPath + " is a folder; give a checkpoint such as " + teacherPath.resolve("best.safetensors"));
        }
        if (!Files.isRegularFile(teacherPath)) throw new IllegalArgumentException("--teacher: no such file " + teacherPath);
        return teacherPath;
    }
}
