"""`python -m fastla bench` (also `fastla-bench`): fastla against numpy and scipy on
this machine, speed and accuracy together, in one readable table.

For every operation fastla has (problems.OPS; families without a fastla function
yet are skipped), the cases of problems.CASES at the chosen sizes run in this
process: the same read-only operands for every contender, thread pools of fastla
(OpenMP) and of numpy's and scipy's OpenBLAS pinned to the same count with
threadpoolctl, contenders interleaved round by round, medians of the rounds, every
answer checked with the case's scaled residual.  A compiled FMA kernel measures this
machine's peak, so each case also shows GFLOP/s as a percentage of it.
"""

import argparse
import dataclasses
import datetime
import os
import shutil
import sys
import time

from . import runner
from .problems import CASES, DTYPES, OPS

__all__ = ["add_arguments", "run", "main"]


@dataclasses.dataclass(frozen=True)
class Mode:
    sizes: tuple        # orders n of single matrices (None: every case's)
    stacks: tuple       # orders k of stacked k x k matrices (None: every case's)
    dtypes: tuple
    repeat: int         # rounds (samples per contender)
    min_sample: float   # seconds per sample at least (small calls repeat inside one)
    budget: float       # seconds per case after which rounds stop (after 3); None: never


# Sized on 2 cores (one thread count, the cores) for about 20 s (--quick) and 2
# minutes (default).  Measured with every family landed (matmul, LU, triangular,
# Cholesky, QR, Jacobi; 234 default cases): 145 s of cases, of which 42 s went to two
# cases since removed from the default (scipy's Python loop over a stack of SVDs,
# Jacobi svdvals at n = 1024).  n = 2048 (seconds a case) only with --full, which
# runs every case there is.
MODES = {
    "quick": Mode((16, 256, 1024), (4,), ("float64",), 3, 0.002, 0.5),
    "default": Mode((4, 16, 64, 256, 1024), (4,), DTYPES, 5, 0.005, 1.0),
    "full": Mode(None, None, DTYPES, 7, 0.01, None),
}


def _positive_ints(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers, got {text!r}")
    return list(dict.fromkeys(values))


def _ops(text):
    """Operation names (keys of OPS) or family names (keys of CASES) -> op names."""
    ops = []
    for name in (v.strip() for v in text.split(",") if v.strip()):
        if name in OPS:
            ops.append(name)
        elif name in CASES:
            ops += [c.op for c in CASES[name]]
        else:
            raise argparse.ArgumentTypeError(
                f"unknown operation {name!r}; choose from {', '.join(OPS)} "
                f"or the families {', '.join(CASES)}")
    if not ops:
        raise argparse.ArgumentTypeError("no operation given")
    return list(dict.fromkeys(ops))


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_arguments(parser):
    """The bench command's options, on `parser` (python -m fastla's sub-command, or
    the fastla-bench script's own parser)."""
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", dest="mode", const="quick",
                      help="a few sizes, float64 only (about 20 s)")
    size.add_argument("--full", action="store_const", dest="mode", const="full",
                      help="every case of the benchmark suite (many minutes)")
    parser.set_defaults(mode="default")
    parser.add_argument("--ops", type=_ops, metavar="OP[,OP...]",
                        help=f"operations ({', '.join(OPS)}) or families "
                             f"({', '.join(CASES)}); default: all")
    parser.add_argument("--sizes", type=_positive_ints, metavar="N[,N...]",
                        help="matrix orders n (and k of stacks) among the suite's cases")
    parser.add_argument("--dtype", choices=(*DTYPES, "all"),
                        help="default: float64 and float32 (--quick: float64)")
    parser.add_argument("--threads", type=_positive_ints, metavar="T[,T...]",
                        help="thread counts, pinned equally for every library "
                             "(default: the usable cores)")
    parser.add_argument("--repeat", type=_positive_int, metavar="R",
                        help="rounds per case; the median is reported "
                             "(default: 5, --quick 3, --full 7)")
    parser.add_argument("--json", metavar="PATH", help="write every result and the machine "
                                                       "info as JSON")
    parser.add_argument("--plot", metavar="PATH", help="write a PNG: GFLOP/s against n per "
                                                       "operation (needs matplotlib)")
    return parser


