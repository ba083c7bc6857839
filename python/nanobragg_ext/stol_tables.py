"""Amorphous-material tables F(sin(theta)/lambda): the shipped ones by name, or a file read
exactly as nonBragg.c reads it, with its quirks found and named.

nonBragg reads a comment line as the point (0, 0) and keeps a stol column that goes back, which
makes its look-up depend on the pixel order (NONBRAGG.md B6, B7). By default a table is used as
the C uses it and each quirk gives one warning; ``corrected=True`` skips comment lines and refuses
a table whose stol column does not increase strictly.
"""
from __future__ import annotations

import math
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional

from . import _core
from .io import InputError

#: stol multipliers to 1/m of -stol, -4stol and -Q (nonBragg.c L696-L710).
MULTIPLIERS = {"stol": 1e10, "4stol": 1e10 / 4, "Q": 1e10 / math.pi / 4}

_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "stol")

#: Other names of shipped tables (the original README calls the helium table He.stol).
ALIASES = {"He": "helium"}


class TableMissing(InputError):
    """The table file cannot be read or holds no rows (the C's exit status 9)."""


def shipped_tables() -> List[str]:
    """Names accepted by -stol NAME (python/nanobragg_ext/data/stol/README.md)."""
    return sorted(f[:-5] for f in os.listdir(_DATA) if f.endswith(".stol"))


def resolve_path(name: str) -> str:
    """An existing file wins (as in the C); otherwise a shipped table's name."""
    if os.path.exists(name):
        return name
    shipped = ALIASES.get(name, name)
    if shipped in shipped_tables():
        return os.path.join(_DATA, shipped + ".stol")
    return name


class StolTable:
    """Rows of a table (stol as in the file, F NaN where missing) and the quirks found in it."""

    __slots__ = ("path", "stol", "F", "warnings")

    def __init__(self, path: str, stol: List[float], F: List[float], warnings: List[str]) -> None:
        self.path = path
        self.stol = stol
        self.F = F
        self.warnings = warnings


def load(name: str, corrected: bool = False, what: str = "-stol") -> StolTable:
    """Read a table by file path or shipped name. Raises TableMissing for a missing or empty file
    and InputError for a table the chosen mode cannot use."""
    path = resolve_path(name)
    try:
        cols = _core.read_text_columns(path, 2)
    except InputError:
        if not os.path.exists(path):
            hint = f" (shipped tables: {', '.join(shipped_tables())})"
            raise TableMissing(f"{what} {name}: no such file{hint}") from None
        raise TableMissing(f"{what} {name}: cannot be read") from None
    stol, F = list(cols["columns"][0]), list(cols["columns"][1])
    lines = cols["file_lines"]
    if not stol:
        raise TableMissing(f"{what} {name}: no data in the table")
    words = set(cols["non_numeric_rows"])
    warnings: List[str] = []
    if corrected:
        keep = [i for i in range(len(stol)) if i not in words]
        missing = [lines[i] for i in keep if math.isnan(F[i])]
        if missing:
            raise InputError(f"{what} {name}: line {missing[0]} has no F value")
        stol, F, lines = [stol[i] for i in keep], [F[i] for i in keep], [lines[i] for i in keep]
        if not stol:
            raise TableMissing(f"{what} {name}: no data in the table")
        for i in range(1, len(stol)):
            if not stol[i] > stol[i - 1]:
                raise InputError(f"{what} {name}: sin(theta)/lambda does not increase at line {lines[i]} "
                                 f"({stol[i - 1]:g} then {stol[i]:g}); sort the table or remove the repeat")
    else:
        if words:
            shown = ", ".join(str(lines[i]) for i in sorted(words)[:3])
            warnings.append(f"quirk: {name}: line(s) {shown} are not numbers and are read as the point (0, 0), "
                            "as nonBragg does (NaN pixels where that repeats stol 0); -corrected skips them")
        for i in range(1, len(stol)):
            if stol[i] < stol[i - 1]:
                warnings.append(f"quirk: {name}: sin(theta)/lambda goes back at line {lines[i]} "
                                f"({stol[i - 1]:g} then {stol[i]:g}), so the result depends on the pixel order, "
                                "as in nonBragg; -corrected refuses such a table")
                break
    if all(math.isnan(f) for f in F):
        raise InputError(f"{what} {name}: no F values in the table")
    return StolTable(path, stol, F, warnings)
