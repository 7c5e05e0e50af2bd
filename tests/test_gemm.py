"""fastla.matmul against numpy.matmul: every path of the GEMM (small, packed, batched,
fixed-size batch kernels, parallel), every dtype rule, layout, error and thread mode.

Accuracy is the elementwise bound |C - A@B| <= 4 k eps (|A|@|B|) of tests/_residuals.py;
exact comparisons are used only where the result must be exact (integer products,
thread counts, batched vs looped slices).
"""

import concurrent.futures
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:
    import threadpoolctl
except ImportError:     # a bench dependency; only the thread-count test needs it
    threadpoolctl = None

import fastla
from _residuals import LAYOUTS, as_layout, assert_matmul_bound, eps

INFO_D = fastla.gemm_info("float64")
INFO_S = fastla.gemm_info("float32")
MR = max(INFO_D["MR"], INFO_S["MR"])
KC, MC, NC = INFO_D["KC"], INFO_D["MC"], INFO_D["NC"]
SMALL = INFO_D["small_mnk"]
PARALLEL = INFO_D["parallel_min_mnk"]


def _icbrt(x):
    r = round(x ** (1 / 3))
    while r ** 3 > x:
        r -= 1
    return r


def _shapes():
    s = _icbrt(SMALL)          # s**3 <= SMALL: the largest cube on the unpacked path
    p = _icbrt(PARALLEL - 1) + 1   # p**3 >= PARALLEL: the smallest parallel cube
    cases = {
        "empty": (0, 0, 0), "m=0": (0, 3, 4), "n=0": (3, 0, 4), "k=0": (3, 4, 0),
        "k=0-large": (40, 50, 0), "m=0-large": (0, 50, 400),
        "1x1x1": (1, 1, 1), "1xnx1": (1, 5, 1), "mx1x1": (5, 1, 1), "1x1xk": (1, 1, 5),
        "1x37x41": (1, 37, 41),
        "primes-2-3-5": (2, 3, 5), "primes-7-11-13": (7, 11, 13),
        "primes-31-37-41": (31, 37, 41), "primes-61-67-71": (61, 67, 71),
        "primes-97-101-103": (97, 101, 103),
        "small-cube": (s, s, s), "small-cube+k": (s, s, s + 1),
        "small-cube+m": (s + 1, s, s), "small-cube+n": (s, s + 1, s),
        "dot-at-cutoff": (1, 1, SMALL), "dot-over-cutoff": (1, 1, SMALL + 1),
        "rows-at-cutoff": (SMALL // 64, 8, 8), "rows-over-cutoff": (SMALL // 64 + 1, 8, 8),
        "kc-1": (20, 30, KC - 1), "kc": (20, 30, KC), "kc+1": (20, 30, KC + 1),
        "2kc+3": (17, 19, 2 * KC + 3),
        "mc-1": (MC - 1, 33, 40), "mc": (MC, 33, 40), "mc+1": (MC + 1, 33, 40),
        "2mc+5": (2 * MC + 5, 29, 31),
        "nc+5": (9, NC + 5, 9),
        "serial-below-parallel": (p - 1, p - 1, p - 1), "parallel-cube": (p, p, p),
        "parallel-odd": (p + 3, p + 2, p + 1),
        "large-300x517x260": (300, 517, 260),
        "tall": (600, 3, 5), "wide": (3, 600, 5), "long-k": (2, 3, 5000),
        "column": (500, 1, 70), "row": (1, 500, 70), "outer": (400, 400, 1),
        "tall-packed": (600, 7, 300),
    }
    for dt, info in (("d", INFO_D), ("s", INFO_S)):
        mr, nr = info["MR"], info["NR"]
        cases[f"{dt}:mr+1,nr+1"] = (mr + 1, nr + 1, 200)
        cases[f"{dt}:mr-1,nr-1,kc+1"] = (mr - 1, nr - 1, KC + 1)
        cases[f"{dt}:2mr+3,3nr-1"] = (2 * mr + 3, 3 * nr - 1, 97)
        cases[f"{dt}:mr,nr-exact"] = (4 * mr, 2 * nr, 150)
    return cases


SHAPES = _shapes()


def _operands(rng, a_shape, b_shape, dtype):
    a = rng.standard_normal(a_shape).astype(dtype)
    b = rng.standard_normal(b_shape).astype(dtype)
    return a, b


def _loop_over_slices(a, b):
    """fastla.matmul slice by slice over the broadcast batch (the reference for batching)."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + (a.shape[-2], b.shape[-1]), dtype=np.result_type(a, b))
    for idx in np.ndindex(*batch):
        out[idx] = fastla.matmul(np.array(a[idx]), np.array(b[idx]))
    return out


# ---------------------------------------------------------------------------- shapes

@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_shapes(shape, dtype, rng):
    m, n, k = shape
    a, b = _operands(rng, (m, k), (k, n), dtype)
    c = fastla.matmul(a, b)
    assert type(c) is np.ndarray
    assert c.dtype == dtype and c.shape == (m, n)
    assert_matmul_bound(c, a, b)


def test_shape_list_crosses_every_cutoff():
    """The cases above really sit on both sides of every block size and cut-off."""
    mnk = [m * n * k for m, n, k in SHAPES.values()]
    assert min(x for x in mnk if x > 0) <= SMALL < max(mnk)
    assert SMALL in mnk and any(SMALL < x < PARALLEL for x in mnk)
    assert PARALLEL in mnk or any(x >= PARALLEL for x in mnk)
    assert any(PARALLEL // 2 < x < PARALLEL for x in mnk)
    assert any(k > 2 * KC for _, _, k in SHAPES.values())
    assert any(m > 2 * MC for m, _, _ in SHAPES.values())
    assert any(n > NC for _, n, _ in SHAPES.values())
    for info in (INFO_D, INFO_S):
        assert any(m % info["MR"] and n % info["NR"] and m * n * k > SMALL
                   for m, n, k in SHAPES.values())


def test_packed_edge_slivers_every_n_and_m(dtype, rng):
    """Every remainder of n mod NR and m mod MR on the packed path (k > KC, so two k
    slices accumulate).  Partial slivers are zero-padded in the packing workspace; a
    workspace sized for another dtype's NR corrupts exactly these columns."""
    info = fastla.gemm_info(dtype)
    nr, mr = info["NR"], info["MR"]
    k = KC + 3
    a = rng.standard_normal((2 * mr + 3, k)).astype(dtype)
    b = rng.standard_normal((k, 3 * nr + 2)).astype(dtype)
    for n in range(1, 3 * nr + 3):
        assert_matmul_bound(fastla.matmul(a[:9], b[:, :n]), a[:9], b[:, :n])
    for m in range(1, 2 * mr + 4):
        assert_matmul_bound(fastla.matmul(a[:m], b[:, :nr + 5]), a[:m], b[:, :nr + 5])


def test_k0_gives_zeros(dtype):
    """k = 0: C is all zeros (the kernel writes, never reads, C)."""
    for m, n in [(3, 4), (40, 50), (200, 300)]:
        c = fastla.matmul(np.empty((m, 0), dtype), np.empty((0, n), dtype))
        assert c.shape == (m, n) and c.dtype == dtype
        assert np.array_equal(c, np.zeros((m, n), dtype))


# ------------------------------------------------------------------- 1-D operands

@pytest.mark.parametrize("k", [0, 1, 7, 100, SMALL + 3])
def test_vector_vector_is_a_numpy_scalar(k, dtype, rng):
    a, b = _operands(rng, (k,), (k,), dtype)
    r = fastla.matmul(a, b)
    expected = np.matmul(a, b)
    assert type(r) is type(expected) is dtype.type
    assert_matmul_bound(r, a, b)


@pytest.mark.parametrize("k, n", [(0, 3), (3, 0), (1, 1), (5, 7), (300, 200), (40, 1000)])
def test_vector_matrix(k, n, dtype, rng):
    a, b = _operands(rng, (k,), (k, n), dtype)
    c = fastla.matmul(a, b)
    assert c.shape == (n,) and c.dtype == dtype
    assert_matmul_bound(c, a, b)


@pytest.mark.parametrize("m, k", [(3, 0), (0, 3), (1, 1), (7, 5), (200, 300), (1000, 40)])
def test_matrix_vector(m, k, dtype, rng):
    a, b = _operands(rng, (m, k), (k,), dtype)
    c = fastla.matmul(a, b)
    assert c.shape == (m,) and c.dtype == dtype
    assert_matmul_bound(c, a, b)


@pytest.mark.parametrize("m, n, k", [(3, 4, 5), (40, 50, 60)])
def test_vector_with_stack(m, n, k, dtype, rng):
    a, b = _operands(rng, (k,), (2, 3, k, n), dtype)
    c = fastla.matmul(a, b)
    assert c.shape == (2, 3, n)
    assert_matmul_bound(c, a, b)
    a, b = _operands(rng, (2, 3, m, k), (k,), dtype)
    c = fastla.matmul(a, b)
    assert c.shape == (2, 3, m)
    assert_matmul_bound(c, a, b)


# ---------------------------------------------------------------------- broadcasting

BROADCASTS = {
    "(2,1)x(3)": ((2, 1), (3,)),
    "(1)x(4)": ((1,), (4,)),
    "(4)x()": ((4,), ()),
    "()x(2,3)": ((), (2, 3)),
    "(3,1,2)x(4,1)": ((3, 1, 2), (4, 1)),
    "(0)x()": ((0,), ()),
    "(2,0)x(1)": ((2, 0), (1,)),
    "(1,1)x(1)": ((1, 1), (1,)),
}


@pytest.mark.parametrize("mnk", [(3, 4, 5), (4, 4, 4), (40, 50, 60)], ids=str)
@pytest.mark.parametrize("batches", list(BROADCASTS.values()), ids=list(BROADCASTS))
def test_broadcast_stacks(batches, mnk, dtype, rng):
    (ba, bb), (m, n, k) = batches, mnk
    a, b = _operands(rng, ba + (m, k), bb + (k, n), dtype)
    c = fastla.matmul(a, b)
    assert c.shape == np.matmul(a, b).shape and c.dtype == dtype
    assert_matmul_bound(c, a, b)
    assert np.array_equal(c, _loop_over_slices(a, b))


@pytest.mark.parametrize("mnk", [(3, 4, 5), (8, 8, 8), (40, 50, 60)], ids=str)
def test_stride0_broadcast_inputs(mnk, dtype, rng):
    """Operands that are themselves np.broadcast_to views (batch stride 0, read-only)."""
    m, n, k = mnk
    a0, b0 = _operands(rng, (m, k), (3, 1, k, n), dtype)
    a = np.broadcast_to(a0, (5, m, k))
    b = np.broadcast_to(b0, (3, 5, k, n))
    assert a.strides[0] == 0 and b.strides[1] == 0
    c = fastla.matmul(a, b)
    assert c.shape == (3, 5, m, n)
    assert_matmul_bound(c, a, b)
    assert np.array_equal(c, _loop_over_slices(a, b))
    # Stride 0 inside a matrix too: every row of A is the same vector.
    a = np.broadcast_to(a0[0], (m, k))
    c = fastla.matmul(a, b0[0, 0])
    assert_matmul_bound(c, a, b0[0, 0])


# ----------------------------------------------------------- stacks of small squares

SQUARE_LAYOUTS = ["C", "T", "strided", "reversed", "bcast-a", "bcast-b"]


@pytest.mark.parametrize("layout", SQUARE_LAYOUTS)
@pytest.mark.parametrize("k", list(range(1, 10)) + [16])
def test_stacked_small_squares(k, layout, dtype, rng):
    """Batches of k x k products; k = 2, 3, 4, 8 take fixed-size kernels when every
    column stride is 1 (C, bcast), the general small loop otherwise (T: column stride
    k, strided: 2, reversed: -1)."""
    a, b = _operands(rng, (6, 7, k, k), (6, 7, k, k), dtype)
    if layout == "bcast-a":
        a = np.broadcast_to(a[:1, :1], a.shape)
    elif layout == "bcast-b":
        b = np.broadcast_to(b[2, 3], b.shape)
    else:
        a, b = as_layout(a, layout), as_layout(b, layout)
        if layout in ("T", "strided", "reversed") and k > 1:
            assert a.strides[-1] != a.itemsize and b.strides[-1] != b.itemsize
    c = fastla.matmul(a, b)
    assert c.shape == (6, 7, k, k) and c.dtype == dtype
    assert_matmul_bound(c, a, b)
    assert np.array_equal(c, _loop_over_slices(a, b))


@pytest.mark.parametrize("k", [2, 3, 4, 8])
def test_fixed_size_kernels_with_one_strided_operand(k, dtype, rng):
    """Square k x k stacks where only one operand has unit column stride: the fixed-size
    kernel must not be taken, and the general small loop must give the same values."""
    a, b = _operands(rng, (50, k, k), (50, k, k), dtype)
    for a_, b_ in [(as_layout(a, "T"), b), (a, as_layout(b, "strided")),
                   (as_layout(a, "reversed"), as_layout(b, "C"))]:
        c = fastla.matmul(a_, b_)
        assert_matmul_bound(c, a, b)
        assert np.array_equal(c, _loop_over_slices(a, b))


# --------------------------------------------------------------------------- dtypes

ALL_DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64,
              np.float32, np.float64]


