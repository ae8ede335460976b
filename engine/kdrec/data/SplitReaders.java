package kdrec.data;

import it.unimi.dsi.fastutil.ints.IntArrayList;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Readers for data that arrives already split, used as given (no re-split, no filtering):
 * <ul>
 *   <li>a split folder with {@code train}, optional {@code valid}, and {@code test} files, either
 *       {@code .txt} TSV with header {@code USER\tITEM} and dense integer ids (the KD papers' format;
 *       n = max id + 1 over all splits) or {@code .csv} with header {@code user,item} and any ids
 *       (remapped through one id map shared by the splits);</li>
 *   <li>a LightGCN-style folder: {@code train.txt} and {@code test.txt} (and {@code valid.txt}, used as the
 *       validation split when present), lines {@code user item item ...}
 *       of dense integer ids.</li>
 * </ul>
 */
public final class SplitReaders {
    private SplitReaders() {}

    /** True when {@code dir} looks like a split folder (train.txt with a USER/ITEM header, or train.csv). */
    public static boolean isSplitFolder(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("train.csv"))) return true;
        return startsWithUserHeader(dir.resolve("train.txt"));
    }

    private static boolean startsWithUserHeader(Path file) throws IOException {
        if (!Files.isRegularFile(file)) return false;
        try (BufferedReader r = Readers.open(file)) {
            String h = r.readLine();
            return h != null && h.trim().toLowerCase(Locale.ROOT).replace('\t', ' ').startsWith("user");
        }
    }

    /** True when {@code dir} holds LightGCN-style train.txt/test.txt adjacency lines. */
    public static boolean isLightGcnFolder(Path dir) {
        return Files.isRegularFile(dir.resolve("train.txt")) && Files.isRegularFile(dir.resolve("test.txt"));
    }

    public static Dataset splitFolder(Path dir) throws IOException {
        boolean csv = Files.isRegularFile(dir.resolve("train.csv"));
        String ext = csv ? ".csv" : ".txt";
        Path train = dir.resolve("train" + ext), valid = dir.resolve("valid" + ext), test = dir.resolve("test" + ext);
        if (!Files.isRegularFile(train)) throw new DataFormatException(train, 0, "no such file (a split folder needs train and test files)");
        if (!Files.isRegularFile(test)) throw new DataFormatException(test, 0, "no such file (a split folder needs train and test files)");
        IdMap users = new IdMap(), items = new IdMap();
        Interactions tr = read(train, csv, users, items), te = read(test, csv, users, items);
        Interactions va = Files.isRegularFile(valid) ? read(valid, csv, users, items) : null;
        int nu, ni;
        if (csv) {
            nu = users.size();
            ni = items.size();
        } else { // dense ids as given: n = max id + 1
            nu = 1 + Math.max(maxOf(tr.user), Math.max(maxOf(te.user), va == null ? -1 : maxOf(va.user)));
            ni = 1 + Math.max(maxOf(tr.item), Math.max(maxOf(te.item), va == null ? -1 : maxOf(va.item)));
            users = IdMap.identity(nu);
            items = IdMap.identity(ni);
        }
        if (tr.size() == 0) throw new DataFormatException(train, 0, "no interactions");
        return new Dataset(dir.getFileName().toString(), users, items, matrix(tr, nu, ni),
                va == null ? InteractionMatrix.empty(nu, ni) : matrix(va, nu, ni), matrix(te, nu, ni));
    }

    private static Interactions read(Path file, boolean csv, IdMap users, IdMap items) throws IOException {
        Interactions out = new Interactions(file.toString(), users, items, false, false);
        try (BufferedReader r = Readers.open(file)) {
            String header = r.readLine();
            char delim = csv ? ',' : '\t';
            String want = csv ? "user,item" : "USER\\tITEM";
            if (header == null) throw new DataFormatException(file, 1, "empty file: expected the header " + want);
            String[] h = Readers.split(header.trim(), delim, 2, file.toString(), 1);
            if (h.length < 2 || !h[0].trim().equalsIgnoreCase("user") || !h[1].trim().equalsIgnoreCase("item")) {
                throw new DataFormatException(file, 1, "expected the header " + want + ", got '" + header + "'");
            }
            String line;
            long ln = 1;
            while ((line = r.readLine()) != null) {
                ln++;
                if (line.isBlank()) continue;
                String[] f = Readers.split(line.trim(), delim, h.length, file.toString(), ln);
                if (f.length != h.length) throw new DataFormatException(file, ln, "expected " + h.length + " columns, got " + f.length);
                if (csv) {
                    out.add(f[0].trim(), f[1].trim(), 0f, 0L);
                } else {
                    out.addDense(Readers.parseId(f[0], file.toString(), ln, "USER"), Readers.parseId(f[1], file.toString(), ln, "ITEM"), 0f, 0L);
                }
            }
        }
        return out;
    }

    /** LightGCN's train.txt / test.txt: "user item item ..." per line, dense ids. */
    public static Dataset lightGcnFolder(Path dir) throws IOException {
        Path train = dir.resolve("train.txt"), test = dir.resolve("test.txt");
        // a split folder whose train.txt lacks its header reads as a LightGCN folder: a header elsewhere is an
        // error naming the file that lacks one; a valid.txt in the folder's own line format is its validation split
        Path valid = dir.resolve("valid.txt");
        for (Path f : new Path[] {valid, test}) {
            if (startsWithUserHeader(f)) {
                throw new DataFormatException(train, 1, "no USER\\tITEM header, so " + dir + " reads as a LightGCN folder (lines 'user item"
                        + " item ...'), but " + f.getFileName() + " has one: give train.txt the same header to use the folder as split files");
            }
        }
        int[] maxUser = {-1}, maxItem = {-1};
        java.util.List<IntArrayList> tr = adjacency(train, maxUser, maxItem), te = adjacency(test, maxUser, maxItem);
        java.util.List<IntArrayList> va = Files.isRegularFile(valid) ? adjacency(valid, maxUser, maxItem) : null;
        int nu = maxUser[0] + 1, ni = maxItem[0] + 1;
        boolean trained = false; // train.txt itself must hold an interaction (its users may all lack items), as a split folder's train file
        for (IntArrayList row : tr) trained |= !row.isEmpty();
        if (nu == 0 || ni == 0 || !trained) throw new DataFormatException(train, 0, "no interactions");
        return new Dataset(dir.getFileName().toString(), IdMap.identity(nu), IdMap.identity(ni), toMatrix(tr, nu, ni),
                va == null ? InteractionMatrix.empty(nu, ni) : toMatrix(va, nu, ni), toMatrix(te, nu, ni));
    }

    private static java.util.List<IntArrayList> adjacency(Path file, int[] maxUser, int[] maxItem) throws IOException {
        java.util.List<IntArrayList> rows = new java.util.ArrayList<>();
        try (BufferedReader r = Readers.open(file)) {
            String line;
            long ln = 0;
            while ((line = r.readLine()) != null) {
                ln++;
                String t = line.trim();
                if (t.isEmpty()) continue;
                String[] f = t.split("\\s+");
                int u = Readers.parseId(f[0], file.toString(), ln, "user");
                while (rows.size() <= u) rows.add(new IntArrayList());
                for (int j = 1; j < f.length; j++) {
                    int it = Readers.parseId(f[j], file.toString(), ln, "item");
                    rows.get(u).add(it);
                    maxItem[0] = Math.max(maxItem[0], it);
                }
                maxUser[0] = Math.max(maxUser[0], u);
            }
        }
        return rows;
    }

    private static InteractionMatrix toMatrix(java.util.List<IntArrayList> rows, int nu, int ni) {
        int[][] r = new int[nu][];
        for (int u = 0; u < nu; u++) r[u] = u < rows.size() ? rows.get(u).toIntArray() : new int[0];
        return InteractionMatrix.fromRows(nu, ni, r);
    }

    private static InteractionMatrix matrix(Interactions in, int nu, int ni) {
        IntArrayList[] rows = new IntArrayList[nu];
        for (int u = 0; u < nu; u++) rows[u] = new IntArrayList();
        for (int e = 0; e < in.size(); e++) rows[in.user(e)].add(in.item(e));
        int[][] r = new int[nu][];
        for (int u = 0; u < nu; u++) r[u] = rows[u].toIntArray();
        return InteractionMatrix.fromRows(nu, ni, r);
    }

    private static int maxOf(IntArrayList l) {
        int m = -1;
        for (int i = 0; i < l.size(); i++) m = Math.max(m, l.getInt(i));
        return m;
    }
}
