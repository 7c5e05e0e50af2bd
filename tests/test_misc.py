"""fastla.linalg's thin functions (fastla/linalg/_misc.py) against numpy.linalg.

Every call is checked against numpy.linalg on the same arguments: same result type,
dtype and shape, values within a few eps of the dtype (exactly for integer data), or
the same exception class; inputs must be unchanged afterwards.
"""

import inspect
import itertools

import numpy as np
import pytest

import fastla.linalg as la
from fastla.linalg import _misc

FUNCTIONS = ["multi_dot", "trace", "diagonal", "matrix_transpose", "outer", "cross",
             "tensordot", "vecdot", "vector_norm", "matrix_norm", "norm"]
DTYPES = [np.float32, np.float64, np.int64]
LAYOUTS = ["C", "F", "strided", "negative"]
INF = np.inf


# --- helpers --------------------------------------------------------------------------

def make(shape, dtype=np.float64, layout="C", seed=0):
    """Random array of `shape` and `dtype`, in memory `layout`, same values for any layout."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iu":
        a = np.asarray(rng.integers(-5, 6, size=shape), dtype=dtype)
    elif np.dtype(dtype).kind == "b":
        a = np.asarray(rng.integers(0, 2, size=shape), dtype=bool)
    else:
        a = np.asarray(rng.standard_normal(shape), dtype=dtype)
    if layout == "C":
        return np.ascontiguousarray(a)
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "strided":             # every other element of a larger array
        big = np.zeros(tuple(2 * s for s in a.shape), dtype=a.dtype)
        view = big[(slice(None, None, 2),) * a.ndim + (...,)]
        view[...] = a
        return view
    if layout == "negative":            # every stride negative
        rev = (slice(None, None, -1),) * a.ndim + (...,)
        return np.ascontiguousarray(a[rev])[rev]
    raise ValueError(layout)


def assert_same(got, expected, n=1):
    """Same type, dtype and shape; values within 8*n eps of the dtype (exact for ints)."""
    assert type(got) is type(expected), (type(got), type(expected))
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    if expected.dtype.kind in "fc":
        tol = 8 * n * np.finfo(expected.dtype).eps
        finite = np.abs(expected[np.isfinite(expected)])
        scale = max(1.0, float(finite.max(initial=0)))
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * scale)
    else:
        np.testing.assert_array_equal(got, expected)


def _arrays_in(args):
    for a in args:
        if isinstance(a, np.ndarray):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from _arrays_in(a)


def check(name, *args, n=1, **kwargs):
    """fastla.linalg.<name> gives numpy.linalg.<name>'s result or exception class, and
    leaves its array arguments unchanged."""
    before = [a.copy() for a in _arrays_in(args)]
    with np.errstate(all="ignore"):
        try:
            expected = getattr(np.linalg, name)(*args, **kwargs)
        except Exception as exc:
            with pytest.raises(type(exc)):
                getattr(la, name)(*args, **kwargs)
            return None
        got = getattr(la, name)(*args, **kwargs)
    assert_same(got, expected, n=n)
    for a, b in zip(_arrays_in(args), before):
        np.testing.assert_array_equal(a, b, strict=True)
    return got


# --- API ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FUNCTIONS)
def test_signature_is_numpys(name):
    assert inspect.signature(getattr(la, name)) == inspect.signature(getattr(np.linalg, name))


def test_all_in_numpy_order():
    numpy_names = [n for n in np.linalg.__all__ if n in la.__all__]
    assert la.__all__[:len(numpy_names)] == numpy_names
    assert set(FUNCTIONS) <= set(la.__all__)
    for name in la.__all__:
        assert hasattr(la, name)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_docstring(name):
    doc = getattr(la, name).__doc__
    assert doc and f"numpy.linalg.{name}" in doc


# --- data movement on the last two axes -------------------------------------------------

MATRIX_SHAPES = [(3, 3), (4, 2), (2, 5), (2, 3, 4), (2, 1, 3, 3), (1, 1), (0, 3), (3, 0),
                 (2, 0, 0)]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES + [np.bool_])
@pytest.mark.parametrize("shape", MATRIX_SHAPES, ids=str)
def test_trace_diagonal_transpose(shape, dtype, layout):
    x = make(shape, dtype, layout)
    for offset in (-2, -1, 0, 1, 3):
        check("trace", x, offset=offset)
        check("trace", x, offset=offset, dtype=np.float64)
        d = check("diagonal", x, offset=offset)
        assert not d.flags.writeable          # a read-only view, as numpy's
    t = check("matrix_transpose", x)
    assert np.shares_memory(t, x) or x.size == 0


@pytest.mark.parametrize("name", ["trace", "diagonal", "matrix_transpose"])
@pytest.mark.parametrize("x", [np.float64(1.0), np.arange(3.0)], ids=["0d", "1d"])
def test_matrix_functions_reject_vectors(name, x):
    check(name, x)


@pytest.mark.parametrize("dtype", [np.float16, np.complex128, np.int32, np.uint8])
def test_data_movement_other_dtypes_follow_numpy(dtype):
    x = (np.arange(24).reshape(2, 3, 4) * (1 + 1j if dtype == np.complex128 else 1)).astype(dtype)
    check("trace", x)
    check("diagonal", x, offset=1)
    check("matrix_transpose", x)
    v = np.array([1, 2, 3]).astype(dtype)
    check("outer", v, v)
    check("cross", v, v[::-1])
    check("vecdot", x, x)


# --- outer, cross, vecdot --------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES + [np.bool_])
@pytest.mark.parametrize("m, n", [(3, 4), (1, 1), (0, 3), (5, 0)])
def test_outer(m, n, dtype, layout):
    check("outer", make((m,), dtype, layout, 1), make((n,), dtype, layout, 2))


def test_outer_mixed_dtypes_and_errors():
    check("outer", make((3,), np.float32), make((2,), np.float64))
    check("outer", make((3,), np.int64), make((2,), np.float32))
    check("outer", make((3,)), make((2, 2)))
    check("outer", np.float64(2.0), make((2,)))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("s1, s2, axis", [
    ((3,), (3,), -1), ((4, 3), (4, 3), -1), ((2, 1, 3), (4, 3), -1), ((3, 5), (3, 5), 0),
    ((3, 2, 4), (3, 1, 4), 0), ((1, 3), (1, 3), 1), ((0, 3), (0, 3), -1),
], ids=str)
def test_cross(s1, s2, axis, dtype, layout):
    check("cross", make(s1, dtype, layout, 1), make(s2, dtype, layout, 2), axis=axis)


@pytest.mark.parametrize("s1, s2, axis", [((2,), (2,), -1), ((3, 2), (3, 2), -1),
                                          ((3,), (3,), 1), ((3, 2), (2, 3), 0)], ids=str)
def test_cross_errors(s1, s2, axis):
    check("cross", make(s1), make(s2), axis=axis)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("s1, s2, axis", [
    ((5,), (5,), -1), ((4, 5), (4, 5), -1), ((3, 1, 5), (2, 5), -1), ((5, 3), (5, 3), 0),
    ((1,), (1,), -1), ((0,), (0,), -1), ((0, 4), (0, 4), 0), ((2, 3), (3, 3), -1),
], ids=str)
def test_vecdot(s1, s2, axis, dtype, layout):
    check("vecdot", make(s1, dtype, layout, 1), make(s2, dtype, layout, 2), axis=axis, n=5)


# --- tensordot -------------------------------------------------------------------------

TENSORDOT_CASES = [
    ((3, 4), (4, 5), 1), ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (4,), 0), ((3,), (3,), 1),
    ((2, 3), (2, 3), 2), ((2, 3, 4), (4, 3, 2), ([1, 2], [1, 0])), ((3, 4), (5, 3), (0, 1)),
    ((2, 3, 4), (2, 5), ([-3], [-2])), ((3, 4), (4, 5), ([], [])), ((1, 1), (1, 1), 1),
    ((0, 4), (4, 3), 1), ((3, 0), (0, 2), 1), ((2, 3), (3, 2), -1), ((2, 3), (2, 3), 0),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES + [np.bool_])
@pytest.mark.parametrize("s1, s2, axes", TENSORDOT_CASES, ids=str)
def test_tensordot(s1, s2, axes, dtype, layout):
    check("tensordot", make(s1, dtype, layout, 1), make(s2, dtype, layout, 2),
          axes=axes, n=12)


@pytest.mark.parametrize("d1, d2", [(np.float32, np.float64), (np.int64, np.float32),
                                    (np.bool_, np.float64), (np.int32, np.int64)])
def test_tensordot_mixed_dtypes(d1, d2):
    check("tensordot", make((2, 3, 4), d1, seed=1), make((4, 3, 2), d2, seed=2),
          axes=([1, 2], [1, 0]), n=12)


def test_tensordot_uses_fastla_matmul(monkeypatch):
    calls = []
    monkeypatch.setattr(_misc, "matmul", lambda a, b: calls.append(1) or np.matmul(a, b))
    la.tensordot(make((2, 3, 4)), make((3, 4, 5)))
    assert calls == [1]


@pytest.mark.parametrize("s1, s2, axes", [
    ((3, 4), (5, 6), 1), ((3, 4), (4, 5), 3), ((3, 4), (4, 5), ([1], [0, 1])),
    ((3, 4), (4, 4), ([1, 1], [0, 1])), ((3, 4), (4, 5), ([2], [0])), ((3, 4), (4, 5), (1, 0, 1)),
], ids=str)
def test_tensordot_errors(s1, s2, axes):
    check("tensordot", make(s1), make(s2), axes=axes)


# --- multi_dot -------------------------------------------------------------------------

def chain(dims, dtype=np.float64, layout="C", vec_first=False, vec_last=False):
    arrays = [make((dims[i], dims[i + 1]), dtype, layout, seed=i) for i in range(len(dims) - 1)]
    if vec_first:
        arrays[0] = make((dims[1],), dtype, layout, seed=10)
    if vec_last:
        arrays[-1] = make((dims[-2],), dtype, layout, seed=11)
    return arrays


def brute_force_cost(dims):
    """Fewest scalar multiplications over all parenthesisations of the chain `dims`."""
    if len(dims) <= 2:
        return 0
    return min(brute_force_cost(dims[:k + 1]) + brute_force_cost(dims[k:])
               + dims[0] * dims[k] * dims[-1] for k in range(1, len(dims) - 1))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dims", [(3, 4), (2, 5, 3), (4, 1, 6, 2), (3, 7, 2, 5, 4),
                                  (1, 1, 1, 1), (2, 0, 3, 4), (0, 2, 3, 0), (5, 3, 1, 4, 2, 6)],
                         ids=str)
@pytest.mark.parametrize("ends", ["mat", "vec_first", "vec_last", "vec_both"])
def test_multi_dot(dims, dtype, layout, ends):
    arrays = chain(dims, dtype, layout, vec_first=ends in ("vec_first", "vec_both"),
                   vec_last=ends in ("vec_last", "vec_both"))
    check("multi_dot", arrays, n=max(dims))


@pytest.mark.parametrize("seed", range(40))
def test_multi_dot_optimal_order(seed, monkeypatch):
    """The products multi_dot performs cost exactly the brute-force minimum."""
    rng = np.random.default_rng(seed)
    dims = [int(d) for d in rng.integers(1, 12, size=rng.integers(3, 8))]
    cost = []

    def counting_matmul(a, b):
        cost.append(a.shape[0] * a.shape[1] * b.shape[-1])
        return la.matmul(a, b)

    monkeypatch.setattr(_misc, "matmul", counting_matmul)
    arrays = chain(dims)
    got = la.multi_dot(arrays)
    assert len(cost) == len(arrays) - 1
    assert sum(cost) == brute_force_cost(dims)
    assert_same(got, np.linalg.multi_dot(arrays), n=12)


def test_multi_dot_classic_example(monkeypatch):
    """CLRS §15.2's chain: optimum 15125 multiplications, ((A1(A2A3))((A4A5)A6))."""
    dims = [30, 35, 15, 5, 10, 20, 25]
    cost = []
    monkeypatch.setattr(_misc, "matmul",
                        lambda a, b: cost.append(a.shape[0] * a.shape[1] * b.shape[1])
                        or la.matmul(a, b))
    la.multi_dot(chain(dims))
    assert sum(cost) == 15125 == brute_force_cost(dims)


