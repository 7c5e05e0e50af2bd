"""The LU family on src/lu: numpy.linalg's solve, inv, det, slogdet, matrix_power,
tensorsolve and tensorinv, and scipy.linalg's lu, lu_factor and lu_solve.

Every function takes stacks (..., M, N).  Validation, dtype rules and broadcasting go
through fastla/_validate.py; the factorizations work in place on C-contiguous working
copies, while solve, inv and det read a C-contiguous operand of the compute dtype
where it lies.  The caller's arrays are never written, except with scipy's overwrite_a
/ overwrite_b permissions: lu, lu_factor and lu_solve then work in the caller's array
when it already is the C-contiguous stack of the result dtype the kernel needs (else
they copy, as scipy does when it cannot overwrite).  float32 input is computed in float64 and rounded, as numpy
does, unless fastla.float32_compute('float32') is in effect.  Failures (an exactly
zero pivot) go through fastla/_errors.py: numpy's LinAlgError("Singular matrix")
by default, or the keyword-only errors='nan' | 'info' policy on stacks.  det and
slogdet have no errors= argument: like numpy's they never fail (singular -> 0.0).
"""

import operator
import warnings

import numpy as np
from numpy.linalg._linalg import SlogdetResult

from .._errors import apply_policy, check_errors_arg, raise_for_status
from .._config import get_float32_compute
from .._kernels import lu as _lu
from .._validate import (as_arrays, assert_stacked_2d, assert_stacked_square, compute_dtype,
                         result_dtype, scipy_result_dtype, working_copy)
from ._gemm import matmul

__all__ = ["solve", "inv", "det", "slogdet", "matrix_power", "tensorsolve", "tensorinv",
           "lu", "lu_factor", "lu_solve"]

_SINGULAR = "Singular matrix"


def _read_stack(a, dtype, batch=None):
    """(stack, scratch): a as the C-contiguous (N, m, n) stack of `dtype` the solve, inv
    and det drivers read, without a copy when a already is one (then scratch is False:
    the driver must not write it), else a working copy the driver may overwrite."""
    if a.dtype == dtype and a.flags.c_contiguous and a.flags.aligned \
            and (batch is None or a.shape[:-2] == tuple(batch)):
        return a.reshape((-1,) + a.shape[-2:]), False
    return working_copy(a, dtype, batch), True


def _widen(dtype, n):
    """Whether the drivers' widened path takes results of `dtype` from n x n matrices:
    float32 (so every operand is float32) computed in float64, small matrices (no
    float64 copy of the whole stack is made then)."""
    return dtype == np.float32 and compute_dtype(dtype) == np.float64 \
        and 0 < n <= _lu.WIDEN_MAX_N


def _status(n_batch, kmin):
    """Pivot and status arrays for a batch of n_batch factorizations."""
    return np.empty((n_batch, kmin), dtype=np.int32), np.zeros(n_batch, dtype=np.int32)


def _shape(shape):
    """A shape as numpy's gufunc messages print it: (2,3,3), (3,)."""
    return "(" + ",".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _broadcast_batch(a, b, b_core, out_core):
    """The common batch shape of a (..., n, n) and b (..., *b_core), or numpy's
    gufunc broadcasting error."""
    try:
        return np.broadcast_shapes(a.shape[:-2], b.shape[:b.ndim - len(b_core)])
    except ValueError:
        def remapped(x, core):
            return _shape(x.shape[:x.ndim - core]).rstrip(")").rstrip(",").replace("()", "(") \
                + ("," if x.ndim > core else "") + ",".join(["newaxis"] * core) + ")"
        raise ValueError(
            "operands could not be broadcast together with remapped shapes "
            f"[original->remapped]: {_shape(a.shape)}->{remapped(a, 2)} "
            f"{_shape(b.shape)}->{remapped(b, len(b_core))}  and requested shape "
            f"{_shape(out_core)}") from None


# ------------------------------------------------------------------ numpy.linalg

def _float32_via_float64():
    """Whether float32 input computes in float64 now (numpy's rule, the default), so the
    single-call paths may take float32 too."""
    return get_float32_compute() == "float64"


