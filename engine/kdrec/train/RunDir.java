package kdrec.train;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One run's output directory, {@code ROOT/NAME} (ROOT is usually {@code runs}):
 * <pre>
 *   config.yaml   every resolved setting (written atomically when the run is created)
 *   log           the run log: every console line, appended, flushed per line ({@link RunLog})
 *   metrics.csv   one row per evaluation ({@link MetricsCsv})
 *   *.safetensors checkpoints the training loop writes via {@link #file(String)}
 * </pre>
 * {@link #open} creates the directory; if it exists, it is <em>resumed</em> when its config.yaml equals
 * the new config (after a YAML round trip, so 64 and 64L compare equal), refused with a message
 * listing the differing settings otherwise, or, when asked to overwrite, replaced; a folder holding another
 * {@link Kind} of run (a comparison where a train run is opened) is neither. Only a directory
 * holding a config.yaml (or an empty one) is ever deleted, so a mistyped name cannot wipe unrelated files.
 *
 * <p>Nothing half-made is left behind, and an overwrite loses nothing until its replacement exists: the
 * run being overwritten is moved aside to {@code ROOT/.NAME.replaced}; {@link #close} deletes it once the
 * new run holds something of its own (a checkpoint, a sub-run) or was marked {@link #completed}. A new
 * run that fails before that (a setting only its method checks, a teacher that does not fit) is deleted
 * by {@link #close} and the run it was to replace moved back. A resumed run is never deleted, except one
 * that resumes an overwrite a crash interrupted (the replaced run still aside) and again ends holding
 * nothing: it is settled as that overwrite would have been. Resuming also removes the temporary files a
 * crash left mid-write ({@link AtomicFiles#removeStrays}). Every step of an overwrite and of a settle is one
 * rename, a folder creation or an atomic write, and a run is deleted by renaming it to {@code .NAME.discarded}
 * first, so {@link #open} can undo what a crash between two steps left (see {@code repair}).
 * config.yaml itself is written, read and compared by {@link RunConfig}.
 */
public final class RunDir implements AutoCloseable {
    public static final String CONFIG_FILE = "config.yaml";
    public static final String LOG_FILE = "log";
    public static final String METRICS_FILE = "metrics.csv";

    private final Path path;
    private final boolean resumed;
    private final Map<String, Object> config;
    private final RunLog log;
    private final Path replaced; // the overwritten run, moved aside until this one holds something (or null)
    private MetricsCsv metrics;
    private boolean completed;

    private RunDir(Path path, boolean resumed, Map<String, Object> config, PrintStream console, Path replaced) throws IOException {
        this.path = path;
        this.resumed = resumed;
        this.config = config;
        this.replaced = replaced;
        this.log = new RunLog(path.resolve(LOG_FILE), console);
    }

    /** {@link #open(Path, String, Map, boolean, PrintStream)} logging to {@code System.out}. */
    public static RunDir open(Path root, String name, Map<String, ?> config, boolean overwrite) throws IOException {
        return open(root, name, config, overwrite, System.out);
    }

    /**
     * Creates or resumes {@code root/name}.
     *
     * @param config    every resolved setting; written to config.yaml on creation, compared on resume
     * @param overwrite delete an existing run of that name (with a different config) and start afresh
     * @param console   where the run log echoes lines; null for the file only
     * @throws FileAlreadyExistsException when the directory exists and is not a resumable run of the same
     *                                    config (the message says which settings differ)
     */
    public static RunDir open(Path root, String name, Map<String, ?> config, boolean overwrite, PrintStream console) throws IOException {
        checkName(name);
        Path dir = root.resolve(name);
        Map<String, Object> normalized = RunConfig.normalizeMap(config);
        Path cfg = dir.resolve(CONFIG_FILE);
        String repaired = repair(dir);
        RunDir run = openRepaired(dir, cfg, normalized, overwrite, console);
        if (repaired != null) run.log.line(repaired);
        return run;
    }

    /**
     * Undoes what a crash in the middle of an open or a settle left (each step of those is one rename,
     * a directory creation or an atomic write): a config.yaml half-written in a fresh folder (only its
     * temporary file there), a run moved aside whose replacement was never made or was already
     * discarded (moved back), a discarded run not yet deleted. Returns a line for the log, or null.
     */
    private static String repair(Path dir) throws IOException {
        Path aside = replacedPath(dir);
        for (Path trash : new Path[] {discardedPath(dir), discardedPath(aside)}) if (Files.exists(trash)) deleteTree(trash);
        if (Files.isDirectory(dir) && !Files.isRegularFile(dir.resolve(CONFIG_FILE)) && onlyStrays(dir)) AtomicFiles.removeStrays(dir);
        if (Files.isRegularFile(aside.resolve(CONFIG_FILE)) && (!Files.exists(dir) || isEmptyDir(dir))) {
            if (Files.exists(dir)) Files.delete(dir);
            Files.move(aside, dir);
            return "put back the run that an interrupted --overwrite had moved to " + aside;
        }
        return null;
    }

    /** What a run folder holds, as the commands that write one name it. */
    public enum Kind {
        TRAIN("a train run"), DISTILL("a distill run"), COMPARISON("a comparison");

        private final String description;

        Kind(String description) {
            this.description = description;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    /**
     * The kind of run a config.yaml describes, from the keys each command has always written (so folders of
     * earlier versions are recognised): a comparison's shared {@code student} settings, a distill run's
     * {@code method}, a train run's {@code model}; null for none of these (a library caller's own config).
     */
    public static Kind kindOf(Map<String, ?> config) {
        if (config.containsKey("student") && !config.containsKey("model")) return Kind.COMPARISON;
        if (config.containsKey("method")) return Kind.DISTILL;
        if (config.containsKey("model")) return Kind.TRAIN;
        return null;
    }

    /**
     * Refuses {@code dir} when its config.yaml describes another kind of run than {@code kind}: resuming it
     * cannot work and overwriting it would delete what another command made (a comparison's every run).
     */
    public static void refuseOtherKind(Path dir, Kind kind) throws IOException {
        Path cfg = dir.resolve(CONFIG_FILE);
        if (kind == null || !Files.isRegularFile(cfg)) return;
        Kind there;
        try {
            there = kindOf(RunConfig.readConfig(cfg));
        } catch (IOException e) { // not a mapping: whoever reads it next says so, and --overwrite may still replace it
            return;
        }
        if (there != null && there != kind) throw new IllegalArgumentException(dir + " holds " + there + ", not " + kind + "; choose another --out");
    }

    private static RunDir openRepaired(Path dir, Path cfg, Map<String, Object> normalized, boolean overwrite, PrintStream console) throws IOException {
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) throw new FileAlreadyExistsException(dir.toString(), null, "exists and is not a directory");
            refuseOtherKind(dir, kindOf(normalized));
            boolean isRun = Files.isRegularFile(cfg);
            boolean empty;
            try (Stream<Path> s = Files.list(dir)) {
                empty = s.findAny().isEmpty();
            }
            if (isRun && !overwrite) {
                Map<String, Object> wanted = RunConfig.roundTrip(normalized);
                Map<String, Object> existing = RunConfig.comparable(RunConfig.readConfig(cfg), wanted);
                if (existing.equals(wanted)) {
                    int strays = AtomicFiles.removeStrays(dir);
                    // an --overwrite that a crash interrupted left the run it replaced aside: this resume
                    // continues that overwrite, so the old run goes back if this one ends holding nothing
                    Path aside = replacedPath(dir);
                    boolean pending = Files.isDirectory(aside) && (Files.isRegularFile(aside.resolve(CONFIG_FILE)) || isEmptyDir(aside));
                    if (pending && !onlyBookkeeping(dir)) { // it got a checkpoint before the crash: the replaced run goes now
                        discard(aside);
                        pending = false;
                    }
                    RunDir run = new RunDir(dir, true, normalized, console, pending ? aside : null);
                    if (strays > 0) run.log.line("removed " + strays + " temporary file(s) a crash left in " + dir);
                    if (pending) {
                        run.log.line("resuming an interrupted --overwrite: the run it replaces waits in " + aside
                                + " until this one writes a checkpoint (it goes back if this one ends with none)");
                    }
                    return run;
                }
                Path aside = replacedPath(dir);
                if (Files.isRegularFile(aside.resolve(CONFIG_FILE)) && onlyBookkeeping(dir)
                        && RunConfig.comparable(RunConfig.readConfig(aside.resolve(CONFIG_FILE)), wanted).equals(wanted)) {
                    // an --overwrite with other settings was cut short before it held anything, and this is the
                    // run it was replacing, asked for again: that run comes back and resumes
                    discard(dir);
                    Files.move(aside, dir);
                    RunDir run = new RunDir(dir, true, normalized, console, null);
                    run.log.line("put back the run that an interrupted --overwrite had moved to " + aside + ", and resumed it");
                    return run;
                }
                throw new FileAlreadyExistsException(dir.toString(), null, "holds a run with a different config ("
                        + RunConfig.describeDifferences(existing, wanted) + "); choose another name, or overwrite it"
                        + (Files.isRegularFile(aside.resolve(CONFIG_FILE)) ? " (" + aside + " holds the run an interrupted --overwrite replaced)" : ""));
            }
            if (!isRun && !empty) {
                throw new FileAlreadyExistsException(dir.toString(), null, "exists and is not a kdrec run (no " + CONFIG_FILE
                        + "); refusing to use or delete it");
            }
            if (isRun) {
                Path aside = replacedPath(dir);
                if (Files.exists(aside)) {
                    // a backup an interrupted overwrite left: only ever a run (or empty), like any directory deleted here
                    if (!Files.isRegularFile(aside.resolve(CONFIG_FILE)) && !isEmptyDir(aside)) {
                        throw new FileAlreadyExistsException(aside.toString(), null, "exists and is not a kdrec run; refusing to delete it");
                    }
                    if (Files.isRegularFile(aside.resolve(CONFIG_FILE)) && onlyBookkeeping(dir)) {
                        // that overwrite was cut short before its run held anything: the run it was replacing
                        // is still the one this overwrite replaces, so it stays aside and the empty attempt goes
                        discard(dir);
                        return startReplacing(dir, cfg, normalized, console, aside);
                    }
                    discard(aside);
                }
                Files.move(dir, aside);
                return startReplacing(dir, cfg, normalized, console, aside);
            }
        }
        Files.createDirectories(dir);
        RunConfig.writeConfig(cfg, normalized);
        return new RunDir(dir, false, normalized, console, null);
    }

    /** Creates the new run in {@code dir} while the run it replaces waits in {@code aside}; on failure that one goes back. */
    private static RunDir startReplacing(Path dir, Path cfg, Map<String, Object> normalized, PrintStream console, Path aside) throws IOException {
        try {
            Files.createDirectories(dir);
            RunConfig.writeConfig(cfg, normalized);
            return new RunDir(dir, false, normalized, console, aside);
        } catch (IOException | RuntimeException e) { // the new run never started: the old one goes back
            try {
                if (Files.exists(dir)) discard(dir);
                Files.move(aside, dir);
            } catch (IOException back) {
                e.addSuppressed(back);
            }
            throw e;
        }
    }

    /** Where a run being deleted is renamed first, so that a crash mid-delete leaves no half run under its name. */
    static Path discardedPath(Path dir) {
        return dir.resolveSibling("." + dir.getFileName() + ".discarded");
    }

    /** Deletes a run directory: renamed aside first (one atomic step), then deleted. */
    private static void discard(Path dir) throws IOException {
        Path trash = discardedPath(dir);
        if (Files.exists(trash)) deleteTree(trash);
        Files.move(dir, trash);
        deleteTree(trash);
    }

    private static boolean onlyStrays(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.allMatch(p -> AtomicFiles.isStray(p.getFileName().toString()));
        }
    }

    /**
     * The folder a run at {@code out} lives in, created, after checking that {@code out} can be a run
     * folder (not the file system root, no file where a folder must be) and repairing what a crash left
     * there (see {@code repair}).
     */
    public static Path prepareParent(Path out) throws IOException {
        Path abs = out.toAbsolutePath().normalize();
        if (abs.getFileName() == null || abs.getParent() == null) {
            throw new IllegalArgumentException("run folder " + out + ": a run needs a folder of its own (such as runs/NAME), not the file system root");
        }
        if (Files.exists(abs) && !Files.isDirectory(abs)) throw new IllegalArgumentException("run folder " + out + ": " + abs + " is a file, not a folder");
        for (Path p = abs.getParent(); p != null; p = p.getParent()) {
            if (Files.exists(p) && !Files.isDirectory(p)) throw new IllegalArgumentException("run folder " + out + ": " + p + " is a file, not a folder");
        }
        Files.createDirectories(abs.getParent());
        // what a crash left is repaired before the caller looks at the folder (an "already holds a run" check)
        String put = repair(abs);
        if (put != null) kdrec.tensor.Diagnostics.notice(put);
        return abs.getParent();
    }

    /** Where an overwritten run waits until its replacement holds something: a hidden sibling. */
    static Path replacedPath(Path dir) {
        return dir.resolveSibling("." + dir.getFileName() + ".replaced");
    }

    private static boolean isEmptyDir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return false;
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    /** Marks the run finished: {@link #close} keeps it, whatever it holds, and deletes the run it replaced. */
    public void completed() {
        completed = true;
    }

    private static void checkName(String name) {
        if (name == null || name.isBlank() || name.equals(".") || name.equals("..") || name.contains("/") || name.contains("\\")
                || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("run name must be a plain directory name (no '/', not '.' or '..'), got '" + name + "'");
        }
    }

    /** The run directory. */
    public Path path() {
        return path;
    }

    /** A file inside the run directory. */
    public Path file(String fileName) {
        return path.resolve(fileName);
    }

    /** True when an existing run with the same config was reopened. */
    public boolean resumed() {
        return resumed;
    }

    /** The config as written to config.yaml (normalized, ordered, unmodifiable). */
    public Map<String, Object> config() {
        return Collections.unmodifiableMap(config);
    }

    public RunLog log() {
        return log;
    }

    /** The run's metrics.csv appender (opened on first use). */
    public synchronized MetricsCsv metricsCsv() {
        if (metrics == null) {
            try {
                metrics = new MetricsCsv(path.resolve(METRICS_FILE));
            } catch (IOException e) {
                throw new UncheckedIOException("opening " + path.resolve(METRICS_FILE), e);
            }
        }
        return metrics;
    }

    /**
     * Closes the log and metrics; then a new run that was not {@link #completed} and holds nothing but
     * its config, log and metrics is deleted and the run it replaced (if any) moved back; otherwise the
     * replaced run is deleted. A resumed run is left as it is, unless it resumes an overwrite a crash
     * interrupted: then it is settled as that overwrite would have been.
     */
    @Override
    public synchronized void close() {
        try {
            if (metrics != null) metrics.close();
        } finally {
            log.close();
            settle();
        }
    }

    private void settle() {
        if (resumed && replaced == null) return;
        try {
            if (!completed && onlyBookkeeping(path)) {
                discard(path);
                if (replaced != null) Files.move(replaced, path);
            } else if (replaced != null) {
                discard(replaced);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("settling the run directory " + path + (replaced != null ? " (the replaced run is in " + replaced + ")" : ""), e);
        }
    }

    /** A run folder holding nothing of its own: config, log, metrics and temporary files a crash left. */
    private static boolean onlyBookkeeping(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                boolean nothing = Set.of(CONFIG_FILE, LOG_FILE, METRICS_FILE).contains(n) || AtomicFiles.isStray(n)
                        || (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) && emptyTree(p)); // a sub-run's folder that was discarded
                if (!nothing) return false;
            }
            return true;
        }
    }

    /** A folder holding nothing but empty folders. */
    private static boolean emptyTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.allMatch(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS));
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
