package kdrec.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Whole-file writes that either fully happen or leave the old file untouched: the content goes to a
 * temporary file in the target's directory (same file system, so the rename is atomic), is forced to
 * disk, and is renamed over the target with {@code ATOMIC_MOVE}. On any failure, including runtime
 * exceptions from the body, the temporary file is deleted and the exception propagates. A crash at
 * any moment leaves either the old or the new file, plus at worst a stray {@code .NAME.*.tmp}, which
 * {@link #removeStrays} deletes when a run is resumed.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes the content of a file through a channel. */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel channel) throws IOException;
    }

    private static final java.util.regex.Pattern STRAY = java.util.regex.Pattern.compile("\\..+\\.\\d+\\.tmp");

    /** Whether a file name is one of {@link #write}'s temporary files. */
    public static boolean isStray(String fileName) {
        return STRAY.matcher(fileName).matches();
    }

    /**
     * Deletes the temporary files a crash left in {@code dir} ({@code .NAME.DIGITS.tmp}, as {@link #write}
     * names them); returns how many. For a directory no other process writes to at the moment.
     */
    public static int removeStrays(Path dir) throws IOException {
        int n = 0;
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS) && STRAY.matcher(f.getFileName().toString()).matches()) {
                    Files.deleteIfExists(f);
                    n++;
                }
            }
        }
        return n;
    }

    /** Atomically replaces (or creates) {@code target} with what {@code body} writes. */
    public static void write(Path target, Body body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = createTemp(dir, "." + abs.getFileName() + ".");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.write(ch);
                ch.force(true);
            }
            keepTargetPermissions(tmp, abs);
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                t.addSuppressed(e);
            }
            throw t;
        }
        syncDirectory(dir);
    }

    /**
     * The temporary file, created with the permissions a new file gets here (rw-rw-rw- less the umask,
     * as the run's log and metrics.csv; createTempFile's own default is owner-only 0600).
     */
    private static Path createTemp(Path dir, String prefix) throws IOException {
        try {
            return Files.createTempFile(dir, prefix, ".tmp",
                    java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-")));
        } catch (UnsupportedOperationException e) { // not a POSIX file system
            return Files.createTempFile(dir, prefix, ".tmp");
        }
    }

    /** A file that replaces another keeps that one's permissions (best effort: some mounts refuse chmod). */
    private static void keepTargetPermissions(Path tmp, Path target) {
        try {
            if (Files.exists(target)) Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(target));
        } catch (UnsupportedOperationException | IOException e) {
            // the temporary file's own permissions stand
        }
    }

    /** Atomically replaces (or creates) {@code target} with {@code content} in UTF-8. */
    public static void writeString(Path target, String content) throws IOException {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        write(target, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /** Writes all remaining bytes of {@code buf} (a channel may write fewer per call). */
    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /** Makes the rename itself durable where the platform allows opening a directory (Linux does). */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not supported on this platform/file system: the rename is still atomic, only its durability
            // across a power loss is left to the OS
        }
    }
}
