package kdrec.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import kdrec.autograd.Var;
import kdrec.tensor.ParamStore;
import kdrec.tensor.Tensor;

/**
 * A model's trainable tensors: each parameter's value and gradient buffer live in one
 * {@link ParamStore}, freed with {@link #close()}. Names are unique and ordered (checkpoint order).
 */
public final class Params implements AutoCloseable {
    private final ParamStore store = new ParamStore();
    private final Map<String, Var> byName = new LinkedHashMap<>();

    /** Creates a zero-initialised parameter. */
    public Var create(String name, int... shape) {
        if (byName.containsKey(name)) throw new IllegalArgumentException("parameter '" + name + "' already exists");
        Var v = Var.param(name, store.zeros(shape), store.zeros(shape));
        byName.put(name, v);
        return v;
    }

    /** Creates a parameter filled with N(0, std^2) draws from a generator seeded with {@code seed}. */
    public Var normal(String name, float std, long seed, int... shape) {
        Var v = create(name, shape);
        fillNormal(v.value(), std, seed);
        return v;
    }

    /** Fills a tensor with N(0, std^2) values; deterministic for a seed (Box-Muller on SplittableRandom). */
    public static void fillNormal(Tensor t, float std, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long n = t.size();
        for (long i = 0; i < n; i += 2) {
            double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
            double rad = Math.sqrt(-2.0 * Math.log(u1));
            t.set(i, (float) (std * rad * Math.cos(2 * Math.PI * u2)));
            if (i + 1 < n) t.set(i + 1, (float) (std * rad * Math.sin(2 * Math.PI * u2)));
        }
    }

    public Var get(String name) {
        Var v = byName.get(name);
        if (v == null) throw new IllegalArgumentException("no parameter '" + name + "'; have " + byName.keySet());
        return v;
    }

    public List<Var> all() {
        return Collections.unmodifiableList(new ArrayList<>(byName.values()));
    }

    /** Total number of scalar parameters. */
    public long count() {
        long n = 0;
        for (Var v : byName.values()) n += v.value().size();
        return n;
    }

    /** Forgets every parameter's gradient (start of a step). */
    public void zeroGrad() {
        for (Var v : byName.values()) v.zeroGrad();
    }

    /** The store, for optimizer state that must live as long as the parameters. */
    public ParamStore store() {
        return store;
    }

    @Override
    public void close() {
        store.close();
    }
}
