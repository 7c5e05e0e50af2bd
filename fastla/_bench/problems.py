"""Benchmark problems: what is computed, on which inputs, how many flops it costs,
and how to tell a right answer from a wrong one.

One ``Case`` is one table of the report: an operation, a dtype and operand shapes.
The benchmarks (``benchmarks/bench_<stem>.py``) and the report command (``python -m
fastla bench``, fastla/_bench/) time every contender on ``case.build()`` and then pass
the result to ``case.check``, which fails on a wrong answer and returns its scaled
residual; ``case.flops`` gives GFLOP/s.  Nothing here imports fastla, so the case list
can be read without a build.

Flop counts are the conventional ones of the LAPACK Working Notes and of every BLAS
benchmark (a multiply and an add are two flops), so GFLOP/s compare with published
machine peaks: C = A B with A m x k, B k x n costs 2 m n k; X = A^-1 B with A n x n
triangular and B n x nrhs costs n^2 nrhs (n(n-1)/2 multiply-adds and n divisions per
column); the LU family's counts are LAPACK Working Note 41's (see LU_SIZES).
"""

import dataclasses
import functools
import zlib

import numpy as np

__all__ = ["OPS", "DTYPES", "Case", "MATMUL_SQUARE", "MATMUL_STACKED", "TRIANGULAR",
           "LU_SQUARE", "LU_GETRF", "LU_SOLVE", "LU_STACKED", "JACOBI_SQUARE", "JACOBI_TALL",
           "JACOBI_STACKED", "QR_SQUARE", "QR_TALL", "QR_STACKED", "CASES"]

DTYPES = ("float64", "float32")

# Which callable each contender times for an operation: the PUBLIC entry point on
# every side, so validation, allocation and dispatch are part of what is measured.
# A path starting with "." names a wrapper in this module (e.g. one qr mode).
# A contender without the operation is simply not run for it (scipy has no matmul).
OPS = {
    "matmul": {"fastla": "fastla.matmul", "numpy": "numpy.matmul"},
    "solve_triangular": {"fastla": "fastla.linalg.solve_triangular",
                         "scipy": "scipy.linalg.solve_triangular"},
    "lu_factor": {"fastla": "fastla.linalg.lu_factor", "scipy": "scipy.linalg.lu_factor"},
    # Raw LAPACK (float64 cases only): the 'scipy' column is dgetrf itself, no wrapper.
    "getrf": {"fastla": "fastla.linalg.lu_factor", "scipy": "scipy.linalg.lapack.dgetrf"},
    "lu_solve": {"fastla": "fastla.linalg.lu_solve", "scipy": "scipy.linalg.lu_solve"},
    "solve": {"fastla": "fastla.linalg.solve", "numpy": "numpy.linalg.solve"},
    "inv": {"fastla": "fastla.linalg.inv", "numpy": "numpy.linalg.inv"},
    "det": {"fastla": "fastla.linalg.det", "numpy": "numpy.linalg.det"},
    # Jacobi family.  svd: full U and V (scipy: gesdd, its default driver); svd_gesvd:
    # the same against scipy's QR-iteration driver; svd_thin: full_matrices=False.
    "svd": {"fastla": "fastla.linalg.svd", "numpy": "numpy.linalg.svd",
            "scipy": "scipy.linalg.svd"},
    # Stacks without scipy (scipy.linalg.svd loops over a batch in Python: seconds).
    "svd_stacked": {"fastla": "fastla.linalg.svd", "numpy": "numpy.linalg.svd"},
    "svd_gesvd": {"fastla": "fastla.linalg.svd", "scipy": ".scipy_svd_gesvd"},
    "svd_thin": {"fastla": ".fastla_svd_thin", "numpy": ".numpy_svd_thin",
                 "scipy": ".scipy_svd_thin"},
    "svdvals": {"fastla": "fastla.linalg.svdvals", "numpy": "numpy.linalg.svdvals",
                "scipy": "scipy.linalg.svdvals"},
    "eigh": {"fastla": "fastla.linalg.eigh", "numpy": "numpy.linalg.eigh"},
    "eigvalsh": {"fastla": "fastla.linalg.eigvalsh", "numpy": "numpy.linalg.eigvalsh"},
    "pinv": {"fastla": "fastla.linalg.pinv", "numpy": "numpy.linalg.pinv"},
    "lstsq": {"fastla": "fastla.linalg.lstsq", "numpy": "numpy.linalg.lstsq",
              "scipy": "scipy.linalg.lstsq"},
    # QR, one op per mode (the callables below bind it); scipy's modes: 'economic' is
    # numpy's 'reduced', 'full' its 'complete', 'r' returns (R,).  Stacks without scipy
    # (scipy.linalg.qr loops over a batch in Python, ~30 us per matrix).
    "qr": {"fastla": ".fastla_qr", "numpy": ".numpy_qr",
           "scipy": ".scipy_qr"},
    "qr_r": {"fastla": ".fastla_qr_r", "numpy": ".numpy_qr_r",
             "scipy": ".scipy_qr_r"},
    "qr_complete": {"fastla": ".fastla_qr_complete",
                    "numpy": ".numpy_qr_complete", "scipy": ".scipy_qr_complete"},
    "qr_stacked": {"fastla": ".fastla_qr", "numpy": ".numpy_qr"},
    "qr_r_stacked": {"fastla": ".fastla_qr_r", "numpy": ".numpy_qr_r"},
}


class _WithMode:
    """`path`(a, mode=mode), the function imported on first call (this module imports
    no contender); one attribute lookup and call more than the bare function."""

    def __init__(self, path, mode):
        self.path, self.mode, self.fn = path, mode, None

    def __call__(self, a):
        if self.fn is None:
            import importlib
            module, _, name = self.path.rpartition(".")
            self.fn = getattr(importlib.import_module(module), name)
        return self.fn(a, mode=self.mode)


