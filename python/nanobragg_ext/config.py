"""Typed, validated run settings in user units: the Python face of nanoBragg's options.

Four frozen dataclasses describe a run, :class:`DetectorConfig`, :class:`BeamConfig`,
:class:`CrystalConfig` and :class:`SamplingConfig`, and :class:`SimulationConfig` holds them with
the input files. Field names carry their units (``distance_mm``, ``wavelength_A``, ``phi_start_deg``);
``None`` means "not given", so the C's defaulting rules apply. The command-line parser
(:mod:`nanobragg_ext.options`) stays the source of truth: :meth:`SimulationConfig.from_cli_args`
goes through it, and :meth:`SimulationConfig.to_cli_args` produces arguments that parse back to
the same native ``Options``.

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
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from .options import RTD, Request, apply_smv_header, deg, mm, parse_args

__all__ = ["DetectorConfig", "BeamConfig", "CrystalConfig", "SamplingConfig", "SimulationConfig",
           "options_equal", "options_to_dict", "copy_options"]

Vec3 = Tuple[float, float, float]

_CONVENTIONS = {"custom": _core.Convention.CUSTOM, "adxv": _core.Convention.ADXV,
                "mosflm": _core.Convention.MOSFLM, "xds": _core.Convention.XDS,
                "dials": _core.Convention.DIALS, "denzo": _core.Convention.DENZO}
_PIVOTS = {"beam": _core.Pivot.BEAM, "sample": _core.Pivot.SAMPLE}
_SHAPES = {"square": 0, "round": 1, "gauss": 2, "tophat": 3}
_SHAPE_FLAGS = {0: "-square_xtal", 1: "-round_xtal", 2: "-gauss_xtal", 3: "-tophat_spots"}
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
    if isinstance(a, tuple):
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


def _invert(value: float, forward, guess: float) -> float:
    """The user-unit number x nearest guess with forward(x) == value exactly (within 64 ulps).

    Unit conversions are divisions in the C (x / 1000, x / RTD); value * 1000 does not always
    divide back to the same double, and round trips must be bit-exact.
    """
    if not math.isfinite(guess):
        return guess
    # Several doubles may convert to value; prefer the one with the shortest text (what a user
    # typed, e.g. 120.01 rather than 120.01000000000002), then the one nearest guess.
    hits = [guess] if forward(guess) == value else []
    up = down = guess
    for _ in range(64):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
        hits += [x for x in (up, down) if forward(x) == value]
    if not hits:
        return guess
    return min(hits, key=lambda x: (len(repr(x)), abs(x - guess)))


def _from_mm(v: float) -> float:
    return _invert(v, mm, v * 1000.0)


def _from_rad(v: float) -> float:
    return _invert(v, deg, v * RTD)


def _opt_unset(v: float, conv) -> Optional[float]:
    """NaN or negative sentinel -> None, else the inverse conversion."""
    if math.isnan(v) or v < 0:
        return None
    return conv(v)


def _num(x: float) -> str:
    """A float as text that float() reads back to the same double."""
    x = float(x)
    return repr(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _vec(name: str, v) -> Vec3:
    try:
        t = tuple(float(x) for x in v)
    except TypeError:
        raise ValueError(f"{name}: expected 3 numbers, got {v!r}") from None
    if len(t) != 3 or not all(math.isfinite(x) for x in t):
        raise ValueError(f"{name}: expected 3 finite numbers, got {v!r}")
    return t


def _set(obj, name, value) -> None:
    object.__setattr__(obj, name, value)


def _positive(name: str, v, allow_none: bool = False) -> None:
    if v is None and allow_none:
        return
    if v is None or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive number, got {v!r}")


def _nonneg(name: str, v, allow_none: bool = False) -> None:
    if v is None and allow_none:
        return
    if v is None or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a non-negative number, got {v!r}")


def _finite(name: str, v, allow_none: bool = False) -> None:
    if v is None and allow_none:
        return
    if v is None or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v!r}")


def _count(name: str, v, allow_none: bool = True, minimum: int = 1) -> None:
    if v is None and allow_none:
        return
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}")


def _choice(name: str, v, choices) -> None:
    if v not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {v!r}")


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
        _count("DetectorConfig.fpixels", self.fpixels)
        _count("DetectorConfig.spixels", self.spixels)
        _positive("DetectorConfig.pixel_size_mm", self.pixel_size_mm)
        _positive("DetectorConfig.detsize_f_mm", self.detsize_f_mm)
        _positive("DetectorConfig.detsize_s_mm", self.detsize_s_mm)
        _positive("DetectorConfig.distance_mm", self.distance_mm)
        _positive("DetectorConfig.close_distance_mm", self.close_distance_mm, allow_none=True)
        for n in ("beam_center_x_mm", "beam_center_y_mm", "xclose_mm", "yclose_mm", "orgx_px", "orgy_px"):
            _finite(f"DetectorConfig.{n}", getattr(self, n), allow_none=True)
        for n in ("rotx_deg", "roty_deg", "rotz_deg", "twotheta_deg"):
            _finite(f"DetectorConfig.{n}", getattr(self, n))
        _choice("DetectorConfig.pivot", self.pivot, _PIVOTS)
        _choice("DetectorConfig.convention", self.convention, _CONVENTIONS)
        for n in ("fdet_vector", "sdet_vector", "odet_vector", "twotheta_axis"):
            _set(self, n, _vec(f"DetectorConfig.{n}", getattr(self, n)))
        if self.roi is not None:
            roi = tuple(self.roi)
            if len(roi) != 4 or not all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in roi):
                raise ValueError(f"DetectorConfig.roi must be 4 integers (xmin, xmax, ymin, ymax), got {self.roi!r}")
            _set(self, "roi", tuple(int(x) for x in roi))
        _nonneg("DetectorConfig.thickness_um", self.thickness_um)
        if self.absorption_length_um is not None and not (
                isinstance(self.absorption_length_um, (int, float)) and self.absorption_length_um > 0):
            raise ValueError(f"DetectorConfig.absorption_length_um must be positive (or math.inf), "
                             f"got {self.absorption_length_um!r}")
        _count("DetectorConfig.thicksteps", self.thicksteps)

    @property
    def shape(self) -> Tuple[int, int]:
        """(slow, fast) image shape, the pixel counts or detector size / pixel size as the C rounds it."""
        f = self.fpixels if self.fpixels is not None else int(math.ceil(mm(self.detsize_f_mm) / mm(self.pixel_size_mm) - 0.5))
        s = self.spixels if self.spixels is not None else int(math.ceil(mm(self.detsize_s_mm) / mm(self.pixel_size_mm) - 0.5))
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
        Kahn polarization factor, 0..1 (``-polar``).
    nopolar : bool
        Switch the polarization correction off (``-nopolar``).
    dmin_A : float
        Skip scattering beyond this resolution, Angstrom (``-dmin``); 0 keeps all.
    beam_vector, polar_vector : 3 floats
        Beam direction and E-vector (unit vectors; setting either selects the custom convention
        on the command line).
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

    def __post_init__(self):
        _positive("BeamConfig.wavelength_A", self.wavelength_A)
        _nonneg("BeamConfig.dispersion_percent", self.dispersion_percent)
        for n in ("hdivrange_mrad", "hdivstep_mrad", "vdivrange_mrad", "vdivstep_mrad"):
            _nonneg(f"BeamConfig.{n}", getattr(self, n), allow_none=True)
        _nonneg("BeamConfig.fluence_per_m2", self.fluence_per_m2)
        _nonneg("BeamConfig.flux_per_s", self.flux_per_s)
        _finite("BeamConfig.exposure_s", self.exposure_s)
        _finite("BeamConfig.beamsize_mm", self.beamsize_mm)
        _finite("BeamConfig.polarization", self.polarization)
        _nonneg("BeamConfig.dmin_A", self.dmin_A)
        for n in ("beam_vector", "polar_vector"):
            _set(self, n, _vec(f"BeamConfig.{n}", getattr(self, n)))


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
        if self.cell is not None:
            try:
                cell = tuple(float(x) for x in self.cell)
            except TypeError:
                raise ValueError(f"CrystalConfig.cell: expected 6 numbers, got {self.cell!r}") from None
            if len(cell) != 6:
                raise ValueError(f"CrystalConfig.cell: expected 6 numbers (a b c alpha beta gamma), got {len(cell)}")
            # Same as nanoBragg.c: b and c of 0 mean "equal to a", angles of 0 mean 90 degrees.
            _positive("CrystalConfig.cell a", cell[0])
            for i, name in enumerate(("b", "c"), 1):
                _nonneg(f"CrystalConfig.cell {name}", cell[i])
            for i, name in enumerate(("alpha", "beta", "gamma"), 3):
                if not (0 <= cell[i] < 180):
                    raise ValueError(f"CrystalConfig.cell {name} must be between 0 and 180 degrees, got {cell[i]!r}")
            _set(self, "cell", cell)
        if self.orientation is not None:
            m = np.asarray(self.orientation, dtype=np.float64)
            if m.shape != (3, 3) or not np.all(np.isfinite(m)):
                raise ValueError(f"CrystalConfig.orientation must be 3x3 finite numbers (rows a, b, c in Angstrom)")
            if abs(np.linalg.det(m)) < 1e-12:
                raise ValueError("CrystalConfig.orientation: the axes a, b, c are degenerate")
            _set(self, "orientation", tuple(tuple(float(x) for x in row) for row in m))
        if self.misset_deg is not None and self.misset_deg != "random":
            _set(self, "misset_deg", _vec("CrystalConfig.misset_deg", self.misset_deg))
        if self.misset_seed is not None and (isinstance(self.misset_seed, bool)
                                             or not isinstance(self.misset_seed, (int, np.integer))):
            raise ValueError(f"CrystalConfig.misset_seed must be an integer, got {self.misset_seed!r}")
        n = tuple(self.n_cells)
        if len(n) != 3 or not all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= 0 for x in n):
            raise ValueError(f"CrystalConfig.n_cells must be 3 non-negative integers, got {self.n_cells!r}")
        _set(self, "n_cells", tuple(int(x) for x in n))
        size = _vec("CrystalConfig.size_mm", self.size_mm)
        if min(size) < 0:
            raise ValueError(f"CrystalConfig.size_mm must be non-negative, got {self.size_mm!r}")
        _set(self, "size_mm", size)
        _choice("CrystalConfig.shape", self.shape, _SHAPES)
        _finite("CrystalConfig.fudge", self.fudge)
        _nonneg("CrystalConfig.mosaic_spread_deg", self.mosaic_spread_deg, allow_none=True)
        _count("CrystalConfig.mosaic_domains", self.mosaic_domains)
        if isinstance(self.mosaic_seed, bool) or not isinstance(self.mosaic_seed, (int, np.integer)):
            raise ValueError(f"CrystalConfig.mosaic_seed must be an integer, got {self.mosaic_seed!r}")
        _finite("CrystalConfig.phi_start_deg", self.phi_start_deg)
        _nonneg("CrystalConfig.osc_deg", self.osc_deg, allow_none=True)
        _set(self, "spindle_axis", _vec("CrystalConfig.spindle_axis", self.spindle_axis))
        _nonneg("CrystalConfig.default_F", self.default_F)
        _nonneg("CrystalConfig.water_size_um", self.water_size_um)


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
        _count("SamplingConfig.oversample", self.oversample)
        _count("SamplingConfig.phisteps", self.phisteps, minimum=0)
        _nonneg("SamplingConfig.phistep_deg", self.phistep_deg, allow_none=True)
        for n in ("dispsteps", "hdivsteps", "vdivsteps"):
            _count(f"SamplingConfig.{n}", getattr(self, n), minimum=0)


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
        _choice("SimulationConfig.precision", self.precision, ("double", "single"))
        _finite("SimulationConfig.adc", self.adc)
        if self.noise_seed is not None and (isinstance(self.noise_seed, bool)
                                            or not isinstance(self.noise_seed, (int, np.integer))):
            raise ValueError(f"SimulationConfig.noise_seed must be an integer, got {self.noise_seed!r}")

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
        o = _core.Options()
        d, b, c, s = self.detector, self.beam, self.crystal, self.sampling
        o.fpixels = 0 if d.fpixels is None else int(d.fpixels)
        o.spixels = 0 if d.spixels is None else int(d.spixels)
        o.pixel_size = mm(float(d.pixel_size_mm))
        o.detsize_f = mm(float(d.detsize_f_mm))
        o.detsize_s = mm(float(d.detsize_s_mm))
        o.distance = mm(float(d.distance_mm))
        nan = math.nan
        o.close_distance = nan if d.close_distance_mm is None else mm(float(d.close_distance_mm))
        o.Xbeam = nan if d.beam_center_x_mm is None else mm(float(d.beam_center_x_mm))
        o.Ybeam = nan if d.beam_center_y_mm is None else mm(float(d.beam_center_y_mm))
        o.Xclose = nan if d.xclose_mm is None else mm(float(d.xclose_mm))
        o.Yclose = nan if d.yclose_mm is None else mm(float(d.yclose_mm))
        o.ORGX = nan if d.orgx_px is None else float(d.orgx_px)
        o.ORGY = nan if d.orgy_px is None else float(d.orgy_px)
        o.pivot = _PIVOTS[d.pivot]
        o.convention = _CONVENTIONS[d.convention]
        o.fdet, o.sdet, o.odet = d.fdet_vector, d.sdet_vector, d.odet_vector
        o.twotheta_axis = d.twotheta_axis
        o.detector_rotx, o.detector_roty, o.detector_rotz = deg(float(d.rotx_deg)), deg(float(d.roty_deg)), deg(float(d.rotz_deg))
        o.twotheta = deg(float(d.twotheta_deg))
        o.curved_detector, o.point_pixel = bool(d.curved), bool(d.point_pixel)
        if d.roi is not None:
            o.roi_xmin, o.roi_xmax, o.roi_ymin, o.roi_ymax = d.roi
        o.detector_thick = float(d.thickness_um) * 1e-6
        if d.absorption_length_um is None:
            o.detector_mu = -1.0
        elif math.isinf(d.absorption_length_um):
            o.detector_mu = 0.0
            o.detector_thick = 0.0  # same as nanoBragg.c: -detector_abs inf also zeroes the thickness
        else:
            o.detector_mu = 1.0 / (float(d.absorption_length_um) * 1e-6)
        o.detector_thicksteps = -1 if d.thicksteps is None else int(d.thicksteps)

        o.lambda0 = float(b.wavelength_A) / 1.0e10
        o.dispersion = float(b.dispersion_percent) / 100.0
        o.hdivrange = -1.0 if b.hdivrange_mrad is None else mm(float(b.hdivrange_mrad))
        o.hdivstep = -1.0 if b.hdivstep_mrad is None else mm(float(b.hdivstep_mrad))
        o.vdivrange = -1.0 if b.vdivrange_mrad is None else mm(float(b.vdivrange_mrad))
        o.vdivstep = -1.0 if b.vdivstep_mrad is None else mm(float(b.vdivstep_mrad))
        o.round_div = bool(b.round_div)
        o.fluence, o.flux, o.exposure = float(b.fluence_per_m2), float(b.flux_per_s), float(b.exposure_s)
        o.beamsize = float(b.beamsize_mm) / 1000
        o.polarization, o.nopolar = float(b.polarization), bool(b.nopolar)
        o.dmin = float(b.dmin_A) * 1e-10
        o.beam, o.polar = b.beam_vector, b.polar_vector

        cell = c.cell
        if cell is None and c.orientation is not None:
            cell = _cell_of(np.asarray(c.orientation))
        if cell is not None:
            o.user_cell = True
            o.cell = tuple(float(x) if i < 3 else deg(float(x)) for i, x in enumerate(cell))
        if c.misset_deg == "random":
            o.misset_mode = -1
        elif c.misset_deg is not None:
            o.misset_mode = 1
            o.misset = tuple(deg(float(x)) for x in c.misset_deg)
        seed = c.misset_seed if c.misset_seed is not None else int(time.time())
        o.misset_seed = -int(seed)
        o.Na, o.Nb, o.Nc = (float(x) for x in c.n_cells)
        o.sample_x, o.sample_y, o.sample_z = (float(x) / 1000 for x in c.size_mm)
        o.shape = _SHAPES[c.shape]
        o.fudge = float(c.fudge)
        o.mosaic_spread = -1.0 if c.mosaic_spread_deg is None else deg(float(c.mosaic_spread_deg))
        o.mosaic_domains = -1 if c.mosaic_domains is None else int(c.mosaic_domains)
        o.mosaic_seed = -int(c.mosaic_seed)
        o.phi0 = deg(float(c.phi_start_deg))
        o.osc = -1.0 if c.osc_deg is None else deg(float(c.osc_deg))
        o.spindle = c.spindle_axis
        o.default_F = float(c.default_F)
        o.water_size = float(c.water_size_um) / 1e6
        o.interpolate = 2 if c.interpolate is None else int(bool(c.interpolate))

        o.oversample = -1 if s.oversample is None else int(s.oversample)
        o.oversample_thick, o.oversample_polar, o.oversample_omega = (
            bool(s.oversample_thick), bool(s.oversample_polar), bool(s.oversample_omega))
        o.phisteps = -1 if s.phisteps is None else int(s.phisteps)
        o.phistep = -1.0 if s.phistep_deg is None else deg(float(s.phistep_deg))
        o.dispsteps = -1 if s.dispsteps is None else int(s.dispsteps)
        o.hdivsteps = -1 if s.hdivsteps is None else int(s.hdivsteps)
        o.vdivsteps = -1 if s.vdivsteps is None else int(s.vdivsteps)
        o.corrected = bool(self.corrected)
        o.exact_math = bool(self.exact_math)
        return o

    def to_request(self) -> Request:
        """The :class:`options.Request` the CLI would build: native Options plus input files.

        The mask file's pixels are read here (its header geometry is not applied: the config
        already holds the resolved geometry).
        """
        req = Request(options=self.to_options())
        req.hkl = self.hkl_file
        req.mtz_column = self.mtz_column
        req.mat = self.crystal.matrix_file
        if self.dump_file is not None:
            req.dump = self.dump_file
        req.sourcefile = self.sourcefile
        req.mask = self.mask_file
        if self.mask_file is not None:
            from .io import read_smv
            req.mask_image = read_smv(self.mask_file)
        req.seed = -(self.noise_seed if self.noise_seed is not None else int(time.time()))
        req.adc = float(self.adc)
        req.precision = self.precision
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
        o = req.options
        nan_none = lambda v, conv=_from_mm: None if math.isnan(v) else conv(v)  # noqa: E731
        if o.detector_mu < 0:
            absorption = None
        elif o.detector_mu == 0:
            absorption = math.inf
        else:
            absorption = _invert(o.detector_mu, lambda x: 1.0 / (x * 1e-6), 1.0 / o.detector_mu / 1e-6)
        roi = (o.roi_xmin, o.roi_xmax, o.roi_ymin, o.roi_ymax)
        det = DetectorConfig(
            fpixels=o.fpixels or None, spixels=o.spixels or None,
            pixel_size_mm=_from_mm(o.pixel_size), detsize_f_mm=_from_mm(o.detsize_f),
            detsize_s_mm=_from_mm(o.detsize_s), distance_mm=_from_mm(o.distance),
            close_distance_mm=nan_none(o.close_distance), beam_center_x_mm=nan_none(o.Xbeam),
            beam_center_y_mm=nan_none(o.Ybeam), xclose_mm=nan_none(o.Xclose), yclose_mm=nan_none(o.Yclose),
            orgx_px=nan_none(o.ORGX, float), orgy_px=nan_none(o.ORGY, float),
            pivot={v: k for k, v in _PIVOTS.items()}[o.pivot],
            convention={v: k for k, v in _CONVENTIONS.items()}[o.convention],
            fdet_vector=tuple(o.fdet), sdet_vector=tuple(o.sdet), odet_vector=tuple(o.odet),
            twotheta_axis=tuple(o.twotheta_axis),
            rotx_deg=_from_rad(o.detector_rotx), roty_deg=_from_rad(o.detector_roty),
            rotz_deg=_from_rad(o.detector_rotz), twotheta_deg=_from_rad(o.twotheta),
            curved=o.curved_detector, point_pixel=o.point_pixel,
            roi=None if roi == (-1, -1, -1, -1) else roi,
            thickness_um=_invert(o.detector_thick, lambda x: x * 1e-6, o.detector_thick / 1e-6),
            absorption_length_um=absorption,
            thicksteps=None if o.detector_thicksteps < 0 else o.detector_thicksteps)
        beam = BeamConfig(
            wavelength_A=_invert(o.lambda0, lambda x: x / 1.0e10, o.lambda0 * 1e10),
            dispersion_percent=_invert(o.dispersion, lambda x: x / 100.0, o.dispersion * 100),
            hdivrange_mrad=_opt_unset(o.hdivrange, _from_mm), hdivstep_mrad=_opt_unset(o.hdivstep, _from_mm),
            vdivrange_mrad=_opt_unset(o.vdivrange, _from_mm), vdivstep_mrad=_opt_unset(o.vdivstep, _from_mm),
            round_div=o.round_div, fluence_per_m2=o.fluence, flux_per_s=o.flux, exposure_s=o.exposure,
            beamsize_mm=_invert(o.beamsize, lambda x: x / 1000, o.beamsize * 1000),
            polarization=o.polarization, nopolar=o.nopolar,
            dmin_A=_invert(o.dmin, lambda x: x * 1e-10, o.dmin / 1e-10),
            beam_vector=tuple(o.beam), polar_vector=tuple(o.polar))
        cell = None
        if o.user_cell:
            cell = tuple(v if i < 3 else _from_rad(v) for i, v in enumerate(o.cell))
        misset = None
        if o.misset_mode < 0:
            misset = "random"
        elif o.misset_mode > 0:
            misset = tuple(_from_rad(v) for v in o.misset)
        sample = lambda v: _invert(v, lambda x: x / 1000, v * 1000)  # noqa: E731
        crystal = CrystalConfig(
            cell=cell, matrix_file=req.mat, misset_deg=misset, misset_seed=-o.misset_seed,
            n_cells=(int(o.Na), int(o.Nb), int(o.Nc)),
            size_mm=(sample(o.sample_x), sample(o.sample_y), sample(o.sample_z)),
            shape={v: k for k, v in _SHAPES.items()}[o.shape], fudge=o.fudge,
            mosaic_spread_deg=_opt_unset(o.mosaic_spread, _from_rad),
            mosaic_domains=None if o.mosaic_domains < 0 else o.mosaic_domains,
            mosaic_seed=-o.mosaic_seed, phi_start_deg=_from_rad(o.phi0),
            osc_deg=_opt_unset(o.osc, _from_rad), spindle_axis=tuple(o.spindle),
            default_F=o.default_F,
            water_size_um=_invert(o.water_size, lambda x: x / 1e6, o.water_size * 1e6),
            interpolate=None if o.interpolate > 1 else bool(o.interpolate))
        sampling = SamplingConfig(
            oversample=None if o.oversample <= 0 else o.oversample,
            oversample_thick=o.oversample_thick, oversample_polar=o.oversample_polar,
            oversample_omega=o.oversample_omega,
            phisteps=None if o.phisteps < 0 else o.phisteps,
            phistep_deg=_opt_unset(o.phistep, _from_rad),
            dispsteps=None if o.dispsteps < 0 else o.dispsteps,
            hdivsteps=None if o.hdivsteps < 0 else o.hdivsteps,
            vdivsteps=None if o.vdivsteps < 0 else o.vdivsteps)
        return cls(detector=det, beam=beam, crystal=crystal, sampling=sampling, hkl_file=req.hkl,
                   mtz_column=req.mtz_column, dump_file=req.dump,
                   sourcefile=req.sourcefile, mask_file=req.mask, noise_seed=-req.seed, adc=req.adc,
                   precision=req.precision, corrected=o.corrected,
                   exact_math=bool(o.exact_math))

    def to_cli_args(self) -> List[str]:
        """nanoBragg arguments that :func:`options.parse_args` turns into the same native Options.

        The order matters and is chosen for the C's side effects: vectors (which select the
        custom convention) before the convention flag, ``-twotheta_axis`` (which also reads a
        two-theta angle) before ``-twotheta``, ``-detector_abs`` (which may zero the thickness)
        before ``-detector_thick``, ``-pivot`` after everything that sets a pivot, and
        ``-misset_seed`` last (followed by three tokens it would also read misset angles, Q13).

        Raises ValueError for settings with no command-line form (``crystal.orientation``,
        ``structure_factors``).
        """
        if self.crystal.orientation is not None:
            raise ValueError("crystal.orientation has no nanoBragg option; write a MOSFLM matrix file and "
                             "set crystal.matrix_file instead")
        if self.structure_factors is not None:
            raise ValueError("structure_factors (an in-memory table) has no nanoBragg option; "
                             "write it as an HKL file and set hkl_file")
        d, b, c, s = self.detector, self.beam, self.crystal, self.sampling
        D = _DEFAULTS
        o = self.to_options()
        args: List[str] = []
        add = lambda flag, *vals: args.extend([flag, *(_num(v) for v in vals)])  # noqa: E731
        header = self.mask_file is not None  # the mask's header sets geometry: restate all of it
        if self.mask_file is not None:
            args += ["-mask", self.mask_file]
        # inputs
        if c.cell is not None or c.orientation is not None:
            add("-cell", *c.cell)
        if c.matrix_file is not None:
            args += ["-mat", c.matrix_file]
        if self.hkl_file is not None:
            args += ["-hkl", self.hkl_file]
        if self.mtz_column is not None:
            args += ["-mtz_column", self.mtz_column]
        if self.dump_file is not None and self.dump_file != "Fdump.bin":
            args += ["-dump", self.dump_file]
        if self.sourcefile is not None:
            args += ["-sourcefile", self.sourcefile]
        if c.default_F != 0.0:
            add("-default_F", c.default_F)
        # crystal
        add("-Na", c.n_cells[0]), add("-Nb", c.n_cells[1]), add("-Nc", c.n_cells[2])
        if c.misset_deg == "random":
            args += ["-misset", "random"]
        elif c.misset_deg is not None:
            add("-misset", *c.misset_deg)
        for axis, v in zip("xyz", c.size_mm):
            if v != 0.0:
                add(f"-sample_{axis}", v)
        if c.shape != "square":
            args.append(_SHAPE_FLAGS[_SHAPES[c.shape]])
        if c.fudge != 1.0:
            add("-fudge", c.fudge)
        if c.mosaic_spread_deg is not None:
            add("-mosaic_spread", c.mosaic_spread_deg)
        if c.mosaic_domains is not None:
            add("-mosaic_domains", c.mosaic_domains)
        if o.mosaic_seed != D.mosaic_seed:
            add("-mosaic_seed", c.mosaic_seed)
        if o.phi0 != D.phi0 or header:
            add("-phi", c.phi_start_deg)
        if c.osc_deg is not None:
            add("-osc", c.osc_deg)
        if s.phistep_deg is not None:
            add("-phistep", s.phistep_deg)
        if s.phisteps is not None:
            add("-phisteps", s.phisteps)
        if c.water_size_um != 0.0:
            add("-water", c.water_size_um)
        if c.interpolate is not None:
            args.append("-interpolate" if c.interpolate else "-nointerpolate")
        # beam
        if o.lambda0 != D.lambda0 or header:
            add("-lambda", b.wavelength_A)
        if b.dispersion_percent != 0.0:
            add("-dispersion", b.dispersion_percent)
        for name, v in (("-hdivrange", b.hdivrange_mrad), ("-hdivstep", b.hdivstep_mrad),
                        ("-vdivrange", b.vdivrange_mrad), ("-vdivstep", b.vdivstep_mrad),
                        ("-dispsteps", s.dispsteps), ("-hdivsteps", s.hdivsteps), ("-vdivsteps", s.vdivsteps)):
            if v is not None:
                add(name, v)
        if not b.round_div:
            args.append("-square_div")
        if o.fluence != D.fluence:
            add("-fluence", b.fluence_per_m2)
        if b.flux_per_s != 0.0:
            add("-flux", b.flux_per_s)
        if b.exposure_s != 1.0:
            add("-exposure", b.exposure_s)
        if o.beamsize != D.beamsize:
            add("-beamsize", b.beamsize_mm)
        if b.polarization != 0.0:
            add("-polar", b.polarization)
        if b.nopolar:
            args.append("-nopolar")
        if b.dmin_A != 0.0:
            add("-dmin", b.dmin_A)
        # detector: vectors first (each selects CUSTOM), then the convention, then numbers
        for flag, attr in (("-fdet_vector", "fdet"), ("-sdet_vector", "sdet"), ("-odet_vector", "odet"),
                           ("-beam_vector", "beam"), ("-polar_vector", "polar"), ("-spindle_axis", "spindle"),
                           ("-twotheta_axis", "twotheta_axis")):
            if tuple(getattr(o, attr)) != tuple(getattr(D, attr)):
                add(flag, *_user_vec(self, attr))
        if d.convention == "custom":
            if not any(a in args for a in ("-fdet_vector", "-sdet_vector", "-odet_vector", "-beam_vector",
                                           "-polar_vector", "-spindle_axis", "-twotheta_axis")):
                args += ["-pix0_vector", "0", "0", "0"]  # selects CUSTOM and is otherwise ignored (Q12)
        else:
            args.append("-" + d.convention)
        if d.fpixels is not None:
            add("-detpixels_f", d.fpixels)
        if d.spixels is not None:
            add("-detpixels_s", d.spixels)
        if o.pixel_size != D.pixel_size or header:
            add("-pixel", d.pixel_size_mm)
        if o.detsize_f != D.detsize_f or header:
            add("-detsize_f", d.detsize_f_mm)
        if o.detsize_s != D.detsize_s or header:
            add("-detsize_s", d.detsize_s_mm)
        if o.distance != D.distance or header:
            add("-distance", d.distance_mm)
        for flag, v in (("-close_distance", d.close_distance_mm), ("-Xbeam", d.beam_center_x_mm),
                        ("-Ybeam", d.beam_center_y_mm), ("-Xclose", d.xclose_mm), ("-Yclose", d.yclose_mm),
                        ("-ORGX", d.orgx_px), ("-ORGY", d.orgy_px)):
            if v is not None:
                add(flag, v)
        for flag, v in (("-detector_rotx", d.rotx_deg), ("-detector_roty", d.roty_deg), ("-detector_rotz", d.rotz_deg)):
            if v != 0.0:
                add(flag, v)
        if d.twotheta_deg != 0.0 or "-twotheta_axis" in args:
            add("-twotheta", d.twotheta_deg)
        if d.curved:
            args.append("-curved_det")
        if d.point_pixel:
            args.append("-point_pixel")
        if d.roi is not None:
            add("-roi", *d.roi)
        if d.absorption_length_um is not None:
            args += ["-detector_abs", "inf" if math.isinf(d.absorption_length_um) else _num(d.absorption_length_um)]
        if o.detector_thick != 0.0:
            add("-detector_thick", d.thickness_um)
        if d.thicksteps is not None:
            add("-detector_thicksteps", d.thicksteps)
        # sampling
        if s.oversample is not None:
            add("-oversample", s.oversample)
        for flag, on in (("-oversample_thick", s.oversample_thick), ("-oversample_polar", s.oversample_polar),
                         ("-oversample_omega", s.oversample_omega)):
            if on:
                args.append(flag)
        # run settings
        if self.corrected:
            args.append("-corrected")
        if self.exact_math:
            args.append("-exact_math")
        if self.precision != "double":
            args += ["-precision", self.precision]
        if self.adc != 40.0:
            add("-adc", self.adc)
        if self.noise_seed is not None:
            add("-seed", self.noise_seed)
        args += ["-pivot", d.pivot]
        if c.misset_seed is not None:
            add("-misset_seed", c.misset_seed)
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
        req = Request(options=self.to_options())
        req.hkl, req.mat, req.sourcefile, req.mask = (self.hkl_file, self.crystal.matrix_file,
                                                      self.sourcefile, self.mask_file)
        req.mtz_column = self.mtz_column
        if self.dump_file is not None:
            req.dump = self.dump_file
        req.seed = -(self.noise_seed if self.noise_seed is not None else int(time.time()))
        if self.crystal.misset_seed is None:
            req.options.misset_seed = -int(time.time())
        req.adc, req.precision = self.adc, self.precision
        return req


def _user_vec(cfg: SimulationConfig, attr: str) -> Vec3:
    d, b, c = cfg.detector, cfg.beam, cfg.crystal
    return {"fdet": d.fdet_vector, "sdet": d.sdet_vector, "odet": d.odet_vector, "beam": b.beam_vector,
            "polar": b.polar_vector, "spindle": c.spindle_axis, "twotheta_axis": d.twotheta_axis}[attr]


def _cell_of(axes: np.ndarray) -> Tuple[float, ...]:
    """(a, b, c, alpha, beta, gamma) in Angstrom and degrees of real-space axes (rows)."""
    a, b, c = axes
    la, lb, lc = (float(np.linalg.norm(v)) for v in (a, b, c))
    ang = lambda u, v, lu, lv: float(np.degrees(np.arccos(np.clip(np.dot(u, v) / lu / lv, -1, 1))))  # noqa: E731
    return (la, lb, lc, ang(b, c, lb, lc), ang(a, c, la, lc), ang(a, b, la, lb))