def _values(rng, shape, dt):
    dt = np.dtype(dt)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind == "u":
        return rng.integers(0, 6, shape).astype(dt)
    if dt.kind == "i":
        return rng.integers(-5, 6, shape).astype(dt)
    return rng.standard_normal(shape).astype(dt)


@pytest.mark.parametrize("mnk", [(6, 7, 5), (40, 50, 60)], ids=str)
@pytest.mark.parametrize("dt_b", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("dt_a", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_mixed_dtypes(dt_a, dt_b, mnk, rng):
    m, n, k = mnk
    a, b = _values(rng, (m, k), dt_a), _values(rng, (k, n), dt_b)
    expected = np.matmul(a, b)
    c = fastla.matmul(a, b)
    assert c.dtype == np.result_type(a, b) == expected.dtype
    if c.dtype.kind in "biu":
        assert np.array_equal(c, expected)
    else:
        assert_matmul_bound(c, a, b)


def test_integer_products_are_exact(rng):
    """Integer products stay integers: float64 would round these sums (> 2**53)."""
    a = rng.integers(2 ** 26, 2 ** 27, (5, 9), dtype=np.int64)
    b = rng.integers(2 ** 26, 2 ** 27, (9, 4), dtype=np.int64)
    c = fastla.matmul(a, b)
    assert c.dtype == np.int64
    exact = [[sum(int(x) * int(y) for x, y in zip(row, col)) for col in b.T] for row in a]
    assert c.tolist() == exact
    assert np.array_equal(fastla.matmul(a[0], b[:, 0]), np.matmul(a[0], b[:, 0]))
    # stacks and 1-D
    a3 = rng.integers(-1000, 1000, (3, 4, 5), dtype=np.int32)
    assert np.array_equal(fastla.matmul(a3, a3.swapaxes(-1, -2)),
                          np.matmul(a3, a3.swapaxes(-1, -2)))
    bools = rng.random((3, 4, 4)) < 0.3
    assert fastla.matmul(bools, bools).dtype == np.bool_
    assert np.array_equal(fastla.matmul(bools, bools), np.matmul(bools, bools))


def test_python_lists():
    c = fastla.matmul([[1.0, 2.0]], [[3.0], [4.0]])
    assert type(c) is np.ndarray and c.dtype == np.float64 and c.tolist() == [[11.0]]
    c = fastla.matmul([[1, 2]], [[3], [4]])
    assert c.dtype == np.asarray([1]).dtype and c.tolist() == [[11]]
    assert fastla.matmul([1.0, 2.0], [3.0, 4.0]) == 11.0


# -------------------------------------------------------------------------- layouts

def _check_layout(x, layout):
    """Guard against a vacuous test: the layout really is what its name says."""
    if x.size <= 1:
        return
    if layout == "misaligned":
        assert not x.flags.aligned
    if layout == "oddstride" and x.ndim >= 2 and x.shape[-2] > 1:
        assert any(s % x.itemsize for s in x.strides)
    if layout == "reversed":
        assert any(s < 0 for s in x.strides)
    if layout == "F" and x.ndim >= 2:
        assert x.flags.f_contiguous and not x.flags.c_contiguous


@pytest.mark.parametrize("shapes", [((5, 7), (7, 6)), ((40, 60), (60, 50)),
                                    ((3, 9, 4), (3, 4, 8)), ((2, 4, 4), (4, 4))],
                         ids=["small", "packed", "stack", "stack-fixed4"])
@pytest.mark.parametrize("lb", LAYOUTS)
@pytest.mark.parametrize("la", LAYOUTS)
def test_layouts(la, lb, shapes, dtype, rng):
    a0, b0 = _operands(rng, *shapes, dtype)
    a, b = as_layout(a0, la), as_layout(b0, lb)
    _check_layout(a, la)
    _check_layout(b, lb)
    assert np.array_equal(a, a0) and np.array_equal(b, b0)
    c = fastla.matmul(a, b)
    assert c.dtype == dtype
    assert_matmul_bound(c, a0, b0)
    assert np.array_equal(a, a0) and np.array_equal(b, b0)


@pytest.mark.parametrize("layout", ["misaligned", "oddstride", "strided", "reversed"])
def test_layouts_mixed_dtype_and_vectors(layout, rng):
    a = as_layout(rng.integers(-9, 9, (30, 40)).astype(np.int32), layout)
    b = as_layout(rng.standard_normal(40).astype(np.float32), layout)
    c = fastla.matmul(a, b)
    assert c.dtype == np.float64
    assert_matmul_bound(c, a, b)
    v = as_layout(rng.standard_normal(30), layout)
    assert_matmul_bound(fastla.matmul(v, a), v, a)


# -------------------------------------------------------- inputs: read-only, unchanged

@pytest.mark.parametrize("shapes", [((5, 6), (6, 7)), ((40, 50), (50, 60)),
                                    ((4, 3, 3), (4, 3, 3)), ((7,), (7,)),
                                    ((2, 1, 8, 9), (3, 9, 8))], ids=str)
@pytest.mark.parametrize("layout", ["C", "F", "misaligned", "strided"])
@pytest.mark.parametrize("mixed", [False, True], ids=["same-dtype", "int32-b"])
def test_read_only_inputs_unchanged(shapes, layout, mixed, dtype, rng):
    a, b = _operands(rng, *shapes, dtype)
    if mixed:
        b = rng.integers(-4, 5, shapes[1]).astype(np.int32)
    a, b = as_layout(a, layout), as_layout(b, layout)
    a.setflags(write=False)
    b.setflags(write=False)
    a_before, b_before = a.copy(), b.copy()
    c = fastla.matmul(a, b)
    assert np.array_equal(a, a_before) and np.array_equal(b, b_before)
    assert_matmul_bound(c, a, b)
    if np.ndim(c):
        assert c.flags.writeable and c.flags.c_contiguous
        assert not np.shares_memory(c, a) and not np.shares_memory(c, b)


# -------------------------------------------------------------------------- NaN, Inf

def _assert_nonfinite_like_numpy(c, a, b):
    with np.errstate(all="ignore"):
        expected = np.matmul(a, b)
        scale = np.matmul(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64))
    c = np.asarray(c)
    assert c.shape == expected.shape and c.dtype == expected.dtype
    assert np.array_equal(np.isnan(c), np.isnan(expected)), "NaN pattern differs from numpy"
    inf = np.isinf(expected)
    assert np.array_equal(np.isinf(c), inf), "Inf pattern differs from numpy"
    assert np.array_equal(np.sign(c[inf]), np.sign(expected[inf]))
    fin = np.isfinite(expected)
    k = a.shape[-1]
    err = np.abs(c[fin].astype(np.float64) - expected[fin].astype(np.float64))
    assert np.all(err <= 8 * k * eps(c.dtype) * scale[fin])


SPECIALS = {
    "inf*0": ([[np.inf, 1.0]], [[0.0], [1.0]]),
    "inf-inf": ([[np.inf, -np.inf]], [[1.0], [1.0]]),
    "inf": ([[np.inf, 1.0]], [[2.0], [1.0]]),
    "-inf": ([[np.inf, 1.0]], [[-2.0], [1.0]]),
    "nan*0": ([[np.nan, 0.0]], [[0.0], [0.0]]),
    "nan-row": ([[1.0, 2.0], [np.nan, 1.0]], [[1.0, 2.0], [3.0, 4.0]]),
    "nan-col": ([[1.0, 2.0], [3.0, 1.0]], [[1.0, np.nan], [3.0, 4.0]]),
    "overflow": ([["big", "big"]], [["big"], ["big"]]),   # big * big = 4 * max
}


def _special(rows, dtype):
    big = 2 * np.sqrt(np.finfo(dtype).max)
    return np.array([[big if v == "big" else v for v in row] for row in rows], dtype=dtype)


@pytest.mark.parametrize("case", list(SPECIALS.values()), ids=list(SPECIALS))
@pytest.mark.parametrize("size", ["as-is", "embedded-packed", "embedded-stack"])
def test_nan_inf_special_values(case, size, dtype, rng):
    a, b = _special(case[0], dtype), _special(case[1], dtype)
    if size != "as-is":     # the same entries inside a product that takes the packed path
        m, k = a.shape
        n = b.shape[1]
        big_a = rng.standard_normal((37, 45)).astype(dtype)
        big_b = rng.standard_normal((45, 41)).astype(dtype)
        big_a[5:5 + m, 9:9 + k] = a
        big_a[5:5 + m, 9 + k:] = 0
        big_b[9:9 + k, 20:20 + n] = b
        a, b = big_a, big_b
        if size == "embedded-stack":
            a = np.stack([a, a[::-1]])
    c = fastla.matmul(a, b)
    _assert_nonfinite_like_numpy(c, a, b)
    assert not np.isfinite(c).all()


@pytest.mark.parametrize("shapes", [((3, 5), (5, 4)), ((1, 7), (7, 1)), ((40, 60), (60, 50)),
                                    ((100, 300), (300, 30)), ((9, 17), (17, 33)),
                                    ((4, 3, 3), (4, 3, 3)), ((20,), (20, 7)), ((20,), (20,))],
                         ids=str)
def test_nan_inf_random_positions(shapes, dtype, rng):
    for _ in range(5):
        a, b = _operands(rng, *shapes, dtype)
        for x in (a, b):
            for v in (np.nan, np.inf, -np.inf, 0.0):
                x[tuple(rng.integers(0, s) for s in x.shape)] = v
        _assert_nonfinite_like_numpy(fastla.matmul(a, b), a, b)


# --------------------------------------------------------------------------- errors

def _numpy_error(*args):
    with pytest.raises(Exception) as info:
        np.matmul(*args)
    return info.value


@pytest.mark.parametrize("args", [(np.float64(2.0), np.ones((2, 2))), (np.ones((2, 2)), 3.0),
                                  (2.0, 3.0), (np.array(1.0, np.float32), np.ones(3, np.float32))],
                         ids=["0d-first", "0d-second", "two-scalars", "0d-array"])
def test_zero_dim_operand(args):
    expected = _numpy_error(*args)
    with pytest.raises(ValueError) as info:
        fastla.matmul(*args)
    assert type(info.value) is type(expected)
    assert str(info.value) == str(expected)


@pytest.mark.parametrize("shapes", [((2, 3), (4, 2)), ((3,), (4,)), ((2, 3), (4,)),
                                    ((3,), (4, 2)), ((5, 2, 3), (5, 4, 2)),
                                    ((40, 50), (49, 60)), ((2, 0), (1, 2))], ids=str)
@pytest.mark.parametrize("dt", [np.float64, np.float32, np.int64])
def test_core_dimension_mismatch(shapes, dt):
    a, b = np.ones(shapes[0], dt), np.ones(shapes[1], dt)
    expected = _numpy_error(a, b)
    with pytest.raises(ValueError) as info:
        fastla.matmul(a, b)
    assert str(info.value) == str(expected)


@pytest.mark.parametrize("shapes", [((2, 2, 3), (3, 3, 2)), ((4, 2, 2, 2), (3, 2, 2)),
                                    ((0, 2, 2), (2, 2, 2))], ids=str)
def test_unbroadcastable_batch(shapes, dtype):
    a, b = np.ones(shapes[0], dtype), np.ones(shapes[1], dtype)
    expected = _numpy_error(a, b)
    assert isinstance(expected, ValueError)
    with pytest.raises(ValueError):
        fastla.matmul(a, b)


UNSUPPORTED = {
    "float16": (np.ones((3, 3), np.float16), np.ones((3, 3), np.float16)),
    "float16-stack": (np.ones((2, 3, 3), np.float16), np.ones((3, 3), np.float16)),
    "longdouble": (np.ones((3, 3), np.longdouble), np.ones((3, 3))),
    "complex128": (np.ones((3, 3), complex), np.ones((3, 3), complex)),
    "complex64-float64": (np.ones((3, 3), np.complex64), np.ones((3, 3))),
    "float64-complex128": (np.ones((3, 3)), np.ones((3, 3), complex)),
    "complex-vector": (np.ones(3, complex), np.ones(3, complex)),
    "object": (np.ones((3, 3), object), np.ones((3, 3), object)),
    "str": (np.array([["a"]]), np.array([["b"]])),
}


@pytest.mark.parametrize("args", list(UNSUPPORTED.values()), ids=list(UNSUPPORTED))
def test_unsupported_dtypes(args):
    a, b = args
    with pytest.raises(TypeError) as info:
        fastla.matmul(a, b)
    message = str(info.value)
    assert "float32" in message and "float64" in message


def test_unsupported_mixed_with_str():
    with pytest.raises(TypeError):
        fastla.matmul(np.array([["a"]]), np.ones((1, 1)))


# -------------------------------------------------------------------------- threads

def _stack_over_parallel_cutoff(m, n, k):
    """A batch of small products with 1.5x the parallel cut-off's multiply-adds."""
    return (int(1.5 * PARALLEL / (m * n * k)) + 1,), m, n, k


_P = _icbrt(PARALLEL - 1) + 1
THREAD_CASES = {
    "large": ((), 300, 517, 260),
    "parallel-cube": ((), _P, _P, _P),
    "stack-packed": ((3,), 150, 160, 170),
    "stack-fixed8": _stack_over_parallel_cutoff(8, 8, 8),
    "stack-7": _stack_over_parallel_cutoff(7, 7, 7),
    "stack-2x3x5": _stack_over_parallel_cutoff(2, 3, 5),
}


@pytest.mark.skipif(threadpoolctl is None, reason="threadpoolctl is not installed")
@pytest.mark.parametrize("case", list(THREAD_CASES.values()), ids=list(THREAD_CASES))
def test_one_and_two_threads_identical(case, dtype, rng):
    batch, m, n, k = case
    assert int(np.prod(batch)) * m * n * k >= PARALLEL
    a, b = _operands(rng, batch + (m, k), batch + (k, n), dtype)
    with threadpoolctl.threadpool_limits(limits=1):
        assert fastla.gemm_info()["threads"] == 1
        c1 = fastla.matmul(a, b)
    with threadpoolctl.threadpool_limits(limits=2):
        assert fastla.gemm_info()["threads"] == 2
        c2 = fastla.matmul(a, b)
    assert np.array_equal(c1, c2)
    if m * n * k < PARALLEL:
        assert_matmul_bound(c2, a, b)
    else:       # check a few rows only: the reference is slow at this size
        assert_matmul_bound(c2[..., ::37, :], a[..., ::37, :], b)


def test_concurrent_python_threads(rng):
    """Several Python threads in fastla at once (GIL released in the kernels) get
    exactly the serial results: no shared workspace or global state."""
    cases = []
    for dt in (np.float32, np.float64):
        for sa, sb in [((5, 6), (6, 7)), ((120, 130), (130, 140)), ((300, 200), (200, 210)),
                       ((2000, 4, 4), (2000, 4, 4)), ((2000, 6, 5), (5, 7)),
                       ((3, 60, 70), (3, 70, 80))]:
            cases.append(_operands(rng, sa, sb, dt))
    serial = [fastla.matmul(a, b) for a, b in cases]
    barrier = threading.Barrier(4)

    def work(offset):
        barrier.wait()
        out = []
        for i in range(3 * len(cases)):
            j = (i + offset) % len(cases)
            out.append((j, fastla.matmul(*cases[j])))
        return out

    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = list(ex.map(work, range(4)))
    for out in results:
        for j, c in out:
            assert np.array_equal(c, serial[j])


# ------------------------------------------------------------------------ subclasses

class Sub(np.ndarray):
    pass


class HighPriority(np.ndarray):
    __array_priority__ = 10.0


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((40, 50), (50, 60)),
                                    ((2, 3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,))],
                         ids=str)