fastla_qr = _WithMode("fastla.linalg.qr", "reduced")
numpy_qr = _WithMode("numpy.linalg.qr", "reduced")
scipy_qr = _WithMode("scipy.linalg.qr", "economic")
fastla_qr_r = _WithMode("fastla.linalg.qr", "r")
numpy_qr_r = _WithMode("numpy.linalg.qr", "r")
scipy_qr_r = _WithMode("scipy.linalg.qr", "r")
fastla_qr_complete = _WithMode("fastla.linalg.qr", "complete")
numpy_qr_complete = _WithMode("numpy.linalg.qr", "complete")
scipy_qr_complete = _WithMode("scipy.linalg.qr", "full")


@dataclasses.dataclass(frozen=True)
class Case:
    """One benchmark problem.

    op      key of OPS
    dtype   'float64' or 'float32'
    shapes  operand shapes, e.g. ((1024, 1024), (1024, 1024)) or ((N, k, k), (N, k, k))
    label   readable size, part of the group name: 'n=1024', 'N=100000 k=4'
    key     the pytest id, usable with -k (which cannot parse '='): 'n1024', '100000x4x4'
    flops   exact flop count of one call (module docstring)
    """

    op: str
    dtype: str
    shapes: tuple
    label: str
    key: str
    flops: int

    @property
    def id(self):
        return f"{self.dtype}-{self.key}"

    def group(self, threads):
        """pytest-benchmark group: every contender of one case shares one table."""
        return f"{self.op}[{self.dtype}] {self.label} threads={threads}"

    def build(self):
        """The operands (cached: every contender and thread count gets the same arrays).

        Standard normal entries drawn in float64 (then shaped for the operation by
        _PREPARE, e.g. made triangular) and rounded to the case's dtype, from a seed
        fixed by the shapes: the float32 and float64 cases use the same matrices, and
        a rerun the same numbers.
        """
        return _build(self.op, self.shapes, self.dtype)

    def check(self, result):
        """Fail unless `result` is a correct answer for build()'s operands; return the
        check's largest scaled residual (bound 30; matmul: error / rounding bound,
        bound 1), or None for a check that computes no single number."""
        return _CHECKS[self.op](self, result)

    def __str__(self):
        return self.id


@functools.lru_cache(maxsize=1)
def _build(op, shapes, dtype):
    rng = np.random.default_rng(_seed(shapes))
    arrays = tuple(rng.standard_normal(s) for s in shapes)
    if op in _PREPARE:
        arrays = _PREPARE[op](*arrays)
    return tuple(_read_only(a, dtype) for a in arrays)


def _read_only(a, dtype):
    """Floating arrays rounded to `dtype` (integer ones, e.g. pivots, kept), read-only;
    tuples (an (lu, piv) operand) element by element."""
    if isinstance(a, tuple):
        return tuple(_read_only(x, dtype) for x in a)
    if isinstance(a, bool):             # a flag inside an operand, e.g. cho_solve's lower
        return a
    a = a.astype(dtype) if a.dtype.kind == "f" else a.copy()
    a.flags.writeable = False           # a contender that writes its input fails loudly
    return a


def _triangular_operands(a, b):
    """A well-conditioned upper triangle (diagonal 2, off-diagonal N(0, 1/n): the
    solution stays O(|b|) at every n, where a random triangle's grows like 2^n)."""
    n = a.shape[-1]
    return np.triu(a) / np.sqrt(n) + 2 * np.eye(n), b


def _lu_solve_operands(a, b):
    """((lu, piv), b): scipy's factorization of A, the input lu_solve takes."""
    import scipy.linalg
    return scipy.linalg.lu_factor(a), b


_PREPARE = {"solve_triangular": _triangular_operands, "lu_solve": _lu_solve_operands}


def _seed(shapes):
    """A seed from the shapes alone (Python's hash() of a tuple is salted per run)."""
    return zlib.crc32(repr(shapes).encode())


# ---------------------------------------------------------------------------- checks

@functools.lru_cache(maxsize=1)
def _matmul_reference(shapes, dtype):
    """(A B, bound) in float64 for the operands of `shapes`.

    bound = c * eps * (|A| |B|) elementwise, eps of the case's dtype, c = min(k, 8 sqrt(k)).
    Any summation order, with or without FMA, stays within gamma_k |A||B| of the exact
    product (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., §3.5);
    k * eps = 2 k u covers the candidate and the float64 reference together.  For
    k > 64 the probabilistic bound lambda sqrt(k) u |A||B| (Higham & Mary, SIAM J. Sci.
    Comput. 41(5), 2019) with lambda = 8 fails with probability < 1e-13 per entry and is
    tighter: float32 at k = 2048 then notices a single dropped term of average size.
    Measured here: at most 2.6 eps |A||B| for numpy and fastla on every case.
    """
    a, b = (x.astype(np.float64) for x in _build("matmul", shapes, dtype))
    k = a.shape[-1]
    c = min(k, 8 * np.sqrt(k))
    bound = (c * np.finfo(dtype).eps) * np.matmul(np.abs(a), np.abs(b))
    return np.matmul(a, b), bound


def _check_matmul(case, result):
    a, b = case.build()
    expected_shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
    assert isinstance(result, np.ndarray), f"{case}: result is {type(result).__name__}"
    assert result.shape == expected_shape, f"{case}: shape {result.shape} != {expected_shape}"
    assert result.dtype == np.dtype(case.dtype), f"{case}: dtype {result.dtype} != {case.dtype}"
    ref, bound = _matmul_reference(case.shapes, case.dtype)
    err = np.abs(result.astype(np.float64) - ref)
    bad = ~(err <= bound)               # NaN counts as bad
    if bad.any():
        where = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))
        raise AssertionError(
            f"{case}: {int(bad.sum())} of {bad.size} entries outside the rounding-error "
            f"bound (_matmul_reference); first at {where}: got {result[where]!r}, "
            f"expected {ref[where]!r} +- {bound[where]:.3g}")
    return float(np.max(err / bound, initial=0.0))


