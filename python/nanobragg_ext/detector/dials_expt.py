"""DIALS/dxtbx experiment lists (.expt JSON): the detector read as flat panels, and written.

dxtbx's frame: the beam travels along -z (its ``direction`` points at the source), lengths in
mm. It is tied to the run's beam here: z_d = -beam, y_d = the y of :func:`panels.beam_frame`,
x_d = y_d cross z_d (for a MOSFLM-frame run: x_d = +z_lab, y_d = +y_lab, z_d = -x_lab, the
mapping of nanoBragg's DIALS_ORIGIN header). A file whose beam points elsewhere is rotated so
that its beam lands on the run's. Hierarchy groups hold frames relative to their parent
(origin and axes in the parent's fast, slow, normal basis); they are composed down to each panel.
"""
from __future__ import annotations

import json
from typing import Optional

import numpy as np

from .panels import Detector, GeometryError, Panel, beam_frame


def dxtbx_frame(beam) -> np.ndarray:
    """Rows x_d, y_d, z_d of dxtbx's frame for a run with this beam (lab frame)."""
    f = beam_frame(beam)
    return np.stack([-f[0], f[1], -f[2]])


def _frame_of_file_beam(direction) -> np.ndarray:
    """dxtbx frame rows for a file whose beam 'direction' (towards the source) is given, in the
    file's own coordinates (identity for the usual [0, 0, 1])."""
    d = np.asarray(direction, dtype=np.float64)
    return dxtbx_frame(-d / np.linalg.norm(d))


def _num3(d: dict, key: str, where: str):
    v = d.get(key)
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        a = None
    if a is None or a.shape != (3,) or not np.all(np.isfinite(a)):
        raise GeometryError(f"{where}: '{key}' must be three numbers, got {v!r}")
    return a


