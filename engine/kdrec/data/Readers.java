package kdrec.data;

import java.io.BufferedReader;
import java.io.FilterReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Readers for interaction files. Every problem is a {@link DataFormatException} naming the file,
 * the line and what was expected; nothing is written anywhere.
 *
 * <ul>
 *   <li>delimited: CSV or TSV (delimiter sniffed from the header) whose header names the user and
 *       item columns and optionally rating and timestamp; ids are any strings;</li>
 *   <li>MovieLens {@code u.data} (tab, no header: user item rating timestamp) and {@code ratings.dat}
 *       ({@code ::}-separated, same columns).</li>
 * </ul>
 * Split folders and LightGCN-style folders are read by {@link SplitReaders}.
 */
public final class Readers {
    private Readers() {}

    static final List<String> USER_NAMES = List.of("user", "user_id", "userid", "uid", "users");
    static final List<String> ITEM_NAMES = List.of("item", "item_id", "itemid", "iid", "movieid", "movie_id", "items");
    static final List<String> RATING_NAMES = List.of("rating", "ratings", "score");
    static final List<String> TIME_NAMES = List.of("timestamp", "time", "ts", "datetime", "unix_time");

    /** Reads a delimited file with a header. */
    public static Interactions delimited(Path file) throws IOException {
        try (BufferedReader r = open(file)) {
            return delimited(r, file.toString());
        }
    }