def _check_solve_triangular(case, result):
    """LAPACK's dtrt02 backward error, ||b - A x||_1 / (||A||_1 ||x||_1 n eps) <= 30 per
    column (eps of the case's dtype; residual in float64)."""
    a, b = (x.astype(np.float64) for x in case.build())
    assert isinstance(result, np.ndarray), f"{case}: result is {type(result).__name__}"
    assert result.shape == b.shape, f"{case}: shape {result.shape} != {b.shape}"
    assert result.dtype == np.dtype(case.dtype), f"{case}: dtype {result.dtype} != {case.dtype}"
    x = result.astype(np.float64)
    n = a.shape[-1]
    ratio = np.abs(b - a @ x).sum(axis=0) / (
        np.abs(a).sum(axis=0).max() * np.abs(x).sum(axis=0) * n * np.finfo(case.dtype).eps)
    assert np.all(ratio <= 30), f"{case}: backward error {np.max(ratio):.3g} > 30"
    return float(np.max(ratio, initial=0.0))


def _raw(case):
    """The float64 draws behind case.build() (before _PREPARE and rounding)."""
    rng = np.random.default_rng(_seed(case.shapes))
    return [rng.standard_normal(s) for s in case.shapes]


def _freivalds(case, a, apply, bound_scale):
    """max over slices of |apply(A v) - v|-type residuals for one random v, relative to
    n eps (checks an n x n factorization or inverse in O(n^2) instead of O(n^3))."""
    v = np.random.default_rng(1).standard_normal(a.shape[:-1] + (1,))
    n = a.shape[-1]
    r = apply(v)
    ratio = np.abs(r).sum(axis=-2) / (bound_scale(v) * n * np.finfo(case.dtype).eps)
    assert np.all(ratio <= 30), f"{case}: scaled residual {np.max(ratio):.3g} > 30"
    return float(np.max(ratio, initial=0.0))


def _check_lu_factor(case, result):
    """P A = L U checked on a random vector: |P A v - L (U v)|_1 / (n eps |A|_1 |v|_1) <= 30."""
    (a,) = (x.astype(np.float64) for x in case.build())
    lu, piv = result[0], result[1]
    assert lu.shape == a.shape and lu.dtype == np.dtype(case.dtype), f"{case}: {lu.shape} {lu.dtype}"
    lu = lu.astype(np.float64)
    n = a.shape[-1]
    perm = np.arange(n)
    for i, p in enumerate(np.asarray(piv)):
        perm[[i, p]] = perm[[p, i]]
    L, U = np.tril(lu, -1) + np.eye(n), np.triu(lu)
    anorm = np.abs(a).sum(axis=0).max()
    return _freivalds(case, a, lambda v: (a @ v)[perm] - L @ (U @ v),
               lambda v: anorm * np.abs(v).sum(axis=-2))


def _backward_error(case, a, x, b):
    """LAPACK's backward error ||b - A x||_1 / (||A||_1 ||x||_1 n eps) <= 30 per column."""
    if x.ndim == a.ndim - 1:
        x, b = x[..., None], b[..., None]
    x = x.astype(np.float64)
    ratio = np.abs(b - a @ x).sum(axis=-2) / (
        np.abs(a).sum(axis=-2).max(axis=-1)[..., None] * np.abs(x).sum(axis=-2)
        * a.shape[-1] * np.finfo(case.dtype).eps)
    assert np.all(ratio <= 30), f"{case}: backward error {np.max(ratio):.3g} > 30"
    return float(np.max(ratio, initial=0.0))


def _check_solve(case, result):
    a, b = (x.astype(np.float64) for x in case.build())
    assert result.shape == b.shape and result.dtype == np.dtype(case.dtype), f"{case}"
    return _backward_error(case, a, result, b)


def _check_lu_solve(case, result):
    a = _raw(case)[0].astype(case.dtype).astype(np.float64)
    b = case.build()[1].astype(np.float64)
    assert result.shape == b.shape and result.dtype == np.dtype(case.dtype), f"{case}"
    return _backward_error(case, a, result, b)


def _check_inv(case, result):
    """X A = I on a random vector: |X (A v) - v|_1 / (n eps |X|_1 |A|_1 |v|_1) <= 30."""
    (a,) = (x.astype(np.float64) for x in case.build())
    assert result.shape == a.shape and result.dtype == np.dtype(case.dtype), f"{case}"
    x = result.astype(np.float64)
    norms = np.abs(x).sum(axis=-2).max(axis=-1) * np.abs(a).sum(axis=-2).max(axis=-1)
    return _freivalds(case, a, lambda v: x @ (a @ v) - v,
               lambda v: norms[..., None] * np.abs(v).sum(axis=-2))


@functools.lru_cache(maxsize=1)
def _det_reference(shapes, dtype):
    """(sign, log|det|, cond_1) of the case's matrices in float64, once per case."""
    a = _build("det", shapes, dtype)[0].astype(np.float64)
    sign, logdet = np.linalg.slogdet(a)
    cond = (np.abs(a).sum(axis=-2).max(axis=-1)
            * np.abs(np.linalg.inv(a)).sum(axis=-2).max(axis=-1))
    return sign, logdet, cond


