"""fastla: compiled linear algebra for Python, a drop-in for numpy.linalg.

    import fastla.linalg as la        # in place of numpy.linalg
    c = fastla.matmul(a, b)           # numpy.matmul semantics, packed BLIS-style GEMM
    fastla.optimize.minimize(...)     # Newton / gradient descent, compiled loops
"""

__version__ = "0.1.0"

try:
    from ._kernels import gemm as _gemm_check  # noqa: F401
except ImportError as exc:  # pragma: no cover - only when run from an unbuilt source tree
    raise ImportError(
        "fastla's compiled kernels are missing: this is the source folder, which "
        "shadows the installed package when Python runs in the repository root. "
        "Install fastla (pip install .) and run from elsewhere, or use the "
        "fastla-bench command and plain pytest (--import-mode=importlib), which "
        "import the installed package."
    ) from exc

from . import linalg, optimize
from ._config import float32_compute, get_float32_compute
from ._info import gemm_info, show_config
from .linalg import LinAlgError, matmul

__all__ = ["linalg", "optimize", "matmul", "LinAlgError", "float32_compute", "get_float32_compute",
           "gemm_info", "show_config", "__version__"]
