"""Shared fixtures, and a check that the compiled fastla is the one under test.

Tests import the installed package (pyproject sets --import-mode=importlib and there is
no tests/__init__.py, DESIGN.md §6), so a run from the repository root must still find
the compiled kernels; if it cannot, stop the session with a readable message instead of
a hundred import errors.  This folder is put on sys.path so that test files can share
the helpers of tests/_residuals.py (importlib mode does not add it).
"""

import importlib.machinery
import sys
from pathlib import Path

import numpy as np
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def pytest_sessionstart(session):
    try:
        import fastla  # noqa: F401
        from fastla._kernels import gemm
    except ImportError as exc:
        raise pytest.UsageError(
            f"fastla's compiled kernels do not import ({exc}). Install fastla "
            "(pip install . or an editable install) and run plain `pytest`, not "
            "`python -m pytest` from the repository root.") from exc
    if not gemm.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
        raise pytest.UsageError(f"fastla._kernels.gemm is not a compiled extension: "
                                f"{gemm.__file__}")


def pytest_report_header(config):
    import fastla
    from fastla._kernels import gemm
    return [f"fastla {fastla.__version__}: {fastla.__file__}", f"kernels: {gemm.__file__}"]


@pytest.fixture
def rng():
    """A seeded Generator, fresh for every test (reproducible in isolation)."""
    return np.random.default_rng(20240611)


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    """Each floating dtype fastla computes in."""
    return np.dtype(request.param)
