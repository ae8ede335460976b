#!/usr/bin/env python3
"""The PyTorch (CPU) side of the peer step; kdrec's side is jmh/kdrec/bench/PeerStep.java.

One step: user table 6000x64, item table 4000x64, a batch of 1024 users with one target item each,
full-softmax CE over all items (mean), top-50 items per row, backward, dense Adam over both tables.

Needs PyTorch CPU. On Debian 12: apt-get install python3-torch libopenblas0-pthread
(then run with /usr/bin/python3). Exits 0 with a message when torch is absent, so scripts go on.
Usage: torch_step.py [steps] [warmup] [threads]
"""
import sys
import time

try:
    import torch
except ImportError:
    print("torch_step: PyTorch is not installed for this python (%s); install it with\n"
          "  apt-get install python3-torch libopenblas0-pthread   (Debian's build, then use /usr/bin/python3)"
          % sys.executable)
    sys.exit(0)

USERS, ITEMS, DIM, BATCH, TOPK = 6000, 4000, 64, 1024, 50


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    users = (torch.randn(USERS, DIM) * 0.1).requires_grad_()
    items = (torch.randn(ITEMS, DIM) * 0.1).requires_grad_()
    opt = torch.optim.Adam([users, items], lr=1e-3)
    times = []
    first = last = None
    for s in range(warmup + steps):
        batch = torch.randint(0, USERS, (BATCH,))
        target = torch.randint(0, ITEMS, (BATCH,))
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = users[batch] @ items.t()
        loss = torch.nn.functional.cross_entropy(logits, target)
        with torch.no_grad():
            top = torch.topk(logits, TOPK, dim=1)
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        if s >= warmup:
            times.append((t1 - t0) * 1e3)
        if first is None:
            first = loss.item()
        last = loss.item()
    times.sort()
    print("torch_loss first=%.5f last=%.5f" % (first, last))
    print("torch_step_ms median=%.2f min=%.2f max=%.2f steps=%d threads=%d torch=%s"
          % (times[len(times) // 2], times[0], times[-1], steps, torch.get_num_threads(), torch.__version__))


if __name__ == "__main__":
    main()
