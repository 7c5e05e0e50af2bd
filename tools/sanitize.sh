#!/usr/bin/env bash
# Build fastla with AddressSanitizer + UndefinedBehaviorSanitizer into its own venv and
# build directory, then run the kernels' tests under it (docs/reliability.md).
#
#   bash tools/sanitize.sh                 # default test selection (about 10-20 min on 2 cores)
#   bash tools/sanitize.sh tests/test_lu.py -k stack      # any pytest arguments
#
# Environment: ASAN_VENV (default .asan-venv), ASAN_BUILD (default build-asan).
# The venv is reused between runs (delete it to start afresh); the build is incremental.
#
# Why each piece:
# - -Db_sanitize=address,undefined instruments every kernel (the Cython-generated C).
# - -Db_lundef=false: sanitized shared objects leave the runtime's symbols undefined;
#   the interpreter provides them once libasan is preloaded.
# - LD_PRELOAD=libasan: CPython itself is not instrumented, so the ASan runtime must be
#   loaded first or importing the first kernel aborts ("ASan runtime does not come first").
# - detect_leaks=0: CPython keeps interned objects and arenas alive at exit by design;
#   LeakSanitizer would report thousands of those.  Leaks of fastla's own buffers are
#   covered by tests/test_memory.py instead.
# - halt_on_error / -fno-sanitize-recover: the first report fails the run (exit != 0).
# - kernel_checks=true also turns Cython's bounds checks on (an out-of-range memoryview
#   index raises IndexError instead of reading past a buffer ASan might not see).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${ASAN_VENV:-.asan-venv}"
build="${ASAN_BUILD:-build-asan}"
python="${PYTHON:-python3}"

if [[ ! -f "$venv/pyvenv.cfg" ]]; then
    "$python" -m venv "$venv"
fi
# shellcheck disable=SC1091
. "$venv/bin/activate"
pip install -q 'meson-python>=0.16' 'meson>=1.5' 'Cython>=3.0.10' 'numpy>=2.0' ninja \
    pytest hypothesis scipy mpmath threadpoolctl psutil

libasan="$(${CC:-gcc} -print-file-name=libasan.so)"
if [[ ! -f "$libasan" ]]; then
    echo "tools/sanitize.sh: no libasan.so for ${CC:-gcc} (install the compiler's libasan)" >&2
    exit 2
fi

export CFLAGS="${CFLAGS:-} -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
pip install --no-build-isolation -q \
    -Cbuild-dir="$build" \
    -Csetup-args=-Db_sanitize=address,undefined \
    -Csetup-args=-Db_lundef=false \
    -Csetup-args=-Dbuildtype=debugoptimized \
    -Csetup-args=-Dkernel_checks=true \
    .

export LD_PRELOAD="$libasan"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Left out by default: the memory test (its RSS bounds and address-space limit do not
# hold under ASan's allocator and shadow memory), the benchmark-report test (timing
# only), and the checks that read the compiled micro-kernels' instructions (ASan's
# instrumentation changes them).  The fuzz file runs with fewer cases (ASan is ~3x
# slower); FASTLA_FUZZ_EXAMPLES overrides.
export FASTLA_FUZZ_EXAMPLES="${FASTLA_FUZZ_EXAMPLES:-150}"
if [[ $# -eq 0 ]]; then
    set -- -q -p no:cacheprovider --ignore=tests/test_memory.py --ignore=tests/test_bench.py \
        --deselect tests/test_jacobi.py::test_rotation_loop_is_vectorised \
        -k "not micro_kernel_fma_loop and not micro_kernel_has_no_shuffles"
fi
# Plain pytest from the repository root imports the installed (sanitized) package:
# pyproject sets --import-mode=importlib (DESIGN.md section 6).
exec pytest "$@"
