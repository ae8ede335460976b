package kdrec.data;

import java.nio.file.Path;

/** Bad input data: the message names the file, the 1-based line (when there is one) and what was expected. */
public final class DataFormatException extends IllegalArgumentException {
    public DataFormatException(String source, long line, String problem) {
        super(source + (line > 0 ? ":" + line : "") + ": " + problem);
    }

    public DataFormatException(Path file, long line, String problem) {
        this(file.toString(), line, problem);
    }
}
