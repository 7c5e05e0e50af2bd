"""The thin numpy.linalg functions that need no kernel of their own.

multi_dot and tensordot spend their flops in fastla's ``matmul``; the norms are
reductions over fastla's dtype rules (float32 stays float32, bool/int become float64,
other dtypes raise TypeError), with the matrix 2-norm and nuclear norm taken from
singular values.  trace, diagonal, matrix_transpose, outer, cross and vecdot move data
or reduce elementwise products, which numpy already does at memory speed, so they are
numpy's own functions behind numpy.linalg's checks.  Signatures, axis conventions,
result dtypes and exceptions are numpy.linalg's (numpy 2.x).
"""

import math

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from .._validate import LinAlgError, result_dtype
from ._gemm import matmul

__all__ = ["multi_dot", "trace", "diagonal", "matrix_transpose", "outer", "cross",
           "tensordot", "vecdot", "vector_norm", "matrix_norm", "norm"]


# --- products -------------------------------------------------------------------------

def multi_dot(arrays, *, out=None):
    """Product of two or more arrays in the cheapest evaluation order, as
    ``numpy.linalg.multi_dot``: the order minimising scalar multiplications is found by
    the matrix-chain dynamic program (Cormen et al., *Introduction to Algorithms*, 3rd
    ed., §15.2) and each product is fastla's ``matmul``.  A 1-D first (last) array is a
    row (column) vector and that dimension is removed from the result; the other arrays
    must be 2-D.  With exactly two arrays this is ``numpy.dot``, which numpy's own
    N-D and scalar semantics serve when an operand is 0-D or more than 2-D.  ``out``
    must be a C-contiguous array of the result's dtype and (for vector ends, 2-D)
    shape, as numpy requires.
    """
    n = len(arrays)
    if n < 2:
        raise ValueError("Expecting at least two arrays.")
    arrays = [np.asanyarray(a) for a in arrays]
    if n == 2:
        a, b = arrays
        if not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2):
            return np.dot(a, b, out=out)
        _check_aligned(a, b)
        return _store(matmul(a, b), out)

    first, last = arrays[0].ndim, arrays[-1].ndim
    if first == 1:
        arrays[0] = arrays[0][np.newaxis, :]
    if last == 1:
        arrays[-1] = arrays[-1][:, np.newaxis]
    for a in arrays:
        if a.ndim != 2:
            raise LinAlgError(f"{a.ndim}-dimensional array given. Array must be "
                              "two-dimensional")
    for a, b in zip(arrays, arrays[1:]):
        _check_aligned(a, b)
    split = _chain_order([a.shape[0] for a in arrays] + [arrays[-1].shape[1]])
    result = _store(_chain_product(arrays, split, 0, n - 1), out)
    if first == 1 and last == 1:
        return result[0, 0]
    if first == 1 or last == 1:
        return result.ravel()
    return result


def _chain_order(dims):
    """split[i][j] = k: the cheapest product of arrays i..j is (i..k)(k+1..j).

    Array i is dims[i] x dims[i+1].  Ties go to the smallest k, as in numpy.
    """
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1], k)
                for k in range(i, j))
    return split


def _chain_product(arrays, split, i, j):
    if i == j:
        return arrays[i]
    k = split[i][j]
    return matmul(_chain_product(arrays, split, i, k),
                  _chain_product(arrays, split, k + 1, j))


def _check_aligned(a, b):
    """numpy.dot's shape check for 1-D/2-D operands, with its message."""
    row = max(b.ndim - 2, 0)
    if a.shape[-1] != b.shape[row]:
        def fmt(shape):
            return "(" + ",".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"shapes {fmt(a.shape)} and {fmt(b.shape)} not aligned: "
                         f"{a.shape[-1]} (dim {a.ndim - 1}) != {b.shape[row]} (dim {row})")


def _store(result, out):
    """Copy `result` into numpy.dot's `out=` argument, with numpy.dot's checks."""
    if out is None:
        return result
    if not isinstance(out, np.ndarray):
        raise TypeError("'out' must be an array")
    if (out.ndim != np.ndim(result) or out.dtype != result.dtype
            or not (out.flags.c_contiguous and out.flags.aligned and out.flags.writeable)):
        raise ValueError("output array is not acceptable (must have the right datatype, "
                         "number of dimensions, and be a C-Array)")
    if out.shape != np.shape(result):
        raise ValueError("output array has wrong dimensions")
    out[...] = result
    return out[()] if out.ndim == 0 else out


