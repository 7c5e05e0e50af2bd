"""The Jacobi family on src/jacobi: numpy.linalg's svd, svdvals, eigh, eigvalsh, pinv,
matrix_rank, lstsq and cond (norm / matrix_norm with ord 2, -2, 'nuc' use svdvals).

The SVD is one-sided Jacobi after QR with column pivoting, the symmetric eigensolver
the same on a Cholesky factor (two-sided Jacobi up to order 10; src/jacobi.pxd):
slower than LAPACK's divide and conquer at large n,
but every singular value of a graded matrix D1 B D2, and every eigenvalue of a graded
positive definite D B D, comes out with a small *relative* error (about eps times the
condition number of B), where numpy's gesdd / syevd lose the small ones entirely.  For
indefinite matrices eigenvalues are accurate to eps * ||H|| (absolute), as LAPACK's.

Every function takes stacks (..., M, N); lstsq too, beyond numpy.  float32 input is
computed in float64 and rounded unless fastla.float32_compute('float32') is in effect.
Failures (no convergence, which in practice means a NaN or Inf entry for the SVD)
raise numpy's LinAlgError("SVD did not converge") or ("Eigenvalues did not
converge"); keyword-only errors='nan' | 'info' choose otherwise (fastla/_errors.py).
As numpy's eigh, a non-finite entry gives NaN eigenvalues rather than an error.
"""

import math

import numpy as np
from numpy.linalg._linalg import EighResult, SVDResult

from .._config import get_float32_compute
from .._errors import apply_policy, check_errors_arg
from .._kernels import jacobi as _jacobi
from .._validate import (LinAlgError, as_arrays, assert_stacked_2d, assert_stacked_square,
                         compute_dtype, result_dtype, working_copy)
from ._gemm import matmul

__all__ = ["svd", "svdvals", "eigh", "eigvalsh", "pinv", "matrix_rank", "lstsq", "cond"]

_SVD_FAILED = "SVD did not converge"


def _float32_via_float64():
    """Whether float32 input computes in float64 now (numpy's rule, the default), so
    the single-call paths may take float32 too."""
    return get_float32_compute() == "float64"
_EIG_FAILED = "Eigenvalues did not converge"
_NOVALUE = np._NoValue


def _svd(a, cdt, compute_uv, full_matrices, in_place=True):
    """(u, s, vh, info) of the stack a (..., m, n) in the compute dtype cdt; u and vh are
    None without compute_uv; info has a's batch shape.  in_place: tall-skinny matrices
    may be read where they lie (_svd_tall)."""
    *batch, m, n = a.shape
    batch = tuple(batch)
    k = min(m, n)
    info = np.zeros(batch, dtype=np.int32)
    if k == 0 or math.prod(batch) == 0:
        s = np.zeros(batch + (k,), dtype=cdt)
        if not compute_uv:
            return None, s, None, info
        u = np.zeros(batch + ((m, m) if full_matrices else (m, k)), dtype=cdt)
        vh = np.zeros(batch + ((n, n) if full_matrices else (k, n)), dtype=cdt)
        if k == 0 and full_matrices:
            u[...] = np.eye(m, dtype=cdt)
            vh[...] = np.eye(n, dtype=cdt)
        return u, s, vh, info
    if m == n and n in _jacobi.LANE_ORDERS:
        return _svd_square(a, cdt, compute_uv, batch, info)
    if in_place and not (compute_uv and full_matrices):
        if _jacobi.tall_applies(m, n, 0, compute_uv):
            return _svd_tall(a, cdt, compute_uv, batch, info)
        if _jacobi.tall_applies(n, m, 0, compute_uv):
            # Wide: through the transpose, a view.  A^T = U S V^T gives A = V S U^T.
            ut, s, vt, info = _svd_tall(np.swapaxes(a, -1, -2), cdt, compute_uv, batch, info)
            if not compute_uv:
                return None, s, None, info
            return np.swapaxes(vt, -1, -2), s, np.swapaxes(ut, -1, -2), info
    tall = m >= n
    rows = max(m, n)
    # The kernel wants the k columns of the tall matrix M (A, or A^T when A is wide) as
    # the rows of a C-contiguous stack: A^T's rows for tall A, A's own rows for wide A.
    w = _columns_as_rows(a, cdt) if tall else working_copy(a, cdt)
    s = np.empty((w.shape[0], k), dtype=cdt)
    flat_info = info.reshape(-1)
    if not compute_uv:
        _jacobi.svd_batched(w, s, None, None, flat_info)
        return None, s.reshape(batch + (k,)), None, info
    vmh = np.empty((w.shape[0], k, k), dtype=cdt)
    if not full_matrices and _jacobi.u_over_a_applies(rows, k):
        # The thin U of a tall-skinny M comes back over the working stack, row-major.
        _jacobi.svd_batched(w, s, None, vmh, flat_info, u_over_a=True)
        ut = np.swapaxes(w.reshape(w.shape[0], rows, k), -1, -2)
    else:
        ut = np.empty((w.shape[0], rows if full_matrices else k, rows), dtype=cdt)
        _jacobi.svd_batched(w, s, ut, vmh, flat_info)
    # M = U_M S V_M^T; for wide A = M^T, U = V_M and V^T = U_M^T.
    if tall:
        u, vh = np.swapaxes(ut, -1, -2), vmh
    else:
        u, vh = np.swapaxes(vmh, -1, -2), ut
    return (u.reshape(batch + u.shape[1:]), s.reshape(batch + (k,)),
            vh.reshape(batch + vh.shape[1:]), info)


