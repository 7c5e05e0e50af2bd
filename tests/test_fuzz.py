"""Property-based fuzzing of every public function against numpy / scipy (issue 8).

For each function in FUNCS, hypothesis draws a case: shapes with 0, 1 and batch
dimensions, every dtype (supported, promoted, unsupported), layouts (C, F, strided,
negative strides, broadcast, read-only, misaligned), kinds of matrices (random,
integer, singular, rank-deficient, SPD, graded, entries near 1e+-300, subnormal, zero)
with NaN / +-Inf sprinkled in, and non-array inputs (lists, objects with __array__,
scalars, None, strings).  The property, for every case:

1. fastla and the reference (numpy.linalg, or scipy.linalg for the scipy names) either
   both raise -- fastla an exception of numpy's class (or a subclass of it) -- or
   both return;
2. results have the reference's structure, shapes and dtypes, and agree within the
   function's documented bound (docs/reliability.md): a LAPACK-style scaled residual
   (bound 30 times the stated factor) for factorizations whose factors are not unique,
   a size-scaled eps bound on values that are (singular values, eigenvalues, norms),
   exact equality for numpy's own data-movement functions;
3. where the reference's result is finite, fastla's is too (overflow hazards);
4. every input is byte-identical afterwards (data, shape, strides, flags);
5. no call takes longer than CALL_SECONDS; one that never returns ends the process
   (faulthandler watchdog, HANG_SECONDS per function).

Documented, accepted differences (docs/reliability.md): complex, float16 and
longdouble input raise TypeError in fastla; on matrices that are singular to working
precision one library may report the failure and the other not; scipy's batching
errors on zero-size batches where fastla returns empty results.

Profiles (hypothesis): 'ci' (default: derandomized, FUZZ_EXAMPLES cases per function,
>= 20 000 in total), 'long' (FASTLA_FUZZ=long: 20x more, random seed, for local runs).
Extend FUNCS as functions land; fastla.optimize has its own file, test_fuzz_optimize.py.
"""

import faulthandler
import math
import os
import tempfile
import time
import warnings

import numpy as np
import pytest
import scipy.linalg as sl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastla
import fastla.linalg as fl

LinAlgError = np.linalg.LinAlgError

_PROFILE = os.environ.get("FASTLA_FUZZ", "ci")
settings.register_profile(
    "fastla-ci", derandomize=True, deadline=None, database=None, print_blob=True,
    suppress_health_check=list(HealthCheck))
settings.register_profile(
    "fastla-long", deadline=None, print_blob=True, suppress_health_check=list(HealthCheck))
FUZZ_EXAMPLES = int(os.environ.get("FASTLA_FUZZ_EXAMPLES", 0)) or {"ci": 560, "long": 11200}[_PROFILE]
PROFILE = settings.get_profile("fastla-long" if _PROFILE == "long" else "fastla-ci")

CALL_SECONDS = 10.0          # per call
HANG_SECONDS = 300           # per function (all its cases): then the process is ended
HANG_FILE = os.path.join(tempfile.gettempdir(), "fastla-fuzz-hang.txt")  # with the stacks
C = 30.0                     # LAPACK's test threshold (DESIGN.md §4)

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
SUPPORTED = (F32, F64)
PROMOTED = tuple(np.dtype(t) for t in (np.int64, np.int32, np.uint8, np.bool_))
UNSUPPORTED = tuple(np.dtype(t) for t in (np.float16, np.complex128, np.longdouble, object))
KINDS = ("normal", "normal", "int", "singular", "rankdef", "spd", "graded", "huge", "tiny",
         "subnormal", "zero", "identity")
LAYOUTS = ("C", "C", "F", "strided", "negative", "broadcast", "readonly", "misaligned")
SPECIALS = (None, None, None, None, None, np.nan, np.inf, -np.inf, "mixed")


# ----------------------------------------------------------------------- generators

class ArrayLike:
    """A non-ndarray object numpy converts through __array__."""

    def __init__(self, a):
        self.a = a

    def __array__(self, dtype=None, copy=None):
        return self.a if dtype is None else self.a.astype(dtype)