def tensordot(x1, x2, /, *, axes=2):
    """Tensor dot product over the given axes, as ``numpy.linalg.tensordot``: ``axes``
    is an int N (the last N axes of x1 against the first N of x2) or a pair of axis
    sequences.  The summed axes are moved together and both operands reshaped to 2-D,
    so the whole contraction is one fastla ``matmul`` (exact products for bool/integer
    data, as numpy; TypeError for dtypes fastla does not support).
    """
    a, b = np.asarray(x1), np.asarray(x2)
    try:
        axes_a, axes_b = axes
    except TypeError:                   # an int: the last `axes` of a, the first of b
        axes_a, axes_b = range(-axes, 0), range(axes)
    axes_a = list(axes_a) if np.iterable(axes_a) else [axes_a]
    axes_b = list(axes_b) if np.iterable(axes_b) else [axes_b]
    if len(axes_a) != len(axes_b):
        raise ValueError("shape-mismatch for sum")
    axes_a = [normalize_axis_index(ax, a.ndim) for ax in axes_a]
    axes_b = [normalize_axis_index(ax, b.ndim) for ax in axes_b]
    if len(set(axes_a)) != len(axes_a) or len(set(axes_b)) != len(axes_b):
        raise ValueError("duplicate axes are not allowed in tensordot")
    if any(a.shape[i] != b.shape[j] for i, j in zip(axes_a, axes_b)):
        raise ValueError("shape-mismatch for sum")

    free_a = [k for k in range(a.ndim) if k not in axes_a]
    free_b = [k for k in range(b.ndim) if k not in axes_b]
    shape_a = [a.shape[k] for k in free_a]
    shape_b = [b.shape[k] for k in free_b]
    inner = math.prod(a.shape[k] for k in axes_a)
    a2 = a.transpose(free_a + axes_a).reshape(math.prod(shape_a), inner)
    b2 = b.transpose(axes_b + free_b).reshape(inner, math.prod(shape_b))
    return matmul(a2, b2).reshape(shape_a + shape_b)


def outer(x1, x2, /):
    """Outer product of two 1-D arrays, as ``numpy.linalg.outer``.  A rank-1 product has
    no inner dimension for a GEMM to block, so this is numpy's elementwise product, for
    every dtype.
    """
    x1, x2 = np.asanyarray(x1), np.asanyarray(x2)
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError("Input arrays must be one-dimensional, but they are "
                         f"{x1.ndim=} and {x2.ndim=}.")
    return np.outer(x1, x2)


def cross(x1, x2, /, *, axis=-1):
    """Cross product of (stacks of) 3-vectors along ``axis``, broadcasting the other
    dimensions, as ``numpy.linalg.cross`` (which, unlike numpy.cross, rejects 2-vectors).
    Elementwise arithmetic: numpy's own cross, for every dtype.
    """
    x1, x2 = np.asanyarray(x1), np.asanyarray(x2)
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors, "
                         f"but they are {x1.shape[axis]} and {x2.shape[axis]} "
                         "dimensional instead.")
    return np.cross(x1, x2, axis=axis)


def vecdot(x1, x2, /, *, axis=-1):
    """Dot products of (broadcast stacks of) vectors along ``axis``, conjugating x1, as
    ``numpy.linalg.vecdot``.  numpy's vecdot ufunc runs at memory speed while 1 x k by
    k x 1 products through a blocked GEMM are 10x slower, so this is numpy's, for every
    dtype.
    """
    return np.vecdot(x1, x2, axis=axis)


# --- data movement on the last two axes -------------------------------------------------

def trace(x, /, *, offset=0, dtype=None):
    """Sum along the ``offset`` diagonal of the last two axes of ``x`` (a stack of
    matrices), as ``numpy.linalg.trace``; ``dtype`` is the accumulator and result dtype,
    by default numpy's sum rules.  A reduction of data: numpy's own trace, for every
    dtype.
    """
    return np.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def diagonal(x, /, *, offset=0):
    """The ``offset`` diagonal of each matrix in the last two axes of ``x``, as
    ``numpy.linalg.diagonal``: a read-only view.  Pure data movement: numpy's own
    diagonal, for every dtype.
    """
    return np.diagonal(x, offset=offset, axis1=-2, axis2=-1)


def matrix_transpose(x, /):
    """Each matrix in the last two axes of ``x`` transposed, as
    ``numpy.linalg.matrix_transpose``: a view.  Pure data movement: numpy's own
    matrix_transpose, for every dtype.
    """
    return np.matrix_transpose(x)


# --- norms ----------------------------------------------------------------------------

