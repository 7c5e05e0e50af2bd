"""solve_triangular (scipy.linalg's signature and semantics) on src/triangular.

Stacks: `a` is (..., M, M); `b` is one right-hand side (M,) per slice when it is
exactly 1-D, else (..., M, K) -- scipy >= 1.15's batching rule (its
``_apply_over_batch(('a', 2), ('b', '1|2'))``, which loops over slices in Python; here
one kernel call covers the batch).  Batch dimensions broadcast.  Beyond scipy: zero-size
batches give empty results (scipy raises), and junk `trans` values raise ValueError
(scipy passes them on to LAPACK unchecked).

Dtypes follow scipy (float32 for float32 and small-integer input, else float64);
float32 is computed in float64 and rounded unless fastla.float32_compute('float32')
is in effect.  A zero on the diagonal (unit_diagonal=False) is LAPACK trtrs's
"singular matrix: resolution failed at diagonal i" (0-based i, as scipy prints it);
stacks take the keyword-only errors='raise' | 'nan' | 'info' policy (fastla/_errors.py).
"""

import numpy as np

from .._errors import apply_policy, check_errors_arg, raise_for_status
from .._kernels import triangular as _triangular
from .._validate import batch_layout, kernel_operand, scipy_result_dtype

__all__ = ["solve_triangular"]

_TRANS = {"N": 0, "T": 1, "C": 2}


def _writable_in_place(b, a, dtype, shape):
    """Whether the kernel may solve straight into the caller's b (overwrite_b=True):
    scipy does when b needs no conversion; the kernel takes any strides, so here
    only dtype, alignment, writeability, shape (no broadcast) and overlap matter."""
    return (type(b) is np.ndarray and b.dtype == dtype and b.shape == shape
            and b.flags.writeable and b.flags.aligned
            and not any(s % b.itemsize for s in b.strides)
            and not np.may_share_memory(a, b))


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True, *, errors="raise"):
    """Solve ``a @ x = b`` for x, with `a` triangular, as ``scipy.linalg.solve_triangular``.

    trans: 0 or 'N' (a x = b), 1 or 'T' (a^T x = b), 2 or 'C' (a^H x = b, = a^T for
    real a).  Only the `lower` (default: upper) triangle of a is read, and not its
    diagonal with unit_diagonal.  a (..., M, M); b (M,) / (..., M) when 1-D, else
    (..., M, K); the result has b's core shape and the broadcast batch shape.
    overwrite_b lets the result be written into b (and b be returned) when b already
    has the result's dtype and shape; errors= as the module docstring says.
    """
    check_errors_arg(errors)
    a1 = np.asarray_chkfinite(a) if check_finite else np.asarray(a)
    b1 = np.asarray_chkfinite(b) if check_finite else np.asarray(b)
    if a1.ndim < 2 or a1.shape[-1] != a1.shape[-2]:
        raise ValueError("expected square matrix")
    m = a1.shape[-1]
    b_core = b1.shape[-2:] if b1.ndim >= 2 else b1.shape
    single = a1.ndim == 2 and b1.ndim <= 2
    batch = () if single else np.broadcast_shapes(a1.shape[:-2], b1.shape[:-len(b_core)])
    if b1.ndim == 0 or b_core[0] != m:
        raise ValueError(f"shapes of a {a1.shape[-2:]} and b {b_core} are incompatible")
    code = _TRANS.get(trans, trans) if isinstance(trans, str) else trans
    if code not in (0, 1, 2):
        raise ValueError(f"trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    dtype = scipy_result_dtype(a1, b1)
    work_dtype = dtype             # scipy's precision: LAPACK's s/d routine
    k = b_core[1] if len(b_core) == 2 else 1
    out_shape = batch + b_core
    if m == 0 or k == 0 or 0 in batch:
        x = np.empty(out_shape, dtype=dtype)
        return (x, np.zeros(batch, dtype=np.int32)) if errors == "info" else x

    in_place = overwrite_b and _writable_in_place(b1, a1, work_dtype, out_shape)
    if single:                              # one system: no batch description
        x = b1 if in_place else np.array(b1, dtype=work_dtype, order="C")
        info = _triangular.trsm_2d(kernel_operand(a1, work_dtype), x, bool(lower),
                                   code != 0, bool(unit_diagonal))
        if info == 0 and errors != "info":
            return x if x.dtype == dtype else x.astype(dtype)
        info = np.asarray(info, dtype=np.int32)
    else:
        # x: the working copy the kernel overwrites, viewed as batch + (m, k).
        if in_place:
            x = b1
        else:
            x = np.empty(out_shape, dtype=work_dtype)
            x[...] = b1
        x2 = x if len(b_core) == 2 else x[..., np.newaxis]
        a2 = np.broadcast_to(kernel_operand(a1, work_dtype), batch + (m, m))
        shape, strides = batch_layout((a2, x2), batch)
        info = np.empty(batch, dtype=np.int32)
        raise_for_status(_triangular.trsm_batched(
            a2, x2, info, m, k, shape, strides, True, bool(lower), code != 0,
            bool(unit_diagonal)))
    if x.dtype != dtype:
        x = x.astype(dtype)
    first = info.flat[np.flatnonzero(info)[0]] if info.any() else 0
    message = f"singular matrix: resolution failed at diagonal {first - 1}"
    result = apply_policy(info, errors, message, (x,))
    return result if errors == "info" else result[0]
