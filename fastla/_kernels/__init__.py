"""Compiled kernels, built by meson from ../../src (fastla._kernels.gemm, ...).

Private: the public API is fastla.linalg; tests and benchmarks may import these.
"""