def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm, as ``numpy.linalg.norm``: with ``axis`` None, the 2-norm of
    the flattened array for ``ord`` None (also 'fro' on 2-D, 2 on 1-D), otherwise a
    vector norm of 1-D or matrix norm of 2-D ``x``; an int or 1-tuple ``axis`` gives
    vector norms along it, a 2-tuple matrix norms over it.  ``ord`` as numpy (vectors:
    any number, ±inf, 0; matrices: 'fro', 'nuc', ±1, ±2, ±inf).  float32 gives float32,
    bool/int float64; other dtypes raise TypeError.
    """
    a = _norm_operand(x)
    if axis is None:
        if ord is None or (ord in ("f", "fro") and a.ndim == 2) or (ord == 2 and a.ndim == 1):
            flat = a.ravel(order="K")
            result = np.sqrt(np.dot(flat, flat))
            return result.reshape((1,) * a.ndim) if keepdims else result
        axis = tuple(range(a.ndim))
    elif not isinstance(axis, tuple):
        try:
            axis = (int(axis),)
        except Exception as exc:
            raise TypeError("'axis' must be None, an integer or a tuple of integers") from exc
    if len(axis) == 1:
        return _vector_norm(a, ord, axis, keepdims)
    if len(axis) == 2:
        return _matrix_norm(a, ord, axis, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """Vector norm over ``axis`` (None: all entries; an int; or a tuple of axes, taken as
    one flattened vector), as ``numpy.linalg.vector_norm``; ``ord`` any number, ±inf or
    0.  float32 gives float32, bool/int float64; other dtypes raise TypeError.
    """
    return _vector_norm(_norm_operand(x), ord, axis, keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """Norm of each matrix in the last two axes of ``x``, as ``numpy.linalg.matrix_norm``;
    ``ord`` 'fro', 'nuc', ±1, ±2 or ±inf.  float32 gives float32, bool/int float64;
    other dtypes raise TypeError.
    """
    return _matrix_norm(_norm_operand(x), ord, (-2, -1), keepdims)


def _norm_operand(x):
    a = np.asarray(x)
    return a.astype(result_dtype(a), copy=False)


def _vector_norm(a, ord, axis, keepdims):
    """Vector norms of `a` over `axis` (None, an int or a tuple: one flattened vector)."""
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord is None or ord == 2:
        return np.sqrt(np.add.reduce(a * a, axis=axis, keepdims=keepdims))
    if ord == 0:
        return np.add.reduce((a != 0).astype(a.dtype), axis=axis, keepdims=keepdims)
    absa = np.abs(a)
    if ord == np.inf:
        return absa.max(axis=axis, keepdims=keepdims, initial=0)
    if ord == -np.inf:
        return absa.min(axis=axis, keepdims=keepdims)
    if ord == 1:
        return np.add.reduce(absa, axis=axis, keepdims=keepdims)
    absa **= ord                        # in place, so the dtype stays a.dtype
    result = np.add.reduce(absa, axis=axis, keepdims=keepdims)
    return result ** np.reciprocal(ord, dtype=result.dtype)


def _matrix_norm(a, ord, axis, keepdims):
    """Matrix norms of `a` over the (row, column) axes `axis`."""
    row, col = (normalize_axis_index(ax, a.ndim) for ax in axis)
    if row == col:
        raise ValueError("Duplicate axes given.")
    if ord in (2, -2, "nuc"):
        sv = _singular_values(np.moveaxis(a, (row, col), (-2, -1)))
        if ord == "nuc":
            result = sv.sum(axis=-1)
        else:
            result = _extreme(sv, -1, largest=ord == 2)
    elif ord in (1, -1):                # largest / smallest column sum
        sums = np.add.reduce(np.abs(a), axis=row)
        result = _extreme(sums, col - (col > row), largest=ord == 1)
    elif ord in (np.inf, -np.inf):      # largest / smallest row sum
        sums = np.add.reduce(np.abs(a), axis=col)
        result = _extreme(sums, row - (row > col), largest=ord == np.inf)
    elif ord in (None, "fro", "f"):
        result = np.sqrt(np.add.reduce(a * a, axis=(row, col)))
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        shape = list(a.shape)
        shape[row] = shape[col] = 1
        result = result.reshape(shape)
    return result


def _extreme(values, axis, largest):
    """max (0 for none: a norm of nothing) or min (ValueError for none, as numpy)."""
    return values.max(axis=axis, initial=0) if largest else values.min(axis=axis)


def _singular_values(x):
    """Singular values of the stacked matrices x (..., M, N), in x's dtype."""
    from ._jacobi import svdvals      # _jacobi imports this module (cond uses norm)
    return svdvals(x)
