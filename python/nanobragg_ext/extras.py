"""Optional packages, checked before anything is rendered or written.

Each optional feature belongs to an extra of pyproject.toml (``pip install 'nanobragg-ext[png]'``).
:func:`require_extra` imports the package a feature needs and, when it is missing, raises
:class:`MissingExtra` with one line that names the feature and the extra to install; the command
line prints that line and exits with status 2 before touching any file.

Examples
--------
>>> from nanobragg_ext.extras import require_extra
>>> require_extra("numpy", "test", "this example").__name__
'numpy'
"""
from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing is left out: the command line starts faster
if TYPE_CHECKING:
    from typing import Sequence, Union

__all__ = ["MissingExtra", "require_extra", "check_request", "PIP_NAMES"]

# The distribution to install for an importable module name, where the two differ.
PIP_NAMES = {"PIL": "Pillow"}


class MissingExtra(ImportError):
    """An optional package a requested feature needs is not installed (message: one line)."""


def require_extra(module: Union[str, Sequence[str]], extra: str, what: str, instead: str = ""):
    """Import module (or the first importable of several alternatives) and return it.

    Parameters
    ----------
    module : str or sequence of str
        Module name(s), e.g. ``"gemmi"`` or ``("PIL", "matplotlib")`` (either will do).
    extra : str
        The pyproject extra that installs it, e.g. ``"mtz"``.
    what : str
        The feature, as the user asked for it, e.g. ``"-pngfile"`` or ``"nanobragg-ext dataset"``.
    instead : str
        What works without the package, if anything (appended as ", or ..." to the message).

    Raises
    ------
    MissingExtra
        None of the modules imports; the message names what, the package(s) and the extra.
    """
    names = (module,) if isinstance(module, str) else tuple(module)
    for name in names:
        try:
            importlib.import_module(name.split(".")[0])  # a cached submodule alone does not count
            return importlib.import_module(name)
        except ImportError:
            continue
    packages = " or ".join(PIP_NAMES.get(n.split(".")[0], n.split(".")[0]) for n in names)
    raise MissingExtra(f"{what} needs {packages}, which is not installed: "
                       f"pip install 'nanobragg-ext[{extra}]'" + (f", or {instead}" if instead else ""))


def check_request(req) -> None:
    """The optional packages a command-line run (options.Request) needs, before it starts."""
    if req.pngfile:
        require_extra(("PIL", "matplotlib"), "png", "-pngfile")
    for option, path in (("-nexus", req.nexusfile), ("-crystfel", req.crystfel_file)):
        if path:
            require_extra("h5py", "dataset", option)
    if req.hkl is not None:
        from .io import is_reflection_file

        if is_reflection_file(req.hkl):
            require_extra("gemmi", "mtz", f"-hkl {req.hkl} (MTZ/mmCIF)")
