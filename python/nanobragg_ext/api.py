"""Loading a run's inputs and rendering it: the layer both the CLI and Python users call."""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

from . import _core
from . import io as nbio
from .options import Request


class UsageError(ValueError):
    """The run lacks a crystal (no -cell or -mat) or structure factors (no -hkl, dump or -default_F)."""


def load_structure_factors(req: Request, messages: list) -> nbio.FTable:
    """-hkl (then write the dump), else a dump file left by an earlier run, else none (Q19)."""
    opt = req.options
    if req.hkl is not None:
        table = nbio.read_hkl(req.hkl, opt.default_F)
        try:
            nbio.write_fdump(req.dump, table)
            messages.append(f"writing dump file for next time: {req.dump}")
        except OSError:
            messages.append(f"WARNING: unable to open dump file: {req.dump}")
        return table
    if os.path.exists(req.dump):
        messages.append(f"reading Fs from {req.dump}")
        return nbio.read_fdump(req.dump)
    return nbio.FTable.empty()


def check_usage(req: Request) -> None:
    opt = req.options
    no_F = req.hkl is None and not os.path.exists(req.dump) and opt.default_F == 0.0
    no_cell = req.mat is None and opt.cell[0] == 0.0
    if no_F or no_cell:
        what = "structure factors (-hkl, a dump file or -default_F)" if no_F else "a crystal (-cell or -mat)"
        raise UsageError(f"no {what} given")


def prepare_request(req: Request, messages: Optional[list] = None) -> "_core.Prepared":
    """Read every input file of req and derive the run (geometry, crystal, sources, ...)."""
    messages = [] if messages is None else messages
    check_usage(req)
    opt = req.options
    if req.mat is not None:
        opt.matrix = tuple(nbio.read_matrix(req.mat).ravel())
        opt.has_matrix = True
    table = load_structure_factors(req, messages)
    xyz = lam = None
    if req.sourcefile is not None:
        xyz, lam = nbio.read_sourcefile(req.sourcefile)
    if req.stol is not None:
        nbio._read_bytes(req.stol, "S(Q)")  # read and unused, as in the C
    values = None if table.values is None else np.ascontiguousarray(table.values.ravel())
    return _core.prepare(opt, values, table.bounds, table.hkls, xyz, lam)


def mask_array(req: Request, prepared) -> Optional[np.ndarray]:
    if req.mask_image is None:
        return None
    g = prepared.geometry
    data = req.mask_image.data
    if data.shape != (g["spixels"], g["fpixels"]):
        raise nbio.InputError(
            f"mask file '{req.mask}': {data.shape[1]}x{data.shape[0]} pixels, detector is "
            f"{g['fpixels']}x{g['spixels']}")
    return np.ascontiguousarray(data, dtype=np.uint16)


def render(prepared, out: np.ndarray, mask=None, precision: str = "double", threads: int = 0, controls=None):
    """Render prepared into out (float32/float64, shape (spixels, fpixels)) in place; returns stats."""
    return _core.render_cpu(prepared, out, mask, precision, threads, controls)
