"""Thread safety (issue 8): kernels release the GIL, calls from several Python threads
at once (each with OpenMP inside) give results bit-identical to serial calls, and the
kernels keep no module-level mutable state.

Free-threaded Python (PEP 703): the kernels are built with Cython's
``freethreading_compatible`` directive where Cython >= 3.1 builds them (meson.build),
so importing fastla on a free-threaded interpreter keeps the GIL disabled;
test_free_threaded_import checks that when run on one (skipped elsewhere).
"""

import re
import sys
import sysconfig
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import fastla
import fastla.linalg as fl

SRC = Path(__file__).resolve().parent.parent / "src"


def _operands(rng):
    """A few matrices of every kind the hammer calls need (float64 and float32)."""
    a = rng.standard_normal((48, 48))
    spd = a @ a.T + 48 * np.eye(48)
    return {
        "a": a, "b": rng.standard_normal((48, 5)), "spd": spd,
        "tall": rng.standard_normal((120, 20)), "wide": rng.standard_normal((20, 70)),
        "stack": rng.standard_normal((300, 4, 4)), "rhs": rng.standard_normal((300, 4, 2)),
        "big": rng.standard_normal((160, 160)), "a32": a.astype(np.float32),
        "tri": np.triu(a) + 48 * np.eye(48),
    }


def _calls(x):
    """(name, thunk) for every kernel family, small and blocked/threaded sizes."""
    return [
        ("matmul", lambda: fl.matmul(x["big"], x["big"])),
        ("matmul stack", lambda: fl.matmul(x["stack"], x["stack"])),
        ("matmul f32", lambda: fl.matmul(x["a32"], x["a32"])),
        ("solve", lambda: fl.solve(x["a"], x["b"])),
        ("solve stack", lambda: fl.solve(x["stack"], x["rhs"])),
        ("inv", lambda: fl.inv(x["big"])),
        ("inv f32", lambda: fl.inv(x["a32"])),
        ("det stack", lambda: fl.det(x["stack"])),
        ("slogdet", lambda: fl.slogdet(x["big"])),
        ("lu", lambda: fl.lu(x["tall"])),
        ("lu_solve", lambda: fl.lu_solve(fl.lu_factor(x["a"]), x["b"])),
        ("solve_triangular", lambda: fl.solve_triangular(x["tri"], x["b"])),
        ("cholesky", lambda: fl.cholesky(x["spd"])),
        ("cho_solve", lambda: fl.cho_solve(fl.cho_factor(x["spd"]), x["b"])),
        ("qr", lambda: fl.qr(x["tall"])),
        ("qr stack", lambda: fl.qr(x["stack"])),
        ("qr wide", lambda: fl.qr(x["wide"], mode="r")),
        ("svd", lambda: fl.svd(x["tall"])),
        ("svdvals stack", lambda: fl.svdvals(x["stack"])),
        ("eigh", lambda: fl.eigh(x["spd"])),
        ("pinv", lambda: fl.pinv(x["wide"])),
        ("lstsq", lambda: fl.lstsq(x["tall"], x["tall"][:, :3])[0]),
        ("norm 2", lambda: fl.norm(x["a"], 2)),
        # the per-thread float32 mode: each thread sees its own setting
        ("solve f32 native", lambda: _native(lambda: fl.solve(x["a32"], x["a32"][:, :3]))),
    ]


def _native(thunk):
    with fastla.float32_compute("float32"):
        return thunk()


def _flatten(r):
    if isinstance(r, tuple):
        return [y for x in r for y in _flatten(x)]
    return [np.asarray(r)]


def _identical(r1, r2):
    a, b = _flatten(r1), _flatten(r2)
    return len(a) == len(b) and all(
        x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y, equal_nan=True)
        for x, y in zip(a, b))


def test_hammer_threads_match_serial():
    """4 threads x 3 rounds of every call, in a different order per thread, all at once
    (with OpenMP teams inside the calls): every result bit-identical to the serial one."""
    calls = _calls(_operands(np.random.default_rng(7)))
    serial = {name: f() for name, f in calls}
    errors, start = [], threading.Barrier(4)

    def worker(seed):
        order = np.random.default_rng(seed)
        start.wait()
        for _ in range(3):
            for i in order.permutation(len(calls)):
                name, f = calls[i]
                try:
                    if not _identical(f(), serial[name]):
                        errors.append(f"{name}: differs from the serial result")
                except Exception as exc:     # noqa: BLE001 - reported below
                    errors.append(f"{name}: {exc!r}")

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a hammer thread hung"
    assert not errors, errors[:5]


