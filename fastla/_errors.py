"""Kernel status codes -> numpy's exceptions, under the errors= policy of every factorization.

Kernels report one LAPACK-style status per matrix (0 ok, k > 0 failed at step k,
negative: fastla's own conditions such as a failed workspace allocation).  For a
stack of matrices numpy raises one LinAlgError for the whole call without saying
which slice failed; fastla lets the caller choose with the keyword-only ``errors``:

- ``'raise'`` (default): numpy's exception and message; for stacked input the
  message also names the first failing slice by its batch index, e.g.
  ``Singular matrix (at batch index (1, 0))``.
- ``'nan'``: failing slices of every floating result are filled with NaN; no
  exception.
- ``'info'``: results are returned as computed, followed by the int32 status array
  of shape ``batch_shape`` (0 = ok).
"""

import numpy as np

__all__ = ["LinAlgError", "ERRORS", "check_errors_arg", "apply_policy", "raise_for_status"]

LinAlgError = np.linalg.LinAlgError

ERRORS = ("raise", "nan", "info")

INFO_NO_MEMORY = -1  # src/_types.pxd


def check_errors_arg(errors):
    """Validate the errors= keyword before any work is done."""
    if errors not in ERRORS:
        raise ValueError(f"errors must be one of {ERRORS}, got {errors!r}")


def raise_for_status(status):
    """Raise for a negative status, which no policy can absorb."""
    if status == INFO_NO_MEMORY:
        raise MemoryError("fastla: not enough memory for the kernel workspace")
    if status < 0:
        raise RuntimeError(f"fastla: internal kernel error (status {status})")


def apply_policy(info, errors, message, results):
    """Apply the errors= policy to the per-matrix status array `info`.

    info: int32 array of the batch shape; message: numpy's message for a failure
    ("Singular matrix", "Matrix is not positive definite", ...); results: tuple of
    arrays whose leading dimensions are the batch shape.  Returns `results`, with
    `info` appended under errors='info'.
    """
    check_errors_arg(errors)       # an unknown policy must not silently mean 'nan'
    info = np.asarray(info)
    if (info < 0).any():
        raise_for_status(int(info[info < 0].flat[0]))
    failed = info != 0
    if errors == "info":
        return (*results, info)
    if not failed.any():
        return results
    if errors == "raise":
        if info.ndim == 0:
            raise LinAlgError(message)
        index = np.unravel_index(int(np.flatnonzero(failed)[0]), info.shape)
        index = tuple(int(i) for i in index)
        raise LinAlgError(f"{message} (at batch index {index if len(index) > 1 else index[0]})")
    for r in results:
        if r.dtype.kind == "f":     # integer results (pivots) keep their values
            r[failed] = np.nan
    return results
