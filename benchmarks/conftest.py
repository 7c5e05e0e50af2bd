"""What every bench_<stem>.py shares: contenders, pinned threads, timing + checking.

A benchmark is parametrised three ways (python-rapidjson's benchmarks/conftest.py):

- ``case``: a ``fastla._bench.problems.Case``, parametrised by the bench file;
- ``threads``: the thread count, pinned equally for fastla (OpenMP: it reads
  omp_get_max_threads, which threadpoolctl sets) and for numpy's / scipy's OpenBLAS;
- ``contender``: fastla, numpy and scipy, those that have the operation
  (``problems.OPS``); the test function names its operation with ``@pytest.mark.op``.

The ``run`` fixture sets the group (one table per case and thread count, every
contender in it), times the public call, records flops and GFLOP/s in
``benchmark.extra_info``, and then checks the answer: a fast wrong answer fails.

Option (this file registers it): --bench-threads=1,2, the thread counts to run.
"""

import os
from collections import namedtuple
from operator import attrgetter

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

# The case definitions live in the installed package, shared with `python -m fastla
# bench` (fastla/_bench/problems.py).
from fastla._bench import runner  # noqa: E402

Contender = namedtuple("Contender", "name, version")

contenders = []

import fastla  # noqa: E402  (fastla's own ImportError says what to do if unbuilt)
import numpy  # noqa: E402

contenders.append(Contender("fastla", fastla.__version__))
contenders.append(Contender("numpy", numpy.__version__))

try:
    import scipy.linalg  # loads scipy's OpenBLAS now, so threadpoolctl pins it too
except ImportError:
    pass
else:
    contenders.append(Contender("scipy", scipy.__version__))


def resolve(contender, op):
    """The callable `contender` offers for `op` (problems.OPS), or None: the report
    command's resolver, so both tools time the same functions."""
    return runner.resolve(op, contender.name)


def pytest_addoption(parser):
    group = parser.getgroup("fastla benchmarks")
    group.addoption("--bench-threads", default="1,2",
                    help="comma-separated thread counts to benchmark (default: 1,2)")


def pytest_configure(config):
    config.addinivalue_line("markers", "op(name): the operation (key of problems.OPS) "
                                       "a benchmark times; selects its contenders")


@pytest.hookimpl(trylast=True)      # after the bench file's parametrize marks, so the
def pytest_generate_tests(metafunc):  # contenders of one case run back to back
    if "threads" in metafunc.fixturenames:
        counts = [int(t) for t in metafunc.config.getoption("bench_threads").split(",")]
        metafunc.parametrize("threads", counts, ids=lambda t: f"threads{t}")
    if "contender" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("op")
        if marker is None:
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: mark the benchmark "
                                    "with @pytest.mark.op(<name in problems.OPS>)")
        op = marker.args[0]
        available = [c for c in contenders if resolve(c, op) is not None]
        metafunc.parametrize("contender", available, ids=attrgetter("name"))


def _pin_check(threads):
    """Fail unless every thread pool (fastla's OpenMP, each OpenBLAS) is at `threads`."""
    from fastla import _build_config

    pools = {f"{p['internal_api']} ({os.path.basename(p['filepath'])})": p["num_threads"]
             for p in threadpool_info()}
    wrong = {name: n for name, n in pools.items() if n != threads}
    fastla_threads = fastla.gemm_info()["threads"]
    if fastla_threads != (threads if _build_config.openmp else 1):
        wrong["fastla.gemm_info()"] = fastla_threads
    if wrong:
        raise RuntimeError(f"threads not pinned to {threads}: {wrong}")


@pytest.fixture
def run(benchmark, contender, threads):
    """run(case): time `contender` on `case` with `threads` threads, then check it."""

    def run(case):
        fn = resolve(contender, case.op)
        args = case.build()
        benchmark.group = case.group(threads)
        benchmark.extra_info.update(
            op=case.op, dtype=case.dtype, size=case.label,
            shapes=[list(s) for s in case.shapes], flops=case.flops, threads=threads,
            contender=contender.name, version=contender.version)
        with threadpool_limits(limits=threads):
            _pin_check(threads)
            if not benchmark.disabled:
                fn(*args)               # warm-up: start thread pools, fault pages in
            result = benchmark(fn, *args)
        case.check(result)              # after timing: a fast wrong answer fails
        if benchmark.stats:
            stats = benchmark.stats.stats
            benchmark.extra_info["gflops_median"] = case.flops / stats.median / 1e9
            benchmark.extra_info["gflops_best"] = case.flops / stats.min / 1e9

    return run


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Keep the JSON plain: the Case and Contender parameters become their ids."""
    for bench in output_json["benchmarks"]:
        params = bench.get("params") or {}
        for key, value in params.items():
            if not isinstance(value, (int, float, str, type(None))):
                params[key] = getattr(value, "name", None) or str(value)


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record what was compared: fastla's build and every BLAS / OpenMP runtime."""
    from fastla import _build_config

    machine_info["fastla"] = {
        "version": fastla.__version__,
        **{k: getattr(_build_config, k) for k in ("compiler", "c_args", "cpu_tuning", "openmp")},
    }
    machine_info["contenders"] = {c.name: c.version for c in contenders}
    machine_info["threadpools"] = [
        {k: p.get(k) for k in ("internal_api", "version", "architecture", "filepath")}
        for p in threadpool_info()]
