package kdrec.data;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A dataset ready for training: dense users and items, train / valid (possibly empty) / test
 * matrices, and the id maps back to the original ids.
 */
public record Dataset(String name, IdMap userIds, IdMap itemIds, InteractionMatrix train, InteractionMatrix valid,
                      InteractionMatrix test) {

    public int users() {
        return train.users();
    }

    public int items() {
        return train.items();
    }

    public boolean hasValid() {
        return valid.nnz() > 0;
    }

    /** A stable hex hash over the sizes and the three matrices (not the name): checkpoints record it. */
    public String fingerprint() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocate(8);
            b.putInt(users()).putInt(items());
            md.update(b.array());
            for (InteractionMatrix m : new InteractionMatrix[] {train, valid, test}) {
                ByteBuffer buf = ByteBuffer.allocate(4 * (m.ptr().length + m.indices().length));
                for (int v : m.ptr()) buf.putInt(v);
                for (int v : m.indices()) buf.putInt(v);
                md.update(buf.array());
            }
            return HexFormat.of().formatHex(md.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Users, items, interactions, density and per-split counts. */
    public Stats stats() {
        long all = (long) train.nnz() + valid.nnz() + test.nnz();
        return new Stats(users(), items(), all, users() == 0 || items() == 0 ? 0 : (double) all / ((double) users() * items()),
                train.nnz(), valid.nnz(), test.nnz());
    }

    public record Stats(int users, int items, long interactions, double density, int train, int valid, int test) {
        @Override
        public String toString() {
            return String.format("%d users, %d items, %d interactions (density %.4f%%); train %d, valid %d, test %d",
                    users, items, interactions, 100 * density, train, valid, test);
        }
    }

    /** One line: name and stats. */
    public String summary() {
        return name + ": " + stats();
    }
}
