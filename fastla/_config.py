"""Library-wide settings; today one: the precision float32 factorizations compute in.

numpy.linalg computes float32 factorizations in float64 and rounds the result, and
code written for numpy relies on that accuracy, so fastla does the same by default.
The native mode computes in float32 (about 2x faster, float32 accuracy).  It is a
context setting (contextvars), so it is per thread and per asyncio task: one thread
switching modes never changes another's results.  ``matmul`` is always native
float32, as in numpy.
"""

import contextlib
import contextvars

__all__ = ["float32_compute", "get_float32_compute"]

_MODES = ("float64", "float32")
_float32_compute = contextvars.ContextVar("fastla_float32_compute", default="float64")


def get_float32_compute():
    """The dtype float32 factorizations compute in here: 'float64' (default) or 'float32'."""
    return _float32_compute.get()


@contextlib.contextmanager
def float32_compute(dtype):
    """Within the block, compute float32 factorizations in `dtype`.

    'float64' is numpy.linalg's behaviour (compute in double, round the result);
    'float32' is the native mode: about twice as fast, float32 accuracy.

        >>> with fastla.float32_compute("float32"):
        ...     x = fastla.linalg.solve(a32, b32)
    """
    if dtype not in _MODES:
        raise ValueError(f"float32_compute: dtype must be one of {_MODES}, got {dtype!r}")
    token = _float32_compute.set(dtype)
    try:
        yield
    finally:
        _float32_compute.reset(token)
