"""Rendering a multi-panel detector: each panel as a CUSTOM one-panel nanoBragg run.

render_detector() is the one place that turns panels into rendered images: the plain run's native
run object (``_core.Simulator``) is updated to each panel in turn, so the structure factors and
sources are loaded once for all panels.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from .. import _core
from .panels import Detector, GeometryError, Panel
from .sensor_materials import attenuation_mu


def sensor_panel(panel: Panel, base) -> Panel:
    """panel with the sensor it is rendered with: the command line's -detector_thick,
    -detector_abs and -detector_thicksteps where given (base: the run's Options), else the
    panel's own thickness, attenuation (or its material's at the run's -lambda) and layers.
    -detector_abs 0 or inf (no absorption, as nanoBragg.c) keeps every panel thin."""
    thick = base.detector_thick if (base.detector_thick > 0 or base.detector_mu == 0) else panel.thickness
    if thick <= 0:
        if (panel.thickness, panel.mu, panel.thicksteps) == (0.0, None, None):
            return panel  # already resolved: no new panel (render_detector resolves once, then per panel)
        return dataclasses.replace(panel, thickness=0.0, mu=None, thicksteps=None)
    if base.detector_mu > 0:
        mu = float(base.detector_mu)
    elif panel.mu is not None:
        mu = panel.mu
    else:
        try:
            mu = attenuation_mu(panel.material, base.lambda0)
        except GeometryError as e:
            raise GeometryError(f"panel {panel.name}: {e}") from None
    steps = int(base.detector_thicksteps) if base.detector_thicksteps > 0 else panel.thicksteps
    if (panel.thickness, panel.mu, panel.thicksteps) == (thick, mu, steps):
        return panel
    return dataclasses.replace(panel, thickness=float(thick), mu=mu, thicksteps=steps)


def sensor_detector(detector: Detector, base) -> Detector:
    """detector with every panel's sensor as rendered (:func:`sensor_panel`): what -write_geom,
    -write_expt and the file writers describe."""
    return Detector([sensor_panel(p, base) for p in detector.panels], detector.beam)


def panel_options(base, geometry, oversample: int, panel: Panel, flip_fast: bool):
    """Options of a CUSTOM, sample-pivot run whose one panel is `panel`.

    Beam, polarisation and spindle are the base run's resolved vectors (geometry: its
    ``prepared.geometry``); oversample is the base run's (nanoBragg picks it from the detector
    distance, which differs per panel). The sensor is the panel's (its thickness, attenuation
    and layers as resolved by :func:`sensor_panel`), absorbed along the panel's own normal.
    flip_fast: render with -fast from the far corner (a left-handed panel, whose fast x slow
    points at the sample); the caller mirrors the result back.
    """
    panel = sensor_panel(panel, base)
    f, s = np.asarray(panel.fast), np.asarray(panel.slow)
    o = np.asarray(panel.origin)
    if flip_fast:
        o = o + panel.fpixels * panel.pixel_size * f
        f = -f
    n = np.cross(f, s)
    n /= np.linalg.norm(n)
    a, b, c = np.linalg.solve(np.stack([f, s, n], axis=1), o)  # origin = a f + b s + c n
    opt = _core.Options(base)
    opt.convention, opt.pivot = _core.Convention.CUSTOM, _core.Pivot.SAMPLE
    opt.fdet, opt.sdet, opt.odet = tuple(f), tuple(s), tuple(n)
    opt.beam, opt.polar, opt.spindle = geometry["beam"], geometry["polar"], geometry["spindle"]
    opt.detector_rotx = opt.detector_roty = opt.detector_rotz = opt.twotheta = 0.0
    opt.pixel_size = panel.pixel_size
    opt.fpixels, opt.spixels = panel.fpixels, panel.spixels
    opt.detsize_f, opt.detsize_s = panel.fpixels * panel.pixel_size, panel.spixels * panel.pixel_size
    opt.Xclose, opt.Yclose, opt.close_distance = float(-a), float(-b), float(c)
    opt.Xbeam = opt.Ybeam = opt.ORGX = opt.ORGY = math.nan
    opt.roi_xmin = opt.roi_xmax = opt.roi_ymin = opt.roi_ymax = -1
    opt.oversample = int(oversample)
    if panel.thickness > 0:  # else the run's own (thin) sensor settings, unchanged
        # the set-up derives the layers from these as nanoBragg.c does (-1: not given)
        opt.detector_thick, opt.detector_mu = panel.thickness, panel.mu
        opt.detector_thicksteps = panel.thicksteps if panel.thicksteps is not None else -1
    return opt


def render_detector(sim, detector: Detector, dtype=np.float64, precision: str = "double", threads: int = 0,
                    backend: str = "cpu", axes=None) -> np.ndarray:
    """The (panels, slow, fast) image of a detector (zeros pad smaller panels).

    sim: the native run object (``_core.Simulator``, from ``pipeline.load_request``) of the plain
    run, without a mask; axes: the cell axes it was built with (None: cell and misset). Each panel
    is rendered by updating sim to that panel's CUSTOM detector (the update re-runs the set-up and
    keeps the structure factors and source rows: no table is copied or read again) and masking it
    with the panel's bad pixels; sim is brought back to the plain run afterwards.
    backend: "cpu", "cuda" or "auto" (``api.resolve_backend``); one ``_cuda.DeviceSimulator`` serves
    every panel (its tables and size follow each update).
    """
    from ..api import device_simulator, render, resolve_backend

    if sim.has_mask:
        raise GeometryError("a -mask image is for one-panel detectors; give bad regions in the .geom instead")
    base = sim.options
    geometry, oversample = sim.prepared.geometry, sim.prepared.sampling["oversample"]
    cuda, device = resolve_backend(backend) == "cuda", None
    out = np.zeros(detector.shape, dtype=dtype)
    detector = sensor_detector(detector, base)
    try:
        for i, panel in enumerate(detector.panels):
            flip = float(np.dot(panel.origin, panel.normal)) < 0.0
            sim.set_mask(None)  # the next panel may have another size
            sim.update(panel_options(base, geometry, oversample, panel, flip), axes)
            if panel.mask is not None:
                mask = np.ascontiguousarray(panel.mask != 0, dtype=np.uint16)
                sim.set_mask(np.ascontiguousarray(mask[:, ::-1]) if flip else mask)
            whole = (panel.spixels, panel.fpixels) == out.shape[1:]
            # a panel of the stack's size renders straight into its slice: no copy of the pixels
            image = out[i] if whole else np.zeros((panel.spixels, panel.fpixels), dtype=dtype)
            if cuda and device is None:
                device = device_simulator(sim, precision)  # follows every update, a new panel size too
            render(sim, image, precision, threads, device=device)
            if flip:
                image = image[:, ::-1].copy()
            if flip or not whole:
                out[i, :panel.spixels, :panel.fpixels] = image
    finally:
        sim.set_mask(None)
        sim.update(base, axes)
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


def placement(req):
    """The set-up of req without structure factors or sources (``_core.Prepared``): its detector
    geometry (beam, distance, axes) for placing a .geom, .expt or preset before any file is
    written (-hkl writes its dump file when the run loads)."""
    from .. import io as nbio
    from ..pipeline import check_usage

    check_usage(req)
    opt = _core.Options(req.options)
    if req.mat is not None:
        opt.matrix = nbio.read_matrix(req.mat)
        opt.has_matrix = True
    return _core.Simulator(opt).prepared


def simulate_detector(config, detector: Detector, dtype=np.float64, threads: int = 0,
                      backend: str = "cpu") -> np.ndarray:
    """The Python API: the (panels, slow, fast) image of a :class:`config.SimulationConfig` on
    detector (e.g. ``Detector.from_configs([...])``, ``crystfel_geom.read_geom(...)[0]``); the
    config's own detector supplies only the beam, polarisation and oversampling."""
    from ..api import Simulator, _axes_m

    sim = Simulator(config, threads=threads)  # the config's load path: its table, sources and orientation
    axes = None if config.crystal.orientation is None else _axes_m(config.crystal.orientation)
    return render_detector(sim.native, detector, dtype, config.precision, threads, backend, axes)
