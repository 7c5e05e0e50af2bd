"""The QR family against numpy and scipy (src/qr ↔ fastla/linalg/_qr.py).

numpy.linalg.qr and scipy.linalg.qr in the matching mode ('r'; 'reduced' = scipy's
'economic'; 'complete' = scipy's 'full') on n x n matrices, on the tall-skinny
100000 x 50 and 10000 x 20 (fastla's TSQR path), and, against numpy only, on stacks
of 100000 small k x k matrices (the lane kernels).  Same read-only operands and
thread count for every contender; every answer is checked after timing (LAPACK's
QR ratios on a random vector, problems._check_qr).  Flops: LAWN 41
(fastla/_bench/problems.py).

    pytest benchmarks/bench_qr.py --benchmark-json=bench-results.json
    python benchmarks/report.py bench-results.json
    pytest benchmarks/bench_qr.py -k "n2048 or 100000x50 or 100000x8x8" --benchmark-max-time=0.2
    pytest benchmarks/bench_qr.py --benchmark-disable      # smoke: every case once
"""

import pytest

from fastla._bench.problems import QR_SQUARE, QR_STACKED, QR_TALL


def _by_op(cases, op):
    return [c for c in cases if c.op == op]


@pytest.mark.op("qr_r")
@pytest.mark.parametrize("case", _by_op(QR_SQUARE + QR_TALL, "qr_r"), ids=str)
def test_qr_r(case, threads, contender, run):
    run(case)


@pytest.mark.op("qr")
@pytest.mark.parametrize("case", _by_op(QR_SQUARE + QR_TALL, "qr"), ids=str)
def test_qr_reduced(case, threads, contender, run):
    run(case)


@pytest.mark.op("qr_complete")
@pytest.mark.parametrize("case", _by_op(QR_SQUARE, "qr_complete"), ids=str)
def test_qr_complete(case, threads, contender, run):
    run(case)


@pytest.mark.op("qr_r_stacked")
@pytest.mark.parametrize("case", _by_op(QR_STACKED, "qr_r_stacked"), ids=str)
def test_qr_r_stacked(case, threads, contender, run):
    run(case)


@pytest.mark.op("qr_stacked")
@pytest.mark.parametrize("case", _by_op(QR_STACKED, "qr_stacked"), ids=str)
def test_qr_reduced_stacked(case, threads, contender, run):
    run(case)