def _svd_tall(a, cdt, compute_uv, batch, info):
    """_svd of tall-skinny matrices (no full U), read where they lie by the kernel
    (jacobi.pxd gesvj_tall): no transposed working copy, no pass to scale it.
    Matrices it declines (entries beyond 2^+-64, which need the working copy's
    scaling) go through the general path."""
    *_, m, n = a.shape
    a3 = _in_place_stack(a, cdt)
    s = np.empty((a3.shape[0], n), dtype=cdt)
    u = np.empty((a3.shape[0], m, n), dtype=cdt) if compute_uv else None
    vh = np.empty((a3.shape[0], n, n), dtype=cdt) if compute_uv else None
    flat_info = info.reshape(-1)
    _jacobi.svd_tall_batched(a3, s, vh, u, None, None, None, flat_info)
    redo = np.flatnonzero(flat_info == _jacobi.PREPARE)
    if redo.size:
        ur, s[redo], vhr, flat_info[redo] = _svd(a3[redo], cdt, compute_uv, False,
                                                 in_place=False)
        if compute_uv:
            u[redo], vh[redo] = ur, vhr
    s = s.reshape(batch + (n,))
    if not compute_uv:
        return None, s, None, info
    return u.reshape(batch + (m, n)), s, vh.reshape(batch + (n, n)), info


def _in_place_stack(a, cdt):
    """The stack a (..., m, n) as an (N, m, n) array of dtype cdt that the kernels can
    read where it lies (aligned, strides in whole elements): a itself when it is."""
    a3 = np.asarray(a, dtype=cdt).reshape((-1,) + a.shape[-2:])
    if not a3.flags.aligned or any(st % a3.itemsize for st in a3.strides):
        a3 = a3.copy()
    return a3


def _columns_as_rows(a, cdt, out=None):
    """A new C-contiguous (N, n, m) stack of the stack a (..., m, n)'s transposes (the
    working stack of svd_batched), or written into out (N, n, m)."""
    *batch, m, n = a.shape
    if out is None:
        out = np.empty((math.prod(batch), n, m), dtype=cdt)
    if a.dtype == cdt:
        a3 = a.reshape(-1, m, n)
        if not any(s % a.itemsize for s in a3.strides):
            _jacobi.copy_transposed(a3, out)
            return out
    out.reshape(tuple(batch) + (n, m))[...] = np.swapaxes(a, -1, -2)
    return out


