"""The one table of run settings: every configuration field and every command-line option.

``FIELDS`` lists each setting once: its config group and name, unit, native ``Options`` field,
conversion, default, valid range and help text. ``OPTIONS`` lists the command-line options in
nanoBragg.c's order (the order in which its argv loop tries them, L505-L1116, then our own),
each with its spellings, the C's matching rules, the field(s) it sets and its reference text.
Parsing (options.py), the typed configs and their conversions both ways (config.py) and the
option reference (``-h``, docs/options.md) are all derived from these two lists.

Adding an option: one ``Field`` (where it lives in the configs and in ``Options``), one
``Option`` (its spelling and reference line), the typed attribute of its config class (config.py,
with its docstring line), and its physics (a new native setting: one line in
cpp/include/nanobragg/option_fields.def, which is the ``Options`` member, its comparison and its
Python attribute). Parsing, validation, both conversions, ``to_cli_args``,
``-h`` and docs/options.md follow; tests/python/test_option_table.py checks that every option
maps both ways and that nothing is left out. Cheap to import: no NumPy, dataclasses, typing or re.
"""
from __future__ import annotations

import math

# The C's constant: RTD = 180.0*M_1_PI, with M_1_PI correctly rounded.
RTD = 180.0 * 0.318309886183790671538

GROUPS = ("detector", "beam", "crystal", "sampling", "output", "noise", "performance")


class Unit:
    """A user unit and its conversion to the C's internal unit, written exactly as the C writes it
    (a division is not a multiplication by the reciprocal in floating point; parity is bit-level)."""

    __slots__ = ("name", "to_native", "approx_back")

    def __init__(self, name: str, to_native, approx_back) -> None:
        self.name = name
        self.to_native = to_native
        self.approx_back = approx_back

    def from_native(self, value: float) -> float:
        """The user value that converts to value exactly, preferring the shortest text."""
        return invert(value, self.to_native, self.approx_back(value))


def invert(value: float, forward, guess: float) -> float:
    """The number x nearest guess with forward(x) == value exactly (searching 64 ulps each way).

    value * 1000 does not always divide back to the same double, and round trips are bit-exact.
    Several doubles may convert to value; prefer the one with the shortest text (what a user
    typed, e.g. 120.01 rather than 120.01000000000002), then the one nearest guess.
    """
    if not math.isfinite(guess):
        return guess
    hits = [guess] if forward(guess) == value else []
    up = down = guess
    for _ in range(64):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
        hits += [x for x in (up, down) if forward(x) == value]
    if not hits:
        return guess
    return min(hits, key=lambda x: (len(repr(x)), abs(x - guess)))


MM = Unit("mm", lambda x: x / 1000.0, lambda v: v * 1000.0)
MRAD = Unit("mrad", lambda x: x / 1000.0, lambda v: v * 1000.0)
DEG = Unit("deg", lambda x: x / RTD, lambda v: v * RTD)
ANGSTROM = Unit("A", lambda x: x / 1.0e10, lambda v: v * 1e10)            # -lambda
ANGSTROM_DMIN = Unit("A", lambda x: x * 1e-10, lambda v: v / 1e-10)       # -dmin (the C multiplies)
UM = Unit("um", lambda x: x * 1e-6, lambda v: v / 1e-6)                   # -detector_thick
UM_WATER = Unit("um", lambda x: x / 1e6, lambda v: v * 1e6)               # -water (the C divides)
PERCENT = Unit("%", lambda x: x / 100.0, lambda v: v * 100)
PLAIN = Unit("", lambda x: x, lambda v: v)


class Range:
    """The valid values of a number: lo/hi bounds (None = unbounded), open or closed."""

    __slots__ = ("lo", "hi", "lo_open", "hi_open", "integer")

    def __init__(self, lo=None, hi=None, lo_open: bool = False, hi_open: bool = False, integer: bool = False):
        self.lo, self.hi, self.lo_open, self.hi_open, self.integer = lo, hi, lo_open, hi_open, integer

    def reason(self, x) -> str:
        """Why x is outside the range ('' when it is inside); x is a finite number."""
        low = self.lo is not None and (x < self.lo or (self.lo_open and x == self.lo))
        high = self.hi is not None and (x > self.hi or (self.hi_open and x == self.hi))
        return self.describe() if low or high else ""

    def describe(self) -> str:
        if self.hi is None and ((self.lo == 0 and self.lo_open) or (self.integer and self.lo == 1)):
            return "must be positive"
        if self.lo == 0 and self.lo_open and self.hi is not None:
            return f"must be positive and at most {_g(self.hi)}"
        if self.lo is not None and self.hi is not None:
            return f"must be between {_g(self.lo)} and {_g(self.hi)}"
        if self.lo is not None:
            return f"must be {'>' if self.lo_open else '>='} {_g(self.lo)}"
        if self.hi is not None:
            return f"must be {'<' if self.hi_open else '<='} {_g(self.hi)}"
        return ""