def read_expt(path: str, run_beam=(1.0, 0.0, 0.0), index: int = 0) -> Detector:
    """The detector `index` of an experiment-list file, in the run's lab frame (metres)."""
    try:
        with open(path, "r", encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as e:
        raise GeometryError(f"experiment file '{path}': {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise GeometryError(f"experiment file '{path}' line {e.lineno}: not JSON ({e.msg})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("detector"), list) or not doc["detector"]:
        raise GeometryError(f"experiment file '{path}': key 'detector': no detector list")
    if index >= len(doc["detector"]):
        raise GeometryError(f"experiment file '{path}': no detector {index}")
    det = doc["detector"][index]
    where = f"experiment file '{path}' detector {index}"
    raw = det.get("panels")
    if not isinstance(raw, list) or not raw:
        raise GeometryError(f"{where}: key 'panels': no panel list")
    direction = (0.0, 0.0, 1.0)
    beams = doc.get("beam")
    if isinstance(beams, list) and beams and isinstance(beams[0], dict) and "direction" in beams[0]:
        direction = _num3(beams[0], "direction", f"experiment file '{path}' beam 0")
    # file coordinates -> run lab: through the dxtbx frame of each
    to_lab = dxtbx_frame(run_beam).T @ _frame_of_file_beam(direction)
    frames = [None] * len(raw)
    hierarchy = det.get("hierarchy")
    if hierarchy is None:
        for i, p in enumerate(raw):
            frames[i] = (np.zeros(3), np.eye(3))
    else:
        _walk(hierarchy, np.zeros(3), np.eye(3), frames, where, len(raw), top=True)
        missing = [i for i, f in enumerate(frames) if f is None]
        if missing:
            raise GeometryError(f"{where}: key 'hierarchy': panels {missing} are not in it")
    panels = []
    for i, p in enumerate(raw):
        pw = f"{where} panel {i}"
        if not isinstance(p, dict):
            raise GeometryError(f"{pw}: not an object")
        origin0, rot = frames[i]
        f = rot @ _num3(p, "fast_axis", pw)
        s = rot @ _num3(p, "slow_axis", pw)
        o = origin0 + rot @ _num3(p, "origin", pw)
        try:
            nf, ns = (int(x) for x in p["image_size"])
            pxf, pxs = (float(x) for x in p["pixel_size"])
        except (KeyError, TypeError, ValueError):
            raise GeometryError(f"{pw}: 'image_size' and 'pixel_size' must be two numbers each") from None
        if abs(pxf - pxs) > 1e-9 * max(abs(pxf), abs(pxs)):
            raise GeometryError(f"{pw}: key 'pixel_size': non-square pixels {pxf} x {pxs} mm are not supported")
        thick = float(p.get("thickness", 0.0) or 0.0) * 1e-3
        mu = float(p.get("mu", 0.0) or 0.0)
        try:
            panels.append(Panel(str(p.get("name") or f"p{i}"), to_lab @ f, to_lab @ s, to_lab @ o * 1e-3, nf, ns,
                                pxf * 1e-3, thickness=thick, material=str(p.get("material") or "Si"),
                                mu=mu * 1e3 if mu > 0 else None))
        except GeometryError as e:
            raise GeometryError(f"{where}: {e}") from None
    try:
        return Detector(panels, run_beam)
    except GeometryError as e:
        raise GeometryError(f"{where}: {e}") from None


def _walk(node, origin, rot, frames, where, npanels, top=False):
    """Compose group frames down to the panels (frames[i] = (origin, rotation) of panel i's parent)."""
    if not isinstance(node, dict):
        raise GeometryError(f"{where}: key 'hierarchy': a node is not an object")
    if "panel" in node:
        i = node["panel"]
        if not isinstance(i, int) or not 0 <= i < npanels:
            raise GeometryError(f"{where}: key 'hierarchy': panel index {i!r} out of range")
        frames[i] = (origin, rot)
        return
    f = _num3(node, "fast_axis", f"{where} hierarchy node '{node.get('name', '')}'")
    s = _num3(node, "slow_axis", f"{where} hierarchy node '{node.get('name', '')}'")
    o = _num3(node, "origin", f"{where} hierarchy node '{node.get('name', '')}'")
    if np.linalg.norm(f) == 0 or np.linalg.norm(s) == 0:
        raise GeometryError(f"{where}: hierarchy node '{node.get('name', '')}': zero-length axis")
    f, s = f / np.linalg.norm(f), s / np.linalg.norm(s)
    n = np.cross(f, s)
    local = np.stack([f, s, n / np.linalg.norm(n)], axis=1)
    new_origin, new_rot = origin + rot @ o, rot @ local
    for child in node.get("children", []):
        _walk(child, new_origin, new_rot, frames, where, npanels)


def expt_document(det: Detector, wavelength_A: Optional[float] = None) -> dict:
    """An experiment list (one experiment: beam and detector) describing det, dxtbx's frame, mm."""
    frame = dxtbx_frame(det.beam)
    panels = []
    for p in det.panels:
        panels.append({
            "name": p.name, "type": "SENSOR_PAD",
            "fast_axis": list(frame @ np.asarray(p.fast)), "slow_axis": list(frame @ np.asarray(p.slow)),
            "origin": list(frame @ np.asarray(p.origin) * 1e3),
            "raw_image_offset": [0, 0], "image_size": [p.fpixels, p.spixels],
            "pixel_size": [p.pixel_size * 1e3, p.pixel_size * 1e3], "trusted_range": [-1.0, 1e9],
            "thickness": p.thickness * 1e3, "material": p.material, "mu": (p.mu or 0.0) * 1e-3,
            "identifier": "", "mask": [], "gain": 1.0, "pedestal": 0.0,
            "px_mm_strategy": {"type": "SimplePxMmStrategy"},
        })
    root = {"name": "", "type": "", "fast_axis": [1.0, 0.0, 0.0], "slow_axis": [0.0, 1.0, 0.0],
            "origin": [0.0, 0.0, 0.0], "raw_image_offset": [0, 0], "image_size": [0, 0], "pixel_size": [0.0, 0.0],
            "trusted_range": [0.0, 0.0], "thickness": 0.0, "material": "", "mu": 0.0, "identifier": "", "mask": [],
            "gain": 1.0, "pedestal": 0.0, "px_mm_strategy": {"type": "SimplePxMmStrategy"},
            "children": [{"panel": i} for i in range(len(panels))]}
    # polarisation and flux are left to dxtbx's defaults: the NXmx writer is where they belong
    beam = {"direction": [0.0, 0.0, 1.0], "wavelength": float(wavelength_A or 0.0), "divergence": 0.0,
            "sigma_divergence": 0.0}
    return {"__id__": "ExperimentList",
            "experiment": [{"__id__": "Experiment", "identifier": "", "beam": 0, "detector": 0}],
            "beam": [beam], "detector": [{"panels": panels, "hierarchy": root}],
            "goniometer": [], "scan": [], "crystal": [], "profile": [], "scaling_model": [], "imageset": []}


def write_expt(path: str, det: Detector, wavelength_A: Optional[float] = None) -> None:
    """Write det as an experiment-list JSON, atomically."""
    from ..io import write_atomic

    write_atomic(path, (json.dumps(expt_document(det, wavelength_A), indent=1) + "\n").encode())
