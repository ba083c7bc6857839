"""nanobragg-ext: a fast, faithful re-implementation of nanoBragg.

The native core is imported lazily by the submodules; ``import nanobragg_ext`` stays light.
"""
from ._core import __version__, build_info
from .backends import backends

__all__ = ["__version__", "build_info", "backends"]
