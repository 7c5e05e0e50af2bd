"""fastla.matmul against numpy.matmul (src/gemm ↔ fastla/linalg/_gemm.py).

Square products n x n @ n x n exercise the packed BLIS-style GEMM (and, for n <= 32,
the unpacked small path); stacks of N small k x k products exercise the batch
kernels.  Both contenders get the same read-only operands and the same thread count;
each answer is checked after timing.  Tables are grouped per case, e.g.
"matmul[float64] n=1024 threads=1".

    pytest benchmarks/bench_gemm.py --benchmark-json=bench-results.json
    python benchmarks/report.py bench-results.json
    pytest benchmarks/bench_gemm.py -k "n256 or 4x4"     # ids: n256, 100000x4x4
    pytest benchmarks/bench_gemm.py --benchmark-disable  # smoke: every case once
"""

import pytest

from fastla._bench.problems import MATMUL_SQUARE, MATMUL_STACKED


@pytest.mark.op("matmul")
@pytest.mark.parametrize("case", MATMUL_SQUARE, ids=str)
def test_matmul_square(case, threads, contender, run):
    run(case)


@pytest.mark.op("matmul")
@pytest.mark.parametrize("case", MATMUL_STACKED, ids=str)
def test_matmul_stacked(case, threads, contender, run):
    run(case)