def test_multi_dot_accepts_any_sequence():
    arrays = chain((2, 3, 4, 5))
    check("multi_dot", tuple(arrays))
    check("multi_dot", [a.tolist() for a in arrays])


@pytest.mark.parametrize("ends", ["mat", "vec_first", "vec_last", "vec_both"])
@pytest.mark.parametrize("dims", [(2, 3, 4), (2, 3, 4, 5), (3, 2, 4, 2, 3)], ids=str)
def test_multi_dot_out(dims, ends):
    """out= takes the product (2-D for vector ends when there are 3+ arrays), as numpy."""
    vf, vl = ends in ("vec_first", "vec_both"), ends in ("vec_last", "vec_both")
    arrays = chain(dims, vec_first=vf, vec_last=vl)
    expected = np.linalg.multi_dot(arrays)
    if len(arrays) == 2:
        shape = np.shape(expected)
    else:
        shape = (1 if vf else dims[0], 1 if vl else dims[-1])
    out = np.full(shape, np.nan)
    got = la.multi_dot(arrays, out=out)
    assert_same(got, expected, n=4)
    assert_same(out.reshape(np.shape(expected))[()], expected, n=4)
    if np.ndim(got):
        assert np.shares_memory(got, out)


@pytest.mark.parametrize("out", [
    np.empty((2, 4), np.float32), np.empty((4, 2)).T, np.empty((2, 5)), np.empty(8),
    np.empty((2, 4, 1)), [[0.0] * 4] * 2, np.empty((2, 8))[:, ::2],
], ids=["dtype", "F-order", "shape", "ndim", "3d", "list", "strided"])
@pytest.mark.parametrize("n", [2, 3])
def test_multi_dot_bad_out(out, n):
    arrays = chain((2, 3, 4)) if n == 2 else chain((2, 3, 3, 4))
    check("multi_dot", arrays, out=out)


