"""Memory (issue 8): repeated calls leave RSS and tracemalloc flat, error paths free
what they allocated, and allocations that cannot be satisfied raise MemoryError
instead of crashing.

RSS is read from /proc/self/statm (Linux); the kernels' workspaces come from C
malloc, which tracemalloc does not see, so both measures are used: tracemalloc for
the Python layer and numpy's buffers (numpy reports its data allocations to it), RSS
for everything.  Bounds: RSS may grow by less than 1 % (issue 8) over the repeated
calls after a warm-up that lets the allocators reach their steady state.
"""

import gc
import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import fastla.linalg as fl

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"),
                                reason="RSS is read from /proc (Linux)")

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def _small_calls():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    spd = a @ a.T
    b = rng.standard_normal(3)
    a32 = a.astype(np.float32)
    stack = rng.standard_normal((4, 3, 3))
    lu_piv = fl.lu_factor(a)
    cho = fl.cho_factor(spd)
    return [
        lambda: fl.matmul(a, a), lambda: fl.matmul(stack, stack),
        lambda: fl.solve(a, b), lambda: fl.inv(a32), lambda: fl.det(a),
        lambda: fl.slogdet(stack), lambda: fl.lu_factor(a), lambda: fl.lu_solve(lu_piv, b),
        lambda: fl.lu(a), lambda: fl.solve_triangular(a, b), lambda: fl.cholesky(spd),
        lambda: fl.cho_factor(spd), lambda: fl.cho_solve(cho, b), lambda: fl.qr(a),
        lambda: fl.qr(stack, mode="r"), lambda: fl.svd(a), lambda: fl.svdvals(stack),
        lambda: fl.eigh(spd), lambda: fl.pinv(a), lambda: fl.lstsq(a, b),
        lambda: fl.norm(a, 2), lambda: fl.cond(a), lambda: fl.matrix_rank(a),
        lambda: fl.solve(stack, stack, errors="info"),
    ]


def _error_calls():
    """Calls that raise, each after allocating (working copies, workspaces)."""
    sing = np.ones((4, 4))
    stack = np.ones((3, 4, 4))
    notpd = -np.eye(4)
    nan = np.full((4, 4), np.nan)

    def expect(exc, f):
        def call():
            try:
                f()
            except exc:
                return
            raise AssertionError(f"{f} did not raise {exc.__name__}")
        return call
    return [
        expect(np.linalg.LinAlgError, lambda: fl.solve(sing, sing)),
        expect(np.linalg.LinAlgError, lambda: fl.inv(stack)),
        expect(np.linalg.LinAlgError, lambda: fl.cholesky(notpd)),
        expect(np.linalg.LinAlgError, lambda: fl.cho_factor(stack * notpd)),
        expect(np.linalg.LinAlgError, lambda: fl.svd(nan)),
        expect(np.linalg.LinAlgError, lambda: fl.solve_triangular(np.zeros((4, 4)), sing)),
        expect(ValueError, lambda: fl.lu_factor(nan)),               # check_finite
        expect(ValueError, lambda: fl.matmul(sing, np.ones((3, 2)))),
        expect(TypeError, lambda: fl.qr(sing.astype(np.float16))),
        expect(TypeError, lambda: fl.eigh(sing.astype(complex))),
    ]


def _repeat(calls, total):
    for i in range(total):
        calls[i % len(calls)]()


