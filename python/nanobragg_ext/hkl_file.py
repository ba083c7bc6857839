"""P1 HKL text files (``h k l F`` per line, the ``-hkl`` format) from arrays or MTZ/mmCIF files.

nanoBragg applies no symmetry: its HKL file lists every reflection of P1. ``nanobragg-ext hkl``
writes one from an MTZ or mmCIF file through gemmi (the asymmetric unit expanded with the file's
space group and Friedel mates), so no CCP4 script is needed.

    nanobragg-ext hkl data.mtz P1.hkl [--column FP] [--no-friedel]

Examples
--------
>>> import os, tempfile
>>> from nanobragg_ext.hkl_file import write_hkl
>>> path = os.path.join(tempfile.mkdtemp(), "two.hkl")
>>> write_hkl(path, [[0, 0, 1], [0, 0, -1]], [12.5, 12.5])
>>> open(path).read()
'0 0 1 12.5\\n0 0 -1 12.5\\n'
"""
from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing is left out: the command line starts faster
if TYPE_CHECKING:
    from typing import List, Optional

__all__ = ["write_hkl", "convert", "main"]

USAGE = """usage: nanobragg-ext hkl IN.mtz|IN.cif OUT.hkl [--column LABEL] [--no-friedel]
  writes every reflection of IN, expanded to P1, as 'h k l F' lines (the -hkl format)
  --column LABEL   amplitude column (default: the first of type F; mmCIF: F_meas_au, F_meas, ...)
  --no-friedel     do not add Friedel mates (F(-h) = F(h)) that the space group does not give
needs gemmi: pip install 'nanobragg-ext[mtz]'"""


def write_hkl(path: str, hkl, F) -> None:
    """Write ``h k l F`` lines atomically; F keeps the shortest decimal of its own float type.

    Parameters
    ----------
    path : str
    hkl : (n, 3) array_like of int
    F : (n,) array_like of float
        Amplitudes, electrons; float32 values (MTZ) print as their shortest float32 decimal, so
        reading the file back gives the same float32 numbers.
    """
    import numpy as np

    from .io import write_atomic

    idx = np.asarray(hkl, dtype=np.int64).reshape(-1, 3)
    F = np.asarray(F).ravel()
    F = F if F.dtype.kind == "f" else F.astype(np.float64)
    if idx.shape[0] != F.size:
        raise ValueError(f"hkl and F must have the same length, got {idx.shape[0]} and {F.size}")
    if not np.all(np.isfinite(F)):
        raise ValueError("F contains non-finite values")
    lines = [f"{h} {k} {l} {np.format_float_positional(f, unique=True, trim='-')}\n"
             for (h, k, l), f in zip(idx.tolist(), F)]
    write_atomic(path, "".join(lines).encode("ascii"))


def convert(source: str, target: str, column: Optional[str] = None, friedel: bool = True) -> int:
    """Write the P1 HKL file ``target`` from the MTZ/mmCIF file ``source``; returns the line count."""
    from .structure_factors import read_p1_reflections

    hkl, F = read_p1_reflections(source, column, friedel)
    write_hkl(target, hkl, F)
    return int(F.size)


def main(argv: List[str]) -> int:
    """``nanobragg-ext hkl``: exit 0, or 2 with one line on stderr and no file written."""
    from .extras import MissingExtra, require_extra
    from .io import InputError, is_reflection_file

    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    args, column, friedel = [], None, True
    it = iter(argv)
    for a in it:
        if a == "--column":
            column = next(it, None)
            if column is None:
                return _fail("--column needs a column label")
        elif a == "--no-friedel":
            friedel = False
        elif a.startswith("-"):
            return _fail(f"unknown option '{a}' (see nanobragg-ext hkl -h)")
        else:
            args.append(a)
    if len(args) != 2:
        return _fail(f"expected IN and OUT files, got {len(args)} name(s) (see nanobragg-ext hkl -h)")
    source, target = args
    if not is_reflection_file(source):
        return _fail(f"'{source}' is not an MTZ or mmCIF file (.mtz, .cif, .mmcif, .ent, optionally .gz)")
    try:
        require_extra("gemmi", "mtz", "nanobragg-ext hkl")
        n = convert(source, target, column, friedel)
    except (MissingExtra, InputError, OSError) as e:
        return _fail(str(e))
    print(f"wrote {target}: {n} reflections (P1)")
    return 0


def _fail(message: str) -> int:
    print(f"nanobragg-ext hkl: error: {message}", file=sys.stderr)
    return 2