def solve(a, b, *, errors="raise"):
    """Solve a @ x = b, as ``numpy.linalg.solve``.

    b is a vector (..., M) only when it is exactly 1-D, else a stack of matrices
    (..., M, K); batch dimensions broadcast.  errors: DESIGN.md §2 (fastla/_errors.py).
    """
    if errors == "raise":
        x = _lu.solve_2d(a, b, _float32_via_float64())   # one small system: no layers
        if x is not None:
            return x
    check_errors_arg(errors)
    (a,), _ = as_arrays(a)
    assert_stacked_2d(a)
    assert_stacked_square(a)
    (b,), wrap = as_arrays(b)
    dtype = result_dtype(a, b)
    n = a.shape[-1]
    if b.ndim == 1:
        name, sig, b_core = "solve1", "(m,m),(m)->(m)", (n,)
    else:
        name, sig, b_core = "solve", "(m,m),(m,n)->(m,n)", (n, b.shape[-1] if b.ndim else 0)
        if b.ndim < 2:
            raise ValueError(f"{name}: Input operand 1 does not have enough dimensions "
                             f"(has {b.ndim}, gufunc core with signature {sig} requires 2)")
    m_b = b.shape[b.ndim - len(b_core)]
    if m_b != n:
        raise ValueError(f"{name}: Input operand 1 has a mismatch in its core dimension 0, "
                         f"with gufunc signature {sig} (size {m_b} is different from {n})")
    batch = _broadcast_batch(a, b, b_core, b_core)
    k = b_core[1] if len(b_core) == 2 else 1
    bm = b if b.ndim > 1 else b[:, None]
    widen = _widen(dtype, n)
    kernel_dtype = dtype if widen else compute_dtype(dtype)
    if bm.size:
        rhs, copied = _read_stack(bm, kernel_dtype, batch)
    else:
        rhs, copied = working_copy(bm, kernel_dtype, batch), True
    # The caller's right-hand sides are read where they lie when they can be (no
    # copy first): x is then a new output the driver writes once.
    x = rhs if copied else np.empty(rhs.shape, dtype=rhs.dtype)
    piv, info = _status(x.shape[0], n)
    if x.size:
        aw, scratch = _read_stack(a, x.dtype, batch)
        _lu.solve_batched(aw, x, piv, info, scratch, None if copied else rhs, widen)
    elif n and x.shape[0]:
        # No right-hand side columns, but numpy still factors a and reports a
        # singular one: factor a copy only for its status.
        _lu.getrf_batched(working_copy(a, x.dtype, batch), piv, info)
    x = x.reshape(batch + b_core).astype(dtype, copy=False)
    return _finish(info, batch, errors, (x,), wrap)


def _finish(info, batch, errors, results, wrap=None):
    """The errors= policy on results whose leading dimensions are `batch`; wraps the
    first result; returns it alone unless there are several or errors='info'."""
    out = apply_policy(info.reshape(batch) if info.size else np.zeros(batch, np.int32),
                       errors, _SINGULAR, results)
    if wrap is not None:
        out = (wrap(out[0]), *out[1:])
    return out[0] if len(out) == 1 else out


