"""Which cases to run, and timing one case: every contender on the same operands,
interleaved, medians of repeats, each answer checked.

Cases come from problems.CASES, whatever families it holds; an operation whose
fastla function does not exist (yet) is skipped, and a contender without it
(scipy has no matmul) is simply not timed.
"""

import dataclasses
import gc
import importlib
import time
import warnings

from .problems import CASES, OPS

__all__ = ["CONTENDERS", "Timing", "all_cases", "case_size", "resolve", "select", "time_case"]

CONTENDERS = ("fastla", "numpy", "scipy")

# OpenBLAS's worker threads keep spinning for about 0.1-0.2 s after a call returns;
# with both cores in use, fastla's OpenMP threads then wait for a core at every
# synchronisation.  Measured here (2 threads): cholesky(256) ran 1-12x slower in the
# 0.1 s after 200 dpotrf calls, at its normal speed after a 0.2 s pause.  With more
# than one thread, fastla's samples are taken after such a pause (time_case), so the
# report shows each library's own speed; code that alternates numpy and fastla calls
# on all cores meets this interference (README, Known issues).
OPENBLAS_SPIN_S = 0.2


def resolve(op, contender):
    """The callable `contender` offers for `op` (a dotted path in OPS), or None when
    the contender has no such operation or the function does not exist."""
    path = OPS[op].get(contender)
    if path is None:
        return None
    if path.startswith("."):                    # a wrapper in problems.py
        path = __package__ + ".problems" + path
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def all_cases():
    """Every case of every family, each once, in the order of problems.CASES."""
    seen, cases = set(), []
    for family in CASES.values():
        for case in family:
            if (case.op, case.dtype, case.shapes) not in seen:
                seen.add((case.op, case.dtype, case.shapes))
                cases.append(case)
    return cases


def case_size(case):
    """(n, stacked): the order of the case's (first operand's) matrices, and whether
    it is a stack of them."""
    shape = case.shapes[0]
    return shape[-1], len(shape) > 2


def select(ops, dtypes, sizes, stacks):
    """Cases of `ops` and `dtypes` whose matrices have an order in `sizes` (single
    matrices) or `stacks` (stacks of matrices); None selects every size.  Sorted by
    operation (ops order), dtype, then single matrices by order before stacks."""
    def wanted(case):
        n, stacked = case_size(case)
        allowed = stacks if stacked else sizes
        return (case.op in ops and case.dtype in dtypes
                and (allowed is None or n in allowed))

    def order(case):
        n, stacked = case_size(case)
        return ops.index(case.op), dtypes.index(case.dtype), stacked, n

    return sorted(filter(wanted, all_cases()), key=order)


@dataclasses.dataclass
class Timing:
    """One contender on one case: seconds per call of each sample, calls per sample,
    the check's residual (None if it computes none) or what went wrong."""
    samples: list = dataclasses.field(default_factory=list)
    number: int = 1
    residual: float = None
    error: str = None

    @property
    def median(self):
        s = sorted(self.samples)
        return (s[(len(s) - 1) // 2] + s[len(s) // 2]) / 2 if s else None

    @property
    def best(self):
        return min(self.samples) if self.samples else None


def _clock(fn, args, number):
    """Seconds per call over `number` back-to-back calls, and the last result."""
    gc_was_enabled = gc.isenabled()
    gc.disable()                        # as timeit: no collection pauses inside a sample
    try:
        start = time.perf_counter()
        for _ in range(number):
            result = fn(*args)
        elapsed = time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed / number, result


def _calibrate(fn, args, min_sample):
    """Seconds per call, from batches of 1, 2, 5, 10, 20, ... calls until one takes
    min_sample / 2 (timeit's autorange): a single call that another thread pool or
    process delayed would otherwise set the calls per sample."""
    number = 1
    while True:
        for factor in (1, 2, 5):
            per_call, _ = _clock(fn, args, number * factor)
            if per_call * number * factor >= min_sample / 2 or number * factor >= 1_000_000:
                return max(per_call, 1e-9)
        number *= 10


def time_case(case, functions, repeat, min_sample, budget=None, interleave=True):
    """{contender: Timing} for `case`.

    Each contender is called once to warm up (thread pools, page faults), then in
    growing batches to choose its calls per sample (enough for `min_sample` seconds,
    so sub-microsecond calls are timed over many); then `repeat` rounds each take
    one sample of every contender, the starting contender rotating, so slow drifts
    of a shared machine (another process, frequency changes) hit every contender
    alike.  With interleave=False (the report's choice for more than one thread) each
    contender instead takes all its samples in one block after one discarded sample:
    a thread pool keeps spinning for a while after its call returns (OpenBLAS's, for
    tens of milliseconds), and with both cores in use the next contender's threads
    then wait for a core at every synchronisation -- measured here, fastla's
    recursive Cholesky at n = 256 ran 30x slower right after numpy than alone.
    With `budget`
    (seconds) the rounds stop early, after at least three, once the case has taken
    that long.  The last result of every contender is checked (case.check).
    """
    with warnings.catch_warnings():
        # numpy warns when a determinant overflows; the check judges the answer.
        warnings.simplefilter("ignore", RuntimeWarning)
        return _time_case(case, functions, repeat, min_sample, budget, interleave)


def _time_case(case, functions, repeat, min_sample, budget, interleave):
    args = case.build()
    timings = {name: Timing() for name in functions}
    results = {}
    for name, fn in functions.items():
        try:
            _clock(fn, args, 1)
            per_call = _calibrate(fn, args, min_sample)
        except Exception as exc:        # a contender's failure is part of the report
            timings[name].error = f"{type(exc).__name__}: {exc}"
            continue
        timings[name].number = max(1, min(1_000_000, round(min_sample / per_call)))
    live = [name for name in functions if timings[name].error is None]
    if interleave:
        start = time.perf_counter()
        for r in range(repeat):
            for name in live[r % len(live):] + live[:r % len(live)] if live else ():
                per_call, results[name] = _clock(functions[name], args, timings[name].number)
                timings[name].samples.append(per_call)
            if budget is not None and r >= 2 and time.perf_counter() - start > budget:
                break
    else:
        share = None if budget is None else budget / max(len(live), 1)
        for name in live:
            if name == "fastla":
                time.sleep(OPENBLAS_SPIN_S)         # let numpy/scipy's pool go idle
            _clock(functions[name], args, timings[name].number)     # warm again
            start = time.perf_counter()
            for r in range(repeat):
                per_call, results[name] = _clock(functions[name], args, timings[name].number)
                timings[name].samples.append(per_call)
                if share is not None and r >= 2 and time.perf_counter() - start > share:
                    break
    for name in live:
        try:
            timings[name].residual = case.check(results[name])
        except Exception as exc:        # AssertionError, or a result of the wrong kind
            timings[name].error = f"wrong answer: {exc}"
    return timings
