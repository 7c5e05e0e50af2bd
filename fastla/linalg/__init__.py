"""fastla.linalg: a drop-in for numpy.linalg (same names, signatures, results and
errors), plus scipy-style extras whose names numpy lacks.

Each function lives in the private module of its kernel family (``_gemm`` for
matmul, ...); this module only gathers them.
"""

from .._validate import LinAlgError
from ._gemm import matmul

__all__ = ["LinAlgError", "matmul"]