@pytest.mark.parametrize("arrays", [
    [], [np.ones((2, 2))], [np.ones((2, 3)), np.ones((4, 2))],
    [np.ones((2, 3)), np.ones((3, 4)), np.ones((5, 2))],
    [np.ones((2, 3)), np.ones(3), np.ones(3)],
    [np.ones((2, 2, 2)), np.ones((2, 2)), np.ones((2, 2))],
    [np.float64(2), np.ones((1, 2)), np.ones(2)],
    [np.ones(3), np.ones(4)], [np.ones((2, 2, 2)), np.ones((2, 2, 2))],
    [np.float64(2), np.ones((2, 2))],
], ids=["none", "one", "misaligned2", "misaligned3", "vector-inside", "3d-in-chain",
        "scalar-in-chain", "vectors", "3d-pair-is-dot", "scalar-pair-is-dot"])
def test_multi_dot_edge_cases(arrays):
    check("multi_dot", arrays)


@pytest.mark.parametrize("dtype", [np.complex128, np.float16, object])
def test_products_of_unsupported_dtypes_raise(dtype):
    """multi_dot and tensordot compute through fastla's matmul: its dtype rule applies."""
    x = np.ones((2, 2), dtype)
    with pytest.raises(TypeError):
        la.multi_dot([x] * 3)
    with pytest.raises(TypeError):
        la.tensordot(x, x)


