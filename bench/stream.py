"""STREAM triad a = b + s·c measured in the same run as a benchmark (compiled once with the system cc)."""
from __future__ import annotations

import ctypes
import os
import subprocess
import tempfile
import time

import numpy as np

_SRC = r"""
#include <stddef.h>
void triad(double *restrict a, const double *restrict b, const double *restrict c, double s, size_t n)
{ for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i]; }
"""


def _library():
    d = tempfile.mkdtemp(prefix="dgk_stream_")
    src, lib = os.path.join(d, "triad.c"), os.path.join(d, "triad.so")
    with open(src, "w") as fh:
        fh.write(_SRC)
    subprocess.run(["cc", "-O3", "-march=x86-64-v2", "-shared", "-fPIC", src, "-o", lib], check=True)
    return ctypes.CDLL(lib)


def _triad_seconds(lib, n: int, repeats: int, a, b, c) -> list:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        lib.triad(a.ctypes.data, b.ctypes.data, c.ctypes.data, 3.0, n)
        times.append(time.perf_counter() - t)
    return times


def _concurrent_worker(n, seconds, barrier, queue):
    lib = _library()
    lib.triad.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_double, ctypes.c_size_t]
    a, b, c = np.zeros(n), np.ones(n), np.full(n, 2.0)
    _triad_seconds(lib, n, 2, a, b, c)                   # first touch
    barrier.wait()
    times, t0 = [], time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        times += _triad_seconds(lib, n, 1, a, b, c)
    queue.put(24.0 * n / float(np.median(times)))


def concurrent_triad_bandwidth(processes: int = 2, n: int = 20_000_000, seconds: float = 3.0) -> float:
    """Aggregate bytes/s of ``processes`` triads running at the same time (the sum of each process's
    median rate over a common window): what the memory system gives a run on that many ranks."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    barrier, queue = ctx.Barrier(processes), ctx.Queue()
    procs = [ctx.Process(target=_concurrent_worker, args=(n, seconds, barrier, queue)) for _ in range(processes)]
    for p in procs:
        p.start()
    rates = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return float(sum(rates))


def triad_bandwidth(n: int = 20_000_000, repeats: int = 10) -> float:
    """Best bytes/s of the triad over ``repeats`` runs (24 bytes per element, as STREAM counts)."""
    lib = _library()
    lib.triad.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_double, ctypes.c_size_t]
    a, b, c = np.zeros(n), np.ones(n), np.full(n, 2.0)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        lib.triad(a.ctypes.data, b.ctypes.data, c.ctypes.data, 3.0, n)
        best = min(best, time.perf_counter() - t)
    assert a[0] == 7.0
    return 24.0 * n / best


if __name__ == "__main__":
    print(f"STREAM triad: {triad_bandwidth() / 1e9:.2f} GB/s")
