"""The compiled GEMM itself: the micro-kernel's machine code, and the kernel driver
fastla._kernels.gemm.matmul_batched called directly (small vs packed path, strided C,
C never read).

Why inspect machine code: GCC vectorises the MR x NR micro-kernel into 24 (float64) or
16 (float32) zmm FMAs per k step only for the loop shape described in src/_blocking.pxd;
a refactor that shortens the innermost loop to <= 16 iterations makes GCC shuffle the
accumulators every step (vpermt2pd) and run 10x slower with identical results
(DESIGN.md §3).  Only the disassembly can see that.
"""

import platform
import re
import shutil
import subprocess

import numpy as np
import pytest

import fastla
from fastla._kernels import gemm as kgemm
from _residuals import assert_matmul_bound, eps

# --------------------------------------------------------------- machine code

_FMA = re.compile(r"^vfmadd(132|213|231)p([sd])$")
_INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
_TARGET = re.compile(r"^([0-9a-f]+) <")
_FUNC = re.compile(r"^([0-9a-f]+) <(.+)>:$")


def _avx512_cpu():
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and " avx512f" in line for line in f)
    except OSError:
        return False


def _disassembly():
    if shutil.which("objdump") is None:
        pytest.skip("objdump is not installed")
    if platform.machine() not in ("x86_64", "AMD64") or not _avx512_cpu():
        pytest.skip("needs an x86-64 CPU with AVX-512 (avx512f in /proc/cpuinfo)")
    from fastla import _build_config
    if _build_config.cpu_tuning not in ("native", "x86-64-v4"):
        pytest.skip(f"built with cpu_tuning={_build_config.cpu_tuning}: no AVX-512 code "
                    "expected")
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", kgemm.__file__],
                         capture_output=True, text=True, check=True).stdout
    return out


def _innermost_loops(text):
    """[(function, [(mnemonic, operands), ...])] for every innermost loop.

    A loop is a jump to an earlier address of the same function; innermost means no
    other such loop lies strictly inside its address range.
    """
    loops = []
    for chunk in re.split(r"\n(?=[0-9a-f]+ <[^>]+>:\n)", text):
        lines = chunk.splitlines()
        head = _FUNC.match(lines[0]) if lines else None
        if not head:
            continue
        insns = []
        for line in lines[1:]:
            m = _INSN.match(line)
            if m:
                insns.append((int(m.group(1), 16), m.group(2), m.group(3)))
        if not insns:
            continue
        start = insns[0][0]
        spans = set()
        for addr, op, args in insns:
            t = _TARGET.match(args)
            if op.startswith("j") and t and start <= int(t.group(1), 16) <= addr:
                spans.add((int(t.group(1), 16), addr))
        for lo, hi in spans:
            if any(lo <= lo2 and hi2 <= hi and (lo2, hi2) != (lo, hi) for lo2, hi2 in spans):
                continue
            loops.append((head.group(2), [(op, args) for a, op, args in insns
                                          if lo <= a <= hi]))
    return loops


def _zmm_fmas(body, kind):
    return sum(1 for op, args in body
               if (m := _FMA.match(op)) and m.group(2) == kind and "%zmm" in args)


def _stores(body):
    """Moves whose destination (AT&T: the last operand) is memory: spills, or a tile
    kept in memory instead of registers."""
    return sum(1 for op, args in body
               if op.startswith(("mov", "vmov")) and "(" in args.rsplit(",", 1)[-1])


@pytest.fixture(scope="module")
def hot_loops():
    """Innermost loops with zmm FMAs: {'d': [(fmas, stores, function, body)], 's': ...}."""
    loops = _innermost_loops(_disassembly())
    found = {"d": [], "s": []}
    for func, body in loops:
        for kind in "ds":
            n = _zmm_fmas(body, kind)
            if n:
                found[kind].append((n, _stores(body), func, body))
    return found