@pytest.mark.parametrize("kind, total", [("small", 100_000), ("errors", 20_000)])
def test_repeated_calls_rss_flat(kind, total):
    """10^5 small calls over every family (and 2 x 10^4 raising ones): RSS grows < 1 %."""
    calls = _small_calls() if kind == "small" else _error_calls()
    _repeat(calls, total // 5)                      # warm-up: allocator steady state
    gc.collect()
    before = rss()
    _repeat(calls, total)
    gc.collect()
    growth = rss() - before
    assert growth < 0.01 * before, f"RSS grew {growth / 2**20:.2f} MiB of {before / 2**20:.0f}"


@pytest.mark.parametrize("kind", ["small", "errors"])
def test_repeated_calls_tracemalloc_flat(kind):
    """Python-level and numpy allocations are all released (no reference leaks):
    2 x 10^4 calls leave < 64 KiB more traced memory than a warm-up of the same."""
    calls = _small_calls() if kind == "small" else _error_calls()
    _repeat(calls, 2000)
    tracemalloc.start()
    try:
        _repeat(calls, 2000)
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        _repeat(calls, 20_000)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, f"{grown} bytes still traced after 20000 calls"


def test_repeated_large_calls_rss_flat():
    """10^2 large calls (blocked and threaded paths, workspaces in C): RSS grows < 1 %."""
    rng = np.random.default_rng(9)
    a = rng.standard_normal((300, 300))
    spd = a @ a.T + 300 * np.eye(300)
    tall = rng.standard_normal((600, 120))
    calls = [lambda: fl.matmul(a, a), lambda: fl.solve(a, a), lambda: fl.inv(a),
             lambda: fl.cholesky(spd), lambda: fl.qr(tall), lambda: fl.qr(a),
             lambda: fl.lu(a), lambda: fl.solve_triangular(spd, a),
             lambda: fl.svdvals(tall[:200, :60]), lambda: fl.eigvalsh(spd[:60, :60])]
    _repeat(calls, 60)              # warm-up: interleaved sizes settle malloc's arenas
    gc.collect()
    before = rss()
    _repeat(calls, 100)
    gc.collect()
    growth = rss() - before
    assert growth < 0.01 * before, f"RSS grew {growth / 2**20:.2f} MiB of {before / 2**20:.0f}"


def test_huge_request_raises_memory_error():
    """A broadcast view of 10^12 matrices needs terabytes of working copy: MemoryError."""
    huge = np.broadcast_to(np.eye(2), (10**12, 2, 2))
    for f in (fl.inv, fl.det, fl.cholesky, fl.qr, fl.svdvals, fl.eigvalsh,
              lambda x: fl.solve(x, x), lambda x: fl.matmul(x, x), fl.lu_factor):
        with pytest.raises(MemoryError):
            f(huge)


_LIMITED = textwrap.dedent("""
    import faulthandler, resource, sys
    faulthandler.enable()               # a crash names its call on stderr
    import numpy as np
    import fastla.linalg as fl

    rng = np.random.default_rng(0)
    n = 500
    a = rng.standard_normal((n, n))
    spd = a @ a.T + n * np.eye(n)
    tall = rng.standard_normal((2 * n, n // 4))
    stack = rng.standard_normal((10000, 4, 4))
    calls = {
        "matmul": lambda: fl.matmul(a, a), "solve": lambda: fl.solve(a, a),
        "inv": lambda: fl.inv(a), "lu": lambda: fl.lu(a),
        "lu permute_l": lambda: fl.lu(a, permute_l=True), "lu stack": lambda: fl.lu(stack),
        "solve_triangular": lambda: fl.solve_triangular(spd, a),
        "cholesky": lambda: fl.cholesky(spd), "qr": lambda: fl.qr(a),
        "qr tall": lambda: fl.qr(tall), "svd": lambda: fl.svd(tall[:300, :40]),
        "eigh": lambda: fl.eigh(spd[:40, :40]), "det stack": lambda: fl.det(stack),
        "inv stack": lambda: fl.inv(stack), "qr stack": lambda: fl.qr(stack),
        "svd stack": lambda: fl.svd(stack[:1000]),
    }
    for f in calls.values():            # warm up: OpenMP threads, imports, arenas
        f()

    def vm():
        with open("/proc/self/status") as s:
            return next(int(l.split()[1]) * 1024 for l in s if l.startswith("VmSize"))

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    base = vm()
    outcomes = {}
    for name, f in calls.items():
        for margin in range(0, 12 << 20, 1 << 18):
            resource.setrlimit(resource.RLIMIT_AS, (base + margin, hard))
            try:
                f()
                outcomes.setdefault(name, set()).add("ok")
            except MemoryError as e:     # numpy's "Unable to allocate" or a kernel's
                outcomes.setdefault(name, set()).add("MemoryError: " + str(e)[:25])
            finally:
                resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    print({k: sorted(v) for k, v in outcomes.items()})
    print("DONE")
""")


def test_allocation_failures_raise_memory_error_not_crash():
    """Under an address-space limit just above what is in use, each call (workspaces
    in C included) either succeeds or raises MemoryError: no crash, no other error."""
    # Fixed mmap threshold, no trimming slack: every large block is a fresh mapping
    # that counts against the limit (else glibc reuses freed heap and nothing fails).
    env = dict(os.environ, OMP_NUM_THREADS="2", MALLOC_MMAP_THRESHOLD_="65536",
               MALLOC_TRIM_THRESHOLD_="65536", MALLOC_TOP_PAD_="0")
    # cwd "/": the installed fastla, never a source folder in the working directory
    proc = subprocess.run([sys.executable, "-c", _LIMITED], capture_output=True, text=True,
                          timeout=300, env=env, cwd="/")
    assert proc.returncode == 0 and "DONE" in proc.stdout, \
        f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    # The limit did bite, in numpy's allocations and in the kernels' own workspaces.
    assert "Unable to allocate" in proc.stdout and "fastla: not enough memory" in proc.stdout
