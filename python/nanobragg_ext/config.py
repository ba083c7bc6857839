"""Typed, validated run settings in user units: the Python face of nanoBragg's options.

Four frozen dataclasses describe a run, :class:`DetectorConfig`, :class:`BeamConfig`,
:class:`CrystalConfig` and :class:`SamplingConfig`, and :class:`SimulationConfig` holds them with
the input files. Field names carry their units (``distance_mm``, ``wavelength_A``, ``phi_start_deg``);
``None`` means "not given", so the C's defaulting rules apply. Every field's unit, native
``Options`` field, conversion, default and valid range come from :mod:`nanobragg_ext.option_table`,
as do the command line's: a config refuses what the command line refuses, with the same words.
:meth:`SimulationConfig.from_cli_args` goes through the parser, and
:meth:`SimulationConfig.to_cli_args` produces arguments that parse back to the same ``Options``.

Examples
--------
>>> from nanobragg_ext.config import SimulationConfig, DetectorConfig, CrystalConfig
>>> cfg = SimulationConfig(detector=DetectorConfig(fpixels=64, spixels=64), noise_seed=1,
...                        crystal=CrystalConfig(cell=(100, 100, 100, 90, 90, 90), default_F=100, misset_seed=1))
>>> cfg.detector.shape
(64, 64)
>>> SimulationConfig.from_cli_args(cfg.to_cli_args()) == cfg
True
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from .option_table import FIELDS, Field, invert
from .options import INT_LIMIT, INT_MIN, Request, _inverse_um, apply_smv_header, check_cell, mm, parse_args
from .preflight import check_options

__all__ = ["DetectorConfig", "BeamConfig", "CrystalConfig", "SamplingConfig", "SimulationConfig",
           "options_equal", "options_to_dict", "copy_options"]

Vec3 = Tuple[float, float, float]

_DEFAULTS = _core.Options()

# Every field of the native Options (pybind11 properties; no methods on that class).
OPTION_FIELDS: Tuple[str, ...] = tuple(n for n in dir(_DEFAULTS) if not n.startswith("_"))


# ---------------------------------------------------------------------------------------------
# helpers


def options_to_dict(o) -> Dict[str, Any]:
    """Every field of a native ``Options`` as a plain dict (enums as ints, arrays as tuples)."""
    out = {}
    for n in OPTION_FIELDS:
        v = getattr(o, n)
        if isinstance(v, (_core.Convention, _core.Pivot)):
            v = int(v)
        elif isinstance(v, list):
            v = tuple(v)
        out[n] = v
    return out


def _same(a, b) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def options_equal(a, b, ignore_unused: bool = False) -> bool:
    """True when two native ``Options`` hold the same value in every field (NaN equals NaN).

    ignore_unused: skip fields the run never reads (the misset angles of a random misset,
    which ``-misset_seed N -misset random`` fills with leftovers, Q13).
    """
    return not options_diff(a, b, ignore_unused)


def options_diff(a, b, ignore_unused: bool = False) -> Dict[str, Tuple[Any, Any]]:
    """The fields in which two native ``Options`` differ, as ``{name: (a_value, b_value)}``."""
    da, db = options_to_dict(a), options_to_dict(b)
    skip = set()
    if ignore_unused and da["misset_mode"] == db["misset_mode"] == -1:
        skip.add("misset")
    return {n: (da[n], db[n]) for n in OPTION_FIELDS if n not in skip and not _same(da[n], db[n])}


def copy_options(o):
    """A new native ``Options`` with every field copied from o."""
    new = _core.Options()
    for n in OPTION_FIELDS:
        setattr(new, n, getattr(o, n))
    return new


def _num(x: float) -> str:
    """A float as text that float() reads back to the same double."""
    x = float(x)
    return repr(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _set(obj, name, value) -> None:
    object.__setattr__(obj, name, value)


_CLASS_NAMES = {"detector": "DetectorConfig", "beam": "BeamConfig", "crystal": "CrystalConfig",
                "sampling": "SamplingConfig", "run": "SimulationConfig"}
_REAL = (int, float, np.integer, np.floating)


def _is_real(v) -> bool:
    return isinstance(v, _REAL) and not isinstance(v, (bool, np.bool_))


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _bad(who: str, reason: str, v) -> ValueError:
    return ValueError(f"{who} {reason}, got {v!r}")


def _vec(who: str, v, field=None) -> Vec3:
    try:
        t = tuple(float(x) for x in v)
    except (TypeError, ValueError):
        raise _bad(who, "must be 3 numbers", v) from None
    if len(t) != 3 or not all(math.isfinite(x) for x in t):
        raise _bad(who, "must be 3 finite numbers", v)
    if field is not None and field.nonzero and not any(t):
        raise _bad(who, "must not be zero: a zero-length vector has no direction", v)
    if field is not None and any(field.range.reason(x) for x in t):
        raise _bad(who, "entries " + field.range.describe(), v)
    return t


def _check_number(who: str, field: Field, v, integer: bool) -> None:
    if not (_is_int(v) if integer else _is_real(v)):
        raise _bad(who, "must be an integer" if integer else "must be a number", v)
    if not math.isfinite(v):
        raise _bad(who, "must be a finite number", v)
    reason = field.range.reason(v)
    if reason:
        raise _bad(who, reason, v)
    if integer and abs(v) > INT_LIMIT and v != INT_MIN:
        raise _bad(who, f"is out of range (at most {INT_LIMIT} in size)", v)


def _validate(obj, group: str) -> None:
    """Check every field of one config object against the option table (kind and valid range),
    with the words the command line uses; tuples are normalised to floats."""
    for f in _GROUP_FIELDS[group]:
        v = getattr(obj, f.name)
        who = f"{_CLASS_NAMES[group]}.{f.name}"
        if v is None and (f.unset is not None or f.default is None or f.kind in ("absorption", "text")):
            continue
        if f.kind == "real":
            _check_number(who, f, v, integer=False)
        elif f.kind in ("int", "seed"):
            _check_number(who, f, v, integer=True)
        elif f.kind == "choice":
            if v not in f.choices:
                raise ValueError(f"{who} must be one of {sorted(f.choices)}, got {v!r}")
        elif f.kind == "vec3" or f.kind == "size":
            _set(obj, f.name, _vec(who, v, f))
        elif f.kind in _CUSTOM_CHECKS:
            _CUSTOM_CHECKS[f.kind](obj, f, who, v)


def _check_cell(obj, f, who, v):
    try:
        cell = tuple(float(x) for x in v)
    except (TypeError, ValueError):
        raise _bad(who, "must be 6 numbers (a b c alpha beta gamma)", v) from None
    if len(cell) != 6 or not all(math.isfinite(x) for x in cell):
        raise _bad(who, "must be 6 finite numbers (a b c alpha beta gamma)", v)
    reason = check_cell(cell)
    if reason:
        raise ValueError(f"{who} {reason}")
    _set(obj, f.name, cell)


def _check_misset(obj, f, who, v):
    if v != "random":
        _set(obj, f.name, _vec(who, v))


def _check_roi(obj, f, who, v):
    roi = tuple(v)
    if len(roi) != 4 or not all(_is_int(x) for x in roi):
        raise _bad(who, "must be 4 integers (xmin, xmax, ymin, ymax)", v)
    _set(obj, f.name, tuple(int(x) for x in roi))


def _check_n_cells(obj, f, who, v):
    n = tuple(v)
    if len(n) != 3 or not all(_is_int(x) and not f.range.reason(x) for x in n):
        raise _bad(who, f"must be 3 integers, each {f.range.describe()[len('must be '):]}", v)
    _set(obj, f.name, tuple(int(x) for x in n))


def _check_absorption(obj, f, who, v):
    if not _is_real(v) or not v > 0:
        raise _bad(who, "must be positive (or math.inf: no absorption)", v)


def _check_bool(obj, f, who, v):
    if not (isinstance(v, (bool, np.bool_)) or (_is_int(v) and v in (0, 1))):
        raise _bad(who, "must be True or False", v)


def _check_text(obj, f, who, v):
    if not isinstance(v, (str, os.PathLike)):
        raise _bad(who, "must be a string", v)
    _set(obj, f.name, os.fspath(v))


_CUSTOM_CHECKS = {"cell": _check_cell, "misset": _check_misset, "roi": _check_roi, "n_cells": _check_n_cells,
                  "absorption": _check_absorption, "bool": _check_bool, "text": _check_text}
_GROUP_FIELDS = {g: [f for f in FIELDS if f.group == g] for g in _CLASS_NAMES}


# ---------------------------------------------------------------------------------------------
# conversion to and from the native Options, field by field from the option table


def _enum(field: Field, word: str):
    """The native value of a choice: an enum member for the convention and the pivot."""
    name = field.choices[word]
    if field.name == "convention":
        return getattr(_core.Convention, name)
    if field.name == "pivot":
        return getattr(_core.Pivot, name)
    return name


def _native_value(field: Field, v):
    """A config value in the native unit (the field's sentinel for None); plain kinds only."""
    if v is None:
        return field.unset
    kind = field.kind
    if kind == "real":
        return field.unit.to_native(float(v))
    if kind == "int":
        return int(v)
    if kind == "seed":
        return -int(v) if v != INT_MIN else INT_MIN  # the C's int negation of INT_MIN wraps to itself
    if kind == "bool":
        return int(bool(v)) if field.name == "interpolate" else bool(v)
    if kind == "choice":
        return _enum(field, v)
    if kind == "vec3":
        return tuple(float(x) for x in v)
    return v


def _user_value(field: Field, v):
    """The inverse of _native_value: a native value in the config's unit (None for a sentinel)."""
    if v is None:  # a Request attribute that is not given
        return None
    kind = field.kind
    if field.unset is not None:
        unset = (math.isnan(v) if isinstance(field.unset, float) and math.isnan(field.unset)
                 else v == field.unset or (kind == "real" and v < 0)
                 or (kind == "int" and not field.cli_check and bool(field.range.reason(v))))
        if unset:
            return None
    if kind == "real":
        return field.unit.from_native(v)
    if kind == "int":
        return int(v)
    if kind == "seed":
        return -int(v) if v != INT_MIN else INT_MIN
    if kind == "bool":
        return bool(v)
    if kind == "choice":
        return next(word for word in field.choices if _enum(field, word) == v)
    if kind == "vec3":
        return tuple(v)
    return v


def _native_home(field: Field, req: Request):
    return (req, field.native[4:]) if field.native.startswith("req.") else (req.options, field.native)


def _get(cfg: "SimulationConfig", field: Field):
    return getattr(cfg if field.group == "run" else getattr(cfg, field.group), field.name)


def _fill_native(cfg: "SimulationConfig", req: Request) -> None:
    """Every table field of cfg into req (its Options and its own attributes)."""
    o = req.options
    for f in FIELDS:
        v = _get(cfg, f)
        convert = _TO_NATIVE.get(f.path) or _TO_NATIVE.get(f.kind)
        if convert is not None:
            convert(cfg, f, v, o)
        elif f.native.startswith("req."):
            if v is not None:  # None keeps the Request's default (the clock for the noise seed)
                setattr(req, f.native[4:], _native_value(f, v))
        else:
            setattr(o, f.native, _native_value(f, v))
    if cfg.detector.absorption_length_um is not None and math.isinf(cfg.detector.absorption_length_um):
        o.detector_thick = 0.0  # same as nanoBragg.c: -detector_abs inf also zeroes the thickness


def _cell_to_native(cfg, f, v, o):
    if v is None and cfg.crystal.orientation is not None:
        v = _cell_of(np.asarray(cfg.crystal.orientation))
    if v is not None:
        o.user_cell = True
        o.cell = tuple(float(x) if i < 3 else f.unit.to_native(float(x)) for i, x in enumerate(v))


def _misset_to_native(cfg, f, v, o):
    if v == "random":
        o.misset_mode = -1
    elif v is not None:
        o.misset_mode = 1
        o.misset = tuple(f.unit.to_native(float(x)) for x in v)


def _split_to_native(cfg, f, v, o):
    if f.kind == "roi" and v is None:
        return
    for name, x in zip(f.native, v):
        setattr(o, name, f.unit.to_native(float(x)) if f.kind == "size" else (float(x) if f.kind == "n_cells" else x))


def _absorption_to_native(cfg, f, v, o):
    o.detector_mu = -1.0 if v is None else (0.0 if math.isinf(v) else _inverse_um(float(v)))


def _misset_seed_to_native(cfg, f, v, o):
    o.misset_seed = -int(v if v is not None else time.time())


_TO_NATIVE = {"crystal.misset_seed": _misset_seed_to_native, "cell": _cell_to_native, "misset": _misset_to_native, "roi": _split_to_native,
              "n_cells": _split_to_native, "size": _split_to_native, "absorption": _absorption_to_native}


def _from_native(field: Field, req: Request):
    o = req.options
    k = field.kind
    if k == "cell":
        return tuple(v if i < 3 else field.unit.from_native(v) for i, v in enumerate(o.cell)) if o.user_cell else None
    if k == "misset":
        return "random" if o.misset_mode < 0 else (
            tuple(field.unit.from_native(v) for v in o.misset) if o.misset_mode > 0 else None)
    if k == "roi":
        roi = tuple(getattr(o, n) for n in field.native)
        return None if roi == (-1, -1, -1, -1) else roi
    if k == "n_cells":
        return tuple(max(0, int(getattr(o, n))) for n in field.native)  # the C renders N <= 1 as 1 cell
    if k == "size":
        return tuple(field.unit.from_native(getattr(o, n)) for n in field.native)
    if k == "absorption":
        mu = o.detector_mu
        return None if mu < 0 else (math.inf if mu == 0 else invert(mu, lambda x: 1.0 / (x * 1e-6), 1.0 / mu / 1e-6))
    target, name = _native_home(field, req)
    return _user_value(field, getattr(target, name))


# ---------------------------------------------------------------------------------------------
# the command line stated back: one emitter per field, in the table's order


def _emit(cfg: "SimulationConfig", args: List[str], header: bool) -> None:
    defaults = _core.Options()
    for f in FIELDS:
        v = _get(cfg, f)
        if f.path in _EMITTERS:
            _EMITTERS[f.path](cfg, f, v, args)
            continue
        if f.kind in ("text", "seed", "choice", "bool"):
            if v is None or v == f.default:
                continue
            args.extend([f.flag] if f.kind == "bool" else [f.flag, v if f.kind != "seed" else _num(v)])
            continue
        if v is None and f.native.startswith("req."):
            continue  # not given
        native = _native_value(f, v)
        if f.native.startswith("req."):
            default = _native_value(f, f.default)
        else:
            default = getattr(defaults, f.native)
            default = tuple(default) if f.kind == "vec3" else default
        if _same(native, default) and not (header and f.header):
            continue
        args.append(f.flag)
        args.extend(_num(x) for x in (v if f.kind == "vec3" else (v,)))


def _emit_cell(cfg, f, v, args):
    if v is not None:
        args.extend(["-cell", *(_num(x) for x in v)])


def _emit_n_cells(cfg, f, v, args):
    for flag, n in zip(("-Na", "-Nb", "-Nc"), v):
        args.extend([flag, _num(n)])


def _emit_misset(cfg, f, v, args):
    if v == "random":
        args.extend(["-misset", "random"])
    elif v is not None:
        args.extend(["-misset", *(_num(x) for x in v)])


def _emit_size(cfg, f, v, args):
    for axis, x in zip("xyz", v):
        if x != 0.0:
            args.extend([f"-sample_{axis}", _num(x)])


def _emit_shape(cfg, f, v, args):
    if v != "square":
        args.append({"round": "-round_xtal", "gauss": "-gauss_xtal", "tophat": "-tophat_spots"}[v])


def _emit_interpolate(cfg, f, v, args):
    if v is not None:
        args.append("-interpolate" if v else "-nointerpolate")


_VECTOR_FLAGS = ("-fdet_vector", "-sdet_vector", "-odet_vector", "-beam_vector", "-polar_vector", "-spindle_axis",
                 "-twotheta_axis")


def _emit_convention(cfg, f, v, args):
    if v != "custom":
        args.append("-" + v)
    elif not any(a in args for a in _VECTOR_FLAGS):
        args.extend(["-pix0_vector", "0", "0", "0"])  # selects CUSTOM and is otherwise ignored (Q12)


def _emit_twotheta(cfg, f, v, args):
    if v != 0.0 or "-twotheta_axis" in args:  # -twotheta_axis also set two-theta (Q13): restate it
        args.extend(["-twotheta", _num(v)])


def _emit_roi(cfg, f, v, args):
    if v is not None:
        args.extend(["-roi", *(_num(x) for x in v)])


def _emit_absorption(cfg, f, v, args):
    if v is not None:
        args.extend(["-detector_abs", "inf" if math.isinf(v) else _num(v)])


def _emit_thickness(cfg, f, v, args):
    absorbing = cfg.detector.absorption_length_um is None or not math.isinf(cfg.detector.absorption_length_um)
    if v != 0.0 and absorbing and f.unit.to_native(float(v)) != 0.0:
        args.extend(["-detector_thick", _num(v)])


def _emit_pivot(cfg, f, v, args):
    args.extend(["-pivot", v])


_EMITTERS = {"crystal.cell": _emit_cell, "crystal.n_cells": _emit_n_cells, "crystal.misset_deg": _emit_misset,
             "crystal.size_mm": _emit_size, "crystal.shape": _emit_shape, "crystal.interpolate": _emit_interpolate,
             "detector.convention": _emit_convention, "detector.twotheta_deg": _emit_twotheta,
             "detector.roi": _emit_roi, "detector.absorption_length_um": _emit_absorption,
             "detector.thickness_um": _emit_thickness, "detector.pivot": _emit_pivot}


# ---------------------------------------------------------------------------------------------
# the config classes


@dataclass(frozen=True)
class DetectorConfig:
    """Detector size, placement and sensor.

    Parameters
    ----------
    fpixels, spixels : int or None
        Pixels along the fast and slow axes (``-detpixels_f``/``-detpixels_s``); None derives
        them from ``detsize_*_mm / pixel_size_mm``.
    pixel_size_mm : float
        Pixel pitch, mm (``-pixel``). Default 0.1.
    detsize_f_mm, detsize_s_mm : float
        Detector size along fast and slow, mm (``-detsize_f``/``-detsize_s``); used when the
        pixel counts are None. Default 102.4.
    distance_mm : float
        Sample-to-beam-centre distance along the beam, mm (``-distance``). Default 100.
    close_distance_mm : float or None
        Sample-to-detector-plane distance, mm (``-close_distance``).
    beam_center_x_mm, beam_center_y_mm : float or None
        Direct-beam position in the convention's frame, mm (``-Xbeam``/``-Ybeam``).
    xclose_mm, yclose_mm : float or None
        Point of closest approach, mm (``-Xclose``/``-Yclose``).
    orgx_px, orgy_px : float or None
        XDS origin, pixels (``-ORGX``/``-ORGY``).
    pivot : {"beam", "sample"}
        What stays fixed when the detector rotates (``-pivot``). Conventions and the options
        above choose it on the command line; here it is explicit.
    convention : {"mosflm", "xds", "adxv", "denzo", "dials", "custom"}
        Axis convention. "custom" uses the ``*_vector`` fields.
    fdet_vector, sdet_vector, odet_vector : 3 floats
        Fast, slow and normal detector axes (unit vectors; only for "custom").
    twotheta_axis : 3 floats
        Axis of the two-theta swing (unit vector).
    rotx_deg, roty_deg, rotz_deg : float
        Detector rotations about the lab axes, degrees (``-detector_rotx`` ...).
    twotheta_deg : float
        Two-theta swing, degrees (``-twotheta``).
    curved : bool
        Spherical detector surface (``-curved_det``).
    point_pixel : bool
        Solid angle of a point, no obliquity (``-point_pixel``).
    roi : (xmin, xmax, ymin, ymax) or None
        Inclusive pixel region to render (``-roi``); None renders everything.
    thickness_um : float
        Sensor thickness, micrometres (``-detector_thick``).
    absorption_length_um : float or None
        Sensor attenuation length, micrometres (``-detector_abs``); ``math.inf`` means no
        absorption (and, as in the C, zero thickness).
    thicksteps : int or None
        Sensor layers (``-detector_thicksteps``).
    """

    fpixels: Optional[int] = None
    spixels: Optional[int] = None
    pixel_size_mm: float = 0.1
    detsize_f_mm: float = 102.4
    detsize_s_mm: float = 102.4
    distance_mm: float = 100.0
    close_distance_mm: Optional[float] = None
    beam_center_x_mm: Optional[float] = None
    beam_center_y_mm: Optional[float] = None
    xclose_mm: Optional[float] = None
    yclose_mm: Optional[float] = None
    orgx_px: Optional[float] = None
    orgy_px: Optional[float] = None
    pivot: str = "beam"
    convention: str = "mosflm"
    fdet_vector: Vec3 = (0.0, 0.0, 1.0)
    sdet_vector: Vec3 = (0.0, -1.0, 0.0)
    odet_vector: Vec3 = (1.0, 0.0, 0.0)
    twotheta_axis: Vec3 = (0.0, 1.0, 0.0)
    rotx_deg: float = 0.0
    roty_deg: float = 0.0
    rotz_deg: float = 0.0
    twotheta_deg: float = 0.0
    curved: bool = False
    point_pixel: bool = False
    roi: Optional[Tuple[int, int, int, int]] = None
    thickness_um: float = 0.0
    absorption_length_um: Optional[float] = None
    thicksteps: Optional[int] = None

    def __post_init__(self):
        _validate(self, "detector")

    @property
    def shape(self) -> Tuple[int, int]:
        """(slow, fast) image shape, the pixel counts or (None or 0) detector size / pixel size as the C rounds it."""
        f = self.fpixels if self.fpixels else int(math.ceil(mm(self.detsize_f_mm) / mm(self.pixel_size_mm) - 0.5))
        s = self.spixels if self.spixels else int(math.ceil(mm(self.detsize_s_mm) / mm(self.pixel_size_mm) - 0.5))
        return (s, f)


@dataclass(frozen=True)
class BeamConfig:
    """The X-ray beam: wavelength, bandpass, divergence, intensity and polarization.

    Parameters
    ----------
    wavelength_A : float
        Central wavelength, Angstrom (``-lambda``). Default 1.0.
    dispersion_percent : float
        Full spectral width, percent of the wavelength (``-dispersion``).
    hdivrange_mrad, vdivrange_mrad : float or None
        Full horizontal/vertical divergence, mrad (``-hdivrange``/``-vdivrange``).
    hdivstep_mrad, vdivstep_mrad : float or None
        Divergence step, mrad (``-hdivstep``/``-vdivstep``).
    round_div : bool
        Trim the divergence grid to an ellipse (``-round_div``, the default) or keep the square.
    fluence_per_m2 : float
        Photons per square metre (``-fluence``); ignored when ``flux_per_s`` is set.
    flux_per_s : float
        Photons per second (``-flux``); with exposure and beam size gives the fluence.
    exposure_s : float
        Exposure time, seconds (``-exposure``).
    beamsize_mm : float
        Beam width (square), mm (``-beamsize``); also clips the sample size.
    polarization : float
        Kahn polarization factor, -1..1 (``-polar``).
    nopolar : bool
        Switch the polarization correction off (``-nopolar``).
    dmin_A : float
        Skip scattering beyond this resolution, Angstrom (``-dmin``); 0 keeps all.
    beam_vector, polar_vector : 3 floats
        Beam direction and E-vector (unit vectors; setting either selects the custom convention
        on the command line).
    use_source_weights : bool
        Honour the ``sourcefile`` weights (``-use_source_weights``): each source counts its weight
        over the mean weight (equal weights: the unweighted image bit for bit). Off: ignored, as the C.
    spectrum_file : str or None
        Spectrum file (``-spectrum``): header ``energy_eV weight`` or ``wavelength_A weight``, then
        one line per wavelength (docs/spectra.md).
    spectrum_bins : int or None
        Group the spectrum file's lines into this many equal bins of its column (``-spectrum_bins``),
        each a wavelength at the bin's weighted mean with its total weight; None: every line.
    sase_bandwidth_percent : float or None
        Seeded SASE-like spectrum around the wavelength (``-sase_bandwidth``): FWHM of the envelope,
        percent of the energy.
    sase_spike_width_percent : float or None
        FWHM of its spikes, percent (``-sase_spike_width``; None: bandwidth / 10).
    sase_samples : int
        Energies of the SASE spectrum (``-sase_samples``).
    sase_seed : int
        Seed of the SASE spikes (``-sase_seed``; a dataset adds the frame index).
    two_colour : (eV, eV, weight) or None
        Two-colour beam (``-two_colour``): two energies, the second's weight relative to the first.
    """

    wavelength_A: float = 1.0
    dispersion_percent: float = 0.0
    hdivrange_mrad: Optional[float] = None
    hdivstep_mrad: Optional[float] = None
    vdivrange_mrad: Optional[float] = None
    vdivstep_mrad: Optional[float] = None
    round_div: bool = True
    fluence_per_m2: float = _DEFAULTS.fluence
    flux_per_s: float = 0.0
    exposure_s: float = 1.0
    beamsize_mm: float = 0.1
    polarization: float = 0.0
    nopolar: bool = False
    dmin_A: float = 0.0
    beam_vector: Vec3 = (1.0, 0.0, 0.0)
    polar_vector: Vec3 = (0.0, 0.0, 1.0)
    use_source_weights: bool = False
    spectrum_file: Optional[str] = None
    spectrum_bins: Optional[int] = None
    sase_bandwidth_percent: Optional[float] = None
    sase_spike_width_percent: Optional[float] = None
    sase_samples: int = 100
    sase_seed: int = 1
    two_colour: Optional[Vec3] = None

    def __post_init__(self):
        _validate(self, "beam")


@dataclass(frozen=True)
class CrystalConfig:
    """The crystal: cell, orientation, size, spot shape, mosaicity and rotation.

    Parameters
    ----------
    cell : (a, b, c, alpha, beta, gamma) or None
        Unit cell, Angstrom and degrees (``-cell``).
    matrix_file : str or None
        MOSFLM orientation matrix file (``-mat``); gives cell and orientation.
    orientation : 3x3 or None
        Real-space cell axes a, b, c (rows, Angstrom, lab frame at phi = 0, before mosaic).
        Overrides the orientation from cell and misset; no command-line equivalent.
    misset_deg : (x, y, z), "random" or None
        Misset rotations about x, y, z, degrees, or a random orientation (``-misset``).
    misset_seed : int or None
        Seed of ``misset_deg="random"`` (``-misset_seed``); None uses the clock as the C does.
    n_cells : (Na, Nb, Nc)
        Crystal size in unit cells (``-Na``/``-Nb``/``-Nc``). Default (1, 1, 1).
    size_mm : (x, y, z)
        Crystal size, mm (``-xtal_x`` ...); a nonzero entry overrides that ``n_cells`` entry.
    shape : {"square", "round", "gauss", "tophat"}
        Lattice transform shape (``-square_xtal``, ``-round_xtal``, ``-gauss_xtal``, ``-tophat_spots``).
    fudge : float
        Spot-width fudge factor (``-fudge``).
    mosaic_spread_deg : float or None
        Mosaic spread, degrees (``-mosaic``).
    mosaic_domains : int or None
        Mosaic domains (``-mosaic_domains``).
    mosaic_seed : int
        Seed of the mosaic domain draws (``-mosaic_seed``). Default 12345678, as in the C.
    phi_start_deg : float
        Spindle angle at the start of the exposure, degrees (``-phi``).
    osc_deg : float or None
        Oscillation range, degrees (``-osc``).
    spindle_axis : 3 floats
        Rotation axis (unit vector; ``-spindle_axis`` selects the custom convention on the command line).
    default_F : float
        Structure factor of reflections missing from the table, electrons (``-default_F``).
    water_size_um : float
        Thickness of water in the beam for background, micrometres (``-water``).
    interpolate : bool or None
        Tricubic interpolation of F (``-interpolate``/``-nointerpolate``); None decides from N.
    """

    cell: Optional[Tuple[float, float, float, float, float, float]] = None
    matrix_file: Optional[str] = None
    orientation: Optional[Tuple[Vec3, Vec3, Vec3]] = None
    misset_deg: Union[None, str, Vec3] = None
    misset_seed: Optional[int] = None
    n_cells: Tuple[int, int, int] = (1, 1, 1)
    size_mm: Vec3 = (0.0, 0.0, 0.0)
    shape: str = "square"
    fudge: float = 1.0
    mosaic_spread_deg: Optional[float] = None
    mosaic_domains: Optional[int] = None
    mosaic_seed: int = 12345678
    phi_start_deg: float = 0.0
    osc_deg: Optional[float] = None
    spindle_axis: Vec3 = (0.0, 0.0, 1.0)
    default_F: float = 0.0
    water_size_um: float = 0.0
    interpolate: Optional[bool] = None

    def __post_init__(self):
        _validate(self, "crystal")
        if self.orientation is not None:
            m = np.asarray(self.orientation, dtype=np.float64)
            if m.shape != (3, 3) or not np.all(np.isfinite(m)):
                raise ValueError("CrystalConfig.orientation must be 3x3 finite numbers (rows a, b, c in Angstrom)")
            if abs(np.linalg.det(m)) < 1e-12:
                raise ValueError("CrystalConfig.orientation: the axes a, b, c are degenerate")
            _set(self, "orientation", tuple(tuple(float(x) for x in row) for row in m))


@dataclass(frozen=True)
class SamplingConfig:
    """How finely each axis is sampled (counts and steps); None keeps the C's automatic choice.

    Parameters
    ----------
    oversample : int or None
        Sub-pixels per pixel edge (``-oversample``); None picks it from the crystal size.
    oversample_thick, oversample_polar, oversample_omega : bool
        Evaluate absorption, polarization, solid angle per sub-pixel (``-oversample_thick`` ...).
    phisteps : int or None
        Spindle steps across the oscillation (``-phisteps``).
    phistep_deg : float or None
        Spindle step, degrees (``-phistep``).
    dispsteps : int or None
        Wavelength steps across the dispersion (``-dispsteps``).
    hdivsteps, vdivsteps : int or None
        Divergence steps (``-hdivsteps``/``-vdivsteps``).
    """

    oversample: Optional[int] = None
    oversample_thick: bool = False
    oversample_polar: bool = False
    oversample_omega: bool = False
    phisteps: Optional[int] = None
    phistep_deg: Optional[float] = None
    dispsteps: Optional[int] = None
    hdivsteps: Optional[int] = None
    vdivsteps: Optional[int] = None

    def __post_init__(self):
        _validate(self, "sampling")


@dataclass(frozen=True)
class SimulationConfig:
    """One run: the four groups plus input files and seeds.

    Parameters
    ----------
    detector, beam, crystal, sampling : the group configs
    hkl_file : str or None
        Structure factors: ``h k l F`` text (``-hkl``), or an MTZ / mmCIF file when gemmi is
        installed (expanded to P1 with Friedel mates; see :mod:`nanobragg_ext.structure_factors`).
    mtz_column : str or None
        Amplitude column of an MTZ/mmCIF ``hkl_file`` (``-mtz_column``); None takes the first F column.
    structure_factors : io.FTable or None
        An in-memory table (e.g. from :func:`structure_factors.from_arrays`); overrides ``hkl_file``.
    dump_file : str or None
        Fdump cache read when there is no other table and the file exists (``-dump``; default
        "Fdump.bin" in the working folder, as nanoBragg). The API never writes it (the CLI does).
    sourcefile : str or None
        Explicit sources (``-sourcefile``).
    mask_file : str or None
        SMV mask; pixels that are 0 are not rendered (``-mask``). Only its pixels are used here;
        take geometry from a header with :meth:`from_smv_header`.
    noise_seed : int or None
        Seed of the Poisson noise image (``-seed``); None uses the clock as the C does.
    adc : float
        ADC offset added to integer images, counts (``-adc``).
    precision : {"double", "single"}
        Arithmetic of the renderer (``-precision``).
    corrected : bool
        Corrected physics (``-corrected``): no stale orientation at phi = 0 (Q1) and an exactly
        dual triclinic cell from ``-cell`` (Q31); off keeps parity with the C.
    exact_math : bool
        libm arithmetic in the C's order for bit-identical float images (``-exact_math``).
    """

    detector: DetectorConfig = field(default_factory=DetectorConfig)
    beam: BeamConfig = field(default_factory=BeamConfig)
    crystal: CrystalConfig = field(default_factory=CrystalConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    hkl_file: Optional[str] = None
    mtz_column: Optional[str] = None
    structure_factors: Any = field(default=None, compare=False, repr=False)
    dump_file: Optional[str] = "Fdump.bin"
    sourcefile: Optional[str] = None
    mask_file: Optional[str] = None
    noise_seed: Optional[int] = None
    adc: float = 40.0
    precision: str = "double"
    corrected: bool = False
    exact_math: bool = False

    def __post_init__(self):
        for name, cls in (("detector", DetectorConfig), ("beam", BeamConfig), ("crystal", CrystalConfig),
                          ("sampling", SamplingConfig)):
            if not isinstance(getattr(self, name), cls):
                raise ValueError(f"SimulationConfig.{name} must be a {cls.__name__}, got {type(getattr(self, name)).__name__}")
        _validate(self, "run")
        check_options(self._request_without_files().options)  # as the command line: geometry, wavelengths

    # -- convenience ---------------------------------------------------------------------------

    def replace(self, **changes) -> "SimulationConfig":
        """A copy with some fields changed; group fields may be given as dicts of their own changes.

        >>> cfg = SimulationConfig().replace(beam={"wavelength_A": 1.5})
        >>> cfg.beam.wavelength_A
        1.5
        """
        for name in ("detector", "beam", "crystal", "sampling"):
            if isinstance(changes.get(name), dict):
                changes[name] = dataclasses.replace(getattr(self, name), **changes[name])
        return dataclasses.replace(self, **changes)

    # -- to native -----------------------------------------------------------------------------

    def to_options(self):
        """The native ``_core.Options`` (metres, radians and the C's sentinels) for this config."""
        return self._request_without_files().options

    def to_request(self) -> Request:
        """The :class:`options.Request` the CLI would build: native Options plus input files.

        The mask file's pixels are read here (its header geometry is not applied: the config
        already holds the resolved geometry).
        """
        req = self._request_without_files()
        if self.mask_file is not None:
            from .io import read_smv
            req.mask_image = read_smv(self.mask_file)
        return req

    # -- command line --------------------------------------------------------------------------

    @classmethod
    def from_cli_args(cls, argv: Sequence[str]) -> "SimulationConfig":
        """Parse nanoBragg arguments with :func:`options.parse_args` and convert to typed fields.

        Raises :class:`options.OptionError` for bad arguments, as the CLI does.
        """
        return cls.from_request(parse_args(list(argv)))

    @classmethod
    def from_request(cls, req: Request) -> "SimulationConfig":
        """Typed config from a parsed :class:`options.Request` (the inverse of :meth:`to_request`)."""
        values: Dict[str, Dict[str, Any]] = {g: {} for g in _CLASS_NAMES}
        for f in FIELDS:
            values[f.group][f.name] = _from_native(f, req)
        groups = {"detector": DetectorConfig, "beam": BeamConfig, "crystal": CrystalConfig, "sampling": SamplingConfig}
        return cls(**{g: c(**values[g]) for g, c in groups.items()}, **values["run"])

    def to_cli_args(self) -> List[str]:
        """nanoBragg arguments that :func:`options.parse_args` turns into the same native Options.

        The fields are stated in the option table's order, chosen for the C's side effects (see
        :data:`option_table.FIELDS`); with a mask, whose header sets the geometry, the geometry
        is restated in full.

        Raises ValueError for settings with no command-line form (``crystal.orientation``,
        ``structure_factors``).
        """
        if self.crystal.orientation is not None:
            raise ValueError("crystal.orientation has no nanoBragg option; write a MOSFLM matrix file and "
                             "set crystal.matrix_file instead")
        if self.structure_factors is not None:
            raise ValueError("structure_factors (an in-memory table) has no nanoBragg option; "
                             "write it as an HKL file and set hkl_file")
        args: List[str] = []
        _emit(self, args, header=self.mask_file is not None)
        return args

    # -- SMV headers ---------------------------------------------------------------------------

    @classmethod
    def from_smv_header(cls, path: str, base: Optional["SimulationConfig"] = None,
                        as_mask: bool = False) -> "SimulationConfig":
        """Take detector geometry, wavelength and phi from an SMV image header, as ``-img`` does.

        Parameters
        ----------
        path : str
            SMV (ADSC) image whose header gives SIZE1/SIZE2, PIXEL_SIZE, DISTANCE,
            CLOSE_DISTANCE, WAVELENGTH, BEAM_CENTER_X/Y, ORGX/ORGY, PHI and OSC_RANGE.
        base : SimulationConfig, optional
            Settings the header does not give (crystal, structure factors, ...); default: defaults.
        as_mask : bool
            Use the image as ``-mask`` does: BEAM_CENTER_Y measured from the other edge (Q20),
            and its zero pixels are skipped when rendering.
        """
        from .io import read_smv

        base = cls() if base is None else base
        image = read_smv(path)
        req = base._request_without_files()
        apply_smv_header(req.options, image, flip_y=as_mask)
        if as_mask:
            req.mask = path
        new = cls.from_request(req)
        keep = {"structure_factors": base.structure_factors, "dump_file": base.dump_file,
                "noise_seed": base.noise_seed}
        if base.crystal.orientation is not None:
            keep["crystal"] = dataclasses.replace(new.crystal, orientation=base.crystal.orientation,
                                                  cell=base.crystal.cell)
        return dataclasses.replace(new, **keep)

    def _request_without_files(self) -> Request:
        """The Request of this config (Options and file names), without reading any file."""
        req = Request()
        _fill_native(self, req)
        if self.noise_seed is None:
            req.seed = -int(time.time())  # the C's default: the clock
        return req


def _cell_of(axes: np.ndarray) -> Tuple[float, ...]:
    """(a, b, c, alpha, beta, gamma) in Angstrom and degrees of real-space axes (rows)."""
    a, b, c = axes
    la, lb, lc = (float(np.linalg.norm(v)) for v in (a, b, c))
    ang = lambda u, v, lu, lv: float(np.degrees(np.arccos(np.clip(np.dot(u, v) / lu / lv, -1, 1))))  # noqa: E731
    return (la, lb, lc, ang(b, c, lb, lc), ang(a, c, la, lc), ang(a, b, la, lb))
