#!/usr/bin/env python3
"""The PyTorch peer of bench/cuda.mjs: times the same cases with cuBLAS, cuDNN and PyTorch's
own CUDA kernels on the same GPU, and prints one JSON object (milliseconds per case, median
of samples timed with CUDA events).

usage: python3 bench/torch_peer.py '<json config from bench/cuda.mjs>'
"""
import json
import statistics
import sys

import torch


def median_ms(fn, samples, inner):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(samples):
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(inner):
            fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) / inner)
    return statistics.median(times)


def main():
    config = json.loads(sys.argv[1])
    device = torch.device(f"cuda:{config['device']}")
    torch.cuda.set_device(device)
    samples, inner = config["samples"], config["inner"]
    rand = lambda *shape: torch.rand(*shape, device=device) - 0.5
    results = {}

    n = config["gemm"]
    a, b = rand(n, n), rand(n, n)
    torch.backends.cuda.matmul.allow_tf32 = False
    results["sgemm_fp32"] = median_ms(lambda: a @ b, samples, inner)
    torch.backends.cuda.matmul.allow_tf32 = True
    results["sgemm_tf32"] = median_ms(lambda: a @ b, samples, inner)
    torch.backends.cuda.matmul.allow_tf32 = False
    ab, bb = a.to(torch.bfloat16), b.to(torch.bfloat16)
    results["sgemm_bf16"] = median_ms(lambda: ab @ bb, samples, inner)

    count = config["elements"]
    x, y = rand(count), rand(count)
    out = torch.empty_like(x)
    results["add"] = median_ms(lambda: torch.add(x, y, out=out), samples, inner)
    results["relu"] = median_ms(lambda: torch.clamp_min(x, 0, out=out), samples, inner)
    results["sum"] = median_ms(lambda: torch.sum(x), samples, inner)
    rows, cols = config["softmax"]
    s = rand(rows, cols)
    results["softmax"] = median_ms(lambda: torch.softmax(s, dim=-1), samples, inner)
    dst = torch.empty_like(x)
    results["copy"] = median_ms(lambda: dst.copy_(x), samples, inner)

    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    for name, (nb, h, w, c, fh, fw, oc) in config["convs"].items():
        xin = rand(nb, c, h, w).to(memory_format=torch.channels_last)
        filt = rand(oc, c, fh, fw).to(memory_format=torch.channels_last)
        pad = (fh // 2, fw // 2)
        results[name] = median_ms(lambda: torch.nn.functional.conv2d(xin, filt, padding=pad), samples, inner)

    print(json.dumps({
        "device": torch.cuda.get_device_name(device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "ms": results,
    }))


if __name__ == "__main__":
    main()
