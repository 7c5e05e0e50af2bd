"""The Cholesky family against numpy and scipy (src/cholesky ↔ fastla/linalg/_cholesky.py).

cholesky against numpy.linalg.cholesky on n x n matrices and on stacks of 100000 small
k x k (the lane kernels); fastla's cho_factor against raw LAPACK (op "potrf": the scipy
column is scipy.linalg.lapack.dpotrf itself, no wrapper) and against
scipy.linalg.cho_factor; cho_solve against scipy.linalg.cho_solve from scipy's factor,
with one and with n right-hand sides.  Same read-only SPD operands (B B^T + n I) and
thread count for every contender; every answer is checked after timing.

    pytest benchmarks/bench_cholesky.py --benchmark-json=bench-results.json
    python benchmarks/report.py bench-results.json
    pytest benchmarks/bench_cholesky.py -k "potrf and n2048" --bench-threads=1
    pytest benchmarks/bench_cholesky.py --benchmark-disable      # smoke: every case once
"""

import pytest

from fastla._bench.problems import CHOL_POTRF, CHOL_SOLVE, CHOL_SQUARE, CHOL_STACKED


def _by_op(cases, op):
    return [c for c in cases if c.op == op]


@pytest.mark.op("cholesky")
@pytest.mark.parametrize("case", _by_op(CHOL_SQUARE, "cholesky") + CHOL_STACKED, ids=str)
def test_cholesky(case, threads, contender, run):
    run(case)


@pytest.mark.op("potrf")
@pytest.mark.parametrize("case", CHOL_POTRF, ids=str)
def test_cho_factor_vs_raw_dpotrf(case, threads, contender, run):
    run(case)


@pytest.mark.op("cho_factor")
@pytest.mark.parametrize("case", _by_op(CHOL_SQUARE, "cho_factor"), ids=str)
def test_cho_factor(case, threads, contender, run):
    run(case)


@pytest.mark.op("cho_solve")
@pytest.mark.parametrize("case", CHOL_SOLVE, ids=str)
def test_cho_solve(case, threads, contender, run):
    run(case)