def _values(rng, shape, kind):
    """float64 values of a stack of matrices `shape` (..., m, n) of the given kind."""
    m, n = shape[-2:] if len(shape) >= 2 else (1, shape[-1] if shape else 1)
    x = rng.standard_normal(shape)
    if kind == "int":
        return rng.integers(-4, 5, shape).astype(float)
    if kind == "zero":
        return np.zeros(shape)
    if len(shape) < 2:
        if kind in ("huge", "tiny", "subnormal"):
            return x * {"huge": 1e300, "tiny": 1e-300, "subnormal": 1e-310}[kind]
        return x
    k = min(m, n)
    if kind == "singular" and k > 1:        # a repeated row (exactly singular in any dtype)
        x[..., -1, :] = x[..., 0, :]
    elif kind == "rankdef" and k > 1:       # rank <= k/2, small integers: exact products
        r = max(1, k // 2)
        left = rng.integers(-3, 4, shape[:-1] + (r,))
        x = (left @ rng.integers(-3, 4, shape[:-2] + (r, n))).astype(float)
    elif kind == "spd" and m == n:
        x = x @ np.swapaxes(x, -1, -2) + n * np.eye(n)
    elif kind == "graded":                  # D1 B D2 with 10**(+-8) grading
        x = x * np.logspace(-8, 8, m)[:, None] * np.logspace(8, -8, n)
    elif kind == "huge":
        x *= 1e300
    elif kind == "tiny":
        x *= 1e-300
    elif kind == "subnormal":
        x *= 1e-310
    elif kind == "identity":
        x = np.broadcast_to(np.eye(m, n), shape).copy()
    return x


def _sprinkle(rng, x, special):
    if special is None or x.size == 0:
        return x
    flat = x.reshape(-1)
    k = rng.integers(1, max(2, flat.size // 4) + 1)
    where = rng.choice(flat.size, size=min(k, flat.size), replace=False)
    if special == "mixed":
        flat[where] = rng.choice([np.nan, np.inf, -np.inf, 0.0, 5e-324], size=where.size)
    else:
        flat[where] = special
    return x


def _layout(rng, x, layout):
    """x (any dtype) stored in `layout`; always a new array or a view of a new one."""
    if x.ndim == 0 or layout == "C":
        return np.ascontiguousarray(x)
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "strided":
        big = np.zeros(tuple(2 * s for s in x.shape), dtype=x.dtype)
        view = big[tuple(slice(None, None, 2) for _ in x.shape)]
        view[...] = x
        return view
    if layout == "negative":
        rev = np.ascontiguousarray(x[tuple(slice(None, None, -1) for _ in x.shape)])
        return rev[tuple(slice(None, None, -1) for _ in x.shape)]
    if layout == "broadcast":               # stride 0 on the first dimension
        return np.broadcast_to(x[:1], x.shape) if x.shape[0] else x
    if layout == "readonly":
        y = np.array(x)
        y.flags.writeable = False
        return y
    if layout == "misaligned" and x.dtype != object:
        buf = np.zeros(x.nbytes + 1, dtype=np.uint8)
        y = buf[1:].view(x.dtype).reshape(x.shape) if x.size else np.empty(x.shape, x.dtype)
        y[...] = x
        return y
    return np.ascontiguousarray(x)


@st.composite
def operand(draw, shape, dtype=None, kinds=KINDS, wrap=True, special=True):
    """One operand of the given shape: an ndarray (mostly) or another input type."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype is None:
        dtype = draw(st.sampled_from(SUPPORTED * 6 + PROMOTED + UNSUPPORTED))
    kind = draw(st.sampled_from(kinds))
    sp = draw(st.sampled_from(SPECIALS)) if special else None
    layout = draw(st.sampled_from(LAYOUTS))
    x = _sprinkle(rng, np.array(_values(rng, shape, kind), dtype=float), sp)
    if dtype.kind in "biu":
        with np.errstate(all="ignore"):
            x = np.nan_to_num(x, nan=0, posinf=7, neginf=-7)
            x = np.clip(np.round(x), -100, 100).astype(dtype)
    else:
        with np.errstate(all="ignore"):
            x = x.astype(dtype)
    x = _layout(rng, x, layout)
    form = draw(st.sampled_from(("array",) * 12 + ("list", "arraylike", "junk")))
    if not wrap or form == "array":
        return x
    if form == "list":
        return x.tolist()
    if form == "arraylike":
        return ArrayLike(x)
    return draw(st.sampled_from((None, "abc", 3.0, 2, object())))


DIM = st.sampled_from((0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 13))
BIG_DIM = st.sampled_from((0, 1, 2, 3, 4, 5, 7, 9, 17, 33, 70))
BATCH = st.lists(st.sampled_from((0, 1, 2, 3)), max_size=2).map(tuple)


@st.composite
def sizes(draw):
    """Core size: mostly small, sometimes large enough for the blocked paths."""
    return draw(st.one_of(DIM, DIM, DIM, BIG_DIM))


@st.composite
def batch_shape(draw):
    """A batch shape; stacks of large matrices stay small."""
    return draw(BATCH)


@st.composite
def square(draw, **kw):
    n = draw(sizes())
    b = draw(batch_shape()) if n <= 17 else draw(st.sampled_from(((), (1,), (2,))))
    ndim = draw(st.sampled_from((2,) * 8 + (0, 1)))     # 0-D and 1-D: bad input
    shape = (b + (n, n)) if ndim == 2 else (n,) * ndim
    return draw(operand(shape, **kw))


@st.composite
def general(draw, **kw):
    m, n = draw(sizes()), draw(sizes())
    b = draw(batch_shape()) if m * n <= 300 else draw(st.sampled_from(((), (2,))))
    ndim = draw(st.sampled_from((2,) * 8 + (0, 1)))
    shape = (b + (m, n)) if ndim == 2 else (n,) * ndim
    return draw(operand(shape, **kw))


def _shape(x):
    try:
        return np.shape(x)
    except Exception:
        return None


def _dtype(x):
    try:
        return np.asarray(x).dtype
    except Exception:
        return np.dtype(object)


@st.composite
def rhs_for(draw, a, vector_ok=True, **kw):
    """A right-hand side for the stack `a`: matching, broadcast or mismatched."""
    shape = _shape(a) or ()
    n = shape[-1] if shape else 2
    batch = shape[:-2]
    choice = draw(st.sampled_from(("matrix",) * 4 + ("vector",) * 2 + ("bcast", "bad")))
    k = draw(st.sampled_from((0, 1, 1, 2, 3)))
    if choice == "vector" and vector_ok:
        bshape = (n,)
    elif choice == "bcast" and batch:
        bshape = (1,) * draw(st.integers(0, 1)) + batch[1:] + (n, k)
    elif choice == "bad":
        bshape = batch + (n + 1, k)
    else:
        bshape = batch + (n, k)
    dtype = draw(st.sampled_from((F64, F64, F32, F32, np.dtype(np.int64), _dtype(a))))
    return draw(operand(bshape, dtype=dtype, kinds=("normal", "int", "huge"), **kw))


# --------------------------------------------------------------------------- checks

def eps_of(x):
    x = np.asarray(x)
    return float(np.finfo(x.dtype).eps) if x.dtype.kind == "f" else 2.0 ** -52


def as_f64(x):
    x = np.asarray(x)
    return x.astype(np.float64) if x.dtype != object else x


def _pow2_scale(a):
    """A power of two close to max|a| per matrix (exact rescaling), 1 where none."""
    with np.errstate(all="ignore"):
        m = np.max(np.abs(a), axis=(-2, -1), keepdims=True, initial=0.0)
        e = np.where(np.isfinite(m) & (m > 0), np.floor(np.log2(np.where(m > 0, m, 1))), 0)
    return np.ldexp(1.0, e.astype(int))


def _norm1(x, axes=(-2, -1)):
    """Max column sum per matrix, NaN-propagating (np.max ignores nothing)."""
    return np.max(np.sum(np.abs(x), axis=axes[0]), axis=-1, initial=0.0)


def _finite(*xs):
    try:
        return all(np.isfinite(as_f64(x)).all() for x in xs)
    except TypeError:                       # object arrays
        return False


def _cond2(a):
    """2-norm condition numbers per matrix, float64 (inf for singular / non-finite)."""
    a = as_f64(a)
    if a.size == 0:
        return np.ones(a.shape[:-2])
    with np.errstate(all="ignore"):
        a = a / _pow2_scale(a)
        try:
            s = np.linalg.svd(a, compute_uv=False)
        except LinAlgError:
            return np.full(a.shape[:-2], np.inf)
        return np.where(s[..., -1] > 0, s[..., 0] / np.where(s[..., -1] > 0, s[..., -1], 1),
                        np.inf)


def numerically_singular(a, factor=1.0):
    """Whether some matrix of `a` is singular to working precision (or not finite)."""
    a = np.asarray(a)
    if not _finite(a):
        return True
    n = max(a.shape[-2:]) if a.ndim >= 2 else 1
    return bool(np.any(_cond2(a) * n * eps_of(a) * factor > 1e-3))


def gradual(rnorm, sc, dims, dt):
    """A residual norm less what gradual underflow alone explains: every entry of a
    factor holds an absolute error up to the smallest subnormal, which the scaling
    by sc (a power of two near max|a|) magnifies for subnormal input."""
    tiny = float(np.finfo(dt).smallest_subnormal) if np.dtype(dt).kind == "f" else 0.0
    with np.errstate(all="ignore"):
        return np.maximum(rnorm - C * dims * tiny / np.squeeze(sc, (-2, -1)), 0.0)


def scaled(r, denom):
    """r / denom with 0/0 = 0 and finite / 0 = inf, elementwise."""
    r, denom = np.asarray(r, float), np.asarray(denom, float)
    with np.errstate(all="ignore"):
        return np.where(r == 0, 0.0, r / np.where(denom > 0, denom, 0.0))


def assert_bound(ratio, bound, what):
    ratio = np.asarray(ratio, float)
    bad = ~(ratio <= bound)
    if bad.any():
        raise AssertionError(f"{what}: scaled residual {np.max(np.where(bad, ratio, 0))!r} "
                             f"> {bound} (or NaN) at {np.argwhere(bad)[0].tolist()}")


def assert_same_structure(rf, rn, path="result"):
    """Same container type/length, shapes and dtypes (floats: the reference's)."""
    if isinstance(rn, list):                # scipy's batched empty results
        rn = tuple(rn)
    if isinstance(rn, tuple):
        assert isinstance(rf, tuple) and len(rf) == len(rn), \
            f"{path}: {type(rf).__name__} of {len(rf) if isinstance(rf, tuple) else '-'}, " \
            f"reference {type(rn).__name__} of {len(rn)}"
        if hasattr(rn, "_fields"):
            assert type(rf).__name__ == type(rn).__name__, \
                f"{path}: {type(rf).__name__}, reference {type(rn).__name__}"
        for i, (x, y) in enumerate(zip(rf, rn)):
            assert_same_structure(x, y, f"{path}[{i}]")
        return
    if isinstance(rn, (bool, int)) and not isinstance(rn, np.generic):
        assert type(rf) is type(rn), f"{path}: {type(rf)} vs {type(rn)}"
        return
    xf, xn = np.asarray(rf), np.asarray(rn)
    assert xf.shape == xn.shape, f"{path}: shape {xf.shape}, reference {xn.shape}"
    assert xf.dtype == xn.dtype, f"{path}: dtype {xf.dtype}, reference {xn.dtype}"
    assert np.ndim(rf) == np.ndim(rn) and isinstance(rf, np.ndarray) == isinstance(rn, np.ndarray), \
        f"{path}: {type(rf).__name__}, reference {type(rn).__name__}"


def assert_finite_where(rf, rn, what="result"):
    """Overflow hazards: per matrix, if the reference's values are finite, so are ours."""
    xf, xn = as_f64(rf), as_f64(rn)
    if xf.shape != xn.shape or xf.dtype == object:
        return
    axes = tuple(range(max(xf.ndim - 2, 0), xf.ndim))
    fin_n = np.isfinite(xn).all(axis=axes) if axes else np.isfinite(xn)
    fin_f = np.isfinite(xf).all(axis=axes) if axes else np.isfinite(xf)
    bad = fin_n & ~fin_f
    assert not np.any(bad), f"{what}: non-finite where the reference is finite " \
                            f"(at {np.argwhere(np.atleast_1d(bad))[0].tolist()})"


def assert_close(f, n, tol_rel, scale=None, what="values", nan_equal=True):
    """|f - n| <= tol_rel * scale (default max|n| per call) with equal NaN/Inf placement."""
    f, n = as_f64(f), as_f64(n)
    if nan_equal:
        assert np.array_equal(np.isnan(f), np.isnan(n)), f"{what}: NaN placement differs"
        inf = np.isinf(n)
        assert np.array_equal(f[inf], n[inf]), f"{what}: Inf placement differs"
    ok = np.isfinite(n) & np.isfinite(f)
    if scale is None:
        scale = np.max(np.abs(n[ok]), initial=0.0)
    with np.errstate(all="ignore"):
        err = np.abs(f - n)
        bound = tol_rel * np.broadcast_to(scale, f.shape) + 1e-300
    bad = ok & ~(err <= bound)
    assert not bad.any(), f"{what}: |diff| {err[bad].max()!r} > bound " \
                          f"{np.asarray(bound)[bad].min()!r} ({int(bad.sum())} entries)"


def exact(f, n, what="values"):
    if np.asarray(n).dtype == object:       # NaN objects: compare their reprs
        f, n = np.vectorize(repr, otypes=[str])(f), np.vectorize(repr, otypes=[str])(n)
    np.testing.assert_array_equal(f, n, err_msg=what, strict=False)


# --- per-function value checks: (args, kwargs, fastla result, reference result) ------

def chk_tensordot(args, kw, rf, rn):
    """As chk_bilinear: |f - n| <= C k eps tensordot(|a|, |b|), k the contracted size."""
    a, b = np.asarray(args[0]), np.asarray(args[1])
    if np.asarray(rn).dtype.kind in "biu":
        return exact(rf, rn)
    axes = kw["axes"]
    k = max(math.prod(a.shape[a.ndim - axes:]), 1)
    with np.errstate(all="ignore"):
        scale = np.tensordot(np.abs(as_f64(a)), np.abs(as_f64(b)), axes=axes)
        xf, xn = as_f64(rf), as_f64(rn)
        fin = np.isfinite(scale) & np.isfinite(xn)
        fin &= np.isfinite(xf) | _finite(a, b)      # 0 x NaN: see chk_multi_dot
        bad = fin & ~(np.abs(xf - xn) <= C * k * eps_of(rn) * scale + 1e-300)
    assert not bad.any(), "tensordot differs beyond C k eps tensordot(|a|, |b|)"
    if _finite(a, b):
        assert_finite_where(rf, rn)


def chk_exact(args, kw, rf, rn):
    if isinstance(rn, tuple):
        for x, y in zip(rf, rn):
            exact(x, y)
    else:
        exact(rf, rn)


def chk_bilinear(fn):
    """Products: elementwise |f - n| <= C k eps (|a| op |b|) (Higham §3.5), rounding-order
    free.  Entries whose bound overflows are not compared (summation order decides)."""
    def check(args, kw, rf, rn):
        a, b = (np.asarray(x) for x in args[:2])
        xf, xn = as_f64(rf), as_f64(rn)
        if np.asarray(rn).dtype.kind in "biu":
            return exact(rf, rn)
        k = max(a.shape[-1] if a.ndim else 1, 1)
        with np.errstate(all="ignore"):
            scale = as_f64(fn(np.abs(as_f64(a)), np.abs(as_f64(b))))
        tol = C * k * eps_of(rn)
        fin = np.isfinite(scale) & np.isfinite(xn)
        with np.errstate(all="ignore"):
            bad = fin & ~(np.abs(xf - xn) <= tol * scale + 1e-300)
        assert not bad.any(), "product differs beyond C k eps (|a||b|)"
        nan_in = not _finite(a, b)
        if not nan_in:
            assert_finite_where(rf, rn)
    return check


def chk_multi_dot(args, kw, rf, rn):
    """As chk_bilinear, with the bound from the chain of |a_i| (any association)."""
    arrays = args[0]
    if np.asarray(rn).dtype.kind in "biu":
        return exact(rf, rn)
    with np.errstate(all="ignore"):
        scale = as_f64(np.linalg.multi_dot([np.abs(as_f64(a)) for a in arrays]))
        k = sum(max(np.shape(a)) for a in arrays)
        xf, xn = as_f64(rf), as_f64(rn)
        fin = np.isfinite(scale) & np.isfinite(xn)
        e = max(eps_of(x) for x in arrays + [rn])    # float32 links round in float32
        # 0 x NaN: NaN here (IEEE); OpenBLAS's scal by a 0 factor gives 0 in numpy
        fin &= np.isfinite(xf) | _finite(*arrays)
        bad = fin & ~(np.abs(xf - xn) <= C * k * e * scale + 1e-300)
    assert not bad.any(), "multi_dot differs beyond C k eps (|a1||a2|...)"


def chk_solve(args, kw, rf, rn, eps=None):
    """Backward error ||b - a x||_1 / (||a||_1 ||x||_1 + ||b||_1) <= C n eps.

    Checked where the reference's solution is finite (else: overflow, nothing to
    compare); eps: of the result dtype unless the factor was computed in a lower one.
    """
    a, b = as_f64(args[0]), as_f64(args[1])
    x = as_f64(rf)
    if not _finite(a, b) or x.size == 0 or numerically_singular(args[0], 1e3):
        return                      # singular: an exact zero pivot may give Inf, or not
    assert_finite_where(rf, rn)
    if not _finite(rn):
        return
    if b.ndim == 1:
        b, x = b[:, None], x[..., None]
    s = _pow2_scale(a)
    t = np.max(np.abs(b), initial=0.0)
    t = 2.0 ** math.floor(math.log2(t)) if t > 0 and np.isfinite(t) else 1.0
    a, b, x = a / s, b / t, x * s / t
    n = a.shape[-1]
    with np.errstate(all="ignore"):
        r = b - a @ x
        # gradual underflow: intermediate values of b's size and x's entries carry
        # absolute errors up to the smallest subnormal, magnified by 1 / t and s / t
        tiny = float(np.finfo(np.asarray(rf).dtype).smallest_subnormal)
        floor = C * n * n * tiny * (1 + np.squeeze(s, (-2, -1))) / t
        ratio = scaled(np.maximum(_norm1(r) - floor, 0),
                       (_norm1(a) * _norm1(x) + _norm1(b)) * n * (eps or eps_of(rf)))
    assert_bound(ratio, C, "solve backward error")


def chk_inv(args, kw, rf, rn):
    """||I - a x||_1 / (n ||a||_1 ||x||_1 eps) <= C (LAPACK's inverse test)."""
    a, x = as_f64(args[0]), as_f64(rf)
    if not _finite(a) or x.size == 0:
        return
    assert_finite_where(rf, rn)
    if not _finite(rn) or numerically_singular(args[0], 1e3):
        return
    s = _pow2_scale(a)
    a, x = a / s, x * s
    n = a.shape[-1]
    r = np.eye(n) - a @ x
    assert_bound(scaled(_norm1(r), n * _norm1(a) * _norm1(x) * eps_of(rf)), C, "inverse")


def _det_scaled(a, sign, logabs):
    """det / H with H = prod of row 2-norms (Hadamard's bound, |det| <= H), and log H."""
    a = as_f64(a)
    with np.errstate(all="ignore"):
        logh = np.sum(np.log(np.linalg.norm(a, axis=-1)), axis=-1)
        return sign * np.exp(logabs - logh)


def chk_det(args, kw, rf, rn):
    """|det_f - det_n| <= C n^2 eps H (both backward stable; H Hadamard's bound)."""
    a = as_f64(args[0])
    if not _finite(a) or a.size == 0:
        return assert_close(rf, rn, 0.0) if a.size == 0 else None
    n = a.shape[-1]
    with np.errstate(all="ignore"):
        if isinstance(rn, tuple):
            df = _det_scaled(a, as_f64(rf[0]), as_f64(rf[1]))
            dn = _det_scaled(a, as_f64(rn[0]), as_f64(rn[1]))
        else:
            df = _det_scaled(a, np.sign(as_f64(rf)), np.log(np.abs(as_f64(rf))))
            dn = _det_scaled(a, np.sign(as_f64(rn)), np.log(np.abs(as_f64(rn))))
            if np.isfinite(as_f64(rn)).all() and np.all(np.abs(as_f64(rn)) > 1e-290):
                assert_finite_where(rf, rn, "det")
    hzero = ~np.isfinite(df) & ~np.isfinite(dn)      # H = 0 (zero row) or both nan
    err = np.where(hzero, 0.0, np.abs(np.nan_to_num(df, nan=9.0) - np.nan_to_num(dn, nan=9.0)))
    assert_bound(err, C * n * n * eps_of(rf if not isinstance(rf, tuple) else rf[1]), "det / H")


def _sym(a, lower=True):
    a = as_f64(a)
    t = np.tril(a) if lower else np.triu(a)
    return t + np.swapaxes(np.tril(a, -1) if lower else np.triu(a, 1), -1, -2)


def chk_values(tol_factor, norm_of=lambda a: np.max(np.abs(as_f64(a)), initial=0.0)):
    """Unique values (singular values, eigenvalues): |f - n| <= C dim eps ||a||."""
    def check(args, kw, rf, rn):
        a = args[0]
        if not _finite(a):
            return
        xf = rf if not isinstance(rf, tuple) else rf[0]
        xn = rn if not isinstance(rn, tuple) else rn[0]
        dim = max(np.shape(a)[-2:]) if np.ndim(a) >= 2 else 1
        with np.errstate(all="ignore"):
            scale = np.sqrt(dim) * norm_of(a)
        assert_close(xf, xn, C * tol_factor * max(dim, 1) * eps_of(xn), scale=scale)
    return check


def chk_svd(args, kw, rf, rn):
    a = as_f64(args[0])
    if not _finite(a):
        return
    if kw.get("hermitian"):
        a = _sym(a)
    if not isinstance(rn, tuple):
        return chk_values(1)((a,), kw, rf, rn)
    chk_values(1)((a,), kw, rf[1], rn[1])
    u, s, vh = (as_f64(x) for x in rf)
    m, n = a.shape[-2:]
    if min(m, n) == 0:
        return
    sc = _pow2_scale(a)
    e = eps_of(rf[1])
    r = a / sc - u[..., :, :min(m, n)] * (s[..., None, :] / sc) @ vh[..., :min(m, n), :]
    assert_bound(scaled(gradual(_norm1(r), sc, m * n * max(m, n), rf[1].dtype),
                        _norm1(a / sc) * max(m, n) * e), C, "a - u s vh")
    for q in (u, np.swapaxes(vh, -1, -2)):
        k = q.shape[-1]
        assert_bound(_norm1(np.swapaxes(q, -1, -2) @ q - np.eye(k)) / (max(m, n) * e), C,
                     "orthogonality")


def chk_eigh(args, kw, rf, rn):
    a = as_f64(args[0])
    if not _finite(a):
        return
    a = _sym(a, kw.get("UPLO", "L").upper() == "L")
    chk_values(1)((a,), kw, rf, rn)
    if not isinstance(rn, tuple):
        return
    w, v = as_f64(rf[0]), as_f64(rf[1])
    n = a.shape[-1]
    if n == 0:
        return
    sc = _pow2_scale(a)
    e = eps_of(rf[0])
    r = (a / sc) @ v - v * (w[..., None, :] / sc)
    assert_bound(scaled(gradual(_norm1(r), sc, n ** 3, rf[0].dtype), _norm1(a / sc) * n * e),
                 C, "a v - v w")
    assert_bound(_norm1(np.swapaxes(v, -1, -2) @ v - np.eye(n)) / (n * e), C, "orthogonality")


def chk_qr(args, kw, rf, rn):
    a = as_f64(args[0])
    mode = kw.get("mode", "reduced")
    m, n = a.shape[-2:]
    if not _finite(a) or min(m, n) == 0:
        return
    sc = _pow2_scale(a)
    a = a / sc
    e = eps_of(rf[0] if isinstance(rf, tuple) else rf)
    if mode == "raw":
        r = np.triu(np.swapaxes(as_f64(rf[0]), -1, -2))[..., :min(m, n), :] / sc
    elif mode == "r":
        r = as_f64(rf) / sc
    else:
        q, r = as_f64(rf[0]), as_f64(rf[1]) / sc
        assert_bound(scaled(gradual(_norm1(a - q @ r), sc, m * n * max(m, n), rf[1].dtype),
                            _norm1(a) * max(m, n) * e), C, "a - q r")
        k = q.shape[-1]
        assert_bound(_norm1(np.swapaxes(q, -1, -2) @ q - np.eye(k)) / (m * e), C,
                     "orthogonality")
    assert np.array_equal(r, np.triu(r)), "R is not upper triangular"
    # R^T R = A^T A whatever the signs: ||A^T A - R^T R|| <= C m eps ||A||^2
    g = np.swapaxes(a, -1, -2) @ a - np.swapaxes(r, -1, -2) @ r
    assert_bound(scaled(gradual(_norm1(g), sc, m * n * max(m, n), F64 if e < 1e-10 else F32),
                        _norm1(a) ** 2 * max(m, n) * e), 2 * C, "a'a - r'r")


def chk_cholesky(args, kw, rf, rn):
    a = as_f64(args[0])
    n = a.shape[-1]
    if not _finite(a) or n == 0:
        return
    upper = kw.get("upper", False)
    a = _sym(a, not upper)
    f = as_f64(rf)
    sc = _pow2_scale(a)
    llt = (np.swapaxes(f, -1, -2) @ f) if upper else (f @ np.swapaxes(f, -1, -2))
    assert_bound(scaled(gradual(_norm1(a / sc - llt / sc), sc, n ** 3, rf.dtype),
                        _norm1(a / sc) * n * eps_of(rf)), C,
                 "a - l l'")
    assert np.array_equal(f, np.triu(f) if upper else np.tril(f)), "factor not triangular"


def chk_cho_factor(args, kw, rf, rn):
    """The factor's triangle as for cholesky; the other triangle is a's (scipy's)."""
    if np.ndim(args[0]) < 2:                # scipy raises IndexError on scalars
        return
    lower = kw.get("lower", False)
    c = rf[0]
    chk_cholesky(args, {"upper": not lower}, np.tril(c) if lower else np.triu(c), None)


def chk_pinv(args, kw, rf, rn):
    """||a x a - a|| <= C max(m, n) eps ||a||^2 ||x|| (SVD-based: backward stable)."""
    a, x = as_f64(args[0]), as_f64(rf)
    if not _finite(a) or x.size == 0:
        return
    if kw.get("hermitian"):
        a = _sym(a)
        return
    sc = _pow2_scale(a)
    if not _finite(rn):
        return
    a, x = a / sc, x * sc
    m, n = a.shape[-2:]
    r = a @ x @ a - a
    assert_bound(scaled(_norm1(r), _norm1(a) ** 2 * _norm1(x) * max(m, n) * eps_of(rf)), C,
                 "a x a - a")


def chk_rank(args, kw, rf, rn):
    """Equal, except for singular values within C dim eps smax of the threshold."""
    if np.ndim(args[0]) < 2 or not _finite(args[0]) or np.size(args[0]) == 0:
        return exact(rf, rn)
    a = as_f64(args[0])
    if kw.get("hermitian"):
        a = _sym(a)
    s = np.linalg.svd(a / _pow2_scale(a), compute_uv=False)
    dim = max(a.shape[-2:])
    smax = s.max(axis=-1, keepdims=True, initial=0)
    tol = smax * dim * eps_of(rf if np.asarray(rf).dtype.kind == "f" else np.asarray(args[0]))
    tol = tol * dim * np.finfo(np.float32).eps / np.finfo(np.float64).eps \
        if np.asarray(args[0]).dtype == F32 else tol
    ambiguous = np.sum(np.abs(s - tol) <= C * dim * 1.2e-7 * smax, axis=-1)
    assert np.all(np.abs(np.asarray(rf) - np.asarray(rn)) <= ambiguous), "rank differs"


def chk_lstsq(args, kw, rf, rn):
    a, b = as_f64(args[0]), as_f64(args[1])
    if not _finite(a, b):
        return
    chk_values(1)((a,), kw, rf[3], rn[3])
    m, n = a.shape[-2:]
    x = as_f64(rf[0])
    if b.ndim == 1:
        b, x = b[:, None], x[..., None]
    if x.size == 0 or numerically_singular(a, 1e3):
        return
    exact(rf[2], rn[2], "rank")
    assert_finite_where(rf[0], rn[0])
    if not _finite(rn[0]):
        return                      # 1 / (a subnormal singular value) overflows
    sc, t = _pow2_scale(a), _pow2_scale(b)
    a, b, x = a / sc, b / t, x * sc / t
    # normal equations: ||a^T (b - a x)|| <= C dim eps ||a|| (||a|| ||x|| + ||b||)
    g = np.swapaxes(a, -1, -2) @ (b - a @ x)
    assert_bound(scaled(_norm1(g), _norm1(a) * (_norm1(a) * _norm1(x) + _norm1(b))
                        * max(m, n) * eps_of(rf[0]) * _cond2(a)), C, "normal equations")


def chk_cond(args, kw, rf, rn):
    """Relative agreement C n eps kappa_2 while that is < 1; else both huge or inf."""
    a = as_f64(args[0])
    if not _finite(a):
        return
    n = max(a.shape[-2:])
    k2 = _cond2(a)
    f, r = as_f64(rf), as_f64(rn)
    with np.errstate(all="ignore"):
        tol = C * n * eps_of(rf) * k2 * 10
        good = (tol < 0.5) & np.isfinite(r)
        rel = np.abs(f - r) / np.abs(r)
        assert np.all(~good | (rel <= tol)), "cond differs"
        assert np.array_equal(np.isinf(f), np.isinf(r)) or np.any(tol >= 0.5), \
            "cond: Inf placement differs"


def chk_norm(args, kw, rf, rn):
    x = np.asarray(args[0])
    dim = max(x.size, 1)
    scale = None
    if kw.get("ord") in (2, -2, "nuc"):     # singular values: absolute accuracy eps ||x||
        with np.errstate(all="ignore"):
            ax = np.abs(as_f64(x))
            scale = np.max(ax[np.isfinite(ax)], initial=0.0) * dim
    assert_close(rf, rn, C * dim * eps_of(rn), scale=scale)


def chk_lu_factor(args, kw, rf, rn):
    a = as_f64(args[0])
    lu_, piv = as_f64(rf[0]), np.asarray(rf[1])
    m, n = a.shape[-2:]
    if not _finite(a) or a.size == 0:
        return
    k = min(m, n)
    L = np.tril(lu_[..., :, :k], -1) + np.eye(m, k)
    U = np.triu(lu_[..., :k, :])
    pa = a.copy() if a.ndim == 2 else np.broadcast_to(a, lu_.shape).copy()
    flat, fpiv = pa.reshape(-1, m, n), piv.reshape(-1, k)
    for j in range(flat.shape[0]):
        for i, p in enumerate(fpiv[j]):
            flat[j, [i, p]] = flat[j, [p, i]]
    sc = _pow2_scale(pa)
    assert_bound(scaled(gradual(_norm1(pa / sc - L @ U / sc), sc, m * n * max(m, n),
                                rf[0].dtype), _norm1(pa / sc) * max(m, n) * eps_of(rf[0])),
                 C, "p a - l u")
    assert np.all(np.abs(L) <= 1 + 1e-6), "|L| > 1: not partial pivoting"


def chk_lu(args, kw, rf, rn):
    a = as_f64(args[0])
    m, n = a.shape[-2:]
    if not _finite(a) or a.size == 0:
        return
    if kw.get("permute_l"):
        pl, u = as_f64(rf[0]), as_f64(rf[1])
    else:
        p, l_, u = rf
        if kw.get("p_indices"):             # scipy: a = l[p] @ u
            pl = np.take_along_axis(as_f64(l_), np.asarray(p)[..., :, None].astype(np.intp),
                                    axis=-2)
        else:
            pl = as_f64(p) @ as_f64(l_)
    sc = _pow2_scale(a)
    assert_bound(scaled(gradual(_norm1(a / sc - pl @ u / sc), sc, m * n * max(m, n),
                                rf[-1].dtype), _norm1(a / sc) * max(m, n)
                        * eps_of(rf[-1])), C, "a - p l u")


def chk_lu_solve(args, kw, rf, rn):
    """Backward error against the matrix that was factored (transposed for trans)."""
    a = as_f64(args[0])
    chk_solve((np.swapaxes(a, -1, -2) if kw.get("trans") else a, args[1]), {}, rf, rn,
              eps=max(eps_of(rf), _factor_eps(args[0])))


def chk_cho_solve(args, kw, rf, rn):
    chk_solve(args, {}, rf, rn, eps=max(eps_of(rf), _factor_eps(args[0])))


def _factor_eps(a):
    """eps of the dtype scipy-style factorizations compute a's factor in: float32 for
    float32, bool and integers of at most 16 bits (scipy's LAPACK precision rule)."""
    dt = np.asarray(a).dtype
    small = dt == F32 or (dt.kind in "biu" and dt.itemsize <= 2)
    return float(np.finfo(np.float32 if small else np.float64).eps)


def chk_tensorsolve(args, kw, rf, rn):
    a, b = np.asarray(args[0]), np.asarray(args[1])
    prod = b.size
    chk_solve((a.reshape(prod, prod), b.ravel()), {}, np.asarray(rf).ravel(),
              np.asarray(rn).ravel())


def chk_tensorinv(args, kw, rf, rn):
    a = np.asarray(args[0])
    ind = kw.get("ind", 2)
    prod = math.prod(a.shape[ind:])
    chk_inv((a.reshape(prod, -1),), {}, np.asarray(rf).reshape(prod, -1),
            np.asarray(rn).reshape(prod, -1))


def chk_trsm(args, kw, rf, rn):
    a, b = as_f64(args[0]), as_f64(args[1])
    if not _finite(a, b):
        return
    lower = kw.get("lower", False)
    t = np.tril(a) if lower else np.triu(a)
    if kw.get("unit_diagonal"):
        n = a.shape[-1]
        t = t - t * np.eye(n) + np.eye(n)
    if kw.get("trans", 0) in (1, 2, "T", "C"):
        t = np.swapaxes(t, -1, -2)
    chk_solve((t, b), {}, rf, rn)


def chk_matrix_power(args, kw, rf, rn):
    a, p = args
    if np.asarray(rn).dtype.kind in "biu":
        return exact(rf, rn)
    if p == -1:
        return chk_inv((a,), {}, rf, rn)
    if p < 0:
        return
    if p == 0:
        return exact(rf, rn)
    a = as_f64(a)
    with np.errstate(all="ignore"):
        scale = np.linalg.matrix_power(np.abs(a), p)
    n = a.shape[-1]
    fin = np.isfinite(scale) & np.isfinite(as_f64(rn))
    with np.errstate(all="ignore"):
        bad = fin & ~(np.abs(as_f64(rf) - as_f64(rn)) <= 2 * C * p * n * eps_of(rn) * scale
                      + 1e-300)
    assert not bad.any(), "matrix_power differs beyond C p n eps |a|^p"


# ------------------------------------------------------------------- the call table

def _scipy(fn):
    """scipy reference without scipy's warnings."""
    def call(*a, **k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*a, **k)
    return call


@st.composite
def args_1sq(draw, **kw):
    return (draw(square()),), kw


@st.composite
def args_1gen(draw, **kw):
    return (draw(general()),), kw


@st.composite
def args_solve(draw):
    a = draw(square())
    return (a, draw(rhs_for(a))), {}


@st.composite
def args_matmul(draw):
    m, k, n = draw(sizes()), draw(sizes()), draw(sizes())
    b1, b2 = draw(batch_shape()), draw(batch_shape())
    if m * k * n > 5000:
        b1 = b2 = ()
    s1 = draw(st.sampled_from((b1 + (m, k),) * 6 + ((k,), (), (m, k + 1))))
    s2 = draw(st.sampled_from((b2 + (k, n),) * 6 + ((k,), ())))
    return (draw(operand(s1)), draw(operand(s2))), {}


@st.composite
def args_multi_dot(draw):
    dims = draw(st.lists(sizes(), min_size=3, max_size=5))
    shapes = [(dims[i], dims[i + 1]) for i in range(len(dims) - 1)]
    if draw(st.booleans()):
        shapes[0] = shapes[0][1:]
    if draw(st.booleans()):
        shapes[-1] = shapes[-1][:1]
    if draw(st.integers(0, 9)) == 0 and len(shapes[1]) == 2:
        shapes[1] = (shapes[1][0] + 1, shapes[1][1])
    return ([draw(operand(s, wrap=False)) for s in shapes],), {}


@st.composite
def args_tensordot(draw):
    s = draw(st.lists(st.sampled_from((0, 1, 2, 3)), min_size=1, max_size=4))
    na = draw(st.integers(0, len(s)))
    axes = draw(st.integers(0, min(na, len(s) - na)))
    sa = tuple(s[:na])
    sb = tuple(s[na - axes:]) if axes else tuple(s[na:])
    return (draw(operand(sa, wrap=False)), draw(operand(sb, wrap=False))), {"axes": axes}


@st.composite
def args_norm(draw, fn):
    vector_shape = draw(st.sampled_from(((3,), (0,), (5,), (2, 2, 3))))
    x = draw(st.one_of(general(wrap=False), operand(vector_shape, wrap=False)))
    kw = {}
    if fn == "norm":
        ords = (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf, 0, 3, 0.5)
        kw["ord"] = draw(st.sampled_from(ords))
        axis = draw(st.sampled_from((None, -1, 0, (0, 1), (-2, -1), (-1, -2))))
        if axis is not None:
            kw["axis"] = axis
        kw["keepdims"] = draw(st.booleans())
    elif fn == "vector_norm":
        kw["ord"] = draw(st.sampled_from((2, 1, np.inf, -np.inf, 0, 3, -1, 0.5)))
        axis = draw(st.sampled_from((None, -1, 0, (0, 1))))
        if axis is not None:
            kw["axis"] = axis
        kw["keepdims"] = draw(st.booleans())
    else:
        kw["ord"] = draw(st.sampled_from(("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)))
        kw["keepdims"] = draw(st.booleans())
    return (x,), kw


@st.composite
def args_cross(draw):
    s = draw(st.sampled_from(((3,), (2, 3), (3, 3), (2,), (0, 3), (4, 3))))
    return (draw(operand(s, wrap=False)), draw(operand(s[-1:], wrap=False))), {}


@st.composite
def args_vecdot(draw):
    s = draw(st.sampled_from(((3,), (2, 3), (4, 0), (2, 2, 5))))
    return (draw(operand(s, wrap=False)), draw(operand(s[-1:], wrap=False))), {}


@st.composite
def args_outer(draw):
    return (draw(operand((draw(DIM),), wrap=False)),
            draw(operand((draw(DIM),) * draw(st.sampled_from((1, 1, 1, 2))), wrap=False))), {}


@st.composite
def args_trsm(draw):
    a = draw(square())
    kw = {"lower": draw(st.booleans()), "unit_diagonal": draw(st.booleans()),
          "trans": draw(st.sampled_from((0, 1, 2, "N", "T", "C")))}
    if draw(st.booleans()):
        kw["check_finite"] = False
    return (a, draw(rhs_for(a))), kw


@st.composite
def args_lu_solve(draw):
    a = draw(square(wrap=False))
    b = draw(rhs_for(a))
    return (a, b), {"trans": draw(st.sampled_from((0, 1, 2)))}


@st.composite
def args_cho_solve(draw):
    n = draw(DIM)
    bt = draw(batch_shape())
    a = draw(operand(bt + (n, n), dtype=draw(st.sampled_from(SUPPORTED)),
                     kinds=("spd",), wrap=False, special=False))
    return (a, draw(rhs_for(a))), {"lower": draw(st.booleans())}


@st.composite
def args_tensorsolve(draw):
    bs = draw(st.sampled_from(((2, 3), (6,), (1, 2), (0,), (2, 2))))
    prod = math.prod(bs)
    xs = draw(st.sampled_from(((prod,), (1, prod)) if prod else ((0,),)))
    if draw(st.integers(0, 9)) == 0:
        xs = (prod + 1,)
    a = draw(operand(bs + xs, wrap=False))
    return (a, draw(operand(bs, wrap=False))), {}


@st.composite
def args_tensorinv(draw):
    s = draw(st.sampled_from(((2, 3, 6), (4, 2, 2), (6, 2, 3), (1, 1), (3, 3), (2, 2, 4))))
    ind = draw(st.sampled_from((1, 2)))
    return (draw(operand(s, wrap=False)),), {"ind": ind}


def _eigh_kw(draw):
    return {"UPLO": draw(st.sampled_from(("L", "U", "l", "u")))}


@st.composite
def args_eigh(draw):
    return (draw(square()),), _eigh_kw(draw)


@st.composite
def args_svd(draw):
    return (draw(general()),), {"full_matrices": draw(st.booleans()),
                                "compute_uv": draw(st.booleans()),
                                "hermitian": draw(st.sampled_from((False,) * 4 + (True,)))}


@st.composite
def args_qr(draw):
    return (draw(general()),), {"mode": draw(st.sampled_from(("reduced", "complete", "r",
                                                              "raw")))}


@st.composite
def args_cholesky(draw):
    return (draw(square(kinds=("spd",) * 4 + KINDS)),), {"upper": draw(st.booleans())}


@st.composite
def args_cho_factor(draw):
    return (draw(square(kinds=("spd",) * 4 + KINDS)),), {"lower": draw(st.booleans())}


@st.composite
def args_lu(draw):
    return (draw(general()),), {"permute_l": draw(st.booleans()),
                                "p_indices": draw(st.booleans())}


@st.composite
def args_pinv(draw):
    return (draw(general()),), {"hermitian": draw(st.sampled_from((False,) * 4 + (True,)))}


@st.composite
def args_rank(draw):
    return (draw(general()),), {"hermitian": draw(st.sampled_from((False,) * 4 + (True,)))}


@st.composite
def args_lstsq(draw):
    a = draw(general())
    shape = _shape(a) or (2, 2)
    m = shape[-2] if len(shape) >= 2 else 1
    bshape = draw(st.sampled_from(((m,), (m, 1), (m, 3), (m + 1,))))
    return (a, draw(operand(bshape, kinds=("normal", "int")))), {"rcond": None}


@st.composite
def args_cond(draw):
    return (draw(square()),), {"p": draw(st.sampled_from((None, 2, -2, 1, -1, np.inf,
                                                         -np.inf, "fro", "nuc")))}


@st.composite
def args_matrix_power(draw):
    return (draw(square(kinds=("normal", "int", "identity", "singular", "zero"))),
            draw(st.sampled_from((0, 1, 2, 3, 5, -1, -2)))), {}


@st.composite
def args_diag(draw):
    return (draw(general(wrap=False)),), {"offset": draw(st.sampled_from((0, 1, -1, 3)))}


def lu_solve_fastla(a, b, trans=0):
    return fl.lu_solve(fl.lu_factor(a), b, trans=trans)


def lu_solve_scipy(a, b, trans=0):
    return sl.lu_solve(sl.lu_factor(a), b, trans=trans)


def cho_solve_fastla(a, b, lower=False):
    return fl.cho_solve(fl.cho_factor(a, lower=lower), b)


def cho_solve_scipy(a, b, lower=False):
    return sl.cho_solve(sl.cho_factor(a, lower=lower), b)


# name: (fastla function, reference, argument strategy, value check, reference is scipy)
FUNCS = {
    "matmul": (fl.matmul, np.matmul, args_matmul(), chk_bilinear(np.matmul), False),
    "fastla.matmul": (fastla.matmul, np.matmul, args_matmul(), chk_bilinear(np.matmul), False),
    "multi_dot": (fl.multi_dot, np.linalg.multi_dot, args_multi_dot(), chk_multi_dot,
                  False),
    "tensordot": (fl.tensordot, np.linalg.tensordot, args_tensordot(),
                  chk_tensordot, False),
    "solve": (fl.solve, np.linalg.solve, args_solve(), chk_solve, False),
    "inv": (fl.inv, np.linalg.inv, args_1sq(), chk_inv, False),
    "det": (fl.det, np.linalg.det, args_1sq(), chk_det, False),
    "slogdet": (fl.slogdet, np.linalg.slogdet, args_1sq(), chk_det, False),
    "matrix_power": (fl.matrix_power, np.linalg.matrix_power, args_matrix_power(),
                     chk_matrix_power, False),
    "tensorsolve": (fl.tensorsolve, np.linalg.tensorsolve, args_tensorsolve(),
                    chk_tensorsolve, False),
    "tensorinv": (fl.tensorinv, np.linalg.tensorinv, args_tensorinv(), chk_tensorinv, False),
    "cholesky": (fl.cholesky, np.linalg.cholesky, args_cholesky(), chk_cholesky, False),
    "qr": (fl.qr, np.linalg.qr, args_qr(), chk_qr, False),
    "svd": (fl.svd, np.linalg.svd, args_svd(), chk_svd, False),
    "svdvals": (fl.svdvals, np.linalg.svdvals, args_1gen(), chk_values(1), False),
    "eigh": (fl.eigh, np.linalg.eigh, args_eigh(), chk_eigh, False),
    "eigvalsh": (fl.eigvalsh, np.linalg.eigvalsh, args_eigh(), chk_eigh, False),
    "pinv": (fl.pinv, np.linalg.pinv, args_pinv(), chk_pinv, False),
    "matrix_rank": (fl.matrix_rank, np.linalg.matrix_rank, args_rank(), chk_rank, False),
    "lstsq": (fl.lstsq, np.linalg.lstsq, args_lstsq(), chk_lstsq, False),
    "cond": (fl.cond, np.linalg.cond, args_cond(), chk_cond, False),
    "norm": (fl.norm, np.linalg.norm, args_norm("norm"), chk_norm, False),
    "vector_norm": (fl.vector_norm, np.linalg.vector_norm, args_norm("vector_norm"),
                    chk_norm, False),
    "matrix_norm": (fl.matrix_norm, np.linalg.matrix_norm, args_norm("matrix_norm"),
                    chk_norm, False),
    "trace": (fl.trace, np.linalg.trace, args_diag(), chk_exact, False),
    "diagonal": (fl.diagonal, np.linalg.diagonal, args_diag(), chk_exact, False),
    "matrix_transpose": (fl.matrix_transpose, np.linalg.matrix_transpose, args_1gen(),
                         chk_exact, False),
    "outer": (fl.outer, np.linalg.outer, args_outer(), chk_exact, False),
    "cross": (fl.cross, np.linalg.cross, args_cross(), chk_exact, False),
    "vecdot": (fl.vecdot, np.linalg.vecdot, args_vecdot(), chk_exact, False),
    "lu": (fl.lu, _scipy(sl.lu), args_lu(), chk_lu, True),
    "lu_factor": (fl.lu_factor, _scipy(sl.lu_factor), args_1gen(), chk_lu_factor, True),
    "lu_solve": (lu_solve_fastla, _scipy(lu_solve_scipy), args_lu_solve(), chk_lu_solve, True),
    "solve_triangular": (fl.solve_triangular, _scipy(sl.solve_triangular), args_trsm(),
                         chk_trsm, True),
    "cho_factor": (fl.cho_factor, _scipy(sl.cho_factor), args_cho_factor(), chk_cho_factor,
                   True),
    "cho_solve": (cho_solve_fastla, _scipy(cho_solve_scipy), args_cho_solve(), chk_cho_solve,
                  True),
}
# fastla.optimize is fuzzed in test_fuzz_optimize.py (its own guard lists its names).
NOT_FUZZED = {"LinAlgError"}            # a class, not a function


def test_every_public_function_is_fuzzed():
    names = set(fl.__all__) - NOT_FUZZED
    assert names <= set(FUNCS), f"public functions without a fuzz entry: {names - set(FUNCS)}"


# ------------------------------------------------------------------------ the property

def _snapshot(x):
    if isinstance(x, np.ndarray):
        return ("nd", x.shape, x.strides, x.dtype, x.flags.writeable,
                x.tobytes() if x.dtype != object else repr(x.tolist()))
    if isinstance(x, ArrayLike):
        return ("al", _snapshot(x.a))
    if isinstance(x, (list, tuple)):
        return ("seq", type(x), [_snapshot(y) for y in x])
    return ("obj", repr(x))


def _call(fn, args, kw):
    """(result, exception, seconds) of one call."""
    if os.environ.get("FASTLA_FUZZ_TRACE"):     # the case in a file before a (hanging) call
        import pickle
        with open(os.environ["FASTLA_FUZZ_TRACE"], "wb") as f:
            pickle.dump((fn.__name__, [a if not isinstance(a, ArrayLike) else a.a for a in args], kw), f)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                return fn(*args, **kw), None, time.perf_counter() - t0
    except Exception as exc:            # noqa: BLE001 - the property compares classes
        return None, exc, time.perf_counter() - t0


def _dtypes(args):
    out = []
    for x in args:
        if isinstance(x, list) and x and isinstance(x[0], np.ndarray):
            out += [y.dtype for y in x]
        elif isinstance(x, (np.ndarray, ArrayLike, list)):
            try:
                out.append(np.asarray(x).dtype)
            except ValueError:
                pass
    return out


def _unsupported(args):
    return any(dt not in SUPPORTED + PROMOTED for dt in _dtypes(args))


def _tolerated_exception_mismatch(name, args, kw, ef, en, scipy_ref):
    """Documented differences (module docstring, docs/reliability.md)."""
    if ef is not None and isinstance(ef, TypeError) and _unsupported(args):
        return True                             # complex / float16 / longdouble / object
    if ef is not None and any(_junk(x) for x in args):
        return isinstance(ef, (TypeError, ValueError))   # scipy: AttributeError on None
    if scipy_ref and isinstance(ef, ValueError) and isinstance(en, ValueError) \
            and np.ndim(args[0]) > 2:
        return True                             # scipy checks slice by slice
    if ef is None and isinstance(en, IndexError) and scipy_ref and _junk(args[0]):
        return True                             # scipy's cho_factor(3.0): IndexError
    if ef is None and name == "lstsq" and np.ndim(args[0]) > 2:
        return True                             # fastla's lstsq takes stacks
    if ef is not None and scipy_ref and name in ("lu_factor", "lu_solve") \
            and np.ndim(args[0]) < 2 and isinstance(ef, ValueError):
        return True                             # scipy's lu_factor passes 1-D through
    if en is not None and ef is None and scipy_ref:
        a = np.asarray(args[0]) if not isinstance(args[0], list) else None
        if a is not None and a.ndim > 2 and 0 in a.shape[:-2]:
            return True                         # scipy cannot batch zero-size stacks
    if (ef is None) != (en is None) and name in NAN_PIVOTS and not _finite(args[0]):
        # LU / Cholesky of non-finite input: whether an exact zero (or non-positive)
        # pivot is met before the NaN spreads depends on the order of elimination;
        # LinAlgError or a NaN-filled result are both documented outcomes.
        return isinstance(ef or en, LinAlgError)
    both = [e for e in (ef, en) if e is not None]
    if len(both) == 1 and isinstance(both[0], LinAlgError):
        try:                                    # singular to working precision
            a = np.asarray(args[0])
            if name == "tensorinv":
                a = a.reshape(math.prod(a.shape[kw.get("ind", 2):]), -1)
            elif name == "tensorsolve":
                a = a.reshape(np.size(args[1]), -1)
            if a.dtype.kind in "biuf" and a.ndim >= 2 and _finite(a):
                if name in ("cholesky", "cho_factor", "cho_solve"):
                    return _not_clearly_pd(a, kw)
                if name in ("solve_triangular",):
                    return True if _trsm_near_singular(a, kw) else False
                return numerically_singular(a, 1e3)
        except Exception:
            return False
    return False


NAN_PIVOTS = {"solve", "inv", "tensorsolve", "tensorinv", "matrix_power", "cholesky",
              "cho_factor", "cho_solve", "lu_solve", "solve_triangular", "cond"}


def _junk(x):
    return x is None or isinstance(x, (str, bytes, int, float)) or type(x) is object


def _not_clearly_pd(a, kw):
    """Whether some matrix is not positive definite by a margin of C n eps ||a||."""
    lower = kw.get("lower", not kw.get("upper", False))
    s = _sym(a, lower)
    if not np.isfinite(s).all():
        return True
    n = s.shape[-1]
    w = np.linalg.eigvalsh(s / _pow2_scale(s))
    return bool(np.any(w[..., 0] <= C * n * eps_of(a) * np.max(np.abs(w), initial=0)))


def _trsm_near_singular(a, kw):
    d = np.diagonal(as_f64(a), axis1=-2, axis2=-1)
    return bool(np.any(~np.isfinite(d)) or np.any(np.abs(d) < 1e-250))


SVD_BASED = {"svd", "svdvals", "pinv", "matrix_rank", "lstsq", "cond", "norm", "matrix_norm"}
EIGH_BASED = {"eigh", "eigvalsh", "svd", "pinv", "matrix_rank"}


def _nonfinite_rule(name, args, kw):
    """fastla's documented rule for a non-finite matrix where numpy has none
    (docs/reliability.md, NaN/Inf table), or None where numpy is compared:

    'svd': SVD-based functions raise LinAlgError("SVD did not converge").  numpy is
        not called: OpenBLAS's gesdd loops for ever on some Inf inputs (numpy 2.4.6:
        a 4 x 4 with one Inf on the diagonal), and returns NaN or garbage on others.
    'cond': cond (p None, 2, -2): Inf where a slice has Inf but no NaN, LinAlgError
        for NaN (numpy's outcome where its gesdd returns).
    'eigh': eigh-based: NaN eigenvalues for every slice whose read triangle is not
        finite, no exception (numpy raises or not depending on where the entry is).
    """
    try:
        a = np.asarray(args[0])
        if not (a.dtype in SUPPORTED + PROMOTED and a.ndim >= 2 and a.size > 0) \
                or _finite(a):
            return None
    except Exception:
        return None
    if kw.get("hermitian") or name in ("eigh", "eigvalsh"):
        return "eigh" if name in EIGH_BASED and a.shape[-1] == a.shape[-2] else None
    if name not in SVD_BASED:
        return None
    if name in ("norm", "matrix_norm") and kw.get("ord") not in (2, -2, "nuc"):
        return None
    if name == "norm" and not (np.ndim(kw.get("axis")) == 1 and len(kw["axis"]) == 2
                               or kw.get("axis") is None and a.ndim == 2):
        return None                             # a vector norm: no SVD
    if name == "cond":
        return "cond" if kw.get("p") in (None, 2, -2) else None
    return "svd"


def check_nonfinite_rule(rule, name, args, kw, rf, ef):
    a = np.asarray(args[0])
    if rule == "svd":
        assert isinstance(ef, LinAlgError), f"{name}: {'returned' if ef is None else ef!r}"
    elif rule == "cond":
        if np.isnan(a).any():
            assert isinstance(ef, LinAlgError), f"cond of NaN: {ef!r}"
        else:
            assert ef is None, f"cond of Inf: {ef!r}"
            bad = ~np.isfinite(a).all(axis=(-2, -1))
            assert np.all(np.asarray(rf)[bad] == np.inf), "cond of Inf is not Inf"
    elif name in ("eigh", "eigvalsh", "svd"):
        assert ef is None, f"{name}: {ef!r}"
        lower = kw.get("UPLO", "L").upper() == "L"
        tri = np.tril(as_f64(a)) if lower else np.triu(as_f64(a))
        bad = ~np.isfinite(tri).all(axis=(-2, -1))
        w = as_f64(rf[0] if name == "eigh" else rf[1] if name == "svd" and isinstance(rf, tuple)
                   else rf)
        assert np.isnan(w[bad]).all(), f"{name}: eigenvalues of a non-finite matrix not NaN"


def check_case(name, args, kw):
    fn, ref, _, check, scipy_ref = FUNCS[name]
    before = [_snapshot(x) for x in args]
    rf, ef, dt = _call(fn, args, kw)
    assert [_snapshot(x) for x in args] == before, "fastla modified an input"
    assert dt < CALL_SECONDS, f"call took {dt:.1f} s"
    rule = _nonfinite_rule(name, args, kw)
    if rule and (ef is None or isinstance(ef, LinAlgError)):
        return check_nonfinite_rule(rule, name, args, kw, rf, ef)
    rn, en, _ = _call(ref, args, kw)
    if (ef is None) != (en is None) or (ef is not None and not isinstance(ef, type(en))):
        if _tolerated_exception_mismatch(name, args, kw, ef, en, scipy_ref):
            return
        raise AssertionError(f"{name}: fastla {'returned' if ef is None else repr(ef)}, "
                             f"reference {'returned' if en is None else repr(en)}") from ef
    if ef is not None:
        return
    if name == "cho_factor":            # scipy returns lower as a list on stacks
        assert_same_structure(rf[0], rn[0])
    else:
        assert_same_structure(rf, rn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            check(args, kw, rf, rn)


def _describe(args, kw):
    def d(x):
        if isinstance(x, np.ndarray):
            return f"ndarray{x.shape} {x.dtype} strides={x.strides} " \
                   f"writeable={x.flags.writeable} aligned={x.flags.aligned}\n{x!r}"
        return repr(x)
    return "\n".join([d(x) for x in args] + [repr(kw)])


@pytest.mark.parametrize("name", list(FUNCS))
def test_fuzz(name):
    strategy = FUNCS[name][2]
    cases = []

    @settings(PROFILE, max_examples=FUZZ_EXAMPLES)
    @given(case=strategy)
    def run(case):
        args, kw = case
        cases.append(1)
        try:
            check_case(name, args, kw)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- case ---\n{_describe(args, kw)}") from exc
    # A hung call never returns to Python: a watchdog thread dumps every stack and ends
    # the process (armed once per function; re-arming per call costs 2 ms).
    # pytest captures fd 2, and the process ends before the capture is shown: the
    # stacks go to a file of their own: HANG_FILE, in the temporary directory.
    with open(HANG_FILE, "w") as dump:
        faulthandler.dump_traceback_later(HANG_SECONDS, exit=True, file=dump)
        try:
            run()
        finally:
            faulthandler.cancel_dump_traceback_later()
    # hypothesis may stop early when it runs out of distinct cases: the count is part
    # of the bar (FUZZ_EXAMPLES x len(FUNCS) >= 20 000 in CI)
    assert len(cases) >= FUZZ_EXAMPLES, f"only {len(cases)} cases generated"
