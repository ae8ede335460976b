package kdrec.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Original id strings to dense ints 0..n-1, in first-appearance order, and back. */
public final class IdMap {
    private final Map<String, Integer> index = new HashMap<>();
    private final List<String> ids = new ArrayList<>();

    /** The dense id of {@code original}, assigning the next one on first sight. */
    public int intern(String original) {
        Integer i = index.get(original);
        if (i != null) return i;
        int next = ids.size();
        index.put(original, next);
        ids.add(original);
        return next;
    }

    /** The dense id of {@code original}, or -1. */
    public int find(String original) {
        Integer i = index.get(original);
        return i == null ? -1 : i;
    }

    public String original(int dense) {
        return ids.get(dense);
    }

    public int size() {
        return ids.size();
    }

    /** Original ids in dense order (unmodifiable). */
    public List<String> originals() {
        return Collections.unmodifiableList(ids);
    }

    /** The identity map 0..n-1 (for files whose ids are already dense ints). */
    public static IdMap identity(int n) {
        IdMap m = new IdMap();
        for (int i = 0; i < n; i++) m.intern(Integer.toString(i));
        return m;
    }

    /** Keeps only the dense ids with keep[i], renumbered in order; returns the new map. */
    public IdMap filter(boolean[] keep) {
        IdMap m = new IdMap();
        for (int i = 0; i < ids.size(); i++) if (keep[i]) m.intern(ids.get(i));
        return m;
    }

    /** Writes "dense\toriginal" lines. */
    public void save(Path file) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.size(); i++) sb.append(i).append('\t').append(ids.get(i)).append('\n');
        Files.writeString(file, sb, StandardCharsets.UTF_8);
    }

    public static IdMap load(Path file) throws IOException {
        IdMap m = new IdMap();
        int ln = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            ln++;
            if (line.isEmpty()) continue;
            int tab = line.indexOf('\t');
            if (tab < 0) throw new DataFormatException(file, ln, "expected 'dense<TAB>original'");
            int dense;
            try {
                dense = Integer.parseInt(line.substring(0, tab));
            } catch (NumberFormatException e) {
                throw new DataFormatException(file, ln, "dense id is not an integer: '" + line.substring(0, tab) + "'");
            }
            if (dense != m.size()) throw new DataFormatException(file, ln, "expected dense id " + m.size() + ", got " + dense);
            m.intern(line.substring(tab + 1));
        }
        return m;
    }
}
