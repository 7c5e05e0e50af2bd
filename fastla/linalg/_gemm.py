"""matmul (numpy.matmul semantics) on the packed GEMM of src/gemm."""

import numpy as np

from .._kernels import gemm as _gemm
from .._errors import raise_for_status
from .._validate import as_arrays, batch_layout, kernel_operand

__all__ = ["matmul"]

_SIGNATURE = "(n?,k),(k,m?)->(n?,m?)"


def matmul(x1, x2, /):
    """Matrix product of two arrays, as ``numpy.matmul``.

    1-D operands are promoted to a row (x1) or column (x2) and the added dimension
    is removed from the result; leading (batch) dimensions broadcast.  float32 @
    float32 is computed in float32 (as numpy); mixed inputs in numpy's result type.
    bool and integer products are exact integer products, as numpy computes them.
    """
    product = _gemm.matmul_2d(x1, x2)     # one 2-D product of one float dtype: no layers
    if product is not None:
        return product
    (a, b), wrap = as_arrays(x1, x2)
    for i, op in enumerate((a, b)):
        if op.ndim == 0:
            raise ValueError(f"matmul: Input operand {i} does not have enough dimensions "
                             f"(has 0, gufunc core with signature {_SIGNATURE} requires 1)")
    dtype = np.result_type(a, b)
    if dtype.kind in "biu":
        return np.matmul(a, b)
    if dtype not in (np.float32, np.float64):
        if dtype.kind == "c":
            raise TypeError(f"matmul: complex input ({dtype}) is not supported yet; fastla "
                            "supports float32 and float64 (and exact bool/integer products)")
        raise TypeError(f"matmul: array type {dtype} is unsupported; fastla supports float32 "
                        "and float64 (and exact bool/integer products)")

    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    m, k = a2.shape[-2:]
    k2, n = b2.shape[-2:]
    if k != k2:
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0, "
                         f"with gufunc signature {_SIGNATURE} (size {k2} is different from {k})")
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    out = np.empty(batch + (m, n), dtype=dtype)
    if out.size:
        a2 = np.broadcast_to(kernel_operand(a2, dtype), batch + (m, k))
        b2 = np.broadcast_to(kernel_operand(b2, dtype), batch + (k, n))
        shape, strides = batch_layout((a2, b2, out), batch)
        raise_for_status(_gemm.matmul_batched(a2, b2, out, m, n, k, shape, strides))
    if a.ndim == 1:
        out = out[..., 0, :]
    if b.ndim == 1:
        out = out[..., 0]
    if out.ndim == 0:
        return out[()]
    return wrap(out)
