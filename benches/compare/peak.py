#!/usr/bin/env python3
"""fp32 GEMM peak of this machine measured with known-good BLAS: PyTorch's (oneDNN/MKL)
and NumPy's (OpenBLAS) sgemm on square matrices, 1 and 2 threads; best of several calls.
Prints one JSON line per measurement (workload "peak-1-thread" / "peak-2-threads",
value in GFLOP/s). Run with the peers' Python (../../../shared/peers/README.md).

OpenBLAS picks its kernels from `OPENBLAS_CORETYPE` when that is set, and some machines set
it to an AVX2 core (Haswell) for every process. Where the CPU has AVX-512, NumPy is therefore
also measured in a child process with OpenBLAS's AVX-512 kernels (`SkylakeX`): the peak is
the best of all lines, so that a BLAS held to half the vector width does not pass for the
machine's peak."""
import json
import os
import subprocess
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


def has_avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and " avx512f" in line for line in f)
    except OSError:
        return False


def numpy_child(coretype, threads):
    """NumPy's sgemm in a child process with OpenBLAS's `coretype` kernels on `threads`."""
    env = dict(os.environ, OPENBLAS_CORETYPE=coretype, OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, __file__, "--numpy-only", str(threads)], env=env,
                         capture_output=True, text=True, check=False)
    sys.stdout.write(out.stdout)
    sys.stdout.flush()


def main():
    if sys.argv[1:2] == ["--numpy-only"]:
        import numpy as np
        a = np.random.rand(N, N).astype(np.float32)
        b = np.random.rand(N, N).astype(np.float32)
        emit(f"numpy {np.__version__} (np.matmul, OpenBLAS {os.environ.get('OPENBLAS_CORETYPE')} "
             f"kernels)", int(sys.argv[2]), best(lambda: np.matmul(a, b)))
        return 0
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
    if has_avx512() and os.environ.get("OPENBLAS_CORETYPE", "").lower() not in ("skylakex", "cooperlake"):
        for threads in (1, 2):
            numpy_child("SkylakeX", threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