@pytest.mark.parametrize("kind, dtype", [("d", "float64"), ("s", "float32")])
def test_micro_kernel_fma_loop(hot_loops, kind, dtype):
    """A k loop with MR*NR/W zmm FMAs and the tile in registers (no store in the
    loop): 8*24/8 = 24 for float64, 8*32/16 = 16 for float32 (DESIGN.md §3: "24
    vfmadd231pd, 8 broadcasts, 3 loads per k step, no spills")."""
    info = fastla.gemm_info(dtype)
    width = 64 // np.dtype(dtype).itemsize           # lanes per zmm register
    expected = info["MR"] * info["NR"] // width
    assert expected >= (24 if kind == "d" else 16)
    best = max((n for n, stores, _, _ in hot_loops[kind] if stores == 0), default=0)
    spilled = max((n for n, stores, _, _ in hot_loops[kind] if stores), default=0)
    assert best >= expected, (
        f"no store-free loop with {expected} vfmadd*p{kind} on zmm in {kgemm.__file__} "
        f"(best: {best}; with stores: {spilled}): the {info['MR']}x{info['NR']} "
        "micro-kernel lost its register blocking")


@pytest.mark.parametrize("kind", "ds")
def test_micro_kernel_has_no_shuffles(hot_loops, kind):
    """No vpermt2pd/vpermt2ps in the FMA loops (the early-unroller trap of DESIGN.md §3)."""
    bad = [(func, n) for n, _, func, body in hot_loops[kind] if n >= 8 and
           any(op.startswith(("vpermt2pd", "vpermt2ps", "vpermi2pd", "vpermi2ps"))
               for op, _ in body)]
    assert hot_loops[kind], "no zmm FMA loop found at all"
    assert not bad, f"shuffles inside FMA loops: {bad}"


def test_loop_finder_sees_shuffles_and_fmas():
    """The disassembly parser itself, on a hand-written listing (so the two checks
    above cannot pass merely because the parser finds nothing)."""
    text = "\n".join([
        "0000000000001000 <f>:",
        "    1000:\tvxorpd %zmm0,%zmm0,%zmm0",
        "    1004:\tvbroadcastsd (%rax),%zmm1",
        *[f"    {0x1008 + 4 * i:x}:\tvfmadd231pd (%rdx),%zmm1,%zmm{2 + i}" for i in range(24)],
        "    1068:\tvpermt2pd %zmm3,%zmm4,%zmm5",
        "    106c:\tjne    1004 <f+0x4>",
        "    1070:\tret",
        "",
        "0000000000002000 <g>:",
        "    2000:\tvfmadd231ps %ymm1,%ymm2,%ymm3",
        "    2004:\tjmp    2000 <g>",
    ])
    loops = _innermost_loops(text)
    assert [func for func, _ in loops] == ["f", "g"]
    body = loops[0][1]
    assert _zmm_fmas(body, "d") == 24 and _zmm_fmas(body, "s") == 0
    assert _stores(body) == 0
    assert any(op == "vpermt2pd" for op, _ in body)
    assert _zmm_fmas(loops[1][1], "s") == 0            # ymm only
    assert _stores([("vmovapd", "%zmm1,0x40(%rsp)"), ("vmovupd", "(%rax),%zmm1")]) == 1


# ------------------------------------------------------- the driver, directly

