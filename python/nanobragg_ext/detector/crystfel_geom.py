"""CrystFEL geometry files (.geom): reading them into a Detector and writing one back.

Checked against CrystFEL's own reader (libcrystfel/src/datatemplate.c, detgeom.c, image.c and
doc/man/crystfel_geometry.5.md, github.com/taw10/crystfel):

- Frame: +z along the beam (away from the source), +y to the ceiling, +x = y cross z
  (right-handed). Here y is the run's lab +y made perpendicular to the beam (:meth:`Detector.frame`);
  for a MOSFLM-frame run (beam +x) x_c = -z_lab, y_c = +y_lab, z_c = +x_lab.
- Pixel (fs, ss) of a panel, continuous and measured from the panel's outer corner, lies at
  ((corner_x + i fs_x + j ss_x) / res, (corner_y + i fs_y + j ss_y) / res,
  clen + coffset + (i fs_z + j ss_z) / res) metres, i = fs - min_fs, j = ss - min_ss
  (detgeom_transform_coords; create_detgeom: cnz = (clen + coffset) / pixel_pitch). corner_x/y
  are in units of 1/res; pixel centres are at i + 0.5, j + 0.5.
- clen is one top-level value ("clen = 0.1 m" or "... mm"; a bare number is metres), wherever in
  the file it stands; a panel's clen (older CrystFEL) is read too. coffset is per panel, metres.
- photon_energy = nnn [eV|keV] (bare: eV) or wavelength = nnn m|A; a value that names an HDF5
  field is left to the data files (not read here).
- adu_per_photon, or adu_per_eV times the photon energy (create_detgeom), per panel or as a default.
- Bad regions: min_fs..max_ss with a panel are inclusive pixel ranges in the data frame, and a
  range partly outside its panel is not applied by CrystFEL (draw_bad_region_fsss; refused here,
  naming it); min_x..max_y mark the pixels whose first corner (i fs + j ss + corner, integer i, j,
  units of 1/res) lies strictly inside (draw_bad_region_xy).
- Keys set at the top level are defaults for the panels defined after them.

The sensor, which CrystFEL's format has no key for, travels in comment lines that CrystFEL skips:
``; nanobragg-ext PANEL/sensor_thickness = 0.00045`` (metres), ``sensor_material``,
``sensor_attenuation_length`` (metres) and ``sensor_thicksteps``.
"""
from __future__ import annotations

import math
import re
from typing import Dict, List, Optional, Tuple

import numpy as np

from .panels import Detector, GeometryError, Panel, beam_frame

# Keys that are read and have no effect here (data layout in HDF5 files, flags); so are rigid
# groups, dim*, mask* (HDF5 masks) and a photon_energy, wavelength or clen that names an HDF5 field.
IGNORED_KEYS = {
    "data", "max_adu", "flag_lessthan", "flag_morethan",
    "flag_equal", "no_index", "saturation_map", "saturation_map_file", "peak_list", "peak_list_type",
    "detector_shift_x", "detector_shift_y", "bandwidth", "mask_edge_pixels",
    "electron_voltage", "peak_info_location", "clen_for_centering", "value",
}
PANEL_NUMBERS = {"min_fs", "max_fs", "min_ss", "max_ss", "corner_x", "corner_y", "res", "clen", "coffset",
                 "adu_per_eV", "adu_per_photon"}
PANEL_VECTORS = {"fs", "ss"}
BAD_KEYS = {"min_x", "max_x", "min_y", "max_y", "min_fs", "max_fs", "min_ss", "max_ss", "panel"}
SENSOR_KEYS = {"sensor_thickness", "sensor_material", "sensor_attenuation_length", "sensor_thicksteps"}
SENSOR_COMMENT = "nanobragg-ext "
ADU_KEYS = {"adu_per_eV": "adu_per_photon", "adu_per_photon": "adu_per_eV"}  # each replaces the other
HC_EV_A = 12398.419843320026  # h c in eV * Angstrom
_TERM = re.compile(r"\s*([+-]?)\s*(\d*\.?\d*(?:[eE][+-]?\d+)?)\s*([xyz])")


