package kdrec.train;

import java.util.List;
import kdrec.data.Dataset;
import kdrec.data.NegativeSampler;

/**
 * What training and evaluation read from a {@link Dataset}: CSR arrays of the three splits, the
 * train pairs (user of every train entry), per-epoch negatives and batch order, the fingerprint and
 * id maps that checkpoints record.
 */
public final class TrainData {
    private final Dataset ds;
    private final int[] pairUsers;
    private final NegativeSampler sampler;

    public TrainData(Dataset ds) {
        this.ds = ds;
        this.pairUsers = ds.train().rowOfEntry();
        this.sampler = new NegativeSampler(ds.train());
    }

    public Dataset dataset() {
        return ds;
    }

    public String name() {
        return ds.name();
    }

    public int users() {
        return ds.users();
    }

    public int items() {
        return ds.items();
    }

    public int[] trainPtr() {
        return ds.train().ptr();
    }

    public int[] trainItems() {
        return ds.train().indices();
    }

    /** The user of each train entry (aligned with trainItems()). */
    public int[] trainPairUsers() {
        return pairUsers;
    }

    public boolean hasValid() {
        return ds.hasValid();
    }

    public int[] validPtr() {
        return ds.valid().ptr();
    }

    public int[] validItems() {
        return ds.valid().indices();
    }

    public int[] testPtr() {
        return ds.test().ptr();
    }

    public int[] testItems() {
        return ds.test().indices();
    }

    public String fingerprint() {
        return ds.fingerprint();
    }

    public List<String> userIds() {
        return ds.userIds().originals();
    }

    public List<String> itemIds() {
        return ds.itemIds().originals();
    }

    /** One uniform negative per train entry for this epoch. */
    public int[] negatives(long seed, int epoch) {
        return sampler.sample(seed, epoch);
    }

    /** The epoch's shuffled order of train entries. */
    public int[] shuffledPairs(long seed, int epoch) {
        return sampler.permutation(seed, epoch);
    }

    public String summary() {
        return ds.summary();
    }
}