def _call(a, b, c, batch_ndim=0):
    """matmul_batched on arrays whose last two axes are the matrices and whose first
    batch_ndim axes are the batch (strides converted to elements)."""
    item = c.itemsize
    m, k = a.shape[-2:]
    n = b.shape[-1]
    shape = np.array(c.shape[:batch_ndim], dtype=np.intp)
    strides = np.array([[x.strides[-2] // item, x.strides[-1] // item,
                         *(s // item for s in x.strides[:batch_ndim])] for x in (a, b, c)],
                       dtype=np.intp).reshape(3, 2 + batch_ndim)
    return kgemm.matmul_batched(a, b, c, m, n, k, shape, strides)


SMALL = fastla.gemm_info()["small_mnk"]


@pytest.mark.parametrize("mnk", [(64, 64, 64), (20, 70, 200), (13, 40, 300), (8, 24, 256),
                                 (33, 49, 61), (9, 97, 129)], ids=str)
def test_small_and_packed_paths_agree(mnk, dtype, rng):
    """One product above the small cut-off (packed) against the same product computed
    as a batch of column blocks, each below it (unpacked small kernel)."""
    m, n, k = mnk
    assert m * n * k > SMALL
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    packed = np.full((m, n), np.nan, dtype)
    assert _call(a, b, packed) == 0
    width = max(1, SMALL // (m * k))
    while n % width:
        width -= 1
    assert m * width * k <= SMALL
    nb = n // width
    item = b.itemsize
    b_blocks = np.lib.stride_tricks.as_strided(b, (nb, k, width),
                                               (width * item, b.strides[0], b.strides[1]))
    a_bcast = np.broadcast_to(a, (nb, m, k))
    blocks = np.full((nb, m, width), np.nan, dtype)
    assert _call(a_bcast, b_blocks, blocks, batch_ndim=1) == 0
    small = np.concatenate(list(blocks), axis=1)
    assert_matmul_bound(packed, a, b)
    assert_matmul_bound(small, a, b)
    # each is within k*eps*(|A||B|) of the exact product, so of each other within 2x
    assert np.all(np.abs(packed.astype(np.float64) - small)
                  <= 2 * 4 * k * eps(dtype) * (np.abs(a) @ np.abs(b)))


@pytest.mark.parametrize("mnk", [(5, 6, 7), (40, 50, 60), (4, 4, 4), (8, 8, 8), (100, 30, 300),
                                 (9, 25, 0)], ids=str)
@pytest.mark.parametrize("c_order", ["C", "F", "strided"])
def test_any_output_strides_and_c_never_read(mnk, c_order, dtype, rng):
    """The kernel contract: C may have any strides, and beta = 0 overwrites it without
    reading (a NaN-filled C must not leak into the result)."""
    m, n, k = mnk
    a = rng.standard_normal((3, m, k)).astype(dtype)
    b = rng.standard_normal((3, k, n)).astype(dtype)
    if c_order == "C":
        c = np.full((3, m, n), np.nan, dtype)
    elif c_order == "F":
        c = np.full((3, n, m), np.nan, dtype).swapaxes(-1, -2)
    else:
        c = np.full((3, 2 * m, 3 * n), np.nan, dtype)[:, ::2, ::3]
    assert _call(a, b, c, batch_ndim=1) == 0
    assert_matmul_bound(c, a, b)


def test_multi_dim_batch_with_stride0(dtype, rng):
    a = rng.standard_normal((2, 1, 6, 5)).astype(dtype)
    b = rng.standard_normal((3, 5, 7)).astype(dtype)
    a2 = np.broadcast_to(a, (2, 3, 6, 5))
    b2 = np.broadcast_to(b, (2, 3, 5, 7))
    c = np.full((2, 3, 6, 7), np.nan, dtype)
    assert _call(a2, b2, c, batch_ndim=2) == 0
    assert_matmul_bound(c, a, b)


def test_driver_rejects_other_dtypes():
    x = np.ones((2, 2), np.int64)
    with pytest.raises(TypeError):
        _call(x, x, x.copy())


def test_blocking_is_reported_consistently():
    table = kgemm.blocking()
    for dtype in ("float32", "float64"):
        info = fastla.gemm_info(dtype)
        assert info == {"dtype": dtype, **table[dtype]}
        # NR > 16 keeps the micro-kernel's inner loop out of GCC's early unroller
        assert info["NR"] > 16 and info["MR"] >= 1
        assert 0 < info["KC"] and 0 < info["MC"] and 0 < info["NC"]
        assert info["MC"] % info["MR"] == 0     # packed A blocks are whole MR slivers
        assert info["threads"] >= 1
    assert np.dtype(fastla.gemm_info()["dtype"]) == np.float64
    with pytest.raises(TypeError):
        fastla.gemm_info("float16")
