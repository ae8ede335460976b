#!/usr/bin/env python3
"""Full-softmax CE forward + backward on the GPU in PyTorch: the peer of kdrec.bench.GpuCeBench.

Same problem: U 2048 x 64, I 41,000 x 64 (N(0, 0.1^2)), one target per row, loss = mean over rows of
cross_entropy(U @ I.T, target), backward to U and I. TF32 is OFF (kdrec's kernels are plain fp32), so
the logits GEMM and both gradient GEMMs run in full fp32. Timed with CUDA events; median of the
iterations after warm-up. Note torch materialises the 2048 x 41,000 logits (and their gradient); kdrec
does not.

Usage: bench/torch_gpu_ce.py [iters] [warmup] [m] [n] [d]
Prints: ce_fwd_bwd_ms torch=<median> fwd=<median> bwd=<median> ...
Exits 0 with a "torch=n/a" line when torch or CUDA is absent.
"""
import statistics
import sys


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    m = int(sys.argv[3]) if len(sys.argv) > 3 else 2048
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 41_000
    d = int(sys.argv[5]) if len(sys.argv) > 5 else 64
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("ce_fwd_bwd_ms torch=n/a (torch is not installed)")
        return 0
    if not torch.cuda.is_available():
        print("ce_fwd_bwd_ms torch=n/a (torch has no CUDA device)")
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(42)
    u = (torch.randn(m, d, device=dev, generator=gen) * 0.1).requires_grad_()
    items = (torch.randn(n, d, device=dev, generator=gen) * 0.1).requires_grad_()
    target = torch.randint(0, n, (m,), device=dev, generator=gen)

    fwd, bwd, total = [], [], []
    loss = None
    for it in range(warmup + iters):
        u.grad = None
        items.grad = None
        e0, e1, e2 = (torch.cuda.Event(enable_timing=True) for _ in range(3))
        torch.cuda.synchronize()
        e0.record()
        loss = F.cross_entropy(u @ items.T, target)  # mean over rows: gLoss = 1/m, as in GpuCeBench
        e1.record()
        loss.backward()
        e2.record()
        torch.cuda.synchronize()
        if it >= warmup:
            fwd.append(e0.elapsed_time(e1))
            bwd.append(e1.elapsed_time(e2))
            total.append(e0.elapsed_time(e2))
    med = statistics.median(total)
    flop = 2.0 * m * n * d * 3  # logits, dU, dI
    print(
        "ce_fwd_bwd_ms torch=%.3f fwd=%.3f bwd=%.3f min=%.3f m=%d n=%d d=%d iters=%d mean_loss=%.5f tflops=%.1f device=%s tf32=off"
        % (med, statistics.median(fwd), statistics.median(bwd), min(total), m, n, d, iters, loss.item(),
           flop / (med * 1e-3) / 1e12, torch.cuda.get_device_name(0))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
