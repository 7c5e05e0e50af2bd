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
    """Load the package `name` from the first sys.path entry after the source folder
    holding `init_file`, into sys.modules[name]; False if there is none."""
    source_root = os.path.dirname(os.path.dirname(os.path.abspath(init_file)))
    others = [p for p in sys.path if os.path.abspath(p or os.curdir) != source_root]
    spec = importlib.machinery.PathFinder.find_spec(name, others)
    if spec is None or spec.origin is None or \
            os.path.dirname(os.path.dirname(spec.origin)) == source_root:
        return False
    for loaded in [m for m in sys.modules if m.startswith(name + ".")]:
        del sys.modules[loaded]         # the source folder's (empty) _kernels, and this
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except ImportError:
        return False
    return True

