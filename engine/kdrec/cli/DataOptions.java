package kdrec.cli;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.data.Dataset;
import kdrec.data.Datasets;
import kdrec.data.Preprocess;
import kdrec.train.TrainData;
import picocli.CommandLine.Option;

/** The data options every command shares: the spec and the preprocessing switches. */
final class DataOptions {
    @Option(names = "--data", required = true, paramLabel = "D",
            description = "insteval | synthetic[:users=..,items=..,per_user=..,clusters=..,affinity=..,zipf=..,seed=..] | "
                    + "markov[:users=..,items=..,per_user=..,branching=..,p=..,seed=..] | a split folder | a LightGCN folder | a file "
                    + "(u.data, ratings.dat, CSV/TSV with a user,item[,rating][,timestamp] header).")
    String spec;

    @Option(names = "--min-rating", description = "Keep interactions with rating >= this (files with a rating column).")
    Float minRating;

    @Option(names = "--kcore-users", defaultValue = "0", description = "Drop users with fewer interactions (iterated k-core; 0 = off).")
    int kcoreUsers;

    @Option(names = "--kcore-items", defaultValue = "0", description = "Drop items with fewer interactions (iterated k-core; 0 = off).")
    int kcoreItems;

    Preprocess preprocess() {
        return Cli.flagValues(() -> new Preprocess(minRating, kcoreUsers, kcoreItems, true));
    }

    Dataset dataset() throws IOException {
        return Datasets.load(spec, preprocess());
    }

    TrainData load() throws IOException {
        return new TrainData(dataset());
    }

    /** The data settings for config.yaml. */
    Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("spec", spec);
        m.put("min_rating", minRating);
        m.put("kcore_users", kcoreUsers);
        m.put("kcore_items", kcoreItems);
        return m;
    }

    /** A bundled dataset with default preprocessing (the demo). */
    static TrainData embedded(String name) throws IOException {
        return new TrainData(Datasets.load(name, Preprocess.defaults()));
    }
}