def _check_det(case, result):
    """Against numpy's slogdet in float64: same sign, |log|det| difference| <= 30 n eps
    cond_1(A) (the first-order sensitivity of log|det|); overflow to +-inf must agree."""
    result = np.asarray(result)
    assert result.shape == case.shapes[0][:-2] and result.dtype == np.dtype(case.dtype), f"{case}"
    sign, logdet, cond = _det_reference(case.shapes, case.dtype)
    with np.errstate(divide="ignore", over="ignore"):
        ref = (sign * np.exp(logdet)).astype(case.dtype)
        got_log = np.log(np.abs(result.astype(np.float64)))
    finite = np.isfinite(ref)
    assert np.array_equal(result[~finite], ref[~finite]), f"{case}: overflow differs"
    assert np.all(np.sign(result) == sign), f"{case}: sign differs"
    ratio = (np.abs(got_log - logdet) / (case.shapes[0][-1] * np.finfo(case.dtype).eps * cond))[finite]
    assert np.all(ratio <= 30), f"{case}: log|det| error {ratio.max():.3g} n eps cond > 30"
    return float(np.max(ratio, initial=0.0))


# Jacobi family: singular values and eigenvalues against numpy's in float64 (cached per
# case), factorizations by scaled residuals on a random vector (as _freivalds).

@functools.lru_cache(maxsize=1)
def _spectrum_reference(op, shapes, dtype):
    a = _build(op, shapes, dtype)[0].astype(np.float64)
    return np.linalg.eigvalsh(a) if op in ("eigh", "eigvalsh") else np.linalg.svd(a, compute_uv=False)


def _fro(x, axes=(-2, -1)):
    return np.sqrt((x * x).sum(axis=axes))


def _assert_scaled(case, what, err, scale, k):
    ratio = err / (scale * k * np.finfo(case.dtype).eps)
    assert np.all(ratio <= 30), f"{case}: {what} {np.max(ratio):.3g} > 30"


def _check_svd(case, result):
    """Singular values within 30 max(m, n) eps ||A|| of numpy's (float64); with vectors,
    ||A v - U (S Vh v)|| and the orthogonality of U and Vh on random vectors."""
    a = case.build()[0].astype(np.float64)
    m, n = a.shape[-2:]
    s = (result if isinstance(result, np.ndarray) else result[1]).astype(np.float64)
    assert s.shape == a.shape[:-2] + (min(m, n),) and s.dtype.kind == "f", f"{case}: {s.shape}"
    anorm = _fro(a)
    _assert_scaled(case, "singular value error", np.abs(s - _spectrum_reference(
        "svd", case.shapes, case.dtype)).max(axis=-1), anorm, max(m, n))
    if isinstance(result, np.ndarray):
        return
    u, vh = (x.astype(np.float64) for x in (result[0], result[2]))
    rng = np.random.default_rng(1)
    v = rng.standard_normal(a.shape[:-2] + (n, 1))
    k = s.shape[-1]
    recon = u[..., :, :k] @ (s[..., :, None] * (vh[..., :k, :] @ v))
    _assert_scaled(case, "residual", _fro(a @ v - recon), anorm * _fro(v), max(m, n))
    for q in (u, np.swapaxes(vh, -1, -2)):
        w = rng.standard_normal(q.shape[:-2] + (q.shape[-1], 1))
        _assert_scaled(case, "orthogonality", _fro(np.swapaxes(q, -1, -2) @ (q @ w) - w),
                       _fro(w), q.shape[-2])


def _check_eigh(case, result):
    """Eigenvalues within 30 n eps ||A|| of numpy's (float64); with vectors,
    ||A Z v - Z (w v)|| and the orthogonality of Z on random vectors."""
    a = case.build()[0].astype(np.float64)
    n = a.shape[-1]
    w = (result if isinstance(result, np.ndarray) else result[0]).astype(np.float64)
    assert w.shape == a.shape[:-1], f"{case}: {w.shape}"
    anorm = _fro(a)
    _assert_scaled(case, "eigenvalue error", np.abs(w - _spectrum_reference(
        "eigh", case.shapes, case.dtype)).max(axis=-1), anorm, n)
    if isinstance(result, np.ndarray):
        return
    z = result[1].astype(np.float64)
    v = np.random.default_rng(1).standard_normal(a.shape[:-1] + (1,))
    _assert_scaled(case, "residual", _fro(a @ (z @ v) - z @ (w[..., :, None] * v)),
                   anorm * _fro(v), n)
    _assert_scaled(case, "orthogonality", _fro(np.swapaxes(z, -1, -2) @ (z @ v) - v), _fro(v), n)


def _check_pinv(case, result):
    """The Penrose condition A X A = A on a random vector, scaled by ||A||^2 ||X||."""
    a = case.build()[0].astype(np.float64)
    x = result.astype(np.float64)
    assert x.shape == a.shape[:-2] + a.shape[-2:][::-1], f"{case}: {x.shape}"
    v = np.random.default_rng(1).standard_normal(a.shape[:-1][:-1] + (a.shape[-1], 1))
    av = a @ v
    _assert_scaled(case, "A X A - A", _fro(a @ (x @ av) - av),
                   _fro(a) ** 2 * _fro(x) * _fro(v), max(a.shape[-2:]))


def _check_lstsq(case, result):
    """The normal equations: ||A^T (b - A x)|| <= 30 max(m, n) eps ||A|| (||A|| ||x|| + ||b||)."""
    a, b = (y.astype(np.float64) for y in case.build())
    x = result[0].astype(np.float64)
    assert x.shape == (a.shape[-1],) + b.shape[1:], f"{case}: {x.shape}"
    x, b = x.reshape(a.shape[-1], -1), b.reshape(a.shape[-2], -1)
    anorm = _fro(a)
    _assert_scaled(case, "normal-equations residual", _fro(a.T @ (b - a @ x)),
                   anorm * (anorm * _fro(x) + _fro(b)), max(a.shape))


def _symmetric(a):
    return ((a + np.swapaxes(a, -1, -2)) / 2,)


_PREPARE.update(eigh=_symmetric, eigvalsh=_symmetric)


def fastla_svd_thin(a):
    import fastla.linalg
    return fastla.linalg.svd(a, full_matrices=False)


