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
        Path twice = write("e.csv", "user,\"User\",item\n1,2,3\n"); // which one holds the ids is a guess: refused
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(twice)), twice, 1, "column 'User' appears twice");
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

    @Test
    void delimiterIsSniffedTabThenCommaThenSemicolonThenSpace() throws IOException {
        assertEquals('\t', Readers.sniff("user\titem,rating;x"));
        assertEquals(',', Readers.sniff("user,item;rating"));
        assertEquals(';', Readers.sniff("user;item rating"));
        assertEquals(' ', Readers.sniff("user item"));
        Interactions semi = Readers.delimited(write("s.csv", "uid;iid;score;ts\na;b;2.5;7\n"));
        assertEquals("a", semi.userIds().original(0));
        assertEquals("b", semi.itemIds().original(0));
        assertEquals(2.5f, semi.rating(0));
        assertEquals(7L, semi.timestamp(0));
        Interactions space = Readers.delimited(write("sp.txt", "user item\nu1 i1\nu2 i1\n"));
        assertEquals(2, space.size());
        assertEquals(1, space.itemIds().size());
    }

    @Test
    void headerColumnsAreMatchedByNameInAnyOrderFirstMatchWins() throws IOException {
        // quoted, upper-case names with spaces; timestamp before rating; a second user column is ignored
        Interactions in = Readers.delimited(write("h.csv", "\uFEFF Time ,\"Rating\",ITEM_ID,user_id,users\n30,4,x,u,other\n"));
        assertTrue(in.hasRating());
        assertTrue(in.hasTimestamp());
        assertEquals("u", in.userIds().original(0), "the first user column, not the later 'users' one (and the BOM is stripped)");
        assertEquals("x", in.itemIds().original(0));
        assertEquals(4f, in.rating(0));
        assertEquals(30L, in.timestamp(0));
        Interactions items2 = Readers.delimited(write("h2.csv", "item,user,items\nfirst,u,second\n"));
        assertEquals("first", items2.itemIds().original(0));
        Interactions r2 = Readers.delimited(write("h3.csv", "user,item,score,rating,timestamp,ts\nu,i,1,2,3,4\n"));
        assertEquals(1f, r2.rating(0));
        assertEquals(3L, r2.timestamp(0));
        Path noItem = write("h4.csv", "user,rating\n1,2\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(noItem)), noItem, 1, "an item column");
        Path noUser = write("h5.csv", "item,rating\n1,2\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(noUser)), noUser, 1, "got 'item,rating'");
    }

    @Test
    void blankLinesAreSkippedAndLaterLinesKeepTheirNumbers() throws IOException {
        Path f = write("b.tsv", "user\titem\n\n1\t2\n   \n1\t\n");
        var e = assertThrows(DataFormatException.class, () -> Readers.delimited(f));
        assertNames(e, f, 5, "empty user or item id");
        Path g = write("g.tsv", "user\titem\n1\t2\n1\t2\t3\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(g)), g, 3, "expected 2 columns separated by '\\t', got 3");
        Path h = write("h.csv", "user,item\n ,2\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(h)), h, 2, "empty user or item id");
        Path empty = write("e.csv", "");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(empty)), empty, 1, "empty file");
        Interactions ok = Readers.delimited(write("ok.csv", "user,item\n\n\na,b\n\n"));
        assertEquals(1, ok.size());
        Path folder = Files.createDirectory(dir.resolve("afolder.csv"));
        assertNames(assertThrows(DataFormatException.class, () -> Readers.delimited(folder)), folder, 0, "no such file");
    }

    @Test
    void numbersAreCheckedAndFloatTimestampsTruncated() {
        assertEquals(3.5f, Readers.parseFloat(" 3.5 ", "s", 1, "rating"));
        for (String bad : new String[] {"NaN", "Infinity", "-Infinity", "x", ""}) {
            var e = assertThrows(DataFormatException.class, () -> Readers.parseFloat(bad, "s", 4, "rating"), bad);
            assertEquals("s:4: rating must be a number, got '" + bad + "'", e.getMessage());
        }
        assertEquals(1200000000L, Readers.parseLong("1.2e9", "s", 1, "timestamp"));
        assertEquals(123L, Readers.parseLong(" 123.0 ", "s", 1, "timestamp"));
        assertEquals(-5L, Readers.parseLong("-5", "s", 1, "timestamp"));
        assertEquals(9007199254740993L, Readers.parseLong("9007199254740993", "s", 1, "timestamp"), "integers are not rounded through double");
        for (String bad : new String[] {"NaN", "Infinity", "1e", "soon"}) {
            var e = assertThrows(DataFormatException.class, () -> Readers.parseLong(bad, "s", 2, "timestamp"), bad);
            assertEquals("s:2: timestamp must be an integer, got '" + bad + "'", e.getMessage());
        }
        assertEquals(0, Readers.parseId("0", "s", 1, "USER"));
        assertEquals(Integer.MAX_VALUE - 1, Readers.parseId(" " + (Integer.MAX_VALUE - 1) + " ", "s", 1, "USER"));
        var neg = assertThrows(DataFormatException.class, () -> Readers.parseId("-1", "s", 3, "USER"));
        assertEquals("s:3: USER must be a non-negative integer id, got '-1'", neg.getMessage());
        var max = assertThrows(DataFormatException.class, () -> Readers.parseId("2147483647", "s", 3, "ITEM"));
        assertEquals("s:3: ITEM id 2147483647 is too large for dense ids (at most 2147483646)", max.getMessage());
    }

    @Test
    void quotedSplitEdgeCases() {
        assertEquals(java.util.List.of("a", "b"), java.util.List.of(Readers.split("\"a\",\"b\"", ',', 2)));
        assertEquals(java.util.List.of("a", ""), java.util.List.of(Readers.split("\"a\",", ',', 2)));
        assertEquals(java.util.List.of("", "b"), java.util.List.of(Readers.split("\"\",b", ',', 2)));
        assertEquals(java.util.List.of("x", "\"", "y"), java.util.List.of(Readers.split("x,\"\"\"\",y", ',', 3)));
        assertEquals(java.util.List.of("a\tb", "c"), java.util.List.of(Readers.split("\"a\tb\"\tc", '\t', 2)));
        // a quoted field followed by other text: the whole line is split plainly
        assertEquals(java.util.List.of("\"a\"b", "c"), java.util.List.of(Readers.split("\"a\"b,c", ',', 2)));
        assertEquals(java.util.List.of("a", "", "b", ""), java.util.List.of(Readers.split("a,,b,", ',', 4)));
        var e = assertThrows(IllegalArgumentException.class, () -> Readers.split("1,\"2", ',', 2));
        assertEquals("the quote opening field 2 never closes", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Readers.split("\"ab\"\"", ',', 1), "an escaped quote at the end does not close");
    }

    @Test
    void movieLensSkipsBlankLinesAndRefusesBadOrEmptyFiles() throws IOException {
        Interactions u = Readers.movieLens(write("u.data", "\n 1\t 2 \t4.5\t10\n\n3\t2\t1\t1.1e1\n"));
        assertEquals(2, u.size());
        assertEquals("1", u.userIds().original(0));
        assertEquals("2", u.itemIds().original(0));
        assertEquals(1, u.itemIds().size());
        assertEquals(4.5f, u.rating(0));
        assertEquals(11L, u.timestamp(1));
        Path badTab = write("v.data", "1\t2\t3\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.movieLens(badTab)), badTab, 1,
                "expected 4 fields (user, item, rating, timestamp) separated by '\\t', got 3");
        Path badDat = write("x.dat", "1::2::3::4\n1::2::3::4::5\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.movieLens(badDat)), badDat, 2, "separated by '::', got 5");
        Path datWithTabs = write("t.dat", "1\t2\t3\t4\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.movieLens(datWithTabs)), datWithTabs, 1, "got 1");
        Path rating = write("r.dat", "1::2::good::4\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.movieLens(rating)), rating, 1, "rating must be a number");
        Path ts = write("ts.dat", "1::2::3::later\n");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.movieLens(ts)), ts, 1, "timestamp must be an integer");
        Path blank = write("blank.data", "\n  \n");
        var e = assertThrows(DataFormatException.class, () -> Readers.movieLens(blank));
        assertEquals(blank + ": no interactions", e.getMessage());
        Path missing = dir.resolve("none.dat");
        assertNames(assertThrows(DataFormatException.class, () -> Readers.movieLens(missing)), missing, 0, "no such file");
    }

    @Test
    void splitFolderDetectionAndHeaderChecks() throws IOException {
        Path d = Files.createDirectory(dir.resolve("sf"));
        assertFalse(SplitReaders.isSplitFolder(d));
        assertFalse(SplitReaders.isLightGcnFolder(d));
        Files.writeString(d.resolve("train.txt"), "0 1 2\n");
        assertFalse(SplitReaders.isSplitFolder(d), "LightGCN lines are not a USER header");
        assertFalse(SplitReaders.isLightGcnFolder(d), "no test.txt");
        Files.writeString(d.resolve("test.txt"), "0 3\n");
        assertTrue(SplitReaders.isLightGcnFolder(d));
        Files.writeString(d.resolve("train.txt"), "  User\tItem\n0\t1\n");
        assertTrue(SplitReaders.isSplitFolder(d), "the header is matched ignoring case and leading blanks");
        Files.writeString(d.resolve("train.txt"), "");
        assertFalse(SplitReaders.isSplitFolder(d), "an empty train.txt has no header");
        Path c = Files.createDirectory(dir.resolve("sc"));
        Files.writeString(c.resolve("train.csv"), "anything\n");
        assertTrue(SplitReaders.isSplitFolder(c));
        assertFalse(SplitReaders.isLightGcnFolder(c));
        // header problems name the file and line 1; missing files name the file
        Files.writeString(c.resolve("train.csv"), "user,item\na,b\n");
        var noTest = assertThrows(DataFormatException.class, () -> SplitReaders.splitFolder(c));
        assertNames(noTest, c.resolve("test.csv"), 0, "no such file (a split folder needs train and test files)");
        Files.writeString(c.resolve("test.csv"), "");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.splitFolder(c)), c.resolve("test.csv"), 1,
                "empty file: expected the header user,item");
        Files.writeString(c.resolve("test.csv"), "item,user\na,b\n");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.splitFolder(c)), c.resolve("test.csv"), 1,
                "expected the header user,item, got 'item,user'");
        Files.writeString(c.resolve("test.csv"), "user\na\n");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.splitFolder(c)), c.resolve("test.csv"), 1, "expected the header");
        Files.writeString(c.resolve("test.csv"), "user,other\na,b\n");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.splitFolder(c)), c.resolve("test.csv"), 1, "expected the header");
        Files.writeString(c.resolve("test.csv"), " USER , Item \n\na,b\na,b,c\n");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.splitFolder(c)), c.resolve("test.csv"), 4, "expected 2 columns, got 3");
        Path t = Files.createDirectory(dir.resolve("st"));
        Files.writeString(t.resolve("test.txt"), "USER\tITEM\n0\t0\n");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.splitFolder(t)), t.resolve("train.txt"), 0, "no such file");
        Files.writeString(t.resolve("train.txt"), "USER,ITEM\n0,0\n");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.splitFolder(t)), t.resolve("train.txt"), 1,
                "expected the header USER\\tITEM");
        Files.writeString(t.resolve("train.txt"), "USER\tITEM\n");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.splitFolder(t)), t.resolve("train.txt"), 0, "no interactions");
        Files.writeString(t.resolve("train.txt"), "USER\tITEM\n-1\t0\n");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.splitFolder(t)), t.resolve("train.txt"), 2, "USER must be");
    }

    @Test
    void splitFolderTxtSizesComeFromTheLargestIdInAnySplit() throws IOException {
        Path d = Files.createDirectory(dir.resolve("sizes"));
        Files.writeString(d.resolve("train.txt"), "USER\tITEM\n0\t1\n1\t0\n");
        Files.writeString(d.resolve("test.txt"), "USER\tITEM\n1\t1\n");
        Files.writeString(d.resolve("valid.txt"), "USER\tITEM\n4\t6\n");
        Dataset ds = SplitReaders.splitFolder(d);
        assertEquals(5, ds.users(), "valid holds user 4");
        assertEquals(7, ds.items(), "valid holds item 6");
        assertEquals("sizes", ds.name());
        assertEquals("4", ds.userIds().original(4));
        assertEquals(7, ds.itemIds().size());
        assertTrue(ds.valid().contains(4, 6));
        assertTrue(ds.train().contains(1, 0));
        assertEquals(1, ds.test().nnz());
        Files.writeString(d.resolve("valid.txt"), "USER\tITEM\n0\t0\n");
        Files.writeString(d.resolve("test.txt"), "USER\tITEM\n3\t5\n");
        Dataset t = SplitReaders.splitFolder(d);
        assertEquals(4, t.users(), "test holds user 3");
        assertEquals(6, t.items(), "test holds item 5");
        Files.writeString(d.resolve("train.txt"), "USER\tITEM\n6\t8\n");
        Dataset tr = SplitReaders.splitFolder(d);
        assertEquals(7, tr.users());
        assertEquals(9, tr.items());
        // CSV ids are remapped in first-appearance order over train, test, then valid
        Path c = Files.createDirectory(dir.resolve("csvorder"));
        Files.writeString(c.resolve("train.csv"), "user,item\nb,y\n\"a\",x\n");
        Files.writeString(c.resolve("test.csv"), "user,item\nc,z\n");
        Files.writeString(c.resolve("valid.csv"), "user,item\nd,w\na,y\n");
        Dataset cs = SplitReaders.splitFolder(c);
        assertEquals(java.util.List.of("b", "a", "c", "d"), cs.userIds().originals());
        assertEquals(java.util.List.of("y", "x", "z", "w"), cs.itemIds().originals());
        assertEquals(4, cs.users());
        assertEquals(4, cs.items());
        assertTrue(cs.valid().contains(1, 0));
        assertTrue(cs.test().contains(2, 2));
    }

    @Test
    void lightGcnUsersWithoutLinesAndEmptyFolders() throws IOException {
        Path d = Files.createDirectory(dir.resolve("lg"));
        Files.writeString(d.resolve("train.txt"), "  2\t0   1 \n\n0 3\n");
        Files.writeString(d.resolve("test.txt"), "1 2\n");
        Dataset ds = SplitReaders.lightGcnFolder(d);
        assertEquals("lg", ds.name());
        assertEquals(3, ds.users());
        assertEquals(4, ds.items());
        assertEquals(0, ds.train().rowLength(1), "user 1 has no train line");
        assertArrayEquals(new int[] {0, 1}, java.util.Arrays.copyOfRange(ds.train().indices(), ds.train().ptr()[2], ds.train().ptr()[3]));
        assertFalse(ds.hasValid());
        assertEquals(3, ds.valid().users());
        // a test user beyond every train user, and a user line without items, still size the matrices
        Files.writeString(d.resolve("test.txt"), "5\n");
        Dataset wide = SplitReaders.lightGcnFolder(d);
        assertEquals(6, wide.users());
        assertEquals(0, wide.test().nnz());
        Files.writeString(d.resolve("valid.txt"), "4 7\n");
        Dataset v = SplitReaders.lightGcnFolder(d);
        assertEquals(8, v.items(), "valid holds item 7");
        assertTrue(v.valid().contains(4, 7));
        Path bad = Files.createDirectory(dir.resolve("lgbad"));
        Files.writeString(bad.resolve("train.txt"), "0 1\n1 x\n");
        Files.writeString(bad.resolve("test.txt"), "0 1\n");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.lightGcnFolder(bad)), bad.resolve("train.txt"), 2, "item must be");
        Files.writeString(bad.resolve("train.txt"), "0 1\n-2 1\n");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.lightGcnFolder(bad)), bad.resolve("train.txt"), 2, "user must be");
        Files.writeString(bad.resolve("train.txt"), "0\n");
        Files.writeString(bad.resolve("test.txt"), "\n");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.lightGcnFolder(bad)), bad.resolve("train.txt"), 0, "no interactions");
        Files.writeString(bad.resolve("train.txt"), "");
        assertNames(assertThrows(DataFormatException.class, () -> SplitReaders.lightGcnFolder(bad)), bad.resolve("train.txt"), 0, "no interactions");
    }

    @Test
    void specsAreDispatchedByNameAndKind() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> Datasets.load(null, Preprocess.defaults()));
        var blank = assertThrows(IllegalArgumentException.class, () -> Datasets.load("  ", Preprocess.defaults()));
        assertTrue(blank.getMessage().startsWith("--data is empty; accepted: insteval"), blank.getMessage());
        // a MovieLens file by name: u.data and *.dat; the dataset is named after the file without its extension
        Path ml = write("u.data", "1\t10\t5\t3\n1\t11\t4\t1\n2\t10\t1\t2\n");
        Dataset u = Datasets.load(ml.toString(), new Preprocess(4f, 0, 0, true));
        assertEquals("u", u.name());
        assertEquals(1, u.users(), "user 2's only rating is below 4");
        Path dat = write("ratings.dat", "1::10::5::3\n");
        assertEquals("ratings", Datasets.load(" " + dat + " ", Preprocess.defaults()).name());
        Path csv = write("my.events.csv", "user,item\na,b\n");
        assertEquals("my.events", Datasets.load(csv.toString(), Preprocess.defaults()).name());
        Path plain = write("noext", "user\titem\na\tb\na\tc\n");
        Dataset p = Datasets.load(plain.toString(), Preprocess.defaults());
        assertEquals("noext", p.name());
        assertEquals(2, p.items());
        // a data file read as delimited, not as MovieLens, when its name does not say u.data/.dat
        Path uData2 = write("u.data.csv", "user,item\n1,2\n");
        assertEquals(1, Datasets.load(uData2.toString(), Preprocess.defaults()).users());
        // folders: each preprocessing switch is refused; an unrecognised folder names what it needs
        Path f = Files.createDirectory(dir.resolve("splits"));
        Files.writeString(f.resolve("train.csv"), "user,item\na,b\n");
        Files.writeString(f.resolve("test.csv"), "user,item\na,c\n");
        assertEquals(1, Datasets.load(f.toString(), Preprocess.defaults()).test().nnz());
        for (Preprocess pre : new Preprocess[] {new Preprocess(1f, 0, 0, true), new Preprocess(null, 0, 2, true)}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Datasets.load(f.toString(), pre));
            assertTrue(e.getMessage().contains("used as given"), e.getMessage());
        }
        Path other = Files.createDirectory(dir.resolve("other"));
        var e = assertThrows(DataFormatException.class, () -> Datasets.load(other.toString(), Preprocess.defaults()));
        assertNames(e, other, 0, "a data folder needs train.txt/test.txt");
        var unknown = assertThrows(IllegalArgumentException.class, () -> Datasets.load("syntheticx", Preprocess.defaults()));
        assertTrue(unknown.getMessage().startsWith("--data 'syntheticx' is neither"), unknown.getMessage());
    }

    @Test
    void generatorSpecsParseKeyValuePairs() {
        assertEquals(java.util.Map.of(), Datasets.parseKv(" "));
        assertEquals(java.util.Map.of("a", "1", "b", "x y"), Datasets.parseKv(" a = 1 , b= x y"));
        var noEq = assertThrows(IllegalArgumentException.class, () -> Datasets.parseKv("a=1,b"));
        assertTrue(noEq.getMessage().contains("expected key=value, got 'b'"), noEq.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Datasets.parseKv("=1"));
        Dataset s = Datasets.loadUnchecked("synthetic:users=20,items=30,per_user=5,seed=1");
        assertEquals("synthetic", s.name());
        assertEquals(20, s.users());
        Dataset m = Datasets.loadUnchecked("markov:users=12,items=40,per_user=5,seed=1");
        assertEquals("markov", m.name());
        assertEquals(12, m.users());
        assertEquals(Datasets.loadUnchecked("markov").fingerprint(),
                Preprocess.defaults().apply("markov", SyntheticSequences.defaults().generate()).fingerprint(), "'markov' is the defaults");
        assertEquals(Datasets.loadUnchecked("synthetic:").fingerprint(),
                Preprocess.defaults().apply("synthetic", Synthetic.defaults().generate()).fingerprint(), "an empty override list is the defaults");
    }

    @Test
    void aColumnNamedTwiceKeepsItsFirstPlaceEvenAtColumnZero() throws IOException {
        Interactions u = Readers.delimited(write("u0.csv", "user,item,users\nfirst,i,second\n"));
        assertEquals("first", u.userIds().original(0));
        Interactions i = Readers.delimited(write("i0.csv", "item,user,items\nfirst,u,second\n"));
        assertEquals("first", i.itemIds().original(0));
        Interactions r = Readers.delimited(write("r0.csv", "rating,user,item,score\n4,u,i,2\n"));
        assertTrue(r.hasRating());
        assertEquals(4f, r.rating(0));
        Interactions t = Readers.delimited(write("t0.csv", "ts,user,item,timestamp\n40,u,i,20\n"));
        assertTrue(t.hasTimestamp());
        assertEquals(40L, t.timestamp(0));
        // a line that starts with the delimiter has an empty first field, quoted fields elsewhere or not
        assertEquals(java.util.List.of("", "a"), java.util.List.of(Readers.split(",\"a\"", ',', 2)));
    }

    @Test
    void aHeaderThatStartsWithTheDelimiterIsSniffedToo() throws IOException {
        // pandas' to_csv writes its unnamed index column first: the header starts with the delimiter
        for (String d : new String[] {",", "\t", ";"}) {
            assertEquals(d.charAt(0), Readers.sniff(d + "user" + d + "item"));
            Interactions in = Readers.delimited(write("idx" + (int) d.charAt(0) + ".csv", d + "user" + d + "item\n0" + d + "u" + d + "i\n"));
            assertEquals("u", in.userIds().original(0), "delimiter '" + d + "'");
            assertEquals("i", in.itemIds().original(0));
        }
    }

    /** A LightGCN folder whose train.txt holds no interaction (empty, or users without items) is refused, as a split folder's. */
    @Test
    void aLightGcnFolderWithAnEmptyTrainFileIsRefusedLikeASplitFolder() throws IOException {
        for (String train : new String[] {"", "0\n1\n"}) {
            Path d = Files.createDirectory(dir.resolve("emptytrain" + train.length()));
            Files.writeString(d.resolve("train.txt"), train);
            Files.writeString(d.resolve("test.txt"), "0 1\n1 2\n");
            var e = assertThrows(DataFormatException.class, () -> SplitReaders.lightGcnFolder(d));
            assertNames(e, d.resolve("train.txt"), 0, "no interactions");
        }
    }
}
