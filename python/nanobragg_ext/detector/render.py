"""Rendering a multi-panel detector: each panel as a CUSTOM one-panel nanoBragg run.

render_panel() is the one place that turns a panel into a rendered image; a native multi-panel
run object can replace its body without touching the callers.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from .. import _core
from .panels import Detector, GeometryError, Panel


def panel_options(base, prepared_base, panel: Panel, flip_fast: bool):
    """Options of a CUSTOM, sample-pivot run whose one panel is `panel`.

    Beam, polarisation and spindle are the base run's resolved vectors; the oversampling is the
    base run's (nanoBragg picks it from the detector distance, which differs per panel). The
    sensor (-detector_thick, -detector_abs) is the run's, along each panel's own normal; the
    panel's thickness and material are file metadata.
    flip_fast: render with -fast from the far corner (a left-handed panel, whose fast x slow
    points at the sample); the caller mirrors the result back.
    """
    from ..config import copy_options

    g = prepared_base.geometry
    f, s = np.asarray(panel.fast), np.asarray(panel.slow)
    o = np.asarray(panel.origin)
    if flip_fast:
        o = o + panel.fpixels * panel.pixel_size * f
        f = -f
    n = np.cross(f, s)
    n /= np.linalg.norm(n)
    a, b, c = np.linalg.solve(np.stack([f, s, n], axis=1), o)  # origin = a f + b s + c n
    opt = copy_options(base)
    opt.convention, opt.pivot = _core.Convention.CUSTOM, _core.Pivot.SAMPLE
    opt.fdet, opt.sdet, opt.odet = tuple(f), tuple(s), tuple(n)
    opt.beam, opt.polar, opt.spindle = g["beam"], g["polar"], g["spindle"]
    opt.detector_rotx = opt.detector_roty = opt.detector_rotz = opt.twotheta = 0.0
    opt.pixel_size = panel.pixel_size
    opt.fpixels, opt.spixels = panel.fpixels, panel.spixels
    opt.detsize_f, opt.detsize_s = panel.fpixels * panel.pixel_size, panel.spixels * panel.pixel_size
    opt.Xclose, opt.Yclose, opt.close_distance = float(-a), float(-b), float(c)
    opt.Xbeam = opt.Ybeam = opt.ORGX = opt.ORGY = math.nan
    opt.roi_xmin = opt.roi_xmax = opt.roi_ymin = opt.roi_ymax = -1
    opt.oversample = int(prepared_base.sampling["oversample"])
    return opt


def render_panel(base, prepared_base, table, sources, panel: Panel, out: np.ndarray, precision: str = "double",
                 threads: int = 0, backend: str = "cpu") -> None:
    """Render one panel into out (spixels, fpixels), in place, through the public kernel."""
    from ..api import render

    flip = float(np.dot(panel.origin, panel.normal)) < 0.0
    opt = panel_options(base, prepared_base, panel, flip)
    xyz, lam, weight = sources
    prepared = _core.prepare(opt, table, xyz, lam, weight)
    mask = None
    if panel.mask is not None:
        mask = np.ascontiguousarray(panel.mask != 0, dtype=np.uint16)
        if flip:
            mask = np.ascontiguousarray(mask[:, ::-1])
    image = np.zeros((panel.spixels, panel.fpixels), dtype=out.dtype)
    render(prepared, image, mask, precision, threads, backend=backend)
    out[...] = image[:, ::-1] if flip else image


def render_detector(req, detector: Detector, prepared_base, table, sources, dtype=np.float64,
                    threads: int = 0) -> np.ndarray:
    """The (panels, slow, fast) image of a detector for a parsed request (zeros pad smaller panels).

    prepared_base: the plain run of req (its resolved beam vectors and oversampling); table: the
    native structure-factor table, loaded once; sources: (xyz, lambda, weight) lists.
    """
    out = np.zeros(detector.shape, dtype=dtype)
    for i, panel in enumerate(detector.panels):
        render_panel(req.options, prepared_base, table, sources, panel, out[i, :panel.spixels, :panel.fpixels],
                     req.precision, threads, req.device)
    return out


def assemble(detector: Detector, stack: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """A flat picture of the panels as seen along the beam, gaps included (for previews).

    Each pixel centre is projected onto the plane normal to the beam (x, y of
    :meth:`Detector.frame`) and put in the nearest cell of a grid with the smallest panel's pixel
    size; rows go down along -y, columns along -x (the image looking from the sample for a
    MOSFLM-frame run). Overlapping projections keep the last panel's value.
    """
    frame = detector.frame()
    px = min(p.pixel_size for p in detector.panels)
    coords = []
    for p in detector.panels:
        c = p.pixel_centres() @ frame.T
        coords.append((-c[..., 0] / px, -c[..., 1] / px))
    fmin = min(float(u.min()) for u, _ in coords)
    smin = min(float(v.min()) for _, v in coords)
    cols = [np.rint(u - fmin).astype(np.int64) for u, _ in coords]
    rows = [np.rint(v - smin).astype(np.int64) for _, v in coords]
    width = max(int(c.max()) for c in cols) + 1
    height = max(int(r.max()) for r in rows) + 1
    if width * height > 4 * sum(p.fpixels * p.spixels for p in detector.panels) + 10**6:
        raise GeometryError("assembled picture would be much larger than the panels (panels far apart or tilted)")
    picture = np.full((height, width), fill, dtype=stack.dtype)
    for i, p in enumerate(detector.panels):
        picture[rows[i], cols[i]] = stack[i, :p.spixels, :p.fpixels]
    return picture


def _read_crystal(req) -> None:
    from .. import io as nbio
    from ..pipeline import check_usage

    check_usage(req)
    if req.mat is not None:
        req.options.matrix = nbio.read_matrix(req.mat)
        req.options.has_matrix = True


def placement(req):
    """A prepared run of req without structure factors or sources: its detector geometry (beam,
    distance, axes) for placing a .geom, .expt or preset before any file is written."""
    _read_crystal(req)
    return _core.prepare(req.options, None, [], [], [])


def load_inputs(req, messages: Optional[list] = None):
    """(prepared plain run, native F table, sources) of a request, each file read once."""
    from .. import io as nbio
    from ..pipeline import load_table

    messages = [] if messages is None else messages
    _read_crystal(req)
    opt = req.options
    table = load_table(req, messages)
    xyz, weight, lam = ([], [], []) if req.sourcefile is None else nbio.read_sourcefile_columns(req.sourcefile)
    prepared = _core.prepare(opt, table, xyz, lam, weight)
    return prepared, table, (xyz, lam, weight)


def simulate_detector(config, detector: Detector, dtype=np.float64, threads: int = 0) -> np.ndarray:
    """The Python API: the (panels, slow, fast) image of a :class:`config.SimulationConfig` on
    detector (e.g. ``Detector.from_configs([...])``, ``crystfel_geom.read_geom(...)[0]``); the
    config's own detector supplies only the beam, polarisation and oversampling."""
    from .. import io as nbio
    from ..api import load_config_structure_factors

    if config.crystal.orientation is not None:
        raise GeometryError("simulate_detector: crystal.orientation is not supported yet; "
                            "use cell + misset or matrix_file")
    req = config.to_request()
    if req.mat is not None:
        req.options.matrix = nbio.read_matrix(req.mat)
        req.options.has_matrix = True
    table = load_config_structure_factors(config).to_native()
    xyz, lam = ([], []) if config.sourcefile is None else nbio.read_sourcefile(config.sourcefile)
    sources = (xyz, lam, [])
    prepared = _core.prepare(req.options, table, xyz, lam, [])
    return render_detector(req, detector, prepared, table, sources, dtype, threads)