def _svd_square(a, cdt, compute_uv, batch, info):
    """_svd of square matrices of the lane kernels' orders: the driver only reads a, so
    a C-contiguous input of the compute dtype goes as it is (a working copy of a large
    stack costs a fresh array's page faults)."""
    k = a.shape[-1]
    work = (a.reshape(-1, k, k) if a.dtype == cdt and a.flags.c_contiguous
            else working_copy(a, cdt))
    s = np.empty(batch + (k,), dtype=cdt)
    ut = vh = None
    if compute_uv:
        ut = np.empty(batch + (k, k), dtype=cdt)
        vh = np.empty(batch + (k, k), dtype=cdt)
    _jacobi.svd_square_batched(work, s.reshape(-1, k),
                               None if ut is None else ut.reshape(-1, k, k),
                               None if vh is None else vh.reshape(-1, k, k),
                               info.reshape(-1))
    return None if ut is None else np.swapaxes(ut, -1, -2), s, vh, info


def _finish(info, errors, message, results):
    """errors= policy on results (tuple); the results alone, or with info under 'info'."""
    out = apply_policy(info, errors, message, results)
    return out if len(out) > 1 else out[0]


def svd(a, full_matrices=True, compute_uv=True, hermitian=False, *, errors="raise"):
    """Singular value decomposition, as ``numpy.linalg.svd``: an SVDResult (U, S, Vh)
    with a = U @ (S[..., None] * Vh), S descending, or S alone without compute_uv.

    One-sided Jacobi after QR with column pivoting: every singular value has a small
    relative error on graded matrices (see the module docstring).  hermitian=True
    takes the eigenvalue route, as numpy.  errors: DESIGN.md §2 (fastla/_errors.py).
    """
    if errors == "raise" and not hermitian:
        r = _jacobi.svd_2d(a, compute_uv, full_matrices,                # one small matrix
                           _float32_via_float64())
        if r is not None:
            return SVDResult(*r) if compute_uv else r
    check_errors_arg(errors)
    (a,), wrap = as_arrays(a)
    if hermitian:
        return _svd_hermitian(a, wrap, compute_uv, errors)
    assert_stacked_2d(a)
    dtype = result_dtype(a)
    u, s, vh, info = _svd(a, compute_dtype(dtype), compute_uv, full_matrices)
    failed = info != 0
    if failed.any():        # the kernels leave a failed slice's outputs unwritten
        for r in (u, s, vh):
            if r is not None:
                r[failed] = np.nan
    if not compute_uv:
        return _finish(info, errors, _SVD_FAILED, (s.astype(dtype, copy=False),))
    out = apply_policy(info, errors, _SVD_FAILED, (u.astype(dtype, copy=False),
                                                  s.astype(dtype, copy=False),
                                                  vh.astype(dtype, copy=False)))
    result = SVDResult(wrap(out[0]), out[1], wrap(out[2]))
    return (result, out[3]) if errors == "info" else result


def _svd_hermitian(a, wrap, compute_uv, errors):
    """numpy's hermitian route: |eigenvalues| sorted descending, their signs moved into V."""
    if not compute_uv:
        r = eigvalsh(a, errors=errors)
        w, info = r if errors == "info" else (r, None)
        s = np.sort(np.abs(w), axis=-1)[..., ::-1]
        return s if info is None else (s, info)
    r = eigh(a, errors=errors)
    (w, v), info = (r[0], r[1]) if errors == "info" else (r, None)
    sgn = np.copysign(1.0, w).astype(w.dtype)
    s = np.abs(w)
    order = np.argsort(s, axis=-1)[..., ::-1]
    sgn = np.take_along_axis(sgn, order, axis=-1)
    s = np.take_along_axis(s, order, axis=-1)
    u = np.take_along_axis(np.asarray(v), order[..., None, :], axis=-1)
    vt = np.swapaxes(u * sgn[..., None, :], -1, -2)
    result = SVDResult(wrap(u), s, wrap(vt))
    return result if info is None else (result, info)


def svdvals(x, /, *, errors="raise"):
    """Singular values, descending, as ``numpy.linalg.svdvals``."""
    return svd(x, compute_uv=False, errors=errors)


