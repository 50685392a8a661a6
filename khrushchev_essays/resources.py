"""The data shipped inside the package (rubrics, the order model, the shipped calibrators), found
with importlib.resources so that an installed wheel finds it as well as a source checkout does.

`data(*parts)` is a Traversable: enough to list a folder and read a file. `data_path(*parts)` is a
real folder or file on disk for the code that needs one (os.stat): the package's own
path when it is installed as plain files (a checkout, a wheel installed by pip), else a copy
extracted once per process and removed at exit (a zipped install).

Nothing here is written at run time: retrained calibrators go to the instance folder, and the spaCy
pipeline to `pipeline_dir()` (scoring.nlp).
"""

from __future__ import annotations

import atexit
import threading
from contextlib import ExitStack
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGE = "khrushchev_essays"

_lock = threading.Lock()
_extracted: dict[tuple[str, ...], Path] = {}
_stack = ExitStack()
atexit.register(_stack.close)


def data(*parts: str) -> Traversable:
    """The shipped file or folder `parts` under the package (e.g. data("rubrics"))."""
    node = resources.files(PACKAGE)
    for part in parts:
        node = node / part
    return node


def data_path(*parts: str) -> Path:
    """The shipped file or folder `parts` as a path on disk (extracted once if the package is zipped)."""
    node = data(*parts)
    if isinstance(node, Path):
        return node
    with _lock:
        if parts not in _extracted:
            _extracted[parts] = _stack.enter_context(resources.as_file(node))
        return _extracted[parts]


def source_checkout() -> Path | None:
    """The project folder when the package runs from a source checkout (pyproject.toml beside it), else None."""
    package = data()
    if not isinstance(package, Path):
        return None
    root = package.resolve().parent
    return root if (root / "pyproject.toml").is_file() and (root / PACKAGE / "__init__.py").is_file() else None
