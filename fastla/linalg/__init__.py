"""fastla.linalg: a drop-in for numpy.linalg (same names, signatures, results and
errors), plus scipy-style extras whose names numpy lacks.

Each function lives in the private module of its kernel family (``_gemm`` for
matmul, ``_misc`` for the thin functions built on it, ...); this module only gathers
them.  ``__all__`` lists numpy.linalg's names in numpy.linalg.__all__'s order, then
the extras.
"""

from .._validate import LinAlgError
from ._cholesky import cho_factor, cho_solve, cholesky
from ._gemm import matmul
from ._jacobi import cond, eigh, eigvalsh, lstsq, matrix_rank, pinv, svd, svdvals
from ._lu import (det, inv, lu, lu_factor, lu_solve, matrix_power, slogdet, solve,
                  tensorinv, tensorsolve)
from ._misc import (cross, diagonal, matrix_norm, matrix_transpose, multi_dot, norm,
                    outer, tensordot, trace, vecdot, vector_norm)
from ._qr import qr
from ._triangular import solve_triangular

__all__ = [
    "matrix_power", "solve", "tensorsolve", "tensorinv", "inv", "cholesky", "eigvalsh",
    "pinv", "slogdet", "det", "svd", "svdvals", "eigh", "lstsq", "norm", "qr", "cond",
    "matrix_rank", "LinAlgError", "multi_dot", "trace", "diagonal", "cross", "outer",
    "tensordot", "matmul", "matrix_transpose", "matrix_norm", "vector_norm", "vecdot",
    "lu", "lu_factor", "lu_solve", "solve_triangular", "cho_factor", "cho_solve",
]