def numpy_svd_thin(a):
    return np.linalg.svd(a, full_matrices=False)


def scipy_svd_thin(a):
    import scipy.linalg
    return scipy.linalg.svd(a, full_matrices=False)


def scipy_svd_gesvd(a):
    import scipy.linalg
    return scipy.linalg.svd(a, lapack_driver="gesvd")


def _check_qr(case, result):
    """A = Q R and Q^T Q = I on a random vector v (LAPACK's dqrt01 ratios, <= 30):
    |A v - Q (R v)|_1 / (m eps |A|_1 |v|_1) and |Q^T (Q v) - v|_1 / (m eps |v|_1);
    shapes as numpy's, R upper triangular.  mode 'r' (R alone): |A v| = |R v| in the
    2-norm, |  |A v|_2 - |R v|_2 | <= 30 m eps |A|_F |v|_2."""
    (a,) = (x.astype(np.float64) for x in case.build())
    m, n = a.shape[-2:]
    if isinstance(result, tuple) and len(result) == 1:
        result = result[0]                     # scipy's mode='r': R is m x n,
        assert not result[..., n:, :].any()    # zero below row n
        result = result[..., :min(m, n), :]
    q, r = result if isinstance(result, tuple) else (None, result)
    mc = m if case.op == "qr_complete" else min(m, n)
    assert r.shape == a.shape[:-2] + (mc if q is not None else min(m, n), n), f"{case}: R {r.shape}"
    assert r.dtype == np.dtype(case.dtype) and np.array_equal(r, np.triu(r)), f"{case}: R"
    r = r.astype(np.float64)
    eps = np.finfo(case.dtype).eps
    v = np.random.default_rng(1).standard_normal(a.shape[:-2] + (n, 1))
    if q is None:
        gap = np.abs(np.linalg.norm(a @ v, axis=-2) - np.linalg.norm(r @ v, axis=-2))
        ratio = gap / (m * eps * np.linalg.norm(a, axis=(-2, -1))[..., None]
                       * np.linalg.norm(v, axis=-2))
        assert np.all(ratio <= 30), f"{case}: | |Av| - |Rv| | ratio {np.max(ratio):.3g} > 30"
        return
    assert q.shape == a.shape[:-2] + (m, mc) and q.dtype == np.dtype(case.dtype), f"{case}: Q"
    q = q.astype(np.float64)
    anorm = np.abs(a).sum(axis=-2).max(axis=-1)[..., None]
    vnorm = np.abs(v).sum(axis=-2)
    ratio = np.abs(a @ v - q @ (r @ v)).sum(axis=-2) / (m * eps * anorm * vnorm)
    assert np.all(ratio <= 30), f"{case}: |A - QR| ratio {np.max(ratio):.3g} > 30"
    w = np.random.default_rng(2).standard_normal(a.shape[:-2] + (mc, 1))
    ratio = np.abs(np.swapaxes(q, -1, -2) @ (q @ w) - w).sum(axis=-2) / (
        m * eps * np.abs(w).sum(axis=-2))
    assert np.all(ratio <= 30), f"{case}: |Q^T Q - I| ratio {np.max(ratio):.3g} > 30"


_CHECKS = {"matmul": _check_matmul, "solve_triangular": _check_solve_triangular,
           "lu_factor": _check_lu_factor, "getrf": _check_lu_factor, "lu_solve": _check_lu_solve,
           "solve": _check_solve, "inv": _check_inv, "det": _check_det,
           "svd": _check_svd, "svd_stacked": _check_svd, "svd_gesvd": _check_svd, "svd_thin": _check_svd,
           "svdvals": _check_svd, "eigh": _check_eigh, "eigvalsh": _check_eigh,
           "pinv": _check_pinv, "lstsq": _check_lstsq,
           "qr": _check_qr, "qr_r": _check_qr, "qr_complete": _check_qr, "qr_stacked": _check_qr,
           "qr_r_stacked": _check_qr}


# ----------------------------------------------------------------------------- cases

def _matmul_square(n, dtype):
    return Case("matmul", dtype, ((n, n), (n, n)), f"n={n}", f"n{n}",
                flops=2 * n**3)


# Stack heights: each call of either contender takes ~1-20 ms here (one core), long
# enough to time well and short enough that a full run stays in minutes.
STACK_SIZES = {2: 100_000, 3: 100_000, 4: 100_000, 8: 100_000, 16: 20_000, 32: 5_000}


def _matmul_stacked(k, dtype):
    n_stack = STACK_SIZES[k]
    return Case("matmul", dtype, ((n_stack, k, k), (n_stack, k, k)), f"N={n_stack} k={k}",
                f"{n_stack}x{k}x{k}", flops=2 * n_stack * k**3)


def _triangular(n, nrhs, dtype):
    key = f"n{n}" if nrhs == n else f"n{n}x{nrhs}"
    return Case("solve_triangular", dtype, ((n, n), (n, nrhs)), f"n={n} nrhs={nrhs}", key,
                flops=n * n * nrhs)


MATMUL_SQUARE = [_matmul_square(n, dt) for dt in DTYPES for n in (4, 16, 64, 256, 1024, 2048)]
MATMUL_STACKED = [_matmul_stacked(k, dt) for dt in DTYPES for k in STACK_SIZES]

# B := A^-1 B with nrhs = n (level 3) and a few single right-hand sides (level 2).
TRIANGULAR = [_triangular(n, nrhs, dt) for dt in DTYPES
              for n, nrhs in [(n, n) for n in (4, 16, 64, 256, 1024, 2048)]
              + [(16, 1), (256, 1), (2048, 1)]]

# LU family: LAPACK Working Note 41 flop counts.  getrf (n x n): 2n^3/3 - n^2/2 - n/6;
# getrs: nrhs (2n^2 - n); inverse as getrf + getri: 2n^3 - 3n^2/2 + 3n/2.
LU_SIZES = (4, 16, 64, 256, 1024, 2048)
LU_STACK = (2, 3, 4, 8, 16)


