package kdrec.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file saved in another encoding (a Latin-1 'é' is the byte 0xE9) is refused naming the file and the line that
 * holds the byte, also when that line lies far past the first buffer the decoder fills.
 */
class NonUtf8FilesTest {
    private static final String NOT_UTF8 = "not valid UTF-8 (save the file as UTF-8)";

    @TempDir
    Path dir;

    /** {@code before} as UTF-8, then the Latin-1 bytes of {@code latin1}. */
    private Path write(String name, String before, String latin1) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(before.getBytes(StandardCharsets.UTF_8));
        b.writeBytes(latin1.getBytes(StandardCharsets.ISO_8859_1));
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        Files.write(p, b.toByteArray());
        return p;
    }

    private static void assertRefused(Path file, long line, Executable read) {
        DataFormatException e = assertThrows(DataFormatException.class, read::run);
        assertEquals(file + ":" + line + ": " + NOT_UTF8, e.getMessage());
    }

    private interface Executable {
        void run() throws IOException;
    }

    @Test
    void aDelimitedFileNamesTheLineOfTheBadByte() throws IOException {
        Path small = write("latin1.csv", "user,item,rating\n", "1,café,3\n");
        assertRefused(small, 2, () -> Readers.delimited(small));
        // 20,000 good lines (far more than one decoder buffer), then the bad one: the line counted is the byte's own
        StringBuilder good = new StringBuilder("user,item\n");
        for (int i = 0; i < 20_000; i++) good.append(i).append(",é").append(i % 7).append('\n');
        Path big = write("big.csv", good.toString(), "20000,caf\u00e9\n1,2\n");
        assertRefused(big, 20_002, () -> Readers.delimited(big));
        Path header = write("header.csv", "", "usér,item\n1,2\n");
        assertRefused(header, 1, () -> Readers.delimited(header));
    }

    @Test
    void linesAreCountedAsReadLineCountsThem() throws IOException {
        Path crlf = write("crlf.csv", "user,item\r\n1,2\r\n", "3,é\r\n");
        assertRefused(crlf, 3, () -> Readers.delimited(crlf));
        Path cr = write("cr.tsv", "user\titem\r1\t2\r", "3\té\r");
        assertRefused(cr, 3, () -> Readers.delimited(cr));
        Path cut = write("u.data", "1\t2\t3\t4\n", "5\t6\t7\t8\n9\t1é");
        assertRefused(cut, 3, () -> Readers.movieLens(cut));
    }

    @Test
    void splitAndLightGcnFoldersNameTheirFile() throws IOException {
        Path csv = write("split/train.csv", "user,item\na,b\n", "c,é\n");
        write("split/test.csv", "user,item\na,b\n", "");
        assertRefused(csv, 3, () -> SplitReaders.splitFolder(csv.getParent()));
        // train.txt's first line is read to tell a split folder from a LightGCN one
        Path txt = write("lgcn/train.txt", "", "é 1 2\n");
        write("lgcn/test.txt", "0 1\n", "");
        assertRefused(txt, 1, () -> SplitReaders.isSplitFolder(txt.getParent()));
        Path test = write("lgcn2/test.txt", "0 1\n", "1 é\n");
        write("lgcn2/train.txt", "0 1\n", "");
        assertRefused(test, 2, () -> SplitReaders.lightGcnFolder(test.getParent()));
    }
}