def test_float32_mode_is_per_thread():
    """One thread in the native float32 mode never changes another thread's results."""
    a = np.random.default_rng(3).standard_normal((40, 40)).astype(np.float32)
    b = a[:, :2].copy()
    want64, want32 = fl.solve(a, b), _native(lambda: fl.solve(a, b))
    assert not np.array_equal(want64, want32)       # the modes differ, so this can fail
    bad = []

    def worker(native):
        for _ in range(50):
            got = _native(lambda: fl.solve(a, b)) if native else fl.solve(a, b)
            if not np.array_equal(got, want32 if native else want64):
                bad.append(native)

    threads = [threading.Thread(target=worker, args=(i % 2 == 0,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad


def _gil_free_share(call, min_seconds=0.05):
    """The fraction of `call`'s run time during which another Python thread ran.

    The call runs (repeated to last at least min_seconds) in a worker thread while
    this thread records timestamps in a tight loop; the longest pause of this thread
    is the longest stretch the worker held the GIL.  A sys.setswitchinterval of 1 ms
    makes Python hand the GIL over quickly whenever it is released.
    """
    call()                                          # warm up (imports, builds)
    done = threading.Event()
    span = []

    def worker():
        t0 = time.perf_counter()
        call()
        while time.perf_counter() - t0 < min_seconds:
            call()
        span.append(time.perf_counter() - t0)
        done.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    # One OpenMP thread for the call, so this thread has a core of its own even on a
    # busy 2-core machine (the probe measures the GIL, not the OS scheduler).
    limits = threadpool_limits(1, user_api="openmp")
    try:
        t = threading.Thread(target=worker)
        stamps = [time.perf_counter()]
        t.start()
        while not done.is_set():
            stamps.append(time.perf_counter())
        t.join()
    finally:
        sys.setswitchinterval(old)
        limits.restore_original_limits()
    longest = float(np.max(np.diff(stamps))) if len(stamps) > 1 else span[0]
    return 1 - longest / span[0], longest, span[0]


BIG = np.random.default_rng(11).standard_normal((400, 400))
SPD = BIG @ BIG.T + 400 * np.eye(400)
GIL_CALLS = {
    "matmul": lambda: fl.matmul(BIG, BIG),
    "solve": lambda: fl.solve(BIG, BIG),
    "inv": lambda: fl.inv(BIG),
    "det": lambda: fl.det(BIG),
    "lu_factor": lambda: fl.lu_factor(BIG),
    "solve_triangular": lambda: fl.solve_triangular(SPD, BIG),
    "cholesky": lambda: fl.cholesky(SPD),
    "qr": lambda: fl.qr(BIG),
    "svd": lambda: fl.svdvals(BIG[:150, :150]),
    "eigh": lambda: fl.eigvalsh(SPD[:150, :150]),
}


@pytest.mark.parametrize("name", list(GIL_CALLS))
def test_kernels_release_the_gil(name):
    """While a large call runs in one thread, another Python thread keeps running: its
    longest pause is well under the call's time (a kernel holding the GIL would stop
    it for the whole call)."""
    share, longest, total = _gil_free_share(GIL_CALLS[name])
    assert share > 0.5, f"{name}: the other thread paused {longest * 1e3:.1f} ms of " \
                        f"{total * 1e3:.1f} ms"


def test_gil_probe_detects_a_gil_holder():
    """The probe can fail: list.sort in C holds the GIL for its whole run."""
    data = list(np.random.default_rng(1).permutation(300_000).tolist())
    share, _, _ = _gil_free_share(lambda: sorted(data), min_seconds=0)    # one call
    assert share < 0.5


def test_no_module_level_mutable_state_in_kernels():
    """Kernels keep no globals: no module-level cdef variables in src/*.pyx / *.pxd, and
    no static variables in their verbatim C (packing buffers are per call / thread)."""
    declaration = re.compile(
        r"^cdef\s+(?!inline|enum|extern|struct|union|class|fused|packed|public|api)"
        r"[\w\s\*\[\]]+$")
    offenders = []
    for path in sorted(SRC.glob("*.p*")):
        for no, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0].rstrip()
            if declaration.match(code) and "(" not in code:
                offenders.append(f"{path.name}:{no}: {line}")
            if re.match(r"\s*static\s+[^(]*(;|=)", code):
                offenders.append(f"{path.name}:{no}: {line}")
    assert not offenders, offenders


@pytest.mark.skipif(not sysconfig.get_config_var("Py_GIL_DISABLED"),
                    reason="needs a free-threaded (PEP 703) interpreter")
def test_free_threaded_import():       # pragma: no cover - no free-threaded Python here
    import importlib
    for stem in ("gemm", "triangular", "lu", "cholesky", "qr", "jacobi"):
        importlib.import_module(f"fastla._kernels.{stem}")
    assert sys._is_gil_enabled() is False
