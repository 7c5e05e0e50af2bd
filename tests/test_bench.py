"""The report command `python -m fastla bench` (fastla/_bench/) and its peak kernel
(src/peak): end to end on tiny sizes (no timing assertions), its JSON and PNG, usage
errors, and that a wrong answer is caught."""

import json
import platform
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from fastla.__main__ import main
from fastla._bench import cli, runner
from fastla._bench.problems import OPS
from fastla._kernels import peak

pytest.importorskip("scipy")
pytest.importorskip("threadpoolctl")

# One size (no stacks of it) of three operations, one thread, two rounds: about a second.
TINY = ["bench", "--quick", "--ops", "matmul,solve,lu_factor", "--sizes", "64",
        "--threads", "1", "--repeat", "2"]


def test_quick_run_writes_table_and_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(TINY + ["--json", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "| op " in out and "| matmul " in out and "| lu_factor " in out
    assert "measured peak GFLOP/s" in out
    assert "[1/3] matmul float64 n=64 threads=1: fastla" in err    # plain lines, not a TTY

    data = json.loads(path.read_text())
    assert data["settings"]["threads"] == [1] and data["settings"]["dtypes"] == ["float64"]
    assert data["failures"] == []
    assert [(r["op"], r["size"]) for r in data["results"]] == [     # in --ops order
        ("matmul", "n=64"), ("solve", "n=64"), ("lu_factor", "n=64")]
    for r in data["results"]:
        assert set(r["contenders"]) == {c for c in ("fastla", "numpy", "scipy") if c in OPS[r["op"]]}
        for c in r["contenders"].values():
            assert len(c["samples_s"]) == 2 and c["median_s"] > 0 and c["error"] is None
            assert 0 <= c["residual"] <= 30
        assert r["speedup"] > 0 and r["pct_peak"] > 0
    machine = data["machine"]
    assert machine["cores"] >= 1 and machine["numpy"]["version"] == np.__version__
    assert machine["fastla"]["gemm[float64]"]["MR"] > 0
    assert data["peak_gflops"]["1"]["float64"] > 0


def test_plot_is_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "bench.png"
    assert main(TINY + ["--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_python_dash_m(tmp_path):
    """The module entry point itself, in a fresh interpreter, outside the repository."""
    proc = subprocess.run([sys.executable, "-m", "fastla", "bench", "--ops", "det", "--sizes",
                           "4", "--dtype", "float32", "--threads", "1", "--repeat", "1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "| det " in proc.stdout and "N=100000 k=4" in proc.stdout


@pytest.mark.parametrize("args, message", [
    ([], "required: command"),
    (["bench", "--ops", "nosuch"], "unknown operation 'nosuch'"),
    (["bench", "--sizes", "0"], "positive integers"),
    (["bench", "--sizes", "a,b"], "positive integers"),
    (["bench", "--threads", "-1"], "positive integers"),
    (["bench", "--repeat", "0"], "positive integer"),
    (["bench", "--dtype", "float16"], "invalid choice"),
    (["bench", "--quick", "--full"], "not allowed with argument"),
    (["bench", "--sizes", "7"], "no case matches"),
    (["bench", "--frobnicate"], "unrecognized arguments"),
    (["bench", "--json", "/nonexistent/dir/bench.json"], "no such directory"),
])
def test_usage_errors(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: python -m fastla" in err and message in err


def test_console_script_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--ops", "nosuch"])
    assert exc.value.code == 2
    assert "usage: fastla-bench" in capsys.readouterr().err


def test_wrong_answer_is_reported():
    """A fast wrong answer shows: the check runs on every contender's last result."""
    case = runner.select(["matmul"], ["float64"], [64], [])[0]
    timings = runner.time_case(case, {"fastla": lambda a, b: np.matmul(a, b) * (1 + 1e-6),
                                      "numpy": np.matmul}, repeat=2, min_sample=0)
    assert timings["fastla"].error.startswith("wrong answer")
    assert timings["numpy"].error is None and timings["numpy"].residual <= 1


def test_select_sizes_and_stacks():
    cases = runner.select(["solve"], ["float64"], sizes=[16], stacks=[4])
    assert [c.label for c in cases] == ["n=16", "N=100000 k=4"]
    assert runner.select(["solve"], ["float64"], sizes=[], stacks=[]) == []


def test_peak_kernel_flop_count():
    lanes = peak.vector_bytes() // 8
    assert peak.fma_run("float64", 10) == 2 * 12 * lanes * 10
    assert peak.fma_run("float32", 10) == 2 * 12 * 2 * lanes * 10
    with pytest.raises(TypeError):
        peak.fma_run("float16", 10)
    with pytest.raises(ValueError):
        peak.fma_run("float64", -1)


def test_peak_kernel_machine_code():
    """Each step of the chains is PEAK_VECTORS = 12 register FMAs with no memory
    operand: the compiled loop that measures the peak must be able to reach it."""
    from fastla import _build_config

    objdump = shutil.which("objdump")
    if objdump is None or platform.machine() != "x86_64" or _build_config.cpu_tuning == "generic":
        pytest.skip("needs objdump and an x86-64 build with -march (FMA instructions)")
    asm = subprocess.run([objdump, "-d", "--no-show-raw-insn", peak.__file__],
                         capture_output=True, text=True, check=True).stdout
    fmas = [line for line in asm.splitlines() if re.search(r"\svfmadd\d+p[sd]\s", line)]
    assert fmas, "no packed FMA in the peak kernel"
    assert all("(" not in line for line in fmas), "an FMA reads memory: accumulators spilled"
    for suffix in ("pd", "ps"):
        assert sum(line.split()[1].endswith(suffix) for line in fmas) % 12 == 0