    /** Reads delimited text with a header from a stream (e.g. a bundled resource). */
    public static Interactions delimited(InputStream in, String source) throws IOException {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
            return delimited(r, source);
        }
    }

    /**
     * Opens a text file as strict UTF-8. A byte that is not UTF-8 is a {@link DataFormatException} naming the
     * file and the line that holds it: the decoder fails a buffer ahead of the lines handed out, so that line
     * is found by scanning the file again, which only a failing read pays for.
     */
    public static BufferedReader open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new DataFormatException(file, 0, "no such file");
        InputStream in;
        try {
            in = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file, 0, "no such file");
        }
        Reader strict = new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()); // a new decoder reports, never replaces
        return new BufferedReader(new FilterReader(strict) {
            @Override
            public int read(char[] buf, int off, int len) throws IOException {
                try {
                    return super.read(buf, off, len);
                } catch (CharacterCodingException e) {
                    throw new DataFormatException(file, lineOfFirstNonUtf8Byte(file), "not valid UTF-8 (save the file as UTF-8)");
                }
            }
        }, 1 << 16);
    }

    /**
     * The 1-based line holding the first byte sequence that is not UTF-8, counting lines as
     * {@link BufferedReader#readLine} does (\n, \r\n or a lone \r ends one); 0 when there is none.
     */
    static long lineOfFirstNonUtf8Byte(Path file) throws IOException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder();
        ByteBuffer bytes = ByteBuffer.allocate(1 << 16);
        CharBuffer chars = CharBuffer.allocate(1 << 16); // UTF-8 decodes to at most one char per byte: never overflows
        long line = 1;
        byte previous = 0;
        try (ReadableByteChannel ch = Files.newByteChannel(file)) {
            while (true) {
                boolean end = ch.read(bytes) < 0;
                bytes.flip();
                int from = bytes.position();
                CoderResult result = decoder.decode(bytes, chars, end);
                for (int i = from; i < bytes.position(); i++) { // UTF-8 never uses \n or \r inside a multi-byte character
                    byte b = bytes.get(i);
                    if (b == '\r' || (b == '\n' && previous != '\r')) line++;
                    previous = b;
                }
                if (result.isError()) return line;
                if (end) return 0;
                chars.clear();
                bytes.compact();
            }
        }
    }

    private static Interactions delimited(BufferedReader r, String source) throws IOException {
        String header = r.readLine();
        if (header == null) throw new DataFormatException(source, 1, "empty file: expected a header naming user and item columns");
        header = stripBom(header);
        char delim = sniff(header);
        String[] cols = split(header, delim, -1, source, 1);
        int cu = -1, ci = -1, cr = -1, ct = -1;
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int c = 0; c < cols.length; c++) {
            String name = cols[c].trim().toLowerCase(Locale.ROOT).replace("\"", "");
            boolean known = USER_NAMES.contains(name) || ITEM_NAMES.contains(name) || RATING_NAMES.contains(name) || TIME_NAMES.contains(name);
            if (known && !seen.add(name)) { // which of the two holds the ids is anyone's guess
                throw new DataFormatException(source, 1, "column '" + cols[c].trim().replace("\"", "") + "' appears twice in the header '" + header + "'");
            }
            if (cu < 0 && USER_NAMES.contains(name)) cu = c;
            else if (ci < 0 && ITEM_NAMES.contains(name)) ci = c;
            else if (cr < 0 && RATING_NAMES.contains(name)) cr = c;
            else if (ct < 0 && TIME_NAMES.contains(name)) ct = c;
        }
        if (cu < 0 || ci < 0) {
            throw new DataFormatException(source, 1, "header must name a user column (one of " + USER_NAMES + ") and an item column (one of "
                    + ITEM_NAMES + "); got '" + header + "'");
        }
        Interactions out = new Interactions(source, cr >= 0, ct >= 0);
        String line;
        long ln = 1;
        while ((line = r.readLine()) != null) {
            ln++;
            if (line.isBlank()) continue;
            String[] f = split(line, delim, cols.length, source, ln);
            if (f.length != cols.length) {
                throw new DataFormatException(source, ln, "expected " + cols.length + " columns separated by '" + printable(delim) + "', got " + f.length);
            }
            float rating = cr >= 0 ? parseFloat(f[cr], source, ln, "rating") : 0f;
            long ts = ct >= 0 ? parseLong(f[ct], source, ln, "timestamp") : 0L;
            String u = f[cu].trim(), i = f[ci].trim();
            if (u.isEmpty() || i.isEmpty()) throw new DataFormatException(source, ln, "empty user or item id");
            out.add(u, i, rating, ts);
        }
        return out;
    }

    /** MovieLens u.data (tab-separated) or ratings.dat ("::"-separated): user item rating timestamp, no header. */
    public static Interactions movieLens(Path file) throws IOException {
        boolean dat = file.getFileName().toString().endsWith(".dat");
        Interactions out = new Interactions(file.toString(), true, true);
        try (BufferedReader r = open(file)) {
            String line;
            long ln = 0;
            while ((line = r.readLine()) != null) {
                ln++;
                if (line.isBlank()) continue;
                String[] f = dat ? line.split("::", -1) : line.split("\t", -1);
                if (f.length != 4) {
                    throw new DataFormatException(file, ln, "expected 4 fields (user, item, rating, timestamp) separated by '"
                            + (dat ? "::" : "\\t") + "', got " + f.length);
                }
                out.add(f[0].trim(), f[1].trim(), parseFloat(f[2], file.toString(), ln, "rating"), parseLong(f[3], file.toString(), ln, "timestamp"));
            }
        }
        if (out.size() == 0) throw new DataFormatException(file, 0, "no interactions");
        return out;
    }

    static float parseFloat(String s, String source, long ln, String what) {
        try {
            float v = Float.parseFloat(s.trim());
            if (!Float.isFinite(v)) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new DataFormatException(source, ln, what + " must be a number, got '" + s.trim() + "'");
        }
    }

    static long parseLong(String s, String source, long ln, String what) {
        String t = s.trim();
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            try {
                double d = Double.parseDouble(t); // some dumps write timestamps as 1.2e9 or 123.0
                if (Double.isFinite(d)) return (long) d;
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new DataFormatException(source, ln, what + " must be an integer, got '" + t + "'");
        }
    }

    static int parseId(String s, String source, long ln, String what) {
        try {
            int v = Integer.parseInt(s.trim());
            if (v < 0) throw new NumberFormatException();
            if (v == Integer.MAX_VALUE) { // dense ids size arrays by max id + 1
                throw new DataFormatException(source, ln, what + " id " + v + " is too large for dense ids (at most " + (Integer.MAX_VALUE - 1) + ")");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new DataFormatException(source, ln, what + " must be a non-negative integer id, got '" + s.trim() + "'");
        }
    }

    /** {@link #split} for a line of a file: a malformed one is an error naming the file and line. */
    static String[] split(String line, char delim, int expected, String source, long ln) {
        try {
            return split(line, delim, expected);
        } catch (IllegalArgumentException e) {
            throw new DataFormatException(source, ln, e.getMessage());
        }
    }

    static char sniff(String header) {
        if (header.indexOf('\t') >= 0) return '\t';
        if (header.indexOf(',') >= 0) return ',';
        if (header.indexOf(';') >= 0) return ';';
        return ' ';
    }

    /**
     * Fields of a line split at {@code delim}; a field that starts with a double quote runs to its closing
     * quote (RFC 4180: delimiters inside are part of it, "" is one quote), so that {@code "1"} and {@code 1}
     * are the same id. A quoted field followed by more than the delimiter ({@code "a"b}) leaves the line
     * split plainly; a quote that never closes is an error (an {@link IllegalArgumentException} the
     * readers turn into a {@link DataFormatException} naming the file and line).
     */
    static String[] split(String line, char delim, int expected) {
        List<String> parts = new ArrayList<>(Math.max(4, expected));
        if (line.indexOf('"') >= 0) {
            StringBuilder field = new StringBuilder();
            int i = 0, n = line.length();
            boolean ok = true;
            while (ok) {
                field.setLength(0);
                if (i < n && line.charAt(i) == '"') {
                    int j = i + 1;
                    boolean closed = false;
                    while (j < n) {
                        char c = line.charAt(j);
                        if (c == '"' && j + 1 < n && line.charAt(j + 1) == '"') {
                            field.append('"');
                            j += 2;
                        } else if (c == '"') {
                            closed = true;
                            j++;
                            break;
                        } else {
                            field.append(c);
                            j++;
                        }
                    }
                    if (!closed) throw new IllegalArgumentException("the quote opening field " + (parts.size() + 1) + " never closes");
                    if (j < n && line.charAt(j) != delim) {
                        ok = false;
                        break;
                    }
                    i = j;
                } else {
                    int j = line.indexOf(delim, i);
                    if (j < 0) j = n;
                    field.append(line, i, j);
                    i = j;
                }
                parts.add(field.toString());
                if (i >= n) break;
                i++; // the delimiter
                if (i == n) {
                    parts.add("");
                    break;
                }
            }
            if (ok) return parts.toArray(new String[0]);
            parts.clear();
        }
        int start = 0;
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == delim) {
                parts.add(line.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(line.substring(start));
        return parts.toArray(new String[0]);
    }

    private static String stripBom(String s) {
        return !s.isEmpty() && s.charAt(0) == '\uFEFF' ? s.substring(1) : s;
    }

    private static String printable(char c) {
        return c == '\t' ? "\\t" : String.valueOf(c);
    }
}
