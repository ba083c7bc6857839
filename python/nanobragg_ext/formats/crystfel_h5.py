"""``-crystfel FILE.h5``: the image as a CrystFEL HDF5 file plus ``FILE.geom`` that points at it.

The HDF5 file holds ``/data/data`` (float32 photons, rows x columns: the panels one after the other
along slow, as in the NXmx layout) and ``/data/mask`` (uint16, 1 = bad: a panel's bad pixels,
-mask zeros, outside -roi, columns beyond a narrower panel). The .geom is the detector's
geometry (detector/crystfel_geom.py: per panel min/max fs/ss, corner, fs/ss, res, clen) after
global lines naming the data, its dimensions, the mask, the photon energy and adu_per_photon.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np

from .nxmx import layout_mask, to_layout
from .setup import Setup

__all__ = ["DATA", "MASK", "geom_path", "crystfel_geom_text", "stage_crystfel"]

DATA = "/data/data"
MASK = "/data/mask"


def geom_path(h5_path: str) -> str:
    """The .geom written beside h5_path (same folder and stem)."""
    return os.path.splitext(h5_path)[0] + ".geom"


def crystfel_geom_text(setup: Setup) -> str:
    """The .geom of the file: global lines for the data, then the panels."""
    from ..detector.crystfel_geom import geom_text

    det = setup.detector
    lines = [f"; CrystFEL geometry of an image written by nanobragg-ext: {DATA} (photons), {MASK} (1 = bad)",
             f"data = {DATA}", "dim0 = ss", "dim1 = fs",
             f"mask = {MASK}", "mask_good = 0x0", "mask_bad = 0x1"]
    if all(p.adu_per_eV is None for p in det.panels):
        lines.append("adu_per_photon = 1")  # the data are photons; a panel's adu_per_eV (from a .geom) says otherwise
    return "\n".join(lines) + "\n" + geom_text(det, setup.photon_energy_eV)


def stage_crystfel(h5_path: str, setup: Setup, image, masks: Optional[Sequence[Optional[np.ndarray]]] = None):
    """Write the HDF5 file and its .geom under temporary names; returns their two
    :class:`staged.Staged` (commit both to put them in place)."""
    import h5py

    from .staged import Staged

    det = setup.detector
    data = to_layout(det, np.asarray(image, dtype=np.float32))
    bad = (layout_mask(det, masks) != 0).astype(np.uint16)
    h5, geom = Staged(h5_path, ".h5"), Staged(geom_path(h5_path), ".geom")
    try:
        with h5py.File(h5.tmp, "w") as f:
            f.create_dataset(DATA, data=data, compression="gzip", compression_opts=4)
            f.create_dataset(MASK, data=bad, compression="gzip")
        with open(geom.tmp, "w", encoding="ascii") as fh:
            fh.write(crystfel_geom_text(setup))
    except BaseException:
        h5.discard()
        geom.discard()
        raise
    return [h5, geom]
