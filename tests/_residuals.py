"""Residual checks and operand layouts shared by the test files.

Accuracy is judged against rounding-error bounds scaled by the problem size and the
dtype's eps (DESIGN.md §4, STYLE.md §3.11), never against a loose allclose: a bound
that follows from the algorithm fails as soon as a kernel loses accuracy, and passes
for any correct summation order.
"""

import numpy as np

__all__ = ["eps", "reference_dtype", "assert_matmul_bound", "LAYOUTS", "as_layout", "spd_matrix",
           "qr_residual", "orthogonality_residual"]


def eps(dtype):
    """Machine epsilon of `dtype` (2**-52 for float64, 2**-23 for float32)."""
    return float(np.finfo(dtype).eps)


def reference_dtype(dtype):
    """The precision a reference product for `dtype` results is computed in.

    float32 results are checked against float64; float64 results against numpy's
    longdouble (80-bit x87 on x86-64, eps 2**-63).  Where longdouble is only double,
    assert_matmul_bound widens the bound by the reference's own error.
    """
    return np.dtype(np.float64) if np.dtype(dtype) == np.float32 else np.dtype(np.longdouble)


def assert_matmul_bound(c, a, b, const=4.0):
    """Assert |C - A@B| <= const * k * eps * (|A| @ |B|) elementwise (numpy.matmul shapes).

    Any order of summation with or without FMA obeys |fl(A@B) - A@B| <= gamma_k |A||B|,
    gamma_k = k*u/(1-k*u), u = eps/2 (Higham, *Accuracy and Stability*, §3.5), so the
    bound holds with const = 1 already; 4 leaves room for a scaled (alpha) update.
    A and B are first cast to C's dtype (what the kernel computes with, e.g. int64 ->
    float64), then A@B is computed in reference_dtype(C.dtype); its own error
    (k * eps_ref * |A||B|) and gradual underflow (k * const * smallest subnormal) are
    added to the bound.  NaN anywhere in C fails.
    """
    c = np.asarray(c)
    dt = c.dtype
    assert dt.kind == "f", f"expected a floating result, got {dt}"
    ref = reference_dtype(dt)
    a_ref = np.asarray(a).astype(dt).astype(ref)
    b_ref = np.asarray(b).astype(dt).astype(ref)
    exact = np.matmul(a_ref, b_ref)
    assert c.shape == exact.shape, f"shape {c.shape}, numpy.matmul gives {exact.shape}"
    k = a_ref.shape[-1]
    scale = np.matmul(np.abs(a_ref), np.abs(b_ref))
    bound = (const * k * eps(dt) + 2 * k * eps(ref)) * scale \
        + const * k * float(np.finfo(dt).smallest_subnormal)
    err = np.abs(c.astype(ref) - exact)
    bad = ~(err <= bound)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        ratio = np.max(np.where(scale > 0, err / np.where(scale > 0, scale, 1), np.inf))
        raise AssertionError(
            f"{int(bad.sum())} of {bad.size} entries exceed {const}*k*eps*(|A|@|B|) "
            f"(k={k}, {dt}); first at {idx}: got {c[idx]!r}, exact {exact[idx]!r}, "
            f"bound {bound[idx]!r}; max |err|/(|A|@|B|) = {ratio:.3g} "
            f"= {ratio / (k * eps(dt)) if k else np.inf:.3g} k*eps")


LAYOUTS = ("C", "F", "T", "strided", "reversed", "misaligned", "oddstride")


def as_layout(x, layout):
    """A new array with the dtype and values of `x`, stored in `layout`.

    C, F: contiguous in that order (F of a stack: the first batch axis varies fastest);
    T: each matrix column-major, batches outermost (a transposed C stack);
    strided: a view taking every second element on every axis (column stride 2);
    reversed: negative strides on every axis;
    misaligned: C order at byte offset 1 of a uint8 buffer (flags.aligned is False);
    oddstride: rows padded by 3 bytes, so every stride but the last is not a multiple
    of the itemsize.
    """
    x = np.asarray(x)
    if layout == "C":
        return np.array(x, order="C", copy=True)
    if layout == "F":
        return np.array(x, order="F", copy=True)
    if layout == "T":
        if x.ndim < 2:
            return np.array(x, copy=True)
        return np.ascontiguousarray(np.swapaxes(x, -1, -2)).swapaxes(-1, -2)
    if layout == "strided":
        big = np.zeros(tuple(2 * s for s in x.shape), dtype=x.dtype)
        view = big[(slice(None, None, 2),) * x.ndim]
        view[...] = x
        return view
    if layout == "reversed":
        flip = (slice(None, None, -1),) * x.ndim
        return np.array(x[flip], copy=True)[flip]
    if layout in ("misaligned", "oddstride"):
        item = x.dtype.itemsize
        strides = [item] * x.ndim
        pad = 3 if layout == "oddstride" else 0
        for d in range(x.ndim - 2, -1, -1):
            strides[d] = strides[d + 1] * max(x.shape[d + 1], 1) + pad
        offset = 1 if layout == "misaligned" else 0
        nbytes = offset + item + sum((s - 1) * st for s, st in zip(x.shape, strides) if s)
        buf = np.zeros(nbytes + 8, dtype=np.uint8)
        y = np.ndarray(x.shape, dtype=x.dtype, buffer=buf, offset=offset,
                       strides=tuple(strides))
        y[...] = x
        return y
    raise ValueError(f"unknown layout {layout!r}")


def spd_matrix(rng, shape, dtype=np.float64, shift=None):
    """Symmetric positive definite test matrices B B^T + shift I (shape (..., n, n)),
    B standard normal from `rng`, computed in float64 and rounded to `dtype`.

    shift defaults to n, which keeps cond_2 around 10 for every n; shift=0 gives a
    generically definite but less well-conditioned B B^T (rank-deficient if B is wide:
    pass shape with fewer columns through rng yourself for semidefinite tests).
    """
    n = shape[-1]
    b = rng.standard_normal(tuple(shape))
    a = b @ np.swapaxes(b, -1, -2) + (n if shift is None else shift) * np.eye(n)
    return a.astype(dtype)


def qr_residual(a, q, r):
    """LAPACK's QR factorization ratio ||A - Q R||_1 / (m eps ||A||_1) (dqrt01), in
    reference_dtype; eps of Q's dtype.  A zero A gives ||Q R||_1 / (m eps)."""
    dt = np.asarray(q).dtype
    ref = reference_dtype(dt)
    ar = np.asarray(a).astype(dt).astype(ref)
    err = np.abs(ar - q.astype(ref) @ r.astype(ref)).sum(axis=-2).max(axis=-1)
    norm = np.abs(ar).sum(axis=-2).max(axis=-1)
    m = max(ar.shape[-2], 1)
    return float(np.max(err / (m * eps(dt) * np.where(norm > 0, norm, 1))))


def orthogonality_residual(q):
    """||Q^T Q - I||_1 / (m eps) for Q m x k with orthonormal columns (LAPACK dqrt01)."""
    dt = np.asarray(q).dtype
    qr_ = q.astype(reference_dtype(dt))
    k = qr_.shape[-1]
    g = np.swapaxes(qr_, -1, -2) @ qr_ - np.eye(k)
    return float(np.max(np.abs(g).sum(axis=-2), initial=0) / (max(q.shape[-2], 1) * eps(dt)))