class _Progress:
    """A bar redrawn in place on a terminal; one plain line per case otherwise."""

    def __init__(self, total, stream):
        self.total, self.stream, self.done = total, stream, 0
        self.tty = stream.isatty()

    def start(self, text):
        if self.tty:
            width = shutil.get_terminal_size().columns
            filled = 30 * self.done // max(self.total, 1)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} {text}"
            self.stream.write("\r" + bar[:width - 1].ljust(width - 1))
            self.stream.flush()

    def finish(self, text, result):
        self.done += 1
        if not self.tty:
            self.stream.write(f"[{self.done}/{self.total}] {text}: {result}\n")
            self.stream.flush()

    def close(self):
        if self.tty:
            self.stream.write("\r" + " " * (shutil.get_terminal_size().columns - 1) + "\r")
            self.stream.flush()


def _summary(timings):
    return ", ".join(f"{name} {t.error.split(':')[0] if t.error else f'{t.median:.3g} s'}"
                     for name, t in timings.items())


def run(args, parser):
    """Run the report for parsed `args` (table on stdout, progress on stderr); return
    the exit status: 1 if an answer was wrong or a contender raised."""
    out, err = sys.stdout, sys.stderr
    try:
        import scipy.linalg  # noqa: F401  (loads scipy's OpenBLAS, so threadpoolctl pins it)
        import threadpoolctl  # noqa: F401
    except ImportError as exc:
        parser.exit(1, f"{parser.prog}: needs scipy and threadpoolctl ({exc}); "
                       "pip install 'fastla[bench]'\n")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: pip install 'fastla[bench]'")

    from . import machine, output

    mode = MODES[args.mode]
    dtypes = mode.dtypes if args.dtype is None else DTYPES if args.dtype == "all" else (args.dtype,)
    sizes, stacks = (mode.sizes, mode.stacks) if args.sizes is None else (args.sizes,) * 2
    threads_list = args.threads or [machine.usable_cores()]
    repeat, budget = (mode.repeat, mode.budget) if args.repeat is None else (args.repeat, None)

    functions, skipped = {}, []
    for op in args.ops or list(OPS):
        fns = {c: runner.resolve(op, c) for c in runner.CONTENDERS}
        if fns["fastla"] is None:
            skipped.append(op)
        else:
            functions[op] = {c: fn for c, fn in fns.items() if fn is not None}
    cases = runner.select(list(functions), list(dtypes), sizes, stacks)
    if not cases:
        parser.error(f"no case matches: ops {', '.join(functions) or '(none fastla has)'}, "
                     f"dtype {', '.join(dtypes)}, sizes {args.sizes or 'of the mode'}; "
                     f"the suite's sizes are {_suite_sizes()}")

    for option, path in (("--json", args.json), ("--plot", args.plot)):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            parser.error(f"{option} {path}: no such directory")
    if args.plot and all(runner.case_size(c)[1] for c in cases):
        parser.error("--plot draws GFLOP/s against n: select some single-matrix sizes")

    info = machine.machine_info()
    run_start = time.perf_counter()
    err.write(f"fastla bench: {len(cases)} cases x {len(threads_list)} thread count(s), "
              f"{len(functions)} operations\n")
    peaks, records, notes = _run_cases(cases, functions, threads_list, dtypes, mode,
                                       repeat, budget, err)
    elapsed = time.perf_counter() - run_start
    err.write(f"fastla bench: {len(records)} cases in {elapsed:.0f} s\n")

    failures = [f"{r['op']} {r['dtype']} {r['size']} threads={r['threads']}: {name}: {c['error']}"
                for r in records for name, c in r["contenders"].items() if c["error"]]
    _print_report(out, info, records, peaks, threads_list, skipped, notes, failures)

    if args.json:
        output.write_json(args.json, {
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "elapsed_s": elapsed,
            "settings": {"mode": args.mode, "ops": list(functions), "skipped_ops": skipped,
                         "dtypes": list(dtypes), "sizes": sizes, "stacks": stacks,
                         "threads": threads_list, "repeat": repeat, "budget_s": budget,
                         "min_sample_s": mode.min_sample},
            "machine": info,
            "peak_gflops": {str(t): p for t, p in peaks.items()},
            "results": records,
            "failures": failures,
            "notes": notes})
        out.write(f"JSON: {args.json}\n")
    if args.plot:
        from .plot import write_plot
        write_plot(args.plot, records, peaks)
        out.write(f"plot: {args.plot}\n")
    return 1 if failures else 0


