"""fastla: compiled linear algebra for Python, a drop-in for numpy.linalg.

    import fastla.linalg as la        # in place of numpy.linalg
    c = fastla.matmul(a, b)           # numpy.matmul semantics, packed BLIS-style GEMM
"""

__version__ = "0.1.0"

try:
    from ._kernels import gemm as _gemm_check  # noqa: F401
except ImportError as exc:  # pragma: no cover - only when run from an unbuilt source tree
    # `python -m fastla bench` (or python -c) in the repository root finds this source
    # folder before the installed package; use the installed one if there is one.
    from ._source_tree import import_installed
    if not import_installed(__name__, __file__):
        raise ImportError(
            "fastla's compiled kernels are missing. If you are running from the source "
            "folder, install fastla first (pip install .) and run from elsewhere, or use "
            "pytest, which imports the installed package (--import-mode=importlib)."
        ) from exc

from . import linalg
from ._config import float32_compute, get_float32_compute
from ._info import gemm_info, show_config
from .linalg import LinAlgError, matmul

__all__ = ["linalg", "matmul", "LinAlgError", "float32_compute", "get_float32_compute",
           "gemm_info", "show_config", "__version__"]
