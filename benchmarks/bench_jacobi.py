"""The Jacobi family against numpy and scipy (src/jacobi ↔ fastla/linalg/_jacobi.py).

svd (full U and V) against numpy.linalg.svd and scipy.linalg.svd (gesdd), and against
scipy's gesvd driver; thin svd, svdvals and lstsq on tall matrices (100000 x 50,
10000 x 20) where the QR preconditioning does most of the work; eigh, eigvalsh and
pinv against numpy; stacks of N small k x k matrices (svd, eigh).  Same read-only
operands and thread count for every contender; every answer is checked after timing
(problems._check_svd and friends).

    pytest benchmarks/bench_jacobi.py --benchmark-json=bench-results.json
    python benchmarks/report.py bench-results.json
    pytest benchmarks/bench_jacobi.py -k "100000x4x4 or n256" --bench-threads=1
    pytest benchmarks/bench_jacobi.py --benchmark-disable      # smoke: every case once
"""

import pytest

from fastla._bench.problems import JACOBI_SQUARE, JACOBI_STACKED, JACOBI_TALL

ALL = JACOBI_SQUARE + JACOBI_TALL + JACOBI_STACKED


def _by_op(op):
    return [c for c in ALL if c.op == op]


@pytest.mark.op("svd")
@pytest.mark.parametrize("case", _by_op("svd"), ids=str)
def test_svd(case, threads, contender, run):
    run(case)


@pytest.mark.op("svd_stacked")
@pytest.mark.parametrize("case", _by_op("svd_stacked"), ids=str)
def test_svd_stacked(case, threads, contender, run):
    run(case)


@pytest.mark.op("svd_gesvd")
@pytest.mark.parametrize("case", _by_op("svd_gesvd"), ids=str)
def test_svd_vs_gesvd(case, threads, contender, run):
    run(case)


@pytest.mark.op("svd_thin")
@pytest.mark.parametrize("case", _by_op("svd_thin"), ids=str)
def test_svd_thin(case, threads, contender, run):
    run(case)


@pytest.mark.op("svdvals")
@pytest.mark.parametrize("case", _by_op("svdvals"), ids=str)
def test_svdvals(case, threads, contender, run):
    run(case)


@pytest.mark.op("eigh")
@pytest.mark.parametrize("case", _by_op("eigh"), ids=str)
def test_eigh(case, threads, contender, run):
    run(case)


@pytest.mark.op("eigvalsh")
@pytest.mark.parametrize("case", _by_op("eigvalsh"), ids=str)
def test_eigvalsh(case, threads, contender, run):
    run(case)


@pytest.mark.op("pinv")
@pytest.mark.parametrize("case", _by_op("pinv"), ids=str)
def test_pinv(case, threads, contender, run):
    run(case)


@pytest.mark.op("lstsq")
@pytest.mark.parametrize("case", _by_op("lstsq"), ids=str)
def test_lstsq(case, threads, contender, run):
    run(case)