class _Where:
    def __init__(self, path: str, line: int, key: str):
        self.path, self.line, self.key = path, line, key

    def error(self, what: str) -> GeometryError:
        return GeometryError(f"geometry file '{self.path}' line {self.line}, key '{self.key}': {what}")


def _number(value: str, where: _Where) -> float:
    try:
        x = float(value)
    except ValueError:
        raise where.error(f"expected a number, got '{value}'") from None
    if not math.isfinite(x):
        raise where.error(f"expected a finite number, got '{value}'")
    return x


def parse_vector(value: str, where: _Where) -> Tuple[float, float, float]:
    """'+1.0x -0.002y +0.1z' (CrystFEL's fs/ss syntax) to (x, y, z)."""
    out = {"x": 0.0, "y": 0.0, "z": 0.0}
    rest = value.strip()
    pos = 0
    while pos < len(rest):
        m = _TERM.match(rest, pos)
        if m is None or m.end() == pos:
            raise where.error(f"cannot read the vector '{value}' (expected terms like +1.0x -0.5y)")
        sign, mag, axis = m.groups()
        x = float(mag) if mag not in ("", ".") else 1.0
        out[axis] += -x if sign == "-" else x
        pos = m.end()
        while pos < len(rest) and rest[pos].isspace():
            pos += 1
    return (out["x"], out["y"], out["z"])


def read_geom(path: str, detector_beam=(1.0, 0.0, 0.0)) -> Tuple[Detector, Dict[str, float]]:
    """The Detector of a CrystFEL geometry file and its global values: photon_energy (eV) where
    the file gives a photon energy or wavelength as a number. detector_beam: the run's beam
    vector (places the CrystFEL frame)."""
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError as e:
        raise GeometryError(f"geometry file '{path}': {e.strerror or e}") from None
    defaults: Dict[str, object] = {}
    panels: Dict[str, Dict[str, object]] = {}
    bad: Dict[str, Dict[str, object]] = {}
    globals_: Dict[str, float] = {}
    for lineno, raw in enumerate(lines, 1):
        text, _, comment = raw.partition(";")
        text = text.strip()
        if not text:
            comment = comment.strip()
            if comment.startswith(SENSOR_COMMENT):
                text = comment[len(SENSOR_COMMENT):].strip()
                if "=" not in text or text.split("=", 1)[0].strip().rpartition("/")[2] not in SENSOR_KEYS:
                    continue  # another nanobragg-ext remark
            else:
                continue
        if "=" not in text:
            raise GeometryError(f"geometry file '{path}' line {lineno}: expected 'key = value', got '{text}'")
        key, value = (t.strip() for t in text.split("=", 1))
        where = _Where(path, lineno, key)
        if not key or not value:
            raise where.error("empty key or value")
        owner, _, field = key.rpartition("/")
        if owner.startswith("rigid_group") or key.startswith(("rigid_group", "group_")):
            continue
        if owner.startswith("bad"):
            if field not in BAD_KEYS:
                raise where.error(f"unknown key for a bad region (known: {', '.join(sorted(BAD_KEYS))})")
            bad.setdefault(owner, {})[field] = value if field == "panel" else _number(value, where)
            continue
        if field in IGNORED_KEYS or field.startswith(("dim", "mask")):
            continue
        if field in ("photon_energy", "wavelength"):
            energy = _photon_energy(field, value, where)
            if energy is not None:
                globals_["photon_energy"] = energy
            continue
        if field in PANEL_VECTORS:
            parsed: object = parse_vector(value, where)
        elif field == "clen":
            parsed = _length(value, where)
            if not owner:  # one value for the whole detector, wherever it stands (datatemplate.c)
                globals_["clen"] = float(parsed)
                continue
        elif field in PANEL_NUMBERS or field in ("sensor_thickness", "sensor_attenuation_length"):
            parsed = _number(value, where)
        elif field == "sensor_thicksteps":
            parsed = int(_number(value, where))
        elif field == "sensor_material":
            parsed = value
        else:
            raise where.error("unknown key")
        if owner:
            if owner not in panels:
                panels[owner] = dict(defaults)
            target = panels[owner]
        else:
            target = defaults
        if field in ADU_KEYS:  # one scale per panel, the last one given (datatemplate.c adu_scale)
            target.pop(ADU_KEYS[field], None)
        target[field] = parsed
    if not panels:
        raise GeometryError(f"geometry file '{path}': no panels defined")
    if "clen" in globals_:
        for k in panels.values():
            k.setdefault("clen", globals_["clen"])
    det = _build(path, panels, detector_beam)
    _apply_bad_regions(path, det, panels, bad)
    return det, {k: v for k, v in globals_.items() if k == "photon_energy"}