@pytest.mark.parametrize("kinds", [(Sub, None), (None, Sub), (Sub, Sub),
                                   (Sub, HighPriority), (HighPriority, Sub)],
                         ids=["sub-first", "sub-second", "both", "low-high", "high-low"])
def test_subclass_wrapping_like_numpy(kinds, shapes, dtype, rng):
    a, b = _operands(rng, *shapes, dtype)
    x1 = a.view(kinds[0]) if kinds[0] else a
    x2 = b.view(kinds[1]) if kinds[1] else b
    expected = np.matmul(x1, x2)
    c = fastla.matmul(x1, x2)
    assert type(c) is type(expected)
    assert c.shape == expected.shape
    assert_matmul_bound(np.asarray(c), a, b)


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("kinds", [(np.matrix, np.matrix), (np.matrix, None), (None, np.matrix),
                                   (np.matrix, Sub)], ids=str)
def test_np_matrix(kinds, rng):
    a, b = _operands(rng, (3, 4), (4, 5), np.float64)
    x1 = a.view(kinds[0]) if kinds[0] else a
    x2 = b.view(kinds[1]) if kinds[1] else b
    c = fastla.matmul(x1, x2)
    assert type(c) is type(np.matmul(x1, x2)) is np.matrix
    assert_matmul_bound(np.asarray(c), a, b)


