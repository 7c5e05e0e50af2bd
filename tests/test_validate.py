"""fastla/_validate.py and fastla/_config.py: numpy.linalg's dtype rules and messages,
the float32 compute setting (per thread), and the batching layout kernels receive."""

import threading

import numpy as np
import pytest

import fastla
from fastla import _validate as v
from _residuals import as_layout

# ------------------------------------------------------------------- dtype rules

PROMOTED_TO_FLOAT64 = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32,
                       np.uint32, np.int64, np.uint64, np.float64]
UNSUPPORTED = [np.float16, np.longdouble, np.complex64, np.complex128, np.clongdouble,
               object, "U3", "S3", "datetime64[s]", "timedelta64[s]"]


@pytest.mark.parametrize("dt", PROMOTED_TO_FLOAT64, ids=lambda d: np.dtype(d).name)
def test_bool_int_float64_give_float64(dt):
    a = np.zeros((2, 2), dt)
    assert v.result_dtype(a) == np.float64
    assert v.result_dtype(a, np.zeros((2, 2), np.float32)) == np.float64
    assert v.result_dtype(np.zeros((2, 2), np.float32), a) == np.float64


def test_float32_stays_float32():
    a = np.zeros((2, 2), np.float32)
    assert v.result_dtype(a) == np.float32
    assert v.result_dtype(a, a, a) == np.float32
    assert isinstance(v.result_dtype(a), np.dtype)


def test_result_dtype_matches_numpy_linalg():
    """numpy.linalg.inv's result dtype for every supported input dtype."""
    for dt in PROMOTED_TO_FLOAT64 + [np.float32]:
        a = np.eye(2, dtype=dt)
        assert v.result_dtype(a) == np.linalg.inv(a).dtype


@pytest.mark.parametrize("dt", UNSUPPORTED, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("position", [0, 1])
def test_unsupported_dtypes_raise_type_error(dt, position):
    bad = np.zeros((2, 2), dt)
    ok = np.zeros((2, 2), np.float32)
    args = (bad, ok) if position == 0 else (ok, bad)
    with pytest.raises(TypeError) as info:
        v.result_dtype(*args)
    message = str(info.value)
    assert "float32" in message and "float64" in message
    assert str(np.dtype(dt)) in message


def test_compute_dtype_default_and_native_mode():
    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)
    assert fastla.get_float32_compute() == "float64"
    assert v.compute_dtype(f32) == f64          # numpy.linalg: float32 computed in double
    assert v.compute_dtype(f64) == f64
    with fastla.float32_compute("float32"):
        assert fastla.get_float32_compute() == "float32"
        assert v.compute_dtype(f32) == f32
        assert v.compute_dtype(f64) == f64
        with fastla.float32_compute("float64"):        # nesting
            assert v.compute_dtype(f32) == f64
        assert v.compute_dtype(f32) == f32
    assert v.compute_dtype(f32) == f64
    assert fastla.get_float32_compute() == "float64"


def test_compute_setting_restored_after_exception():
    with pytest.raises(RuntimeError):
        with fastla.float32_compute("float32"):
            assert v.compute_dtype(np.dtype(np.float32)) == np.float32
            raise RuntimeError("boom")
    assert fastla.get_float32_compute() == "float64"
    assert v.compute_dtype(np.dtype(np.float32)) == np.float64


@pytest.mark.parametrize("bad", ["float16", "double", None, np.float32, "FLOAT32"])
def test_compute_setting_rejects_unknown_modes(bad):
    with pytest.raises(ValueError):
        with fastla.float32_compute(bad):
            pass
    assert fastla.get_float32_compute() == "float64"


def test_compute_setting_is_per_thread():
    """A thread running while another is inside float32_compute('float32') sees the
    default, and a thread's own setting does not leak to the main thread."""
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def inside_other_mode():
        with fastla.float32_compute("float32"):
            seen["worker-inside"] = v.compute_dtype(np.dtype(np.float32))
            entered.set()
            release.wait(10)
        seen["worker-after"] = v.compute_dtype(np.dtype(np.float32))

    def plain():
        seen["plain"] = v.compute_dtype(np.dtype(np.float32))

    worker = threading.Thread(target=inside_other_mode)
    worker.start()
    try:
        assert entered.wait(10)
        seen["main-while-worker-inside"] = v.compute_dtype(np.dtype(np.float32))
    finally:
        release.set()
        worker.join(10)
    with fastla.float32_compute("float32"):
        t = threading.Thread(target=plain)
        t.start()
        t.join(10)
        seen["main-inside"] = v.compute_dtype(np.dtype(np.float32))
    assert seen == {"worker-inside": np.float32, "main-while-worker-inside": np.float64,
                    "worker-after": np.float64, "plain": np.float64,
                    "main-inside": np.float32}