def _getrf_flops(n):
    return (4 * n**3 - 3 * n**2 - n) // 6


def _lu_case(op, dtype, n, n_stack=None, nrhs=1):
    """One square case of the LU family: n x n, or a stack of n_stack of them."""
    batch = () if n_stack is None else (n_stack,)
    a = batch + (n, n)
    flops = {"lu_factor": _getrf_flops(n), "getrf": _getrf_flops(n), "det": _getrf_flops(n),
             "solve": _getrf_flops(n) + nrhs * (2 * n**2 - n),
             "lu_solve": nrhs * (2 * n**2 - n),
             "inv": (4 * n**3 - 3 * n**2 + 3 * n) // 2}[op]
    shapes = (a,) if op in ("lu_factor", "getrf", "inv", "det") else \
        (a, batch + ((n,) if nrhs == 1 and not batch else (n, nrhs)))
    label = f"n={n}" if n_stack is None else f"N={n_stack} k={n}"
    key = f"n{n}" if n_stack is None else f"{n_stack}x{n}x{n}"
    if op == "lu_solve":
        label, key = f"{label} nrhs={nrhs}", f"{key}r{nrhs}"
    return Case(op, dtype, shapes, label, key, flops=flops * (n_stack or 1))


LU_SQUARE = [_lu_case(op, dt, n) for op in ("lu_factor", "solve", "inv", "det")
             for dt in DTYPES for n in LU_SIZES]
LU_GETRF = [_lu_case("getrf", "float64", n) for n in LU_SIZES]
LU_SOLVE = [_lu_case("lu_solve", dt, n, nrhs=r) for dt in DTYPES for n in LU_SIZES for r in (1, n)]
LU_STACKED = [_lu_case(op, dt, k, STACK_SIZES[k]) for op in ("solve", "inv", "det")
              for dt in DTYPES for k in LU_STACK]

# Jacobi family: conventional flop counts of the LAPACK-style algorithms numpy runs
# (GVL4 §8.6.3 for m >= n: S only 4mn^2 - 4n^3/3; S, U1, V 14mn^2 + 8n^3; S, U, V
# 4m^2 n + 8mn^2 + 9n^3; GVL4 §8.3: eigenvalues 4n^3/3, with vectors 9n^3), so GFLOP/s
# compare like for like whatever the method.  No n = 1024 (Jacobi takes seconds a call
# there, ~12x numpy's svdvals); stacked k = 16 uses STACK_SIZES' 20000.
def _svd_flops(op, m, n):
    m, n = max(m, n), min(m, n)
    return {"svdvals": 4 * m * n**2 - 4 * n**3 // 3, "svd_thin": 14 * m * n**2 + 8 * n**3,
            "pinv": 14 * m * n**2 + 8 * n**3 + 2 * m * n**2,
            "lstsq": 14 * m * n**2 + 8 * n**3 + 4 * m * n}.get(
        op, 4 * m * m * n + 8 * m * n**2 + 9 * n**3)


def _jacobi_case(op, dtype, m, n, n_stack=None):
    batch = () if n_stack is None else (n_stack,)
    if op in ("eigh", "eigvalsh"):
        flops = 9 * n**3 if op == "eigh" else 4 * n**3 // 3
    else:
        flops = _svd_flops(op, m, n)
    shapes = (batch + (m, n),) + (((m,),) if op == "lstsq" else ())
    if n_stack is not None:
        label, key = f"N={n_stack} k={n}", f"{n_stack}x{n}x{n}"
    elif m == n:
        label, key = f"n={n}", f"n{n}"
    else:
        label, key = f"{m}x{n}", f"{m}x{n}"
    return Case(op, dtype, shapes, label, key, flops=flops * (n_stack or 1))


JACOBI_SQUARE = [_jacobi_case(op, dt, n, n)
                 for op in ("svd", "svdvals", "eigh", "eigvalsh", "pinv", "lstsq")
                 for dt in DTYPES for n in (4, 16, 64, 256)] \
    + [_jacobi_case("svd_gesvd", "float64", n, n) for n in (16, 64, 256)]
# 100000 x 5: the few-column least-squares problem of regression, whose rows the
# kernel sorts (their max-norms differ more than 8x at n = 5).
JACOBI_TALL = [_jacobi_case(op, dt, m, n) for op in ("svd_thin", "svdvals", "lstsq")
               for dt in DTYPES for m, n in ((100_000, 50), (10_000, 20), (100_000, 5))]
JACOBI_STACKED = [_jacobi_case(op, dt, k, k, STACK_SIZES[k]) for op in ("svd_stacked", "eigh")
                  for dt in DTYPES for k in (2, 3, 4, 8, 16)]

CASES = {"matmul": MATMUL_SQUARE + MATMUL_STACKED, "solve_triangular": TRIANGULAR,
         "lu": LU_SQUARE + LU_GETRF + LU_SOLVE + LU_STACKED,
         "jacobi": JACOBI_SQUARE + JACOBI_TALL + JACOBI_STACKED}


# ------------------------------------------------------------------ Cholesky family
#
# cholesky (lower factor) against numpy.linalg.cholesky; potrf: fastla's cho_factor
# against raw LAPACK dpotrf (float64 only, no wrapper); cho_factor and cho_solve against
# scipy.  Operands are B B^T + n I (cond_2 below 5).  Flops: LAPACK Working Note 41,
# potrf n^3/3 + n^2/2 + n/6, potrs 2 n^2 nrhs.

OPS.update({
    "cholesky": {"fastla": "fastla.linalg.cholesky", "numpy": "numpy.linalg.cholesky"},
    "potrf": {"fastla": "fastla.linalg.cho_factor", "scipy": "scipy.linalg.lapack.dpotrf"},
    "cho_factor": {"fastla": "fastla.linalg.cho_factor", "scipy": "scipy.linalg.cho_factor"},
    "cho_solve": {"fastla": "fastla.linalg.cho_solve", "scipy": "scipy.linalg.cho_solve"},
})


def _spd(b):
    """B B^T + n I, for a (stack of) square B."""
    n = b.shape[-1]
    return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def _spd_operands(a):
    return (_spd(a),)


def _cho_solve_operands(a, b):
    """((c, False), b): scipy's upper factor of the SPD matrix, the input cho_solve takes."""
    import scipy.linalg
    return (scipy.linalg.cho_factor(_spd(a))[0], False), b


def _check_cholesky_factor(case, factor, upper):
    """A = L L^T (L = factor, or factor^T if upper; only that triangle is used) on a random
    vector: |A v - L (L^T v)|_1 / (n eps |A|_1 |v|_1) <= 30."""
    (a,) = (x.astype(np.float64) for x in case.build())
    assert factor.shape == a.shape and factor.dtype == np.dtype(case.dtype), \
        f"{case}: {factor.shape} {factor.dtype}"
    f = factor.astype(np.float64)
    L = np.swapaxes(np.triu(f), -1, -2) if upper else np.tril(f)
    anorm = np.abs(a).sum(axis=-2).max(axis=-1)[..., None]
    _freivalds(case, a, lambda v: a @ v - L @ (np.swapaxes(L, -1, -2) @ v),
               lambda v: anorm * np.abs(v).sum(axis=-2))


def _check_cho_solve(case, result):
    b = case.build()[1].astype(np.float64)
    a = _spd(_raw(case)[0]).astype(case.dtype).astype(np.float64)
    assert result.shape == b.shape and result.dtype == np.dtype(case.dtype), f"{case}"
    _backward_error(case, a, result, b)


_PREPARE.update({"cholesky": _spd_operands, "potrf": _spd_operands,
                 "cho_factor": _spd_operands, "cho_solve": _cho_solve_operands})
_CHECKS.update({
    "cholesky": lambda case, r: _check_cholesky_factor(case, r, False),
    "potrf": lambda case, r: _check_cholesky_factor(case, r[0], True),
    "cho_factor": lambda case, r: _check_cholesky_factor(case, r[0], True),
    "cho_solve": _check_cho_solve,
})

CHOL_SIZES = (4, 16, 64, 256, 1024, 2048)
CHOL_STACK = (2, 3, 4, 8, 16)


def _chol_case(op, dtype, n, n_stack=None, nrhs=None):
    """One case of the Cholesky family: n x n, or a stack of n_stack of them."""
    batch = () if n_stack is None else (n_stack,)
    potrf_flops = n**3 // 3 + n**2 // 2 + n // 6
    label = f"n={n}" if n_stack is None else f"N={n_stack} k={n}"
    key = f"n{n}" if n_stack is None else f"{n_stack}x{n}x{n}"
    if op == "cho_solve":
        b = batch + ((n,) if nrhs == 1 else (n, nrhs))
        return Case(op, dtype, (batch + (n, n), b), f"{label} nrhs={nrhs}", f"{key}r{nrhs}",
                    flops=2 * n * n * nrhs * (n_stack or 1))
    return Case(op, dtype, (batch + (n, n),), label, key, flops=potrf_flops * (n_stack or 1))


CHOL_SQUARE = [_chol_case(op, dt, n) for op in ("cholesky", "cho_factor")
               for dt in DTYPES for n in CHOL_SIZES]
CHOL_POTRF = [_chol_case("potrf", "float64", n) for n in CHOL_SIZES]
CHOL_SOLVE = [_chol_case("cho_solve", dt, n, nrhs=r) for dt in DTYPES for n in CHOL_SIZES
              for r in (1, n)]
CHOL_STACKED = [_chol_case("cholesky", dt, k, 100_000) for dt in DTYPES for k in CHOL_STACK]

__all__ += ["CHOL_SQUARE", "CHOL_POTRF", "CHOL_SOLVE", "CHOL_STACKED"]
CASES["cholesky"] = CHOL_SQUARE + CHOL_POTRF + CHOL_SOLVE + CHOL_STACKED


# ------------------------------------------------------------------ QR family

# QR family, LAPACK Working Note 41 leading terms: geqrf (m >= n) 2mn^2 - 2n^3/3;
# forming Q (orgqr, m x mc from k = n reflectors) 4 m mc k - 2 (m + mc) k^2 + 4k^3/3,
# i.e. 2mn^2 - 2n^3/3 more for the reduced Q.  Tall cases have no 'complete' (an
# m x m Q of 100000 rows is 80 GB).
QR_SQUARE_SIZES = (4, 16, 64, 256, 1024, 2048)
QR_TALL_SHAPES = ((100_000, 50), (10_000, 20))
QR_STACK = (2, 3, 4, 8, 16)
QR_STACK_N = 100_000


def _qr_flops(m, n, mc):
    k = min(m, n)
    geqrf = 2 * m * n**2 - 2 * n**3 // 3 if m >= n else 2 * n * m**2 - 2 * m**3 // 3
    orgqr = 4 * m * mc * k - 2 * (m + mc) * k**2 + 4 * k**3 // 3 if mc else 0
    return geqrf + orgqr


def _qr_case(op, dtype, m, n, n_stack=None):
    batch = () if n_stack is None else (n_stack,)
    mc = {"qr_r": 0, "qr_r_stacked": 0, "qr_complete": m}.get(op, min(m, n))
    if n_stack is not None:
        label, key = f"N={n_stack} k={n}", f"{n_stack}x{n}x{n}"
    elif m == n:
        label, key = f"n={n}", f"n{n}"
    else:
        label, key = f"m={m} n={n}", f"{m}x{n}"
    return Case(op, dtype, (batch + (m, n),), label, key,
                flops=_qr_flops(m, n, mc) * (n_stack or 1))


QR_SQUARE = [_qr_case(op, dt, n, n) for op in ("qr_r", "qr", "qr_complete") for dt in DTYPES
             for n in QR_SQUARE_SIZES]
QR_TALL = [_qr_case(op, dt, m, n) for op in ("qr_r", "qr") for dt in DTYPES
           for m, n in QR_TALL_SHAPES]
QR_STACKED = [_qr_case(op, dt, k, k, QR_STACK_N) for op in ("qr_r_stacked", "qr_stacked")
              for dt in DTYPES for k in QR_STACK]

CASES["qr"] = QR_SQUARE + QR_TALL + QR_STACKED


# ------------------------------------------------------------------ optimize
#
# logistic: LogisticRegression(X, y, l2=1) minimised from w = 0 to ||g||_inf <=
# OPT_GTOL: fastla's Newton against the course's Newton loop in numpy.  scipy's
# minimize methods stop short of that tolerance on these data (their line searches
# and trust regions judge progress by f, whose decrease falls below its rounding
# first: Newton-CG ends near 1e-7, L-BFGS-B and trust-exact near 1e-6), so they
# are timed with the gradient they reach in benchmarks/bench_optimize.py instead.
# quadratic_min: minimize of 1/2 x^T A x - b^T x (A = B B^T + n I) from 0, including
# the Quadratic construction, against scipy's BFGS (numpy's direct solve, a
# different algorithm, is in bench_optimize.py).  Order n = the number of
# unknowns, so these cases run with --full or --sizes 10,20,50.  Flops: Newton's
# passes, 2 m n + m n (n + 1) each, 7 passes from w = 0 (measured on these data);
# quadratic: the Cholesky, n^3/3.

OPT_GTOL = 1e-8
OPT_L2 = 1.0

OPS.update({
    "logistic": {"fastla": ".fastla_logistic", "numpy": ".numpy_logistic"},
    "quadratic_min": {"fastla": ".fastla_quadratic_min", "scipy": ".scipy_quadratic_min"},
})


def _logistic_operands(x, e):
    """(X, y): labels y_i = [x_i . w + e_i > 0] for w = 1/sqrt(n) (normal noise e)."""
    w = np.ones(x.shape[-1]) / np.sqrt(x.shape[-1])
    return x, (x @ w + e > 0).astype(np.float64)


def _logistic_fun_grad(x, y, w):
    z = x @ w
    s = 0.5 * (1 + np.tanh(0.5 * z))              # s(z) without overflow
    return (np.sum(np.logaddexp(0, z) - y * z) + 0.5 * OPT_L2 * (w @ w),
            x.T @ (s - y) + OPT_L2 * w)


def fastla_logistic(x, y):
    from fastla import optimize
    return optimize.minimize(optimize.LogisticRegression(x, y, l2=OPT_L2),
                             np.zeros(x.shape[-1]), tol=OPT_GTOL).x


def numpy_logistic(x, y):
    """The course's Newton loop in numpy (full steps)."""
    w = np.zeros(x.shape[-1])
    for _ in range(100):
        g = _logistic_fun_grad(x, y, w)[1]
        if np.abs(g).max() <= OPT_GTOL:
            break
        s = 0.5 * (1 + np.tanh(0.5 * (x @ w)))
        w = w - np.linalg.solve(x.T @ ((s * (1 - s))[:, None] * x) + OPT_L2 * np.eye(w.size), g)
    return w


def fastla_quadratic_min(a, b):
    from fastla import optimize
    return optimize.minimize(optimize.Quadratic(a, b), np.zeros(b.shape[-1])).x


def scipy_quadratic_min(a, b):
    import scipy.optimize
    return scipy.optimize.minimize(lambda x: 0.5 * x @ a @ x - b @ x, np.zeros(b.shape[-1]),
                                   jac=lambda x: a @ x - b, method="BFGS").x


def _check_logistic(case, w):
    """30 ||g(w)||_inf / OPT_GTOL (gradient in numpy): at most 30 when the tolerance is
    met (1e-3 relative slack for the recomputation's rounding)."""
    x, y = case.build()
    gnorm = float(np.abs(_logistic_fun_grad(x, y, np.asarray(w))[1]).max())
    assert gnorm <= OPT_GTOL * 1.001, f"{case}: ||g||_inf = {gnorm:.3g} > {OPT_GTOL}"
    return 30 * gnorm / OPT_GTOL


def _check_quadratic_min(case, x):
    """The solve's backward error (bound 30); BFGS stops at gtol 1e-5, so its x is
    checked against that instead."""
    a, b = case.build()
    err = np.abs(a @ x - b).max()
    assert err <= 1e-5, f"{case}: ||A x - b||_inf = {err:.3g}"
    return err / (a.shape[-1] * np.finfo(np.float64).eps
                  * (np.abs(a).sum(axis=-1).max() * np.abs(x).max() + np.abs(b).max()))


_PREPARE.update({"logistic": _logistic_operands,
                 "quadratic_min": lambda b, v: (_spd(b), v)})
_CHECKS.update({"logistic": _check_logistic, "quadratic_min": _check_quadratic_min})

OPT_LOGISTIC = [Case("logistic", "float64", ((m, n), (m,)), f"{m}x{n}", f"{m}x{n}",
                     flops=7 * m * n * (n + 3)) for m, n in ((100_000, 50), (10_000, 20))]
OPT_QUADRATIC = [Case("quadratic_min", "float64", ((10, 10), (10,)), "n=10", "n10",
                      flops=10**3 // 3)]

__all__ += ["OPT_LOGISTIC", "OPT_QUADRATIC"]
CASES["optimize"] = OPT_LOGISTIC + OPT_QUADRATIC
