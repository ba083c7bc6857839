"""Structure-factor tables from NumPy arrays and from MTZ / mmCIF files (via gemmi).

nanoBragg looks F up in a dense P1 table; these functions build that table
(:class:`nanobragg_ext.io.FTable`). Reflection files usually hold only the asymmetric unit, so
:func:`read_reflections` expands them to P1 with the file's space-group operations and adds
Friedel mates (F(-h) = F(h), no anomalous signal), the same table that an ``h k l F`` text file
listing every equivalent would give.

gemmi is optional (``pip install gemmi``, or the ``mtz`` extra); only the file readers need it.

Examples
--------
>>> import numpy as np
>>> from nanobragg_ext.structure_factors import from_arrays
>>> t = from_arrays([0, 1], [0, 0], [0, 0], [100.0, 50.0])
>>> t.bounds, t.hkls
((0, 1, 0, 0, 0, 0), 2)
"""
from __future__ import annotations

import os
from typing import Optional, Tuple

import numpy as np

from .io import FTable, InputError

__all__ = ["from_arrays", "expand_to_p1", "read_reflections", "is_reflection_file", "GEMMI_SUFFIXES"]

# File name endings read through gemmi (anything else given to -hkl is an h k l F text file).


from .io import GEMMI_SUFFIXES, is_reflection_file  # noqa: E402,F401 (light: no NumPy needed to ask)


def from_arrays(h, k, l, F, default_F: float = 0.0) -> FTable:  # noqa: E741 (crystallographic l)
    """A dense P1 table from Miller indices and amplitudes, as nanoBragg builds it from -hkl.

    Parameters
    ----------
    h, k, l : array_like of int
        Miller indices, one per reflection.
    F : array_like of float
        Structure-factor amplitudes, electrons.
    default_F : float
        Value of every index inside the table's box that is not listed (``-default_F``), electrons.

    Returns
    -------
    io.FTable
        Padded by one plane per axis as the C holds it; a repeated index keeps its last F.

    Raises
    ------
    ValueError
        Lengths differ, no reflections, non-integer indices, non-finite F, or a box too large.
    """
    h, k, l = (np.asarray(x, dtype=np.float64).ravel() for x in (h, k, l))  # noqa: E741
    F = np.asarray(F, dtype=np.float64).ravel()
    # Built in C++, the same code that reads -hkl files; the table is never copied afterwards.
    return FTable.from_arrays(h, k, l, F, float(default_F))


def _gemmi():
    try:
        import gemmi  # noqa: PLC0415
    except ImportError:
        raise ImportError("reading MTZ/mmCIF structure factors needs gemmi: pip install gemmi "
                          "(or pip install 'nanobragg-ext[mtz]')") from None
    return gemmi


def expand_to_p1(hkl: np.ndarray, F: np.ndarray, spacegroup, friedel: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """Apply every operation of a gemmi space group (and inversion, for Friedel mates) to hkl.

    Parameters
    ----------
    hkl : (n, 3) int array
    F : (n,) float array
        Amplitudes; equivalents share them (phases are not needed for |F|).
    spacegroup : gemmi.SpaceGroup
    friedel : bool
        Also add (-h, -k, -l) with the same F (no anomalous differences).

    Returns
    -------
    (hkl, F) with each index once.
    """
    hkl = np.asarray(hkl, dtype=np.int64).reshape(-1, 3)
    F = np.asarray(F, dtype=np.float64).ravel()
    ops = spacegroup.operations()
    parts, values = [], []
    for op in ops.sym_ops:  # centring adds no new indices, only absences
        rot = np.array(op.rot, dtype=np.int64)
        # gemmi's Op.apply_to_hkl: hkl' = hkl . R / DEN (row vector times rotation).
        new = hkl @ rot // op.DEN
        parts.append(new)
        values.append(F)
        if friedel:
            parts.append(-new)
            values.append(F)
    all_hkl = np.concatenate(parts)
    all_F = np.concatenate(values)
    uniq, first = np.unique(all_hkl, axis=0, return_index=True)
    return uniq, all_F[first]


def read_reflections(path: str, column: Optional[str] = None, default_F: float = 0.0,
                     friedel: bool = True) -> FTable:
    """Structure factors from an MTZ or mmCIF (``_refln``) file, expanded to P1.

    Parameters
    ----------
    path : str
        ``.mtz``, or ``.cif``/``.mmcif``/``.ent`` (optionally gzipped) with reflections.
    column : str, optional
        Amplitude column label (e.g. ``"FP"``, ``"F"``, ``"F_meas_au"``); default: the first
        column of type F.
    default_F : float
        Value of unlisted indices inside the table's box, electrons (``-default_F``).
    friedel : bool
        Add Friedel mates (no anomalous signal), as nanoBragg's P1 text tables usually do.

    Returns
    -------
    io.FTable

    Raises
    ------
    ImportError
        gemmi is not installed.
    io.InputError
        The file cannot be read, has no such column or no reflections.
    """
    gemmi = _gemmi()
    if not os.path.exists(path):
        raise InputError(f"reflection file '{path}': no such file")
    try:
        if path.lower().endswith(".mtz"):
            hkl, F, label, sg = _read_mtz(gemmi, path, column)
        else:
            hkl, F, label, sg = _read_cif(gemmi, path, column)
    except InputError:
        raise
    except (RuntimeError, ValueError, OSError) as e:
        raise InputError(f"reflection file '{path}': {e}") from None
    keep = np.isfinite(F)
    if not np.any(keep):
        raise InputError(f"reflection file '{path}': column '{label}' has no values")
    sg = sg or gemmi.find_spacegroup_by_name("P 1")
    hkl, F = expand_to_p1(hkl[keep], F[keep], sg, friedel=friedel)
    return from_arrays(hkl[:, 0], hkl[:, 1], hkl[:, 2], F, default_F)


def _read_mtz(gemmi, path, column):
    mtz = gemmi.read_mtz_file(path)
    labels = [c.label for c in mtz.columns]
    if column is None:
        cols = [c for c in mtz.columns if c.type == "F"]
        if not cols:
            raise InputError(f"reflection file '{path}': no amplitude (type F) column; columns are {labels}")
        col = cols[0]
    else:
        matches = [c for c in mtz.columns if c.label == column]
        if not matches:
            raise InputError(f"reflection file '{path}': no column '{column}'; columns are {labels}")
        col = matches[0]
    data = np.asarray(mtz.array)
    return data[:, :3].astype(np.int64), np.asarray(col.array, dtype=np.float64), col.label, mtz.spacegroup


# mmCIF amplitude columns tried in order when none is named (_refln.<label>).
_CIF_F_LABELS = ("F_meas_au", "F_meas", "F_calc_au", "F_calc", "pdbx_F_plus")


def _read_cif(gemmi, path, column):
    blocks = gemmi.as_refln_blocks(gemmi.cif.read(path))
    if not blocks:
        raise InputError(f"reflection file '{path}': no _refln data in the mmCIF file")
    rb = blocks[0]
    labels = list(rb.column_labels())
    if column is None:
        found = [lab for lab in _CIF_F_LABELS if lab in labels]
        if not found:
            raise InputError(f"reflection file '{path}': no amplitude column ({', '.join(_CIF_F_LABELS)}); "
                             f"columns are {labels}")
        column = found[0]
    elif column not in labels:
        raise InputError(f"reflection file '{path}': no column '{column}'; columns are {labels}")
    hkl = np.asarray(rb.make_miller_array(), dtype=np.int64).reshape(-1, 3)
    F = np.asarray(rb.make_float_array(column), dtype=np.float64)
    return hkl, F, column, rb.spacegroup
