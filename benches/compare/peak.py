#!/usr/bin/env python3
"""fp32 GEMM peak of this machine measured with known-good BLAS: PyTorch's (oneDNN/MKL)
and NumPy's (OpenBLAS) sgemm on square matrices, 1 and 2 threads; best of several calls.
Prints one JSON line per measurement (workload "peak-1-thread" / "peak-2-threads",
value in GFLOP/s). Run with the peers' Python (../../../shared/peers/README.md)."""
import json
import os
import sys
import time

N = int(os.environ.get("PEAK_N", "2048"))
CALLS = int(os.environ.get("PEAK_CALLS", "10"))


def best(fn):
    fn()
    t = []
    for _ in range(CALLS):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return 2 * N ** 3 / min(t) / 1e9


def emit(lib, threads, gflops):
    print(json.dumps({"system": "peak", "workload": f"peak-{threads}-thread{'s' if threads > 1 else ''}",
                      "value": round(gflops, 1), "unit": "GFLOP/s", "accuracy": None,
                      "notes": f"{lib} sgemm {N}x{N}x{N} fp32, best of {CALLS} calls; "
                               f"load1={os.getloadavg()[0]:.2f}"}), flush=True)


def main():
    import numpy as np
    import torch
    a = torch.rand(N, N)
    b = torch.rand(N, N)
    c = torch.empty(N, N)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        emit(f"torch {torch.__version__} (torch.mm)", threads, best(lambda: torch.mm(a, b, out=c)))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    an, bn = a.numpy(), b.numpy()
    if threadpool_limits is not None:
        for threads in (1, 2):
            with threadpool_limits(limits=threads):
                emit(f"numpy {np.__version__} (np.matmul)", threads, best(lambda: np.matmul(an, bn)))
    else:
        emit(f"numpy {np.__version__} (np.matmul, default threads)", os.cpu_count(),
             best(lambda: np.matmul(an, bn)))


if __name__ == "__main__":
    sys.exit(main())