def inv(a, *, errors="raise"):
    """The inverse of a (stack of) square matrices, as ``numpy.linalg.inv``.

    errors: DESIGN.md §2 (fastla/_errors.py).
    """
    if errors == "raise":
        r = _lu.inv_2d(a, _float32_via_float64())        # one small matrix: no layers
        if r is not None:
            return r
    check_errors_arg(errors)
    (a,), wrap = as_arrays(a)
    assert_stacked_2d(a)
    assert_stacked_square(a)
    dtype = result_dtype(a)
    n = a.shape[-1]
    batch = a.shape[:-2]
    widen = _widen(dtype, n)
    out = np.empty(a.shape, dtype=dtype if widen else compute_dtype(dtype))
    piv, info = _status(out.size and out.size // (n * n), n)
    if out.size:
        aw, scratch = _read_stack(a, out.dtype)
        _lu.inv_batched(aw, out.reshape(-1, n, n), piv, info, scratch, widen)
    return _finish(info, batch, errors, (out.astype(dtype, copy=False),), wrap)


def _det_parts(a, slog):
    """(a as ndarray, result dtype, det or (sign, logabs) as float64 batch arrays)."""
    a = np.asarray(a)
    assert_stacked_2d(a)
    assert_stacked_square(a)
    dtype = result_dtype(a)
    n = a.shape[-1]
    batch = a.shape[:-2]
    n_batch = int(np.prod(batch))
    r1 = np.ones(n_batch)
    r2 = np.zeros(n_batch)
    if n and n_batch:
        piv, info = _status(n_batch, n)
        widen = _widen(dtype, n)
        aw, scratch = _read_stack(a, dtype if widen else compute_dtype(dtype))
        if slog:
            _lu.slogdet_batched(aw, r1, r2, piv, info, scratch, widen)
        else:
            _lu.det_batched(aw, r1, piv, info, scratch, widen)
        if (info < 0).any():
            raise_for_status(int(info[info < 0][0]))
    return dtype, r1.reshape(batch), r2.reshape(batch)


def det(a):
    """The determinant of a (stack of) square matrices, as ``numpy.linalg.det``.

    The product of U's diagonal with the sign of the pivoting, accumulated without
    overflow or underflow where the determinant is representable, and exact for
    integer-valued matrices whose determinant is (src/lu.pxd, det_from_lu).  Exactly
    singular -> 0.0; 0 x 0 -> 1.0.
    """
    r = _lu.det_2d(a, _float32_via_float64())            # one small matrix: no layers
    if r is not None:
        return r
    dtype, d, _ = _det_parts(a, False)
    d = d.astype(dtype, copy=False)
    return d[()] if d.ndim == 0 else d


def slogdet(a):
    """Sign and natural log of |det a|, as ``numpy.linalg.slogdet``: a SlogdetResult
    (numpy's own type).  Singular -> (0, -inf)."""
    dtype, sign, logabs = _det_parts(a, True)
    sign = sign.astype(dtype, copy=False)
    logabs = logabs.astype(dtype, copy=False)
    return SlogdetResult(sign[()] if sign.ndim == 0 else sign,
                         logabs[()] if logabs.ndim == 0 else logabs)


def matrix_power(a, n):
    """a raised to the integer power n, as ``numpy.linalg.matrix_power``: repeated
    squaring through fastla's matmul (binary decomposition of n, LSB first), n < 0
    through inv, n = 0 the identity in a's dtype.  Integer matrices stay integer."""
    a = np.asanyarray(a)
    assert_stacked_2d(a)
    assert_stacked_square(a)
    try:
        n = operator.index(n)
    except TypeError as e:
        raise TypeError("exponent must be an integer") from e
    if a.dtype == object:
        raise TypeError(f"array type {a.dtype} is unsupported in linalg; fastla supports "
                        "float32 and float64 arrays (bool and integer arrays too)")
    if n == 0:
        a = np.empty_like(a)
        a[...] = np.eye(a.shape[-2], dtype=a.dtype)
        return a
    if n < 0:
        a = inv(a)
        n = abs(n)
    if n == 1:
        return a
    if n == 2:
        return matmul(a, a)
    if n == 3:
        return matmul(matmul(a, a), a)
    z = result = None
    while n > 0:
        z = a if z is None else matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else matmul(result, z)
    return result


def tensorsolve(a, b, axes=None):
    """Solve tensordot(a, x, axes=b.ndim) = b for x, as ``numpy.linalg.tensorsolve``."""
    (a,), wrap = as_arrays(a)
    b = np.asarray(b)
    an = a.ndim
    if axes is not None:
        allaxes = list(range(an))
        for k in axes:
            allaxes.remove(k)
            allaxes.insert(an, k)
        a = a.transpose(allaxes)
    oldshape = a.shape[-(an - b.ndim):]
    prod = 1
    for k in oldshape:
        prod *= k
    if a.size != prod ** 2:
        raise np.linalg.LinAlgError(
            "Input arrays must satisfy the requirement \
            prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])"
        )
    res = wrap(solve(a.reshape(prod, prod), b.ravel()))
    res.shape = oldshape
    return res


def tensorinv(a, ind=2):
    """The inverse of an N-d array for tensordot, as ``numpy.linalg.tensorinv``."""
    a = np.asarray(a)
    oldshape = a.shape
    prod = 1
    if ind > 0:
        invshape = oldshape[ind:] + oldshape[:ind]
        for k in oldshape[ind:]:
            prod *= k
    else:
        raise ValueError("Invalid ind argument.")
    return inv(a.reshape(prod, -1)).reshape(*invshape)


# ------------------------------------------------------------ scipy.linalg names

def _scipy_operand(a, check_finite, name="a"):
    a = np.asarray_chkfinite(a) if check_finite else np.asarray(a)
    if a.ndim < 2:
        raise ValueError("The input array must be at least two-dimensional.")
    return a


def _in_place(x, dtype, batch):
    """Whether an overwrite_* permission can be used: x is already the writeable,
    aligned, C-contiguous stack of `dtype` and batch shape `batch` a kernel works on."""
    return (x.dtype == dtype and x.flags.c_contiguous and x.flags.aligned
            and x.flags.writeable and x.shape[:-2] == tuple(batch))


def _getrf(a, overwrite_a=False):
    """(lu, piv, info) of the stack a (..., m, n) in a's result dtype: the shared core of
    lu and lu_factor.  overwrite_a: factor a itself when it can be (no copy)."""
    dtype = scipy_result_dtype(a)
    m, n = a.shape[-2:]
    batch = a.shape[:-2]
    if overwrite_a and _in_place(a, dtype, batch):
        work = a.reshape((-1, m, n))
    else:
        work = working_copy(a, dtype)          # scipy's precision: LAPACK's s/d routine
    piv, info = _status(work.shape[0], min(m, n))
    if work.size:
        _lu.getrf_batched(work, piv, info)
        if (info < 0).any():            # no workspace: piv is not set, nothing to return
            raise_for_status(int(info[info < 0].flat[0]))
    else:
        info[...] = 0
    return (work.reshape(a.shape).astype(dtype, copy=False),
            piv.reshape(batch + (min(m, n),)), info.reshape(batch))


def lu_factor(a, overwrite_a=False, check_finite=True, *, errors="warn"):
    """LU factorization with partial pivoting, as ``scipy.linalg.lu_factor``.

    Returns (lu, piv): L (unit diagonal not stored) and U in one array, and piv, the
    0-based LAPACK pivots (row i was interchanged with row piv[i]).  Stacks (..., M, N)
    give (..., M, N) and (..., min(M, N)).  A singular matrix is factored anyway and,
    by default, scipy's LinAlgWarning is issued; errors='raise' | 'nan' | 'info'
    (keyword-only) follow DESIGN.md §2 instead.
    """
    if errors != "warn":
        check_errors_arg(errors)
    else:
        r = _lu.lu_factor_2d(a, check_finite)      # one small float matrix: no layers
        if r is not None:
            return r
    a = _scipy_operand(a, check_finite)
    if a.size == 0:
        return np.empty_like(a), np.empty(a.shape[:-2] + (0,), dtype=np.int32)
    lu_, piv, info = _getrf(a, overwrite_a)
    if errors == "warn":
        if (info > 0).any():
            from scipy.linalg import LinAlgWarning
            warnings.warn(f"Diagonal number {int(info[info > 0].flat[0])} is exactly zero. "
                          "Singular matrix.", LinAlgWarning, stacklevel=2)
        return lu_, piv
    return apply_policy(info, errors, _SINGULAR, (lu_, piv))


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """Solve a x = b (trans=0) or a^T x = b (trans=1 or 2) from lu_factor's (lu, piv),
    as ``scipy.linalg.lu_solve``.  b is a vector (..., M) when 1-D, else (..., M, K);
    batch dimensions of lu, piv and b broadcast."""
    if trans in (0, 1, 2):
        x = _lu.lu_solve_2d(lu_and_piv, b, trans != 0, check_finite)   # no layers
        if x is None:                               # one right-hand side, any order
            x = _lu.lu_solve_vector(lu_and_piv, b, trans != 0, check_finite)
        if x is not None:
            return x
    lu_, piv = lu_and_piv
    lu_ = np.asarray(lu_)
    piv = np.asarray(piv)
    b1 = np.asarray_chkfinite(b) if check_finite else np.asarray(b)
    if trans not in (0, 1, 2):
        raise ValueError(f"(trans>=0 && trans <=2) failed for 1st keyword trans: "
                         f"getrs:trans={trans}")
    assert_stacked_2d(lu_)
    n = lu_.shape[-1]
    b_core = b1.shape[-1:] if b1.ndim == 1 else b1.shape[-2:]
    if b1.ndim == 0 or lu_.shape[-2] != b_core[0] or lu_.shape[-2] != n:
        raise ValueError(f"Shapes of lu {lu_.shape[-2:]} and b {b_core} are incompatible")
    dtype = scipy_result_dtype(lu_, b1)
    batch = np.broadcast_shapes(lu_.shape[:-2], piv.shape[:-1], b1.shape[:b1.ndim - len(b_core)])
    bm = b1 if b1.ndim > 1 else b1[:, None]
    if overwrite_b and _in_place(bm, dtype, batch):
        x = bm.reshape((-1,) + bm.shape[-2:])    # solved in place: no copy
    else:
        x = working_copy(bm, dtype, batch)
    if x.size:
        pw = np.ascontiguousarray(np.broadcast_to(piv, batch + (n,)), dtype=np.int32)
        if pw.min() < 0 or pw.max() >= n:     # the kernel trusts them
            raise ValueError("lu_solve: pivot indices must lie in [0, n)")
        _, info = _status(x.shape[0], 0)
        # lu is only read: pass it in place when it is one contiguous stack (scipy's
        # lu_factor returns column-major factors: the kernel reads them transposed).
        lu_t = np.swapaxes(lu_, -1, -2)
        fortran = False
        if lu_.shape[:-2] == batch and lu_.dtype == x.dtype and lu_.flags.aligned \
                and lu_.flags.c_contiguous:
            lu_w = lu_.reshape(-1, n, n)
        elif lu_.shape[:-2] == batch and lu_.dtype == x.dtype and lu_.flags.aligned \
                and lu_t.flags.c_contiguous and n > 16:
            lu_w, fortran = lu_t.reshape(-1, n, n), True
        else:
            lu_w = working_copy(lu_, x.dtype, batch)
        _lu.getrs_batched(lu_w, pw.reshape(-1, n), x, trans != 0, info, fortran)
        if (info < 0).any():
            raise_for_status(int(info[info < 0][0]))
    return x.reshape(batch + b_core).astype(dtype, copy=False)


def lu(a, permute_l=False, overwrite_a=False, check_finite=True, p_indices=False):
    """LU factorization A = P L U, as ``scipy.linalg.lu``: (P, L, U), or (P L, U) with
    permute_l, or (p, L, U) with p_indices (row indices: A = L[p] @ U).  L is M x K unit
    lower trapezoidal, U K x N upper, K = min(M, N); stacks give stacks."""
    a = _scipy_operand(a, check_finite)
    dtype = scipy_result_dtype(a)
    *nd, m, n = a.shape
    k = min(m, n)
    if min(a.shape) == 0:
        L = np.empty(nd + [m, k], dtype=dtype)
        U = np.empty(nd + [k, n], dtype=dtype)
        if permute_l:
            return L, U
        P = np.empty(nd + [0], dtype=np.int32) if p_indices else np.empty(nd + [0, 0], dtype)
        return P, L, U
    if (m, n) == (1, 1):
        a1 = a.astype(dtype, copy=True)
        if permute_l:
            return np.ones_like(a1), a1
        P = np.zeros(nd + [m], dtype=int) if p_indices else np.ones_like(a1)
        return P, np.ones_like(a1), a1
    lu_, piv, _ = _getrf(a, overwrite_a)
    # one pass in the kernel module (numpy's tril/take_along_axis cost more passes, and
    # numpy 2.4's buffered iterator can crash when its buffer allocation fails)
    p, L, U, P = _lu.split_factors(np.ascontiguousarray(lu_).reshape(-1, m, n),
                                   piv.reshape(-1, k), permute_l, not (permute_l or p_indices))
    L, U = L.reshape(nd + [m, k]), U.reshape(nd + [k, n])
    if permute_l:
        return L, U
    if p_indices:
        return p.reshape(nd + [m]), L, U
    return P.reshape(nd + [m, m]), L, U
