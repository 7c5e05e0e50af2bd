"""What the report ran on: the CPU, the libraries compared, and this machine's
measured peak FLOP rate (the denominator of "% of peak")."""

import os
import platform
import time

import numpy as np

__all__ = ["usable_cores", "machine_info", "measure_peak"]


def usable_cores():
    """Cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # macOS, Windows
        return os.cpu_count() or 1


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas(module):
    """name and version of the BLAS `module` (numpy or scipy) was built against."""
    try:
        blas = module.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (KeyError, TypeError, ValueError):
        return None
    return {k: blas.get(k) for k in ("name", "version", "openblas configuration") if k in blas}


def machine_info():
    """CPU, cores, Python, numpy/scipy and their BLAS, the thread pools loaded now
    (threadpoolctl), and fastla's build and GEMM blocking (fastla.show_config)."""
    import scipy
    from threadpoolctl import threadpool_info

    import fastla
    from fastla._kernels import peak

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "vector_bytes": peak.vector_bytes(),
        # Other processes at the start (1, 5, 15-minute run-queue averages): on a busy
        # machine the timings, multi-threaded ones most, are noisy.
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": {"version": np.__version__, "blas": _blas(np)},
        "scipy": {"version": scipy.__version__, "blas": _blas(scipy)},
        "threadpools": [{k: p.get(k) for k in ("user_api", "internal_api", "version",
                                               "architecture", "num_threads")}
                        | {"library": os.path.basename(p.get("filepath", ""))}
                        for p in threadpool_info()],
        "fastla": fastla.show_config(mode="dicts"),
    }


def measure_peak(dtype, threads, seconds=0.03, tries=5):
    """Peak GFLOP/s of `threads` cores for `dtype`: `threads` times one core's rate
    on the FMA-chain kernel (src/peak.pxd), the best of `tries` runs of about
    `seconds` each.  The runs are timed in this process's CPU time, which does not
    advance while another process has the core, so a busy machine does not lower the
    peak (wall time would: the timings themselves are wall time).  Counting one core
    per thread assumes the threads do not share a core's FMA units (measured here:
    two threads on the two cores, 1.94x one)."""
    from fastla._kernels import peak

    steps = 1_000
    while True:                         # calibrate: double until one run is long enough
        start = time.process_time()
        peak.fma_run(dtype, steps)
        elapsed = time.process_time() - start
        if elapsed >= seconds / 4:
            break
        steps *= 2
    steps = max(1, int(steps * seconds / elapsed))
    best = 0.0
    for _ in range(tries):
        start = time.process_time()
        flops = peak.fma_run(dtype, steps)
        best = max(best, flops / (time.process_time() - start))
    return threads * best / 1e9