# ------------------------------------------------------------------ property tests

@st.composite
def _matmul_case(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    # sampled_from draws sizes uniformly (st.integers favours tiny ones); n covers two
    # NR slivers of either dtype, and half the products are made to take the packed path
    m = draw(st.sampled_from(range(41)))
    n = draw(st.sampled_from(range(2 * max(INFO_D["NR"], INFO_S["NR"]) + 2)))
    if m * n and draw(st.booleans()):
        k_min = SMALL // (m * n) + 1            # m*n*k > small_mnk
        k = draw(st.sampled_from(range(k_min, k_min + 64)))
    else:
        k = draw(st.sampled_from(range(81)))
    nd = draw(st.integers(0, 2))
    batch = draw(st.lists(st.sampled_from([0, 1, 2, 2, 3, 3]), min_size=nd, max_size=nd))

    def operand_batch():
        dims = batch[draw(st.integers(0, nd)):]
        return tuple(1 if draw(st.booleans()) else d for d in dims)

    ba, bb = operand_batch(), operand_batch()
    a_shape = (k,) if not ba and draw(st.integers(0, 4)) == 0 else ba + (m, k)
    b_shape = (k,) if not bb and draw(st.integers(0, 4)) == 0 else bb + (k, n)
    layouts = st.sampled_from(LAYOUTS + ("bcast",))
    return dtype, a_shape, b_shape, draw(layouts), draw(layouts), draw(st.integers(0, 2**32 - 1))


def _hyp_operand(rng, shape, dtype, layout):
    if layout == "bcast" and len(shape) >= 3:
        base = rng.standard_normal((1,) + shape[1:]).astype(dtype)
        return np.broadcast_to(base, shape)
    x = rng.standard_normal(shape).astype(dtype)
    return as_layout(x, "C" if layout == "bcast" else layout)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_matmul_case())
def test_property_matches_numpy(case):
    dtype, a_shape, b_shape, la, lb, seed = case
    rng = np.random.default_rng(seed)
    a = _hyp_operand(rng, a_shape, dtype, la)
    b = _hyp_operand(rng, b_shape, dtype, lb)
    a_before, b_before = a.copy(), b.copy()
    expected = np.matmul(a, b)
    c = fastla.matmul(a, b)
    assert np.asarray(c).dtype == expected.dtype == dtype
    assert type(c) is type(expected)
    assert_matmul_bound(c, a, b)
    assert np.array_equal(a, a_before) and np.array_equal(b, b_before)