def _eigh(a, UPLO, vectors, errors):
    UPLO = UPLO.upper()
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    if errors == "raise":
        r = _jacobi.eigh_2d(a, UPLO == "L", vectors, _float32_via_float64())
        if r is not None:
            return EighResult(*r) if vectors else r
    check_errors_arg(errors)
    (a,), wrap = as_arrays(a)
    assert_stacked_2d(a)
    assert_stacked_square(a)
    dtype = result_dtype(a)
    cdt = compute_dtype(dtype)
    *batch, n, _ = a.shape
    batch = tuple(batch)
    info = np.zeros(batch, dtype=np.int32)
    w = np.empty(batch + (n,), dtype=cdt)
    z = np.empty(batch + (n, n), dtype=cdt) if vectors else None
    if n and w.size:
        # The driver only reads a: a C-contiguous input of the compute dtype goes as it is.
        work = (a.reshape(-1, n, n) if a.dtype == cdt and a.flags.c_contiguous
                else working_copy(a, cdt))
        _jacobi.eigh_batched(work, UPLO == "L", w.reshape(-1, n),
                             None if z is None else z.reshape(-1, n, n), info.reshape(-1))
    w = w.astype(dtype, copy=False)
    if not vectors:
        return _finish(info, errors, _EIG_FAILED, (w,))
    v = np.swapaxes(z, -1, -2).astype(dtype, copy=False)      # eigenvectors as columns
    out = apply_policy(info, errors, _EIG_FAILED, (w, v))
    result = EighResult(out[0], wrap(out[1]))
    return (result, out[2]) if errors == "info" else result