# ------------------------------------------------------------- shape messages

def _numpy_message(func, *args):
    with pytest.raises(np.linalg.LinAlgError) as info:
        func(*args)
    return str(info.value)


@pytest.mark.parametrize("shape", [(), (3,), (0,)], ids=str)
def test_assert_stacked_2d_is_numpys(shape):
    a = np.ones(shape)
    expected = _numpy_message(np.linalg.inv, a)
    with pytest.raises(np.linalg.LinAlgError) as info:
        v.assert_stacked_2d(np.ones((2, 2)), a)
    assert str(info.value) == expected
    assert v.LinAlgError is np.linalg.LinAlgError
    v.assert_stacked_2d(np.ones((2, 2)), np.ones((0, 3, 4)))   # no error


@pytest.mark.parametrize("shape", [(2, 3), (4, 3, 2), (0, 1), (5, 0, 1)], ids=str)
def test_assert_stacked_square_is_numpys(shape):
    a = np.ones(shape)
    expected = _numpy_message(np.linalg.inv, a)
    with pytest.raises(np.linalg.LinAlgError) as info:
        v.assert_stacked_square(np.ones((3, 3)), a)
    assert str(info.value) == expected
    v.assert_stacked_square(np.ones((3, 3)), np.ones((2, 0, 0)), np.ones((1, 1)))


# ------------------------------------------------------------------- as_arrays

class Sub(np.ndarray):
    pass


class HighSub(np.ndarray):
    __array_priority__ = 20.0


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_as_arrays():
    (a,), wrap = v.as_arrays([[1, 2], [3, 4]])
    assert type(a) is np.ndarray and a.dtype == np.asarray([1]).dtype
    x = np.ones((2, 2))
    (a,), wrap = v.as_arrays(x)
    assert a is x and wrap(x) is x
    s = np.ones((2, 2)).view(Sub)
    (a,), wrap = v.as_arrays(s)
    assert type(a) is np.ndarray and np.shares_memory(a, s)
    assert type(wrap(np.zeros(3))) is Sub
    (m,), wrap = v.as_arrays(np.matrix([[1.0, 2.0]]))
    assert type(wrap(np.zeros((1, 2)))) is np.matrix


def test_as_arrays_subclass_priority():
    """numpy's ufunc rule: a subclass beats ndarray, the higher priority wins."""
    plain, s, h = np.ones(2), np.ones(2).view(Sub), np.ones(2).view(HighSub)
    for ops, expected in (((plain, s), Sub), ((s, plain), Sub), ((s, h), HighSub),
                          ((h, s), HighSub), ((plain, plain), np.ndarray)):
        _, wrap = v.as_arrays(*ops)
        assert type(wrap(np.zeros(2))) is expected
        assert type(np.add(*ops)) is expected


# ------------------------------------------------------------- kernel_operand

@pytest.mark.parametrize("layout", ["C", "F", "T", "strided", "reversed"])
def test_kernel_operand_no_copy_when_readable(layout, dtype, rng):
    x = as_layout(rng.standard_normal((3, 4, 5)).astype(dtype), layout)
    x.setflags(write=False)
    assert v.kernel_operand(x, dtype) is x
    b = np.broadcast_to(x[:1], (6, 4, 5))
    assert v.kernel_operand(b, dtype) is b


@pytest.mark.parametrize("layout", ["misaligned", "oddstride"])
def test_kernel_operand_copies_unreadable_layouts(layout, dtype, rng):
    x0 = rng.standard_normal((3, 4, 5)).astype(dtype)
    x = as_layout(x0, layout)
    x.setflags(write=False)
    y = v.kernel_operand(x, dtype)
    assert y is not x and not np.shares_memory(x, y)
    assert y.dtype == dtype and y.flags.aligned
    assert all(s % y.itemsize == 0 for s in y.strides)
    assert np.array_equal(y, x0) and np.array_equal(x, x0)


@pytest.mark.parametrize("src", [np.int32, np.bool_, np.float32, np.float64, np.uint64])
def test_kernel_operand_converts_dtype(src, dtype, rng):
    x = (rng.standard_normal((4, 5)) * 10).astype(src)
    before = x.copy()
    y = v.kernel_operand(x, dtype)
    assert y.dtype == dtype
    assert np.array_equal(y, x.astype(dtype))
    if np.dtype(src) != dtype:
        assert not np.shares_memory(x, y)
    else:
        assert y is x
    assert np.array_equal(x, before)


# --------------------------------------------------------------- batch_layout