def _g(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


POSITIVE = Range(0, lo_open=True)
NONNEG = Range(0)
ANY = Range()
COUNT = Range(1, integer=True)
PIXEL_COUNT = Range(0, integer=True)  # the C reads 0 pixels as "from the detector size"
SIGNED_COUNT = Range(integer=True)  # the C treats n <= 0 as "not given" (BEHAVIOUR.md 7.2)
KAHN = Range(-1, 1)                 # a polarization factor outside [-1, 1] gives negative photons
# A spread over 1e5 degrees overflows the C's random rotations into NaN images (~1e100 here);
# the bound keeps every spread the C renders.
MOSAIC = Range(0, 1e5)
# Bounds past any experiment, where floating point breaks down: the C's images overflow to
# infinity (fluence, flux, F, water), its set-up overflows (divergence), or its sin() of huge
# arguments leaves our faster lattice arithmetic more than 1e-6 apart (crystal size, wavelength).
DIVERGENCE = Range(0, 1e6)          # mrad
CRYSTAL_MM = Range(0, 10)           # 1 cm per axis
# Gamma rays of 124 MeV to infrared of 0.124 eV (10 um): past both ends of any diffraction
# experiment; far past them (-energy 1e-300: ~1e304 A) the set-up overflows in some runs.
WAVELENGTH = Range(1e-4, 1e5)       # A


class Field:
    """One setting of a run: where it lives in the configs and in the native ``Options``.

    group, name : config class ("detector", "beam", "crystal", "sampling" or "run" for
        SimulationConfig itself) and field name (units in the name: ``distance_mm``).
    kind : "real", "int", "bool", "choice", "vec3", "text", "seed", or a custom kind of config.py
        ("cell", "misset", "roi", "n_cells", "size", "absorption").
    native : the ``Options`` attribute (a tuple of attributes for a tuple split over scalars);
        a name starting with "req." is a field of the parsed ``Request`` instead.
    unit : Unit, conversion from the config's unit to the native one.
    unset : the native sentinel for "not given" (a config value of None), or None if always set.
    default : config default; range : Range of valid values (numbers, or each vector component).
    choices : {config word: native value name} for kind "choice".
    flag : the option that states this field in ``to_cli_args`` (None: a custom emitter); for a
        bool, the flag that gives the value other than the default.
    header : restated by ``to_cli_args`` even when default when a -mask header sets geometry.
    nonzero : a vector that must not have zero length.
    cli_check : False for counts and angles whose values <= 0 (< 0 for the angles) the C takes
        as "not given" or one cell (BEHAVIOUR.md 6.3, 7.2): the command line accepts those as the
        C does (and checks the rest of the range), and ``from_request`` turns them into None
        (or 0 cells).
    """

    __slots__ = ("group", "name", "kind", "native", "unit", "unset", "default", "range", "choices",
                 "flag", "header", "help", "nonzero", "cli_check")

    def __init__(self, group, name, kind, native=None, unit=PLAIN, unset=None, default=None, range=ANY,
                 choices=None, flag=None, header=False, help="", nonzero=False, cli_check=True):
        self.group, self.name, self.kind, self.native = group, name, kind, native
        self.unit, self.unset, self.default, self.range = unit, unset, default, range
        self.choices, self.flag, self.header, self.help, self.nonzero = choices, flag, header, help, nonzero
        self.cli_check = cli_check

    @property
    def path(self) -> str:
        return f"{self.group}.{self.name}"

    def __repr__(self) -> str:
        return f"Field({self.path})"


NAN = math.nan
_FLUENCE = 125932015286227086360700780544.0
CONVENTIONS = {"custom": "CUSTOM", "adxv": "ADXV", "mosflm": "MOSFLM", "xds": "XDS", "dials": "DIALS",
               "denzo": "DENZO"}
PIVOTS = {"beam": "BEAM", "sample": "SAMPLE"}
SHAPES = {"square": 0, "round": 1, "gauss": 2, "tophat": 3}

# The fields, in the order to_cli_args states them. That order is chosen for the C's side
# effects: vectors (which select the custom convention) before the convention flag,
# -twotheta_axis (which also reads a two-theta angle) before -twotheta, -detector_abs (which may
# zero the thickness) before -detector_thick, -pivot after everything that sets a pivot, and
# -misset_seed last (followed by three tokens it would also read misset angles, Q13).
FIELDS = [
    Field("run", "mask_file", "text", "req.mask", flag="-mask",
          help="SMV mask: pixels that are 0 are not rendered; its header also sets the geometry"),
    Field("crystal", "cell", "cell", "cell", unit=DEG,
          help="unit cell a b c (A) alpha beta gamma (deg); b, c of 0 mean a, angles of 0 mean 90"),
    Field("crystal", "matrix_file", "text", "req.mat", flag="-mat",
          help="MOSFLM orientation matrix (reciprocal axes in 1/A times the wavelength); gives cell and orientation"),
    Field("run", "hkl_file", "text", "req.hkl", flag="-hkl",
          help="structure factors: 'h k l F' text, or MTZ/mmCIF with gemmi (expanded to P1)"),
    Field("run", "mtz_column", "text", "req.mtz_column", flag="-mtz_column",
          help="amplitude column of an MTZ/mmCIF -hkl file (default: the first F column)"),
    Field("run", "dump_file", "text", "req.dump", default="Fdump.bin", flag="-dump",
          help="binary cache of the structure factors: written after reading -hkl, read when no -hkl is given"),
    Field("run", "sourcefile", "text", "req.sourcefile", flag="-sourcefile",
          help="explicit sources: X Y Z weight lambda per line (position in m or a direction, lambda in m)"),
    Field("crystal", "default_F", "real", "default_F", default=0.0, range=Range(0, 1e10), flag="-default_F",
          help="structure factor of every reflection missing from the table (electrons)"),
    Field("crystal", "n_cells", "n_cells", ("Na", "Nb", "Nc"), default=(1, 1, 1), range=Range(0, 10**6, integer=True),
          cli_check=False, help="crystal size in unit cells along a, b, c"),
    Field("crystal", "misset_deg", "misset", "misset", unit=DEG,
          help="crystal misset rotations about x, y, z (deg), or 'random'"),
    Field("crystal", "size_mm", "size", ("sample_x", "sample_y", "sample_z"), unit=Unit("mm", lambda x: x / 1000,
          lambda v: v * 1000), default=(0.0, 0.0, 0.0), range=CRYSTAL_MM,
          help="crystal size along x, y, z (mm); overrides the cell count along that axis"),
    Field("crystal", "shape", "choice", "shape", default="square", choices=SHAPES,
          help="lattice transform: square (sincg), round (sinc3), gauss, tophat"),
    Field("crystal", "fudge", "real", "fudge", default=1.0, flag="-fudge",
          help="width factor of the round, gauss and tophat spot shapes"),
    Field("crystal", "mosaic_spread_deg", "real", "mosaic_spread", DEG, unset=-1.0, range=MOSAIC,
          flag="-mosaic_spread", cli_check=False, help="mosaic spread, full width (deg)"),
    Field("crystal", "mosaic_domains", "int", "mosaic_domains", unset=-1, range=COUNT, flag="-mosaic_domains",
          cli_check=False, help="number of mosaic domains (default 10 with a spread, else 1)"),
    Field("crystal", "mosaic_seed", "seed", "mosaic_seed", default=12345678, flag="-mosaic_seed",
          help="seed of the mosaic domain orientations"),
    Field("crystal", "phi_start_deg", "real", "phi0", DEG, default=0.0, flag="-phi", header=True,
          help="spindle angle at the start of the exposure (deg)"),
    Field("crystal", "osc_deg", "real", "osc", DEG, unset=-1.0, range=NONNEG, flag="-osc",
          cli_check=False, help="spindle rotation during the exposure (deg)"),
    Field("sampling", "phistep_deg", "real", "phistep", DEG, unset=-1.0, range=NONNEG, flag="-phistep",
          cli_check=False, help="spindle step (deg)"),
    Field("sampling", "phisteps", "int", "phisteps", unset=-1, range=Range(0, integer=True), flag="-phisteps",
          cli_check=False, help="spindle steps across -osc"),
    Field("crystal", "water_size_um", "real", "water_size", UM_WATER, default=0.0, range=Range(0, 1e7), flag="-water",
          help="thickness of water in the beam, for the forward-scattering background (um)"),
    Field("crystal", "interpolate", "bool", "interpolate", unset=2,
          help="tricubic interpolation of F between Miller indices (default: on when any N <= 2)"),
    Field("beam", "wavelength_A", "real", "lambda0", ANGSTROM, default=1.0, range=WAVELENGTH, flag="-lambda",
          header=True, help="central wavelength (A)"),
    Field("beam", "dispersion_percent", "real", "dispersion", PERCENT, default=0.0, range=Range(0, 200, hi_open=True),
          flag="-dispersion", help="full spectral width, percent of the wavelength"),
    Field("beam", "use_source_weights", "bool", "use_source_weights", default=False, flag="-use_source_weights",
          help="honour the -sourcefile weights: each source counts weight / mean weight (the C ignores them, Q17)"),
    Field("beam", "spectrum_file", "text", "req.spectrum_file", flag="-spectrum",
          help="spectrum: a header 'energy_eV weight' or 'wavelength_A weight', then one line per wavelength"),
    Field("beam", "spectrum_bins", "int", "req.spectrum_bins", unset=0, range=Range(1, 100000, integer=True),
          flag="-spectrum_bins", help="group the -spectrum file's lines into this many equal bins of its column "
          "(energy or wavelength), each one wavelength at the bin's weighted mean with its total weight"),
    Field("beam", "sase_bandwidth_percent", "real", "req.sase_bandwidth", unset=0.0, range=Range(0, 50, lo_open=True),
          flag="-sase_bandwidth", help="SASE-like spectrum: FWHM of its Gaussian envelope, percent of the -lambda energy"),
    Field("beam", "sase_spike_width_percent", "real", "req.sase_spike_width", unset=0.0, range=Range(0, 50, lo_open=True),
          flag="-sase_spike_width", help="FWHM of the SASE spikes, percent of the -lambda energy (default: bandwidth / 10)"),
    Field("beam", "sase_samples", "int", "req.sase_samples", default=100, range=Range(2, 100000, integer=True),
          flag="-sase_samples", help="energies of the SASE spectrum (wavelengths per divergence direction)"),
    Field("beam", "sase_seed", "int", "req.sase_seed", default=1, range=Range(0, 2**31 - 1, integer=True),
          flag="-sase_seed", help="seed of the SASE spikes (a dataset adds the frame index)"),
    Field("beam", "two_colour", "vec3", "req.two_colour", range=POSITIVE, flag="-two_colour",
          help="two-colour beam: energy 1 (eV), energy 2 (eV), weight of 2 relative to 1"),
    Field("beam", "hdivrange_mrad", "real", "hdivrange", MRAD, unset=-1.0, range=DIVERGENCE, flag="-hdivrange",
          cli_check=False, help="full horizontal divergence (mrad)"),
    Field("beam", "hdivstep_mrad", "real", "hdivstep", MRAD, unset=-1.0, range=DIVERGENCE, flag="-hdivstep",
          cli_check=False, help="horizontal divergence step (mrad)"),
    Field("beam", "vdivrange_mrad", "real", "vdivrange", MRAD, unset=-1.0, range=DIVERGENCE, flag="-vdivrange",
          cli_check=False, help="full vertical divergence (mrad)"),
    Field("beam", "vdivstep_mrad", "real", "vdivstep", MRAD, unset=-1.0, range=DIVERGENCE, flag="-vdivstep",
          cli_check=False, help="vertical divergence step (mrad)"),
    Field("sampling", "dispsteps", "int", "dispsteps", unset=-1, range=Range(0, integer=True), flag="-dispsteps",
          cli_check=False, help="wavelengths across -dispersion"),
    Field("sampling", "hdivsteps", "int", "hdivsteps", unset=-1, range=Range(0, integer=True), flag="-hdivsteps",
          cli_check=False, help="horizontal divergence steps"),
    Field("sampling", "vdivsteps", "int", "vdivsteps", unset=-1, range=Range(0, integer=True), flag="-vdivsteps",
          cli_check=False, help="vertical divergence steps"),
    Field("beam", "round_div", "bool", "round_div", default=True,
          flag="-square_div", help="trim the divergence grid to an ellipse (else keep the whole square)"),
    Field("beam", "fluence_per_m2", "real", "fluence", default=_FLUENCE, range=Range(0, 1e40), flag="-fluence",
          help="incident photons per square metre (replaced by -flux * -exposure / -beamsize^2 when -flux is given)"),
    Field("beam", "flux_per_s", "real", "flux", default=0.0, range=Range(0, 1e30), flag="-flux",
          help="incident photons per second"),
    Field("beam", "exposure_s", "real", "exposure", default=1.0, range=NONNEG, flag="-exposure",
          help="exposure time (s)"),
    Field("beam", "beamsize_mm", "real", "beamsize", Unit("mm", lambda x: x / 1000, lambda v: v * 1000),
          default=0.1, range=POSITIVE, flag="-beamsize", help="beam width, square (mm); also clips the crystal size"),
    Field("beam", "polarization", "real", "polarization", default=0.0, range=KAHN, flag="-polar",
          help="Kahn polarization factor (0 unpolarized, 1 fully polarized along -polar_vector)"),
    Field("beam", "nopolar", "bool", "nopolar", default=False, flag="-nopolar", help="no polarization correction (factor 1)"),
    Field("beam", "dmin_A", "real", "dmin", ANGSTROM_DMIN, default=0.0, range=NONNEG, flag="-dmin",
          help="skip scattering beyond this resolution (A); 0 keeps all"),
    Field("detector", "fdet_vector", "vec3", "fdet", default=(0.0, 0.0, 1.0), nonzero=True, flag="-fdet_vector",
          help="detector fast axis (lab frame; the custom convention)"),
    Field("detector", "sdet_vector", "vec3", "sdet", default=(0.0, -1.0, 0.0), nonzero=True, flag="-sdet_vector",
          help="detector slow axis (lab frame; the custom convention)"),
    Field("detector", "odet_vector", "vec3", "odet", default=(1.0, 0.0, 0.0), nonzero=True, flag="-odet_vector",
          help="detector normal (lab frame; the custom convention)"),
    Field("beam", "beam_vector", "vec3", "beam", default=(1.0, 0.0, 0.0), nonzero=True, flag="-beam_vector",
          help="direction of the beam, source to sample"),
    Field("beam", "polar_vector", "vec3", "polar", default=(0.0, 0.0, 1.0), nonzero=True, flag="-polar_vector",
          help="E-vector of the beam's polarization"),
    Field("crystal", "spindle_axis", "vec3", "spindle", default=(0.0, 0.0, 1.0), nonzero=True, flag="-spindle_axis",
          help="spindle rotation axis"),
    Field("detector", "twotheta_axis", "vec3", "twotheta_axis", default=(0.0, 1.0, 0.0), nonzero=True,
          flag="-twotheta_axis", help="axis of the detector's two-theta swing"),
    Field("detector", "convention", "choice", "convention", default="mosflm", choices=CONVENTIONS,
          help="axis convention: mosflm, xds, adxv, denzo, dials or custom (the *_vector options)"),
    Field("detector", "fpixels", "int", "fpixels", unset=0, range=PIXEL_COUNT, flag="-detpixels_f",
          help="pixels along the fast axis (0: from the detector size)"),
    Field("detector", "spixels", "int", "spixels", unset=0, range=PIXEL_COUNT, flag="-detpixels_s",
          help="pixels along the slow axis (0: from the detector size)"),
    Field("detector", "pixel_size_mm", "real", "pixel_size", MM, default=0.1, range=Range(0, 1e6, lo_open=True), flag="-pixel",
          header=True, help="pixel size (mm)"),
    Field("detector", "detsize_f_mm", "real", "detsize_f", MM, default=102.4, range=POSITIVE, flag="-detsize_f",
          header=True, help="detector size along the fast axis (mm), when no pixel count is given"),
    Field("detector", "detsize_s_mm", "real", "detsize_s", MM, default=102.4, range=POSITIVE, flag="-detsize_s",
          header=True, help="detector size along the slow axis (mm), when no pixel count is given"),
    Field("detector", "distance_mm", "real", "distance", MM, default=100.0, range=POSITIVE, flag="-distance",
          header=True, help="sample to detector distance along the beam (mm)"),
    Field("detector", "close_distance_mm", "real", "close_distance", MM, unset=NAN, range=POSITIVE,
          flag="-close_distance", help="sample to detector plane distance, along its normal (mm)"),
    Field("detector", "beam_center_x_mm", "real", "Xbeam", MM, unset=NAN, flag="-Xbeam",
          help="direct-beam position on the detector, in the convention's frame (mm)"),
    Field("detector", "beam_center_y_mm", "real", "Ybeam", MM, unset=NAN, flag="-Ybeam",
          help="direct-beam position on the detector, in the convention's frame (mm)"),
    Field("detector", "xclose_mm", "real", "Xclose", MM, unset=NAN, flag="-Xclose",
          help="point of the detector nearest the sample (mm)"),
    Field("detector", "yclose_mm", "real", "Yclose", MM, unset=NAN, flag="-Yclose",
          help="point of the detector nearest the sample (mm)"),
    Field("detector", "orgx_px", "real", "ORGX", unset=NAN, flag="-ORGX",
          help="XDS origin: the point nearest the sample (pixels)"),
    Field("detector", "orgy_px", "real", "ORGY", unset=NAN, flag="-ORGY",
          help="XDS origin: the point nearest the sample (pixels)"),
    Field("detector", "rotx_deg", "real", "detector_rotx", DEG, default=0.0, flag="-detector_rotx",
          help="detector rotation about the lab x axis (deg)"),
    Field("detector", "roty_deg", "real", "detector_roty", DEG, default=0.0, flag="-detector_roty",
          help="detector rotation about the lab y axis (deg)"),
    Field("detector", "rotz_deg", "real", "detector_rotz", DEG, default=0.0, flag="-detector_rotz",
          help="detector rotation about the lab z axis (deg)"),
    Field("detector", "twotheta_deg", "real", "twotheta", DEG, default=0.0, help="two-theta swing of the detector (deg)"),
    Field("detector", "curved", "bool", "curved_detector", default=False,
          flag="-curved_det", help="spherical detector: every pixel at the same distance"),
    Field("detector", "point_pixel", "bool", "point_pixel", default=False,
          flag="-point_pixel", help="solid angle of a point (1/R^2), no obliquity factor"),
    Field("detector", "roi", "roi", ("roi_xmin", "roi_xmax", "roi_ymin", "roi_ymax"),
          help="render only pixels xmin..xmax, ymin..ymax (inclusive, 0-based)"),
    Field("detector", "absorption_length_um", "absorption", "detector_mu",
          help="sensor attenuation length (um); inf or 0: no absorption and zero thickness"),
    Field("detector", "thickness_um", "real", "detector_thick", UM, default=0.0, range=NONNEG,
          help="sensor thickness (um)"),
    Field("detector", "thicksteps", "int", "detector_thicksteps", unset=-1, range=COUNT, flag="-detector_thicksteps",
          cli_check=False, help="sensor layers"),
    Field("sampling", "oversample", "int", "oversample", unset=-1, range=COUNT, flag="-oversample",
          cli_check=False, help="sub-pixels per pixel edge (default: from the crystal size)"),
    Field("sampling", "oversample_thick", "bool", "oversample_thick", default=False,
          flag="-oversample_thick", help="sensor absorption per sub-pixel rather than per pixel"),
    Field("sampling", "oversample_polar", "bool", "oversample_polar", default=False,
          flag="-oversample_polar", help="polarization per sub-pixel rather than per pixel"),
    Field("sampling", "oversample_omega", "bool", "oversample_omega", default=False,
          flag="-oversample_omega", help="solid angle per sub-pixel rather than per pixel"),
    Field("run", "corrected", "bool", "corrected", default=False,
          flag="-corrected", help="corrected physics: phi = 0 uses the unrotated crystal (Q1), -cell gives an exactly dual cell (Q31)"),
    Field("run", "exact_math", "bool", "exact_math", default=False,
          flag="-exact_math", help="libm arithmetic in the C's order: float images bit-identical to nanoBragg.c (slower)"),
    Field("run", "precision", "choice", "req.precision", default="double",
          choices={"double": "double", "single": "single"},
          flag="-precision", help="arithmetic of the renderer (single is about 2x faster)"),
    Field("run", "adc", "real", "req.adc", default=40.0, flag="-adc",
          help="offset added to the integer and noise images (counts)"),
    Field("run", "noise_seed", "seed", "req.seed",
          flag="-seed", help="seed of the Poisson noise image (default: the clock)"),
    Field("detector", "pivot", "choice", "pivot", default="beam", choices=PIVOTS,
          help="what stays fixed when the detector rotates: the beam spot or the sample-plane point"),
    Field("crystal", "misset_seed", "seed", "misset_seed",
          flag="-misset_seed", help="seed of -misset random (default: the clock)"),
]

FIELD = {f.path: f for f in FIELDS}


class Option:
    """One option of the command line, as nanoBragg.c's argv loop tests it.

    names : spellings; matched by substring (strstr) unless exact, as in the C.
    values : how many tokens after the option are its values (the C's argc guard).
    sets : field paths this option sets, a path with ":i" for component i of a tuple field.
    action : the parse action for options that are not "values -> fields" (see options.py).
    length / greater_len : the C's extra strlen() == n / > n test.
    stop : the C 'continue's after this handler (no later handler sees the token).
    guard : how many following tokens the C's guard needs (default: values); -curved_det reads no
        value but needs one following token (ignored when last).
    pivot : the pivot the option also selects; convention : the convention it also selects.
    doc : the reference line (what it does); meta : the value names for the reference.
    extra : an option of nanobragg-ext (not in nanoBragg.c); group : the reference's section.
    """

    __slots__ = ("names", "values", "sets", "action", "length", "greater_len", "exact", "stop", "guard",
                 "pivot", "convention", "doc", "meta", "extra", "group", "kind", "value_count")

    def __init__(self, names, values=1, sets=(), action=None, length=None, greater_len=None, exact=False,
                 stop=False, guard=None, pivot=None, convention=None, doc="", meta="", extra=False, group=None,
                 kind=None, value_count=None):
        self.names = names
        self.values = values
        self.sets = sets
        self.action = action
        self.length, self.greater_len, self.exact, self.stop = length, greater_len, exact, stop
        self.guard = values if guard is None else guard
        self.pivot, self.convention = pivot, convention
        self.doc, self.meta, self.extra = doc, meta, extra
        self.group = group if group is not None else (_field_of(sets[0]).group if sets else "output")
        self.kind = kind  # "int" for counts parsed like atoi; default: the field's kind
        self.value_count = value_count

    def matches(self, token: str) -> bool:
        hit = token in self.names if self.exact else any(n in token for n in self.names)
        if hit and self.length is not None and len(token) != self.length:
            return False
        if hit and self.greater_len is not None and len(token) <= self.greater_len:
            return False
        return hit

    def fields(self):
        return [_field_of(s) for s in self.sets]

    def __repr__(self) -> str:
        return f"Option({self.names[0]})"


def _field_of(target: str) -> Field:
    return FIELD[target.partition(":")[0]]


# The options in nanoBragg.c's order (L505-L1116). Actions named by a string are implemented in
# options.py (they do more than convert values into fields).
OPTIONS = [
    Option(("-Na",), sets=("crystal.n_cells:0",), stop=True, meta="N", doc="unit cells along a"),
    Option(("-Nb",), sets=("crystal.n_cells:1",), stop=True, meta="N", doc="unit cells along b"),
    Option(("-Nc",), sets=("crystal.n_cells:2",), stop=True, meta="N", doc="unit cells along c"),
    Option(("-N",), sets=("crystal.n_cells:0", "crystal.n_cells:1", "crystal.n_cells:2"), exact=True, stop=True,
           meta="N", doc="unit cells along a, b and c"),
    Option(("-cell",), values=6, sets=("crystal.cell",), action="cell", guard=1, meta="a b c alpha beta gamma",
           doc="unit cell (A, deg); reading stops at a token starting with '-'"),
    Option(("-misset",), sets=("crystal.misset_deg",), action="misset_random", stop=True, meta="random",
           doc="random crystal orientation (seeded by -misset_seed)"),
    Option(("-misset",), values=3, sets=("crystal.misset_deg",), action="misset_angles", meta="rotx roty rotz",
           doc="crystal misset rotations about x, y, z (deg)"),
    Option(("-samplesize", "-sample_size"), sets=("crystal.size_mm:0", "crystal.size_mm:1", "crystal.size_mm:2"),
           meta="mm", doc="crystal size along x, y and z"),
    Option(("-sample_thick", "-sample_x"), sets=("crystal.size_mm:0",), meta="mm", doc="crystal size along x"),
    Option(("-sample_width", "-sample_y", "-width"), sets=("crystal.size_mm:1",), meta="mm",
           doc="crystal size along y"),
    Option(("-sample_heigh", "-sample_z", "-heigh"), sets=("crystal.size_mm:2",), meta="mm",
           doc="crystal size along z"),
    Option(("-xtalsize", "-xtal_size"), sets=("crystal.size_mm:0", "crystal.size_mm:1", "crystal.size_mm:2"),
           meta="mm", doc="crystal size along x, y and z"),
    Option(("-xtal_thick", "-xtal_x"), sets=("crystal.size_mm:0",), meta="mm", doc="crystal size along x"),
    Option(("-xtal_width", "-xtal_y", "-width"), sets=("crystal.size_mm:1",), meta="mm", doc="crystal size along y"),
    Option(("-xtal_heigh", "-xtal_z", "-heigh"), sets=("crystal.size_mm:2",), meta="mm", doc="crystal size along z"),
    Option(("-density", "-sample_den"), action="ignored", group="crystal", meta="g/cm^3",
           doc="crystal density: read, no effect (as in the C)"),
    Option(("-MW",), action="ignored", exact=True, group="crystal", meta="Da",
           doc="molecular weight: read, no effect (as in the C)"),
    Option(("-molec",), action="ignored", group="crystal", meta="Da", doc="molecular weight: read, no effect"),
    Option(("-Xbeam",), sets=("detector.beam_center_x_mm",), pivot="BEAM", meta="mm",
           doc="direct-beam position, fast direction of the convention's frame"),
    Option(("-Ybeam",), sets=("detector.beam_center_y_mm",), pivot="BEAM", meta="mm",
           doc="direct-beam position, slow direction of the convention's frame"),
    Option(("-Xclose",), sets=("detector.xclose_mm",), pivot="SAMPLE", meta="mm",
           doc="point of the detector nearest the sample, fast"),
    Option(("-Yclose",), sets=("detector.yclose_mm",), pivot="SAMPLE", meta="mm",
           doc="point of the detector nearest the sample, slow"),
    Option(("-ORGX",), sets=("detector.orgx_px",), pivot="SAMPLE", meta="pixels", doc="XDS origin, fast"),
    Option(("-ORGY",), sets=("detector.orgy_px",), pivot="SAMPLE", meta="pixels", doc="XDS origin, slow"),
    Option(("-pivot",), sets=("detector.pivot",), action="pivot", meta="sample|beam",
           doc="what stays fixed when the detector rotates (the value must contain the word)"),
    Option(("-mosflm",), 0, sets=("detector.convention",), convention="MOSFLM", pivot="BEAM",
           doc="MOSFLM axes (beam +x, fast +z, slow -y); -Xbeam is along slow, -Ybeam along fast, both "
               "plus half a pixel; default centre ((Ds+px)/2, (Df+px)/2) mm; forces pivot BEAM (the default)"),
    Option(("-xds",), 0, sets=("detector.convention",), convention="XDS", pivot="SAMPLE",
           doc="XDS axes (beam +z, fast +x, slow +y); placed from -ORGX/-ORGY (pixels), the beam centre only "
               "labels the header; forces pivot SAMPLE"),
    Option(("-adxv",), 0, sets=("detector.convention",), convention="ADXV", pivot="BEAM",
           doc="ADXV axes (beam +z, fast +x, slow -y); beam centre from the image's top-left corner, default "
               "((Df+px)/2, (Ds-px)/2) mm; forces pivot BEAM"),
    Option(("-denzo",), 0, sets=("detector.convention",), convention="DENZO", pivot="BEAM",
           doc="DENZO axes: MOSFLM's without the half-pixel shift; forces pivot BEAM"),
    Option(("-dials",), 0, sets=("detector.convention",), convention="DIALS", pivot="BEAM",
           doc="DIALS axes (beam +z, fast +x, slow +y, two-theta axis +y); placed from the near point; "
               "forces pivot SAMPLE"),
    Option(("-fdet_vector",), 3, sets=("detector.fdet_vector",), convention="CUSTOM", meta="x y z",
           doc="detector fast axis"),
    Option(("-sdet_vector",), 3, sets=("detector.sdet_vector",), convention="CUSTOM", meta="x y z",
           doc="detector slow axis"),
    Option(("-odet_vector",), 3, sets=("detector.odet_vector",), convention="CUSTOM", meta="x y z",
           doc="detector normal"),
    Option(("-beam_vector",), 3, sets=("beam.beam_vector",), convention="CUSTOM", meta="x y z",
           doc="beam direction"),
    Option(("-polar_vector",), 3, sets=("beam.polar_vector",), convention="CUSTOM", meta="x y z",
           doc="E-vector of the polarization"),
    Option(("-spindle_axis",), 3, sets=("crystal.spindle_axis",), convention="CUSTOM", meta="x y z",
           doc="spindle rotation axis"),
    Option(("-twotheta_axis",), 3, sets=("detector.twotheta_axis",), convention="CUSTOM", meta="x y z",
           doc="two-theta axis (the token also matches -twotheta: two-theta := x deg, Q13)"),
    # Same as nanoBragg.c: the vector is read, selects CUSTOM, and is never used (Q12).
    Option(("-pix0_vector",), 3, action="pix0", convention="CUSTOM", group="detector", meta="x y z",
           doc="selects the custom convention; the vector itself is ignored, as in the C (Q12)"),
    Option(("-distance",), sets=("detector.distance_mm",), pivot="BEAM", meta="mm",
           doc="sample to detector distance along the beam"),
    Option(("-close_distance",), sets=("detector.close_distance_mm",), pivot="SAMPLE", meta="mm",
           doc="sample to detector plane distance along its normal"),
    Option(("-detector_abs",), sets=("detector.absorption_length_um",), action="detector_abs", meta="um|inf|0",
           doc="sensor attenuation length; inf or 0: no absorption and zero thickness"),
    Option(("-detector_thick",), sets=("detector.thickness_um",), length=15, meta="um", doc="sensor thickness"),
    Option(("-detector_thicksteps",), sets=("detector.thicksteps",), kind="int", meta="N", doc="sensor layers"),
    Option(("-thicksteps",), sets=("detector.thicksteps",), kind="int", meta="N", doc="sensor layers"),
    Option(("-twotheta",), sets=("detector.twotheta_deg",), pivot="SAMPLE", meta="deg",
           doc="two-theta swing of the detector about -twotheta_axis"),
    Option(("-detector_rotx",), sets=("detector.rotx_deg",), meta="deg", doc="detector rotation about x"),
    Option(("-detector_roty",), sets=("detector.roty_deg",), meta="deg", doc="detector rotation about y"),
    Option(("-detector_rotz",), sets=("detector.rotz_deg",), meta="deg", doc="detector rotation about z"),
    Option(("-detsize",), sets=("detector.detsize_f_mm", "detector.detsize_s_mm"), length=8, meta="mm",
           doc="detector size along both axes"),
    Option(("-detsize_f",), sets=("detector.detsize_f_mm",), meta="mm", doc="detector size along the fast axis"),
    Option(("-detsize_s",), sets=("detector.detsize_s_mm",), meta="mm", doc="detector size along the slow axis"),
    Option(("-detpixels",), sets=("detector.fpixels", "detector.spixels"), length=10, meta="N",
           doc="pixels along both axes"),
    Option(("-detpixels_f", "-detpixels_x"), sets=("detector.fpixels",), meta="N", doc="pixels along fast"),
    Option(("-detpixels_s", "-detpixels_y"), sets=("detector.spixels",), meta="N", doc="pixels along slow"),
    # The C needs a token after -curved_det though it reads none: as the very last argument it is
    # ignored (argc > i+1 fails), and so it is here.
    Option(("-curved_det",), 0, sets=("detector.curved",), guard=1,
           doc="spherical detector (ignored when it is the very last argument, as in the C)"),
    Option(("-pixel",), sets=("detector.pixel_size_mm",), meta="mm", doc="pixel size"),
    Option(("-point_pixel",), 0, sets=("detector.point_pixel",), doc="solid angle 1/R^2 of a point, no obliquity"),
    Option(("-polar",), sets=("beam.polarization",), action="polar", length=6, meta="K",
           doc="Kahn polarization factor, -1..1 (also undoes -nopolar)"),
    Option(("-nopolar",), 0, sets=("beam.nopolar",), doc="no polarization correction"),
    Option(("-oversample_thick",), 0, sets=("sampling.oversample_thick",), stop=True,
           doc="sensor absorption per sub-pixel"),
    Option(("-oversample_polar",), 0, sets=("sampling.oversample_polar",), stop=True,
           doc="polarization per sub-pixel"),
    Option(("-oversample_omega",), 0, sets=("sampling.oversample_omega",), stop=True,
           doc="solid angle per sub-pixel"),
    Option(("-oversample",), sets=("sampling.oversample",), kind="int", meta="N",
           doc="sub-pixels per pixel edge (<= 0: from the crystal size)"),
    Option(("-roi",), 4, sets=("detector.roi",), action="roi", meta="xmin xmax ymin ymax",
           doc="render only this inclusive pixel window"),
    Option(("-lambda", "-wave"), sets=("beam.wavelength_A",), meta="A", doc="central wavelength"),
    Option(("-energy",), sets=("beam.wavelength_A",), action="energy", meta="eV",
           doc="photon energy (wavelength = 12398.42 / energy A)"),
    Option(("-fluence",), sets=("beam.fluence_per_m2",), meta="photons/m^2", doc="incident fluence"),
    Option(("-flux",), sets=("beam.flux_per_s",), meta="photons/s", doc="incident flux (with -exposure, -beamsize)"),
    Option(("-exposure",), sets=("beam.exposure_s",), meta="s", doc="exposure time"),
    Option(("-beamsize",), sets=("beam.beamsize_mm",), meta="mm", doc="beam width (square)"),
    Option(("-mosaic",), sets=("crystal.mosaic_spread_deg",), length=7, meta="deg", doc="mosaic spread"),
    Option(("-mosaici", "-mosaic_spr"), sets=("crystal.mosaic_spread_deg",), meta="deg",
           doc="mosaic spread (-mosaicity, -mosaic_spread)"),
    Option(("-mosaic_dom",), sets=("crystal.mosaic_domains",), kind="int", meta="N",
           doc="mosaic domains (-mosaic_domains)"),
    Option(("-dispersion",), sets=("beam.dispersion_percent",), meta="%", doc="full spectral width"),
    Option(("-dispsteps",), sets=("sampling.dispsteps",), kind="int", meta="N", doc="wavelengths across it"),
    Option(("-divergence",), sets=("beam.hdivrange_mrad", "beam.vdivrange_mrad"), meta="mrad",
           doc="full divergence, both directions"),
    Option(("-hdivrange",), sets=("beam.hdivrange_mrad",), meta="mrad", doc="full horizontal divergence"),
    Option(("-vdivrange",), sets=("beam.vdivrange_mrad",), meta="mrad", doc="full vertical divergence"),
    Option(("-hdivstep",), sets=("beam.hdivstep_mrad",), length=9, meta="mrad", doc="horizontal divergence step"),
    Option(("-hdivsteps",), sets=("sampling.hdivsteps",), kind="int", meta="N", doc="horizontal divergence steps"),
    Option(("-vdivstep",), sets=("beam.vdivstep_mrad",), length=9, meta="mrad", doc="vertical divergence step"),
    Option(("-vdivsteps",), sets=("sampling.vdivsteps",), kind="int", meta="N", doc="vertical divergence steps"),
    Option(("-divsteps",), sets=("sampling.hdivsteps", "sampling.vdivsteps"), kind="int", meta="N",
           doc="divergence steps, both directions"),
    Option(("-round_div",), 0, sets=("beam.round_div",), doc="trim the divergence grid to an ellipse (default)"),
    Option(("-square_div",), 0, sets=("beam.round_div",), action="off", doc="keep the whole divergence square"),
    Option(("-adc",), sets=("run.adc",), group="output", meta="counts", doc="offset added to the integer images"),
    Option(("-phi",), sets=("crystal.phi_start_deg",), length=4, meta="deg", doc="spindle angle at the start"),
    Option(("-osc",), sets=("crystal.osc_deg",), meta="deg", doc="spindle rotation during the exposure"),
    Option(("-phistep",), sets=("sampling.phistep_deg",), length=8, meta="deg", doc="spindle step"),
    Option(("-phisteps",), sets=("sampling.phisteps",), kind="int", meta="N", doc="spindle steps"),
    Option(("-dmin",), sets=("beam.dmin_A",), meta="A", doc="resolution limit (0: none)"),
    Option(("-mat",), sets=("crystal.matrix_file",), group="crystal", meta="file",
           doc="MOSFLM orientation matrix (-matrix)"),
    Option(("-hkl",), sets=("run.hkl_file",), group="crystal", meta="file",
           doc="structure factors, 'h k l F' text (MTZ/mmCIF with gemmi)"),
    Option(("-default_F",), sets=("crystal.default_F",), meta="F", doc="F of reflections not in the table"),
    Option(("-dump",), sets=("run.dump_file",), group="crystal", meta="file",
           doc="structure-factor cache, written after -hkl, read without it"),
    Option(("-img",), action="img", group="detector", meta="file",
           doc="take the geometry from an SMV image header"),
    Option(("-stolout",), action="stolout", greater_len=7, group="output", meta="file",
           doc="S(Q) output file name: read, not written (as in the C)"),
    Option(("-stol",), action="stol", length=5, group="crystal", meta="file",
           doc="S(Q) table (stol): read, not used (as in the C)"),
    Option(("-4stol",), action="stol", length=6, group="crystal", meta="file",
           doc="S(Q) table (4 stol): read, not used"),
    Option(("-Q",), action="stol", length=2, group="crystal", meta="file", doc="S(Q) table (Q): read, not used"),
    Option(("-sourcefile",), sets=("run.sourcefile",), group="beam", meta="file", doc="explicit sources"),
    Option(("-floatfile", "-floatimage"), action="floatfile", meta="file",
           doc="raw 4-byte float image (default floatimage.bin)"),
    Option(("-intfile", "-intimage"), action="intfile", meta="file",
           doc="noiseless SMV image (default intimage.img)"),
    Option(("-pgmfile", "-pgmimage"), action="pgmfile", meta="file", doc="PGM preview (default image.pgm)"),
    Option(("-noisefile", "-noiseimage"), action="noisefile", group="noise", meta="file",
           doc="Poisson-noise SMV image (default noiseimage.img)"),
    Option(("-nonoise",), 0, action="nonoise", group="noise", doc="no noise image"),
    Option(("-nopgm",), 0, action="nopgm", doc="no PGM preview"),
    Option(("-scale",), action="scale", meta="x", doc="scale of the integer image (default: from the maximum)"),
    Option(("-pgmscale",), action="pgmscale", meta="x", doc="scale of the PGM preview (also turns it on)"),
    Option(("-coherent",), 0, action="coherent", group="sampling", doc="read, no effect (as in the C)"),
    Option(("-printout",), 0, action="printout", doc="print every pixel's last evaluation"),
    Option(("-noprogress",), 0, action="noprogress", doc="no progress bar"),
    Option(("-progress",), 0, action="progress", doc="progress bar (default on terminals)"),
    Option(("-interpolate",), 0, sets=("crystal.interpolate",), doc="tricubic interpolation of F on"),
    Option(("-nointerpolate",), 0, sets=("crystal.interpolate",), action="off", doc="interpolation off"),
    Option(("-round_xtal",), 0, sets=("crystal.shape",), action="shape:round", doc="round crystal (sinc3 spots)"),
    Option(("-square_xtal",), 0, sets=("crystal.shape",), action="shape:square",
           doc="parallelepiped crystal (sincg spots, default)"),
    Option(("-gauss_xtal",), 0, sets=("crystal.shape",), action="shape:gauss", doc="Gaussian spots"),
    Option(("-binary_spots", "-tophat_spots"), 0, sets=("crystal.shape",), action="shape:tophat",
           doc="top-hat spots"),
    Option(("-fudge",), sets=("crystal.fudge",), meta="x", doc="width factor of the spot shapes"),
    Option(("-printout_pixel",), 2, action="printout_pixel", group="output", meta="fast slow",
           doc="print one pixel's evaluation (also -printout)"),
    Option(("-seed",), sets=("run.noise_seed",), group="noise", meta="N", doc="seed of the noise image"),
    Option(("-mosaic_seed",), sets=("crystal.mosaic_seed",), meta="N", doc="seed of the mosaic domains"),
    Option(("-misset_seed",), sets=("crystal.misset_seed",), meta="N",
           doc="seed of -misset random (the token also matches -misset, Q13)"),
    Option(("-water",), sets=("crystal.water_size_um",), group="beam", meta="um",
           doc="water in the beam, for the background"),
]

# Options of nanobragg-ext itself (not in the C); matched exactly.
EXTRA_OPTIONS = [
    Option(("-mask",), sets=("run.mask_file",), exact=True, group="detector", meta="file",
           doc="SMV mask (0 = skip the pixel); its header sets the geometry (read before the other options)"),
    Option(("-precision",), sets=("run.precision",), exact=True, extra=True, group="performance",
           meta="double|single", doc="arithmetic of the renderer (single: ~2x faster, Pearson >= 0.99999)"),
    Option(("-device",), action="device", exact=True, extra=True, group="performance", meta="cpu|cuda|auto",
           doc="where to render (default cpu)"),
    Option(("-threads",), action="threads", exact=True, extra=True, group="performance", meta="N",
           doc="OpenMP threads (0 or absent: all)"),
    Option(("-pngfile",), action="pngfile", exact=True, extra=True, group="output", meta="file",
           doc="log-scaled PNG preview (needs Pillow or matplotlib)"),
    Option(("-nexus",), action="nexusfile", exact=True, extra=True, group="output", meta="file.h5",
           doc="the float image (or the panels) as NeXus/NXmx HDF5, which DIALS opens (needs h5py)"),
    Option(("-crystfel",), action="crystfel_file", exact=True, extra=True, group="output", meta="file.h5",
           doc="the float image as CrystFEL HDF5 with file.geom beside it (needs h5py)"),
    Option(("-smv_header",), action="smv_header", exact=True, extra=True, group="output", meta="nanobragg|dials",
           doc="SMV header: the C's (default) or one whose beam centre and ADC_OFFSET dxtbx/DIALS read right"),
    Option(("-mtz_column",), sets=("run.mtz_column",), exact=True, extra=True, group="crystal", meta="label",
           doc="amplitude column of an MTZ/mmCIF -hkl file (needs gemmi)"),
    Option(("-corrected",), 0, sets=("run.corrected",), exact=True, extra=True, group="performance",
           doc="corrected physics instead of the C's quirks (Q1, Q31)"),
    Option(("-exact_math",), 0, sets=("run.exact_math",), exact=True, extra=True, group="performance",
           doc="libm arithmetic in the C's order: float images bit-identical to the C"),
    Option(("-use_source_weights",), 0, sets=("beam.use_source_weights",), exact=True, extra=True,
           doc="honour -sourcefile weights (weight / mean weight per source; off: ignored, as in the C, Q17)"),
    Option(("-spectrum",), sets=("beam.spectrum_file",), exact=True, extra=True, meta="file",
           doc="spectrum file: header 'energy_eV weight' or 'wavelength_A weight', one line per wavelength"),
    Option(("-spectrum_bins",), sets=("beam.spectrum_bins",), exact=True, extra=True, meta="N",
           doc="group the -spectrum file's lines into N equal bins of its column, one wavelength each "
               "(default: every line)"),
    Option(("-sase_bandwidth",), sets=("beam.sase_bandwidth_percent",), exact=True, extra=True, meta="%",
           doc="seeded SASE-like spectrum around -lambda: Gaussian envelope of this FWHM with random spikes"),
    Option(("-sase_spike_width",), sets=("beam.sase_spike_width_percent",), exact=True, extra=True, meta="%",
           doc="FWHM of the SASE spikes (default: bandwidth / 10)"),
    Option(("-sase_samples",), sets=("beam.sase_samples",), exact=True, extra=True, meta="N",
           doc="energies of the SASE spectrum (default 100)"),
    Option(("-sase_seed",), sets=("beam.sase_seed",), exact=True, extra=True, meta="N",
           doc="seed of the SASE spikes (default 1)"),
    Option(("-two_colour", "-two_color"), 3, sets=("beam.two_colour",), exact=True, extra=True,
           meta="eV1 eV2 weight2", doc="two-colour beam: two energies, the second's weight relative to the first"),
]

ALL_OPTIONS = OPTIONS + EXTRA_OPTIONS
KNOWN_SPELLINGS = sorted({n for o in ALL_OPTIONS for n in o.names})
