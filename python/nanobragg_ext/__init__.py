"""nanobragg-ext: a fast, faithful re-implementation of nanoBragg."""
from ._core import __version__, build_info

__all__ = ["__version__", "build_info"]