def _photon_energy(field: str, value: str, where: "_Where") -> Optional[float]:
    """eV of 'photon_energy = nnn [eV|keV]' or 'wavelength = nnn m|A'; None for an HDF5 field."""
    number, _, unit = value.partition(" ")
    unit = unit.strip()
    if not _is_number(number):
        return None  # read from each data file by CrystFEL (parse_photon_energy)
    x = _number(number, where)
    if field == "photon_energy":
        scale = {"": 1.0, "eV": 1.0, "keV": 1000.0}.get(unit)
        if scale is None:
            raise where.error(f"unknown unit '{unit}' (eV or keV)")
        energy = x * scale
    else:
        scale = {"m": 1e10, "A": 1.0}.get(unit)
        if scale is None:
            raise where.error(f"unknown or missing unit '{unit}' (m or A)")
        energy = HC_EV_A / (x * scale) if x > 0 else -1.0
    if not energy > 0:
        raise where.error(f"must be positive, got '{value}'")
    return energy


def _length(value: str, where: "_Where") -> float:
    """Metres of 'nnn [m|mm]' (a bare number is metres, im_get_length); HDF5 fields are refused."""
    number, _, unit = value.partition(" ")
    unit = unit.strip()
    if not _is_number(number):
        raise where.error(f"'{value}' is not a number (values read from HDF5 files are not supported)")
    scale = {"": 1.0, "m": 1.0, "mm": 1e-3}.get(unit)
    if scale is None:
        raise where.error(f"unknown length unit '{unit}' (m or mm)")
    return _number(number, where) * scale


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _build(path: str, panels: Dict[str, Dict[str, object]], beam) -> Detector:
    frame = beam_frame(beam)
    out: List[Panel] = []
    ranges = []
    for name, k in panels.items():
        for need in ("min_fs", "max_fs", "min_ss", "max_ss", "corner_x", "corner_y", "fs", "ss", "res", "clen"):
            if need not in k:
                raise GeometryError(f"geometry file '{path}': panel {name} has no '{need}'")
        nf = int(k["max_fs"]) - int(k["min_fs"]) + 1
        ns = int(k["max_ss"]) - int(k["min_ss"]) + 1
        if nf < 1 or ns < 1:
            raise GeometryError(f"geometry file '{path}': panel {name} has an empty data range")
        res = float(k["res"])
        if res <= 0:
            raise GeometryError(f"geometry file '{path}': panel {name}: res must be positive, got {res}")
        fs, ss = np.asarray(k["fs"]), np.asarray(k["ss"])
        lf, ls = np.linalg.norm(fs), np.linalg.norm(ss)
        if lf == 0.0 or ls == 0.0:
            raise GeometryError(f"geometry file '{path}': panel {name}: zero-length {'fs' if lf == 0 else 'ss'} vector")
        if abs(lf - ls) > 1e-6 * max(lf, ls):
            raise GeometryError(f"geometry file '{path}': panel {name}: fs and ss have different lengths "
                                "(non-square pixels are not supported)")
        corner_c = np.array([float(k["corner_x"]) / res, float(k["corner_y"]) / res,
                             float(k["clen"]) + float(k.get("coffset", 0.0))])
        sensor = {}
        if "sensor_thickness" in k:
            sensor["thickness"] = float(k["sensor_thickness"])
        if "sensor_material" in k:
            sensor["material"] = str(k["sensor_material"])
        if "sensor_attenuation_length" in k:
            length = float(k["sensor_attenuation_length"])
            if not length > 0:
                raise GeometryError(f"geometry file '{path}': panel {name}: sensor_attenuation_length must be "
                                    f"positive, got {length}")
            sensor["mu"] = 1.0 / length
        if "sensor_thicksteps" in k:
            sensor["thicksteps"] = int(k["sensor_thicksteps"])
        try:
            out.append(Panel(name, frame.T @ fs, frame.T @ ss, frame.T @ corner_c, nf, ns, lf / res,
                             adu_per_eV=k.get("adu_per_eV"), adu_per_photon=k.get("adu_per_photon"), **sensor))
        except GeometryError as e:
            raise GeometryError(f"geometry file '{path}': {e}") from None
        ranges.append((name, int(k["min_fs"]), int(k["max_fs"]), int(k["min_ss"]), int(k["max_ss"])))
    for i, a in enumerate(ranges):
        for b in ranges[i + 1:]:
            if a[1] <= b[2] and b[1] <= a[2] and a[3] <= b[4] and b[3] <= a[4]:
                raise GeometryError(f"geometry file '{path}': panels {a[0]} and {b[0]} have overlapping data ranges")
    try:
        return Detector(out, beam)
    except GeometryError as e:
        raise GeometryError(f"geometry file '{path}': {e}") from None


