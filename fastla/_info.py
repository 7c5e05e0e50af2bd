"""What fastla was built with and how its kernels are blocked (numpy's show_config)."""

import numpy as np

from ._kernels import gemm as _gemm

__all__ = ["gemm_info", "show_config"]


def gemm_info(dtype="float64"):
    """GEMM blocking for `dtype`: register block MR x NR, cache blocks MC, KC, NC
    (elements), the small-product and parallel cut-offs (in m*n*k), and the number
    of threads kernels may use now (OpenMP's limit: OMP_NUM_THREADS, threadpoolctl).
    """
    name = np.dtype(dtype).name
    table = _gemm.blocking()
    if name not in table:
        raise TypeError(f"gemm_info: dtype must be float32 or float64, got {name}")
    return {"dtype": name, **table[name]}


def show_config(mode="stdout"):
    """Print the build configuration and the GEMM blocking, or with mode='dicts'
    return them as a dict (numpy.show_config's modes)."""
    from . import _build_config as cfg, __version__

    config = {"version": __version__,
              **{key: getattr(cfg, key)
                 for key in ("compiler", "cython", "c_args", "cpu_tuning", "openmp", "buildtype")},
              **{f"gemm[{dtype}]": gemm_info(dtype) for dtype in ("float64", "float32")}}
    if mode == "dicts":
        return config
    if mode != "stdout":
        raise ValueError(f"show_config: mode must be 'stdout' or 'dicts', got {mode!r}")
    print(f"fastla {config.pop('version')}")
    for key, value in config.items():
        print(f"  {key}: {value}")
