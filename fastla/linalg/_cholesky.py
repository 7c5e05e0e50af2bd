"""The Cholesky family on src/cholesky: numpy.linalg's cholesky and scipy.linalg's
cho_factor and cho_solve.

Every function takes stacks (..., M, M).  Validation, dtype rules and broadcasting go
through fastla/_validate.py; the factor kernel reads the caller's array where it lies
and writes a new one (the caller's arrays are never written; overwrite_a / overwrite_b
are permissions fastla does not need), reading only the triangle it is told to.  cholesky
computes float32 input in float64 and rounds, as numpy does, unless
fastla.float32_compute('float32') is in effect; cho_factor and cho_solve compute in
scipy's precision (float32 natively, scipy's dtype rule), like lu_factor.
A matrix that is not positive definite raises numpy's LinAlgError("Matrix is not
positive definite") from cholesky and scipy's "k-th leading minor ..." message from
cho_factor, or follows the keyword-only errors='nan' | 'info' policy on stacks
(fastla/_errors.py); failed slices are NaN in the results.
"""

import numpy as np

from .._config import get_float32_compute
from .._errors import apply_policy, check_errors_arg, raise_for_status
from .._kernels import cholesky as _chol
from .._validate import (as_arrays, assert_stacked_2d, assert_stacked_square, compute_dtype,
                         kernel_operand, result_dtype, scipy_result_dtype, working_copy)

__all__ = ["cholesky", "cho_factor", "cho_solve"]

_NOT_PD = "Matrix is not positive definite"


def _potrf(a, dtype, upper, clean):
    """(factors as a new (..., n, n) array of `dtype` (float32 if widened), info) of the
    stack a.  The kernel reads a where it lies (any element strides), or factors a
    converted copy in place; small float32 matrices computed in float64 come back as
    float32 (the driver's widened path: no float64 copy of the whole stack)."""
    n = a.shape[-1]
    widen = a.dtype == np.float32 and dtype == np.float64 and n <= _chol.WIDEN_MAX_N
    src = kernel_operand(a, a.dtype if widen else dtype)
    if src is not a and src.flags.c_contiguous:
        out = src                                   # a fresh copy: factor it in place
    else:
        out = np.empty(a.shape, dtype=src.dtype)
    info = np.zeros(a.shape[:-2], dtype=np.int32)
    if out.size:
        _chol.potrf_batched(src.reshape(-1, n, n), out.reshape(-1, n, n), upper, clean,
                            info.reshape(-1), widen)
    return out, info


def cholesky(a, /, *, upper=False, errors="raise"):
    """The Cholesky factor of a (stack of) symmetric positive definite matrices, as
    ``numpy.linalg.cholesky``: L with a = L @ L.T (lower, the default), or U with
    a = U.T @ U (upper=True).  Only that triangle of a is read; the other triangle of
    the result is zero.  errors: DESIGN.md §2 (fastla/_errors.py).
    """
    if errors == "raise":
        r = _chol.cholesky_2d(a, upper, get_float32_compute() == "float64")   # no layers
        if r is not None:
            return r
    check_errors_arg(errors)
    (a,), wrap = as_arrays(a)
    assert_stacked_2d(a)
    assert_stacked_square(a)
    dtype = result_dtype(a)
    work, info = _potrf(a, compute_dtype(dtype), bool(upper), True)
    out = apply_policy(info, errors, _NOT_PD, (work.astype(dtype, copy=False),))
    return (wrap(out[0]), *out[1:]) if errors == "info" else wrap(out[0])


def _scipy_operand(a, check_finite):
    return np.asarray_chkfinite(a) if check_finite else np.asarray(a)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True, *, errors="raise"):
    """Cholesky factorization for cho_solve, as ``scipy.linalg.cho_factor``.

    Returns (c, lower): c holds the factor (U, or L if lower) in that triangle and a's
    original entries in the other one, as LAPACK's potrf leaves them (scipy's "random
    data"); stacks (..., M, M) give stacks.  A matrix that is not positive definite
    raises LinAlgError("k-th leading minor of the array is not positive definite");
    errors='nan' | 'info' (keyword-only) follow DESIGN.md §2 instead.
    """
    if errors == "raise":
        r = _chol.cho_factor_2d(a, lower, check_finite)   # one small matrix: no layers
        if r is not None:
            return r
    check_errors_arg(errors)
    a = np.atleast_2d(_scipy_operand(a, check_finite))
    if a.shape[-1] != a.shape[-2]:
        raise ValueError("Input array is expected to be square but has the shape: "
                         f"{a.shape[-2:]}.")
    dtype = scipy_result_dtype(a)
    if a.size == 0:
        return np.empty_like(a, dtype=dtype), lower
    work, info = _potrf(a, dtype, not lower, False)
    message = _NOT_PD
    if errors == "raise" and (info > 0).any():
        message = f"{int(info[info > 0].flat[0])}-th leading minor of the array is not " \
                  "positive definite"
    out = apply_policy(info, errors, message, (work,))
    return (out[0], lower, *out[1:])


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """Solve a x = b from cho_factor's (c, lower), as ``scipy.linalg.cho_solve``.

    b is a vector (..., M) when 1-D, else (..., M, K); batch dimensions of c and b
    broadcast.  c is read in place (only its factor triangle) when its dtype allows.
    """
    x = _chol.cho_solve_2d(c_and_lower, b, check_finite)   # one small system: no layers
    if x is not None:
        return x
    c, lower = c_and_lower
    c = _scipy_operand(c, check_finite)
    b1 = _scipy_operand(b, check_finite)
    if c.ndim < 2 or c.shape[-1] != c.shape[-2]:
        raise ValueError("The factored matrix c is not square.")
    n = c.shape[-1]
    b_core = b1.shape[-1:] if b1.ndim == 1 else b1.shape[-2:]
    if b1.ndim == 0 or b_core[0] != n:
        raise ValueError(f"incompatible dimensions ({c.shape[-2:]} and {b_core})")
    dtype = scipy_result_dtype(c, b1)
    batch = np.broadcast_shapes(c.shape[:-2], b1.shape[:b1.ndim - len(b_core)])
    if b1.size == 0:
        return np.empty(batch + b_core, dtype=dtype)
    x = working_copy(b1 if b1.ndim > 1 else b1[:, None], dtype, batch)
    cw = np.broadcast_to(kernel_operand(c, dtype), batch + (n, n)).reshape(-1, n, n)
    info = np.zeros(x.shape[0], dtype=np.int32)
    _chol.potrs_batched(cw, bool(lower), x, info)
    if (info < 0).any():
        raise_for_status(int(info[info < 0][0]))
    return x.reshape(batch + b_core)