def _apply_bad_regions(path: str, det: Detector, raw: Dict[str, Dict[str, object]], bad) -> None:
    frame = det.frame()
    by_name = {p.name: p for p in det.panels}
    for region, k in bad.items():
        if "panel" in k or "min_fs" in k:
            name = k.get("panel")
            if name not in by_name:
                raise GeometryError(f"geometry file '{path}': bad region {region} names no known panel ({name!r})")
            p, r = by_name[name], raw[name]
            try:
                f0 = int(k["min_fs"]) - int(r["min_fs"]); f1 = int(k["max_fs"]) - int(r["min_fs"])  # noqa: E702
                s0 = int(k["min_ss"]) - int(r["min_ss"]); s1 = int(k["max_ss"]) - int(r["min_ss"])  # noqa: E702
            except KeyError as e:
                raise GeometryError(f"geometry file '{path}': bad region {region} lacks {e.args[0]}") from None
            if not (0 <= f0 <= f1 < p.fpixels and 0 <= s0 <= s1 < p.spixels):
                raise GeometryError(f"geometry file '{path}': bad region {region} is (partly) outside panel {name} "
                                    "or empty (CrystFEL ignores such a region)")
            _mask_of(p)[s0:s1 + 1, f0:f1 + 1] = 0
            continue
        try:
            x0, x1, y0, y1 = (float(k[n]) for n in ("min_x", "max_x", "min_y", "max_y"))
        except KeyError as e:
            raise GeometryError(f"geometry file '{path}': bad region {region} lacks {e.args[0]}") from None
        for p in det.panels:
            # first corners of the pixels in units of 1/res: CrystFEL's x, y (image.c draw_bad_region_xy)
            c = (p.pixel_centres() - 0.5 * p.pixel_size * (np.asarray(p.fast) + np.asarray(p.slow))) @ frame.T
            c *= float(raw[p.name]["res"])
            hit = (c[..., 0] > x0) & (c[..., 0] < x1) & (c[..., 1] > y0) & (c[..., 1] < y1)
            if hit.any():
                _mask_of(p)[hit] = 0


def _mask_of(p: Panel) -> np.ndarray:
    if p.mask is None:
        p.mask = np.ones((p.spixels, p.fpixels), dtype=np.uint8)
    return p.mask


def _fmt(x: float) -> str:
    return repr(float(x))


def _vector_text(v) -> str:
    return " ".join(f"{'+' if c >= 0 else '-'}{_fmt(abs(c))}{a}" for c, a in zip(v, "xyz"))


