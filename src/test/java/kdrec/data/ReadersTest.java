package kdrec.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every reader on small files, and every malformed-input case naming file, line and problem. */
class ReadersTest {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    private static void assertNames(DataFormatException e, Path file, int line, String fragment) {
        String m = e.getMessage();
        assertTrue(m.startsWith(file + (line > 0 ? ":" + line : "")), "names file and line: " + m);
        assertTrue(m.contains(fragment), "says '" + fragment + "': " + m);
    }

    @Test
    void csvWithHeaderRemapsIdsInFirstAppearanceOrder() throws IOException {
        Path f = write("r.csv", "userId,movieId,rating,timestamp\nalice,m9,4.5,30\nbob,m1,3,10\nalice,m1,5,20\n");
        Interactions in = Readers.delimited(f);
        assertEquals(3, in.size());
        assertEquals(2, in.userIds().size());
        assertEquals("m9", in.itemIds().original(0));
        assertEquals(1, in.item(1));
        assertEquals(4.5f, in.rating(0));
        assertEquals(20L, in.timestamp(2));
    }

    @Test
    void quotedCsvFieldsAreUnquoted() throws IOException {
        // spreadsheet exports quote fields: "1" and 1 are one user; a quoted field may hold the delimiter or ""
        Interactions in = Readers.delimited(write("q.csv", "\"user\",\"item\",\"rating\"\n\"1\",\"a,b\",\"5\"\n1,\"x\"\"y\",4\n\"2\",c,3\n"));
        assertEquals(3, in.size());
        assertEquals(2, in.userIds().size());
        assertEquals("a,b", in.itemIds().original(0));
        assertEquals("x\"y", in.itemIds().original(1));
        assertEquals(5f, in.rating(0));
        assertEquals(4, Readers.split("1,\"a\"b,2,", ',', 4).length, "a quote inside a field: split plainly");
        assertEquals(java.util.List.of("1", "", ""), java.util.List.of(Readers.split("\"1\",,", ',', 3)));
        // a quote that never closes is an error naming the file, the line and the field, not a new id "1
        Path open = write("open.csv", "user,item\n1,2\n\"1,3\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(open)), open, 3, "the quote opening field 1 never closes");
    }

    @Test
    void tsvIsSniffedAndRatingIsOptional() throws IOException {
        Interactions in = Readers.delimited(write("r.tsv", "item\tuser\n7\t1\n8\t1\n"));
        assertEquals(2, in.size());
        assertFalse(in.hasRating());
        assertEquals("1", in.userIds().original(in.user(0)));
    }

    @Test
    void malformedDelimitedFilesNameFileAndLine() throws IOException {
        Path cols = write("a.csv", "user,item,rating\n1,2,3\n1,2\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(cols)), cols, 3, "expected 3 columns");
        Path rating = write("b.csv", "user,item,rating\n1,2,five\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(rating)), rating, 2, "rating must be a number");
        Path ts = write("c.csv", "user,item,timestamp\n1,2,yesterday\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(ts)), ts, 2, "timestamp must be an integer");
        Path header = write("d.csv", "a,b\n1,2\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(header)), header, 1, "header must name a user column");
        Path missing = dir.resolve("nope.csv");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(missing)), missing, 0, "no such file");
    }

    @Test
    void movieLensBothFormats() throws IOException {
        Interactions u = Readers.movieLens(write("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n"));
        assertEquals(2, u.size());
        assertEquals(881250949L, u.timestamp(0));
        Interactions r = Readers.movieLens(write("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n"));
        assertEquals(5f, r.rating(0));
        Path bad = write("bad.dat", "1::1193::5\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.movieLens(bad)), bad, 1, "expected 4 fields");
    }

    @Test
    void splitFolderTxtKeepsDenseIdsAsGiven() throws IOException {
        Path d = Files.createDirectory(dir.resolve("split"));
        Files.writeString(d.resolve("train.txt"), "USER\tITEM\n0\t0\n0\t2\n1\t1\n");
        Files.writeString(d.resolve("valid.txt"), "USER\tITEM\n0\t1\n");
        Files.writeString(d.resolve("test.txt"), "USER\tITEM\n2\t4\n");
        Dataset ds = SplitReaders.splitFolder(d);
        assertEquals(3, ds.users());
        assertEquals(5, ds.items());
        assertArrayEquals(new int[] {0, 2, 3, 3}, ds.train().ptr());
        assertTrue(ds.hasValid());
        assertTrue(ds.test().contains(2, 4));
        Files.writeString(d.resolve("test.txt"), "USER\tITEM\n2\tx\n");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.splitFolder(d)), d.resolve("test.txt"), 2, "ITEM must be");
    }

    @Test
    void splitFolderCsvSharesOneIdMap() throws IOException {
        Path d = Files.createDirectory(dir.resolve("csvsplit"));
        Files.writeString(d.resolve("train.csv"), "user,item\n10,100\n20,200\n");
        Files.writeString(d.resolve("test.csv"), "user,item\n20,100\n");
        Dataset ds = SplitReaders.splitFolder(d);
        assertFalse(ds.hasValid());
        assertTrue(ds.test().contains(1, 0), "user 20 and item 100 map to the same dense ids in both files");
    }

    @Test
    void lightGcnFolder() throws IOException {
        Path d = Files.createDirectory(dir.resolve("lgcn"));
        Files.writeString(d.resolve("train.txt"), "0 1 2 3\n1 0\n2 3 1\n");
        Files.writeString(d.resolve("test.txt"), "0 4\n2 0\n");
        Dataset ds = Datasets.load(d.toString(), Preprocess.defaults());
        assertEquals(3, ds.users());
        assertEquals(5, ds.items());
        assertEquals(6, ds.train().nnz());
        assertTrue(ds.test().contains(0, 4));
        // a folder's splits are used as given: preprocessing switches are refused, not silently ignored
        var e = assertThrows(IllegalArgumentException.class, () -> Datasets.load(d.toString(), new Preprocess(null, 2, 0, true)));
        assertTrue(e.getMessage().contains("used as given") && e.getMessage().contains("--kcore-users"), e.getMessage());
        // a valid.txt in the same line format is the validation split (it used to be dropped without a word)
        Files.writeString(d.resolve("valid.txt"), "0 2\n1 4\n");
        Dataset withValid = Datasets.load(d.toString(), Preprocess.defaults());
        assertEquals(2, withValid.valid().nnz());
        assertTrue(withValid.valid().contains(1, 4));
        // split files whose train.txt forgot the header: the error names the file that lacks it
        Files.writeString(d.resolve("valid.txt"), "USER\tITEM\n0\t2\n");
        var noHeader = assertThrows(DataFormatException.class, () -> Datasets.load(d.toString(), Preprocess.defaults()));
        assertTrue(noHeader.getMessage().contains("train.txt") && noHeader.getMessage().contains("valid.txt has one"), noHeader.getMessage());
        Files.delete(d.resolve("valid.txt"));
        Files.writeString(d.resolve("test.txt"), "0 2147483647\n");
        var huge = assertThrows(DataFormatException.class, () -> Datasets.load(d.toString(), Preprocess.defaults()));
        assertTrue(huge.getMessage().contains("test.txt:1") && huge.getMessage().contains("too large"), huge.getMessage());
        Files.writeString(d.resolve("test.txt"), "USER\tITEM\n0\t4\n");
        var half = assertThrows(DataFormatException.class, () -> Datasets.load(d.toString(), Preprocess.defaults()));
        assertTrue(half.getMessage().contains("test.txt has one"), half.getMessage());
    }

    @Test
    void unknownSpecListsWhatIsAccepted() {
        var e = assertThrows(IllegalArgumentException.class, () -> Datasets.load("no/such/thing", Preprocess.defaults()));
        assertTrue(e.getMessage().contains("insteval") && e.getMessage().contains("synthetic"), e.getMessage());
    }
}