def eigh(a, UPLO="L", *, errors="raise"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, as
    ``numpy.linalg.eigh``, read from its lower ('L') or upper ('U') triangle only.

    Jacobi (one-sided on the Cholesky factor; two-sided up to order 10): positive
    definite graded matrices get every eigenvalue to high relative accuracy;
    indefinite ones eps * ||a|| absolute accuracy (module docstring).
    """
    return _eigh(a, UPLO, True, errors)


def eigvalsh(a, UPLO="L", *, errors="raise"):
    """Eigenvalues (ascending) of a symmetric matrix, as ``numpy.linalg.eigvalsh``."""
    return _eigh(a, UPLO, False, errors)


def pinv(a, rcond=None, hermitian=False, *, rtol=_NOVALUE):
    """Moore-Penrose pseudo-inverse, as ``numpy.linalg.pinv`` (numpy 2's rcond / rtol
    rules): V diag(1/s) U^T over the singular values above rcond * max(s)."""
    (a,), wrap = as_arrays(a)
    if rcond is None:
        if rtol is _NOVALUE:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(a.shape[-2:]) * np.finfo(a.dtype).eps
        else:
            rcond = rtol
    elif rtol is not _NOVALUE:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    rcond = np.asarray(rcond)
    if a.size == 0 and math.prod(a.shape[-2:]) == 0:
        m, n = a.shape[-2:]
        return wrap(np.empty(a.shape[:-2] + (n, m), dtype=a.dtype))
    u, s, vt = svd(a, full_matrices=False, hermitian=hermitian)
    cutoff = rcond[..., np.newaxis] * np.amax(s, axis=-1, keepdims=True)
    large = s > cutoff
    s = np.divide(1, s, where=large, out=s)
    s[~large] = 0
    return wrap(matmul(np.swapaxes(vt, -1, -2), s[..., np.newaxis] * np.swapaxes(u, -1, -2)))


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """Number of singular values above tol (default max(M, N) * eps * max(s)), as
    ``numpy.linalg.matrix_rank``."""
    if rtol is not None and tol is not None:
        raise ValueError("`tol` and `rtol` can't be both set.")
    A = np.asarray(A)
    if A.ndim < 2:
        return int(not np.all(A == 0))
    S = svd(A, compute_uv=False, hermitian=hermitian)
    if tol is None:
        if rtol is None:
            rtol = max(A.shape[-2:]) * np.finfo(S.dtype).eps
        else:
            rtol = np.asarray(rtol)[..., np.newaxis]
        tol = S.max(axis=-1, keepdims=True, initial=0) * rtol
    else:
        tol = np.asarray(tol)[..., np.newaxis]
    return np.count_nonzero(S > tol, axis=-1)


def lstsq(a, b, rcond=None):
    """Least-squares solution of a @ x = b, as ``numpy.linalg.lstsq``: (x, residuals,
    rank, s), through the SVD (numpy uses gelsd): singular values at or below
    rcond * max(s) count as zero (rcond < 0: machine precision).

    Beyond numpy, a (..., M, N) and b (..., M, K) may be stacks (batch dimensions
    broadcast; b is a vector only when 1-D): x, rank and s are then stacked too, and
    the residuals (..., K) are returned when M > N and every matrix has full rank.
    """
    r = _jacobi.lstsq_2d(a, b, rcond, _float32_via_float64())   # one small system
    if r is not None:
        return r
    (a,), _ = as_arrays(a)
    (b,), wrap = as_arrays(b)
    is_1d = b.ndim == 1
    if is_1d:
        b = b[:, np.newaxis]
    for x in (a, b):
        if x.ndim < 2:
            raise LinAlgError(f"{x.ndim}-dimensional array given. Array must be two-dimensional")
    m, n = a.shape[-2:]
    m2, n_rhs = b.shape[-2:]
    if m != m2:
        raise LinAlgError("Incompatible dimensions")
    dtype = result_dtype(a, b)
    cdt = compute_dtype(dtype)
    if rcond is None:
        rcond = np.finfo(cdt).eps * max(n, m)
    elif rcond < 0:
        rcond = np.finfo(cdt).eps
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + (m, n))
    b = np.broadcast_to(b, batch + (m, n_rhs)).astype(cdt)
    resids = None
    if m >= n > 0 and n_rhs and math.prod(batch):
        # The kernels return U^T b without forming U.
        if _jacobi.tall_applies(m, n, n_rhs):
            # Tall-skinny a, read where it lies: [a b] = QR carries Q^T b, and the
            # residuals too.
            a3 = _in_place_stack(a, cdt)
            b3 = b.reshape(-1, m, n_rhs)
            s = np.empty((a3.shape[0], n), dtype=cdt)
            vh = np.empty((a3.shape[0], n, n), dtype=cdt)
            utb = np.empty((a3.shape[0], n, n_rhs), dtype=cdt)
            resids = np.empty((a3.shape[0], n_rhs), dtype=cdt)
            info = np.zeros(a3.shape[0], dtype=np.int32)
            _jacobi.svd_tall_batched(a3, s, vh, None, b3, utb, resids, info)
            redo = np.flatnonzero(info == _jacobi.PREPARE)
            if redo.size:
                s[redo], vh[redo], info[redo], utb[redo] = _lstsq_working_copy(
                    a3[redo], b3[redo], cdt)
                resids = None
        else:
            s, vh, info, utb = _lstsq_working_copy(a, b, cdt)
        s, vh, info = s.reshape(batch + (n,)), vh.reshape(batch + (n, n)), info.reshape(batch)
        utb = utb.reshape(batch + (n, n_rhs))
    else:
        u, s, vh, info = _svd(a, cdt, True, False)
        utb = matmul(np.swapaxes(u, -1, -2), b)
    apply_policy(info, "raise", "SVD did not converge in Linear Least Squares", ())
    large = s > rcond * np.amax(s, axis=-1, keepdims=True, initial=0)
    rank = np.count_nonzero(large, axis=-1).astype(np.int32)
    # (U^T b) / s, not (1 / s) (U^T b): a subnormal s has no finite reciprocal, and a
    # zero component of U^T b must give 0 (numpy's gelsd), not Inf * 0 = NaN.
    with np.errstate(over="ignore"):
        y = np.divide(utb, s[..., np.newaxis], where=large[..., np.newaxis],
                      out=np.zeros_like(utb, dtype=s.dtype))
    x = matmul(np.swapaxes(vh, -1, -2), y)
    if m > n and np.all(rank == n):
        if resids is None:
            r = b - matmul(a.astype(cdt, copy=False), x)
            resids = np.einsum("...ij,...ij->...j", r, r)
        resids = resids.reshape(batch + (n_rhs,)).astype(dtype, copy=False)
    else:
        resids = np.array([], dtype=dtype)
    if is_1d:
        x = x[..., 0]
    if not batch:
        rank = rank[()]
    return wrap(x.astype(dtype)), wrap(resids), rank, s.astype(dtype, copy=False)


def _lstsq_working_copy(a, b, cdt):
    """(s, vh, info, U^T b), flat over the batch, for the stacks a (..., m, n), m >= n,
    and b (..., m, nrhs) of one batch shape: b's columns follow a's in one working
    stack, which a tall a factors together with them ([a b] = QR carries Q^T b)."""
    *batch, m, n = a.shape
    n_rhs = b.shape[-1]
    w = np.empty((math.prod(batch), n + n_rhs, m), dtype=cdt)
    _columns_as_rows(a, cdt, w[:, :n, :])
    _columns_as_rows(b, cdt, w[:, n:, :])
    s = np.empty((w.shape[0], n), dtype=cdt)
    vh = np.empty((w.shape[0], n, n), dtype=cdt)
    info = np.zeros(w.shape[0], dtype=np.int32)
    _jacobi.svd_batched(w, s, None, vh, info, None, n_rhs)
    return s, vh, info, np.swapaxes(w[:, n:, :n], -1, -2)


def _nuclear(x):
    """Nuclear norms of the stack x, NaN where the SVD fails (non-finite entries)."""
    s, info = svd(x, compute_uv=False, errors="info")
    return np.where(info != 0, np.nan, s.sum(axis=-1))


def cond(x, p=None):
    """Condition number, as ``numpy.linalg.cond``: through the singular values for p in
    (None, 2, -2), else norm(x, p) * norm(inv(x), p); NaN from a singular matrix
    becomes Inf unless x itself holds NaN."""
    from ._lu import inv
    from ._misc import norm
    x = np.asarray(x)
    if x.size == 0 and math.prod(x.shape[-2:]) == 0:
        raise LinAlgError("cond is not defined on empty arrays")
    if p is None or p in {2, -2}:
        s = _jacobi.svd_2d(x, False, False, _float32_via_float64())    # one small matrix
        if s is not None:
            # In Python floats, which overflow to Inf without numpy's warning (numpy
            # divides under errstate); a float32 quotient rounded from the float64 one
            # is the correctly rounded float32 quotient.
            num, den = (float(s[-1]), float(s[0])) if p == -2 else (float(s[0]), float(s[-1]))
            r = num / den if den != 0 else math.inf                     # 0 / 0 too
            if r > float(np.finfo(s.dtype).max):
                r = math.inf
            return s.dtype.type(r)
        # numpy: NaN input raises (SVD did not converge), an Inf entry gives Inf; the
        # SVD of either fails here, so slices with Inf but no NaN become Inf below.
        s, info = svd(x, compute_uv=False, errors="info")
        failed = info != 0
        if failed.any():
            if np.isnan(x[failed]).any():
                raise LinAlgError(_SVD_FAILED)
            s[failed] = np.inf
        with np.errstate(all="ignore"):
            r = s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
            if failed.any():
                r = np.where(failed, np.inf, r)[()]
    else:
        assert_stacked_2d(x)
        assert_stacked_square(x)
        dtype = result_dtype(x)
        with np.errstate(all="ignore"):
            invx = inv(x, errors="nan")
            if p == "nuc":
                # numpy takes the SVD of x and of inv(x): NaN in either (a singular x
                # inverts to NaN) raises; Inf without NaN gives Inf (its gesdd returns
                # NaN).  Here the SVD of either fails: raise for NaN, Inf below.
                if np.isnan(x).any() or np.isnan(invx).any():
                    raise LinAlgError(_SVD_FAILED)
                r = _nuclear(x) * _nuclear(invx)
            else:
                r = norm(x, p, axis=(-2, -1)) * norm(invx, p, axis=(-2, -1))
        r = r.astype(dtype, copy=False)
    nan_mask = np.isnan(r)
    if nan_mask.any():
        nan_mask &= ~np.isnan(x).any(axis=(-2, -1))
        if r.ndim > 0:
            r[nan_mask] = np.inf
        elif nan_mask:
            r = r.dtype.type(np.inf)
    return r
