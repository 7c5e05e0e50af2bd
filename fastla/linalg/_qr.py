"""The QR family on src/qr: numpy.linalg's qr, all modes.

Stacks (..., M, N) of any shape, tall, wide or square.  Validation and dtype rules go
through fastla/_validate.py; the kernels factor a C-contiguous working copy in place
(the caller's array is never written).  float32 input is computed in float64 and
rounded, as numpy does, unless fastla.float32_compute('float32') is in effect.  The
reflectors are LAPACK's (src/qr.pxd), so Q, R and mode='raw''s (h, tau) equal numpy's
to rounding.  QR cannot fail: there is no errors= policy (like det).
"""

import warnings

import numpy as np
from numpy.linalg._linalg import QRResult

from .._errors import raise_for_status
from .._kernels import qr as _qr
from .._validate import (as_arrays, assert_stacked_2d, compute_dtype, kernel_operand,
                         result_dtype, working_copy)

__all__ = ["qr"]

_MODES = ("reduced", "complete", "r", "raw")


def _check_mode(mode):
    """numpy's mode handling, deprecated spellings included."""
    if mode in _MODES:
        return mode
    if mode in ("f", "full"):
        warnings.warn("The 'full' option is deprecated in favor of 'reduced'.\n"
                      "For backward compatibility let mode default.",
                      DeprecationWarning, stacklevel=3)
        return "reduced"
    if mode in ("e", "economic"):
        warnings.warn("The 'economic' option is deprecated.", DeprecationWarning, stacklevel=3)
        return "economic"
    raise ValueError(f"Unrecognized mode '{mode}'")


def qr(a, mode="reduced"):
    """The QR factorization a = Q R of a (stack of) matrices, as ``numpy.linalg.qr``.

    mode 'reduced' -> QRResult(Q (..., M, K), R (..., K, N)), K = min(M, N);
    'complete' -> Q (..., M, M), R (..., M, N); 'r' -> R only; 'raw' -> (h, tau)
    with h (..., N, M) the transposed LAPACK factors (R and the Householder vectors)
    and tau (..., K), laid out as numpy returns them.
    """
    mode = _check_mode(mode)
    (a,), wrap = as_arrays(a)
    assert_stacked_2d(a)
    dtype = result_dtype(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    if m == n and m in _qr.SMALL_SIZES and a.size and mode != "economic":
        return _small(kernel_operand(a, dtype), mode, wrap)
    if mode in ("r", "reduced") and a.size and _qr.tsqr_takes(m, n):
        return _tall(kernel_operand(a, compute_dtype(dtype)), dtype, mode, wrap)
    w = working_copy(a, compute_dtype(dtype))
    n_batch = w.shape[0]
    tau = np.zeros((n_batch, k), dtype=w.dtype)
    mc = m if mode == "complete" and m > n else k
    q = np.empty((n_batch, m, mc), dtype=w.dtype) if mode in ("reduced", "complete") else None
    info = np.zeros(n_batch, dtype=np.int32)
    if w.size or (q is not None and q.size):
        _qr.qr_batched(w, tau, q, info)
        if (info < 0).any():
            raise_for_status(int(info[info < 0][0]))
    w = w.reshape(batch + (m, n))
    if mode == "r":
        return wrap(np.triu(w[..., :k, :]).astype(dtype, copy=False))
    if mode == "raw":
        h = np.swapaxes(w, -1, -2).astype(dtype, copy=False)
        return wrap(h), tau.reshape(batch + (k,)).astype(dtype, copy=False)
    if mode == "economic":
        return wrap(w.astype(dtype, copy=False))
    r = np.triu(w[..., :mc, :]).astype(dtype, copy=False)
    q = q.reshape(batch + (m, mc)).astype(dtype, copy=False)
    return QRResult(wrap(q), wrap(r))


def _small(a, mode, wrap):
    """Stacks of k x k, k <= 8 or 16: the lane kernels read `a` in place and write the
    results directly (computed in double, rounded once for float32)."""
    batch, k = a.shape[:-2], a.shape[-1]
    a3 = a.reshape((-1, k, k))
    n_batch = a3.shape[0]
    r = np.empty((n_batch, k, k), dtype=a.dtype)
    q = np.empty_like(r) if mode in ("reduced", "complete") else None
    tau = np.empty((n_batch, k), dtype=a.dtype) if mode == "raw" else None
    _qr.qr_small(a3, r, q, tau, mode == "raw")
    r = r.reshape(batch + (k, k))
    if mode == "r":
        return wrap(r)
    if mode == "raw":
        return wrap(np.swapaxes(r, -1, -2)), tau.reshape(batch + (k,))
    return QRResult(wrap(q.reshape(batch + (k, k))), wrap(r))


def _tall(a, dtype, mode, wrap):
    """Tall-skinny R (and Q) by TSQR (src/qr.pxd tsqr), read from `a` in place."""
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    a3 = a.reshape((-1, m, n))
    n_batch = a3.shape[0]
    r = np.empty((n_batch, n, n), dtype=a.dtype)
    q = np.empty((n_batch, m, n), dtype=a.dtype) if mode == "reduced" else None
    info = np.zeros(n_batch, dtype=np.int32)
    _qr.tsqr_batched(a3, r, q, info)
    if (info < 0).any():
        raise_for_status(int(info[info < 0][0]))
    r = wrap(r.reshape(batch + (n, n)).astype(dtype, copy=False))
    if mode == "r":
        return r
    return QRResult(wrap(q.reshape(batch + (m, n)).astype(dtype, copy=False)), r)