def _run_cases(cases, functions, threads_list, dtypes, mode, repeat, budget, err):
    """Time every case at every thread count: (peaks {threads: {dtype: GFLOP/s}},
    records, notes)."""
    import fastla
    from threadpoolctl import threadpool_info, threadpool_limits

    from . import machine, output

    peaks, records, notes = {}, [], []
    progress = _Progress(len(cases) * len(threads_list), err)
    for threads in threads_list:
        with threadpool_limits(limits=threads):
            unpinned = [f"{p['internal_api']} {os.path.basename(p['filepath'])}: "
                        f"{p['num_threads']}" for p in threadpool_info()
                        if p["num_threads"] != threads]
            if fastla.gemm_info()["threads"] != threads:
                unpinned.append(f"fastla: {fastla.gemm_info()['threads']} (built without OpenMP?)")
            if unpinned:
                notes.append(f"threads={threads} not pinned: {'; '.join(unpinned)}")
            peaks[threads] = {dt: machine.measure_peak(dt, threads) for dt in dtypes}
            for case in cases:
                text = f"{case.op} {case.dtype} {case.label} threads={threads}"
                progress.start(text)
                start = time.perf_counter()
                timings = runner.time_case(case, functions[case.op], repeat,
                                           mode.min_sample, budget,
                                           interleave=threads == 1)
                records.append(output.record(case, threads, timings,
                                             peaks[threads][case.dtype]))
                records[-1]["elapsed_s"] = time.perf_counter() - start
                progress.finish(text, _summary(timings))
    progress.close()
    return peaks, records, notes


def _suite_sizes():
    singles = sorted({runner.case_size(c)[0] for c in runner.all_cases()
                      if not runner.case_size(c)[1]})
    return ", ".join(map(str, singles))


def _print_report(out, info, records, peaks, threads_list, skipped, notes, failures):
    blas = info["numpy"]["blas"] or {}
    out.write(f"\nfastla {info['fastla']['version']} vs numpy {info['numpy']['version']} "
              f"and scipy {info['scipy']['version']} ({blas.get('name', '?')} "
              f"{blas.get('version', '')})\n")
    out.write(f"CPU: {info['cpu']}, {info['usable_cores']} usable cores, "
              f"{8 * info['vector_bytes']}-bit vectors\n")
    from .output import LEGEND, render_table
    for threads in threads_list:
        peak = ", ".join(f"{dt} {g:.0f}" for dt, g in peaks[threads].items())
        out.write(f"\n{threads} thread{'s' if threads > 1 else ''} "
                  f"(measured peak GFLOP/s: {peak})\n\n")
        out.write(render_table([r for r in records if r["threads"] == threads]) + "\n")
    out.write("\n" + LEGEND + "\n")
    load = info["load_average"]
    if load and load[0] > info["usable_cores"] / 4:
        notes.append(f"load average {load[0]:.1f} on {info['usable_cores']} cores before the "
                     "run: other processes compete, the timings are noisy")
    for note in notes:
        out.write(f"note: {note}\n")
    if skipped:
        out.write(f"skipped (not in this fastla): {', '.join(skipped)}\n")
    for failure in failures:
        out.write(f"FAILED {failure}\n")


def main(argv=None):
    """The fastla-bench console script."""
    parser = add_arguments(argparse.ArgumentParser(
        prog="fastla-bench", description=__doc__.split("\n\n")[0]))
    return run(parser.parse_args(argv), parser)