# --- norms -----------------------------------------------------------------------------

VECTOR_ORDS = [None, 2, 1, 0, INF, -INF, 3, 0.5, -1, -2, 2.5]
MATRIX_ORDS = [None, "fro", "f", "nuc", 1, -1, 2, -2, INF, -INF]
BAD_ORDS = ["fro", "nuc", "x", 3, 0, 0.5]
ALL_ORDS = [None, "fro", "f", "nuc", "x", 0, 0.5, 1, -1, 2, -2, 2.5, 3, INF, -INF]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ord", VECTOR_ORDS + ["fro", "nuc"], ids=str)
@pytest.mark.parametrize("axis", [None, 0, -1, 1, (0,), (0, 2), (2, 0), (-1, 0, 1), ()], ids=str)
def test_vector_norm(axis, ord, keepdims):
    for dtype, layout in itertools.product(DTYPES + [np.bool_], LAYOUTS):
        check("vector_norm", make((3, 4, 2), dtype, layout), axis=axis, keepdims=keepdims,
              ord=ord, n=8)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=str)
@pytest.mark.parametrize("shape", [(), (1,), (5,), (0,), (2, 0), (0, 3, 2)], ids=str)
def test_vector_norm_small_and_empty(shape, ord, keepdims):
    for dtype in DTYPES:
        x = make(shape, dtype)
        check("vector_norm", x, keepdims=keepdims, ord=ord)
        check("vector_norm", x, axis=-1, keepdims=keepdims, ord=ord)
        check("vector_norm", x, axis=tuple(range(x.ndim)), keepdims=keepdims, ord=ord)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ord", MATRIX_ORDS + BAD_ORDS, ids=str)
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 5), (3, 2, 4), (2, 1, 3, 3), (1, 1),
                                   (0, 0), (3, 0), (0, 3), (2, 0, 3), (2,), ()], ids=str)
