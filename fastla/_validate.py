"""The one validation, dtype-promotion and batching layer every public function uses.

It reproduces numpy.linalg's rules (numpy/linalg/_linalg.py: _makearray,
_commonType, _assert_stacked_2d, _assert_stacked_square) and turns arrays into what
the kernels take: one floating dtype, aligned data, strides in whole elements, and
batch dimensions described by a shape and per-operand strides (broadcast dimensions
have stride 0, so broadcasting never copies).  Inputs are copied only when a kernel
cannot read them as they are, and never written to.
"""

import math

import numpy as np

from ._config import get_float32_compute

__all__ = [
    "LinAlgError", "as_arrays", "result_dtype", "scipy_result_dtype", "compute_dtype",
    "assert_stacked_2d", "assert_stacked_square", "kernel_operand", "batch_layout",
    "working_copy",
]

LinAlgError = np.linalg.LinAlgError

SUPPORTED = ("fastla supports float32 and float64 arrays "
             "(bool and integer arrays are computed in float64)")

_FLOAT32 = np.dtype(np.float32)
_FLOAT64 = np.dtype(np.float64)


def as_arrays(*xs):
    """(tuple of ndarray views of xs, wrap), numpy's _makearray for several operands.

    wrap(result) gives the result the array subclass numpy's ufuncs would: that of
    the operand with the highest __array_priority__ among those that are subclasses.
    """
    arrays = tuple(np.asarray(x) for x in xs)
    subclassed = [x for x in xs if type(x) is not np.ndarray and hasattr(x, "__array_wrap__")]
    if not subclassed:
        return arrays, _identity
    winner = max(subclassed, key=lambda x: getattr(x, "__array_priority__", 0.0))
    return arrays, lambda r: winner.__array_wrap__(r, None, True)


def _identity(r):
    return r


def result_dtype(*arrays):
    """numpy.linalg's result dtype: float32 if every input is float32, else float64.

    bool and integer inputs count as float64.  float16, longdouble, complex, object
    and everything else raise TypeError naming what is supported.
    """
    result = _FLOAT32
    for a in arrays:
        dt = a.dtype
        if dt == _FLOAT32:
            continue
        if dt == _FLOAT64 or dt.kind in "biu":
            result = _FLOAT64
        elif dt.kind == "c":
            raise TypeError(f"array type {dt} is unsupported in linalg: complex input is "
                            f"not supported yet; {SUPPORTED}")
        else:
            raise TypeError(f"array type {dt} is unsupported in linalg; {SUPPORTED}")
    return result


def scipy_result_dtype(*arrays):
    """scipy.linalg's result dtype, for the functions fastla takes from scipy.

    scipy picks the LAPACK precision (scipy.linalg.blas.find_best_blas_type): float32
    when every input is float32, bool or an integer of at most 16 bits, else float64
    (numpy.linalg would give float64 for any integer).  Types fastla does not
    compute in raise TypeError as in result_dtype.
    """
    result_dtype(*arrays)
    for a in arrays:
        dt = a.dtype
        if dt != _FLOAT32 and not (dt.kind in "biu" and dt.itemsize <= 2):
            return _FLOAT64
    return _FLOAT32


def compute_dtype(dtype):
    """The dtype a numpy.linalg-style function computes in for results of `dtype`.

    float32 results are computed in float64 and rounded, as numpy.linalg does, unless
    fastla.float32_compute('float32') is in effect.  The scipy-style functions (lu,
    lu_factor, lu_solve, solve_triangular) compute in their scipy_result_dtype, as
    scipy calls LAPACK's single- or double-precision routine.
    """
    if dtype == _FLOAT32 and get_float32_compute() == "float64":
        return _FLOAT64
    return dtype


def assert_stacked_2d(*arrays):
    for a in arrays:
        if a.ndim < 2:
            raise LinAlgError(f"{a.ndim}-dimensional array given. Array must be at "
                              "least two-dimensional")


def assert_stacked_square(*arrays):
    for a in arrays:
        m, n = a.shape[-2:]
        if m != n:
            raise LinAlgError("Last 2 dimensions of the array must be square")


def kernel_operand(a, dtype):
    """`a` as `dtype` in a layout kernels can read: aligned, element strides.

    Returns `a` itself (no copy) when it already is; inputs are never modified, so
    callers must not write to the result.
    """
    if a.dtype != dtype:
        return a.astype(dtype)
    if not a.flags.aligned or any(s % a.itemsize for s in a.strides):
        return np.array(a, dtype=dtype, copy=True)
    return a


def batch_layout(arrays, batch_shape):
    """Describe the batch of each operand to a kernel: (shape, strides) as intp arrays.

    `arrays` must have been broadcast to `batch_shape + core` with two core
    dimensions each (np.broadcast_to views: stride 0 on broadcast dimensions).
    Returns the batch shape with unit dimensions dropped and adjacent dimensions
    merged wherever every operand allows it (so a contiguous stack is one dimension),
    and strides of shape (len(arrays), 2 + nd): per operand (row stride, column
    stride, batch strides...) in elements.
    """
    ndb = len(batch_shape)
    per_array = [[s // a.itemsize for s in a.strides] for a in arrays]
    dims = [d for d in range(ndb) if batch_shape[d] != 1]
    shape, strides = [], [[] for _ in arrays]
    for d in dims:
        if shape and all(st[-1] == el[d] * batch_shape[d]
                         for st, el in zip(strides, per_array)):
            shape[-1] *= batch_shape[d]
            for st, el in zip(strides, per_array):
                st[-1] = el[d]
            continue
        shape.append(batch_shape[d])
        for st, el in zip(strides, per_array):
            st.append(el[d])
    table = np.array([el[ndb:] + st for el, st in zip(per_array, strides)], dtype=np.intp)
    return np.array(shape, dtype=np.intp), table.reshape(len(arrays), 2 + len(shape))


def working_copy(a, dtype, batch_shape=None):
    """A new C-contiguous (N, m, n) stack of `a`'s matrices in `dtype`, for kernels
    that factor in place.

    `a` (..., m, n) is first broadcast to `batch_shape + (m, n)` if given; N is the
    product of the batch dimensions.  The copy never shares memory with `a`, so the
    caller's array is never written to.
    """
    core = a.shape[-2:]
    if batch_shape is not None:
        a = np.broadcast_to(a, tuple(batch_shape) + core)
    work = np.empty((math.prod(a.shape[:-2]),) + core, dtype=dtype)
    work.reshape(a.shape)[...] = a
    return work