def _layout(arrays, batch):
    return v.batch_layout([np.broadcast_to(x, batch + x.shape[-2:]) for x in arrays], batch)


def _offsets(shape, strides):
    """Element offsets of every batch entry, in C order, from a (shape, strides) pair."""
    if len(shape) == 0:
        return [0]
    return [int(np.dot(idx, strides)) for idx in np.ndindex(*shape)]


def _check_equivalent(arrays, batch, shape, table):
    """The kernel's view enumerates exactly the matrices of the original batch."""
    assert table.dtype == np.intp and shape.dtype == np.intp
    assert table.shape == (len(arrays), 2 + len(shape))
    assert int(np.prod(shape)) == int(np.prod(batch))
    for x, row in zip(arrays, table):
        x = np.broadcast_to(x, batch + x.shape[-2:])
        item = x.itemsize
        assert tuple(row[:2]) == (x.strides[-2] // item, x.strides[-1] // item)
        original = _offsets(batch, [s // item for s in x.strides[:-2]])
        assert _offsets(shape, row[2:]) == original


def test_contiguous_stack_collapses_to_one_dimension():
    a, b, c = np.ones((4, 5, 3, 2)), np.ones((4, 5, 2, 6)), np.ones((4, 5, 3, 6))
    shape, table = _layout((a, b, c), (4, 5))
    assert shape.tolist() == [20]
    assert table.tolist() == [[2, 1, 6], [6, 1, 12], [6, 1, 18]]
    _check_equivalent((a, b, c), (4, 5), shape, table)


def test_broadcast_dims_get_stride_zero():
    a, b, c = np.ones((4, 1, 3, 2)), np.ones((4, 5, 2, 6)), np.ones((4, 5, 3, 6))
    shape, table = _layout((a, b, c), (4, 5))
    assert shape.tolist() == [4, 5]                 # a cannot merge: stride 0 inside
    assert table[0, 2:].tolist() == [6, 0]
    _check_equivalent((a, b, c), (4, 5), shape, table)
    # broadcast in every operand but the output merges
    a, b = np.ones((3, 2)), np.ones((2, 6))
    c = np.ones((4, 5, 3, 6))
    shape, table = _layout((a, b, c), (4, 5))
    assert shape.tolist() == [20] and table[:2, 2].tolist() == [0, 0]
    _check_equivalent((a, b, c), (4, 5), shape, table)


def test_non_mergeable_layouts_keep_several_dims():
    base = np.ones((4, 6, 3, 2))
    a = base[:, :5]                      # a row of 5 out of 6: outer stride != 5 * inner
    b, c = np.ones((4, 5, 2, 6)), np.ones((4, 5, 3, 6))
    shape, table = _layout((a, b, c), (4, 5))
    assert shape.tolist() == [4, 5]
    _check_equivalent((a, b, c), (4, 5), shape, table)
    # merge where possible, keep the break where not: (2, 3, 4) with a break between 2 and 3
    a = np.ones((2, 4, 4, 3, 2))[:, :3]
    b, c = np.ones((2, 3, 4, 2, 6)), np.ones((2, 3, 4, 3, 6))
    shape, table = _layout((a, b, c), (2, 3, 4))
    assert shape.tolist() == [2, 12]
    _check_equivalent((a, b, c), (2, 3, 4), shape, table)


def test_unit_dims_dropped():
    a, b, c = np.ones((1, 4, 1, 3, 2)), np.ones((1, 4, 1, 2, 6)), np.ones((1, 4, 1, 3, 6))
    shape, table = _layout((a, b, c), (1, 4, 1))
    assert shape.tolist() == [4]
    assert table.tolist() == [[2, 1, 6], [6, 1, 12], [6, 1, 18]]
    shape, table = _layout((np.ones((1, 1, 3, 2)),), (1, 1))
    assert shape.tolist() == [] and table.shape == (1, 2)


def test_no_batch():
    shape, table = v.batch_layout((np.ones((3, 2)), np.ones((2, 6)).T, np.ones((3, 6))), ())
    assert shape.tolist() == [] and table.tolist() == [[2, 1], [1, 6], [6, 1]]


@pytest.mark.parametrize("layout", ["C", "F", "T", "strided", "reversed"])
def test_batch_layout_equivalent_for_any_layout(layout, rng):
    batch = (2, 3, 4)
    a = as_layout(rng.standard_normal((2, 1, 4, 3, 5)), layout)
    b = as_layout(rng.standard_normal((3, 1, 5, 2)), layout)
    c = np.empty(batch + (3, 2))
    shape, table = _layout((a, b, c), batch)
    _check_equivalent((a, b, c), batch, shape, table)
    assert len(shape) <= len(batch)
