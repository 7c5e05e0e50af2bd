"""fastla.linalg.solve_triangular against scipy.linalg.solve_triangular
(src/triangular ↔ fastla/linalg/_triangular.py).

Upper triangular n x n systems with nrhs = n right-hand sides exercise the blocked
TRSM (diagonal blocks by substitution, the rest in the GEMM); nrhs = 1 the level-2
substitution.  Both contenders get the same read-only operands (a well-conditioned
triangle, problems._triangular_operands), their default arguments (check_finite=True)
and the same thread count; each answer's backward error is checked after timing.

    pytest benchmarks/bench_triangular.py --benchmark-json=bench-results.json
    pytest benchmarks/bench_triangular.py -k "float64-n1024 or n2048x1"
    pytest benchmarks/bench_triangular.py --benchmark-disable  # smoke: every case once
"""

import pytest

from fastla._bench.problems import TRIANGULAR


@pytest.mark.op("solve_triangular")
@pytest.mark.parametrize("case", TRIANGULAR, ids=str)
def test_solve_triangular(case, threads, contender, run):
    run(case)
