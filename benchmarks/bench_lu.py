"""The LU family against numpy and scipy (src/lu ↔ fastla/linalg/_lu.py).

lu_factor against scipy.linalg.lu_factor and, for float64, against raw LAPACK
(op "getrf": the scipy column is scipy.linalg.lapack.dgetrf itself, no wrapper); solve,
inv and det against numpy.linalg on n x n matrices and on stacks of N small k x k
matrices (the lane kernels); lu_solve against scipy.linalg.lu_solve from the same
(lu, piv) with one and with n right-hand sides.  Same read-only operands and thread
count for every contender; every answer is checked after timing (scaled residuals,
problems._check_*).

    pytest benchmarks/bench_lu.py --benchmark-json=bench-results.json
    python benchmarks/report.py bench-results.json
    pytest benchmarks/bench_lu.py -k "getrf or 100000x8x8"
    pytest benchmarks/bench_lu.py --benchmark-disable      # smoke: every case once
"""

import pytest

from fastla._bench.problems import LU_GETRF, LU_SOLVE, LU_SQUARE, LU_STACKED


def _by_op(cases, op):
    return [c for c in cases if c.op == op]


@pytest.mark.op("lu_factor")
@pytest.mark.parametrize("case", _by_op(LU_SQUARE, "lu_factor"), ids=str)
def test_lu_factor(case, threads, contender, run):
    run(case)


@pytest.mark.op("getrf")
@pytest.mark.parametrize("case", LU_GETRF, ids=str)
def test_lu_factor_vs_raw_dgetrf(case, threads, contender, run):
    run(case)


@pytest.mark.op("lu_solve")
@pytest.mark.parametrize("case", LU_SOLVE, ids=str)
def test_lu_solve(case, threads, contender, run):
    run(case)


@pytest.mark.op("solve")
@pytest.mark.parametrize("case", _by_op(LU_SQUARE, "solve") + _by_op(LU_STACKED, "solve"), ids=str)
def test_solve(case, threads, contender, run):
    run(case)


@pytest.mark.op("inv")
@pytest.mark.parametrize("case", _by_op(LU_SQUARE, "inv") + _by_op(LU_STACKED, "inv"), ids=str)
def test_inv(case, threads, contender, run):
    run(case)


@pytest.mark.op("det")
@pytest.mark.parametrize("case", _by_op(LU_SQUARE, "det") + _by_op(LU_STACKED, "det"), ids=str)
def test_det(case, threads, contender, run):
    run(case)