def test_matrix_norm(shape, ord, keepdims):
    for dtype, layout in itertools.product(DTYPES + [np.bool_], LAYOUTS):
        check("matrix_norm", make(shape, dtype, layout), keepdims=keepdims, ord=ord, n=8)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ord", ALL_ORDS, ids=str)
@pytest.mark.parametrize("axis", [None, 0, -1, (1,), (0, 1), (1, 0), (-1, -2), (0, 2), (2, 2),
                                  (0, 1, 2), 1.0, [0, 1], "x", 3], ids=str)
def test_norm(axis, ord, keepdims):
    for dtype, layout in itertools.product(DTYPES, LAYOUTS):
        check("norm", make((3, 4, 2), dtype, layout), ord=ord, axis=axis, keepdims=keepdims,
              n=8)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ord", ALL_ORDS, ids=str)
@pytest.mark.parametrize("shape", [(), (1,), (4,), (0,), (1, 1), (3, 4), (4, 3), (0, 0), (2, 0),
                                   (2, 3, 2)], ids=str)
def test_norm_default_axis(shape, ord, keepdims):
    for dtype, layout in itertools.product(DTYPES + [np.bool_], LAYOUTS):
        check("norm", make(shape, dtype, layout), ord, None, keepdims, n=8)


@pytest.mark.parametrize("name, kwargs", [
    ("norm", {}), ("norm", {"ord": 2}), ("norm", {"ord": 1, "axis": 0}),
    ("vector_norm", {}), ("vector_norm", {"ord": INF}), ("matrix_norm", {}),
    ("matrix_norm", {"ord": 2}), ("matrix_norm", {"ord": "nuc"}),
])
def test_norm_float32_stays_float32(name, kwargs):
    x = make((4, 4), np.float32)
    got = getattr(la, name)(x, **kwargs)
    assert got.dtype == np.float32
    assert_same(got, getattr(np.linalg, name)(x, **kwargs), n=4)


def test_norm_nonfinite():
    x = make((3, 4))
    x[0, 1], x[2, 2] = np.inf, -np.inf
    for ord in (None, "fro", 1, -1, INF, -INF):
        check("norm", x, ord)
        check("matrix_norm", x, ord="fro" if ord is None else ord)
    for ord in VECTOR_ORDS:
        check("vector_norm", x, ord=ord, axis=1)
    x[1, 3] = np.nan
    for ord in VECTOR_ORDS:
        check("vector_norm", x, ord=ord)


def test_norm_scalars_and_lists():
    check("norm", 3.0)
    check("norm", [3, 4])
    check("norm", [[1, 2], [3, 4]], "nuc")
    check("vector_norm", [3, -4], ord=1)
    check("matrix_norm", [[1, 2], [3, 4]], ord=INF)


@pytest.mark.parametrize("name", ["norm", "vector_norm", "matrix_norm"])
@pytest.mark.parametrize("dtype", [np.float16, np.complex64, np.complex128, np.longdouble,
                                   object])
def test_norm_unsupported_dtypes_raise(name, dtype):
    """fastla's rule (DESIGN §2): floating-point work on these dtypes raises TypeError."""
    x = np.ones((3, 3), dtype=dtype)
    with pytest.raises(TypeError):
        getattr(la, name)(x)


def test_matrix_norm_2_uses_singular_values_helper(monkeypatch):
    calls = []
    real = _misc._singular_values
    monkeypatch.setattr(_misc, "_singular_values", lambda x: calls.append(x.shape) or real(x))
    x = make((2, 3, 4))
    for ord in (2, -2, "nuc"):
        la.matrix_norm(x, ord=ord)
        la.norm(x, ord, axis=(2, 0))
    assert calls == [(2, 3, 4), (3, 4, 2)] * 3
