"""Importing fastla from its source folder: hand over to the installed package.

Python puts the current directory first on sys.path for `python -m` and `python -c`,
so in the repository root `import fastla` finds the source folder, whose `_kernels`
holds no compiled modules (they exist only in an installed or editable build).  The
README's main command, `pip install '.[bench]' && python -m fastla bench`, runs
there.  Rather than fail, the source folder's __init__ calls import_installed, which
loads the installed package in its place: a module may replace itself in sys.modules
while it is being imported, and the import statement then returns the replacement.
"""

import importlib.machinery
import importlib.util
import os
import sys


def import_installed(name, init_file):
    """Load the package `name` from the first sys.path entry, other than the source
    folder holding `init_file`, whose `_kernels` holds the compiled gemm module, into
    sys.modules[name]; False if there is none.  (Another unbuilt checkout is never
    chosen, so two of them on sys.path cannot hand over to each other forever.)"""
    source_root = os.path.dirname(os.path.dirname(os.path.abspath(init_file)))
    for entry in sys.path:
        root = os.path.abspath(entry or os.curdir)
        kernels = os.path.join(root, name, "_kernels")
        if root == source_root or not any(
                os.path.exists(os.path.join(kernels, "gemm" + suffix))
                for suffix in importlib.machinery.EXTENSION_SUFFIXES):
            continue
        spec = importlib.machinery.PathFinder.find_spec(name, [entry])
        if spec is None:
            continue
        for loaded in [m for m in sys.modules if m.startswith(name + ".")]:
            del sys.modules[loaded]     # the source folder's (empty) _kernels, and this
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return True
    return False
