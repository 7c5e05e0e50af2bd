"""fastla/_errors.py: kernel status codes -> numpy's exceptions under errors=.

The 'kernel' here is a hand-made int32 status array (0 ok, k > 0 failed at step k,
-1 out of memory) and results filled with known values, so every policy can be
checked exactly.
"""

import numpy as np
import pytest

from fastla import _errors as e


def _numpy_singular_message():
    with pytest.raises(np.linalg.LinAlgError) as info:
        np.linalg.inv(np.zeros((2, 2)))
    return str(info.value)


MESSAGE = _numpy_singular_message()      # "Singular matrix"


def _results(batch, dtype=np.float64):
    """A float result (batch + (2, 2)) and an integer one (pivots, batch + (2,))."""
    n = int(np.prod(batch))
    x = np.arange(4 * n, dtype=dtype).reshape(batch + (2, 2))
    piv = np.arange(2 * n, dtype=np.int32).reshape(batch + (2,))
    return x, piv


def _status(batch, failing=()):
    info = np.zeros(batch, dtype=np.int32)
    for idx in failing:
        info[idx] = 2
    return info


# ------------------------------------------------------------------- 'raise'

def test_raise_unstacked_is_numpys_message():
    x, piv = _results(())
    with pytest.raises(np.linalg.LinAlgError) as info:
        e.apply_policy(np.int32(1), "raise", MESSAGE, (x, piv))
    assert type(info.value) is np.linalg.LinAlgError
    assert str(info.value) == MESSAGE
    with pytest.raises(np.linalg.LinAlgError) as info:
        e.apply_policy(np.array(3, np.int32), "raise", "Matrix is not positive definite",
                       (x,))
    assert str(info.value) == "Matrix is not positive definite"


@pytest.mark.parametrize("batch, failing, where", [
    ((4,), [(2,)], "2"),
    ((4,), [(3,), (1,)], "1"),
    ((1,), [(0,)], "0"),
    ((2, 3), [(1, 0), (0, 2)], "(0, 2)"),     # first in C order, not first listed
    ((2, 3), [(1, 0)], "(1, 0)"),
    ((2, 3, 4), [(1, 2, 3), (1, 0, 0)], "(1, 0, 0)"),
    ((2, 1, 3), [(1, 0, 2)], "(1, 0, 2)"),
], ids=str)
def test_raise_stacked_names_first_failing_batch_index(batch, failing, where):
    results = _results(batch)
    copies = tuple(r.copy() for r in results)
    with pytest.raises(np.linalg.LinAlgError) as info:
        e.apply_policy(_status(batch, failing), "raise", MESSAGE, results)
    assert str(info.value) == f"{MESSAGE} (at batch index {where})"
    for r, c in zip(results, copies):          # results untouched when raising
        assert np.array_equal(r, c)


@pytest.mark.parametrize("errors", ["raise", "nan", "info"])
@pytest.mark.parametrize("batch", [(), (3,), (2, 3)], ids=str)
def test_no_failure_returns_results_untouched(errors, batch):
    results = _results(batch)
    copies = tuple(r.copy() for r in results)
    out = e.apply_policy(_status(batch), errors, MESSAGE, results)
    expected_len = len(results) + (errors == "info")
    assert isinstance(out, tuple) and len(out) == expected_len
    for r, o, c in zip(results, out, copies):
        assert o is r and np.array_equal(o, c)


# --------------------------------------------------------------------- 'nan'

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch, failing", [((4,), [(1,), (3,)]), ((2, 3), [(0, 2), (1, 0)]),
                                            ((1,), [(0,)])], ids=str)
def test_nan_fills_only_failing_slices_of_float_results(batch, failing, dtype):
    x, piv = _results(batch, dtype)
    y = np.ones(batch, dtype=np.float64)          # a per-matrix float result (e.g. det)
    x0, piv0, y0 = x.copy(), piv.copy(), y.copy()
    info = _status(batch, failing)
    out = e.apply_policy(info, "nan", MESSAGE, (x, piv, y))
    assert len(out) == 3 and out[0] is x and out[1] is piv and out[2] is y
    failed = info != 0
    assert x.dtype == dtype
    assert np.isnan(x[failed]).all() and np.array_equal(x[~failed], x0[~failed])
    assert np.isnan(y[failed]).all() and np.array_equal(y[~failed], y0[~failed])
    assert np.array_equal(piv, piv0)              # integer results keep their values


def test_nan_unstacked_fills_whole_result():
    x, piv = _results(())
    out = e.apply_policy(np.array(1, np.int32), "nan", MESSAGE, (x, piv))
    assert np.isnan(out[0]).all() and np.array_equal(out[1], [0, 1])


# -------------------------------------------------------------------- 'info'

@pytest.mark.parametrize("batch, failing", [((), ()), ((), [()]), ((4,), [(2,)]),
                                            ((2, 3), [(1, 1)])], ids=str)
def test_info_returns_status_array(batch, failing):
    results = _results(batch)
    copies = tuple(r.copy() for r in results)
    info = _status(batch, failing)
    out = e.apply_policy(info, "info", MESSAGE, results)
    assert len(out) == 3
    assert out[0] is results[0] and out[1] is results[1]
    status = out[2]
    assert isinstance(status, np.ndarray)
    assert status.dtype == np.int32 and status.shape == batch
    assert np.array_equal(status, info)
    for r, c in zip(results, copies):             # not filled with NaN, not raised
        assert np.array_equal(r, c)


# ------------------------------------------------------- MemoryError, bad errors=

@pytest.mark.parametrize("errors", ["raise", "nan", "info"])
@pytest.mark.parametrize("batch, index", [((), ()), ((3,), (1,)), ((2, 2), (1, 1))], ids=str)
def test_negative_status_is_memory_error(errors, batch, index):
    info = _status(batch)
    info[index] = e.INFO_NO_MEMORY
    with pytest.raises(MemoryError):
        e.apply_policy(info, errors, MESSAGE, _results(batch))
    # even when another slice failed numerically first
    if batch:
        info.flat[0], info[index] = 1, e.INFO_NO_MEMORY
        with pytest.raises(MemoryError):
            e.apply_policy(info, errors, MESSAGE, _results(batch))


def test_raise_for_status():
    assert e.INFO_NO_MEMORY == -1
    with pytest.raises(MemoryError):
        e.raise_for_status(-1)
    assert e.raise_for_status(0) is None
    assert e.raise_for_status(3) is None          # numerical failures are the policy's
    with pytest.raises(RuntimeError, match="internal kernel error"):
        e.raise_for_status(-7)


@pytest.mark.parametrize("bad", ["ignore", "RAISE", None, "", 0])
def test_invalid_errors_argument(bad):
    with pytest.raises(ValueError) as info:
        e.check_errors_arg(bad)
    for name in ("raise", "nan", "info"):
        assert name in str(info.value)
    # apply_policy validates too, whether or not a slice failed
    for failing in ([], [(1,)]):
        results = _results((3,))
        copies = tuple(r.copy() for r in results)
        with pytest.raises(ValueError):
            e.apply_policy(_status((3,), failing), bad, MESSAGE, results)
        for r, c in zip(results, copies):
            assert np.array_equal(r, c)


@pytest.mark.parametrize("good", ["raise", "nan", "info"])
def test_valid_errors_argument(good):
    assert e.check_errors_arg(good) is None
    assert e.ERRORS == ("raise", "nan", "info")
    assert e.LinAlgError is np.linalg.LinAlgError
