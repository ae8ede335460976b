#!/usr/bin/env python3
"""HSTU's pointwise attention in PyTorch on the GPU: the peer of kdrec.bench.GpuAttentionBench.

Same problem, same shapes: 128 sequences of n = 50 and 200, 1 and 2 heads, d = 64, rows [b*n, d]
(head hh owns columns hh*dh..), and the RCE-KD code's CiteULike teacher block as the code runs it (n = 110,
4 heads, q/k rows 32 wide, v rows 64: attention_dim 8, linear_dim 16; no position bias), S = Q K^T + rab[j - i + n - 1], A = silu(S) / n with the causal mask
(j <= i), out = A V; backward of sum(out * dOut) to q, k, v and the bias table. This is the plain
composition of torch ops (the reference HSTU code's shape), with TF32 off: it materialises S, A and
their gradients in global memory, as kdrec's kernels do for pre and maps. Timed with CUDA events, median
of the iterations after warm-up.

Usage: bench/torch_gpu_attention.py [iters] [warmup]
Prints: torch attention b=.. n=.. h=.. d=.. [ldV=..] [bias=off] median_ms=<fwd+bwd> fwd_ms=.. bwd_ms=..
Exits 0 with one "torch attention n/a" line when torch or CUDA is absent.
"""
import statistics
import sys

SHAPES = [(128, 50, 1, 64, 64, True), (128, 50, 2, 64, 64, True), (128, 200, 1, 64, 64, True), (128, 200, 2, 64, 64, True),
          (128, 110, 4, 32, 64, False)]


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("torch attention n/a (torch is not installed)")
        return 0
    if not torch.cuda.is_available():
        print("torch attention n/a (torch has no CUDA device)")
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(7)

    for b, n, h, d, ld_v, bias in SHAPES:  # d: the q/k row width, ld_v: the v (and out) row width
        dh, dv = d // h, ld_v // h

        def rand(*shape):
            return (torch.rand(*shape, device=dev, generator=gen) * 2 - 1).requires_grad_()

        q, k, v, rab = rand(b * n, d), rand(b * n, d), rand(b * n, ld_v), rand(2 * n - 1)
        d_out = torch.rand(b * n, ld_v, device=dev, generator=gen) * 2 - 1
        pos = torch.arange(n, device=dev)
        bias_index = pos[None, :] - pos[:, None] + (n - 1)  # [i, j] -> j - i + centre
        causal = torch.tril(torch.ones(n, n, device=dev, dtype=torch.bool))

        def heads(x, width):
            return x.view(b, n, h, width).transpose(1, 2)  # b, h, n, width

        def forward():
            s = heads(q, dh) @ heads(k, dh).transpose(-1, -2)
            if bias:
                s = s + rab[bias_index]
            a = (F.silu(s) / n).masked_fill(~causal, 0.0)
            return (a @ heads(v, dv)).transpose(1, 2).reshape(b * n, ld_v)

        fwd, bwd, total = [], [], []
        for it in range(warmup + iters):
            for t in (q, k, v, rab):
                t.grad = None
            e0, e1, e2 = (torch.cuda.Event(enable_timing=True) for _ in range(3))
            torch.cuda.synchronize()
            e0.record()
            out = forward()
            e1.record()
            out.backward(d_out)
            e2.record()
            torch.cuda.synchronize()
            if it >= warmup:
                fwd.append(e0.elapsed_time(e1))
                bwd.append(e1.elapsed_time(e2))
                total.append(e0.elapsed_time(e2))
        widths = "d=%d" % d + (" ldV=%d" % ld_v if ld_v != d else "") + ("" if bias else " bias=off")
        print("torch attention b=%d n=%d h=%d %s median_ms=%.4f fwd_ms=%.4f bwd_ms=%.4f device=%s tf32=off"
              % (b, n, h, widths, statistics.median(total), statistics.median(fwd), statistics.median(bwd), torch.cuda.get_device_name(0)))
        del q, k, v, rab, d_out
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