def geom_text(det: Detector, photon_energy_eV: Optional[float] = None) -> str:
    """A CrystFEL geometry describing det; panels stacked along ss in one data block. One
    top-level clen (the first panel's corner) with a coffset per panel, as CrystFEL 0.10 and later
    require; adu_per_photon = 1 (nanoBragg's images count photons) unless a panel carries its own."""
    frame = det.frame()
    origins = [frame @ np.asarray(p.origin) for p in det.panels]
    clen = float(origins[0][2])
    lines = ["; CrystFEL geometry written by nanobragg-ext (frame: z along the beam, see docs/detectors.md)"]
    if photon_energy_eV is not None:
        lines.append(f"photon_energy = {_fmt(photon_energy_eV)} eV")
    lines += [f"clen = {_fmt(clen)} m", "adu_per_photon = 1", ""]
    row = 0
    bad = []
    for p, o in zip(det.panels, origins):
        res = 1.0 / p.pixel_size
        n = p.name
        lines += [f"{n}/min_fs = 0", f"{n}/max_fs = {p.fpixels - 1}", f"{n}/min_ss = {row}",
                  f"{n}/max_ss = {row + p.spixels - 1}", f"{n}/res = {_fmt(res)}",
                  f"{n}/corner_x = {_fmt(o[0] * res)}", f"{n}/corner_y = {_fmt(o[1] * res)}",
                  f"{n}/coffset = {_fmt(o[2] - clen)}",
                  f"{n}/fs = {_vector_text(frame @ np.asarray(p.fast))}",
                  f"{n}/ss = {_vector_text(frame @ np.asarray(p.slow))}"]
        if p.adu_per_photon is not None:
            lines.append(f"{n}/adu_per_photon = {_fmt(p.adu_per_photon)}")
        elif p.adu_per_eV is not None:
            lines.append(f"{n}/adu_per_eV = {_fmt(p.adu_per_eV)}")
        lines += _sensor_lines(p)
        lines.append("")
        if p.mask is not None:
            for s, f0, f1 in _masked_runs(p.mask):
                bad.append((p.name, f0, f1, row + s))
        row += p.spixels
    for i, (name, f0, f1, s) in enumerate(bad):
        lines += [f"bad_{i}/panel = {name}", f"bad_{i}/min_fs = {f0}", f"bad_{i}/max_fs = {f1}",
                  f"bad_{i}/min_ss = {s}", f"bad_{i}/max_ss = {s}"]
    return "\n".join(lines) + "\n"


def _sensor_lines(p: Panel) -> List[str]:
    """The sensor as comment lines CrystFEL skips (see the module docstring)."""
    if p.thickness <= 0:
        return []
    out = [f"; {SENSOR_COMMENT}{p.name}/sensor_thickness = {_fmt(p.thickness)}",
           f"; {SENSOR_COMMENT}{p.name}/sensor_material = {p.material}"]
    if p.mu is not None:
        out.append(f"; {SENSOR_COMMENT}{p.name}/sensor_attenuation_length = {_fmt(1.0 / p.mu)}")
    if p.thicksteps is not None:
        out.append(f"; {SENSOR_COMMENT}{p.name}/sensor_thicksteps = {p.thicksteps}")
    return out


def _masked_runs(mask: np.ndarray):
    """(row, first, last) of each run of masked (zero) pixels along fast."""
    for s in range(mask.shape[0]):
        zero = np.flatnonzero(mask[s] == 0)
        if zero.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(zero) != 1)
        starts = np.concatenate([[zero[0]], zero[breaks + 1]])
        ends = np.concatenate([zero[breaks], [zero[-1]]])
        for a, b in zip(starts, ends):
            yield s, int(a), int(b)


def write_geom(path: str, det: Detector, photon_energy_eV: Optional[float] = None) -> None:
    """Write det as a CrystFEL geometry, atomically."""
    from ..io import write_atomic

    write_atomic(path, geom_text(det, photon_energy_eV).encode())
