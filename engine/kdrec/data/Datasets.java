package kdrec.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Resolves a data spec string to a {@link Dataset}:
 * <ul>
 *   <li>{@code insteval}: the embedded InstEval interactions (every rating a positive), rows shuffled with a fixed
 *       seed, then split 8:1:1 per user (a random hold-out);</li>
 *   <li>{@code synthetic} or {@code synthetic:users=3000,items=2000,per_user=30,seed=7}: the planted generator;</li>
 *   <li>{@code markov} or {@code markov:users=2000,items=1000,per_user=20,branching=3,p=0.9,seed=7}: the sequential
 *       (item-to-item Markov) generator, timestamped, for sequential backbones;</li>
 *   <li>a directory: a split folder (train/[valid/]test .txt or .csv) or a LightGCN folder (train.txt/test.txt), used as given;</li>
 *   <li>a file: MovieLens u.data or ratings.dat, or a CSV/TSV with a header, preprocessed and split 8:1:1.</li>
 * </ul>
 */
public final class Datasets {
    private Datasets() {}

    /** The fixed seed of the row shuffle applied to the embedded InstEval data before its split. */
    public static final long INSTEVAL_SHUFFLE_SEED = 42;

    public static final String ACCEPTED = "insteval, synthetic[:key=value,...], markov[:key=value,...], a split folder (train/valid/test .txt or .csv), "
            + "a LightGCN folder (train.txt/test.txt), or a file (u.data, ratings.dat, CSV/TSV with a user,item[,rating][,timestamp] header)";

    public static Dataset load(String spec, Preprocess pre) throws IOException {
        if (spec == null || spec.isBlank()) throw new IllegalArgumentException("--data is empty; accepted: " + ACCEPTED);
        String s = spec.trim();
        // InstEval has no timestamps and its rows are sorted by user, then item id: an order-based split
        // would always test on each student's highest-numbered lecturers. Shuffling the rows with a fixed
        // seed first makes the 8:1:1 split a random per-user hold-out, like the shared insteval-seed42 split.
        if (s.equals("insteval")) return pre.apply("insteval", embedded("insteval.csv").permuted(INSTEVAL_SHUFFLE_SEED));
        if (s.equals("synthetic") || s.startsWith("synthetic:")) {
            Synthetic syn = Synthetic.defaults().with(parseKv(s.length() > 10 ? s.substring(10) : ""));
            return pre.apply("synthetic", syn.generate());
        }
        if (s.equals("markov") || s.startsWith("markov:")) {
            SyntheticSequences syn = SyntheticSequences.defaults().with(parseKv(s.length() > 7 ? s.substring(7) : ""));
            return pre.apply("markov", syn.generate());
        }
        Path p = Path.of(s);
        if (Files.isDirectory(p)) {
            if (pre.minRating() != null || pre.kcoreUsers() > 0 || pre.kcoreItems() > 0) {
                throw new IllegalArgumentException("--data " + p + " is a folder, whose splits are used as given: --min-rating and --kcore-users/"
                        + "--kcore-items apply to files and the built-in sets only");
            }
            if (SplitReaders.isSplitFolder(p)) return SplitReaders.splitFolder(p);
            if (SplitReaders.isLightGcnFolder(p)) return SplitReaders.lightGcnFolder(p);
            throw new DataFormatException(p, 0, "a data folder needs train.txt/test.txt (with a USER\\tITEM header or LightGCN lines) or train.csv/test.csv");
        }
        if (Files.isRegularFile(p)) {
            String name = p.getFileName().toString();
            String base = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
            if (name.equals("u.data") || name.endsWith(".dat")) return pre.apply(base, Readers.movieLens(p));
            return pre.apply(base, Readers.delimited(p));
        }
        throw new IllegalArgumentException("--data '" + spec + "' is neither a known dataset nor an existing file or folder; accepted: " + ACCEPTED);
    }

    /** {@link #load} with default preprocessing, for specs that read no files (tests, benchmarks). */
    public static Dataset loadUnchecked(String spec) {
        try {
            return load(spec, Preprocess.defaults());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Reads a dataset bundled in the jar (under /kdrec/data/). */
    static Interactions embedded(String file) throws IOException {
        try (InputStream in = Datasets.class.getResourceAsStream("/kdrec/data/" + file)) {
            if (in == null) throw new IllegalStateException("the embedded dataset " + file + " is missing from the classpath");
            return Readers.delimited(in, "embedded:" + file);
        }
    }

    static Map<String, String> parseKv(String s) {
        Map<String, String> m = new LinkedHashMap<>();
        if (s.isBlank()) return m;
        for (String part : s.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("synthetic: expected key=value, got '" + part + "'; keys: " + Synthetic.KEYS);
            m.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
        }
        return m;
    }
}
