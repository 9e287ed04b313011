#!/usr/bin/env python3
"""Native ceilings of this CPU for the roofline of `bench profile`, measured with PyTorch (the
peer users would pick on a CPU): a large float32 matmul (GFLOP/s, 2*n^3 per product) and a
large copy (GB/s, each byte read once and written once, as STREAM counts copy). Same thread
count as the PyTorch peer (2). One JSON line on stdout:

    {"peer": "torch-cpu", "matmul_n": 2048, "matmul_gflops": [...], "copy_mib": 64, "copy_gbs": [...],
     "threads": 2, "torch": "...", "blas": {...}}

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/peers/native_peaks.py [--matmul-n 2048] [--copy-mib 64] [--repeats 5]

Needs Debian's python3-torch under /usr/bin/python3; installs nothing.
"""
import argparse
import json
import os
import sys
import time

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--matmul-n", type=int, default=2048)
ap.add_argument("--copy-mib", type=int, default=64)
ap.add_argument("--repeats", type=int, default=5)
ap.add_argument("--threads", type=int, default=2)
ARGS = ap.parse_args()
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before the torch import

import torch  # noqa: E402
from blas_info import blas_info, warn_if_reference  # noqa: E402


def timed(fn, repeats):
    fn()  # warm-up: allocation, page faults, BLAS threads
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main():
    torch.set_num_threads(ARGS.threads)
    blas = blas_info()
    warn_if_reference(blas)
    n = ARGS.matmul_n
    a = torch.rand(n, n) - 0.5
    b = torch.rand(n, n) - 0.5
    c = torch.empty(n, n)
    mm = timed(lambda: torch.mm(a, b, out=c), ARGS.repeats)
    del a, b, c
    elems = ARGS.copy_mib * 2 ** 20 // 4
    x = torch.rand(elems)
    y = torch.empty(elems)
    cp = timed(lambda: y.copy_(x), ARGS.repeats)
    print(json.dumps(dict(
        peer="torch-cpu", matmul_n=n, matmul_gflops=[2 * n ** 3 / s / 1e9 for s in mm],
        copy_mib=ARGS.copy_mib, copy_gbs=[2 * elems * 4 / s / 1e9 for s in cp],
        threads=torch.get_num_threads(), torch=torch.__version__,
        omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"), blas=blas)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
